/* SPDX-License-Identifier: MIT */
/*
 * OMA DM 1.2 credentials: base64, MD5, syncml:auth-basic, syncml:auth-md5
 * and the x-syncml-hmac header.
 *
 * The auth-md5 vector is the one in ../shared/PROTOCOL.md; base64 and MD5
 * vectors are RFC 4648 clause 10 and RFC 1321 A.5.  The HMAC values were
 * computed independently of this code with the openssl command line:
 *
 *   a=$(printf 'dmclient:clipwd' | openssl md5 -binary | base64)
 *   b=$(printf '<SyncML></SyncML>' | openssl md5 -binary | base64)
 *   printf '%s:abcdefgh:%s' "$a" "$b" | openssl md5 -binary | base64
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncml/auth.h"
#include "util/hex.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define USER		"dmclient"
#define PASS		"clipwd"
#define NONCE		((const uint8_t *)"abcdefgh")
#define NONCE_LEN	8
#define BODY		((const uint8_t *)"<SyncML></SyncML>")
#define BODY_LEN	17

/* PROTOCOL.md, "DM 1.2 credentials" */
#define MD5_VEC		"by6YtgE+R+dtKE5blWPSBA=="
/* openssl: B64(user ":" pass) */
#define BASIC_VEC	"ZG1jbGllbnQ6Y2xpcHdk"
/* openssl: the HMAC mac for BODY, and for nonce 00 01 FE FF, empty body */
#define HMAC_VEC	"yHgaQcAJ8wWUDjt2uQeTrA=="
#define HMAC_BIN_VEC	"t5CKO9hhSvHcRkz/PMVe2A=="

/* ---- base64 --------------------------------------------------------- */

struct b64_vec {
	const char *name;
	const char *raw;
	const char *b64;
};

static const struct b64_vec b64_vecs[] = {
	{ "base64 RFC 4648 10 (empty)", "", "" },
	{ "base64 RFC 4648 10 (f)", "f", "Zg==" },
	{ "base64 RFC 4648 10 (fo)", "fo", "Zm8=" },
	{ "base64 RFC 4648 10 (foo)", "foo", "Zm9v" },
	{ "base64 RFC 4648 10 (foob)", "foob", "Zm9vYg==" },
	{ "base64 RFC 4648 10 (fooba)", "fooba", "Zm9vYmE=" },
	{ "base64 RFC 4648 10 (foobar)", "foobar", "Zm9vYmFy" },
};

static void
test_b64(void **state)
{
	const struct b64_vec *v = *state;
	size_t rlen = strlen(v->raw), blen = strlen(v->b64);
	uint8_t raw[16];
	char b64[16];

	assert_int_equal(dm_b64_encode(b64, sizeof(b64),
				       (const uint8_t *)v->raw, rlen),
			 (int)blen);
	assert_string_equal(b64, v->b64);
	/* exactly DM_B64_CAP(), and one less is refused */
	assert_int_equal(DM_B64_CAP(rlen), blen + 1);
	assert_int_equal(dm_b64_encode(b64, blen + 1,
				       (const uint8_t *)v->raw, rlen),
			 (int)blen);
	assert_int_equal(dm_b64_encode(b64, blen, (const uint8_t *)v->raw,
				       rlen), -ENOSPC);

	assert_int_equal(dm_b64_decode(raw, sizeof(raw), v->b64, blen),
			 (int)rlen);
	assert_memory_equal(raw, v->raw, rlen);
	assert_int_equal(dm_b64_decode(raw, rlen, v->b64, blen), (int)rlen);
	if (rlen > 0)
		assert_int_equal(dm_b64_decode(raw, rlen - 1, v->b64, blen),
				 -ENOSPC);
}

struct b64_bad {
	const char *name;
	const char *s;
};

static const struct b64_bad b64_bad[] = {
	{ "base64 invalid: one character", "Q" },
	{ "base64 invalid: missing padding", "QQ" },
	{ "base64 invalid: short padding", "QQ=" },
	{ "base64 invalid: three '='", "Q===" },
	{ "base64 invalid: '=' inside", "QQ=A" },
	{ "base64 invalid: '=' after a whole quantum", "QUJD=" },
	{ "base64 invalid: four '='", "====" },
	{ "base64 invalid: data after padding", "QQ==QUJD" },
	{ "base64 invalid: character '*'", "QU*D" },
	{ "base64 invalid: URL alphabet '-'", "QU-D" },
	{ "base64 invalid: 8-bit byte", "QUJ\xC3" },
	{ "base64 invalid: padding split, data after", "QQ=\n=A" },
};

static void
test_b64_bad(void **state)
{
	const struct b64_bad *v = *state;
	uint8_t raw[16];

	assert_int_equal(dm_b64_decode(raw, sizeof(raw), v->s, strlen(v->s)),
			 -EINVAL);
}

/* Wrapped and indented values, as servers and XML writers produce them. */
static void
test_b64_whitespace(void **state)
{
	uint8_t raw[16];

	assert_int_equal(dm_b64_decode(raw, sizeof(raw), "Zm9v\r\nYmFy", 10),
			 6);
	assert_memory_equal(raw, "foobar", 6);
	assert_int_equal(dm_b64_decode(raw, sizeof(raw), " \tZm 9v\nYg =\n=\n",
				       15), 4);
	assert_memory_equal(raw, "foob", 4);
	assert_int_equal(dm_b64_decode(raw, sizeof(raw), " \n", 2), 0);
	/* slen is honoured: no NUL needed, nothing read past it */
	assert_int_equal(dm_b64_decode(raw, sizeof(raw), "Zm9v!!!!", 4), 3);
}

/* Longer than the internal blocks on both sides, every length to 300. */
static void
test_b64_roundtrip(void **state)
{
	uint8_t raw[300], back[300];
	char b64[DM_B64_CAP(300)], wrapped[DM_B64_CAP(300) * 2];
	size_t len, i, j;
	int n;

	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 37 + 11);
	for (len = 0; len <= sizeof(raw); len++) {
		n = dm_b64_encode(b64, sizeof(b64), raw, len);
		assert_int_equal(n, (len + 2) / 3 * 4);
		assert_int_equal(dm_b64_decode(back, sizeof(back), b64,
					       (size_t)n), (int)len);
		assert_memory_equal(back, raw, len);
		/* the same, wrapped every 76 characters with CRLF */
		for (i = 0, j = 0; i < (size_t)n; i++) {
			if (i > 0 && i % 76 == 0) {
				wrapped[j++] = '\r';
				wrapped[j++] = '\n';
			}
			wrapped[j++] = b64[i];
		}
		assert_int_equal(dm_b64_decode(back, sizeof(back), wrapped, j),
				 (int)len);
		assert_memory_equal(back, raw, len);
	}
}

/* RFC 1321 A.5 */
static void
test_md5(void **state)
{
	static const struct {
		const char *in, *hex;
	} v[] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
	};
	uint8_t d[DM_MD5_LEN], exp[DM_MD5_LEN];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		assert_int_equal(dm_md5(d, (const uint8_t *)v[i].in,
					strlen(v[i].in)), 0);
		assert_int_equal(hex_decode(exp, sizeof(exp), v[i].hex), 16);
		assert_memory_equal(d, exp, 16);
	}
	assert_int_equal(dm_md5(d, NULL, 0), 0);
}

/* ---- building credentials ------------------------------------------- */

static void
test_basic(void **state)
{
	char out[64];

	assert_int_equal(dm_auth_basic(out, sizeof(out), USER, PASS),
			 (int)strlen(BASIC_VEC));
	assert_string_equal(out, BASIC_VEC);
	assert_int_equal(dm_auth_basic(out, strlen(BASIC_VEC), USER, PASS),
			 -ENOSPC);
	/* "a:" and ":" : the pieces straddle the 3-byte groups */
	assert_int_equal(dm_auth_basic(out, sizeof(out), "a", ""), 4);
	assert_string_equal(out, "YTo=");
	assert_int_equal(dm_auth_basic(out, sizeof(out), "", ""), 4);
	assert_string_equal(out, "Og==");
}

/* Every split of one string into user and password encodes the same. */
static void
test_basic_splits(void **state)
{
	const char s[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN";
	char user[64], want[128], got[128];
	size_t i;

	for (i = 0; i <= sizeof(s) - 1; i++) {
		memcpy(user, s, i);
		user[i] = '\0';
		memcpy(want, s, i);
		want[i] = ':';
		memcpy(want + i + 1, s + i, sizeof(s) - i);
		assert_int_equal(dm_b64_encode(got, sizeof(got),
					       (const uint8_t *)want,
					       sizeof(s)), 68);
		memcpy(want, got, 69);
		assert_int_equal(dm_auth_basic(got, sizeof(got), user, s + i),
				 68);
		assert_string_equal(got, want);
	}
}

static void
test_md5_vector(void **state)
{
	char out[DM_MD5_B64_LEN + 1];

	assert_int_equal(dm_auth_md5(out, sizeof(out), USER, PASS, NONCE,
				     NONCE_LEN), DM_MD5_B64_LEN);
	assert_string_equal(out, MD5_VEC);
	assert_int_equal(dm_auth_md5(out, sizeof(out) - 1, USER, PASS, NONCE,
				     NONCE_LEN), -ENOSPC);
}

static void
test_hmac_header(void **state)
{
	const char *exp = "algorithm=MD5, username=\"" USER "\", mac="
			  HMAC_VEC;
	char out[128];

	assert_int_equal(dm_hmac_header(out, sizeof(out), USER, PASS, NONCE,
					NONCE_LEN, BODY, BODY_LEN),
			 (int)strlen(exp));
	assert_string_equal(out, exp);
	assert_int_equal(dm_hmac_header(out, strlen(exp), USER, PASS, NONCE,
					NONCE_LEN, BODY, BODY_LEN), -ENOSPC);
}

/* Binary nonce, empty body: through parse, against openssl's value. */
static void
test_hmac_binary_nonce(void **state)
{
	const uint8_t nonce[] = { 0x00, 0x01, 0xFE, 0xFF };
	struct dm_hmac h;
	uint8_t exp[DM_MD5_LEN];
	char out[128];

	assert_true(dm_hmac_header(out, sizeof(out), USER, PASS, nonce,
				   sizeof(nonce), NULL, 0) > 0);
	assert_int_equal(dm_hmac_parse(out, &h), 0);
	assert_int_equal(dm_b64_decode(exp, sizeof(exp), HMAC_BIN_VEC,
				       strlen(HMAC_BIN_VEC)), 16);
	assert_memory_equal(h.mac, exp, 16);
}

static void
test_hmac_header_bad_user(void **state)
{
	char out[128];

	assert_int_equal(dm_hmac_header(out, sizeof(out), "a\"b", PASS, NONCE,
					NONCE_LEN, BODY, BODY_LEN), -EINVAL);
	assert_int_equal(dm_hmac_header(out, sizeof(out), "a\\b", PASS, NONCE,
					NONCE_LEN, BODY, BODY_LEN), -EINVAL);
	assert_int_equal(dm_hmac_header(out, sizeof(out), "a\nb", PASS, NONCE,
					NONCE_LEN, BODY, BODY_LEN), -EINVAL);
}

/* ---- parsing and checking the server's ------------------------------ */

struct hmac_vec {
	const char *name;
	const char *hdr;
	int ret;
	const char *user;	/* expected on 0; the mac is HMAC_VEC */
};

static const struct hmac_vec hmac_vecs[] = {
	{ "hmac parse: as written",
	  "algorithm=MD5, username=\"dmclient\", mac=" HMAC_VEC, 0, USER },
	{ "hmac parse: no spaces",
	  "algorithm=MD5,username=\"dmclient\",mac=" HMAC_VEC, 0, USER },
	{ "hmac parse: spaces and tabs everywhere",
	  "  algorithm = MD5 ,\tusername =\t\"dmclient\" , mac = " HMAC_VEC
	  "  ", 0, USER },
	{ "hmac parse: unquoted username",
	  "algorithm=MD5, username=dmclient, mac=" HMAC_VEC, 0, USER },
	{ "hmac parse: quoted mac",
	  "algorithm=MD5, username=dmclient, mac=\"" HMAC_VEC "\"", 0, USER },
	{ "hmac parse: other order",
	  "mac=" HMAC_VEC ", username=\"dmclient\", algorithm=MD5", 0, USER },
	{ "hmac parse: algorithm absent (MD5 by default)",
	  "username=\"dmclient\", mac=" HMAC_VEC, 0, USER },
	{ "hmac parse: names and algorithm in other cases",
	  "Algorithm=md5, UserName=\"dmclient\", MAC=" HMAC_VEC, 0, USER },
	{ "hmac parse: unknown parameter ignored",
	  "algorithm=MD5, realm=\"x, y\", username=\"dmclient\", mac="
	  HMAC_VEC, 0, USER },
	{ "hmac parse: empty list elements",
	  ", algorithm=MD5,, username=\"dmclient\", mac=" HMAC_VEC ",", 0,
	  USER },
	{ "hmac parse: quoted-pair and comma in username",
	  "username=\"d\\\"m, c\", mac=" HMAC_VEC, 0, "d\"m, c" },

	{ "hmac malformed: empty", "", -EINVAL, NULL },
	{ "hmac malformed: only spaces and commas", " , ,", -EINVAL, NULL },
	{ "hmac malformed: no mac", "algorithm=MD5, username=\"dmclient\"",
	  -EINVAL, NULL },
	{ "hmac malformed: no username", "algorithm=MD5, mac=" HMAC_VEC,
	  -EINVAL, NULL },
	{ "hmac malformed: empty username",
	  "username=\"\", mac=" HMAC_VEC, -EINVAL, NULL },
	{ "hmac malformed: empty mac", "username=dmclient, mac=", -EINVAL,
	  NULL },
	{ "hmac malformed: mac not base64",
	  "username=dmclient, mac=yHgaQcAJ8wWUDjt2uQeT*A==", -EINVAL, NULL },
	{ "hmac malformed: mac of 15 bytes",
	  "username=dmclient, mac=yHgaQcAJ8wWUDjt2uQeT", -EINVAL, NULL },
	{ "hmac malformed: mac of 18 bytes",
	  "username=dmclient, mac=yHgaQcAJ8wWUDjt2uQeTrAAA", -EINVAL, NULL },
	{ "hmac malformed: username twice",
	  "username=a, username=b, mac=" HMAC_VEC, -EINVAL, NULL },
	{ "hmac malformed: mac twice",
	  "username=a, mac=" HMAC_VEC ", mac=" HMAC_VEC, -EINVAL, NULL },
	{ "hmac malformed: algorithm twice",
	  "algorithm=MD5, algorithm=MD5, username=a, mac=" HMAC_VEC, -EINVAL,
	  NULL },
	{ "hmac malformed: unterminated quote",
	  "username=\"dmclient, mac=" HMAC_VEC, -EINVAL, NULL },
	{ "hmac malformed: quoted-pair at the end",
	  "mac=" HMAC_VEC ", username=\"a\\", -EINVAL, NULL },
	{ "hmac malformed: text after a quoted value",
	  "username=\"dmclient\"x, mac=" HMAC_VEC, -EINVAL, NULL },
	{ "hmac malformed: no '='", "username dmclient, mac=" HMAC_VEC,
	  -EINVAL, NULL },
	{ "hmac malformed: no name", "=dmclient, mac=" HMAC_VEC, -EINVAL,
	  NULL },
	{ "hmac malformed: missing comma",
	  "username=dmclient mac=" HMAC_VEC, -EINVAL, NULL },
	{ "hmac malformed: control character",
	  "username=\"dm\x01" "client\", mac=" HMAC_VEC, -EINVAL, NULL },
	{ "hmac malformed: quote inside bare value",
	  "username=dm\"client, mac=" HMAC_VEC, -EINVAL, NULL },
	{ "hmac malformed: header name included",
	  "x-syncml-hmac: username=dmclient, mac=" HMAC_VEC, -EINVAL, NULL },
	{ "hmac malformed: username longer than 255",
	  "username=" "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789"
	  ", mac=" HMAC_VEC, -EINVAL, NULL },
	{ "hmac algorithm SHA-1 not supported",
	  "algorithm=SHA-1, username=dmclient, mac=" HMAC_VEC,
	  -EPROTONOSUPPORT, NULL },
	{ "hmac algorithm empty not supported",
	  "algorithm=\"\", username=dmclient, mac=" HMAC_VEC,
	  -EPROTONOSUPPORT, NULL },
};

static void
test_hmac_parse(void **state)
{
	const struct hmac_vec *v = *state;
	uint8_t mac[DM_MD5_LEN];
	struct dm_hmac h;

	assert_int_equal(dm_hmac_parse(v->hdr, &h), v->ret);
	if (v->ret != 0)
		return;
	assert_string_equal(h.username, v->user);
	assert_int_equal(dm_b64_decode(mac, sizeof(mac), HMAC_VEC,
				       strlen(HMAC_VEC)), 16);
	assert_memory_equal(h.mac, mac, 16);
}

/* A 255-character user name is the longest kept. */
static void
test_hmac_parse_longest_user(void **state)
{
	char hdr[400], user[256];
	struct dm_hmac h;

	memset(user, 'u', 255);
	user[255] = '\0';
	snprintf(hdr, sizeof(hdr), "username=\"%s\", mac=%s", user, HMAC_VEC);
	assert_int_equal(dm_hmac_parse(hdr, &h), 0);
	assert_string_equal(h.username, user);
}

static void
test_hmac_verify(void **state)
{
	struct dm_hmac h;
	char hdr[128];

	assert_true(dm_hmac_header(hdr, sizeof(hdr), USER, PASS, NONCE,
				   NONCE_LEN, BODY, BODY_LEN) > 0);
	assert_int_equal(dm_hmac_parse(hdr, &h), 0);
	assert_int_equal(dm_hmac_verify(&h, USER, PASS, NONCE, NONCE_LEN,
					BODY, BODY_LEN), 0);
	assert_int_equal(dm_hmac_verify(&h, USER, PASS, NONCE, NONCE_LEN,
					BODY, BODY_LEN - 1), -EACCES);
	assert_int_equal(dm_hmac_verify(&h, "dmclien", PASS, NONCE, NONCE_LEN,
					BODY, BODY_LEN), -EACCES);
	assert_int_equal(dm_hmac_verify(&h, "dmclient2", PASS, NONCE,
					NONCE_LEN, BODY, BODY_LEN), -EACCES);
	assert_int_equal(dm_hmac_verify(&h, USER, "clipwe", NONCE, NONCE_LEN,
					BODY, BODY_LEN), -EACCES);
	assert_int_equal(dm_hmac_verify(&h, USER, PASS, NONCE, NONCE_LEN - 1,
					BODY, BODY_LEN), -EACCES);
}

struct cred_vec {
	const char *name;
	const char *type;
	const char *data;
	int ret;
};

static const struct cred_vec cred_vecs[] = {
	{ "cred basic", "syncml:auth-basic", BASIC_VEC, 0 },
	{ "cred basic, no type (the default)", NULL, BASIC_VEC, 0 },
	{ "cred basic, wrapped data", "syncml:auth-basic",
	  " ZG1jbGll\nbnQ6Y2xpcHdk ", 0 },
	{ "cred basic, type in capitals", "SYNCML:AUTH-BASIC", BASIC_VEC, 0 },
	{ "cred basic, wrong password (clipwe)", "syncml:auth-basic",
	  "ZG1jbGllbnQ6Y2xpcHdl", -EACCES },
	{ "cred basic, trailing ':' (dmclient:clipwd:)", "syncml:auth-basic",
	  "ZG1jbGllbnQ6Y2xpcHdkOg==", -EACCES },
	{ "cred basic, split moved (dmclient:c:lipwd)", "syncml:auth-basic",
	  "ZG1jbGllbnQ6YzpsaXB3ZA==", -EACCES },
	{ "cred basic, no ':' (dmclientclipwd)", "syncml:auth-basic",
	  "ZG1jbGllbnRjbGlwd2Q=", -EACCES },
	{ "cred basic, empty", "syncml:auth-basic", "", -EACCES },
	{ "cred basic, not base64", "syncml:auth-basic", "dmclient:clipwd",
	  -EINVAL },
	{ "cred md5", "syncml:auth-md5", MD5_VEC, 0 },
	{ "cred md5, wrong value", "syncml:auth-md5",
	  "by6YtgE+R+dtKE5blWPSBQ==", -EACCES },
	{ "cred md5, 15 bytes", "syncml:auth-md5", "by6YtgE+R+dtKE5blWPS",
	  -EINVAL },
	{ "cred md5, not base64", "syncml:auth-md5", "by6YtgE+R+dtKE5blWPSBA",
	  -EINVAL },
	{ "cred md5, the basic value", "syncml:auth-md5", BASIC_VEC,
	  -EINVAL },
	{ "cred unknown type", "syncml:auth-MAC", MD5_VEC, -EPROTONOSUPPORT },
	{ "cred empty type", "", MD5_VEC, -EPROTONOSUPPORT },
};

static void
test_cred(void **state)
{
	const struct cred_vec *v = *state;

	assert_int_equal(dm_cred_check(v->type, v->data, USER, PASS, NONCE,
				       NONCE_LEN), v->ret);
}

/* The nonce is part of auth-md5: the right value for another nonce fails. */
static void
test_cred_md5_other_nonce(void **state)
{
	assert_int_equal(dm_cred_check("syncml:auth-md5", MD5_VEC, USER, PASS,
				       (const uint8_t *)"abcdefgi", 8),
			 -EACCES);
}

/* Longer than DM_AUTH_BASIC_MAX on either side: refused, never overflowed. */
static void
test_cred_basic_long(void **state)
{
	char pass[DM_AUTH_BASIC_MAX + 8], data[DM_B64_CAP(sizeof(pass) + 16)];

	memset(pass, 'p', sizeof(pass) - 1);
	pass[sizeof(pass) - 1] = '\0';
	assert_true(dm_auth_basic(data, sizeof(data), USER, pass) > 0);
	assert_int_equal(dm_cred_check(NULL, data, USER, pass, NULL, 0),
			 -EACCES);
	/* the longest that fits is still accepted */
	pass[DM_AUTH_BASIC_MAX - strlen(USER) - 1] = '\0';
	assert_true(dm_auth_basic(data, sizeof(data), USER, pass) > 0);
	assert_int_equal(dm_cred_check(NULL, data, USER, pass, NULL, 0), 0);
}

static void
test_nonce_generate(void **state)
{
	uint8_t a[16], b[16];

	assert_int_equal(dm_nonce_generate(a, sizeof(a)), 0);
	assert_int_equal(dm_nonce_generate(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(dm_nonce_generate(a, 0), 0);
}

#define NFIXED	14

int
main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(b64_vecs) + ARRAY_SIZE(b64_bad) +
				ARRAY_SIZE(hmac_vecs) + ARRAY_SIZE(cred_vecs) +
				NFIXED];
	const struct CMUnitTest fixed[NFIXED] = {
		cmocka_unit_test(test_b64_whitespace),
		cmocka_unit_test(test_b64_roundtrip),
		cmocka_unit_test(test_md5),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_basic_splits),
		cmocka_unit_test(test_md5_vector),
		cmocka_unit_test(test_hmac_header),
		cmocka_unit_test(test_hmac_binary_nonce),
		cmocka_unit_test(test_hmac_header_bad_user),
		cmocka_unit_test(test_hmac_parse_longest_user),
		cmocka_unit_test(test_hmac_verify),
		cmocka_unit_test(test_cred_md5_other_nonce),
		cmocka_unit_test(test_cred_basic_long),
		cmocka_unit_test(test_nonce_generate),
	};
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(b64_vecs); i++)
		tests[n++] = (struct CMUnitTest){
			.name = b64_vecs[i].name, .test_func = test_b64,
			.initial_state = (void *)(uintptr_t)&b64_vecs[i] };
	for (i = 0; i < ARRAY_SIZE(b64_bad); i++)
		tests[n++] = (struct CMUnitTest){
			.name = b64_bad[i].name, .test_func = test_b64_bad,
			.initial_state = (void *)(uintptr_t)&b64_bad[i] };
	for (i = 0; i < NFIXED; i++)
		tests[n++] = fixed[i];
	for (i = 0; i < ARRAY_SIZE(hmac_vecs); i++)
		tests[n++] = (struct CMUnitTest){
			.name = hmac_vecs[i].name, .test_func = test_hmac_parse,
			.initial_state = (void *)(uintptr_t)&hmac_vecs[i] };
	for (i = 0; i < ARRAY_SIZE(cred_vecs); i++)
		tests[n++] = (struct CMUnitTest){
			.name = cred_vecs[i].name, .test_func = test_cred,
			.initial_state = (void *)(uintptr_t)&cred_vecs[i] };
	return cmocka_run_group_tests_name("dm_auth", tests, NULL, NULL);
}
