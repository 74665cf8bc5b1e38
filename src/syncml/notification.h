/* SPDX-License-Identifier: MIT */
/*
 * DM Notification, General Package#0 (OMA-TS-DM_Notification-V1_2): the
 * server-alert that starts a DM session, whether it comes from the card over
 * BIP (OMA-TS-DM_SC-V1_0 chapter 7) or by WAP push.
 *
 *     digest(16) | version(10 bits) ui-mode(2) initiator(1) future(27)
 *     sessionid(16) server-id-length(8) server-id | vendor-specific body
 *
 * Bit fields are big-endian, most significant bit first.  The "trigger" is
 * everything after the digest; the digest covers it.  Pure functions.
 */
#ifndef DMSCGW_SYNCML_NOTIFICATION_H
#define DMSCGW_SYNCML_NOTIFICATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DM_NOTI_DIGEST_LEN	16
/* digest + the fixed trigger header up to and including server-id-length */
#define DM_NOTI_HDR_LEN		(DM_NOTI_DIGEST_LEN + 8)
#define DM_NOTI_SERVER_ID_MAX	255
/* The versions this client speaks: 1.1 and 1.2, coded as 10 * major + minor. */
#define DM_NOTI_VERSION_11	11
#define DM_NOTI_VERSION_12	12
/* Buffer for dm_notification_session_id_str(): "FFFF" and a NUL. */
#define DM_NOTI_SESSION_ID_STRLEN	5

enum dm_ui_mode {
	DM_UI_NOT_SPECIFIED = 0,
	DM_UI_BACKGROUND = 1,
	DM_UI_INFORMATIVE = 2,
	DM_UI_USER_INTERACTION = 3,
};

struct dm_notification {
	uint8_t digest[DM_NOTI_DIGEST_LEN];
	unsigned version;		/* 10 bits: 12 for 1.2, 11 for 1.1 */
	unsigned ui_mode;		/* enum dm_ui_mode, 2 bits */
	bool server_initiated;		/* initiator bit */
	uint32_t future;		/* 27 reserved bits, kept as received */
	uint16_t session_id;
	char server_id[DM_NOTI_SERVER_ID_MAX + 1];	/* NUL-terminated */
	const uint8_t *vendor;		/* vendor-specific body, may be empty */
	size_t vendor_len;
	/*
	 * What the digest covers (the input after the digest).  Set by
	 * decode, pointing into its input; not used by encode.
	 */
	const uint8_t *trigger;
	size_t trigger_len;
};

/* dm_notification_verify() verdicts. */
enum dm_noti_verdict {
	DM_NOTI_OK = 0,		/* digest made with the account's nonce */
	DM_NOTI_OK_RESYNC,	/* digest made with the zero nonce */
	DM_NOTI_BAD_DIGEST,
};

/*
 * Decode a Package#0.  n->vendor and n->trigger point into p, which must
 * outlive them.  Returns 0; -EBADMSG when shorter than the fixed header, the
 * server identifier is empty, runs past the end or holds a NUL byte;
 * -EPROTONOSUPPORT for a version other than 1.1 and 1.2 (n->version, ui_mode,
 * server_initiated, future and session_id are then filled in for the log).
 */
int dm_notification_decode(const uint8_t *p, size_t len,
			   struct dm_notification *n);

/* Why dm_notification_decode() refused a message, for the log. */
const char *dm_notification_strerror(int err);

/*
 * Lay out n as bytes, digest included as given (see
 * dm_notification_digest()); no version check, so that tests can build what
 * the decoder refuses.  Returns the length, -EINVAL when a field does not fit
 * its bits or the server identifier is empty or too long, -ENOSPC.
 */
int dm_notification_encode(const struct dm_notification *n, uint8_t *out,
			   size_t cap);

/*
 * The Package#0 digest:
 *     H(B64(H(server-id ":" password)) ":" nonce ":" B64(H(trigger)))
 * with the server's password and nonce from its DM account.  Returns 0 or
 * -EIO.
 */
int dm_notification_digest(const char *server_id, const char *password,
			   const uint8_t *nonce, size_t nonce_len,
			   const uint8_t *trigger, size_t trigger_len,
			   uint8_t out[DM_NOTI_DIGEST_LEN]);

/*
 * Check a decoded Package#0 with the account's password and nonce; when that
 * fails, once more with the zero nonce 00000000 (nonce resynchronisation:
 * the server lost the nonce and the client must tell it a new one during the
 * session).  Returns an enum dm_noti_verdict, or -EIO.
 */
int dm_notification_verify(const struct dm_notification *n,
			   const char *password, const uint8_t *nonce,
			   size_t nonce_len);

/*
 * The session's <SessionID>: the sessionid in uppercase hex without
 * leading zeros ("1234", "A", "0").  Returns buf.
 */
char *dm_notification_session_id_str(uint16_t id,
				     char buf[DM_NOTI_SESSION_ID_STRLEN]);

#endif
