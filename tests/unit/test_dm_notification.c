/* SPDX-License-Identifier: MIT */
/*
 * DM Notification, General Package#0 (OMA-TS-DM_Notification-V1_2).
 *
 * "PROTOCOL.md" is the vector of ../shared/PROTOCOL.md (ServerID DMServer,
 * password srvpwd, nonce "12345678").  Digests marked "openssl" were computed
 * independently of this code with the command line, e.g. for the resync one:
 *
 *   a=$(printf 'DMServer:srvpwd' | openssl md5 -binary | base64)
 *   b=$(printf 02d8000000123408444d536572766572 | xxd -r -p |
 *       openssl md5 -binary | base64)
 *   { printf '%s:' "$a"; printf '\0\0\0\0'; printf ':%s' "$b"; } | openssl md5
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "syncml/notification.h"
#include "util/hex.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define VEC_DIGEST	"b9cefbc5ea0d0c388454cc73d74dcf13"
#define VEC_TRIGGER	"02d8000000123408444d536572766572"
#define VEC_SERVER	"DMServer"
#define VEC_PASSWORD	"srvpwd"
#define VEC_NONCE	((const uint8_t *)"12345678")
#define VEC_NONCE_LEN	8

/* Same trigger, digest made with the zero nonce (openssl). */
#define VEC_RESYNC_DIGEST	"c661a269bbe8fd6ab1c02aea6cc20482"

/*
 * Version 12, user interaction, client-initiated bit clear, session ABCD,
 * server "x", vendor body "VEND"; password "pw", nonce "nonce" (openssl).
 */
#define V12_DIGEST	"4974bab7751ee572270ae2a13f396fd2"
#define V12_TRIGGER	"0330000000abcd017856454e44"

/* hex string to bytes in a buffer that the caller frees; sized exactly */
static uint8_t *
unhex(const char *s, size_t *len)
{
	size_t cap = strlen(s) / 2;
	uint8_t *p = malloc(cap > 0 ? cap : 1);
	int n;

	assert_non_null(p);
	n = hex_decode(p, cap, s);
	assert_true(n >= 0);
	*len = (size_t)n;
	return p;
}

static void
test_vector_decode(void **state)
{
	struct dm_notification n;
	char sid[DM_NOTI_SESSION_ID_STRLEN];
	uint8_t digest[16];
	uint8_t *p;
	size_t len;

	p = unhex(VEC_DIGEST VEC_TRIGGER, &len);
	assert_int_equal(len, 32);
	assert_int_equal(dm_notification_decode(p, len, &n), 0);
	assert_int_equal(hex_decode(digest, sizeof(digest), VEC_DIGEST), 16);
	assert_memory_equal(n.digest, digest, 16);
	assert_int_equal(n.version, 11);
	assert_int_equal(n.ui_mode, DM_UI_BACKGROUND);
	assert_true(n.server_initiated);
	assert_int_equal(n.future, 0);
	assert_int_equal(n.session_id, 0x1234);
	assert_string_equal(n.server_id, VEC_SERVER);
	assert_int_equal(n.vendor_len, 0);
	assert_ptr_equal(n.trigger, p + 16);
	assert_int_equal(n.trigger_len, 16);
	/* <SessionID>1234</SessionID> */
	assert_string_equal(dm_notification_session_id_str(n.session_id, sid),
			    "1234");
	free(p);
}

static void
test_vector_encode(void **state)
{
	struct dm_notification n = {
		.version = 11, .ui_mode = DM_UI_BACKGROUND,
		.server_initiated = true, .session_id = 0x1234,
		.server_id = VEC_SERVER,
	};
	uint8_t out[64];
	uint8_t *exp;
	size_t len;

	exp = unhex(VEC_DIGEST VEC_TRIGGER, &len);
	assert_int_equal(hex_decode(n.digest, sizeof(n.digest), VEC_DIGEST),
			 16);
	assert_int_equal(dm_notification_encode(&n, out, sizeof(out)),
			 (int)len);
	assert_memory_equal(out, exp, len);
	free(exp);
}

static void
test_vector_digest(void **state)
{
	uint8_t d[16], exp[16];
	uint8_t *trig;
	size_t len;

	trig = unhex(VEC_TRIGGER, &len);
	assert_int_equal(dm_notification_digest(VEC_SERVER, VEC_PASSWORD,
						VEC_NONCE, VEC_NONCE_LEN,
						trig, len, d), 0);
	assert_int_equal(hex_decode(exp, sizeof(exp), VEC_DIGEST), 16);
	assert_memory_equal(d, exp, 16);

	/* the same with the zero nonce, as openssl computed it */
	assert_int_equal(dm_notification_digest(VEC_SERVER, VEC_PASSWORD,
						(const uint8_t *)"\0\0\0\0", 4,
						trig, len, d), 0);
	assert_int_equal(hex_decode(exp, sizeof(exp), VEC_RESYNC_DIGEST), 16);
	assert_memory_equal(d, exp, 16);
	free(trig);
}

static void
test_vector_verify(void **state)
{
	struct dm_notification n;
	uint8_t *p;
	size_t len;

	p = unhex(VEC_DIGEST VEC_TRIGGER, &len);
	assert_int_equal(dm_notification_decode(p, len, &n), 0);
	assert_int_equal(dm_notification_verify(&n, VEC_PASSWORD, VEC_NONCE,
						VEC_NONCE_LEN), DM_NOTI_OK);
	free(p);
}

/* The server lost our nonce and signed with 00000000: accepted, reported. */
static void
test_resync(void **state)
{
	struct dm_notification n;
	uint8_t *p;
	size_t len;

	p = unhex(VEC_RESYNC_DIGEST VEC_TRIGGER, &len);
	assert_int_equal(dm_notification_decode(p, len, &n), 0);
	assert_int_equal(dm_notification_verify(&n, VEC_PASSWORD, VEC_NONCE,
						VEC_NONCE_LEN),
			 DM_NOTI_OK_RESYNC);
	/* the resync path still needs the right password */
	assert_int_equal(dm_notification_verify(&n, "other", VEC_NONCE,
						VEC_NONCE_LEN),
			 DM_NOTI_BAD_DIGEST);
	/* an account whose nonce is the zero nonce matches first time */
	assert_int_equal(dm_notification_verify(&n, VEC_PASSWORD,
						(const uint8_t *)"\0\0\0\0",
						4), DM_NOTI_OK);
	free(p);
}

static void
test_bad_digest(void **state)
{
	struct dm_notification n;
	uint8_t *p;
	size_t len;

	p = unhex(VEC_DIGEST VEC_TRIGGER, &len);
	assert_int_equal(dm_notification_decode(p, len, &n), 0);
	assert_int_equal(dm_notification_verify(&n, "srvpwe", VEC_NONCE,
						VEC_NONCE_LEN),
			 DM_NOTI_BAD_DIGEST);
	assert_int_equal(dm_notification_verify(&n, VEC_PASSWORD,
						(const uint8_t *)"12345679",
						VEC_NONCE_LEN),
			 DM_NOTI_BAD_DIGEST);
	/* one bit of the digest */
	p[15] ^= 0x01;
	assert_int_equal(dm_notification_decode(p, len, &n), 0);
	assert_int_equal(dm_notification_verify(&n, VEC_PASSWORD, VEC_NONCE,
						VEC_NONCE_LEN),
			 DM_NOTI_BAD_DIGEST);
	p[15] ^= 0x01;
	/* one bit of the trigger (session id), which the digest covers */
	p[16 + 6] ^= 0x01;
	assert_int_equal(dm_notification_decode(p, len, &n), 0);
	assert_int_equal(dm_notification_verify(&n, VEC_PASSWORD, VEC_NONCE,
						VEC_NONCE_LEN),
			 DM_NOTI_BAD_DIGEST);
	free(p);
}

/* Version 1.2 with a vendor-specific body, kept as is. */
static void
test_vendor_body(void **state)
{
	struct dm_notification n;
	uint8_t out[64];
	uint8_t *p;
	size_t len;

	p = unhex(V12_DIGEST V12_TRIGGER, &len);
	assert_int_equal(dm_notification_decode(p, len, &n), 0);
	assert_int_equal(n.version, 12);
	assert_int_equal(n.ui_mode, DM_UI_USER_INTERACTION);
	assert_false(n.server_initiated);
	assert_int_equal(n.session_id, 0xABCD);
	assert_string_equal(n.server_id, "x");
	assert_int_equal(n.vendor_len, 4);
	assert_ptr_equal(n.vendor, p + len - 4);
	assert_memory_equal(n.vendor, "VEND", 4);
	assert_int_equal(dm_notification_verify(&n, "pw",
						(const uint8_t *)"nonce", 5),
			 DM_NOTI_OK);
	assert_int_equal(dm_notification_encode(&n, out, sizeof(out)),
			 (int)len);
	assert_memory_equal(out, p, len);
	free(p);
}

struct bad_vec {
	const char *name;
	const char *hex;
	int ret;
	unsigned version;	/* expected when ret is -EPROTONOSUPPORT */
};

#define D0	"00000000000000000000000000000000"

static const struct bad_vec bad_vecs[] = {
	{ "zero-length server id", D0 "02d80000001234" "00" "444d", -EBADMSG, 0 },
	{ "zero-length server id, nothing after",
	  D0 "02d80000001234" "00", -EBADMSG, 0 },
	{ "server id length past the end by one",
	  D0 "02d80000001234" "09" "444d536572766572", -EBADMSG, 0 },
	{ "server id length 255, 8 bytes there",
	  D0 "02d80000001234" "ff" "444d536572766572", -EBADMSG, 0 },
	{ "server id length 1, no byte", D0 "02d80000001234" "01", -EBADMSG, 0 },
	{ "NUL inside server id",
	  D0 "02d80000001234" "03" "410042", -EBADMSG, 0 },
	{ "version 10 (1.0)", D0 "0298000000123408444d536572766572",
	  -EPROTONOSUPPORT, 10 },
	{ "version 13", D0 "0358000000123408444d536572766572",
	  -EPROTONOSUPPORT, 13 },
	{ "version 0", D0 "0018000000123408444d536572766572",
	  -EPROTONOSUPPORT, 0 },
	{ "version 1023", D0 "ffd8000000123408444d536572766572",
	  -EPROTONOSUPPORT, 1023 },
	/* the version is read before the identifier, see notification.c */
	{ "version 13 and a bad server id length",
	  D0 "03580000001234ff", -EPROTONOSUPPORT, 13 },
	{ "empty", "", -EBADMSG, 0 },
	{ "digest only", D0, -EBADMSG, 0 },
	{ "header one byte short", D0 "02d80000001234", -EBADMSG, 0 },
};

static void
test_bad(void **state)
{
	const struct bad_vec *v = *state;
	struct dm_notification n;
	uint8_t *p;
	size_t len;

	p = unhex(v->hex, &len);
	assert_int_equal(dm_notification_decode(p, len, &n), v->ret);
	if (v->ret == -EPROTONOSUPPORT) {
		assert_int_equal(n.version, v->version);
		assert_non_null(strstr(dm_notification_strerror(v->ret),
				       "version"));
	}
	free(p);
}

/* Every proper prefix of the vector is refused, read in a buffer its size. */
static void
test_truncations(void **state)
{
	struct dm_notification n;
	uint8_t *full, *p;
	size_t len, i;

	full = unhex(VEC_DIGEST VEC_TRIGGER, &len);
	for (i = 0; i < len; i++) {
		p = malloc(i > 0 ? i : 1);
		assert_non_null(p);
		memcpy(p, full, i);
		assert_int_equal(dm_notification_decode(p, i, &n), -EBADMSG);
		free(p);
	}
	free(full);
}

/* Reserved bits are kept, so that what decodes encodes to the same bytes. */
static void
test_future_bits(void **state)
{
	struct dm_notification n;
	uint8_t out[64];
	uint8_t *p;
	size_t len;

	p = unhex(D0 "02dfabcdef123408444d536572766572", &len);
	assert_int_equal(dm_notification_decode(p, len, &n), 0);
	assert_int_equal(n.version, 11);
	assert_int_equal(n.ui_mode, 1);
	assert_true(n.server_initiated);
	assert_int_equal(n.future, 0x7ABCDEF);
	assert_int_equal(dm_notification_encode(&n, out, sizeof(out)),
			 (int)len);
	assert_memory_equal(out, p, len);
	free(p);
}

/* A 255-byte identifier, the most the length byte can say. */
static void
test_longest_server_id(void **state)
{
	struct dm_notification n = { .version = 12 }, m;
	uint8_t out[DM_NOTI_HDR_LEN + 255 + 1];

	memset(n.server_id, 'S', 255);
	assert_int_equal(dm_notification_encode(&n, out, sizeof(out)),
			 DM_NOTI_HDR_LEN + 255);
	assert_int_equal(out[DM_NOTI_HDR_LEN - 1], 255);
	assert_int_equal(dm_notification_decode(out, DM_NOTI_HDR_LEN + 255,
						&m), 0);
	assert_int_equal(strlen(m.server_id), 255);
	assert_int_equal(m.vendor_len, 0);
	assert_null(m.vendor);
}

static void
test_encode_errors(void **state)
{
	const struct dm_notification ok = {
		.version = 12, .server_id = "id",
		.vendor = (const uint8_t *)"v", .vendor_len = 1,
	};
	struct dm_notification n;
	uint8_t out[64];
	size_t cap;

	for (cap = 0; cap < DM_NOTI_HDR_LEN + 3; cap++)
		assert_int_equal(dm_notification_encode(&ok, out, cap),
				 -ENOSPC);
	assert_int_equal(dm_notification_encode(&ok, out, cap),
			 DM_NOTI_HDR_LEN + 3);

	n = ok;
	n.version = 1024;
	assert_int_equal(dm_notification_encode(&n, out, sizeof(out)),
			 -EINVAL);
	n = ok;
	n.ui_mode = 4;
	assert_int_equal(dm_notification_encode(&n, out, sizeof(out)),
			 -EINVAL);
	n = ok;
	n.future = 0x8000000;
	assert_int_equal(dm_notification_encode(&n, out, sizeof(out)),
			 -EINVAL);
	n = ok;
	n.server_id[0] = '\0';
	assert_int_equal(dm_notification_encode(&n, out, sizeof(out)),
			 -EINVAL);
	n = ok;
	memset(n.server_id, 'S', sizeof(n.server_id));	/* no NUL */
	assert_int_equal(dm_notification_encode(&n, out, sizeof(out)),
			 -EINVAL);
	n = ok;
	n.vendor = NULL;
	assert_int_equal(dm_notification_encode(&n, out, sizeof(out)),
			 -EINVAL);
}

/* Build, sign with the account's nonce, verify: what a test server does. */
static void
test_sign_and_verify(void **state)
{
	struct dm_notification n = {
		.version = 12, .ui_mode = DM_UI_INFORMATIVE,
		.server_initiated = true, .session_id = 0x00AB,
		.server_id = "com.example.dmsc",
	};
	struct dm_notification m;
	const uint8_t nonce[] = { 0x00, 0xFF, 0x10, 0x3A };
	uint8_t out[128];
	int len;

	len = dm_notification_encode(&n, out, sizeof(out));
	assert_true(len > 0);
	assert_int_equal(dm_notification_digest(n.server_id, "s3cret", nonce,
						sizeof(nonce), out + 16,
						(size_t)len - 16, out), 0);
	assert_int_equal(dm_notification_decode(out, (size_t)len, &m), 0);
	assert_int_equal(dm_notification_verify(&m, "s3cret", nonce,
						sizeof(nonce)), DM_NOTI_OK);
	assert_int_equal(dm_notification_verify(&m, "s3cret", nonce, 3),
			 DM_NOTI_BAD_DIGEST);
}

static void
test_session_id_str(void **state)
{
	static const struct {
		uint16_t id;
		const char *s;
	} v[] = {
		{ 0x1234, "1234" }, { 0x0000, "0" }, { 0x000A, "A" },
		{ 0x00AB, "AB" }, { 0x0F00, "F00" }, { 0xFFFF, "FFFF" },
	};
	char buf[DM_NOTI_SESSION_ID_STRLEN];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++)
		assert_string_equal(dm_notification_session_id_str(v[i].id,
								   buf),
				    v[i].s);
}

static void
test_strerror(void **state)
{
	assert_non_null(strstr(dm_notification_strerror(-EBADMSG),
			       "malformed"));
	assert_non_null(strstr(dm_notification_strerror(-EPROTONOSUPPORT),
			       "1.2"));
	assert_non_null(dm_notification_strerror(-EIO));
}

#define NFIXED	14

int
main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(bad_vecs) + NFIXED];
	const struct CMUnitTest fixed[NFIXED] = {
		cmocka_unit_test(test_vector_decode),
		cmocka_unit_test(test_vector_encode),
		cmocka_unit_test(test_vector_digest),
		cmocka_unit_test(test_vector_verify),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_bad_digest),
		cmocka_unit_test(test_vendor_body),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_future_bits),
		cmocka_unit_test(test_longest_server_id),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_sign_and_verify),
		cmocka_unit_test(test_session_id_str),
		cmocka_unit_test(test_strerror),
	};
	size_t i, n = 0;

	for (i = 0; i < NFIXED; i++)
		tests[n++] = fixed[i];
	for (i = 0; i < ARRAY_SIZE(bad_vecs); i++)
		tests[n++] = (struct CMUnitTest){
			.name = bad_vecs[i].name, .test_func = test_bad,
			.initial_state = (void *)(uintptr_t)&bad_vecs[i] };
	return cmocka_run_group_tests_name("dm_notification", tests, NULL,
					   NULL);
}
