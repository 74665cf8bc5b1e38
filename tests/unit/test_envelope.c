/* SPDX-License-Identifier: MIT */
/*
 * ENVELOPE encoding, location information, addresses and call control
 * answers.  Vectors are data, one test each, named by clause of 3GPP
 * TS 31.124 (ETSI TS 102 384) and re-entered from the specifications' byte
 * strings (as also collected in oFono's unit/test-stkutil.c); "A"/"B"
 * variants are the UTRAN/GERAN alternatives of one expected sequence.
 * Vectors marked "by hand" were built from the TS 102 223 / TS 31.111
 * coding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "cat/envelope.h"
#include "cat/proactive.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define B(...)		(const uint8_t[]){ __VA_ARGS__ }, \
			sizeof((const uint8_t[]){ __VA_ARGS__ })

/* TS 31.124 network simulators: MCC 001, MNC 01 (UTRAN, E-UTRAN) or 011. */
static const struct cat_location loc_utran_1 = {
	"001", "01", 0x0001, 0x0001 << 16 | 0x0001, CAT_RAT_UTRAN
};
static const struct cat_location loc_utran_2 = {
	"001", "01", 0x0002, 0x0001 << 16 | 0x0002, CAT_RAT_UTRAN
};
static const struct cat_location loc_gsm_1 = {
	"001", "011", 0x0001, 0x0001, CAT_RAT_GSM
};
static const struct cat_location loc_gsm_2 = {
	"001", "011", 0x0002, 0x0002, CAT_RAT_GSM
};
static const struct cat_location loc_eutran_2 = {
	"001", "01", 0x0002, 0x0000002, CAT_RAT_EUTRAN
};

/* ---- envelopes ------------------------------------------------------ */

enum env_kind { LOC_STATUS, TIMER, CALL_CONTROL, DATA_AVAIL, CHAN_STATUS };

struct env_vec {
	const char *name;
	enum env_kind kind;
	uint8_t status;			/* LOC_STATUS, channel status */
	uint8_t status2;		/* second channel status byte */
	const struct cat_location *loc;	/* LOC_STATUS, CALL_CONTROL */
	uint8_t id;			/* TIMER */
	uint32_t n;			/* TIMER seconds; DATA_AVAIL bytes */
	const char *number;		/* CALL_CONTROL */
	const uint8_t *ccp;
	size_t ccp_len;
	const uint8_t *exp;
	size_t exp_len;
};

static const uint8_t ccp_111[] = { 0x06, 0x60, 0x04, 0x02, 0x00, 0x05, 0x81 };

static const struct env_vec env_vecs[] = {
	{ "EVENT DOWNLOAD location status 27.22.7.4 1.1.1 (no service)",
	  LOC_STATUS, .status = CAT_LOC_NO_SERVICE,
	  .exp = B(0xD6, 0x0A, 0x99, 0x01, 0x03, 0x82, 0x02, 0x82, 0x81,
		   0x9B, 0x01, 0x02) },
	{ "EVENT DOWNLOAD location status 27.22.7.4 1.1.2A (UTRAN)",
	  LOC_STATUS, .status = CAT_LOC_NORMAL, .loc = &loc_utran_2,
	  .exp = B(0xD6, 0x15, 0x99, 0x01, 0x03, 0x82, 0x02, 0x82, 0x81,
		   0x9B, 0x01, 0x00, 0x13, 0x09, 0x00, 0xF1, 0x10, 0x00, 0x02,
		   0x00, 0x02, 0x00, 0x01) },
	{ "EVENT DOWNLOAD location status 27.22.7.4 1.1.2B (GERAN)",
	  LOC_STATUS, .status = CAT_LOC_NORMAL, .loc = &loc_gsm_2,
	  .exp = B(0xD6, 0x13, 0x99, 0x01, 0x03, 0x82, 0x02, 0x82, 0x81,
		   0x9B, 0x01, 0x00, 0x13, 0x07, 0x00, 0x11, 0x10, 0x00, 0x02,
		   0x00, 0x02) },
	{ "EVENT DOWNLOAD location status 27.22.7.4 1.2.2 (E-UTRAN)",
	  LOC_STATUS, .status = CAT_LOC_NORMAL, .loc = &loc_eutran_2,
	  .exp = B(0xD6, 0x15, 0x99, 0x01, 0x03, 0x82, 0x02, 0x82, 0x81,
		   0x9B, 0x01, 0x00, 0x13, 0x09, 0x00, 0xF1, 0x10, 0x00, 0x02,
		   0x00, 0x00, 0x00, 0x2F) },
	{ "EVENT DOWNLOAD location status, limited service (by hand)",
	  LOC_STATUS, .status = CAT_LOC_LIMITED, .loc = &loc_utran_2,
	  .exp = B(0xD6, 0x0A, 0x99, 0x01, 0x03, 0x82, 0x02, 0x82, 0x81,
		   0x9B, 0x01, 0x01) },
	{ "TIMER EXPIRATION 27.22.4.21.2 2.1.1 (00:00:10)",
	  TIMER, .id = 1, .n = 10,
	  .exp = B(0xD7, 0x0C, 0x82, 0x02, 0x82, 0x81, 0xA4, 0x01, 0x01,
		   0xA5, 0x03, 0x00, 0x00, 0x01) },
	{ "TIMER EXPIRATION 27.22.4.21.2 2.2.1A (00:00:30)",
	  TIMER, .id = 1, .n = 30,
	  .exp = B(0xD7, 0x0C, 0x82, 0x02, 0x82, 0x81, 0xA4, 0x01, 0x01,
		   0xA5, 0x03, 0x00, 0x00, 0x03) },
	{ "TIMER EXPIRATION timer 8, 23:59:59 (by hand)",
	  TIMER, .id = 8, .n = 86399,
	  .exp = B(0xD7, 0x0C, 0x82, 0x02, 0x82, 0x81, 0xA4, 0x01, 0x08,
		   0xA5, 0x03, 0x32, 0x95, 0x95) },
	{ "CALL CONTROL 27.22.6 1.1.1A (UTRAN, with CCP)",
	  CALL_CONTROL, .loc = &loc_utran_1, .number = "+01234567890123456789",
	  .ccp = ccp_111, .ccp_len = sizeof(ccp_111),
	  .exp = B(0xD4, 0x25, 0x82, 0x02, 0x82, 0x81, 0x86, 0x0B, 0x91,
		   0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x54, 0x76, 0x98,
		   0x07, 0x07, 0x06, 0x60, 0x04, 0x02, 0x00, 0x05, 0x81, 0x13,
		   0x09, 0x00, 0xF1, 0x10, 0x00, 0x01, 0x00, 0x01, 0x00,
		   0x01) },
	{ "CALL CONTROL 27.22.6 1.1.1B (GERAN, with CCP)",
	  CALL_CONTROL, .loc = &loc_gsm_1, .number = "+01234567890123456789",
	  .ccp = ccp_111, .ccp_len = sizeof(ccp_111),
	  .exp = B(0xD4, 0x23, 0x82, 0x02, 0x82, 0x81, 0x86, 0x0B, 0x91,
		   0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x54, 0x76, 0x98,
		   0x07, 0x07, 0x06, 0x60, 0x04, 0x02, 0x00, 0x05, 0x81, 0x13,
		   0x07, 0x00, 0x11, 0x10, 0x00, 0x01, 0x00, 0x01) },
	{ "CALL CONTROL 27.22.6 1.3.1A (UTRAN)",
	  CALL_CONTROL, .loc = &loc_utran_1, .number = "+012340123456",
	  .exp = B(0xD4, 0x18, 0x82, 0x02, 0x82, 0x81, 0x86, 0x07, 0x91,
		   0x10, 0x32, 0x04, 0x21, 0x43, 0x65, 0x13, 0x09, 0x00, 0xF1,
		   0x10, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01) },
	{ "CALL CONTROL 27.22.6 1.3.1B (GERAN)",
	  CALL_CONTROL, .loc = &loc_gsm_1, .number = "+012340123456",
	  .exp = B(0xD4, 0x16, 0x82, 0x02, 0x82, 0x81, 0x86, 0x07, 0x91,
		   0x10, 0x32, 0x04, 0x21, 0x43, 0x65, 0x13, 0x07, 0x00, 0x11,
		   0x10, 0x00, 0x01, 0x00, 0x01) },
	{ "CALL CONTROL, national number with * and # (by hand)",
	  CALL_CONTROL, .loc = &loc_eutran_2, .number = "*135#",
	  .exp = B(0xD4, 0x15, 0x82, 0x02, 0x82, 0x81, 0x86, 0x04, 0x81,
		   0x1A, 0x53, 0xFB, 0x13, 0x09, 0x00, 0xF1, 0x10, 0x00, 0x02,
		   0x00, 0x00, 0x00, 0x2F) },
	{ "EVENT DOWNLOAD data available 27.22.7.10 1.1.1 (PROTOCOL.md)",
	  DATA_AVAIL, .status = 0x81, .status2 = 0x00, .n = 1000,
	  .exp = B(0xD6, 0x0E, 0x99, 0x01, 0x09, 0x82, 0x02, 0x82, 0x81,
		   0xB8, 0x02, 0x81, 0x00, 0xB7, 0x01, 0xFF) },
	{ "EVENT DOWNLOAD data available, 200 bytes (by hand)",
	  DATA_AVAIL, .status = 0x82, .status2 = 0x00, .n = 200,
	  .exp = B(0xD6, 0x0E, 0x99, 0x01, 0x09, 0x82, 0x02, 0x82, 0x81,
		   0xB8, 0x02, 0x82, 0x00, 0xB7, 0x01, 0xC8) },
	{ "EVENT DOWNLOAD channel status 27.22.7.11 1.3.1 (PROTOCOL.md)",
	  CHAN_STATUS, .status = 0x01, .status2 = 0x05,
	  .exp = B(0xD6, 0x0B, 0x99, 0x01, 0x0A, 0x82, 0x02, 0x82, 0x81,
		   0xB8, 0x02, 0x01, 0x05) },
};

static int
env_build(const struct env_vec *v, uint8_t *out, size_t cap)
{
	const uint8_t st[2] = { v->status, v->status2 };

	switch (v->kind) {
	case LOC_STATUS:
		return cat_env_location_status(out, cap, v->status, v->loc);
	case TIMER:
		return cat_env_timer_expiration(out, cap, v->id, v->n);
	case CALL_CONTROL:
		return cat_env_call_control(out, cap, v->number, v->ccp,
					    v->ccp_len, v->loc);
	case DATA_AVAIL:
		return cat_env_data_available(out, cap, st, v->n);
	case CHAN_STATUS:
		return cat_env_channel_status(out, cap, st);
	}
	return -1;
}

static void
test_envelope(void **state)
{
	const struct env_vec *v = *state;
	uint8_t *out;
	size_t cap;

	/* exact fit, in a heap buffer so that ASan sees a write past it */
	out = test_malloc(v->exp_len);
	assert_int_equal(env_build(v, out, v->exp_len), (int)v->exp_len);
	assert_memory_equal(out, v->exp, v->exp_len);
	test_free(out);
	/* every shorter buffer: -ENOSPC */
	for (cap = 0; cap < v->exp_len; cap++) {
		out = test_malloc(cap > 0 ? cap : 1);
		assert_int_equal(env_build(v, out, cap), -ENOSPC);
		test_free(out);
	}
}

static void
test_envelope_invalid(void **state)
{
	struct cat_location bad = loc_utran_1;
	uint8_t out[64];

	(void)state;
	/* location status: unknown status, normal service needs a location */
	assert_int_equal(cat_env_location_status(out, sizeof(out), 3,
						 &loc_utran_1), -EINVAL);
	assert_int_equal(cat_env_location_status(out, sizeof(out),
						 CAT_LOC_NORMAL, NULL),
			 -EINVAL);
	bad.mcc[1] = 'x';
	assert_int_equal(cat_env_location_status(out, sizeof(out),
						 CAT_LOC_NORMAL, &bad),
			 -EINVAL);
	/* ... but a bad location is not looked at without normal service */
	assert_int_equal(cat_env_location_status(out, sizeof(out),
						 CAT_LOC_NO_SERVICE, &bad),
			 12);
	/* timer expiration: timers 1..8, values up to 99:59:59 */
	assert_int_equal(cat_env_timer_expiration(out, sizeof(out), 0, 5),
			 -EINVAL);
	assert_int_equal(cat_env_timer_expiration(out, sizeof(out), 9, 5),
			 -EINVAL);
	assert_int_equal(cat_env_timer_expiration(out, sizeof(out), 1,
						  CAT_TIMER_VALUE_MAX + 1),
			 -EINVAL);
	assert_int_equal(cat_env_timer_expiration(out, sizeof(out), 1,
						  CAT_TIMER_VALUE_MAX), 14);
	/* call control */
	assert_int_equal(cat_env_call_control(out, sizeof(out), "+33a",
					      NULL, 0, &loc_gsm_1), -EINVAL);
	assert_int_equal(cat_env_call_control(out, sizeof(out), NULL,
					      NULL, 0, &loc_gsm_1), -EINVAL);
	assert_int_equal(cat_env_call_control(out, sizeof(out), "112",
					      NULL, 0, NULL), -EINVAL);
	assert_int_equal(cat_env_call_control(out, sizeof(out), "112",
					      NULL, 3, &loc_gsm_1), -EINVAL);
	assert_int_equal(cat_env_call_control(out, sizeof(out), "112",
					      NULL, 0, &bad), -EINVAL);
}

/* ---- location information (TS 31.111 8.19) -------------------------- */

struct loc_vec {
	const char *name;
	struct cat_location loc;
	int ret;
	const uint8_t *exp;
	size_t exp_len;
};

#define NOEXP	NULL, 0

static const struct loc_vec loc_vecs[] = {
	{ "location GERAN, 2-digit MNC (by hand)",
	  { "208", "10", 0x1234, 0xABCD, CAT_RAT_GSM }, 7,
	  B(0x02, 0xF8, 0x01, 0x12, 0x34, 0xAB, 0xCD) },
	{ "location GERAN, 3-digit MNC (27.22.7.4 1.1.2B)",
	  { "001", "011", 0x0002, 0x0002, CAT_RAT_GSM }, 7,
	  B(0x00, 0x11, 0x10, 0x00, 0x02, 0x00, 0x02) },
	{ "location GERAN, 3-digit MNC 310/260 (by hand)",
	  { "310", "260", 0x0001, 0xFFFF, CAT_RAT_GSM }, 7,
	  B(0x13, 0x00, 0x62, 0x00, 0x01, 0xFF, 0xFF) },
	{ "location UTRAN (27.22.7.4 1.1.2A)",
	  { "001", "01", 0x0002, 0x0010002, CAT_RAT_UTRAN }, 9,
	  B(0x00, 0xF1, 0x10, 0x00, 0x02, 0x00, 0x02, 0x00, 0x01) },
	{ "location UTRAN, 28-bit cell (by hand)",
	  { "262", "01", 0xBEEF, 0xFEDCBA9, CAT_RAT_UTRAN }, 9,
	  B(0x62, 0xF2, 0x10, 0xBE, 0xEF, 0xCB, 0xA9, 0x0F, 0xED) },
	{ "location E-UTRAN (27.22.7.4 1.2.2)",
	  { "001", "01", 0x0002, 0x0000002, CAT_RAT_EUTRAN }, 9,
	  B(0x00, 0xF1, 0x10, 0x00, 0x02, 0x00, 0x00, 0x00, 0x2F) },
	{ "location E-UTRAN, 28-bit cell (by hand)",
	  { "234", "150", 0x0102, 0x1234567, CAT_RAT_EUTRAN }, 9,
	  B(0x32, 0x04, 0x51, 0x01, 0x02, 0x12, 0x34, 0x56, 0x7F) },
	{ "location: 2-digit MCC", { "01", "01", 1, 1, CAT_RAT_GSM },
	  -EINVAL, NOEXP },
	{ "location: 1-digit MNC", { "001", "1", 1, 1, CAT_RAT_GSM },
	  -EINVAL, NOEXP },
	{ "location: MCC without NUL", { { '0', '0', '1', '2' }, "01", 1, 1,
	  CAT_RAT_GSM }, -EINVAL, NOEXP },
	{ "location: letter in MNC", { "001", "0a", 1, 1, CAT_RAT_GSM },
	  -EINVAL, NOEXP },
	{ "location: GERAN cell above 16 bits",
	  { "001", "01", 1, 0x10000, CAT_RAT_GSM }, -EINVAL, NOEXP },
	{ "location: UTRAN cell above 28 bits",
	  { "001", "01", 1, 0x10000000, CAT_RAT_UTRAN }, -EINVAL, NOEXP },
	{ "location: E-UTRAN cell above 28 bits",
	  { "001", "01", 1, 0x10000000, CAT_RAT_EUTRAN }, -EINVAL, NOEXP },
	{ "location: unknown RAT",
	  { "001", "01", 1, 1, (enum cat_rat)7 }, -EINVAL, NOEXP },
};

static void
test_location(void **state)
{
	const struct loc_vec *v = *state;
	uint8_t out[CAT_LOCATION_MAX];
	size_t cap;

	memset(out, 0xEE, sizeof(out));
	assert_int_equal(cat_location_encode(out, sizeof(out), &v->loc),
			 v->ret);
	if (v->ret < 0)
		return;
	assert_memory_equal(out, v->exp, v->exp_len);
	for (cap = 0; cap < v->exp_len; cap++)
		assert_int_equal(cat_location_encode(out, cap, &v->loc),
				 -ENOSPC);
}

/*
 * PROVIDE LOCAL INFORMATION responses carrying location information
 * (TS 31.124 27.22.4.15), built from cat_location_encode() and
 * cat_tr_build().
 */
struct pli_vec {
	const char *name;
	struct cat_location loc;
	const uint8_t *exp;
	size_t exp_len;
};

static const struct pli_vec pli_vecs[] = {
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.1.1A response (MNC 01)",
	  { "001", "01", 0x0001, 0x0001, CAT_RAT_GSM },
	  B(0x81, 0x03, 0x01, 0x26, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0x93, 0x07, 0x00, 0xF1, 0x10, 0x00, 0x01, 0x00, 0x01) },
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.1.1B response (MNC 011)",
	  { "001", "011", 0x0001, 0x0001, CAT_RAT_GSM },
	  B(0x81, 0x03, 0x01, 0x26, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0x93, 0x07, 0x00, 0x11, 0x10, 0x00, 0x01, 0x00, 0x01) },
	/* the printed vector reportedly has a typo in byte 18; see 1.2.2 */
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.17.1 response (E-UTRAN)",
	  { "001", "01", 0x0001, 0x0000001, CAT_RAT_EUTRAN },
	  B(0x81, 0x03, 0x01, 0x26, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0x93, 0x09, 0x00, 0xF1, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00,
	    0x1F) },
};

static void
test_pli_location(void **state)
{
	const struct pli_vec *v = *state;
	const struct cat_cmd_details det = { 1, CAT_PROVIDE_LOCAL_INFO, 0 };
	uint8_t extra[2 + CAT_LOCATION_MAX], out[64];
	int n;

	n = cat_location_encode(extra + 2, sizeof(extra) - 2, &v->loc);
	assert_true(n > 0);
	/* location information in a TERMINAL RESPONSE: 93, CR set (6.8) */
	extra[0] = 0x80 | CAT_TAG_LOCATION_INFO;
	extra[1] = (uint8_t)n;
	n = cat_tr_build(out, sizeof(out), &det, CAT_RES_OK, NULL, 0, extra,
			 2 + (size_t)n);
	assert_int_equal(n, (int)v->exp_len);
	assert_memory_equal(out, v->exp, v->exp_len);
}

/* ---- addresses (TS 102 223 8.1) ------------------------------------- */

struct addr_vec {
	const char *name;
	const char *number;
	const uint8_t *bcd;
	size_t bcd_len;
};

static const struct addr_vec addr_vecs[] = {
	{ "address +, 20 digits (27.22.6 1.1.1)", "+01234567890123456789",
	  B(0x91, 0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x54, 0x76,
	    0x98) },
	{ "address +, 12 digits (27.22.6 1.3.1)", "+012340123456",
	  B(0x91, 0x10, 0x32, 0x04, 0x21, 0x43, 0x65) },
	{ "address unknown TON, 4 digits (27.22.7.1 1.1.2)", "9876",
	  B(0x81, 0x89, 0x67) },
	{ "address odd digit count", "12345", B(0x81, 0x21, 0x43, 0xF5) },
	{ "address one digit", "7", B(0x81, 0xF7) },
	{ "address + odd (TS 31.124 SMS centre)", "+112233445566778",
	  B(0x91, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0xF8) },
	{ "address * and #", "*21#", B(0x81, 0x2A, 0xB1) },
	{ "address + with *", "+*31#1", B(0x91, 0x3A, 0xB1, 0xF1) },
	{ "address 40 digits",
	  "1234567890123456789012345678901234567890",
	  B(0x81, 0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0x65, 0x87, 0x09,
	    0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0x65, 0x87, 0x09) },
};

static void
test_address(void **state)
{
	const struct addr_vec *v = *state;
	uint8_t bcd[CAT_ADDRESS_MAX];
	char s[64];
	size_t cap, len = strlen(v->number);

	assert_int_equal(cat_address_encode(bcd, sizeof(bcd), v->number),
			 (int)v->bcd_len);
	assert_memory_equal(bcd, v->bcd, v->bcd_len);
	for (cap = 0; cap < v->bcd_len; cap++)
		assert_int_equal(cat_address_encode(bcd, cap, v->number),
				 -ENOSPC);

	memset(s, 'Z', sizeof(s));
	assert_int_equal(cat_address_decode(v->bcd, v->bcd_len, s, sizeof(s)),
			 (int)len);
	assert_string_equal(s, v->number);
	/* exact fit, then one byte short of the NUL */
	assert_int_equal(cat_address_decode(v->bcd, v->bcd_len, s, len + 1),
			 (int)len);
	assert_int_equal(cat_address_decode(v->bcd, v->bcd_len, s, len),
			 -ENOSPC);
}

static void
test_address_encode_invalid(void **state)
{
	static const char *const bad[] = {
		"", "+", "++1", "12a", "1 2", "-1", "1+2", "12p3", "1,2",
		/* 41 digits */
		"12345678901234567890123456789012345678901",
	};
	uint8_t out[64];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (cat_address_encode(out, sizeof(out), bad[i]) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_int_equal(cat_address_encode(out, sizeof(out), NULL), -EINVAL);
	/* invalid wins over too small */
	assert_int_equal(cat_address_encode(out, 0, "1x"), -EINVAL);
}

static void
test_address_decode_special(void **state)
{
	char s[16];

	(void)state;
	/* national TON: no '+'; international without the extension bit */
	assert_int_equal(cat_address_decode(B(0xA1, 0x21, 0xF3), s,
					    sizeof(s)), 3);
	assert_string_equal(s, "123");
	assert_int_equal(cat_address_decode(B(0x11, 0x21), s, sizeof(s)), 3);
	assert_string_equal(s, "+12");
	/* filler then only filler */
	assert_int_equal(cat_address_decode(B(0x81, 0x21, 0xFF, 0xFF), s,
					    sizeof(s)), 2);
	assert_string_equal(s, "12");
	/* malformed */
	assert_int_equal(cat_address_decode(NULL, 0, s, sizeof(s)), -EBADMSG);
	assert_int_equal(cat_address_decode(B(0x81), s, sizeof(s)), -EBADMSG);
	assert_int_equal(cat_address_decode(B(0x91, 0xFF), s, sizeof(s)),
			 -EBADMSG);
	assert_int_equal(cat_address_decode(B(0x81, 0x1F, 0x21), s,
					    sizeof(s)), -EBADMSG);
	assert_int_equal(cat_address_decode(B(0x81, 0x2F), s, sizeof(s)),
			 -EBADMSG);	/* digit after the filler */
	assert_int_equal(cat_address_decode(B(0x81, 0x1C), s, sizeof(s)),
			 -EBADMSG);	/* C: DTMF separator */
	assert_int_equal(cat_address_decode(B(0x81, 0xD1), s, sizeof(s)),
			 -EBADMSG);	/* D: wild */
	assert_int_equal(cat_address_decode(B(0x81, 0xE1), s, sizeof(s)),
			 -EBADMSG);	/* E: expansion */
	assert_int_equal(cat_address_decode(B(0x91, 0x21), s, 0), -ENOSPC);
	assert_int_equal(cat_address_decode(B(0x91, 0x21), s, 1), -ENOSPC);
	assert_int_equal(cat_address_decode(B(0x91, 0x21), s, 3), -ENOSPC);
	assert_int_equal(cat_address_decode(B(0x91, 0x21), s, 4), 3);
}

/* ---- call control answers (TS 102 223 / TS 31.111 7.3.1.6) ---------- */

struct cc_vec {
	const char *name;
	const uint8_t *p;
	size_t len;
	int ret;
	uint8_t verdict;
	const char *number;
};

static const struct cc_vec cc_vecs[] = {
	{ "call control answer: empty (allowed, no modification)",
	  NULL, 0, 0, CAT_CC_ALLOWED, "" },
	{ "call control answer: 00 00 (allowed)",
	  B(0x00, 0x00), 0, CAT_CC_ALLOWED, "" },
	{ "call control answer: 01 00 (not allowed)",
	  B(0x01, 0x00), 0, CAT_CC_NOT_ALLOWED, "" },
	{ "call control answer: 02 with modified address (by hand)",
	  B(0x02, 0x09, 0x86, 0x07, 0x91, 0x10, 0x32, 0x04, 0x21, 0x43, 0x65),
	  0, CAT_CC_ALLOWED_MODIFIED, "+012340123456" },
	{ "call control answer: 02 with alpha id, then address (by hand)",
	  B(0x02, 0x0B, 0x05, 0x02, 0x4F, 0x4B, 0x86, 0x05, 0x81, 0x21, 0x43,
	    0x65, 0xF7),
	  0, CAT_CC_ALLOWED_MODIFIED, "1234567" },
	{ "call control answer: two addresses, first wins",
	  B(0x02, 0x08, 0x86, 0x02, 0x81, 0x21, 0x86, 0x02, 0x81, 0x43),
	  0, CAT_CC_ALLOWED_MODIFIED, "12" },
	{ "call control answer: 02 without address",
	  B(0x02, 0x04, 0x05, 0x02, 0x4F, 0x4B),
	  0, CAT_CC_ALLOWED_MODIFIED, "" },
	{ "call control answer: 01 with alpha identifier",
	  B(0x01, 0x04, 0x85, 0x02, 0x4E, 0x4F), 0, CAT_CC_NOT_ALLOWED, "" },
	{ "call control answer: verdict without length",
	  B(0x01), -EBADMSG, 0, "" },
	{ "call control answer: unknown verdict 03",
	  B(0x03, 0x00), -EBADMSG, 0, "" },
	{ "call control answer: length beyond data",
	  B(0x02, 0x09, 0x86, 0x07, 0x91, 0x10), -EBADMSG, 0, "" },
	{ "call control answer: trailing byte",
	  B(0x01, 0x00, 0x00), -EBADMSG, 0, "" },
	{ "call control answer: object truncated",
	  B(0x02, 0x03, 0x86, 0x05, 0x91), -EBADMSG, 0, "" },
	{ "call control answer: address without digits",
	  B(0x02, 0x03, 0x86, 0x01, 0x91), -EBADMSG, 0, "" },
	{ "call control answer: address with C nibble",
	  B(0x02, 0x04, 0x86, 0x02, 0x81, 0xC1), -EBADMSG, 0, "" },
	{ "call control answer: non-minimal length",
	  B(0x00, 0x81, 0x00), -EBADMSG, 0, "" },
	{ "call control answer: +40 digits does not fit number[41]",
	  B(0x02, 0x17, 0x86, 0x15, 0x91, 0x21, 0x43, 0x65, 0x87, 0x09, 0x21,
	    0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43,
	    0x65, 0x87, 0x09),
	  -EBADMSG, 0, "" },
	{ "call control answer: 40 digits fit",
	  B(0x02, 0x17, 0x86, 0x15, 0x81, 0x21, 0x43, 0x65, 0x87, 0x09, 0x21,
	    0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43,
	    0x65, 0x87, 0x09),
	  0, CAT_CC_ALLOWED_MODIFIED,
	  "1234567890123456789012345678901234567890" },
};

static void
test_cc_answer(void **state)
{
	const struct cc_vec *v = *state;
	struct cat_cc_answer a;
	uint8_t *copy;

	memset(&a, 0x55, sizeof(a));
	copy = test_malloc(v->len > 0 ? v->len : 1);
	if (v->len > 0)
		memcpy(copy, v->p, v->len);
	assert_int_equal(cat_cc_answer_decode(v->len > 0 ? copy : NULL,
					      v->len, &a), v->ret);
	test_free(copy);
	if (v->ret < 0)
		return;
	assert_int_equal(a.verdict, v->verdict);
	assert_string_equal(a.number, v->number);
}

/* A long answer: BER length in the 81 LL form. */
static void
test_cc_answer_long(void **state)
{
	uint8_t p[3 + 0x90];
	struct cat_cc_answer a;

	(void)state;
	p[0] = CAT_CC_ALLOWED_MODIFIED;
	p[1] = 0x81;
	p[2] = 0x90;
	p[3] = 0x85;			/* alpha identifier, 0x89 bytes */
	p[4] = 0x81;
	p[5] = 0x89;
	memset(p + 6, 'a', 0x89);
	p[3 + 0x8C] = 0x86;
	p[3 + 0x8D] = 0x02;
	p[3 + 0x8E] = 0x81;
	p[3 + 0x8F] = 0xF9;
	assert_int_equal(cat_cc_answer_decode(p, sizeof(p), &a), 0);
	assert_int_equal(a.verdict, CAT_CC_ALLOWED_MODIFIED);
	assert_string_equal(a.number, "9");
}

#define NFIXED	4

int
main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(env_vecs) + ARRAY_SIZE(loc_vecs) +
				ARRAY_SIZE(pli_vecs) + ARRAY_SIZE(addr_vecs) +
				ARRAY_SIZE(cc_vecs) + NFIXED];
	const struct CMUnitTest fixed[NFIXED] = {
		cmocka_unit_test(test_envelope_invalid),
		cmocka_unit_test(test_address_encode_invalid),
		cmocka_unit_test(test_address_decode_special),
		cmocka_unit_test(test_cc_answer_long),
	};
	size_t i, n = 0;

#define ADD(vecs, fn)							\
	for (i = 0; i < ARRAY_SIZE(vecs); i++)				\
		tests[n++] = (struct CMUnitTest){			\
			.name = vecs[i].name, .test_func = fn,		\
			.initial_state = (void *)(uintptr_t)&vecs[i] }

	ADD(env_vecs, test_envelope);
	ADD(loc_vecs, test_location);
	ADD(pli_vecs, test_pli_location);
	ADD(addr_vecs, test_address);
	ADD(cc_vecs, test_cc_answer);
	for (i = 0; i < NFIXED; i++)
		tests[n++] = fixed[i];
	return cmocka_run_group_tests_name("envelope", tests, NULL, NULL);
}
