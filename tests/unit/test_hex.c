/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "util/hex.h"

static void
test_encode(void **state)
{
	static const uint8_t in[] = { 0x00, 0x01, 0xAB, 0xCD, 0xEF, 0xFF };
	char out[2 * sizeof(in) + 1];

	(void)state;
	assert_ptr_equal(hex_encode(out, in, sizeof(in)), out);
	assert_string_equal(out, "0001ABCDEFFF");
	assert_string_equal(hex_encode(out, in, 0), "");
	assert_string_equal(hex_encode(out, NULL, 0), "");
	assert_string_equal(hex_encode_lower(out, in, sizeof(in)), "0001abcdefff");
	assert_string_equal(hex_encode_lower(out, in, 0), "");
}

static void
test_decode(void **state)
{
	uint8_t out[8];

	(void)state;
	assert_int_equal(hex_decode(out, sizeof(out), "0001abCDeFff"), 6);
	assert_memory_equal(out, "\x00\x01\xAB\xCD\xEF\xFF", 6);
	assert_int_equal(hex_decode(out, sizeof(out), ""), 0);
	assert_int_equal(hex_decode(out, 0, ""), 0);
	assert_int_equal(hex_decode(NULL, 0, ""), 0);
}

/* Separators as pasted from specs and traces: only between byte pairs. */
static void
test_separators(void **state)
{
	uint8_t out[8];

	(void)state;
	assert_int_equal(hex_decode(out, sizeof(out), "D0 13\t81:03  01"), 5);
	assert_memory_equal(out, "\xD0\x13\x81\x03\x01", 5);
	assert_int_equal(hex_decode(out, sizeof(out), "d0:13:81"), 3);
	assert_memory_equal(out, "\xD0\x13\x81", 3);
	assert_int_equal(hex_decode(out, sizeof(out), "  90 00 \t"), 2);
	assert_memory_equal(out, "\x90\x00", 2);
	assert_int_equal(hex_decode(out, sizeof(out), " :\t "), 0);
	/* a separator inside a pair */
	assert_int_equal(hex_decode(out, sizeof(out), "D 0"), -EINVAL);
	assert_int_equal(hex_decode(out, sizeof(out), "D0 1 3"), -EINVAL);
	assert_int_equal(hex_decode(out, sizeof(out), "D:0"), -EINVAL);
	assert_int_equal(hex_decode(out, sizeof(out), "D\t0"), -EINVAL);
	/* other separators are bad characters */
	assert_int_equal(hex_decode(out, sizeof(out), "D0-13"), -EINVAL);
	assert_int_equal(hex_decode(out, sizeof(out), "D0\n13"), -EINVAL);
}

static void
test_odd(void **state)
{
	uint8_t out[8];

	(void)state;
	assert_int_equal(hex_decode(out, sizeof(out), "A"), -EINVAL);
	assert_int_equal(hex_decode(out, sizeof(out), "ABC"), -EINVAL);
	assert_int_equal(hex_decode(out, sizeof(out), "AB C"), -EINVAL);
	assert_int_equal(hex_decode(out, sizeof(out), "AB C "), -EINVAL);
}

static void
test_bad_chars(void **state)
{
	uint8_t out[8];

	(void)state;
	assert_int_equal(hex_decode(out, sizeof(out), "GG"), -EINVAL);
	assert_int_equal(hex_decode(out, sizeof(out), "0G"), -EINVAL);
	assert_int_equal(hex_decode(out, sizeof(out), "0x12"), -EINVAL);
	assert_int_equal(hex_decode(out, sizeof(out), "12\xC3\xA9"), -EINVAL);
	assert_int_equal(hex_decode(out, sizeof(out), "12 zz"), -EINVAL);
	assert_int_equal(hex_decode(out, sizeof(out), NULL), -EINVAL);
}

static void
test_enospc(void **state)
{
	uint8_t out[4];

	(void)state;
	memset(out, 0xEE, sizeof(out));
	assert_int_equal(hex_decode(out, 2, "010203"), -ENOSPC);
	/* nothing written on error */
	assert_memory_equal(out, "\xEE\xEE\xEE\xEE", 4);
	assert_int_equal(hex_decode(out, 0, "01"), -ENOSPC);
	assert_int_equal(hex_decode(out, 3, "010203"), 3);
	assert_memory_equal(out, "\x01\x02\x03\xEE", 4);
	/* a malformed string is malformed whatever the room */
	assert_int_equal(hex_decode(out, 1, "0102ZZ"), -EINVAL);
	assert_int_equal(hex_decode(out, 1, "01020"), -EINVAL);
}

static void
test_roundtrip(void **state)
{
	uint8_t in[256], back[256];
	char s[2 * sizeof(in) + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	hex_encode(s, in, sizeof(in));
	assert_int_equal(strlen(s), 2 * sizeof(in));
	assert_int_equal(hex_decode(back, sizeof(back), s), (int)sizeof(in));
	assert_memory_equal(back, in, sizeof(in));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_separators),
		cmocka_unit_test(test_odd),
		cmocka_unit_test(test_bad_chars),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests_name("hex", tests, NULL, NULL);
}
