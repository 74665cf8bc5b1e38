/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "util/buf.h"

static void
test_growable(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_true(buf_ok(&b));
	buf_put(&b, "ab", 2);
	buf_put_u8(&b, 'c');
	buf_put(&b, NULL, 0);
	buf_printf(&b, "%d-%s", 42, "x");
	assert_true(buf_ok(&b));
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.p, "abc42-x", 7);
	for (int i = 0; i < 5000; i++)	/* grows past the first block */
		buf_put_u8(&b, (uint8_t)i);
	assert_true(buf_ok(&b));
	assert_int_equal(b.len, 5007);
	assert_int_equal(b.p[5006], (uint8_t)4999);
	buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	buf_free(NULL);
}

static void
test_max(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4);
	buf_put(&b, "abcd", 4);		/* exactly max */
	assert_true(buf_ok(&b));
	buf_put_u8(&b, 'e');		/* one past */
	assert_false(buf_ok(&b));
	assert_int_equal(b.len, 4);
	buf_put_u8(&b, 'f');		/* sticky */
	assert_int_equal(b.len, 4);
	buf_free(&b);
	assert_true(buf_ok(&b));
	assert_int_equal(b.max, 4);
	buf_put(&b, "abcde", 5);	/* one write over max: nothing written */
	assert_false(buf_ok(&b));
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_fixed(void **state)
{
	uint8_t mem[4] = { 0 };
	struct buf b;
	uint8_t *at;

	(void)state;
	buf_init_fixed(&b, mem, sizeof(mem));
	buf_put(&b, "abc", 3);
	at = buf_extend(&b, 1);		/* the last byte */
	assert_ptr_equal(at, mem + 3);
	*at = 'd';
	assert_true(buf_ok(&b));
	assert_memory_equal(mem, "abcd", 4);
	assert_null(buf_extend(&b, 1));	/* past cap */
	assert_false(buf_ok(&b));
	assert_int_equal(b.len, 4);
	buf_free(&b);			/* not ours to free */
	assert_ptr_equal(b.p, mem);

	buf_init_fixed(&b, NULL, 10);	/* NULL is cap 0 */
	assert_int_equal(b.cap, 0);
	buf_put(&b, NULL, 0);
	assert_true(buf_ok(&b));
	buf_put_u8(&b, 1);
	assert_false(buf_ok(&b));
}

static void
test_fail_and_printf(void **state)
{
	char big[300];
	struct buf b = { 0 };

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(&b, "%s", big);	/* longer than buf_printf's limit */
	assert_false(buf_ok(&b));
	buf_free(&b);
	buf_put_u8(&b, 1);
	buf_fail(&b);
	assert_false(buf_ok(&b));
	assert_null(buf_extend(&b, 0));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growable),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_fail_and_printf),
	};

	return cmocka_run_group_tests_name("util_buf", tests, NULL, NULL);
}
