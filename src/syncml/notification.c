/* SPDX-License-Identifier: MIT */
/*
 * DM Notification, General Package#0 (OMA-TS-DM_Notification-V1_2).
 *
 * The trigger header packs its fields most significant bit first:
 *
 *     byte 0     version[9:2]
 *     byte 1     version[1:0] ui-mode[1:0] initiator future[26:24]
 *     bytes 2-4  future[23:0]
 *     bytes 5-6  sessionid
 *     byte 7     server-id-length
 *
 * so 02 D8 is version 11 (00 0000 1011), ui-mode 01 (background), initiator
 * 1 (server).
 *
 * The version is checked right after the fixed header and before the server
 * identifier: a later version may lay out the rest differently, and "not a
 * version we speak" is then the more useful answer than "malformed".
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "syncml/auth.h"
#include "syncml/notification.h"

#define NOTI_VERSION_MAX	0x3FFu		/* 10 bits */
#define NOTI_UI_MODE_MAX	3u		/* 2 bits */
#define NOTI_FUTURE_MAX		0x7FFFFFFu	/* 27 bits */

/* Notification, nonce resynchronisation: the digest made with nonce 0x00000000. */
static const uint8_t noti_zero_nonce[DM_NONCE_ZERO_LEN];

int
dm_notification_decode(const uint8_t *p, size_t len,
		       struct dm_notification *n)
{
	const uint8_t *t;
	size_t id_len;

	memset(n, 0, sizeof(*n));
	if (len < DM_NOTI_HDR_LEN)
		return -EBADMSG;
	memcpy(n->digest, p, DM_NOTI_DIGEST_LEN);
	t = p + DM_NOTI_DIGEST_LEN;
	n->trigger = t;
	n->trigger_len = len - DM_NOTI_DIGEST_LEN;
	n->version = (unsigned)t[0] << 2 | (unsigned)t[1] >> 6;
	n->ui_mode = (t[1] >> 4) & 0x03u;
	n->server_initiated = (t[1] & 0x08) != 0;
	n->future = (uint32_t)(t[1] & 0x07) << 24 | (uint32_t)t[2] << 16 |
		    (uint32_t)t[3] << 8 | t[4];
	n->session_id = (uint16_t)(t[5] << 8 | t[6]);
	if (n->version != DM_NOTI_VERSION_11 &&
	    n->version != DM_NOTI_VERSION_12)
		return -EPROTONOSUPPORT;

	id_len = t[7];
	if (id_len == 0 || id_len > len - DM_NOTI_HDR_LEN)
		return -EBADMSG;
	/* a NUL would make two different identifiers print the same */
	if (memchr(t + 8, '\0', id_len) != NULL)
		return -EBADMSG;
	memcpy(n->server_id, t + 8, id_len);
	n->server_id[id_len] = '\0';
	n->vendor_len = len - DM_NOTI_HDR_LEN - id_len;
	n->vendor = n->vendor_len > 0 ? t + 8 + id_len : NULL;
	return 0;
}

const char *
dm_notification_strerror(int err)
{
	switch (err) {
	case 0:
		return "valid Package#0";
	case -EBADMSG:
		return "malformed Package#0: shorter than its header, or the "
		       "server identifier is empty, runs past the end or "
		       "holds a NUL";
	case -EPROTONOSUPPORT:
		return "unsupported DM notification version (only 1.1 and 1.2)";
	default:
		return "unexpected error";
	}
}

int
dm_notification_encode(const struct dm_notification *n, uint8_t *out,
		       size_t cap)
{
	size_t id_len, total;
	uint8_t *t;

	id_len = strnlen(n->server_id, sizeof(n->server_id));
	if (n->version > NOTI_VERSION_MAX || n->ui_mode > NOTI_UI_MODE_MAX ||
	    n->future > NOTI_FUTURE_MAX || id_len == 0 ||
	    id_len > DM_NOTI_SERVER_ID_MAX ||
	    (n->vendor == NULL && n->vendor_len > 0))
		return -EINVAL;
	if (n->vendor_len > (size_t)INT_MAX - DM_NOTI_HDR_LEN - id_len)
		return -EINVAL;
	total = DM_NOTI_HDR_LEN + id_len + n->vendor_len;
	if (cap < total)
		return -ENOSPC;

	memcpy(out, n->digest, DM_NOTI_DIGEST_LEN);
	t = out + DM_NOTI_DIGEST_LEN;
	t[0] = (uint8_t)(n->version >> 2);
	t[1] = (uint8_t)((n->version & 0x03u) << 6 | n->ui_mode << 4 |
			 (n->server_initiated ? 0x08u : 0u) | n->future >> 24);
	t[2] = (uint8_t)(n->future >> 16);
	t[3] = (uint8_t)(n->future >> 8);
	t[4] = (uint8_t)n->future;
	t[5] = (uint8_t)(n->session_id >> 8);
	t[6] = (uint8_t)n->session_id;
	t[7] = (uint8_t)id_len;
	memcpy(t + 8, n->server_id, id_len);
	if (n->vendor_len > 0)
		memcpy(t + 8 + id_len, n->vendor, n->vendor_len);
	return (int)total;
}

int
dm_notification_digest(const char *server_id, const char *password,
		       const uint8_t *nonce, size_t nonce_len,
		       const uint8_t *trigger, size_t trigger_len,
		       uint8_t out[DM_NOTI_DIGEST_LEN])
{
	return dm_auth_digest(out, server_id, password, nonce, nonce_len, true,
			      trigger, trigger_len);
}

/* 1 on a match, 0 on none, negative errno. */
static int
noti_match(const struct dm_notification *n, const char *password,
	   const uint8_t *nonce, size_t nonce_len)
{
	uint8_t d[DM_NOTI_DIGEST_LEN];
	int r;

	r = dm_notification_digest(n->server_id, password, nonce, nonce_len,
				   n->trigger, n->trigger_len, d);
	if (r < 0)
		return r;
	r = CRYPTO_memcmp(d, n->digest, sizeof(d)) == 0;
	OPENSSL_cleanse(d, sizeof(d));
	return r;
}

int
dm_notification_verify(const struct dm_notification *n,
		       const char *password, const uint8_t *nonce,
		       size_t nonce_len)
{
	int r;

	if ((r = noti_match(n, password, nonce, nonce_len)) != 0)
		return r < 0 ? r : DM_NOTI_OK;
	r = noti_match(n, password, noti_zero_nonce, sizeof(noti_zero_nonce));
	if (r != 0)
		return r < 0 ? r : DM_NOTI_OK_RESYNC;
	return DM_NOTI_BAD_DIGEST;
}

char *
dm_notification_session_id_str(uint16_t id,
			       char buf[DM_NOTI_SESSION_ID_STRLEN])
{
	snprintf(buf, DM_NOTI_SESSION_ID_STRLEN, "%X", (unsigned)id);
	return buf;
}
