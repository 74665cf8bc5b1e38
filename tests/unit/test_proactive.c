/* SPDX-License-Identifier: MIT */
/*
 * Proactive command decoding and TERMINAL RESPONSE encoding.
 *
 * Vectors are data, one test each, named by their clause: 3GPP TS 31.124
 * (ETSI TS 102 384) clause 27.22.4.x, expected sequence n.m, command k
 * ("1.1.2" = sequence 1.1, second command).  They were re-entered from the
 * specifications' byte strings (as also collected in oFono's
 * unit/test-stkutil.c); vectors marked "by hand" are not printed in a
 * specification and were built from the TS 102 223 coding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cat/proactive.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define B(...)		(const uint8_t[]){ __VA_ARGS__ }, \
			sizeof((const uint8_t[]){ __VA_ARGS__ })
#define DET(n, t, q)	{ .number = (n), .type = (t), .qualifier = (q) }

/* ---- decoding ------------------------------------------------------- */

struct dec_vec {
	const char *name;
	const uint8_t *pdu;
	size_t len;
	int ret;			/* expected return */
	struct cat_cmd exp;	/* det unless -EBADMSG; the rest on 0 */
};

#define UICC_TERM	.src = CAT_DEV_UICC, .dst = CAT_DEV_TERMINAL

static const struct dec_vec dec_vecs[] = {
	/* -- 3GPP TS 31.124 / ETSI TS 102 384 conformance commands -- */
	{ "MORE TIME 27.22.4.4 1.1.1",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82),
	  0, { .det = DET(1, CAT_MORE_TIME, 0), UICC_TERM } },
	{ "POLL INTERVAL 27.22.4.6 1.1.1 (20 s)",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x03, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x84, 0x02, 0x01, 0x14),
	  0, { .det = DET(1, CAT_POLL_INTERVAL, 0), UICC_TERM,
	       .u.poll = { .unit = 1, .interval = 20 } } },
	{ "POLLING OFF 27.22.4.14 1.1.2",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x04, 0x00, 0x82, 0x02, 0x81, 0x82),
	  0, { .det = DET(1, CAT_POLLING_OFF, 0), UICC_TERM } },
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.1.1 (location, by hand)",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x26, 0x00, 0x82, 0x02, 0x81, 0x82),
	  0, { .det = DET(1, CAT_PROVIDE_LOCAL_INFO, 0x00), UICC_TERM } },
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.2.1 (IMEI)",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x26, 0x01, 0x82, 0x02, 0x81, 0x82),
	  0, { .det = DET(1, CAT_PROVIDE_LOCAL_INFO, 0x01), UICC_TERM } },
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.4.1 (date, time, zone)",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x26, 0x03, 0x82, 0x02, 0x81, 0x82),
	  0, { .det = DET(1, CAT_PROVIDE_LOCAL_INFO, 0x03), UICC_TERM } },
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.5.1 (language)",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x26, 0x04, 0x82, 0x02, 0x81, 0x82),
	  0, { .det = DET(1, CAT_PROVIDE_LOCAL_INFO, 0x04), UICC_TERM } },
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.7.1 (access tech, by hand)",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x26, 0x06, 0x82, 0x02, 0x81, 0x82),
	  0, { .det = DET(1, CAT_PROVIDE_LOCAL_INFO, 0x06), UICC_TERM } },
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.9.1 (IMEISV)",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x26, 0x08, 0x82, 0x02, 0x81, 0x82),
	  0, { .det = DET(1, CAT_PROVIDE_LOCAL_INFO, 0x08), UICC_TERM } },
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.11.1 (battery)",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x26, 0x0A, 0x82, 0x02, 0x81, 0x82),
	  0, { .det = DET(1, CAT_PROVIDE_LOCAL_INFO, 0x0A), UICC_TERM } },
	{ "SET UP EVENT LIST 27.22.4.16 1.1.1 (user activity)",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x05, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x99, 0x01, 0x04),
	  0, { .det = DET(1, CAT_SET_UP_EVENT_LIST, 0), UICC_TERM,
	       .u.events = { .n = 1, .ev = { 0x04 } } } },
	{ "SET UP EVENT LIST 27.22.4.16 1.2.1 (two events)",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x05, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x99, 0x02, 0x05, 0x07),
	  0, { .det = DET(1, CAT_SET_UP_EVENT_LIST, 0), UICC_TERM,
	       .u.events = { .n = 2, .ev = { 0x05, 0x07 } } } },
	{ "SET UP EVENT LIST 27.22.4.16 1.3.2 (remove list)",
	  B(0xD0, 0x0B, 0x81, 0x03, 0x01, 0x05, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x99, 0x00),
	  0, { .det = DET(1, CAT_SET_UP_EVENT_LIST, 0), UICC_TERM,
	       .u.events = { .n = 0 } } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.1.1 (start 1, 00:05:00)",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x01, 0xA5, 0x03, 0x00, 0x50, 0x00),
	  0, { .det = DET(1, CAT_TIMER_MANAGEMENT, 0), UICC_TERM,
	       .u.timer = { .id = 1, .seconds = 300 } } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.1.2 (get 1)",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x27, 0x02, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x01),
	  0, { .det = DET(1, CAT_TIMER_MANAGEMENT, 2), UICC_TERM,
	       .u.timer = { .id = 1 } } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.1.3 (start 1, 00:01:30)",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x01, 0xA5, 0x03, 0x00, 0x10, 0x03),
	  0, { .det = DET(1, CAT_TIMER_MANAGEMENT, 0), UICC_TERM,
	       .u.timer = { .id = 1, .seconds = 90 } } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.1.4 (deactivate 1)",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x27, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x01),
	  0, { .det = DET(1, CAT_TIMER_MANAGEMENT, 1), UICC_TERM,
	       .u.timer = { .id = 1 } } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.2.1 (start 2, 23:59:59)",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x02, 0xA5, 0x03, 0x32, 0x95, 0x95),
	  0, { .det = DET(1, CAT_TIMER_MANAGEMENT, 0), UICC_TERM,
	       .u.timer = { .id = 2, .seconds = 86399 } } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.3.1 (start 8, 00:20:00)",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x08, 0xA5, 0x03, 0x00, 0x02, 0x00),
	  0, { .det = DET(1, CAT_TIMER_MANAGEMENT, 0), UICC_TERM,
	       .u.timer = { .id = 8, .seconds = 1200 } } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.3.3 (start 8, 01:00:00)",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x08, 0xA5, 0x03, 0x10, 0x00, 0x00),
	  0, { .det = DET(1, CAT_TIMER_MANAGEMENT, 0), UICC_TERM,
	       .u.timer = { .id = 8, .seconds = 3600 } } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.6.1 (start 1, 00:00:05)",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x01, 0xA5, 0x03, 0x00, 0x00, 0x50),
	  0, { .det = DET(1, CAT_TIMER_MANAGEMENT, 0), UICC_TERM,
	       .u.timer = { .id = 1, .seconds = 5 } } },
	{ "TIMER MANAGEMENT 27.22.4.21.2 2.1.1 (start 1, 00:00:10)",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x01, 0xA5, 0x03, 0x00, 0x00, 0x01),
	  0, { .det = DET(1, CAT_TIMER_MANAGEMENT, 0), UICC_TERM,
	       .u.timer = { .id = 1, .seconds = 10 } } },
	{ "SEND SHORT MESSAGE 27.22.4.10 1.8.1 (8B with CR)",
	  B(0xD0, 0x2E, 0x81, 0x03, 0x01, 0x13, 0x00, 0x82, 0x02, 0x81, 0x83,
	    0x86, 0x09, 0x91, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0xF8,
	    0x8B, 0x18, 0x01, 0x00, 0x09, 0x91, 0x10, 0x32, 0x54, 0x76, 0xF8,
	    0x40, 0xF4, 0x0C, 0x54, 0x65, 0x73, 0x74, 0x20, 0x4D, 0x65, 0x73,
	    0x73, 0x61, 0x67, 0x65),
	  0, { .det = DET(1, CAT_SEND_SHORT_MESSAGE, 0),
	       .src = CAT_DEV_UICC, .dst = CAT_DEV_NETWORK } },
	{ "SEND SHORT MESSAGE 27.22.4.10 4.1.1 (text attribute D0 with CR)",
	  B(0xD0, 0x2C, 0x81, 0x03, 0x01, 0x13, 0x00, 0x82, 0x02, 0x81, 0x83,
	    0x85, 0x10, 0x54, 0x65, 0x78, 0x74, 0x20, 0x41, 0x74, 0x74, 0x72,
	    0x69, 0x62, 0x75, 0x74, 0x65, 0x20, 0x31, 0x8B, 0x09, 0x01, 0x00,
	    0x02, 0x91, 0x10, 0x40, 0xF0, 0x01, 0x20, 0xD0, 0x04, 0x00, 0x10,
	    0x00, 0xB4),
	  0, { .det = DET(1, CAT_SEND_SHORT_MESSAGE, 0),
	       .src = CAT_DEV_UICC, .dst = CAT_DEV_NETWORK } },
	/* -- PROTOCOL.md (TS 31.124 27.22.4.27 ff., BIP) -- */
	{ "OPEN CHANNEL 27.22.4.27 2.1.1",
	  B(0xD0, 0x36, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02,
	    0x05, 0x78, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x4C, 0x6F,
	    0x67, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x50, 0x77, 0x64,
	    0x3C, 0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05, 0x21, 0x01, 0x01, 0x01,
	    0x01),
	  0, { .det = DET(1, CAT_OPEN_CHANNEL, 1), UICC_TERM } },
	{ "SEND DATA 27.22.4.30 1.1.1 (B6 with CR)",
	  B(0xD0, 0x13, 0x81, 0x03, 0x01, 0x43, 0x01, 0x82, 0x02, 0x81, 0x21,
	    0xB6, 0x08, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07),
	  0, { .det = DET(1, CAT_SEND_DATA, 1), .src = CAT_DEV_UICC,
	       .dst = 0x21 } },
	{ "CLOSE CHANNEL 27.22.4.28 1.1.1",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x41, 0x00, 0x82, 0x02, 0x81, 0x21),
	  0, { .det = DET(1, CAT_CLOSE_CHANNEL, 0), .src = CAT_DEV_UICC,
	       .dst = 0x21 } },

	/* -- malformed input (all by hand), TS 102 223 6.10 -- */
	{ "empty input", B(0x00), -EBADMSG, { .src = 0 } },
	{ "not a D0 template",
	  B(0xD6, 0x09, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82),
	  -EBADMSG, { .src = 0 } },
	{ "non-minimal D0 length",
	  B(0xD0, 0x81, 0x09, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81,
	    0x82),
	  -EBADMSG, { .src = 0 } },
	{ "missing command details",
	  B(0xD0, 0x04, 0x82, 0x02, 0x81, 0x82), -EBADMSG, { .src = 0 } },
	{ "command details not first",
	  B(0xD0, 0x09, 0x82, 0x02, 0x81, 0x82, 0x81, 0x03, 0x01, 0x02, 0x00),
	  -EBADMSG, { .src = 0 } },
	{ "command details too short",
	  B(0xD0, 0x08, 0x81, 0x02, 0x01, 0x02, 0x82, 0x02, 0x81, 0x82),
	  -EBADMSG, { .src = 0 } },
	{ "command details truncated inside D0",
	  B(0xD0, 0x05, 0x81, 0x03, 0x01, 0x02), -EBADMSG, { .src = 0 } },
	{ "command details too long",
	  B(0xD0, 0x0A, 0x81, 0x04, 0x01, 0x02, 0x00, 0x00, 0x82, 0x02, 0x81,
	    0x82),
	  CAT_RES_DATA_NOT_UNDERSTOOD, { .det = DET(1, CAT_MORE_TIME, 0) } },
	{ "D0 length beyond the data",
	  B(0xD0, 0x0A, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82),
	  CAT_RES_DATA_NOT_UNDERSTOOD, { .det = DET(1, CAT_MORE_TIME, 0) } },
	{ "D0 length cuts device identities",
	  B(0xD0, 0x08, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82),
	  CAT_RES_DATA_NOT_UNDERSTOOD, { .det = DET(1, CAT_MORE_TIME, 0) } },
	{ "D0 length ends before device identities",
	  B(0xD0, 0x05, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82),
	  CAT_RES_VALUES_MISSING, { .det = DET(1, CAT_MORE_TIME, 0) } },
	{ "padding after D0 ignored",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xFF, 0xFF, 0x00),
	  0, { .det = DET(1, CAT_MORE_TIME, 0), UICC_TERM } },
	{ "object value truncated",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x03, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x84, 0x02, 0x01),
	  CAT_RES_DATA_NOT_UNDERSTOOD,
	  { .det = DET(1, CAT_POLL_INTERVAL, 0) } },
	{ "object length missing",
	  B(0xD0, 0x0A, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x04),
	  CAT_RES_DATA_NOT_UNDERSTOOD, { .det = DET(1, CAT_MORE_TIME, 0) } },
	{ "reserved tag 80",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x80, 0x01, 0x00),
	  CAT_RES_DATA_NOT_UNDERSTOOD, { .det = DET(1, CAT_MORE_TIME, 0) } },
	{ "missing device identities",
	  B(0xD0, 0x05, 0x81, 0x03, 0x01, 0x02, 0x00),
	  CAT_RES_VALUES_MISSING, { .det = DET(1, CAT_MORE_TIME, 0) } },
	{ "device identities of one byte",
	  B(0xD0, 0x08, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x01, 0x81),
	  CAT_RES_DATA_NOT_UNDERSTOOD, { .det = DET(1, CAT_MORE_TIME, 0) } },
	{ "device identities without CR accepted",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x02, 0x00, 0x02, 0x02, 0x81, 0x82),
	  0, { .det = DET(1, CAT_MORE_TIME, 0), UICC_TERM } },
	{ "unknown type of command 21",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02, 0x81, 0x02),
	  CAT_RES_TYPE_NOT_UNDERSTOOD, { .det = DET(1, 0x21, 0x80) } },
	{ "unknown type of command FE, no device identities",
	  B(0xD0, 0x05, 0x81, 0x03, 0x07, 0xFE, 0x00),
	  CAT_RES_TYPE_NOT_UNDERSTOOD, { .det = DET(7, 0xFE, 0) } },
	{ "unknown CR tag C0 in MORE TIME",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xC0, 0x01, 0x00),
	  CAT_RES_DATA_NOT_UNDERSTOOD, { .det = DET(1, CAT_MORE_TIME, 0) } },
	{ "duration (CR) unknown to MORE TIME",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x84, 0x02, 0x01, 0x14),
	  CAT_RES_DATA_NOT_UNDERSTOOD, { .det = DET(1, CAT_MORE_TIME, 0) } },
	{ "unknown CR three-byte tag",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x7F, 0x92, 0x34, 0x00),
	  CAT_RES_DATA_NOT_UNDERSTOOD, { .det = DET(1, CAT_MORE_TIME, 0) } },
	{ "unknown non-CR tag ignored",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x03, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x84, 0x02, 0x01, 0x14, 0x40, 0x02, 0xAA, 0xBB),
	  0, { .det = DET(1, CAT_POLL_INTERVAL, 0), UICC_TERM,
	       .u.poll = { .unit = 1, .interval = 20 } } },
	{ "unknown non-CR three-byte tag ignored",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x7F, 0x12, 0x34, 0x00),
	  0, { .det = DET(1, CAT_MORE_TIME, 0), UICC_TERM } },
	{ "duplicate duration: first wins",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x03, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x84, 0x02, 0x01, 0x14, 0x84, 0x02, 0x00, 0x01),
	  0, { .det = DET(1, CAT_POLL_INTERVAL, 0), UICC_TERM,
	       .u.poll = { .unit = 1, .interval = 20 } } },
	{ "duplicate command details ignored",
	  B(0xD0, 0x0E, 0x81, 0x03, 0x01, 0x02, 0x00, 0x81, 0x03, 0x02, 0x03,
	    0x00, 0x82, 0x02, 0x81, 0x82),
	  0, { .det = DET(1, CAT_MORE_TIME, 0), UICC_TERM } },
	{ "POLL INTERVAL without duration",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x03, 0x00, 0x82, 0x02, 0x81, 0x82),
	  CAT_RES_VALUES_MISSING, { .det = DET(1, CAT_POLL_INTERVAL, 0) } },
	{ "POLL INTERVAL interval 00",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x03, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x84, 0x02, 0x01, 0x00),
	  CAT_RES_DATA_NOT_UNDERSTOOD,
	  { .det = DET(1, CAT_POLL_INTERVAL, 0) } },
	{ "POLL INTERVAL unit 03",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x03, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x84, 0x02, 0x03, 0x01),
	  CAT_RES_DATA_NOT_UNDERSTOOD,
	  { .det = DET(1, CAT_POLL_INTERVAL, 0) } },
	{ "POLL INTERVAL duration of one byte",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x03, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x84, 0x01, 0x01),
	  CAT_RES_DATA_NOT_UNDERSTOOD,
	  { .det = DET(1, CAT_POLL_INTERVAL, 0) } },
	{ "SET UP EVENT LIST without event list",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x05, 0x00, 0x82, 0x02, 0x81, 0x82),
	  CAT_RES_VALUES_MISSING, { .det = DET(1, CAT_SET_UP_EVENT_LIST, 0) } },
	{ "SET UP EVENT LIST of 33 events",
	  B(0xD0, 0x2C, 0x81, 0x03, 0x01, 0x05, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x99, 0x21,
	    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	    33),
	  CAT_RES_BEYOND_CAPABILITIES,
	  { .det = DET(1, CAT_SET_UP_EVENT_LIST, 0) } },
	{ "SET UP EVENT LIST of 32 events",
	  B(0xD0, 0x2B, 0x81, 0x03, 0x01, 0x05, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x99, 0x20,
	    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32),
	  0, { .det = DET(1, CAT_SET_UP_EVENT_LIST, 0), UICC_TERM,
	       .u.events = { .n = 32, .ev = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
		32 } } } },
	{ "TIMER MANAGEMENT without timer identifier",
	  B(0xD0, 0x0E, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA5, 0x03, 0x00, 0x50, 0x00),
	  CAT_RES_VALUES_MISSING, { .det = DET(1, CAT_TIMER_MANAGEMENT, 0) } },
	{ "TIMER MANAGEMENT start without timer value",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x01),
	  CAT_RES_VALUES_MISSING, { .det = DET(1, CAT_TIMER_MANAGEMENT, 0) } },
	{ "TIMER MANAGEMENT timer identifier 9",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x27, 0x02, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x09),
	  CAT_RES_DATA_NOT_UNDERSTOOD,
	  { .det = DET(1, CAT_TIMER_MANAGEMENT, 2) } },
	{ "TIMER MANAGEMENT timer identifier 0",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x27, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x00),
	  CAT_RES_DATA_NOT_UNDERSTOOD,
	  { .det = DET(1, CAT_TIMER_MANAGEMENT, 1) } },
	{ "TIMER MANAGEMENT timer identifier of two bytes",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x27, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x02, 0x01, 0x01),
	  CAT_RES_DATA_NOT_UNDERSTOOD,
	  { .det = DET(1, CAT_TIMER_MANAGEMENT, 1) } },
	{ "TIMER MANAGEMENT bad BCD in minutes",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x01, 0xA5, 0x03, 0x00, 0x5A, 0x00),
	  CAT_RES_DATA_NOT_UNDERSTOOD,
	  { .det = DET(1, CAT_TIMER_MANAGEMENT, 0) } },
	{ "TIMER MANAGEMENT bad BCD in hours",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x01, 0xA5, 0x03, 0xF0, 0x00, 0x00),
	  CAT_RES_DATA_NOT_UNDERSTOOD,
	  { .det = DET(1, CAT_TIMER_MANAGEMENT, 0) } },
	{ "TIMER MANAGEMENT 60 seconds",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x01, 0xA5, 0x03, 0x00, 0x00, 0x06),
	  CAT_RES_DATA_NOT_UNDERSTOOD,
	  { .det = DET(1, CAT_TIMER_MANAGEMENT, 0) } },
	{ "TIMER MANAGEMENT timer value of two bytes",
	  B(0xD0, 0x10, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x01, 0xA5, 0x02, 0x00, 0x50),
	  CAT_RES_DATA_NOT_UNDERSTOOD,
	  { .det = DET(1, CAT_TIMER_MANAGEMENT, 0) } },
	{ "TIMER MANAGEMENT deactivate ignores a bad timer value",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x27, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x03, 0xA5, 0x03, 0xFF, 0xFF, 0xFF),
	  0, { .det = DET(1, CAT_TIMER_MANAGEMENT, 1), UICC_TERM,
	       .u.timer = { .id = 3 } } },
	{ "TIMER MANAGEMENT qualifier 03",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x27, 0x03, 0x82, 0x02, 0x81, 0x82,
	    0xA4, 0x01, 0x01),
	  CAT_RES_BEYOND_CAPABILITIES,
	  { .det = DET(1, CAT_TIMER_MANAGEMENT, 3) } },
};

/* Field by field: struct padding is not compared. */
static void
check_cmd(const struct cat_cmd *got, const struct cat_cmd *exp)
{
	assert_int_equal(got->src, exp->src);
	assert_int_equal(got->dst, exp->dst);
	switch (exp->det.type) {
	case CAT_POLL_INTERVAL:
		assert_int_equal(got->u.poll.unit, exp->u.poll.unit);
		assert_int_equal(got->u.poll.interval, exp->u.poll.interval);
		break;
	case CAT_SET_UP_EVENT_LIST:
		assert_int_equal(got->u.events.n, exp->u.events.n);
		if (exp->u.events.n > 0)
			assert_memory_equal(got->u.events.ev, exp->u.events.ev,
					    exp->u.events.n);
		break;
	case CAT_TIMER_MANAGEMENT:
		assert_int_equal(got->u.timer.id, exp->u.timer.id);
		assert_int_equal(got->u.timer.seconds, exp->u.timer.seconds);
		break;
	default:
		break;
	}
}

static void
test_decode(void **state)
{
	const struct dec_vec *v = *state;
	struct cat_cmd cmd;
	uint8_t *copy;
	int r;

	/* heap copy of exactly len bytes, so that ASan sees any overread */
	copy = test_malloc(v->len > 0 ? v->len : 1);
	memcpy(copy, v->pdu, v->len);
	r = cat_cmd_decode(copy, v->len, &cmd);
	test_free(copy);
	assert_int_equal(r, v->ret);
	if (r == -EBADMSG)
		return;
	assert_int_equal(cmd.det.number, v->exp.det.number);
	assert_int_equal(cmd.det.type, v->exp.det.type);
	assert_int_equal(cmd.det.qualifier, v->exp.det.qualifier);
	if (r == 0)
		check_cmd(&cmd, &v->exp);
}

/* Every proper prefix of MORE TIME 1.1.1: -EBADMSG, then 32. */
static void
test_decode_truncations(void **state)
{
	const struct dec_vec *v = &dec_vecs[0];
	struct cat_cmd cmd;
	uint8_t *copy;
	size_t n;
	int r;

	(void)state;
	for (n = 0; n < v->len; n++) {
		copy = test_malloc(n > 0 ? n : 1);
		memcpy(copy, v->pdu, n);
		r = cat_cmd_decode(copy, n, &cmd);
		test_free(copy);
		/* D0 LL 81 03 xx xx xx: the command details end at byte 7 */
		if (n < 7) {
			assert_int_equal(r, -EBADMSG);
		} else {
			assert_int_equal(r, CAT_RES_DATA_NOT_UNDERSTOOD);
			assert_int_equal(cmd.det.type, CAT_MORE_TIME);
		}
	}
	assert_int_equal(cat_cmd_decode(NULL, 0, &cmd), -EBADMSG);
}

/* A D0 in the 81 LL length form, with an unknown object to fill it. */
static void
test_decode_long_form(void **state)
{
	uint8_t buf[3 + 9 + 3 + 0x80];
	struct cat_cmd cmd;
	size_t n = 0;

	(void)state;
	buf[n++] = 0xD0;
	buf[n++] = 0x81;
	buf[n++] = 9 + 3 + 0x80;
	memcpy(buf + n, "\x81\x03\x01\x04\x00\x82\x02\x81\x82", 9);
	n += 9;
	buf[n++] = 0x0D;	/* text string, no CR: not for POLLING OFF */
	buf[n++] = 0x81;
	buf[n++] = 0x80;
	memset(buf + n, 'x', 0x80);
	n += 0x80;
	assert_int_equal(n, sizeof(buf));
	assert_int_equal(cat_cmd_decode(buf, n, &cmd), 0);
	assert_int_equal(cmd.det.type, CAT_POLLING_OFF);
	buf[12] = 0x8D;		/* now with CR */
	assert_int_equal(cat_cmd_decode(buf, n, &cmd),
			 CAT_RES_DATA_NOT_UNDERSTOOD);
}

/* ---- TERMINAL RESPONSE ---------------------------------------------- */

struct tr_vec {
	const char *name;
	struct cat_cmd_details det;
	uint8_t result;
	const uint8_t *addl;
	size_t addl_len;
	const uint8_t *extra;
	size_t extra_len;
	const uint8_t *exp;
	size_t exp_len;
};

#define NONE	NULL, 0

static const struct tr_vec tr_vecs[] = {
	{ "MORE TIME 27.22.4.4 1.1.1 response (by hand)",
	  DET(1, CAT_MORE_TIME, 0), CAT_RES_OK, NONE, NONE,
	  B(0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00) },
	{ "POLL INTERVAL 27.22.4.6 1.1.1 response (TS 102 384)",
	  DET(1, CAT_POLL_INTERVAL, 0), CAT_RES_OK, NONE,
	  B(0x84, 0x02, 0x01, 0x14),
	  B(0x81, 0x03, 0x01, 0x03, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0x84, 0x02, 0x01, 0x14) },
	{ "POLL INTERVAL 27.22.4.6 1.1.1A response (TS 31.124, 1 minute)",
	  DET(1, CAT_POLL_INTERVAL, 0), CAT_RES_OK, NONE,
	  B(0x84, 0x02, 0x00, 0x01),
	  B(0x81, 0x03, 0x01, 0x03, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0x84, 0x02, 0x00, 0x01) },
	{ "POLLING OFF 27.22.4.14 1.1.2 response",
	  DET(1, CAT_POLLING_OFF, 0), CAT_RES_OK, NONE, NONE,
	  B(0x81, 0x03, 0x01, 0x04, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00) },
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.2.1 response (IMEI)",
	  DET(1, CAT_PROVIDE_LOCAL_INFO, 1), CAT_RES_OK, NONE,
	  B(0x94, 0x08, 0x1A, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x54),
	  B(0x81, 0x03, 0x01, 0x26, 0x01, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0x94, 0x08, 0x1A, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x54) },
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.4.1 response (date/time)",
	  DET(1, CAT_PROVIDE_LOCAL_INFO, 3), CAT_RES_OK, NONE,
	  B(0xA6, 0x07, 0x20, 0x50, 0x70, 0x41, 0x80, 0x71, 0xFF),
	  B(0x81, 0x03, 0x01, 0x26, 0x03, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0xA6, 0x07, 0x20, 0x50, 0x70, 0x41, 0x80, 0x71, 0xFF) },
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.7.1 response (UTRAN)",
	  DET(1, CAT_PROVIDE_LOCAL_INFO, 6), CAT_RES_OK, NONE,
	  B(0x3F, 0x01, 0x03),
	  B(0x81, 0x03, 0x01, 0x26, 0x06, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0x3F, 0x01, 0x03) },
	{ "PROVIDE LOCAL INFORMATION 27.22.4.15 1.14.1 response (E-UTRAN)",
	  DET(1, CAT_PROVIDE_LOCAL_INFO, 6), CAT_RES_OK, NONE,
	  B(0x3F, 0x01, 0x08),
	  B(0x81, 0x03, 0x01, 0x26, 0x06, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0x3F, 0x01, 0x08) },
	{ "SET UP EVENT LIST 27.22.4.16 1.1.1 response",
	  DET(1, CAT_SET_UP_EVENT_LIST, 0), CAT_RES_OK, NONE, NONE,
	  B(0x81, 0x03, 0x01, 0x05, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00) },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.1.1 response (start)",
	  DET(1, CAT_TIMER_MANAGEMENT, 0), CAT_RES_OK, NONE,
	  B(0xA4, 0x01, 0x01),
	  B(0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0xA4, 0x01, 0x01) },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.4.1A response (contradiction)",
	  DET(1, CAT_TIMER_MANAGEMENT, 2), CAT_RES_TIMER_CONTRADICTION, NONE,
	  B(0xA4, 0x01, 0x01),
	  B(0x81, 0x03, 0x01, 0x27, 0x02, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x24, 0xA4, 0x01, 0x01) },
	{ "OPEN CHANNEL 27.22.4.27 2.1.1 response (PROTOCOL.md)",
	  DET(1, CAT_OPEN_CHANNEL, 1), CAT_RES_OK, NONE,
	  B(0x38, 0x02, 0x81, 0x00, 0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04,
	    0x1F, 0x02, 0x39, 0x02, 0x05, 0x78),
	  B(0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0x38, 0x02, 0x81, 0x00, 0x35, 0x07, 0x02, 0x03, 0x04, 0x03,
	    0x04, 0x1F, 0x02, 0x39, 0x02, 0x05, 0x78) },
	{ "SEND DATA 27.22.4.30 1.1.1 response (PROTOCOL.md)",
	  DET(1, CAT_SEND_DATA, 1), CAT_RES_OK, NONE, B(0xB7, 0x01, 0xFF),
	  B(0x81, 0x03, 0x01, 0x43, 0x01, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0xB7, 0x01, 0xFF) },
	{ "CLOSE CHANNEL unknown channel response (PROTOCOL.md)",
	  DET(1, CAT_CLOSE_CHANNEL, 0), CAT_RES_BIP_ERROR, B(0x03), NONE,
	  B(0x81, 0x03, 0x01, 0x41, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x02,
	    0x3A, 0x03) },
	{ "terminal busy on call (TS 102 384 set up call 1.6.1 form)",
	  DET(1, 0x10, 0), CAT_RES_TERMINAL_UNABLE, B(0x02), NONE,
	  B(0x81, 0x03, 0x01, 0x10, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x02,
	    0x20, 0x02) },
	{ "command number and qualifier echoed (by hand)",
	  DET(0x7E, CAT_PROVIDE_LOCAL_INFO, 0x0A), CAT_RES_BEYOND_CAPABILITIES,
	  NONE, NONE,
	  B(0x81, 0x03, 0x7E, 0x26, 0x0A, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x30) },
};

static void
test_tr(void **state)
{
	const struct tr_vec *v = *state;
	uint8_t *out;
	int r;

	out = test_malloc(v->exp_len);
	r = cat_tr_build(out, v->exp_len, &v->det, v->result, v->addl,
			 v->addl_len, v->extra, v->extra_len);
	assert_int_equal(r, (int)v->exp_len);
	assert_memory_equal(out, v->exp, v->exp_len);
	/* one byte less: -ENOSPC, and nothing written past the end */
	r = cat_tr_build(out, v->exp_len - 1, &v->det, v->result, v->addl,
			 v->addl_len, v->extra, v->extra_len);
	assert_int_equal(r, -ENOSPC);
	test_free(out);
}

/* Timer values built with the encoder (TS 31.124 27.22.4.21.1). */
struct tr_timer_vec {
	const char *name;
	uint8_t qualifier, id;
	uint32_t seconds;
	uint8_t value[3];
};

static const struct tr_timer_vec tr_timer_vecs[] = {
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.1.2 response (00:03:59)",
	  2, 1, 3 * 60 + 59, { 0x00, 0x30, 0x95 } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.1.4 response (00:00:59)",
	  1, 1, 59, { 0x00, 0x00, 0x95 } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.2.2 response (23:58:58)",
	  2, 2, 23 * 3600 + 58 * 60 + 58, { 0x32, 0x85, 0x85 } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.2.4 response (00:00:59)",
	  1, 2, 59, { 0x00, 0x00, 0x95 } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.3.2 response (00:18:59)",
	  2, 8, 18 * 60 + 59, { 0x00, 0x81, 0x95 } },
	{ "TIMER MANAGEMENT 27.22.4.21.1 1.3.4 response (00:59:29)",
	  1, 8, 59 * 60 + 29, { 0x00, 0x95, 0x92 } },
};

static void
test_tr_timer(void **state)
{
	const struct tr_timer_vec *v = *state;
	const struct cat_cmd_details det = DET(1, CAT_TIMER_MANAGEMENT,
					       v->qualifier);
	uint8_t extra[8], out[32], exp[20];
	uint32_t back;
	int r;

	extra[0] = 0xA4;
	extra[1] = 0x01;
	extra[2] = v->id;
	extra[3] = 0xA5;
	extra[4] = 0x03;
	cat_timer_value_encode(extra + 5, v->seconds);
	assert_memory_equal(extra + 5, v->value, 3);
	assert_int_equal(cat_timer_value_decode(v->value, &back), 0);
	assert_int_equal(back, v->seconds);

	memcpy(exp, "\x81\x03\x01\x27\x00\x82\x02\x82\x81\x83\x01\x00"
	       "\xA4\x01\x00\xA5\x03", 17);
	exp[4] = v->qualifier;
	exp[14] = v->id;
	memcpy(exp + 17, v->value, 3);
	r = cat_tr_build(out, sizeof(out), &det, CAT_RES_OK, NULL, 0, extra,
			 sizeof(extra));
	assert_int_equal(r, sizeof(exp));
	assert_memory_equal(out, exp, sizeof(exp));
}

/* Result with long additional information: 83 81 LL. */
static void
test_tr_long_result(void **state)
{
	const struct cat_cmd_details det = DET(3, CAT_SEND_SHORT_MESSAGE, 0);
	uint8_t addl[200], out[256];
	int r;

	(void)state;
	memset(addl, 0x5A, sizeof(addl));
	r = cat_tr_build(out, sizeof(out), &det, CAT_RES_TERMINAL_UNABLE, addl,
			 sizeof(addl), NULL, 0);
	assert_int_equal(r, 9 + 3 + 1 + 200);
	assert_memory_equal(out, "\x81\x03\x03\x13\x00\x82\x02\x82\x81"
			    "\x83\x81\xC9\x20", 13);
	assert_memory_equal(out + 13, addl, sizeof(addl));
	/* a NULL buffer with a length is a caller bug */
	assert_int_equal(cat_tr_build(out, sizeof(out), &det, 0, NULL, 1,
				      NULL, 0), -EINVAL);
	assert_int_equal(cat_tr_build(NULL, 0, &det, 0, NULL, 0, NULL, 0),
			 -ENOSPC);
}

/* ---- timer values and durations ------------------------------------- */

static void
test_timer_value_roundtrip(void **state)
{
	uint8_t v[3];
	uint32_t s, back;

	(void)state;
	for (s = 0; s <= 86399; s += 7) {
		cat_timer_value_encode(v, s);
		back = 0xFFFFFFFF;
		assert_int_equal(cat_timer_value_decode(v, &back), 0);
		assert_int_equal(back, s);
	}
	cat_timer_value_encode(v, 86399);
	assert_memory_equal(v, "\x32\x95\x95", 3);
	cat_timer_value_encode(v, 5);
	assert_memory_equal(v, "\x00\x00\x50", 3);
	cat_timer_value_encode(v, 3600 + 2 * 60 + 3);
	assert_memory_equal(v, "\x10\x20\x30", 3);
	cat_timer_value_encode(v, CAT_TIMER_VALUE_MAX);
	assert_memory_equal(v, "\x99\x95\x95", 3);
	cat_timer_value_encode(v, UINT32_MAX);	/* clamped */
	assert_memory_equal(v, "\x99\x95\x95", 3);
	assert_int_equal(cat_timer_value_decode(v, &back), 0);
	assert_int_equal(back, CAT_TIMER_VALUE_MAX);
}

static void
test_timer_value_invalid(void **state)
{
	static const uint8_t bad[][3] = {
		{ 0x0A, 0x00, 0x00 },	/* nibble > 9, each position */
		{ 0xA0, 0x00, 0x00 },
		{ 0x00, 0x0A, 0x00 },
		{ 0x00, 0xA0, 0x00 },
		{ 0x00, 0x00, 0x0F },
		{ 0x00, 0x00, 0xF0 },
		{ 0x00, 0x06, 0x00 },	/* 60 minutes */
		{ 0x00, 0x00, 0x06 },	/* 60 seconds */
		{ 0x00, 0x99, 0x00 },	/* 99 minutes */
		{ 0xFF, 0xFF, 0xFF },
	};
	uint32_t s = 1234;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(cat_timer_value_decode(bad[i], &s), -EINVAL);
		assert_int_equal(s, 1234);	/* untouched */
	}
}

static void
test_duration_ms(void **state)
{
	static const struct {
		struct cat_duration d;
		uint32_t ms;
	} v[] = {
		{ { 0x00, 1 }, 60000 },
		{ { 0x00, 255 }, 15300000 },
		{ { 0x01, 20 }, 20000 },
		{ { 0x01, 255 }, 255000 },
		{ { 0x02, 1 }, 100 },
		{ { 0x02, 2 }, 200 },
		{ { 0x02, 0 }, 0 },	/* interval 00 reserved */
		{ { 0x03, 5 }, 0 },	/* unit reserved */
		{ { 0xFF, 5 }, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++)
		assert_int_equal(cat_duration_ms(&v[i].d), v[i].ms);
}

static void
test_duration_from_ms(void **state)
{
	static const struct {
		uint32_t ms;
		uint8_t unit, interval;
	} v[] = {
		{ 0, 0x02, 1 },		/* 00 reserved: the shortest */
		{ 1, 0x02, 1 },
		{ 100, 0x02, 1 },
		{ 101, 0x02, 2 },
		{ 1000, 0x01, 1 },	/* tie tenths/seconds: seconds */
		{ 1500, 0x02, 15 },
		{ 20000, 0x01, 20 },	/* POLL INTERVAL 1.1.1 */
		{ 25000, 0x01, 25 },
		{ 25500, 0x02, 255 },
		{ 25501, 0x01, 26 },
		{ 60000, 0x01, 60 },	/* tie seconds/minutes: seconds */
		{ 255000, 0x01, 255 },
		{ 255001, 0x00, 5 },
		{ 300000, 0x00, 5 },
		{ 15300000, 0x00, 255 },
		{ 15300001, 0x00, 255 },	/* clamped to the longest */
		{ UINT32_MAX, 0x00, 255 },
	};
	struct cat_duration d;
	uint32_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		cat_duration_from_ms(&d, v[i].ms);
		assert_int_equal(d.unit, v[i].unit);
		assert_int_equal(d.interval, v[i].interval);
	}
	/* never shorter than asked, within range */
	for (ms = 0; ms <= 15300000; ms += 997) {
		cat_duration_from_ms(&d, ms);
		assert_true(cat_duration_ms(&d) >= ms);
		assert_true(d.interval != 0 && d.unit <= 2);
	}
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(cat_cmd_name(CAT_TIMER_MANAGEMENT),
			    "TIMER MANAGEMENT");
	assert_string_equal(cat_cmd_name(CAT_GET_CHANNEL_STATUS),
			    "GET CHANNEL STATUS");
	assert_string_equal(cat_cmd_name(0x21), "unknown command");
	assert_string_equal(cat_result_name(CAT_RES_VALUES_MISSING),
			    "error, required values are missing");
	assert_string_equal(cat_result_name(0x99), "unknown result");
}

#define NFIXED	8

int
main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(dec_vecs) + ARRAY_SIZE(tr_vecs) +
				ARRAY_SIZE(tr_timer_vecs) + NFIXED];
	const struct CMUnitTest fixed[NFIXED] = {
		cmocka_unit_test(test_decode_truncations),
		cmocka_unit_test(test_decode_long_form),
		cmocka_unit_test(test_tr_long_result),
		cmocka_unit_test(test_timer_value_roundtrip),
		cmocka_unit_test(test_timer_value_invalid),
		cmocka_unit_test(test_duration_ms),
		cmocka_unit_test(test_duration_from_ms),
		cmocka_unit_test(test_names),
	};
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(dec_vecs); i++)
		tests[n++] = (struct CMUnitTest){
			.name = dec_vecs[i].name, .test_func = test_decode,
			.initial_state = (void *)(uintptr_t)&dec_vecs[i] };
	for (i = 0; i < ARRAY_SIZE(tr_vecs); i++)
		tests[n++] = (struct CMUnitTest){
			.name = tr_vecs[i].name, .test_func = test_tr,
			.initial_state = (void *)(uintptr_t)&tr_vecs[i] };
	for (i = 0; i < ARRAY_SIZE(tr_timer_vecs); i++)
		tests[n++] = (struct CMUnitTest){
			.name = tr_timer_vecs[i].name,
			.test_func = test_tr_timer,
			.initial_state = (void *)(uintptr_t)&tr_timer_vecs[i] };
	for (i = 0; i < NFIXED; i++)
		tests[n++] = fixed[i];
	return cmocka_run_group_tests_name("proactive", tests, NULL, NULL);
}
