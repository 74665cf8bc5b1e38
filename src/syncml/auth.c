/* SPDX-License-Identifier: MIT */
/*
 * OMA DM 1.2 credentials: base64 and MD5 through OpenSSL, and the digests of
 * OMA-TS-DM_Security-V1_2 built on them.
 *
 * EVP_DecodeBlock() alone is too lax to be the validator (it accepts "Q===",
 * "QQ=A", and returns padding as zero bytes), so dm_b64_decode() checks the
 * alphabet and the position of '=' itself and only hands OpenSSL whole,
 * clean quanta.
 *
 * Every buffer that held a password or a password equivalent (H(user:pass)
 * and its base64 are enough to answer any auth-md5 challenge) is wiped with
 * OPENSSL_cleanse() before it goes out of scope, and every comparison with a
 * secret goes through CRYPTO_memcmp().
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "syncml/auth.h"

/* Input bytes per EVP_EncodeBlock() call: a multiple of 3. */
#define B64_ENC_BLOCK	(3 * 4096)
/* Characters per EVP_DecodeBlock() call: a multiple of 4. */
#define B64_DEC_BLOCK	64

static const char cred_basic[] = "syncml:auth-basic";
static const char cred_md5[] = "syncml:auth-md5";

/* ---- base64 --------------------------------------------------------- */

/*
 * Streaming encoder over several pieces of input (auth-basic encodes
 * user ":" pass without building the concatenation).  OpenSSL is given whole
 * 3-byte groups only, so the pieces encode as their concatenation would.
 * The caller has checked that out holds DM_B64_CAP(total).
 */
struct b64_enc {
	char *out;
	size_t o;
	uint8_t carry[3];
	size_t fill;
};

static void
b64_enc_block(struct b64_enc *e, const uint8_t *p, size_t n)
{
	e->o += (size_t)EVP_EncodeBlock((unsigned char *)e->out + e->o, p,
					(int)n);
}

static void
b64_enc_update(struct b64_enc *e, const uint8_t *p, size_t len)
{
	size_t n;

	if (e->fill > 0) {
		while (e->fill < 3 && len > 0) {
			e->carry[e->fill++] = *p++;
			len--;
		}
		if (e->fill < 3)
			return;
		b64_enc_block(e, e->carry, 3);
		e->fill = 0;
	}
	while (len >= 3) {
		n = len < B64_ENC_BLOCK ? len - len % 3 : B64_ENC_BLOCK;
		b64_enc_block(e, p, n);
		p += n;
		len -= n;
	}
	if (len > 0)
		memcpy(e->carry, p, len);
	e->fill = len;
}

static int
b64_enc_final(struct b64_enc *e)
{
	if (e->fill > 0)
		b64_enc_block(e, e->carry, e->fill);
	e->out[e->o] = '\0';
	OPENSSL_cleanse(e->carry, sizeof(e->carry));
	return (int)e->o;
}

/* 0 when out can hold the base64 of total bytes and its length is an int. */
static int
b64_enc_check(size_t cap, size_t total)
{
	if (total > (size_t)INT_MAX / 4 * 3 - 3)
		return -EOVERFLOW;
	if (cap < DM_B64_CAP(total))
		return -ENOSPC;
	return 0;
}

int
dm_b64_encode(char *out, size_t cap, const uint8_t *p, size_t len)
{
	struct b64_enc e = { .out = out };
	int r;

	if ((r = b64_enc_check(cap, len)) < 0)
		return r;
	b64_enc_update(&e, p, len);
	return b64_enc_final(&e);
}

static bool
b64_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
b64_is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Decode nq clean characters (whole quanta) from q and append to out. */
static int
b64_dec_flush(uint8_t *out, size_t cap, size_t *o, const char *q, size_t nq)
{
	uint8_t tmp[B64_DEC_BLOCK / 4 * 3];
	size_t n, pad = 0;
	int r;

	if (nq == 0)
		return 0;
	if (q[nq - 1] == '=')
		pad = q[nq - 2] == '=' ? 2 : 1;
	r = EVP_DecodeBlock(tmp, (const unsigned char *)q, (int)nq);
	if (r < 0 || (size_t)r != nq / 4 * 3) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return -EINVAL;
	}
	n = (size_t)r - pad;
	if (n > cap - *o) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return -ENOSPC;
	}
	memcpy(out + *o, tmp, n);
	*o += n;
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return 0;
}

int
dm_b64_decode(uint8_t *out, size_t cap, const char *s, size_t slen)
{
	char q[B64_DEC_BLOCK];
	size_t i, nq = 0, count = 0, o = 0;
	bool padding = false;
	int r = 0;

	for (i = 0; i < slen && r == 0; i++) {
		if (b64_is_space(s[i]))
			continue;
		if (s[i] == '=') {
			/* RFC 4648 4: one or two '=' end the last quantum. */
			if (count % 4 < 2) {
				r = -EINVAL;
				break;
			}
			padding = true;
		} else if (padding || !b64_is_alpha(s[i])) {
			r = -EINVAL;
			break;
		}
		q[nq++] = s[i];
		count++;
		if (nq == sizeof(q)) {
			r = b64_dec_flush(out, cap, &o, q, nq);
			nq = 0;
		}
	}
	if (r == 0 && count % 4 != 0)
		r = -EINVAL;
	if (r == 0)
		r = b64_dec_flush(out, cap, &o, q, nq);
	if (r == 0 && o > INT_MAX)
		r = -EOVERFLOW;
	OPENSSL_cleanse(q, sizeof(q));
	return r < 0 ? r : (int)o;
}

/* ---- MD5 and the DM digests ----------------------------------------- */

int
dm_md5(uint8_t out[DM_MD5_LEN], const uint8_t *p, size_t len)
{
	unsigned int n = 0;

	/* EVP_Digest() wants a pointer even for no data. */
	if (EVP_Digest(len > 0 ? p : (const uint8_t *)"", len, out, &n,
		       EVP_md5(), NULL) != 1 || n != DM_MD5_LEN)
		return -EIO;
	return 0;
}

struct seg {
	const void *p;
	size_t len;
};

static int
md5_segs(uint8_t out[DM_MD5_LEN], const struct seg *v, size_t nv)
{
	unsigned int n = 0;
	EVP_MD_CTX *ctx;
	size_t i;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1;
	for (i = 0; ok && i < nv; i++)
		if (v[i].len > 0)
			ok = EVP_DigestUpdate(ctx, v[i].p, v[i].len) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == DM_MD5_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

/* B64(H(...)) of the pieces: 24 characters and a NUL. */
static int
md5_b64_segs(char out[DM_MD5_B64_LEN + 1], const struct seg *v, size_t nv)
{
	uint8_t h[DM_MD5_LEN];
	int r;

	if ((r = md5_segs(h, v, nv)) == 0)
		r = dm_b64_encode(out, DM_MD5_B64_LEN + 1, h, sizeof(h));
	OPENSSL_cleanse(h, sizeof(h));
	return r < 0 ? r : 0;
}

int
dm_auth_digest(uint8_t out[DM_MD5_LEN], const char *user, const char *pass,
	       const uint8_t *nonce, size_t nonce_len, bool with_body,
	       const uint8_t *body, size_t body_len)
{
	char cred[DM_MD5_B64_LEN + 1], bh[DM_MD5_B64_LEN + 1];
	const struct seg up[] = {
		{ user, strlen(user) }, { ":", 1 }, { pass, strlen(pass) },
	};
	struct seg v[] = {
		{ cred, DM_MD5_B64_LEN }, { ":", 1 }, { nonce, nonce_len },
		{ ":", 1 }, { bh, DM_MD5_B64_LEN },
	};
	const struct seg b = { body, body_len };
	int r;

	r = md5_b64_segs(cred, up, 3);
	if (r == 0 && with_body)
		r = md5_b64_segs(bh, &b, 1);
	if (r == 0)
		r = md5_segs(out, v, with_body ? 5 : 3);
	OPENSSL_cleanse(cred, sizeof(cred));
	return r;
}

/* ---- building credentials ------------------------------------------- */

int
dm_auth_basic(char *out, size_t cap, const char *user, const char *pass)
{
	struct b64_enc e = { .out = out };
	size_t ulen = strlen(user), plen = strlen(pass);
	int r;

	if (ulen > SIZE_MAX / 2 || plen > SIZE_MAX / 2)
		return -EOVERFLOW;
	if ((r = b64_enc_check(cap, ulen + 1 + plen)) < 0)
		return r;
	b64_enc_update(&e, (const uint8_t *)user, ulen);
	b64_enc_update(&e, (const uint8_t *)":", 1);
	b64_enc_update(&e, (const uint8_t *)pass, plen);
	return b64_enc_final(&e);
}

int
dm_auth_md5(char *out, size_t cap, const char *user, const char *pass,
	    const uint8_t *nonce, size_t nonce_len)
{
	uint8_t d[DM_MD5_LEN];
	int r;

	if (cap < DM_MD5_B64_LEN + 1)
		return -ENOSPC;
	r = dm_auth_digest(d, user, pass, nonce, nonce_len, false, NULL, 0);
	if (r == 0)
		r = dm_b64_encode(out, cap, d, sizeof(d));
	OPENSSL_cleanse(d, sizeof(d));
	return r;
}

/* A user name that can stand between double quotes as it is. */
static bool
hmac_user_quotable(const char *user)
{
	const unsigned char *c;

	for (c = (const unsigned char *)user; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7F || *c == '"' || *c == '\\')
			return false;
	return true;
}

int
dm_hmac_header(char *out, size_t cap, const char *user, const char *pass,
	       const uint8_t *nonce, size_t nonce_len, const uint8_t *body,
	       size_t body_len)
{
	char mac[DM_MD5_B64_LEN + 1];
	uint8_t d[DM_MD5_LEN];
	int r, n;

	if (!hmac_user_quotable(user))
		return -EINVAL;
	r = dm_auth_digest(d, user, pass, nonce, nonce_len, true, body,
			   body_len);
	if (r == 0)
		r = dm_b64_encode(mac, sizeof(mac), d, sizeof(d));
	OPENSSL_cleanse(d, sizeof(d));
	if (r < 0)
		return r;
	n = snprintf(out, cap, "algorithm=MD5, username=\"%s\", mac=%s",
		     user, mac);
	if (n < 0)
		return -EIO;
	if ((size_t)n >= cap)
		return -ENOSPC;
	return n;
}

/* ---- checking the server's ------------------------------------------ */

static bool
hdr_is_space(char c)
{
	return c == ' ' || c == '\t';
}

static const char *
hdr_skip_space(const char *p)
{
	while (hdr_is_space(*p))
		p++;
	return p;
}

static bool
hdr_is_name(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * One parameter value at *pp, quoted (RFC 9110 5.6.4, with quoted-pairs) or
 * a bare run of visible characters up to a space or ','.  At most cap - 1
 * characters are kept, NUL-terminated.  Returns the value's length,
 * -EINVAL when malformed, -ENOSPC when it was longer than cap - 1 (*pp is
 * then still past the value, so that an unknown parameter can be skipped).
 */
static int
hdr_value(const char **pp, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)*pp;
	size_t n = 0;
	bool quoted, over = false;

	quoted = *p == '"';
	if (quoted)
		p++;
	for (;; p++) {
		if (quoted && *p == '"') {
			p++;
			break;
		}
		if (!quoted && (*p == '\0' || *p == ' ' || *p == '\t' ||
				*p == ','))
			break;
		if (quoted && *p == '\\')
			p++;
		if (*p == '\0' || (*p < 0x20 && *p != '\t') || *p == 0x7F ||
		    (!quoted && *p == '"'))
			return -EINVAL;
		if (n + 1 < cap)
			out[n++] = (char)*p;
		else
			over = true;
	}
	out[n] = '\0';
	*pp = (const char *)p;
	if (over)
		return -ENOSPC;
	return n > INT_MAX ? -EINVAL : (int)n;
}

int
dm_hmac_parse(const char *header, struct dm_hmac *h)
{
	char val[DM_AUTH_USER_MAX + 1];
	bool has_alg = false, has_user = false, has_mac = false;
	bool alg_md5 = true;
	const char *p = header, *name;
	size_t nlen;
	int r;

	memset(h, 0, sizeof(*h));
	for (;;) {
		p = hdr_skip_space(p);
		if (*p == '\0')
			break;
		/* empty list elements are allowed (RFC 9110 5.6.1) */
		if (*p == ',') {
			p++;
			continue;
		}
		name = p;
		while (hdr_is_name(*p))
			p++;
		nlen = (size_t)(p - name);
		p = hdr_skip_space(p);
		if (nlen == 0 || *p != '=')
			return -EINVAL;
		p = hdr_skip_space(p + 1);
		r = hdr_value(&p, val, sizeof(val));
		if (r == -EINVAL)
			return r;
		p = hdr_skip_space(p);
		if (*p != ',' && *p != '\0')
			return -EINVAL;

		if (nlen == 9 && strncasecmp(name, "algorithm", 9) == 0) {
			if (has_alg || r < 0)
				return -EINVAL;
			has_alg = true;
			alg_md5 = strcasecmp(val, "MD5") == 0;
		} else if (nlen == 8 && strncasecmp(name, "username", 8) == 0) {
			if (has_user || r <= 0)
				return -EINVAL;
			has_user = true;
			memcpy(h->username, val, (size_t)r + 1);
		} else if (nlen == 3 && strncasecmp(name, "mac", 3) == 0) {
			if (has_mac || r <= 0)
				return -EINVAL;
			has_mac = true;
			if (dm_b64_decode(h->mac, sizeof(h->mac), val,
					  (size_t)r) != DM_MD5_LEN)
				return -EINVAL;
		}
		/* other parameters: ignored, for later versions */
	}
	if (!has_user || !has_mac)
		return -EINVAL;
	if (!alg_md5)
		return -EPROTONOSUPPORT;
	return 0;
}

/* Equal strings, in time that depends on the lengths only. */
static bool
secret_eq(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}

int
dm_hmac_verify(const struct dm_hmac *h, const char *user, const char *pass,
	       const uint8_t *nonce, size_t nonce_len, const uint8_t *body,
	       size_t body_len)
{
	uint8_t d[DM_MD5_LEN];
	bool ok;
	int r;

	r = dm_auth_digest(d, user, pass, nonce, nonce_len, true, body,
			   body_len);
	if (r < 0)
		return r;
	ok = secret_eq(h->mac, sizeof(h->mac), d, sizeof(d));
	/* both compared, so the time says nothing about which one failed */
	ok &= secret_eq(h->username, strlen(h->username),
			user, strlen(user));
	OPENSSL_cleanse(d, sizeof(d));
	return ok ? 0 : -EACCES;
}

static int
cred_check_basic(const char *data, const char *user, const char *pass)
{
	uint8_t buf[DM_AUTH_BASIC_MAX];
	size_t ulen = strlen(user), plen = strlen(pass);
	bool ok;
	int n;

	n = dm_b64_decode(buf, sizeof(buf), data, strlen(data));
	if (n == -ENOSPC)
		return -EACCES;	/* longer than any credential we accept */
	if (n < 0)
		return n;
	/*
	 * Only the lengths leak through timing; the split at ulen is the
	 * expected one, so a user name holding ':' is not a way around it.
	 */
	ok = ulen < sizeof(buf) && plen < sizeof(buf) - ulen &&
	     (size_t)n == ulen + 1 + plen;
	if (ok) {
		ok = CRYPTO_memcmp(buf, user, ulen) == 0;
		ok &= buf[ulen] == ':';
		ok &= CRYPTO_memcmp(buf + ulen + 1, pass, plen) == 0;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return ok ? 0 : -EACCES;
}

static int
cred_check_md5(const char *data, const char *user, const char *pass,
	       const uint8_t *nonce, size_t nonce_len)
{
	uint8_t got[DM_MD5_LEN], want[DM_MD5_LEN];
	bool ok;
	int r;

	if (dm_b64_decode(got, sizeof(got), data, strlen(data)) != DM_MD5_LEN)
		return -EINVAL;
	r = dm_auth_digest(want, user, pass, nonce, nonce_len, false, NULL, 0);
	if (r < 0)
		return r;
	ok = CRYPTO_memcmp(got, want, sizeof(want)) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok ? 0 : -EACCES;
}

int
dm_cred_check(const char *type, const char *data, const char *user,
	      const char *pass, const uint8_t *nonce, size_t nonce_len)
{
	if (type == NULL || strcasecmp(type, cred_basic) == 0)
		return cred_check_basic(data, user, pass);
	if (strcasecmp(type, cred_md5) == 0)
		return cred_check_md5(data, user, pass, nonce, nonce_len);
	return -EPROTONOSUPPORT;
}

int
dm_nonce_generate(uint8_t *out, size_t len)
{
	if (len > INT_MAX)
		return -EINVAL;
	return RAND_bytes(out, (int)len) == 1 ? 0 : -EIO;
}
