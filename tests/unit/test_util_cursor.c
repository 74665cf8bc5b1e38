/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "util/cursor.h"

static void
test_bytes(void **state)
{
	static const uint8_t in[] = { 1, 2, 3, 4, 5 };
	struct cursor c, sub;
	const uint8_t *p;
	uint8_t v;

	(void)state;
	cursor_init(&c, in, sizeof(in));
	assert_int_equal(cursor_left(&c), 5);
	assert_true(cursor_peek_u8(&c, &v));
	assert_int_equal(v, 1);
	assert_true(cursor_get_u8(&c, &v));
	assert_true(cursor_get_bytes(&c, 2, &p));
	assert_ptr_equal(p, in + 1);
	assert_true(cursor_sub(&c, 2, &sub));
	assert_int_equal(cursor_left(&sub), 2);
	assert_true(cursor_skip(&sub, 2));
	assert_true(cursor_end(&sub));
	assert_true(cursor_end(&c));
	assert_false(cursor_get_u8(&c, &v));	/* nothing left */
	assert_false(cursor_end(&c));		/* and the failure sticks */
}

static void
test_boundaries(void **state)
{
	static const uint8_t in[] = { 'a', 'b', 'c' };
	struct cursor c;
	const uint8_t *p;

	(void)state;
	cursor_init(&c, in, sizeof(in));
	assert_false(cursor_get_bytes(&c, 4, &p));	/* one past the end */
	assert_ptr_equal(c.pos, in);			/* did not move */
	assert_int_equal(cursor_left(&c), 0);		/* failed */
	assert_false(cursor_skip(&c, 0));		/* sticky */

	cursor_init(&c, in, sizeof(in));
	assert_true(cursor_get_bytes(&c, 3, &p));	/* exactly to the end */
	assert_true(cursor_skip(&c, 0));
	assert_true(cursor_end(&c));

	cursor_init(&c, in, sizeof(in));
	assert_false(cursor_skip(&c, SIZE_MAX));	/* no wrap-around */

	cursor_init(&c, in, sizeof(in));
	assert_true(cursor_skip(&c, 1));
	assert_false(cursor_end(&c));			/* bytes left over */

	cursor_init(&c, NULL, 0);
	assert_int_equal(cursor_left(&c), 0);
	assert_true(cursor_end(&c));

	cursor_init(&c, in, sizeof(in));
	assert_false(cursor_expect(&c, "ax", 2));
	cursor_init(&c, in, sizeof(in));
	assert_false(cursor_expect(&c, "abcd", 4));
	cursor_init(&c, in, sizeof(in));
	assert_true(cursor_expect(&c, "ab", 2));
	assert_int_equal(cursor_left(&c), 1);
	assert_true(cursor_fail(&c) == false);
	assert_int_equal(cursor_left(&c), 0);
}

static void
test_cstr(void **state)
{
	static const uint8_t in[] = { 'h', 'i', 0, 0, 'x' };
	struct cursor c;
	const char *s;
	size_t len;

	(void)state;
	cursor_init(&c, in, sizeof(in));
	assert_true(cursor_get_cstr(&c, &s, &len));
	assert_string_equal(s, "hi");
	assert_int_equal(len, 2);
	assert_true(cursor_get_cstr(&c, &s, &len));	/* empty string */
	assert_int_equal(len, 0);
	assert_false(cursor_get_cstr(&c, &s, &len));	/* unterminated */
	assert_int_equal(cursor_left(&c), 0);
}

/* WAP-230 8.1.2 / WAP-192 5.1 */
static void
test_uintvar(void **state)
{
	static const struct {
		uint8_t in[6];
		size_t len;
		bool ok;
		uint32_t v;
	} vec[] = {
		{ { 0x00 }, 1, true, 0 },
		{ { 0x7F }, 1, true, 0x7F },
		{ { 0x81, 0x00 }, 2, true, 0x80 },
		{ { 0x81, 0x80, 0x00 }, 3, true, 0x4000 },
		{ { 0x8F, 0xFF, 0xFF, 0xFF, 0x7F }, 5, true, UINT32_MAX },
		{ { 0x90, 0x80, 0x80, 0x80, 0x00 }, 5, false, 0 },	/* 33 bits */
		{ { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, 6, false, 0 },	/* 6 octets */
		{ { 0x81 }, 1, false, 0 },				/* truncated */
		{ { 0 }, 0, false, 0 },
	};
	struct cursor c;
	uint32_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		cursor_init(&c, vec[i].in, vec[i].len);
		assert_int_equal(cursor_get_uintvar(&c, &v), vec[i].ok);
		if (vec[i].ok) {
			assert_int_equal(v, vec[i].v);
			assert_true(cursor_end(&c));
		} else {
			assert_ptr_equal(c.pos, vec[i].in);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_cstr),
		cmocka_unit_test(test_uintvar),
	};

	return cmocka_run_group_tests_name("util_cursor", tests, NULL, NULL);
}
