/* SPDX-License-Identifier: MIT */
/*
 * BIP codec: OPEN CHANNEL / SEND DATA / RECEIVE DATA decoding, the objects
 * of the BIP TERMINAL RESPONSEs, the BIP event envelopes and the Terminal
 * Applications envelope.
 *
 * Vectors are data, one test each, named by their clause: 3GPP TS 31.124
 * (ETSI TS 102 384) clause 27.22.4.x / 27.22.7.x, expected sequence n.m,
 * command or response k ("2.1.1").  They were re-entered from the
 * specifications' byte strings as collected in PROTOCOL.md and in oFono's
 * unit/test-stkutil.c (bytes only).  Vectors marked "by hand" are not
 * printed there and were built from the TS 102 223 / TS 31.111 coding.
 * Every command vector is also run through cat_cmd_decode(), which the
 * engine calls first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bip/codec.h"
#include "card/tlv.h"
#include "cat/envelope.h"
#include "cat/proactive.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define B(...)		(const uint8_t[]){ __VA_ARGS__ }, \
			sizeof((const uint8_t[]){ __VA_ARGS__ })
#define DET(n, t, q)	{ .number = (n), .type = (t), .qualifier = (q) }

#define R32	CAT_RES_DATA_NOT_UNDERSTOOD
#define R36	CAT_RES_VALUES_MISSING

/* Heap copy of exactly len bytes, so that ASan sees any overread. */
static uint8_t *
dup_exact(const uint8_t *p, size_t len)
{
	uint8_t *c = test_malloc(len > 0 ? len : 1);

	if (len > 0)
		memcpy(c, p, len);
	return c;
}

static int
cmd_decode(const uint8_t *p, size_t len)
{
	struct cat_cmd cmd;
	uint8_t *c = dup_exact(p, len);
	int r = cat_cmd_decode(c, len, &cmd);

	test_free(c);
	return r;
}

/* ---- OPEN CHANNEL --------------------------------------------------- */

/* The GPRS bearer of 27.22.4.27 2.x: precedence 3, delay 4, reliability 3,
 * peak 4, mean 31, PDP type IP. */
#define GPRS_BEARER	.has_bearer = true, .bearer_len = 7, \
			.bearer = { 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02 }
#define UDP_AD9C	.has_transport = true, .transport = BIP_UDP_REMOTE, \
			.port = 0xAD9C
#define DEST_1111	.dest = { 4, { 1, 1, 1, 1 } }

struct open_vec {
	const char *name;
	const uint8_t *pdu;
	size_t len;
	int cat_ret;		/* cat_cmd_decode() */
	int ret;		/* bip_open_decode() */
	struct bip_open exp;	/* on 0 */
};

static const struct open_vec open_vecs[] = {
	{ "OPEN CHANNEL 27.22.4.27 2.1.1 (GPRS, login, password)",
	  B(0xD0, 0x36, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02,
	    0x05, 0x78, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x4C, 0x6F,
	    0x67, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x50, 0x77, 0x64,
	    0x3C, 0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05, 0x21, 0x01, 0x01, 0x01,
	    0x01),
	  0, 0, { .qualifier = 0x01, GPRS_BEARER, .buffer_size = 1400,
		  UDP_AD9C, DEST_1111 } },
	{ "OPEN CHANNEL 27.22.4.27 2.2.1 (network access name)",
	  B(0xD0, 0x42, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02,
	    0x05, 0x78, 0x47, 0x0A, 0x06, 0x54, 0x65, 0x73, 0x74, 0x47, 0x70,
	    0x02, 0x72, 0x73, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x4C,
	    0x6F, 0x67, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x50, 0x77,
	    0x64, 0x3C, 0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05, 0x21, 0x01, 0x01,
	    0x01, 0x01),
	  0, 0, { .qualifier = 0x01, GPRS_BEARER, .buffer_size = 1400,
		  UDP_AD9C, DEST_1111, .apn = "TestGp.rs" } },
	{ "OPEN CHANNEL 27.22.4.27 2.3.1 (alpha identifier)",
	  B(0xD0, 0x4B, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x05, 0x07, 0x4F, 0x70, 0x65, 0x6E, 0x20, 0x49, 0x44, 0x35, 0x07,
	    0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02, 0x05, 0x78,
	    0x47, 0x0A, 0x06, 0x54, 0x65, 0x73, 0x74, 0x47, 0x70, 0x02, 0x72,
	    0x73, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x4C, 0x6F, 0x67,
	    0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x50, 0x77, 0x64, 0x3C,
	    0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05, 0x21, 0x01, 0x01, 0x01, 0x01),
	  0, 0, { .qualifier = 0x01, GPRS_BEARER, .buffer_size = 1400,
		  UDP_AD9C, DEST_1111, .apn = "TestGp.rs" } },
	{ "OPEN CHANNEL 27.22.4.27 2.4.1 (null alpha identifier)",
	  B(0xD0, 0x44, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x05, 0x00, 0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02,
	    0x39, 0x02, 0x05, 0x78, 0x47, 0x0A, 0x06, 0x54, 0x65, 0x73, 0x74,
	    0x47, 0x70, 0x02, 0x72, 0x73, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65,
	    0x72, 0x4C, 0x6F, 0x67, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72,
	    0x50, 0x77, 0x64, 0x3C, 0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05, 0x21,
	    0x01, 0x01, 0x01, 0x01),
	  0, 0, { .qualifier = 0x01, GPRS_BEARER, .buffer_size = 1400,
		  UDP_AD9C, DEST_1111, .apn = "TestGp.rs" } },
	{ "OPEN CHANNEL 27.22.4.27 5.1.1 (text attribute D0 with CR)",
	  B(0xD0, 0x53, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x05, 0x09, 0x4F, 0x70, 0x65, 0x6E, 0x20, 0x49, 0x44, 0x20, 0x31,
	    0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02,
	    0x05, 0x78, 0x47, 0x0A, 0x06, 0x54, 0x65, 0x73, 0x74, 0x47, 0x70,
	    0x02, 0x72, 0x73, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x4C,
	    0x6F, 0x67, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x50, 0x77,
	    0x64, 0x3C, 0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05, 0x21, 0x01, 0x01,
	    0x01, 0x01, 0xD0, 0x04, 0x00, 0x09, 0x00, 0xB4),
	  0, 0, { .qualifier = 0x01, GPRS_BEARER, .buffer_size = 1400,
		  UDP_AD9C, DEST_1111, .apn = "TestGp.rs" } },
	{ "OPEN CHANNEL default bearer, TCP 127.0.0.1:80 (by hand)",
	  B(0xD0, 0x1C, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x3C, 0x03, 0x02, 0x00,
	    0x50, 0x3E, 0x05, 0x21, 0x7F, 0x00, 0x00, 0x01),
	  0, 0, { .qualifier = 0x01, .has_bearer = true, .bearer_len = 1,
		  .bearer = { BIP_BEARER_DEFAULT }, .buffer_size = 1400,
		  .has_transport = true, .transport = BIP_TCP_REMOTE,
		  .port = 80, .dest = { 4, { 127, 0, 0, 1 } } } },
	{ "OPEN CHANNEL UICC server mode, TCP port 3516 (by hand)",
	  B(0xD0, 0x12, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x39, 0x02, 0x05, 0xDC, 0x3C, 0x03, 0x03, 0x0D, 0xBC),
	  0, 0, { .qualifier = 0x01, .buffer_size = 1500,
		  .has_transport = true, .transport = BIP_TCP_SERVER,
		  .port = 3516 } },
	{ "OPEN CHANNEL UICC server mode with alpha identifier (by hand)",
	  B(0xD0, 0x18, 0x81, 0x03, 0x01, 0x40, 0x00, 0x82, 0x02, 0x81, 0x82,
	    0x85, 0x04, 0x53, 0x43, 0x57, 0x53, 0x39, 0x02, 0x00, 0xFF, 0x3C,
	    0x03, 0x03, 0x0D, 0xBC),
	  0, 0, { .qualifier = 0x00, .buffer_size = 255,
		  .has_transport = true, .transport = BIP_TCP_SERVER,
		  .port = 3516 } },
	{ "OPEN CHANNEL default bearer, IPv6 destination (by hand)",
	  B(0xD0, 0x28, 0x81, 0x03, 0x01, 0x40, 0x03, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x3C, 0x03, 0x02, 0x01,
	    0xBB, 0x3E, 0x11, 0x57, 0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01),
	  0, 0, { .qualifier = 0x03, .has_bearer = true, .bearer_len = 1,
		  .bearer = { BIP_BEARER_DEFAULT }, .buffer_size = 1400,
		  .has_transport = true, .transport = BIP_TCP_REMOTE,
		  .port = 443, .dest = { 6, { 0x20, 0x01, 0x0D, 0xB8, 0, 0, 0,
					      0, 0, 0, 0, 0, 0, 0, 0, 1 } } } },
	{ "OPEN CHANNEL local and destination addresses, APN (by hand)",
	  B(0xD0, 0x35, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02,
	    0x05, 0x78, 0x47, 0x0A, 0x06, 0x54, 0x65, 0x73, 0x74, 0x47, 0x70,
	    0x02, 0x72, 0x73, 0x3E, 0x05, 0x21, 0x0A, 0x00, 0x00, 0x02, 0x3C,
	    0x03, 0x02, 0xAD, 0x9C, 0x3E, 0x05, 0x21, 0x01, 0x01, 0x01, 0x01),
	  0, 0, { .qualifier = 0x01, GPRS_BEARER, .buffer_size = 1400,
		  .has_transport = true, .transport = BIP_TCP_REMOTE,
		  .port = 0xAD9C, .local = { 4, { 10, 0, 0, 2 } }, DEST_1111,
		  .apn = "TestGp.rs" } },
	{ "OPEN CHANNEL empty local address: dynamic (by hand)",
	  B(0xD0, 0x24, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02,
	    0x05, 0x78, 0x3E, 0x00, 0x3C, 0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05,
	    0x21, 0x01, 0x01, 0x01, 0x01),
	  0, 0, { .qualifier = 0x01, GPRS_BEARER, .buffer_size = 1400,
		  UDP_AD9C, DEST_1111 } },
	{ "OPEN CHANNEL third other address ignored (by hand)",
	  B(0xD0, 0x2A, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x3E, 0x05, 0x21, 0x0A,
	    0x00, 0x00, 0x02, 0x3C, 0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05, 0x21,
	    0x01, 0x01, 0x01, 0x01, 0x3E, 0x05, 0x22, 0x09, 0x09, 0x09, 0x09),
	  0, 0, { .qualifier = 0x01, .has_bearer = true, .bearer_len = 1,
		  .bearer = { BIP_BEARER_DEFAULT }, .buffer_size = 1400,
		  UDP_AD9C, .local = { 4, { 10, 0, 0, 2 } }, DEST_1111 } },
	{ "OPEN CHANNEL terminal server mode, TCP local, no bearer (by hand)",
	  B(0xD0, 0x12, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x39, 0x02, 0x00, 0xFF, 0x3C, 0x03, 0x05, 0x10, 0x92),
	  0, 0, { .qualifier = 0x01, .buffer_size = 255,
		  .has_transport = true, .transport = BIP_TCP_LOCAL,
		  .port = 0x1092 } },
	{ "OPEN CHANNEL packet bearer without transport level (by hand)",
	  B(0xD0, 0x16, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02,
	    0x05, 0x78),
	  0, 0, { .qualifier = 0x01, GPRS_BEARER, .buffer_size = 1400 } },
	{ "OPEN CHANNEL duplicated buffer size: first wins (by hand)",
	  B(0xD0, 0x19, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x39, 0x02, 0x05, 0xDC, 0x39, 0x01, 0x00, 0x3C, 0x03, 0x03, 0x0D,
	    0xBC, 0x3C, 0x02, 0x00, 0x00),
	  0, 0, { .qualifier = 0x01, .buffer_size = 1500,
		  .has_transport = true, .transport = BIP_TCP_SERVER,
		  .port = 3516 } },
	{ "OPEN CHANNEL APN of one label (by hand)",
	  B(0xD0, 0x1B, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x47, 0x09, 0x08, 0x69,
	    0x6E, 0x74, 0x65, 0x72, 0x6E, 0x65, 0x74),
	  0, 0, { .qualifier = 0x01, .has_bearer = true, .bearer_len = 1,
		  .bearer = { BIP_BEARER_DEFAULT }, .buffer_size = 1400,
		  .apn = "internet" } },
	{ "OPEN CHANNEL empty APN object (by hand)",
	  B(0xD0, 0x12, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x47, 0x00),
	  0, 0, { .qualifier = 0x01, .has_bearer = true, .bearer_len = 1,
		  .bearer = { BIP_BEARER_DEFAULT }, .buffer_size = 1400 } },

	/* -- malformed (all by hand) -- */
	{ "OPEN CHANNEL without buffer size",
	  B(0xD0, 0x32, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x0D, 0x08,
	    0xF4, 0x55, 0x73, 0x65, 0x72, 0x4C, 0x6F, 0x67, 0x0D, 0x08, 0xF4,
	    0x55, 0x73, 0x65, 0x72, 0x50, 0x77, 0x64, 0x3C, 0x03, 0x01, 0xAD,
	    0x9C, 0x3E, 0x05, 0x21, 0x01, 0x01, 0x01, 0x01),
	  0, R36, { .buffer_size = 0 } },
	{ "OPEN CHANNEL buffer size of one byte",
	  B(0xD0, 0x11, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x39, 0x01, 0x05, 0x3C, 0x03, 0x03, 0x0D, 0xBC),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL transport level of two bytes",
	  B(0xD0, 0x35, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02,
	    0x05, 0x78, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x4C, 0x6F,
	    0x67, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x50, 0x77, 0x64,
	    0x3C, 0x02, 0x01, 0xAD, 0x3E, 0x05, 0x21, 0x01, 0x01, 0x01, 0x01),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL transport level of four bytes",
	  B(0xD0, 0x13, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x39, 0x02, 0x05, 0xDC, 0x3C, 0x04, 0x03, 0x0D, 0xBC, 0x00),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL unknown transport type 07",
	  B(0xD0, 0x12, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x39, 0x02, 0x05, 0xDC, 0x3C, 0x03, 0x07, 0x0D, 0xBC),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL transport type 00",
	  B(0xD0, 0x12, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x39, 0x02, 0x05, 0xDC, 0x3C, 0x03, 0x00, 0x0D, 0xBC),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL address type 22",
	  B(0xD0, 0x36, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02,
	    0x05, 0x78, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x4C, 0x6F,
	    0x67, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x50, 0x77, 0x64,
	    0x3C, 0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05, 0x22, 0x01, 0x01, 0x01,
	    0x01),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL IPv4 address of three bytes",
	  B(0xD0, 0x1B, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x3C, 0x03, 0x02, 0x00,
	    0x50, 0x3E, 0x04, 0x21, 0x7F, 0x00, 0x01),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL IPv6 address of fifteen bytes",
	  B(0xD0, 0x27, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x3C, 0x03, 0x02, 0x01,
	    0xBB, 0x3E, 0x10, 0x57, 0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL IPv6 type with an IPv4 address",
	  B(0xD0, 0x1C, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x3C, 0x03, 0x02, 0x00,
	    0x50, 0x3E, 0x05, 0x57, 0x7F, 0x00, 0x00, 0x01),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL bad local address",
	  B(0xD0, 0x24, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02,
	    0x05, 0x78, 0x3E, 0x00, 0x3C, 0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05,
	    0x31, 0x01, 0x01, 0x01, 0x01),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL APN label overrun",
	  B(0xD0, 0x42, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02,
	    0x05, 0x78, 0x47, 0x0A, 0x06, 0x54, 0x65, 0x73, 0x74, 0x47, 0x70,
	    0x04, 0x72, 0x73, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x4C,
	    0x6F, 0x67, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x50, 0x77,
	    0x64, 0x3C, 0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05, 0x21, 0x01, 0x01,
	    0x01, 0x01),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL APN with an empty label",
	  B(0xD0, 0x19, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x47, 0x07, 0x02, 0x61,
	    0x62, 0x00, 0x02, 0x63, 0x64),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL APN with a dot inside a label",
	  B(0xD0, 0x17, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x47, 0x05, 0x04, 0x61,
	    0x2E, 0x62, 0x63),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL APN with a control character",
	  B(0xD0, 0x16, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x47, 0x04, 0x03, 0x61,
	    0x0A, 0x62),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL empty bearer description",
	  B(0xD0, 0x14, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x00, 0x39, 0x02, 0x05, 0x78, 0x3C, 0x03, 0x03, 0x0D, 0xBC),
	  0, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL neither bearer nor transport level",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x39, 0x02, 0x05, 0x78),
	  0, R36, { .buffer_size = 0 } },
	{ "OPEN CHANNEL remote UDP client without bearer",
	  B(0xD0, 0x19, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x39, 0x02, 0x05, 0x78, 0x3C, 0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05,
	    0x21, 0x01, 0x01, 0x01, 0x01),
	  0, R36, { .buffer_size = 0 } },
	{ "OPEN CHANNEL remote TCP client without destination",
	  B(0xD0, 0x15, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x3C, 0x03, 0x02, 0x00,
	    0x50),
	  0, R36, { .buffer_size = 0 } },
	{ "OPEN CHANNEL remote client with an empty destination",
	  B(0xD0, 0x17, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x3C, 0x03, 0x02, 0x00,
	    0x50, 0x3E, 0x00),
	  0, R36, { .buffer_size = 0 } },
	{ "OPEN CHANNEL missing buffer size before bad transport: 36",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x3C, 0x02, 0x03, 0x0D),
	  0, R36, { .buffer_size = 0 } },
	{ "OPEN CHANNEL object truncated inside D0",
	  B(0xD0, 0x14, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x39, 0x02, 0x05, 0x78, 0x3C, 0x03, 0x03, 0x0D, 0xBC, 0x3E, 0x05),
	  R32, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL D0 length beyond the data",
	  B(0xD0, 0x36, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x39, 0x02, 0x05, 0x78, 0x3C, 0x03, 0x03, 0x0D, 0xBC),
	  R32, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL not a D0 template",
	  B(0xD6, 0x12, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	    0x39, 0x02, 0x05, 0xDC, 0x3C, 0x03, 0x03, 0x0D, 0xBC),
	  -EBADMSG, R32, { .buffer_size = 0 } },
	{ "OPEN CHANNEL command details not first",
	  B(0xD0, 0x12, 0x82, 0x02, 0x81, 0x82, 0x81, 0x03, 0x01, 0x40, 0x01,
	    0x39, 0x02, 0x05, 0xDC, 0x3C, 0x03, 0x03, 0x0D, 0xBC),
	  -EBADMSG, R32, { .buffer_size = 0 } },
};

static void
check_address(const struct bip_address *got, const struct bip_address *exp)
{
	assert_int_equal(got->family, exp->family);
	if (exp->family != 0)
		assert_memory_equal(got->addr, exp->addr,
				    exp->family == 4 ? 4 : 16);
}

static void
check_open(const struct bip_open *got, const struct bip_open *exp)
{
	assert_int_equal(got->qualifier, exp->qualifier);
	assert_int_equal(got->has_bearer, exp->has_bearer);
	assert_int_equal(got->bearer_len, exp->bearer_len);
	if (exp->bearer_len > 0)
		assert_memory_equal(got->bearer, exp->bearer, exp->bearer_len);
	assert_int_equal(got->buffer_size, exp->buffer_size);
	assert_int_equal(got->has_transport, exp->has_transport);
	assert_int_equal(got->transport, exp->transport);
	assert_int_equal(got->port, exp->port);
	check_address(&got->local, &exp->local);
	check_address(&got->dest, &exp->dest);
	assert_string_equal(got->apn, exp->apn);
}

static void
test_open(void **state)
{
	const struct open_vec *v = *state;
	struct bip_open o;
	uint8_t *copy;
	int r;

	assert_int_equal(cmd_decode(v->pdu, v->len), v->cat_ret);
	copy = dup_exact(v->pdu, v->len);
	r = bip_open_decode(copy, v->len, &o);
	test_free(copy);
	assert_int_equal(r, v->ret);
	if (r == 0)
		check_open(&o, &v->exp);
}

/* Every proper prefix of OPEN CHANNEL 2.1.1: 32, never a crash. */
static void
test_open_truncations(void **state)
{
	const struct open_vec *v = &open_vecs[0];
	struct bip_open o;
	uint8_t *copy;
	size_t n;

	(void)state;
	for (n = 0; n < v->len; n++) {
		copy = dup_exact(v->pdu, n);
		assert_int_equal(bip_open_decode(copy, n, &o), R32);
		test_free(copy);
	}
	assert_int_equal(bip_open_decode(NULL, 0, &o), R32);
}

/* OPEN CHANNEL with an APN of exactly 100 characters, then 101. */
static void
test_open_apn_bound(void **state)
{
	static const uint8_t head[] = {
		0xD0, 0x00, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81,
		0x82, 0x35, 0x01, 0x03, 0x39, 0x02, 0x05, 0x78, 0x47, 0x00,
	};
	uint8_t pdu[sizeof(head) + 102];
	struct bip_open o;
	size_t n, i, k;

	(void)state;
	for (n = 100; n <= 101; n++) {
		/* labels of 9 characters: "aaaaaaaaa.bbbbbbbbb..." */
		memcpy(pdu, head, sizeof(head));
		k = sizeof(head);
		for (i = 0; i < n;) {
			/* the last label takes what is left (<= 10) */
			size_t lab = n - i <= 10 ? n - i : 9;

			pdu[k++] = (uint8_t)lab;
			memset(pdu + k, 'a' + (int)(i / 10), lab);
			k += lab;
			i += lab + 1;	/* one more for the dot */
		}
		pdu[19] = (uint8_t)(k - sizeof(head));
		pdu[1] = (uint8_t)(k - 2);
		assert_int_equal(cmd_decode(pdu, k), 0);
		if (n == 100) {
			assert_int_equal(bip_open_decode(pdu, k, &o), 0);
			assert_int_equal(strlen(o.apn), 100);
			assert_int_equal(o.apn[9], '.');
		} else {
			assert_int_equal(bip_open_decode(pdu, k, &o), R32);
		}
	}
}

/* A bearer description of 32 bytes fits bearer[], 33 does not. */
static void
test_open_bearer_bound(void **state)
{
	uint8_t pdu[2 + 9 + 2 + 33 + 4 + 5];
	struct bip_open o;
	size_t blen, k;

	(void)state;
	for (blen = 32; blen <= 33; blen++) {
		k = 0;
		pdu[k++] = 0xD0;
		pdu[k++] = 0;
		memcpy(pdu + k, "\x81\x03\x01\x40\x01\x82\x02\x81\x82", 9);
		k += 9;
		pdu[k++] = 0x35;
		pdu[k++] = (uint8_t)blen;
		pdu[k] = BIP_BEARER_EUTRAN;
		memset(pdu + k + 1, 0x09, blen - 1);
		k += blen;
		memcpy(pdu + k, "\x39\x02\x05\x78\x3C\x03\x03\x0D\xBC", 9);
		k += 9;
		pdu[1] = (uint8_t)(k - 2);
		assert_int_equal(cmd_decode(pdu, k), 0);
		if (blen == 32) {
			assert_int_equal(bip_open_decode(pdu, k, &o), 0);
			assert_int_equal(o.bearer_len, 32);
			assert_int_equal(o.bearer[0], BIP_BEARER_EUTRAN);
		} else {
			assert_int_equal(bip_open_decode(pdu, k, &o), R32);
		}
	}
}

/* ---- SEND DATA / RECEIVE DATA / other commands ---------------------- */

struct data_vec {
	const char *name;
	const uint8_t *pdu;
	size_t len;
	int cat_ret;
	int ret;
	uint8_t type;			/* which decoder */
	const uint8_t *data;		/* SEND DATA */
	size_t dlen;
	uint8_t want;			/* RECEIVE DATA */
};

#define SEND	CAT_SEND_DATA
#define RECV	CAT_RECEIVE_DATA
#define D07	(const uint8_t[]){ 0, 1, 2, 3, 4, 5, 6, 7 }, 8

static const struct data_vec data_vecs[] = {
	{ "SEND DATA 27.22.4.30 1.1.1 (immediate)",
	  B(0xD0, 0x13, 0x81, 0x03, 0x01, 0x43, 0x01, 0x82, 0x02, 0x81, 0x21,
	    0xB6, 0x08, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07),
	  0, 0, SEND, D07, 0 },
	{ "SEND DATA 27.22.4.30 2.1.1 (alpha identifier, text attribute)",
	  B(0xD0, 0x26, 0x81, 0x03, 0x01, 0x43, 0x01, 0x82, 0x02, 0x81, 0x21,
	    0x85, 0x0B, 0x53, 0x65, 0x6E, 0x64, 0x20, 0x44, 0x61, 0x74, 0x61,
	    0x20, 0x31, 0xB6, 0x08, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	    0x07, 0xD0, 0x04, 0x00, 0x0B, 0x00, 0xB4),
	  0, 0, SEND, D07, 0 },
	{ "SEND DATA store mode, channel data without CR (by hand)",
	  B(0xD0, 0x0F, 0x81, 0x03, 0x01, 0x43, 0x00, 0x82, 0x02, 0x81, 0x22,
	    0x36, 0x04, 0x47, 0x45, 0x54, 0x20),
	  0, 0, SEND, (const uint8_t *)"GET ", 4, 0 },
	{ "SEND DATA empty channel data (by hand)",
	  B(0xD0, 0x0B, 0x81, 0x03, 0x01, 0x43, 0x01, 0x82, 0x02, 0x81, 0x21,
	    0xB6, 0x00),
	  0, 0, SEND, NULL, 0, 0 },
	{ "SEND DATA duplicated channel data: first wins (by hand)",
	  B(0xD0, 0x0F, 0x81, 0x03, 0x01, 0x43, 0x01, 0x82, 0x02, 0x81, 0x21,
	    0xB6, 0x01, 0x41, 0xB6, 0x01, 0x42),
	  0, 0, SEND, (const uint8_t *)"A", 1, 0 },
	{ "SEND DATA without channel data (by hand)",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x43, 0x01, 0x82, 0x02, 0x81, 0x21),
	  0, R36, SEND, NULL, 0, 0 },
	{ "SEND DATA channel data truncated (by hand)",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x43, 0x01, 0x82, 0x02, 0x81, 0x21,
	    0xB6, 0x08, 0x00, 0x01),
	  R32, R32, SEND, NULL, 0, 0 },
	{ "SEND DATA malformed object after channel data (by hand)",
	  B(0xD0, 0x0F, 0x81, 0x03, 0x01, 0x43, 0x01, 0x82, 0x02, 0x81, 0x21,
	    0xB6, 0x01, 0x00, 0x85, 0x05),
	  R32, R32, SEND, NULL, 0, 0 },
	{ "RECEIVE DATA 27.22.4.29 1.1.1 (200 bytes)",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x42, 0x00, 0x82, 0x02, 0x81, 0x21,
	    0xB7, 0x01, 0xC8),
	  0, 0, RECV, NULL, 0, 200 },
	{ "RECEIVE DATA 27.22.4.29 2.1.1 (alpha identifier, text attribute)",
	  B(0xD0, 0x22, 0x81, 0x03, 0x01, 0x42, 0x00, 0x82, 0x02, 0x81, 0x21,
	    0x85, 0x0E, 0x52, 0x65, 0x63, 0x65, 0x69, 0x76, 0x65, 0x20, 0x44,
	    0x61, 0x74, 0x61, 0x20, 0x31, 0xB7, 0x01, 0xC8, 0xD0, 0x04, 0x00,
	    0x0E, 0x00, 0xB4),
	  0, 0, RECV, NULL, 0, 200 },
	{ "RECEIVE DATA channel data length without CR (by hand)",
	  B(0xD0, 0x0C, 0x81, 0x03, 0x01, 0x42, 0x00, 0x82, 0x02, 0x81, 0x27,
	    0x37, 0x01, 0xED),
	  0, 0, RECV, NULL, 0, 237 },
	{ "RECEIVE DATA without channel data length (by hand)",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x42, 0x00, 0x82, 0x02, 0x81, 0x21),
	  0, R36, RECV, NULL, 0, 0 },
	{ "RECEIVE DATA channel data length of two bytes (by hand)",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x42, 0x00, 0x82, 0x02, 0x81, 0x21,
	    0xB7, 0x02, 0x00, 0xC8),
	  0, R32, RECV, NULL, 0, 0 },
	{ "RECEIVE DATA empty channel data length (by hand)",
	  B(0xD0, 0x0B, 0x81, 0x03, 0x01, 0x42, 0x00, 0x82, 0x02, 0x81, 0x21,
	    0xB7, 0x00),
	  0, R32, RECV, NULL, 0, 0 },
	{ "RECEIVE DATA D0 length beyond the data (by hand)",
	  B(0xD0, 0x0D, 0x81, 0x03, 0x01, 0x42, 0x00, 0x82, 0x02, 0x81, 0x21,
	    0xB7, 0x01, 0xC8),
	  R32, R32, RECV, NULL, 0, 0 },
};

static void
test_data(void **state)
{
	const struct data_vec *v = *state;
	const uint8_t *data;
	uint8_t *copy, want;
	size_t dlen;
	int r;

	assert_int_equal(cmd_decode(v->pdu, v->len), v->cat_ret);
	copy = dup_exact(v->pdu, v->len);
	if (v->type == SEND) {
		r = bip_send_decode(copy, v->len, &data, &dlen);
		assert_int_equal(r, v->ret);
		if (r == 0) {
			assert_int_equal(dlen, v->dlen);
			/* points into the command, never a copy */
			assert_true(data >= copy &&
				    data + dlen <= copy + v->len);
			if (v->dlen > 0)
				assert_memory_equal(data, v->data, v->dlen);
		} else {
			assert_null(data);
			assert_int_equal(dlen, 0);
		}
	} else {
		r = bip_receive_decode(copy, v->len, &want);
		assert_int_equal(r, v->ret);
		assert_int_equal(want, r == 0 ? v->want : 0);
	}
	test_free(copy);
}

/* SEND DATA 27.22.4.30 1.2.1: store mode, 200 bytes in the 81 LL form. */
static void
test_send_data_121(void **state)
{
	static const uint8_t head[] = {
		0xD0, 0x81, 0xD4, 0x81, 0x03, 0x01, 0x43, 0x00, 0x82, 0x02,
		0x81, 0x21, 0xB6, 0x81, 0xC8,
	};
	static const uint8_t tr[] = {
		0x81, 0x03, 0x01, 0x43, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83,
		0x01, 0x00, 0xB7, 0x01, 0xFF,
	};
	uint8_t pdu[sizeof(head) + 200], extra[3], out[sizeof(tr)];
	struct cat_cmd cmd;
	const uint8_t *data;
	size_t dlen, i;
	int n;

	(void)state;
	memcpy(pdu, head, sizeof(head));
	for (i = 0; i < 200; i++)
		pdu[sizeof(head) + i] = (uint8_t)i;
	assert_int_equal(cat_cmd_decode(pdu, sizeof(pdu), &cmd), 0);
	assert_int_equal(cmd.det.qualifier, 0x00);
	assert_int_equal(bip_channel_of(cmd.dst), 1);
	assert_int_equal(bip_send_decode(pdu, sizeof(pdu), &data, &dlen), 0);
	assert_int_equal(dlen, 200);
	assert_ptr_equal(data, pdu + sizeof(head));
	/* the response: more than 255 bytes of Tx buffer left */
	n = bip_put_data_length(extra, sizeof(extra), 1400 - 200);
	assert_int_equal(n, 3);
	assert_int_equal(cat_tr_build(out, sizeof(out), &cmd.det, CAT_RES_OK,
				      NULL, 0, extra, (size_t)n),
			 (int)sizeof(tr));
	assert_memory_equal(out, tr, sizeof(tr));
}

/* Every proper prefix of SEND DATA 1.1.1 and RECEIVE DATA 1.1.1: 32. */
static void
test_data_truncations(void **state)
{
	const struct data_vec *s = &data_vecs[0], *rv = &data_vecs[8];
	const uint8_t *data;
	uint8_t *copy, want;
	size_t n, dlen;

	(void)state;
	assert_int_equal(rv->type, RECV);
	for (n = 0; n < s->len; n++) {
		copy = dup_exact(s->pdu, n);
		assert_int_equal(bip_send_decode(copy, n, &data, &dlen), R32);
		test_free(copy);
	}
	for (n = 0; n < rv->len; n++) {
		copy = dup_exact(rv->pdu, n);
		assert_int_equal(bip_receive_decode(copy, n, &want), R32);
		test_free(copy);
	}
	assert_int_equal(bip_send_decode(NULL, 0, &data, &dlen), R32);
	assert_int_equal(bip_receive_decode(NULL, 0, &want), R32);
}

/* Commands with nothing for the codec: cat_cmd_decode() alone. */
struct cmd_vec {
	const char *name;
	const uint8_t *pdu;
	size_t len;
	uint8_t type, dst;
};

static const struct cmd_vec cmd_vecs[] = {
	{ "CLOSE CHANNEL 27.22.4.28 1.1.1",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x41, 0x00, 0x82, 0x02, 0x81, 0x21),
	  CAT_CLOSE_CHANNEL, 0x21 },
	{ "CLOSE CHANNEL 27.22.4.28 2.1.1 (alpha identifier, text attribute)",
	  B(0xD0, 0x1B, 0x81, 0x03, 0x01, 0x41, 0x00, 0x82, 0x02, 0x81, 0x21,
	    0x85, 0x0A, 0x43, 0x6C, 0x6F, 0x73, 0x65, 0x20, 0x49, 0x44, 0x20,
	    0x31, 0xD0, 0x04, 0x00, 0x0A, 0x00, 0xB4),
	  CAT_CLOSE_CHANNEL, 0x21 },
	{ "GET CHANNEL STATUS 27.22.4.31 1.1.1",
	  B(0xD0, 0x09, 0x81, 0x03, 0x01, 0x44, 0x00, 0x82, 0x02, 0x81, 0x82),
	  CAT_GET_CHANNEL_STATUS, CAT_DEV_TERMINAL },
};

static void
test_cmd(void **state)
{
	const struct cmd_vec *v = *state;
	struct cat_cmd cmd;
	uint8_t *copy = dup_exact(v->pdu, v->len);

	assert_int_equal(cat_cmd_decode(copy, v->len, &cmd), 0);
	test_free(copy);
	assert_int_equal(cmd.det.type, v->type);
	assert_int_equal(cmd.src, CAT_DEV_UICC);
	assert_int_equal(cmd.dst, v->dst);
}

static void
test_channel_of(void **state)
{
	unsigned d;

	(void)state;
	for (d = 0; d <= 0xFF; d++)
		assert_int_equal(bip_channel_of((uint8_t)d),
				 d >= 0x21 && d <= 0x27 ? d - 0x20 : 0);
}

/* ---- TERMINAL RESPONSEs --------------------------------------------- */

static const uint8_t gprs_bearer[] = {
	0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02
};
static const uint8_t default_bearer[] = { BIP_BEARER_DEFAULT };

/* Append one object to the extra buffer; fail the test on an error. */
#define PUT(call)	do {						\
		int n_ = (call);					\
		assert_true(n_ > 0);					\
		k += (size_t)n_;					\
	} while (0)

static size_t
extra_open_211(uint8_t *o, size_t cap)
{
	size_t k = 0;

	PUT(bip_put_channel_status(o + k, cap - k,
				   BIP_CS_LINK_UP | 1, BIP_CS_NO_INFO));
	PUT(bip_put_bearer(o + k, cap - k, gprs_bearer, sizeof(gprs_bearer)));
	PUT(bip_put_buffer_size(o + k, cap - k, 1400));
	return k;
}

static size_t
extra_open_271(uint8_t *o, size_t cap)
{
	size_t k = 0;

	PUT(bip_put_bearer(o + k, cap - k, gprs_bearer, sizeof(gprs_bearer)));
	PUT(bip_put_buffer_size(o + k, cap - k, 1400));
	return k;
}

static size_t
extra_open_modified(uint8_t *o, size_t cap)
{
	size_t k = 0;

	PUT(bip_put_channel_status(o + k, cap - k, BIP_CS_LINK_UP | 2, 0));
	PUT(bip_put_bearer(o + k, cap - k, default_bearer, 1));
	PUT(bip_put_buffer_size(o + k, cap - k, 1024));
	return k;
}

static size_t
extra_open_server(uint8_t *o, size_t cap)
{
	size_t k = 0;

	PUT(bip_put_channel_status(o + k, cap - k, BIP_CS_LISTEN | 1, 0));
	PUT(bip_put_buffer_size(o + k, cap - k, 1500));
	return k;
}

static size_t
extra_len_ff(uint8_t *o, size_t cap)
{
	size_t k = 0;

	PUT(bip_put_data_length(o + k, cap - k, 256));
	return k;
}

static size_t
extra_gcs_none(uint8_t *o, size_t cap)
{
	size_t k = 0;

	PUT(bip_put_channel_status_list(o + k, cap - k, NULL, 0));
	return k;
}

static size_t
extra_gcs_121(uint8_t *o, size_t cap)
{
	static const uint8_t st[1][2] = { { BIP_CS_LINK_UP | 1, 0x00 } };
	size_t k = 0;

	PUT(bip_put_channel_status_list(o + k, cap - k, st, 1));
	return k;
}

static size_t
extra_gcs_131(uint8_t *o, size_t cap)
{
	static const uint8_t st[1][2] = { { 1, BIP_CS_LINK_DROPPED } };
	size_t k = 0;

	PUT(bip_put_channel_status_list(o + k, cap - k, st, 1));
	return k;
}

static size_t
extra_gcs_three(uint8_t *o, size_t cap)
{
	static const uint8_t st[3][2] = {
		{ BIP_CS_LINK_UP | 1, 0x00 },		/* client, up */
		{ BIP_CS_LISTEN | 2, 0x00 },		/* server, listen */
		{ BIP_CS_ESTABLISHED | 3, 0x00 },	/* server, connected */
	};
	size_t k = 0;

	PUT(bip_put_channel_status_list(o + k, cap - k, st, 3));
	return k;
}

static size_t
extra_recv_short(uint8_t *o, size_t cap)
{
	size_t k = 0;

	PUT(bip_put_channel_data(o + k, cap - k, (const uint8_t *)"HTTP/", 5));
	PUT(bip_put_data_length(o + k, cap - k, 3));
	return k;
}

static size_t
extra_recv_empty(uint8_t *o, size_t cap)
{
	size_t k = 0;

	PUT(bip_put_channel_data(o + k, cap - k, NULL, 0));
	PUT(bip_put_data_length(o + k, cap - k, 0));
	return k;
}

struct tr_vec {
	const char *name;
	struct cat_cmd_details det;
	uint8_t result;
	const uint8_t *addl;
	size_t addl_len;
	size_t (*extra)(uint8_t *out, size_t cap);	/* NULL: none */
	const uint8_t *exp;
	size_t exp_len;
};

#define NONE	NULL, 0
#define TR_HEAD(type, q)	0x81, 0x03, 0x01, (type), (q), \
				0x82, 0x02, 0x82, 0x81, 0x83

static const struct tr_vec tr_vecs[] = {
	{ "OPEN CHANNEL 27.22.4.27 2.1.1 response",
	  DET(1, CAT_OPEN_CHANNEL, 1), CAT_RES_OK, NONE, extra_open_211,
	  B(TR_HEAD(0x40, 0x01), 0x01, 0x00, 0x38, 0x02, 0x81, 0x00, 0x35,
	    0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02, 0x05,
	    0x78) },
	{ "OPEN CHANNEL 27.22.4.27 2.7.1 response (user did not accept)",
	  DET(1, CAT_OPEN_CHANNEL, 1), CAT_RES_USER_REJECTED, NONE,
	  extra_open_271,
	  B(TR_HEAD(0x40, 0x01), 0x01, 0x22, 0x35, 0x07, 0x02, 0x03, 0x04,
	    0x03, 0x04, 0x1F, 0x02, 0x39, 0x02, 0x05, 0x78) },
	{ "OPEN CHANNEL response, smaller buffer, channel 2 (by hand)",
	  DET(4, CAT_OPEN_CHANNEL, 1), CAT_RES_MODIFIED, NONE,
	  extra_open_modified,
	  B(0x81, 0x03, 0x04, 0x40, 0x01, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x07, 0x38, 0x02, 0x82, 0x00, 0x35, 0x01, 0x03, 0x39, 0x02, 0x04,
	    0x00) },
	{ "OPEN CHANNEL response, UICC server mode listening (by hand)",
	  DET(1, CAT_OPEN_CHANNEL, 1), CAT_RES_OK, NONE, extra_open_server,
	  B(TR_HEAD(0x40, 0x01), 0x01, 0x00, 0x38, 0x02, 0x41, 0x00, 0x39,
	    0x02, 0x05, 0xDC) },
	{ "OPEN CHANNEL response, no channel available (by hand)",
	  DET(1, CAT_OPEN_CHANNEL, 1), CAT_RES_BIP_ERROR,
	  B(BIP_ERR_NO_CHANNEL), NULL,
	  B(TR_HEAD(0x40, 0x01), 0x02, 0x3A, 0x01) },
	{ "CLOSE CHANNEL 27.22.4.28 1.1.1 response (by hand)",
	  DET(1, CAT_CLOSE_CHANNEL, 0), CAT_RES_OK, NONE, NULL,
	  B(TR_HEAD(0x41, 0x00), 0x01, 0x00) },
	{ "CLOSE CHANNEL 27.22.4.28 1.2.1 response (channel id not valid)",
	  DET(1, CAT_CLOSE_CHANNEL, 0), CAT_RES_BIP_ERROR,
	  B(BIP_ERR_BAD_CHANNEL_ID), NULL,
	  B(TR_HEAD(0x41, 0x00), 0x02, 0x3A, 0x03) },
	{ "CLOSE CHANNEL 27.22.4.28 1.3.1 response (channel closed)",
	  DET(1, CAT_CLOSE_CHANNEL, 0), CAT_RES_BIP_ERROR,
	  B(BIP_ERR_CLOSED), NULL,
	  B(TR_HEAD(0x41, 0x00), 0x02, 0x3A, 0x02) },
	{ "RECEIVE DATA response, last bytes (by hand)",
	  DET(2, CAT_RECEIVE_DATA, 0), CAT_RES_OK, NONE, extra_recv_short,
	  B(0x81, 0x03, 0x02, 0x42, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x00, 0xB6, 0x05, 0x48, 0x54, 0x54, 0x50, 0x2F, 0xB7, 0x01,
	    0x03) },
	{ "RECEIVE DATA response, missing information, empty (by hand)",
	  DET(2, CAT_RECEIVE_DATA, 0), 0x02, NONE, extra_recv_empty,
	  B(0x81, 0x03, 0x02, 0x42, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01,
	    0x02, 0xB6, 0x00, 0xB7, 0x01, 0x00) },
	{ "SEND DATA 27.22.4.30 1.1.1 response",
	  DET(1, CAT_SEND_DATA, 1), CAT_RES_OK, NONE, extra_len_ff,
	  B(TR_HEAD(0x43, 0x01), 0x01, 0x00, 0xB7, 0x01, 0xFF) },
	{ "SEND DATA 27.22.4.30 1.2.1 response (store mode)",
	  DET(1, CAT_SEND_DATA, 0), CAT_RES_OK, NONE, extra_len_ff,
	  B(TR_HEAD(0x43, 0x00), 0x01, 0x00, 0xB7, 0x01, 0xFF) },
	{ "SEND DATA 27.22.4.30 1.5.1 response (channel id not valid)",
	  DET(1, CAT_SEND_DATA, 1), CAT_RES_BIP_ERROR,
	  B(BIP_ERR_BAD_CHANNEL_ID), NULL,
	  B(TR_HEAD(0x43, 0x01), 0x02, 0x3A, 0x03) },
	{ "GET CHANNEL STATUS 27.22.4.31 1.1.1 response (no channel)",
	  DET(1, CAT_GET_CHANNEL_STATUS, 0), CAT_RES_OK, NONE, extra_gcs_none,
	  B(TR_HEAD(0x44, 0x00), 0x01, 0x00, 0xB8, 0x02, 0x00, 0x00) },
	{ "GET CHANNEL STATUS 27.22.4.31 1.2.1 response (channel 1 up)",
	  DET(1, CAT_GET_CHANNEL_STATUS, 0), CAT_RES_OK, NONE, extra_gcs_121,
	  B(TR_HEAD(0x44, 0x00), 0x01, 0x00, 0xB8, 0x02, 0x81, 0x00) },
	{ "GET CHANNEL STATUS 27.22.4.31 1.3.1 response (link dropped)",
	  DET(1, CAT_GET_CHANNEL_STATUS, 0), CAT_RES_OK, NONE, extra_gcs_131,
	  B(TR_HEAD(0x44, 0x00), 0x01, 0x00, 0xB8, 0x02, 0x01, 0x05) },
	{ "GET CHANNEL STATUS response, three channels (by hand)",
	  DET(1, CAT_GET_CHANNEL_STATUS, 0), CAT_RES_OK, NONE,
	  extra_gcs_three,
	  B(TR_HEAD(0x44, 0x00), 0x01, 0x00, 0xB8, 0x02, 0x81, 0x00, 0xB8,
	    0x02, 0x42, 0x00, 0xB8, 0x02, 0x83, 0x00) },
};

static void
test_tr(void **state)
{
	const struct tr_vec *v = *state;
	uint8_t extra[256], *out;
	size_t n = 0;
	int r;

	if (v->extra != NULL)
		n = v->extra(extra, sizeof(extra));
	out = test_malloc(v->exp_len);
	r = cat_tr_build(out, v->exp_len, &v->det, v->result, v->addl,
			 v->addl_len, n > 0 ? extra : NULL, n);
	assert_int_equal(r, (int)v->exp_len);
	assert_memory_equal(out, v->exp, v->exp_len);
	/* one byte less: -ENOSPC, and nothing written past the end */
	r = cat_tr_build(out, v->exp_len - 1, &v->det, v->result, v->addl,
			 v->addl_len, n > 0 ? extra : NULL, n);
	assert_int_equal(r, -ENOSPC);
	test_free(out);
}

/* RECEIVE DATA 27.22.4.29 1.1.1 response: 200 bytes, more than 255 left. */
static void
test_receive_data_111_response(void **state)
{
	static const struct cat_cmd_details det = DET(1, CAT_RECEIVE_DATA, 0);
	static const uint8_t head[] = {
		0x81, 0x03, 0x01, 0x42, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83,
		0x01, 0x00, 0xB6, 0x81, 0xC8,
	};
	uint8_t data[200], extra[210], exp[sizeof(head) + 200 + 3], out[255];
	size_t i, k = 0;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xC8 + i);	/* C8 .. FF 00 .. 8F */
	memcpy(exp, head, sizeof(head));
	memcpy(exp + sizeof(head), data, sizeof(data));
	memcpy(exp + sizeof(head) + sizeof(data), "\xB7\x01\xFF", 3);
	PUT(bip_put_channel_data(extra + k, sizeof(extra) - k, data, 200));
	PUT(bip_put_data_length(extra + k, sizeof(extra) - k, 300));
	assert_int_equal(k, 206);
	assert_int_equal(cat_tr_build(out, sizeof(out), &det, CAT_RES_OK,
				      NULL, 0, extra, k), (int)sizeof(exp));
	assert_memory_equal(out, exp, sizeof(exp));
}

/*
 * The largest chunk fills a 255-byte TERMINAL RESPONSE exactly
 * (PROTOCOL.md: Lc <= 255, so channel data <= 237).
 */
static void
test_receive_data_max_chunk(void **state)
{
	static const struct cat_cmd_details det = DET(9, CAT_RECEIVE_DATA, 0);
	uint8_t data[BIP_MAX_CHUNK + 1], extra[BIP_MAX_CHUNK + 8], out[256];
	size_t k = 0;

	(void)state;
	memset(data, 0xA5, sizeof(data));
	PUT(bip_put_channel_data(extra + k, sizeof(extra) - k, data,
				 BIP_MAX_CHUNK));
	PUT(bip_put_data_length(extra + k, sizeof(extra) - k, 0));
	assert_int_equal(cat_tr_build(out, sizeof(out), &det, CAT_RES_OK,
				      NULL, 0, extra, k), 255);
	assert_memory_equal(out + 12, "\xB6\x81\xED", 3);
	assert_memory_equal(out + 252, "\xB7\x01\x00", 3);
	assert_int_equal(bip_put_channel_data(extra, sizeof(extra), data,
					      BIP_MAX_CHUNK + 1), -EINVAL);
}

/* OPEN CHANNEL 2.1.1, decoded then answered: the response vector. */
static void
test_open_211_roundtrip(void **state)
{
	static const uint8_t exp[] = {
		0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x82, 0x81, 0x83,
		0x01, 0x00, 0x38, 0x02, 0x81, 0x00, 0x35, 0x07, 0x02, 0x03,
		0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02, 0x05, 0x78,
	};
	const struct open_vec *v = &open_vecs[0];
	uint8_t extra[64], out[64];
	struct cat_cmd cmd;
	struct bip_open o;
	size_t k = 0;

	(void)state;
	assert_int_equal(cat_cmd_decode(v->pdu, v->len, &cmd), 0);
	assert_int_equal(bip_open_decode(v->pdu, v->len, &o), 0);
	PUT(bip_put_channel_status(extra + k, sizeof(extra) - k,
				   BIP_CS_LINK_UP | 1, BIP_CS_NO_INFO));
	PUT(bip_put_bearer(extra + k, sizeof(extra) - k, o.bearer,
			   o.bearer_len));
	PUT(bip_put_buffer_size(extra + k, sizeof(extra) - k, o.buffer_size));
	assert_int_equal(cat_tr_build(out, sizeof(out), &cmd.det, CAT_RES_OK,
				      NULL, 0, extra, k), (int)sizeof(exp));
	assert_memory_equal(out, exp, sizeof(exp));
}

/* Each writer: exact fit, every smaller buffer refused, bad arguments. */
static void
test_put_bounds(void **state)
{
	static const uint8_t st[2][2] = { { 0x81, 0 }, { 0x42, 0 } };
	uint8_t buf[300], src[128], *out;
	size_t cap, i;
	int n, r;

	(void)state;
	for (i = 0; i < 7; i++) {
		for (cap = 0; cap <= 8; cap++) {
			out = test_malloc(cap > 0 ? cap : 1);
			switch (i) {
			case 0:
				r = bip_put_channel_status(out, cap, 1, 2);
				n = 4;
				break;
			case 1:
				r = bip_put_buffer_size(out, cap, 0xFFFF);
				n = 4;
				break;
			case 2:
				r = bip_put_bearer(out, cap, gprs_bearer, 3);
				n = 5;
				break;
			case 3:
				r = bip_put_data_length(out, cap, 7);
				n = 3;
				break;
			case 4:
				r = bip_put_channel_data(out, cap,
						(const uint8_t *)"abcde", 5);
				n = 7;
				break;
			case 5:
				r = bip_put_channel_status_list(out, cap, st,
								2);
				n = 8;
				break;
			default:
				r = bip_put_channel_status_list(out, cap, NULL,
								0);
				n = 4;
				break;
			}
			assert_int_equal(r, (int)cap >= n ? n : -ENOSPC);
			test_free(out);
		}
	}
	assert_int_equal(bip_put_channel_status(NULL, 0, 1, 0), -ENOSPC);
	/* values */
	assert_int_equal(bip_put_buffer_size(buf, sizeof(buf), 0x1234), 4);
	assert_memory_equal(buf, "\x39\x02\x12\x34", 4);
	assert_int_equal(bip_put_data_length(buf, sizeof(buf), 0), 3);
	assert_memory_equal(buf, "\xB7\x01\x00", 3);
	assert_int_equal(bip_put_data_length(buf, sizeof(buf), 255), 3);
	assert_memory_equal(buf, "\xB7\x01\xFF", 3);
	assert_int_equal(bip_put_data_length(buf, sizeof(buf), 65536), 3);
	assert_memory_equal(buf, "\xB7\x01\xFF", 3);
	/* 128 bytes of data take the 81 LL length form */
	memset(src, 0x33, sizeof(src));
	assert_int_equal(bip_put_channel_data(buf, 130, src, 128), -ENOSPC);
	assert_int_equal(bip_put_channel_data(buf, 131, src, 128), 131);
	assert_memory_equal(buf, "\xB6\x81\x80\x33", 4);
	assert_int_equal(bip_put_channel_data(buf, 130, src, 127), 129);
	assert_memory_equal(buf, "\xB6\x7F\x33", 3);
	/* bad arguments */
	assert_int_equal(bip_put_bearer(buf, sizeof(buf), gprs_bearer, 0),
			 -EINVAL);
	assert_int_equal(bip_put_bearer(buf, sizeof(buf), NULL, 1), -EINVAL);
	assert_int_equal(bip_put_channel_data(buf, sizeof(buf), NULL, 1),
			 -EINVAL);
	assert_int_equal(bip_put_channel_status_list(buf, sizeof(buf), NULL,
						     1), -EINVAL);
}

/* ---- event envelopes (cat/envelope.c with BIP channel statuses) ----- */

struct env_vec {
	const char *name;
	uint8_t status[2];
	size_t avail;		/* data available; (size_t)-1: channel status */
	const uint8_t *exp;
	size_t exp_len;
};

#define CHANNEL_STATUS_EVENT	((size_t)-1)

static const struct env_vec env_vecs[] = {
	{ "EVENT DOWNLOAD data available 27.22.7.10 1.1.1",
	  { BIP_CS_LINK_UP | 1, BIP_CS_NO_INFO }, 1000,
	  B(0xD6, 0x0E, 0x99, 0x01, 0x09, 0x82, 0x02, 0x82, 0x81, 0xB8, 0x02,
	    0x81, 0x00, 0xB7, 0x01, 0xFF) },
	{ "EVENT DOWNLOAD data available 27.22.7.10 2.1.1",
	  { BIP_CS_LINK_UP | 1, 0x01 }, 256,
	  B(0xD6, 0x0E, 0x99, 0x01, 0x09, 0x82, 0x02, 0x82, 0x81, 0xB8, 0x02,
	    0x81, 0x01, 0xB7, 0x01, 0xFF) },
	{ "EVENT DOWNLOAD data available, 17 bytes, server (by hand)",
	  { BIP_CS_ESTABLISHED | 2, BIP_CS_NO_INFO }, 17,
	  B(0xD6, 0x0E, 0x99, 0x01, 0x09, 0x82, 0x02, 0x82, 0x81, 0xB8, 0x02,
	    0x82, 0x00, 0xB7, 0x01, 0x11) },
	{ "EVENT DOWNLOAD channel status 27.22.7.11 1.3.1 (link dropped)",
	  { 1, BIP_CS_LINK_DROPPED }, CHANNEL_STATUS_EVENT,
	  B(0xD6, 0x0B, 0x99, 0x01, 0x0A, 0x82, 0x02, 0x82, 0x81, 0xB8, 0x02,
	    0x01, 0x05) },
	{ "EVENT DOWNLOAD channel status 27.22.7.11 2.1.1 (TCP listen)",
	  { BIP_CS_LISTEN | 1, BIP_CS_NO_INFO }, CHANNEL_STATUS_EVENT,
	  B(0xD6, 0x0B, 0x99, 0x01, 0x0A, 0x82, 0x02, 0x82, 0x81, 0xB8, 0x02,
	    0x41, 0x00) },
	{ "EVENT DOWNLOAD channel status 27.22.7.11 2.2.1 (established)",
	  { BIP_CS_ESTABLISHED | 1, 0x01 }, CHANNEL_STATUS_EVENT,
	  B(0xD6, 0x0B, 0x99, 0x01, 0x0A, 0x82, 0x02, 0x82, 0x81, 0xB8, 0x02,
	    0x81, 0x01) },
};

static void
test_env(void **state)
{
	const struct env_vec *v = *state;
	uint8_t *out = test_malloc(v->exp_len);
	int r;

	if (v->avail == CHANNEL_STATUS_EVENT)
		r = cat_env_channel_status(out, v->exp_len, v->status);
	else
		r = cat_env_data_available(out, v->exp_len, v->status,
					   v->avail);
	assert_int_equal(r, (int)v->exp_len);
	assert_memory_equal(out, v->exp, v->exp_len);
	test_free(out);
}

/* ---- Terminal Applications envelope --------------------------------- */

struct apps_vec {
	const char *name;
	struct bip_app apps[3];
	size_t n;
	bool last;
	int ret;		/* -EINVAL, -ENOSPC, or 0: exp */
	const uint8_t *exp;
	size_t exp_len;
};

static const struct apps_vec apps_vecs[] = {
	{ "TERMINAL APPLICATIONS DM client, last envelope (by hand)",
	  { { 0x0000, 0x07, "DMCLI" } }, 1, true, 0,
	  B(0xDC, 0x11, 0x82, 0x02, 0x82, 0x81, 0x71, 0x09, 0x00, 0x00, 0x04,
	    0x07, 0x44, 0x4D, 0x43, 0x4C, 0x49, 0x70, 0x00) },
	{ "TERMINAL APPLICATIONS DM client port 1092, not last (by hand)",
	  { { 0x1092, 0x07, "dmscgw DM client" } }, 1, false, 0,
	  B(0xDC, 0x1A, 0x82, 0x02, 0x82, 0x81, 0x71, 0x14, 0x10, 0x92, 0x04,
	    0x07, 0x64, 0x6D, 0x73, 0x63, 0x67, 0x77, 0x20, 0x44, 0x4D, 0x20,
	    0x63, 0x6C, 0x69, 0x65, 0x6E, 0x74) },
	{ "TERMINAL APPLICATIONS two applications (by hand)",
	  { { 0x0050, 0x07, "A" }, { 0xFFFF, 0x01, "B-2 (x)" } }, 2, true, 0,
	  B(0xDC, 0x1A, 0x82, 0x02, 0x82, 0x81, 0x71, 0x05, 0x00, 0x50, 0x04,
	    0x07, 0x41, 0x71, 0x0B, 0xFF, 0xFF, 0x04, 0x01, 0x42, 0x2D, 0x32,
	    0x20, 0x28, 0x78, 0x29, 0x70, 0x00) },
	{ "TERMINAL APPLICATIONS none (by hand)",
	  { { 0, 0, NULL } }, 0, false, 0,
	  B(0xDC, 0x04, 0x82, 0x02, 0x82, 0x81) },
	{ "TERMINAL APPLICATIONS punctuation of the GSM alphabet (by hand)",
	  { { 1, 7, "!\"#%&'()*+,-./:;<=>?" } }, 1, false, 0,
	  B(0xDC, 0x1E, 0x82, 0x02, 0x82, 0x81, 0x71, 0x18, 0x00, 0x01, 0x04,
	    0x07, 0x21, 0x22, 0x23, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B,
	    0x2C, 0x2D, 0x2E, 0x2F, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F) },
	{ "TERMINAL APPLICATIONS name with '@' (GSM 00)",
	  { { 1, 7, "dm@card" } }, 1, true, -EINVAL, NULL, 0 },
	{ "TERMINAL APPLICATIONS name with '_' (GSM section sign)",
	  { { 1, 7, "dm_client" } }, 1, true, -EINVAL, NULL, 0 },
	{ "TERMINAL APPLICATIONS name with '$'",
	  { { 1, 7, "dm$" } }, 1, true, -EINVAL, NULL, 0 },
	{ "TERMINAL APPLICATIONS name with '~' (extension table)",
	  { { 1, 7, "~dm" } }, 1, true, -EINVAL, NULL, 0 },
	{ "TERMINAL APPLICATIONS name with '[' (GSM A-umlaut)",
	  { { 1, 7, "dm[1]" } }, 1, true, -EINVAL, NULL, 0 },
	{ "TERMINAL APPLICATIONS UTF-8 name",
	  { { 1, 7, "caf\xC3\xA9" } }, 1, true, -EINVAL, NULL, 0 },
	{ "TERMINAL APPLICATIONS name with a tab",
	  { { 1, 7, "dm\tclient" } }, 1, true, -EINVAL, NULL, 0 },
	{ "TERMINAL APPLICATIONS empty name",
	  { { 1, 7, "" } }, 1, true, -EINVAL, NULL, 0 },
	{ "TERMINAL APPLICATIONS NULL name",
	  { { 1, 7, "ok" }, { 2, 7, NULL } }, 2, true, -EINVAL, NULL, 0 },
};

static void
test_apps(void **state)
{
	const struct apps_vec *v = *state;
	uint8_t big[512], *out;
	size_t cap;
	int r;

	r = bip_env_terminal_apps(big, sizeof(big), v->apps, v->n, v->last);
	if (v->ret != 0) {
		assert_int_equal(r, v->ret);
		return;
	}
	assert_int_equal(r, (int)v->exp_len);
	assert_memory_equal(big, v->exp, v->exp_len);
	for (cap = 0; cap <= v->exp_len; cap++) {
		out = test_malloc(cap > 0 ? cap : 1);
		r = bip_env_terminal_apps(out, cap, v->apps, v->n, v->last);
		assert_int_equal(r, cap == v->exp_len ? (int)cap : -ENOSPC);
		if (r > 0)
			assert_memory_equal(out, v->exp, v->exp_len);
		test_free(out);
	}
}

/* The whole envelope is bound to 255 bytes, whatever the buffer. */
static void
test_apps_envelope_bound(void **state)
{
	char name[300];
	struct bip_app app = { 0x1234, 0x07, name };
	struct tlv_iter it;
	struct tlv t;
	uint8_t out[600];
	int r;

	(void)state;
	/* DC 81 FC | 82 02 82 81 | 71 81 F5 12 34 04 07 name(241) = 255 */
	memset(name, 'N', sizeof(name));
	name[241] = '\0';
	r = bip_env_terminal_apps(out, sizeof(out), &app, 1, false);
	assert_int_equal(r, 255);
	assert_memory_equal(out, "\xDC\x81\xFC\x82\x02\x82\x81\x71\x81\xF5"
			    "\x12\x34\x04\x07NN", 16);
	tlv_iter_init(&it, out, (size_t)r);
	assert_int_equal(tlv_ber_next(&it, &t), 1);
	assert_int_equal(t.tag, 0xDC);
	assert_int_equal(t.len, 252);
	/* one more character, or the last envelope object: too long */
	name[241] = 'N';
	name[242] = '\0';
	assert_int_equal(bip_env_terminal_apps(out, sizeof(out), &app, 1,
					       false), -ENOSPC);
	name[241] = '\0';
	assert_int_equal(bip_env_terminal_apps(out, sizeof(out), &app, 1,
					       true), -ENOSPC);
	/* a name without end in sight is refused, not read to its end */
	memset(name, 'N', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(bip_env_terminal_apps(out, sizeof(out), &app, 1,
					       false), -ENOSPC);
	assert_int_equal(bip_env_terminal_apps(out, sizeof(out), NULL, 1,
					       false), -EINVAL);
	assert_int_equal(bip_env_terminal_apps(NULL, 0, &app, 0, true),
			 -ENOSPC);
}

#define NFIXED	11

int
main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(open_vecs) + ARRAY_SIZE(data_vecs) +
				ARRAY_SIZE(cmd_vecs) + ARRAY_SIZE(tr_vecs) +
				ARRAY_SIZE(env_vecs) + ARRAY_SIZE(apps_vecs) +
				NFIXED];
	const struct CMUnitTest fixed[NFIXED] = {
		cmocka_unit_test(test_open_truncations),
		cmocka_unit_test(test_open_apn_bound),
		cmocka_unit_test(test_open_bearer_bound),
		cmocka_unit_test(test_send_data_121),
		cmocka_unit_test(test_data_truncations),
		cmocka_unit_test(test_channel_of),
		cmocka_unit_test(test_receive_data_111_response),
		cmocka_unit_test(test_receive_data_max_chunk),
		cmocka_unit_test(test_open_211_roundtrip),
		cmocka_unit_test(test_put_bounds),
		cmocka_unit_test(test_apps_envelope_bound),
	};
	size_t i, n = 0;

#define ADD(vecs, fn)							\
	for (i = 0; i < ARRAY_SIZE(vecs); i++)				\
		tests[n++] = (struct CMUnitTest){			\
			.name = vecs[i].name, .test_func = fn,		\
			.initial_state = (void *)(uintptr_t)&vecs[i] }

	ADD(open_vecs, test_open);
	ADD(data_vecs, test_data);
	ADD(cmd_vecs, test_cmd);
	ADD(tr_vecs, test_tr);
	ADD(env_vecs, test_env);
	ADD(apps_vecs, test_apps);
	for (i = 0; i < NFIXED; i++)
		tests[n++] = fixed[i];
	return cmocka_run_group_tests_name("bip_codec", tests, NULL, NULL);
}
