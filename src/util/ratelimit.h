/* SPDX-License-Identifier: MIT */
/*
 * A log rate limit: at most burst events per interval pass; the others are
 * counted, and the first event of a later interval learns how many were
 * held back, so the log says what it left out.
 */
#ifndef DMSCGW_UTIL_RATELIMIT_H
#define DMSCGW_UTIL_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	uint64_t interval_us;
	unsigned burst;
	uint64_t begin_us;	/* of the current interval */
	bool started;
	unsigned passed;	/* in the current interval */
	unsigned held;		/* held back, not yet reported */
};

#define RATELIMIT_INIT(seconds, n) \
	{ .interval_us = (uint64_t)(seconds) * 1000000u, .burst = (n) }

/*
 * Should this event be logged?  When it should, *held says how many were
 * held back before it (0: none), to mention in the line.
 */
bool ratelimit_pass(struct ratelimit *rl, uint64_t now_us, unsigned *held);
uint64_t ratelimit_now(void);	/* CLOCK_MONOTONIC, µs */

#endif
