/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what a DM server (or anyone who can reach the card's
 * BIP channel or send a WAP push) feeds the DM client before any session is
 * authenticated: General Package#0, the x-syncml-hmac header and <Cred>
 * data.  Besides the sanitizers, invariants are checked with abort(): the
 * decoder answers only with its documented errors, what decodes re-encodes
 * to the same bytes, a digest made by dm_notification_digest() verifies,
 * and what the header writer produces parses and verifies.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "syncml/auth.h"
#include "syncml/notification.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

#define FUZZ_PASSWORD	"srvpwd"
#define FUZZ_NONCE	((const uint8_t *)"12345678")
#define FUZZ_NONCE_LEN	8
/* Longest header or <Cred> data tried as a string. */
#define FUZZ_STR_MAX	4096

static void
fuzz_package0(const uint8_t *data, size_t size)
{
	struct dm_notification n, m;
	char sid[DM_NOTI_SESSION_ID_STRLEN];
	uint8_t *out;
	int r, len, v;

	r = dm_notification_decode(data, size, &n);
	CHECK(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT);
	CHECK(dm_notification_strerror(r) != NULL);
	if (r == -EPROTONOSUPPORT)
		CHECK(size >= DM_NOTI_HDR_LEN && n.version != 11 &&
		      n.version != 12);
	if (r < 0)
		return;

	CHECK(n.version == 11 || n.version == 12);
	CHECK(n.ui_mode <= 3 && n.future <= 0x7FFFFFF);
	CHECK(strlen(n.server_id) == data[DM_NOTI_HDR_LEN - 1]);
	CHECK(n.server_id[0] != '\0');
	CHECK(n.trigger == data + DM_NOTI_DIGEST_LEN &&
	      n.trigger_len == size - DM_NOTI_DIGEST_LEN);
	CHECK(DM_NOTI_HDR_LEN + strlen(n.server_id) + n.vendor_len == size);
	dm_notification_session_id_str(n.session_id, sid);
	CHECK(strtoul(sid, NULL, 16) == n.session_id);

	/* re-encoded into exactly its size: the same bytes */
	out = malloc(size);
	CHECK(out != NULL);
	len = dm_notification_encode(&n, out, size);
	CHECK(len == (int)size && memcmp(out, data, size) == 0);
	CHECK(dm_notification_encode(&n, out, size - 1) == -ENOSPC);

	v = dm_notification_verify(&n, FUZZ_PASSWORD, FUZZ_NONCE,
				   FUZZ_NONCE_LEN);
	CHECK(v == DM_NOTI_OK || v == DM_NOTI_OK_RESYNC ||
	      v == DM_NOTI_BAD_DIGEST);

	/* signed as a server with these credentials would: accepted */
	CHECK(dm_notification_digest(n.server_id, FUZZ_PASSWORD, FUZZ_NONCE,
				     FUZZ_NONCE_LEN, out + DM_NOTI_DIGEST_LEN,
				     size - DM_NOTI_DIGEST_LEN, out) == 0);
	CHECK(dm_notification_decode(out, size, &m) == 0);
	CHECK(dm_notification_verify(&m, FUZZ_PASSWORD, FUZZ_NONCE,
				     FUZZ_NONCE_LEN) == DM_NOTI_OK);
	free(out);
}

static void
fuzz_hmac(const char *s)
{
	struct dm_hmac h, again;
	char hdr[DM_AUTH_USER_MAX + 64];
	int r;

	r = dm_hmac_parse(s, &h);
	CHECK(r == 0 || r == -EINVAL || r == -EPROTONOSUPPORT);
	if (r < 0)
		return;
	CHECK(h.username[0] != '\0' &&
	      memchr(h.username, '\0', sizeof(h.username)) != NULL);
	r = dm_hmac_verify(&h, h.username, FUZZ_PASSWORD, FUZZ_NONCE,
			   FUZZ_NONCE_LEN, (const uint8_t *)s, strlen(s));
	CHECK(r == 0 || r == -EACCES);

	/* our own header for this user: parses back and verifies */
	r = dm_hmac_header(hdr, sizeof(hdr), h.username, FUZZ_PASSWORD,
			   FUZZ_NONCE, FUZZ_NONCE_LEN, (const uint8_t *)s,
			   strlen(s));
	CHECK(r > 0 || r == -EINVAL);
	if (r < 0)
		return;
	CHECK(dm_hmac_parse(hdr, &again) == 0);
	CHECK(strcmp(again.username, h.username) == 0);
	CHECK(dm_hmac_verify(&again, h.username, FUZZ_PASSWORD, FUZZ_NONCE,
			     FUZZ_NONCE_LEN, (const uint8_t *)s,
			     strlen(s)) == 0);
}

static void
fuzz_b64(const char *s, size_t len)
{
	uint8_t raw[FUZZ_STR_MAX], back[FUZZ_STR_MAX];
	char b64[DM_B64_CAP(FUZZ_STR_MAX)];
	int r, n;

	r = dm_b64_decode(raw, sizeof(raw), s, len);
	CHECK(r >= 0 || r == -EINVAL);	/* never -ENOSPC: 3/4 of len */
	if (r < 0)
		return;
	n = dm_b64_encode(b64, sizeof(b64), raw, (size_t)r);
	CHECK(n == (r + 2) / 3 * 4);
	CHECK(dm_b64_decode(back, sizeof(back), b64, (size_t)n) == r);
	CHECK(memcmp(raw, back, (size_t)r) == 0);
}

static void
fuzz_cred(const char *s)
{
	int r;

	r = dm_cred_check(NULL, s, "dmclient", "clipwd", FUZZ_NONCE,
			  FUZZ_NONCE_LEN);
	CHECK(r == 0 || r == -EACCES || r == -EINVAL);
	r = dm_cred_check("syncml:auth-md5", s, "dmclient", "clipwd",
			  FUZZ_NONCE, FUZZ_NONCE_LEN);
	CHECK(r == 0 || r == -EACCES || r == -EINVAL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = size < FUZZ_STR_MAX ? size : FUZZ_STR_MAX;
	char *s;

	fuzz_package0(data, size);

	/* the same bytes as a header value or <Data>: bounded, NUL-ended */
	s = malloc(len + 1);
	CHECK(s != NULL);
	if (len > 0)
		memcpy(s, data, len);
	s[len] = '\0';
	fuzz_b64(s, len);
	fuzz_hmac(s);
	fuzz_cred(s);
	free(s);
	return 0;
}
