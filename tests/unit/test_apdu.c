/* SPDX-License-Identifier: MIT */
/*
 * APDU building, status words and the T=0 exchange rules (TS 102 221 7.3),
 * against a scripted card: a table of expected command -> response frames.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "card/apdu.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define UNPAREN(...)	__VA_ARGS__
#define BYTES(l)	(const uint8_t[]){ UNPAREN l }, \
			sizeof((const uint8_t[]){ UNPAREN l })

/* --- apdu_build ---------------------------------------------------------- */

static void
test_build_case1(void **state)
{
	uint8_t out[APDU_MAX_CMD];

	(void)state;
	/* STATUS, P2 0C: no data returned */
	assert_int_equal(apdu_build(out, sizeof(out), APDU_CLA_UICC, INS_STATUS,
				    0x00, 0x0C, NULL, 0, -1), 4);
	assert_memory_equal(out, "\x80\xF2\x00\x0C", 4);
}

static void
test_build_case2(void **state)
{
	uint8_t out[APDU_MAX_CMD];

	(void)state;
	/* FETCH with Le = SW2 of 91 20 */
	assert_int_equal(apdu_build(out, sizeof(out), APDU_CLA_UICC, INS_FETCH,
				    0, 0, NULL, 0, 0x20), 5);
	assert_memory_equal(out, "\x80\x12\x00\x00\x20", 5);
	/* Le 256 is coded 00 */
	assert_int_equal(apdu_build(out, sizeof(out), APDU_CLA_UICC, INS_STATUS,
				    0, 0, NULL, 0, 256), 5);
	assert_memory_equal(out, "\x80\xF2\x00\x00\x00", 5);
	assert_int_equal(apdu_build(out, sizeof(out), 0x00, INS_GET_RESPONSE,
				    0, 0, NULL, 0, 0), 5);
	assert_memory_equal(out, "\x00\xC0\x00\x00\x00", 5);
}

static void
test_build_case3(void **state)
{
	static const uint8_t tr[] = {
		0x81, 0x03, 0x01, 0x43, 0x01, 0x82, 0x02, 0x82, 0x81,
		0x83, 0x01, 0x00, 0xB7, 0x01, 0xFF,
	};
	uint8_t out[APDU_MAX_CMD];

	(void)state;
	/* TERMINAL RESPONSE to SEND DATA 1.1.1 */
	assert_int_equal(apdu_build(out, sizeof(out), APDU_CLA_UICC,
				    INS_TERMINAL_RESPONSE, 0, 0, tr, sizeof(tr),
				    -1), 5 + (int)sizeof(tr));
	assert_memory_equal(out, "\x80\x14\x00\x00\x0F", 5);
	assert_memory_equal(out + 5, tr, sizeof(tr));
}

static void
test_build_case4(void **state)
{
	static const uint8_t aid[] = { 0xA0, 0x00, 0x00, 0x00, 0x87 };
	uint8_t data[255], out[APDU_MAX_CMD];

	(void)state;
	assert_int_equal(apdu_build(out, sizeof(out), 0x00, INS_SELECT, 0x04,
				    0x04, aid, sizeof(aid), 0), 11);
	assert_memory_equal(out, "\x00\xA4\x04\x04\x05\xA0\x00\x00\x00\x87\x00",
			    11);

	/* largest short APDU fills APDU_MAX_CMD exactly */
	memset(data, 0x33, sizeof(data));
	assert_int_equal(apdu_build(out, sizeof(out), APDU_CLA_UICC,
				    INS_ENVELOPE, 0, 0, data, 255, 256),
			 APDU_MAX_CMD);
	assert_int_equal(out[4], 0xFF);
	assert_memory_equal(out + 5, data, 255);
	assert_int_equal(out[260], 0x00);
}

static void
test_build_errors(void **state)
{
	uint8_t data[256] = { 0 }, out[APDU_MAX_CMD];

	(void)state;
	assert_int_equal(apdu_build(out, sizeof(out), 0x80, 0xC2, 0, 0, data,
				    256, -1), -EINVAL);
	assert_int_equal(apdu_build(out, sizeof(out), 0x80, 0x12, 0, 0, NULL,
				    0, 257), -EINVAL);
	assert_int_equal(apdu_build(out, sizeof(out), 0x80, 0x14, 0, 0, NULL,
				    3, -1), -EINVAL);
	assert_int_equal(apdu_build(NULL, 0, 0x80, 0xF2, 0, 0, NULL, 0, -1),
			 -EINVAL);
	/* does not fit: nothing is claimed written */
	assert_int_equal(apdu_build(out, 4, 0x80, 0x12, 0, 0, NULL, 0, 0x10),
			 -ENOSPC);
	assert_int_equal(apdu_build(out, 3, 0x80, 0xF2, 0, 0x0C, NULL, 0, -1),
			 -ENOSPC);
	assert_int_equal(apdu_build(out, 5 + 10, 0x80, 0xC2, 0, 0, data, 10, 0),
			 -ENOSPC);
}

/* --- status words -------------------------------------------------------- */

static void
test_sw(void **state)
{
	static const uint8_t ok[] = { 0x90, 0x00 };
	static const uint8_t pro[] = { 0x01, 0x02, 0x91, 0x20 };

	(void)state;
	assert_int_equal(apdu_sw(ok, sizeof(ok)), 0x9000);
	assert_int_equal(apdu_sw(pro, sizeof(pro)), 0x9120);
	assert_true(apdu_sw_proactive(0x9120));
	assert_false(apdu_sw_proactive(0x9000));
	assert_int_equal(apdu_sw(ok, 1), -EBADMSG);
	assert_int_equal(apdu_sw(ok, 0), -EBADMSG);
	assert_int_equal(apdu_sw(NULL, 0), -EBADMSG);
}

static void
test_sw_str(void **state)
{
	static const uint16_t known[] = {
		0x9000, 0x9120, 0x9300, 0x6110, 0x6C08, 0x6283, 0x63C1, 0x6700,
		0x6982, 0x6985, 0x6A82, 0x6A86, 0x6B00, 0x6D00, 0x6E00, 0x6F00,
	};
	size_t i;

	(void)state;
	assert_string_equal(apdu_sw_str(0x9000), "normal ending");
	assert_string_equal(apdu_sw_str(0x9300), "toolkit busy");
	for (i = 0; i < ARRAY_SIZE(known); i++)
		assert_string_not_equal(apdu_sw_str(known[i]),
					"unknown status");
	assert_string_equal(apdu_sw_str(0x1234), "unknown status");
	assert_string_equal(apdu_sw_str(0x6F01), "unknown status");
	assert_string_equal(apdu_sw_str(0x9001), "unknown status");
}

/* --- apdu_exchange against a scripted card ------------------------------- */

struct step {
	const uint8_t *cmd;
	size_t clen;
	const uint8_t *resp;
	size_t rlen;
	int err;		/* transmit error to return instead */
};

#define STEP(c, r)	{ BYTES(c), BYTES(r), 0 }
#define STEP_ERR(c, e)	{ BYTES(c), NULL, 0, (e) }

struct script {
	const struct step *steps;
	size_t n;
	size_t pos;
};

/* Asserts every command byte for byte, then plays the card's answer. */
static int
fake_tx(void *ctx, const uint8_t *cmd, size_t clen, uint8_t *resp,
	size_t *rlen)
{
	struct script *s = ctx;
	const struct step *st;

	if (s->pos >= s->n)
		fail_msg("unexpected command #%zu", s->pos + 1);
	st = &s->steps[s->pos++];
	assert_int_equal(clen, st->clen);
	assert_memory_equal(cmd, st->cmd, clen);
	if (st->err != 0)
		return st->err;
	assert_true(*rlen >= st->rlen);
	if (st->rlen > 0)
		memcpy(resp, st->resp, st->rlen);
	*rlen = st->rlen;
	return 0;
}

static struct apdu_result res;

static int
run(const struct step *steps, size_t n, const uint8_t *cmd, size_t clen,
    int want)
{
	struct script s = { steps, n, 0 };
	int r;

	memset(&res, 0xEE, sizeof(res));
	r = apdu_exchange(fake_tx, &s, cmd, clen, &res);
	assert_int_equal(r, want);
	/* the whole script was played, no more, no less */
	assert_int_equal(s.pos, n);
	assert_int_equal(res.exchanges, n);
	return r;
}

#define RUN(steps, c, want) \
	run(steps, ARRAY_SIZE(steps), BYTES(c), want)

static void
test_exchange_plain(void **state)
{
	const struct step steps[] = {
		STEP((0x80, 0xF2, 0x00, 0x0C), (0x90, 0x00)),
	};

	(void)state;
	RUN(steps, (0x80, 0xF2, 0x00, 0x0C), 0);
	assert_int_equal(res.sw, SW_OK);
	assert_int_equal(res.len, 0);
}

static void
test_exchange_61(void **state)
{
	const struct step steps[] = {
		STEP((0x00, 0xA4, 0x04, 0x04, 0x02, 0x3F, 0x00, 0x00),
		     (0x61, 0x10)),
		STEP((0x00, 0xC0, 0x00, 0x00, 0x10),
		     (0x62, 0x0E, 0x82, 0x02, 0x78, 0x21, 0x83, 0x02, 0x3F,
		      0x00, 0x8A, 0x01, 0x05, 0x8B, 0x01, 0x01, 0x90, 0x00)),
	};

	(void)state;
	RUN(steps, (0x00, 0xA4, 0x04, 0x04, 0x02, 0x3F, 0x00, 0x00), 0);
	assert_int_equal(res.sw, SW_OK);
	assert_int_equal(res.len, 16);
	assert_memory_equal(res.data, steps[1].resp, 16);
}

/* Two GET RESPONSEs; data sent along with a 61xx is kept too. */
static void
test_exchange_61_chain(void **state)
{
	const struct step steps[] = {
		STEP((0x80, 0xC2, 0x00, 0x00, 0x02, 0xD4, 0x00, 0x00),
		     (0xA1, 0xA2, 0x61, 0x03)),
		STEP((0x00, 0xC0, 0x00, 0x00, 0x03),
		     (0xB1, 0xB2, 0xB3, 0x61, 0x02)),
		STEP((0x00, 0xC0, 0x00, 0x00, 0x02),
		     (0xC1, 0xC2, 0x90, 0x00)),
	};
	static const uint8_t want[] = { 0xA1, 0xA2, 0xB1, 0xB2, 0xB3, 0xC1,
					0xC2 };

	(void)state;
	RUN(steps, (0x80, 0xC2, 0x00, 0x00, 0x02, 0xD4, 0x00, 0x00), 0);
	assert_int_equal(res.sw, SW_OK);
	assert_int_equal(res.len, sizeof(want));
	assert_memory_equal(res.data, want, sizeof(want));
}

/* 61 00 asks for 256 bytes: GET RESPONSE with Le 00. */
static void
test_exchange_61_00(void **state)
{
	static uint8_t big[258];
	const struct step steps[] = {
		STEP((0x80, 0xF2, 0x00, 0x00, 0x00), (0x61, 0x00)),
		{ BYTES((0x00, 0xC0, 0x00, 0x00, 0x00)), big, sizeof(big), 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < 256; i++)
		big[i] = (uint8_t)i;
	big[256] = 0x90;
	big[257] = 0x00;
	RUN(steps, (0x80, 0xF2, 0x00, 0x00, 0x00), 0);
	assert_int_equal(res.len, 256);
	assert_memory_equal(res.data, big, 256);
}

static void
test_exchange_6c(void **state)
{
	const struct step steps[] = {
		STEP((0x80, 0xF2, 0x00, 0x00, 0x00), (0x6C, 0x08)),
		STEP((0x80, 0xF2, 0x00, 0x00, 0x08),
		     (1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00)),
	};

	(void)state;
	RUN(steps, (0x80, 0xF2, 0x00, 0x00, 0x00), 0);
	assert_int_equal(res.sw, SW_OK);
	assert_int_equal(res.len, 8);
	assert_memory_equal(res.data, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
}

/* A case 1 / case 3 command gets the Le appended. */
static void
test_exchange_6c_append(void **state)
{
	const struct step s1[] = {
		STEP((0x80, 0xF2, 0x00, 0x0C), (0x6C, 0x02)),
		STEP((0x80, 0xF2, 0x00, 0x0C, 0x02), (0xAA, 0xBB, 0x90, 0x00)),
	};
	const struct step s3[] = {
		STEP((0x80, 0xC2, 0x00, 0x00, 0x01, 0xD6), (0x6C, 0x01)),
		STEP((0x80, 0xC2, 0x00, 0x00, 0x01, 0xD6, 0x01),
		     (0xAA, 0x90, 0x00)),
	};

	(void)state;
	RUN(s1, (0x80, 0xF2, 0x00, 0x0C), 0);
	assert_int_equal(res.len, 2);
	RUN(s3, (0x80, 0xC2, 0x00, 0x00, 0x01, 0xD6), 0);
	assert_int_equal(res.len, 1);
}

static void
test_exchange_6c_then_61(void **state)
{
	const struct step steps[] = {
		STEP((0x80, 0x12, 0x00, 0x00, 0x10), (0x6C, 0x08)),
		STEP((0x80, 0x12, 0x00, 0x00, 0x08), (0x61, 0x04)),
		STEP((0x00, 0xC0, 0x00, 0x00, 0x04),
		     (0xD0, 0x02, 0x01, 0x00, 0x90, 0x00)),
	};

	(void)state;
	RUN(steps, (0x80, 0x12, 0x00, 0x00, 0x10), 0);
	assert_int_equal(res.sw, SW_OK);
	assert_int_equal(res.len, 4);
	assert_memory_equal(res.data, "\xD0\x02\x01\x00", 4);
}

/* A GET RESPONSE answered with 6Cxx is itself resent with that Le. */
static void
test_exchange_61_then_6c(void **state)
{
	const struct step steps[] = {
		STEP((0x80, 0xF2, 0x00, 0x00, 0x00), (0x61, 0x10)),
		STEP((0x00, 0xC0, 0x00, 0x00, 0x10), (0x6C, 0x02)),
		STEP((0x00, 0xC0, 0x00, 0x00, 0x02), (0xAB, 0xCD, 0x90, 0x00)),
	};

	(void)state;
	RUN(steps, (0x80, 0xF2, 0x00, 0x00, 0x00), 0);
	assert_int_equal(res.len, 2);
}

/* 6C with a new value each time is followed; the same value twice is not. */
static void
test_exchange_6c_loop(void **state)
{
	const struct step changing[] = {
		STEP((0x80, 0xF2, 0x00, 0x00, 0x00), (0x6C, 0x08)),
		STEP((0x80, 0xF2, 0x00, 0x00, 0x08), (0x6C, 0x04)),
		STEP((0x80, 0xF2, 0x00, 0x00, 0x04), (1, 2, 3, 4, 0x90, 0x00)),
	};
	const struct step same[] = {
		STEP((0x80, 0xF2, 0x00, 0x00, 0x00), (0x6C, 0x08)),
		STEP((0x80, 0xF2, 0x00, 0x00, 0x08), (0x6C, 0x08)),
	};
	const struct step already[] = {
		STEP((0x80, 0xF2, 0x00, 0x00, 0x08), (0x6C, 0x08)),
	};

	(void)state;
	RUN(changing, (0x80, 0xF2, 0x00, 0x00, 0x00), 0);
	assert_int_equal(res.len, 4);
	RUN(same, (0x80, 0xF2, 0x00, 0x00, 0x00), -EPROTO);
	RUN(already, (0x80, 0xF2, 0x00, 0x00, 0x08), -EPROTO);
}

static void
test_exchange_91(void **state)
{
	const struct step steps[] = {
		STEP((0x80, 0x14, 0x00, 0x00, 0x03, 0x81, 0x01, 0x00),
		     (0x91, 0x20)),
	};

	(void)state;
	RUN(steps, (0x80, 0x14, 0x00, 0x00, 0x03, 0x81, 0x01, 0x00), 0);
	assert_int_equal(res.sw, 0x9120);
	assert_true(apdu_sw_proactive(res.sw));
	assert_int_equal(res.len, 0);
}

/* 91xx at the end of a 61xx chain is the final status. */
static void
test_exchange_61_then_91(void **state)
{
	const struct step steps[] = {
		STEP((0x80, 0xC2, 0x00, 0x00, 0x01, 0xD4, 0x00), (0x61, 0x01)),
		STEP((0x00, 0xC0, 0x00, 0x00, 0x01), (0x00, 0x91, 0x0B)),
	};

	(void)state;
	RUN(steps, (0x80, 0xC2, 0x00, 0x00, 0x01, 0xD4, 0x00), 0);
	assert_int_equal(res.sw, 0x910B);
	assert_int_equal(res.len, 1);
}

static void
test_exchange_93(void **state)
{
	const struct step steps[] = {
		STEP((0x80, 0xC2, 0x00, 0x00, 0x02, 0xD6, 0x00), (0x93, 0x00)),
	};

	(void)state;
	RUN(steps, (0x80, 0xC2, 0x00, 0x00, 0x02, 0xD6, 0x00), 0);
	assert_int_equal(res.sw, SW_TK_BUSY);
}

static void
test_exchange_error_sw(void **state)
{
	const struct step steps[] = {
		STEP((0x80, 0x10, 0x00, 0x00, 0x01, 0xFF), (0x6D, 0x00)),
	};

	(void)state;
	RUN(steps, (0x80, 0x10, 0x00, 0x00, 0x01, 0xFF), 0);
	assert_int_equal(res.sw, 0x6D00);
}

/* A card that answers 61xx forever is cut off after 16 transmits. */
static void
test_exchange_runaway(void **state)
{
	static const uint8_t gr[] = { 0x00, 0xC0, 0x00, 0x00, 0x10 };
	static const uint8_t again[] = { 0x61, 0x10 };
	struct step steps[16];
	size_t i;

	(void)state;
	steps[0] = (struct step)STEP((0x80, 0xF2, 0x00, 0x00, 0x00),
				     (0xEE, 0x61, 0x10));
	for (i = 1; i < ARRAY_SIZE(steps); i++)
		steps[i] = (struct step){ gr, sizeof(gr), again, sizeof(again),
					  0 };
	RUN(steps, (0x80, 0xF2, 0x00, 0x00, 0x00), -EPROTO);
}

/* 16 transmits of 256 bytes each is exactly APDU_MAX_DATA. */
static void
test_exchange_max_data(void **state)
{
	static const uint8_t gr[] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };
	static uint8_t more[258], last[258];
	struct step steps[16];
	size_t i;

	(void)state;
	memset(more, 0x44, 256);
	more[256] = 0x61;
	more[257] = 0x00;
	memset(last, 0x55, 256);
	last[256] = 0x90;
	last[257] = 0x00;
	steps[0] = (struct step){ BYTES((0x80, 0xF2, 0x00, 0x00, 0x00)),
				  more, sizeof(more), 0 };
	for (i = 1; i < 15; i++)
		steps[i] = (struct step){ gr, sizeof(gr), more, sizeof(more),
					  0 };
	steps[15] = (struct step){ gr, sizeof(gr), last, sizeof(last), 0 };
	RUN(steps, (0x80, 0xF2, 0x00, 0x00, 0x00), 0);
	assert_int_equal(res.len, APDU_MAX_DATA);
	assert_int_equal(res.data[0], 0x44);
	assert_int_equal(res.data[APDU_MAX_DATA - 1], 0x55);
}

static void
test_exchange_tx_error(void **state)
{
	const struct step first[] = {
		STEP_ERR((0x80, 0xF2, 0x00, 0x0C), -EIO),
	};
	const struct step later[] = {
		STEP((0x80, 0xF2, 0x00, 0x00, 0x00), (0x61, 0x10)),
		STEP_ERR((0x00, 0xC0, 0x00, 0x00, 0x10), -ENODEV),
	};

	(void)state;
	RUN(first, (0x80, 0xF2, 0x00, 0x0C), -EIO);
	RUN(later, (0x80, 0xF2, 0x00, 0x00, 0x00), -ENODEV);
}

static void
test_exchange_short_response(void **state)
{
	const struct step one[] = {
		STEP((0x80, 0xF2, 0x00, 0x0C), (0x90)),
	};
	const struct step none[] = {
		{ BYTES((0x80, 0xF2, 0x00, 0x0C)), NULL, 0, 0 },
	};

	(void)state;
	RUN(one, (0x80, 0xF2, 0x00, 0x0C), -EPROTO);
	RUN(none, (0x80, 0xF2, 0x00, 0x0C), -EPROTO);
}

/* A transmit function claiming more than the buffer it was given. */
static int
liar_tx(void *ctx, const uint8_t *cmd, size_t clen, uint8_t *resp,
	size_t *rlen)
{
	(void)ctx;
	(void)cmd;
	(void)clen;
	resp[0] = 0x90;
	resp[1] = 0x00;
	*rlen += 1;
	return 0;
}

static void
test_exchange_bad_rlen(void **state)
{
	static const uint8_t cmd[] = { 0x80, 0xF2, 0x00, 0x0C };

	(void)state;
	assert_int_equal(apdu_exchange(liar_tx, NULL, cmd, sizeof(cmd), &res),
			 -EPROTO);
	assert_int_equal(res.exchanges, 1);
}

/* GET RESPONSE stays on the command's logical channel (TS 102 221 12.1.1). */
static void
test_exchange_channel(void **state)
{
	const struct step ch1[] = {
		STEP((0x81, 0xF2, 0x00, 0x00, 0x00), (0x61, 0x01)),
		STEP((0x01, 0xC0, 0x00, 0x00, 0x01), (0x00, 0x90, 0x00)),
	};
	const struct step ch9[] = {
		STEP((0xC5, 0xF2, 0x00, 0x00, 0x00), (0x61, 0x01)),
		STEP((0x45, 0xC0, 0x00, 0x00, 0x01), (0x00, 0x90, 0x00)),
	};

	(void)state;
	RUN(ch1, (0x81, 0xF2, 0x00, 0x00, 0x00), 0);
	RUN(ch9, (0xC5, 0xF2, 0x00, 0x00, 0x00), 0);
}

/* Commands that match no short APDU case are refused before any transmit. */
static void
test_exchange_bad_cmd(void **state)
{
	const struct step none[1] = { { NULL, 0, NULL, 0, 0 } };

	(void)state;
	run(none, 0, BYTES((0x80, 0xF2, 0x00)), -EINVAL);
	/* Lc 02 but 3 data bytes + no Le: neither case 3 nor case 4 */
	run(none, 0, BYTES((0x80, 0xC2, 0x00, 0x00, 0x02, 1, 2, 3, 4)),
	    -EINVAL);
	/* Lc 00: extended length, which T=0 cannot carry */
	run(none, 0, BYTES((0x80, 0xC2, 0x00, 0x00, 0x00, 0x00, 0x01)),
	    -EINVAL);
	run(none, 0, NULL, 0, -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_case1),
		cmocka_unit_test(test_build_case2),
		cmocka_unit_test(test_build_case3),
		cmocka_unit_test(test_build_case4),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_sw),
		cmocka_unit_test(test_sw_str),
		cmocka_unit_test(test_exchange_plain),
		cmocka_unit_test(test_exchange_61),
		cmocka_unit_test(test_exchange_61_chain),
		cmocka_unit_test(test_exchange_61_00),
		cmocka_unit_test(test_exchange_6c),
		cmocka_unit_test(test_exchange_6c_append),
		cmocka_unit_test(test_exchange_6c_then_61),
		cmocka_unit_test(test_exchange_61_then_6c),
		cmocka_unit_test(test_exchange_6c_loop),
		cmocka_unit_test(test_exchange_91),
		cmocka_unit_test(test_exchange_61_then_91),
		cmocka_unit_test(test_exchange_93),
		cmocka_unit_test(test_exchange_error_sw),
		cmocka_unit_test(test_exchange_runaway),
		cmocka_unit_test(test_exchange_max_data),
		cmocka_unit_test(test_exchange_tx_error),
		cmocka_unit_test(test_exchange_short_response),
		cmocka_unit_test(test_exchange_bad_rlen),
		cmocka_unit_test(test_exchange_channel),
		cmocka_unit_test(test_exchange_bad_cmd),
	};

	return cmocka_run_group_tests_name("apdu", tests, NULL, NULL);
}
