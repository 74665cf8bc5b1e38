/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <time.h>

#include "util/ratelimit.h"

uint64_t ratelimit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

bool ratelimit_pass(struct ratelimit *rl, uint64_t now_us, unsigned *held)
{
	if (!rl->started || now_us < rl->begin_us ||
	    now_us - rl->begin_us >= rl->interval_us) {
		rl->started = true;
		rl->begin_us = now_us;
		rl->passed = 0;
	}
	if (rl->passed >= rl->burst) {
		rl->held++;
		return false;
	}
	rl->passed++;
	*held = rl->held;
	rl->held = 0;
	return true;
}
