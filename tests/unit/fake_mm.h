/* SPDX-License-Identifier: MIT */
/* The fake modem of fake_mm.c: what the test chooses, what was sent. */
#ifndef DMSCGW_TESTS_FAKE_MM_H
#define DMSCGW_TESTS_FAKE_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct event_base;

struct fake_mm {
	/* chosen by the test */
	struct event_base *base;	/* where completions run */
	bool usable;			/* a modem is there */
	bool send_fails;		/* mm_sms_send itself fails */
	int err;			/* the completion's error */
	const char *error_name;		/* its D-Bus error name */
	/* seen */
	unsigned sends;
	char number[32];
	char text[256];
	uint8_t data[256];
	size_t len;
};

extern struct fake_mm fake_mm;

#endif
