/* SPDX-License-Identifier: MIT */
/*
 * OMA DM 1.2 credentials (OMA-TS-DM_Security-V1_2, "Authentication" and
 * "Integrity"; OMA-TS-DM_Protocol-V1_2): syncml:auth-basic, syncml:auth-md5 and
 * the x-syncml-hmac transport header, both for building the client's
 * credentials and for checking the server's.  Base64 and MD5 from OpenSSL.
 *
 * Pure functions: no I/O, no state, no logging (every argument may be a
 * secret).  Nonces are raw bytes; the management tree stores them in base64
 * and dm_b64_decode() turns them back.  Output goes to caller buffers with
 * explicit capacities; errors are negative errno values.
 */
#ifndef DMSCGW_SYNCML_AUTH_H
#define DMSCGW_SYNCML_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DM_MD5_LEN		16
/* base64 of an MD5 digest, without the NUL */
#define DM_MD5_B64_LEN		24
/* Capacity for the base64 of len bytes, NUL included. */
#define DM_B64_CAP(len)		(((len) + 2) / 3 * 4 + 1)

/* Longest "user:password" that dm_cred_check() accepts for auth-basic. */
#define DM_AUTH_BASIC_MAX	512
/* Longest user name that dm_hmac_parse() keeps. */
#define DM_AUTH_USER_MAX	255

/* Length of the zero nonce used for resynchronisation (DM Notification). */
#define DM_NONCE_ZERO_LEN	4

/*
 * RFC 4648 base64 of p into out, NUL-terminated, no line breaks.  Returns
 * the number of characters (without the NUL), -ENOSPC when out is smaller
 * than DM_B64_CAP(len).
 */
int dm_b64_encode(char *out, size_t cap, const uint8_t *p, size_t len);

/*
 * Decode base64 of slen characters (s need not be NUL-terminated).  Spaces,
 * tabs, CR and LF are skipped anywhere (servers wrap long values); padding is
 * required, and '=' may only end the last quantum.  Returns the number of
 * bytes written, -EINVAL on a malformed string, -ENOSPC when the result does
 * not fit in cap.
 */
int dm_b64_decode(uint8_t *out, size_t cap, const char *s, size_t slen);

/* MD5 of p.  Returns 0, or -EIO when the crypto library refuses (FIPS). */
int dm_md5(uint8_t out[DM_MD5_LEN], const uint8_t *p, size_t len);

/*
 * The digest shared by auth-md5, the HMAC header (DM Security) and the
 * Package#0 digest (DM Notification):
 *
 *     H(B64(H(user ":" pass)) ":" nonce)                       no body
 *     H(B64(H(user ":" pass)) ":" nonce ":" B64(H(body)))      with_body
 *
 * H = MD5.  body may be NULL when body_len is 0.  Returns 0 or -EIO.
 */
int dm_auth_digest(uint8_t out[DM_MD5_LEN], const char *user,
		   const char *pass, const uint8_t *nonce, size_t nonce_len,
		   bool with_body, const uint8_t *body, size_t body_len);

/*
 * <Cred><Data> for syncml:auth-basic: B64(user ":" pass).  Returns the
 * string length, -ENOSPC.
 */
int dm_auth_basic(char *out, size_t cap, const char *user, const char *pass);

/*
 * <Cred><Data> for syncml:auth-md5 (Format b64): the digest above without a
 * body, in base64 (DM_MD5_B64_LEN characters).  Returns the string length,
 * -ENOSPC, -EIO.
 */
int dm_auth_md5(char *out, size_t cap, const char *user, const char *pass,
		const uint8_t *nonce, size_t nonce_len);

/*
 * Value of the x-syncml-hmac header for a message body (DM Security):
 *     algorithm=MD5, username="<user>", mac=<B64(digest with body)>
 * Returns the string length, -EINVAL when user holds '"', '\\' or a control
 * character (it could not be quoted back), -ENOSPC, -EIO.
 */
int dm_hmac_header(char *out, size_t cap, const char *user, const char *pass,
		   const uint8_t *nonce, size_t nonce_len, const uint8_t *body,
		   size_t body_len);

/* A received x-syncml-hmac header. */
struct dm_hmac {
	char username[DM_AUTH_USER_MAX + 1];
	uint8_t mac[DM_MD5_LEN];
};

/*
 * Parse the value of an x-syncml-hmac header (without the "x-syncml-hmac:"
 * name): comma-separated name=value pairs in any order, names
 * case-insensitive, optional spaces around '=' and ',', values quoted (with
 * backslash escapes) or not.  algorithm defaults to MD5; username and mac
 * are required; mac must be the base64 of 16 bytes; unknown parameters are
 * ignored, repeated ones are an error.
 *
 * Returns 0, -EINVAL on a malformed header, -EPROTONOSUPPORT for an
 * algorithm other than MD5.
 */
int dm_hmac_parse(const char *header, struct dm_hmac *h);

/*
 * Check a parsed header against the expected user name and credentials for
 * this body.  Returns 0 on a match, -EACCES otherwise, -EIO.
 */
int dm_hmac_verify(const struct dm_hmac *h, const char *user,
		   const char *pass, const uint8_t *nonce, size_t nonce_len,
		   const uint8_t *body, size_t body_len);

/*
 * Check the server's <Cred>: type is the Meta <Type> (NULL means
 * syncml:auth-basic, the SyncML Representation default), data the <Data>
 * string.  Returns 0 on a match, -EACCES on a mismatch (or a basic credential
 * longer than DM_AUTH_BASIC_MAX), -EINVAL when data is not base64 of the
 * right size, -EPROTONOSUPPORT for an unknown type, -EIO.
 */
int dm_cred_check(const char *type, const char *data, const char *user,
		  const char *pass, const uint8_t *nonce, size_t nonce_len);

/* Fresh random nonce bytes for a <NextNonce>.  Returns 0 or -EIO. */
int dm_nonce_generate(uint8_t *out, size_t len);

#endif
