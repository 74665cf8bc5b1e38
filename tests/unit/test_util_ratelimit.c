/* SPDX-License-Identifier: MIT */
/* util/ratelimit: a burst per interval passes, the rest is counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/ratelimit.h"

static void test_burst_then_held(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(60, 3);
	unsigned held = 99;
	uint64_t t = 1000;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_true(ratelimit_pass(&rl, t + (uint64_t)i, &held));
		assert_int_equal(held, 0);
	}
	for (int i = 0; i < 5; i++)
		assert_false(ratelimit_pass(&rl, t + 10, &held));
	/* just before the interval ends: still held */
	assert_false(ratelimit_pass(&rl, t + 60000000 - 1, &held));
	/* the next interval: passes and reports the 6 held back */
	assert_true(ratelimit_pass(&rl, t + 60000000, &held));
	assert_int_equal(held, 6);
	assert_true(ratelimit_pass(&rl, t + 60000001, &held));
	assert_int_equal(held, 0);
}

static void test_time_zero(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(1, 1);
	unsigned held;

	(void)state;
	assert_true(ratelimit_pass(&rl, 0, &held));
	assert_false(ratelimit_pass(&rl, 0, &held));
	assert_true(ratelimit_pass(&rl, 1000001, &held));
	assert_int_equal(held, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_held),
		cmocka_unit_test(test_time_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
