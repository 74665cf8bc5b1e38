/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what the card sends the toolkit: proactive commands
 * (cat_cmd_decode, then the TERMINAL RESPONSE the engine would build), call
 * control answers and addresses.  Besides the sanitizers, invariants are
 * checked with abort(): the decoder answers only with the results TS 102
 * 223 6.10 allows, a decoded command is within the ranges the header
 * promises, and what decodes re-encodes to the same thing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cat/envelope.h"
#include "cat/proactive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static void
check_cmd(const struct cat_cmd *cmd)
{
	switch (cmd->det.type) {
	case CAT_POLL_INTERVAL:
		CHECK(cmd->u.poll.unit <= 2 && cmd->u.poll.interval != 0);
		CHECK(cat_duration_ms(&cmd->u.poll) != 0);
		break;
	case CAT_SET_UP_EVENT_LIST:
		CHECK(cmd->u.events.n <= CAT_MAX_EVENTS);
		break;
	case CAT_TIMER_MANAGEMENT:
		CHECK(cmd->det.qualifier <= 2);
		CHECK(cmd->u.timer.id >= 1 &&
		      cmd->u.timer.id <= CAT_MAX_TIMERS);
		CHECK(cmd->u.timer.seconds <= CAT_TIMER_VALUE_MAX);
		CHECK(cmd->det.qualifier == 0 || cmd->u.timer.seconds == 0);
		break;
	default:
		break;
	}
	CHECK(strcmp(cat_cmd_name(cmd->det.type), "unknown command") != 0);
}

static void
fuzz_command(const uint8_t *data, size_t size)
{
	uint8_t out[256], addl[2] = { 0x00, 0x00 };
	struct cat_cmd cmd;
	size_t extra_len;
	int r, n;

	r = cat_cmd_decode(data, size, &cmd);
	CHECK(r == -EBADMSG || r == 0 || r == CAT_RES_BEYOND_CAPABILITIES ||
	      r == CAT_RES_TYPE_NOT_UNDERSTOOD ||
	      r == CAT_RES_DATA_NOT_UNDERSTOOD || r == CAT_RES_VALUES_MISSING);
	if (r < 0)
		return;
	if (r == 0)
		check_cmd(&cmd);
	CHECK(cat_result_name((uint8_t)r) != NULL);

	/* The response the engine sends, with the input as returned data. */
	extra_len = size < 200 ? size : 200;
	n = cat_tr_build(out, sizeof(out), &cmd.det, (uint8_t)r,
			 r == 0 ? NULL : addl, r == 0 ? 0 : sizeof(addl),
			 data, extra_len);
	CHECK(n == (int)(12 + (r == 0 ? 0 : 2) + extra_len));
	CHECK(out[0] == 0x81 && out[1] == 3 && out[2] == cmd.det.number &&
	      out[3] == cmd.det.type && out[4] == cmd.det.qualifier);
	CHECK(extra_len == 0 ||
	      memcmp(out + n - extra_len, data, extra_len) == 0);
	/* too small: refused, not truncated */
	CHECK(cat_tr_build(out, (size_t)n - 1, &cmd.det, (uint8_t)r,
			   r == 0 ? NULL : addl, r == 0 ? 0 : sizeof(addl),
			   data, extra_len) == -ENOSPC);
}

/* A decoded number encodes again and decodes to the same string. */
static void
check_number_roundtrip(const char *s)
{
	uint8_t bcd[CAT_ADDRESS_MAX];
	char again[64];
	int n;

	n = cat_address_encode(bcd, sizeof(bcd), s);
	if (strlen(s) - (s[0] == '+') > CAT_ADDRESS_MAX_DIGITS) {
		CHECK(n == -EINVAL);
		return;
	}
	CHECK(n > 1);
	CHECK(cat_address_decode(bcd, (size_t)n, again, sizeof(again)) ==
	      (int)strlen(s));
	CHECK(strcmp(again, s) == 0);
}

static void
fuzz_cc_answer(const uint8_t *data, size_t size)
{
	struct cat_cc_answer a;
	int r;

	r = cat_cc_answer_decode(data, size, &a);
	CHECK(r == 0 || r == -EBADMSG);
	if (r < 0)
		return;
	CHECK(a.verdict <= CAT_CC_ALLOWED_MODIFIED);
	CHECK(memchr(a.number, '\0', sizeof(a.number)) != NULL);
	if (a.number[0] != '\0')
		check_number_roundtrip(a.number);
}

static void
fuzz_address(const uint8_t *data, size_t size)
{
	char s[2 * 255 + 2];
	size_t cap;
	int r;

	/* Every capacity near the result: exact fits and refusals. */
	r = cat_address_decode(data, size, s, sizeof(s));
	if (size > 255) {
		CHECK(r == -EBADMSG || r == -ENOSPC || r >= 0);
		return;
	}
	CHECK(r == -EBADMSG || r > 0);
	if (r < 0)
		return;
	CHECK(strlen(s) == (size_t)r);
	for (cap = 0; cap <= (size_t)r; cap++)
		CHECK(cat_address_decode(data, size, s, cap) == -ENOSPC);
	CHECK(cat_address_decode(data, size, s, (size_t)r + 1) == r);
	check_number_roundtrip(s);
}

static void
fuzz_values(const uint8_t *data, size_t size)
{
	struct cat_duration d;
	uint32_t s, ms;
	uint8_t v[3];

	if (size >= 3 && cat_timer_value_decode(data, &s) == 0) {
		CHECK(s <= CAT_TIMER_VALUE_MAX);
		cat_timer_value_encode(v, s);
		CHECK(memcmp(v, data, 3) == 0);	/* BCD is canonical */
	}
	if (size >= 4) {
		ms = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
		     (uint32_t)data[2] << 8 | data[3];
		cat_duration_from_ms(&d, ms);
		CHECK(d.unit <= 2 && d.interval != 0);
		CHECK(ms > 15300000 || cat_duration_ms(&d) >= ms);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_command(data, size);
	fuzz_cc_answer(data, size);
	fuzz_address(data, size);
	fuzz_values(data, size);
	return 0;
}
