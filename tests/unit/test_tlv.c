/* SPDX-License-Identifier: MIT */
/*
 * BER-TLV / COMPREHENSION-TLV codec tests.  Conformance vectors are from
 * 3GPP TS 31.124 (named by clause), re-entered as byte arrays.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "card/tlv.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* TS 31.124, OPEN CHANNEL 2.1.1 (packet bearer, login and password). */
static const uint8_t open_channel_2_1_1[] = {
	0xD0, 0x36, 0x81, 0x03, 0x01, 0x40, 0x01, 0x82, 0x02, 0x81, 0x82,
	0x35, 0x07, 0x02, 0x03, 0x04, 0x03, 0x04, 0x1F, 0x02, 0x39, 0x02,
	0x05, 0x78, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x4C, 0x6F,
	0x67, 0x0D, 0x08, 0xF4, 0x55, 0x73, 0x65, 0x72, 0x50, 0x77, 0x64,
	0x3C, 0x03, 0x01, 0xAD, 0x9C, 0x3E, 0x05, 0x21, 0x01, 0x01, 0x01,
	0x01,
};

/* TS 31.124, SEND DATA 1.1.1 (send immediately, 8 bytes on channel 1). */
static const uint8_t send_data_1_1_1[] = {
	0xD0, 0x13, 0x81, 0x03, 0x01, 0x43, 0x01, 0x82, 0x02, 0x81, 0x21,
	0xB6, 0x08, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
};

/* Event download, data available on channel 1 (PROTOCOL.md). */
static const uint8_t event_data_available[] = {
	0xD6, 0x0E, 0x99, 0x01, 0x09, 0x82, 0x02, 0x82, 0x81, 0xB8, 0x02,
	0x81, 0x00, 0xB7, 0x01, 0xFF,
};

struct ctlv_expect {
	unsigned tag;
	bool cr;
	size_t len;
};

/* Walk a whole C-TLV list and check every object, then the clean end. */
static void
check_ctlv_list(const uint8_t *p, size_t len, const struct ctlv_expect *exp,
		size_t n)
{
	struct tlv_iter it;
	struct tlv t;
	size_t i;

	tlv_iter_init(&it, p, len);
	for (i = 0; i < n; i++) {
		assert_int_equal(tlv_ctlv_next(&it, &t), 1);
		assert_int_equal(t.tag, exp[i].tag);
		assert_int_equal(t.cr, exp[i].cr);
		assert_int_equal(t.len, exp[i].len);
		assert_int_equal(t.hdr_len, 2);
		assert_ptr_equal(t.val + t.len, it.p);
	}
	assert_int_equal(tlv_ctlv_next(&it, &t), 0);
	assert_ptr_equal(it.p, p + len);
}

/* The one BER object a proactive command or envelope is made of. */
static void
check_ber_single(const uint8_t *p, size_t len, unsigned tag, struct tlv *t)
{
	struct tlv_iter it;
	struct tlv end;

	tlv_iter_init(&it, p, len);
	assert_int_equal(tlv_ber_next(&it, t), 1);
	assert_int_equal(t->tag, tag);
	assert_false(t->cr);
	assert_int_equal(t->hdr_len, 2);
	assert_int_equal(t->len, len - 2);
	assert_ptr_equal(t->val, p + 2);
	assert_int_equal(tlv_ber_next(&it, &end), 0);
}

static void
test_open_channel_2_1_1(void **state)
{
	static const struct ctlv_expect exp[] = {
		{ 0x01, true, 3 },	/* command details */
		{ 0x02, true, 2 },	/* device identities */
		{ 0x35, false, 7 },	/* bearer description */
		{ 0x39, false, 2 },	/* buffer size */
		{ 0x0D, false, 8 },	/* text string: login */
		{ 0x0D, false, 8 },	/* text string: password */
		{ 0x3C, false, 3 },	/* transport level */
		{ 0x3E, false, 5 },	/* data destination address */
	};
	static const uint8_t cmd_details[] = { 0x01, 0x40, 0x01 };
	static const uint8_t transport[] = { 0x01, 0xAD, 0x9C };
	struct tlv t, c;

	(void)state;
	check_ber_single(open_channel_2_1_1, sizeof(open_channel_2_1_1), 0xD0,
			 &t);
	assert_int_equal(t.len, 0x36);
	check_ctlv_list(t.val, t.len, exp, ARRAY_SIZE(exp));

	assert_int_equal(tlv_ctlv_find(t.val, t.len, 0x01, &c), 1);
	assert_memory_equal(c.val, cmd_details, sizeof(cmd_details));
	assert_int_equal(tlv_ctlv_find(t.val, t.len, 0x3C, &c), 1);
	assert_memory_equal(c.val, transport, sizeof(transport));
	/* First of two text strings: the login. */
	assert_int_equal(tlv_ctlv_find(t.val, t.len, 0x0D, &c), 1);
	assert_memory_equal(c.val, "\xF4UserLog", 8);
	assert_int_equal(tlv_ctlv_find(t.val, t.len, 0x36, &c), 0);
}

static void
test_send_data_1_1_1(void **state)
{
	static const struct ctlv_expect exp[] = {
		{ 0x01, true, 3 },
		{ 0x02, true, 2 },
		{ 0x36, true, 8 },	/* B6: channel data with CR set */
	};
	static const uint8_t chdata[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	struct tlv t, c;

	(void)state;
	check_ber_single(send_data_1_1_1, sizeof(send_data_1_1_1), 0xD0, &t);
	check_ctlv_list(t.val, t.len, exp, ARRAY_SIZE(exp));

	/* The search ignores CR: 0x36 finds B6. */
	assert_int_equal(tlv_ctlv_find(t.val, t.len, 0x36, &c), 1);
	assert_true(c.cr);
	assert_int_equal(c.len, 8);
	assert_memory_equal(c.val, chdata, sizeof(chdata));
	assert_int_equal(tlv_ctlv_find(t.val, t.len, 0xB6, &c), 0);
}

static void
test_event_data_available(void **state)
{
	static const struct ctlv_expect exp[] = {
		{ 0x19, true, 1 },	/* event list: data available */
		{ 0x02, true, 2 },
		{ 0x38, true, 2 },	/* channel status */
		{ 0x37, true, 1 },	/* channel data length */
	};
	struct tlv t;

	(void)state;
	check_ber_single(event_data_available, sizeof(event_data_available),
			 0xD6, &t);
	check_ctlv_list(t.val, t.len, exp, ARRAY_SIZE(exp));
}

static void
test_ctlv_three_byte_tag(void **state)
{
	static const uint8_t in[] = {
		0x7F, 0x80, 0x01, 0x02, 0xAA, 0xBB,	/* CR, tag 0001 */
		0x7F, 0x12, 0x34, 0x00,			/* no CR, tag 1234 */
		0x7F, 0xFF, 0xFF, 0x81, 0x80,		/* value runs short */
	};
	struct tlv_iter it;
	struct tlv t;

	(void)state;
	tlv_iter_init(&it, in, sizeof(in));
	assert_int_equal(tlv_ctlv_next(&it, &t), 1);
	assert_true(t.cr);
	assert_int_equal(t.tag, 0x0001);
	assert_int_equal(t.len, 2);
	assert_int_equal(t.hdr_len, 4);
	assert_ptr_equal(t.val, in + 4);
	assert_int_equal(tlv_ctlv_next(&it, &t), 1);
	assert_false(t.cr);
	assert_int_equal(t.tag, 0x1234);
	assert_int_equal(t.len, 0);
	assert_int_equal(t.hdr_len, 4);
	assert_int_equal(tlv_ctlv_next(&it, &t), -EBADMSG);
	assert_ptr_equal(it.p, in + 10);

	assert_int_equal(tlv_ctlv_find(in, 10, 0x1234, &t), 1);
	assert_int_equal(tlv_ctlv_find(in, sizeof(in), 0x7FFF, &t), -EBADMSG);
}

struct len_vec {
	uint8_t in[5];
	size_t avail;
	int ret;
	size_t len;
};

static void
test_len_decode(void **state)
{
	static const struct len_vec v[] = {
		{ { 0x00 }, 1, 1, 0 },
		{ { 0x7F }, 1, 1, 0x7F },
		{ { 0x81, 0x80 }, 2, 2, 0x80 },
		{ { 0x81, 0xFF }, 2, 2, 0xFF },
		{ { 0x82, 0x01, 0x00 }, 3, 3, 0x100 },
		{ { 0x82, 0xFF, 0xFF }, 3, 3, 0xFFFF },
		{ { 0x83, 0x01, 0x00, 0x00 }, 4, 4, 0x10000 },
		{ { 0x83, 0xFF, 0xFF, 0xFF }, 4, 4, 0xFFFFFF },
		/* trailing bytes are not the length's business */
		{ { 0x05, 0xEE, 0xEE }, 3, 1, 5 },
		/* empty buffer */
		{ { 0x00 }, 0, -EBADMSG, 0 },
		/* 80 (indefinite in X.690) and 84+ are not in TS 101 220 */
		{ { 0x80 }, 1, -EBADMSG, 0 },
		{ { 0x80, 0x00 }, 2, -EBADMSG, 0 },
		{ { 0x84, 0x00, 0x00, 0x01, 0x00 }, 5, -EBADMSG, 0 },
		{ { 0xFF, 0x00 }, 2, -EBADMSG, 0 },
		/* non-minimal */
		{ { 0x81, 0x05 }, 2, -EBADMSG, 0 },
		{ { 0x81, 0x7F }, 2, -EBADMSG, 0 },
		{ { 0x82, 0x00, 0x10 }, 3, -EBADMSG, 0 },
		{ { 0x82, 0x00, 0xFF }, 3, -EBADMSG, 0 },
		{ { 0x83, 0x00, 0xFF, 0xFF }, 4, -EBADMSG, 0 },
		/* truncated length bytes */
		{ { 0x81 }, 1, -EBADMSG, 0 },
		{ { 0x82, 0x01 }, 2, -EBADMSG, 0 },
		{ { 0x83, 0x01, 0x00 }, 3, -EBADMSG, 0 },
	};
	size_t i, len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		len = 0xDEAD;
		assert_int_equal(tlv_len_decode(v[i].in, v[i].avail, &len),
				 v[i].ret);
		if (v[i].ret > 0)
			assert_int_equal(len, v[i].len);
	}
}

static void
test_len_size(void **state)
{
	(void)state;
	assert_int_equal(tlv_len_size(0), 1);
	assert_int_equal(tlv_len_size(0x7F), 1);
	assert_int_equal(tlv_len_size(0x80), 2);
	assert_int_equal(tlv_len_size(0xFF), 2);
	assert_int_equal(tlv_len_size(0x100), 3);
	assert_int_equal(tlv_len_size(0xFFFF), 3);
	assert_int_equal(tlv_len_size(0x10000), 4);
	assert_int_equal(tlv_len_size(0xFFFFFF), 4);
	assert_int_equal(tlv_len_size(0x1000000), 0);
}

struct bad_vec {
	const char *name;
	const uint8_t *in;
	size_t len;
};

#define BAD(name, ...) { name, (const uint8_t[]){ __VA_ARGS__ }, \
	sizeof((const uint8_t[]){ __VA_ARGS__ }) }

/*
 * Each vector is malformed at its first object: the reader must fail, not
 * move, and fail the same way when asked again.
 */
static void
check_bad(const struct bad_vec *v, size_t n,
	  int (*next)(struct tlv_iter *, struct tlv *))
{
	struct tlv_iter it;
	struct tlv t;
	size_t i;

	for (i = 0; i < n; i++) {
		tlv_iter_init(&it, v[i].in, v[i].len);
		if (next(&it, &t) != -EBADMSG || it.p != v[i].in ||
		    next(&it, &t) != -EBADMSG || it.p != v[i].in ||
		    it.end != v[i].in + v[i].len)
			fail_msg("%s: accepted, or iterator moved", v[i].name);
	}
}

static void
test_ber_malformed(void **state)
{
	const struct bad_vec v[] = {
		BAD("truncated value", 0xD0, 0x05, 0x01, 0x02),
		BAD("one byte short", 0xD0, 0x02, 0x01),
		BAD("missing length", 0xD0),
		BAD("truncated 81", 0xD0, 0x81),
		BAD("truncated 82", 0xD0, 0x82, 0x01),
		BAD("truncated 83", 0xD0, 0x83, 0x01, 0x00),
		BAD("length 80", 0xD0, 0x80, 0x00, 0x00),
		BAD("length 84", 0xD0, 0x84, 0x00, 0x00, 0x00, 0x01, 0x00),
		BAD("non-minimal 81 05", 0xD0, 0x81, 0x05, 1, 2, 3, 4, 5),
		BAD("non-minimal 82 00 10", 0xD0, 0x82, 0x00, 0x10,
		    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
		BAD("81 larger than buffer", 0xD0, 0x81, 0x80, 0x00),
		BAD("huge 83 FF FF FF", 0xD0, 0x83, 0xFF, 0xFF, 0xFF, 0x00),
		BAD("tag 00", 0x00, 0x01, 0x00),
		BAD("tag FF", 0xFF, 0x01, 0x00),
		BAD("multi-byte tag 1F", 0x1F, 0x01, 0x01, 0x00),
		BAD("multi-byte tag 7F21", 0x7F, 0x21, 0x01, 0x00),
		BAD("multi-byte tag DF", 0xDF, 0x21, 0x01, 0x00),
	};

	(void)state;
	check_bad(v, ARRAY_SIZE(v), tlv_ber_next);
}

static void
test_ctlv_malformed(void **state)
{
	const struct bad_vec v[] = {
		BAD("tag 00", 0x00, 0x01, 0x00),
		BAD("tag 80", 0x80, 0x01, 0x00),
		BAD("tag FF", 0xFF, 0x01, 0x00),
		BAD("7F alone", 0x7F),
		BAD("7F one tag byte", 0x7F, 0x01),
		BAD("7F no length", 0x7F, 0x01, 0x02),
		BAD("truncated value", 0x81, 0x03, 0x01, 0x40),
		BAD("missing length", 0x81),
		BAD("length 80", 0x81, 0x80),
		BAD("length 84", 0x81, 0x84, 0, 0, 0, 1, 0),
		BAD("non-minimal 81 05", 0x81, 0x81, 0x05, 1, 2, 3, 4, 5),
		BAD("non-minimal 82 00 10", 0x36, 0x82, 0x00, 0x10,
		    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
		BAD("huge 83 FF FF FF", 0xB6, 0x83, 0xFF, 0xFF, 0xFF, 0x00),
	};

	(void)state;
	check_bad(v, ARRAY_SIZE(v), tlv_ctlv_next);
}

static void
test_empty_buffer(void **state)
{
	static const uint8_t one[] = { 0xD0 };
	struct tlv_iter it;
	struct tlv t;

	(void)state;
	tlv_iter_init(&it, NULL, 0);
	assert_int_equal(tlv_ber_next(&it, &t), 0);
	assert_int_equal(tlv_ctlv_next(&it, &t), 0);
	tlv_iter_init(&it, one, 0);
	assert_int_equal(tlv_ber_next(&it, &t), 0);
	assert_int_equal(tlv_ctlv_next(&it, &t), 0);
	assert_int_equal(tlv_ctlv_find(NULL, 0, 0x01, &t), 0);
}

/* A good object, then a bad one: the iterator stops on the bad one. */
static void
test_error_after_good(void **state)
{
	static const uint8_t in[] = {
		0x81, 0x03, 0x01, 0x43, 0x01,
		0x82, 0x02, 0x81, 0x21,
		0x80, 0x01, 0x00,		/* tag 80 is reserved */
		0x36, 0x01, 0x00,
	};
	struct tlv_iter it;
	struct tlv t;

	(void)state;
	tlv_iter_init(&it, in, sizeof(in));
	assert_int_equal(tlv_ctlv_next(&it, &t), 1);
	assert_int_equal(tlv_ctlv_next(&it, &t), 1);
	assert_int_equal(tlv_ctlv_next(&it, &t), -EBADMSG);
	assert_ptr_equal(it.p, in + 9);
	assert_int_equal(tlv_ctlv_next(&it, &t), -EBADMSG);
	assert_ptr_equal(it.p, in + 9);

	/* find: a match before the bad object is found, one after is not. */
	assert_int_equal(tlv_ctlv_find(in, sizeof(in), 0x02, &t), 1);
	assert_int_equal(tlv_ctlv_find(in, sizeof(in), 0x36, &t), -EBADMSG);
}

/* Every proper prefix of a vector fails (BER) and never reads past it. */
static void
test_truncations(void **state)
{
	struct tlv_iter it;
	struct tlv t;
	size_t n;
	uint8_t *copy;

	(void)state;
	for (n = 1; n < sizeof(open_channel_2_1_1); n++) {
		/* heap copy of exactly n bytes so ASan sees any overread */
		copy = test_malloc(n);
		memcpy(copy, open_channel_2_1_1, n);
		tlv_iter_init(&it, copy, n);
		assert_int_equal(tlv_ber_next(&it, &t), -EBADMSG);
		assert_ptr_equal(it.p, copy);
		test_free(copy);
	}
}

static void
test_put_len(void **state)
{
	static const struct {
		size_t len;
		uint8_t enc[4];
		size_t n;
	} v[] = {
		{ 0x00, { 0x00 }, 1 },
		{ 0x7F, { 0x7F }, 1 },
		{ 0x80, { 0x81, 0x80 }, 2 },
		{ 0xFF, { 0x81, 0xFF }, 2 },
		{ 0x100, { 0x82, 0x01, 0x00 }, 3 },
		{ 0xFFFF, { 0x82, 0xFF, 0xFF }, 3 },
		{ 0x10000, { 0x83, 0x01, 0x00, 0x00 }, 4 },
		{ 0xFFFFFF, { 0x83, 0xFF, 0xFF, 0xFF }, 4 },
	};
	struct tlv_buf b;
	uint8_t buf[8];
	size_t i, len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		tlv_buf_init(&b, buf, sizeof(buf));
		tlv_put_len(&b, v[i].len);
		assert_true(tlv_buf_ok(&b));
		assert_int_equal(b.len, v[i].n);
		assert_memory_equal(buf, v[i].enc, v[i].n);
		/* and back */
		assert_int_equal(tlv_len_decode(buf, b.len, &len), (int)v[i].n);
		assert_int_equal(len, v[i].len);
	}
	tlv_buf_init(&b, buf, sizeof(buf));
	tlv_put_len(&b, 0x1000000);
	assert_false(tlv_buf_ok(&b));
	assert_int_equal(b.len, 0);
}

/* tlv_end() must widen the length and move the contents intact. */
static void
test_nested_200(void **state)
{
	uint8_t buf[256], content[200];
	struct tlv_iter it, in;
	struct tlv_buf b;
	struct tlv t, u;
	size_t outer, inner, i;

	(void)state;
	for (i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 7 + 3);

	tlv_buf_init(&b, buf, sizeof(buf));
	outer = tlv_begin(&b, 0xD6);
	inner = tlv_begin(&b, 0xD0);
	assert_int_equal(outer, 0);
	assert_int_equal(inner, 2);
	tlv_put_raw(&b, content, sizeof(content));
	tlv_end(&b, inner);
	tlv_end(&b, outer);
	assert_true(tlv_buf_ok(&b));
	assert_int_equal(b.len, 3 + 3 + 200);

	assert_int_equal(buf[0], 0xD6);
	assert_int_equal(buf[1], 0x81);
	assert_int_equal(buf[2], 0xCB);		/* 3 + 200 */
	assert_int_equal(buf[3], 0xD0);
	assert_int_equal(buf[4], 0x81);
	assert_int_equal(buf[5], 0xC8);		/* 200 */
	assert_memory_equal(buf + 6, content, sizeof(content));

	tlv_iter_init(&it, buf, b.len);
	assert_int_equal(tlv_ber_next(&it, &t), 1);
	assert_int_equal(t.tag, 0xD6);
	assert_int_equal(t.len, 203);
	tlv_iter_init(&in, t.val, t.len);
	assert_int_equal(tlv_ber_next(&in, &u), 1);
	assert_int_equal(u.tag, 0xD0);
	assert_int_equal(u.len, 200);
	assert_int_equal(u.hdr_len, 3);
	assert_int_equal(tlv_ber_next(&in, &u), 0);
	assert_int_equal(tlv_ber_next(&it, &t), 0);
}

/* Short inner object, then the outer one grows past 255: 82 form. */
static void
test_nested_82(void **state)
{
	uint8_t buf[300], fill[250];
	static const uint8_t cd[] = { 0x01, 0x43, 0x01 };
	struct tlv_iter it;
	struct tlv_buf b;
	struct tlv t;
	size_t outer, inner;

	(void)state;
	memset(fill, 0x5A, sizeof(fill));
	tlv_buf_init(&b, buf, sizeof(buf));
	outer = tlv_begin(&b, 0xD0);
	tlv_put_ctlv(&b, 0x81, cd, sizeof(cd));
	inner = tlv_begin(&b, 0xA0);
	tlv_put_u8(&b, 0x42);
	tlv_end(&b, inner);
	tlv_put_ctlv(&b, 0x36, fill, sizeof(fill));
	tlv_end(&b, outer);
	assert_true(tlv_buf_ok(&b));
	/* contents: 5 + 3 + (3 + 250) = 261 = 0x105 */
	assert_int_equal(b.len, 4 + 261);
	assert_memory_equal(buf, "\xD0\x82\x01\x05\x81\x03\x01\x43\x01"
			    "\xA0\x01\x42\x36\x81\xFA", 15);
	assert_memory_equal(buf + 15, fill, sizeof(fill));

	tlv_iter_init(&it, buf, b.len);
	assert_int_equal(tlv_ber_next(&it, &t), 1);
	assert_int_equal(t.len, 261);
	assert_int_equal(t.hdr_len, 4);
}

#define CANARY		0xA5
#define GUARD		16

static void
check_canary(const uint8_t *mem, size_t cap)
{
	size_t i;

	for (i = cap; i < cap + GUARD; i++)
		assert_int_equal(mem[i], CANARY);
}

static void
test_overflow(void **state)
{
	uint8_t mem[140 + GUARD], big[140];
	struct tlv_buf b;
	size_t mark;

	(void)state;
	memset(big, 0x11, sizeof(big));

	/* raw write one past cap: nothing written, flag set */
	memset(mem, CANARY, sizeof(mem));
	tlv_buf_init(&b, mem, 64);
	tlv_put_raw(&b, big, 65);
	assert_false(tlv_buf_ok(&b));
	assert_int_equal(b.len, 0);
	check_canary(mem, 64);
	/* sticky: even a byte that would fit is not written */
	tlv_put_u8(&b, 0x01);
	assert_int_equal(b.len, 0);
	assert_int_equal(mem[0], CANARY);

	/* exact fit is fine */
	memset(mem, CANARY, sizeof(mem));
	tlv_buf_init(&b, mem, 64);
	tlv_put_ber(&b, 0x80, big, 62);
	assert_true(tlv_buf_ok(&b));
	assert_int_equal(b.len, 64);
	check_canary(mem, 64);
	tlv_put_u8(&b, 0x00);
	assert_false(tlv_buf_ok(&b));
	check_canary(mem, 64);

	/* value does not fit after tag and length */
	memset(mem, CANARY, sizeof(mem));
	tlv_buf_init(&b, mem, 64);
	tlv_put_ctlv(&b, 0xB6, big, 100);
	assert_false(tlv_buf_ok(&b));
	check_canary(mem, 64);

	/* tlv_end needs one more byte for 81 80 and there is none */
	memset(mem, CANARY, sizeof(mem));
	tlv_buf_init(&b, mem, 130);
	mark = tlv_begin(&b, 0xD0);
	tlv_put_raw(&b, big, 128);
	assert_true(tlv_buf_ok(&b));
	assert_int_equal(b.len, 130);
	tlv_end(&b, mark);
	assert_false(tlv_buf_ok(&b));
	check_canary(mem, 130);
	assert_memory_equal(mem + 2, big, 128);	/* not half-moved */

	/* one more byte of room and it works */
	memset(mem, CANARY, sizeof(mem));
	tlv_buf_init(&b, mem, 131);
	mark = tlv_begin(&b, 0xD0);
	tlv_put_raw(&b, big, 128);
	tlv_end(&b, mark);
	assert_true(tlv_buf_ok(&b));
	assert_int_equal(b.len, 131);
	assert_memory_equal(mem, "\xD0\x81\x80", 3);
	assert_memory_equal(mem + 3, big, 128);
	check_canary(mem, 131);

	/* tlv_begin itself does not fit */
	memset(mem, CANARY, sizeof(mem));
	tlv_buf_init(&b, mem, 1);
	mark = tlv_begin(&b, 0xD0);
	tlv_end(&b, mark);
	assert_false(tlv_buf_ok(&b));
	check_canary(mem, 1);

	/* zero capacity */
	tlv_buf_init(&b, NULL, 0);
	tlv_put_raw(&b, NULL, 0);
	assert_true(tlv_buf_ok(&b));
	tlv_put_u8(&b, 0x00);
	assert_false(tlv_buf_ok(&b));
}

/* The writer refuses what the reader would refuse. */
static void
test_writer_bad_input(void **state)
{
	static const uint8_t bad_ber[] = { 0x00, 0xFF, 0x1F, 0x5F, 0xDF };
	static const uint8_t bad_ctlv[] = { 0x00, 0x80, 0xFF, 0x7F };
	uint8_t buf[16];
	struct tlv_buf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_ber); i++) {
		tlv_buf_init(&b, buf, sizeof(buf));
		tlv_put_ber(&b, bad_ber[i], NULL, 0);
		assert_false(tlv_buf_ok(&b));
		assert_int_equal(b.len, 0);
		tlv_buf_init(&b, buf, sizeof(buf));
		(void)tlv_begin(&b, bad_ber[i]);
		assert_false(tlv_buf_ok(&b));
	}
	for (i = 0; i < sizeof(bad_ctlv); i++) {
		tlv_buf_init(&b, buf, sizeof(buf));
		tlv_put_ctlv(&b, bad_ctlv[i], NULL, 0);
		assert_false(tlv_buf_ok(&b));
		assert_int_equal(b.len, 0);
	}
	/* a mark that is not an open object */
	tlv_buf_init(&b, buf, sizeof(buf));
	tlv_put_u8(&b, 0x01);
	tlv_end(&b, 5);
	assert_false(tlv_buf_ok(&b));
	tlv_buf_init(&b, buf, sizeof(buf));
	tlv_put_u8(&b, 0x01);
	tlv_end(&b, 0);
	assert_false(tlv_buf_ok(&b));
}

/* Build the data-available envelope and compare with the spec bytes. */
static void
test_roundtrip_event(void **state)
{
	static const uint8_t ev[] = { 0x09 }, dev[] = { 0x82, 0x81 },
		status[] = { 0x81, 0x00 }, dlen[] = { 0xFF };
	uint8_t buf[64];
	struct tlv_buf b;
	size_t mark;

	(void)state;
	tlv_buf_init(&b, buf, sizeof(buf));
	mark = tlv_begin(&b, 0xD6);
	tlv_put_ctlv(&b, 0x99, ev, sizeof(ev));
	tlv_put_ctlv(&b, 0x82, dev, sizeof(dev));
	tlv_put_ctlv(&b, 0xB8, status, sizeof(status));
	tlv_put_ctlv(&b, 0xB7, dlen, sizeof(dlen));
	tlv_end(&b, mark);
	assert_true(tlv_buf_ok(&b));
	assert_int_equal(b.len, sizeof(event_data_available));
	assert_memory_equal(buf, event_data_available, b.len);
}

/* Decode SEND DATA 1.1.1, re-encode every object, get the same bytes. */
static void
test_roundtrip_send_data(void **state)
{
	struct tlv_iter it, in;
	struct tlv_buf b;
	struct tlv t, c;
	uint8_t buf[64];
	size_t mark;

	(void)state;
	tlv_buf_init(&b, buf, sizeof(buf));
	tlv_iter_init(&it, send_data_1_1_1, sizeof(send_data_1_1_1));
	assert_int_equal(tlv_ber_next(&it, &t), 1);
	mark = tlv_begin(&b, (uint8_t)t.tag);
	tlv_iter_init(&in, t.val, t.len);
	while (tlv_ctlv_next(&in, &c) == 1)
		tlv_put_ctlv(&b, (uint8_t)(c.tag | (c.cr ? 0x80 : 0)), c.val,
			     c.len);
	tlv_end(&b, mark);
	assert_true(tlv_buf_ok(&b));
	assert_int_equal(b.len, sizeof(send_data_1_1_1));
	assert_memory_equal(buf, send_data_1_1_1, b.len);
}

/* Write objects of boundary lengths, read them back. */
static void
test_roundtrip_lengths(void **state)
{
	static const size_t lens[] = { 0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x1234 };
	static uint8_t val[0x1234], buf[2 * (0x1234 + 4)];
	struct tlv_iter it;
	struct tlv_buf b;
	struct tlv t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(val); i++)
		val[i] = (uint8_t)(i ^ (i >> 8));
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		tlv_buf_init(&b, buf, sizeof(buf));
		tlv_put_ber(&b, 0x5A, val, lens[i]);
		tlv_put_ctlv(&b, 0xB6, val, lens[i]);
		assert_true(tlv_buf_ok(&b));
		assert_int_equal(b.len,
				 2 * (1 + tlv_len_size(lens[i]) + lens[i]));

		tlv_iter_init(&it, buf, b.len / 2);
		assert_int_equal(tlv_ber_next(&it, &t), 1);
		assert_int_equal(t.tag, 0x5A);
		assert_int_equal(t.len, lens[i]);
		assert_memory_equal(t.val, val, lens[i]);
		assert_int_equal(tlv_ber_next(&it, &t), 0);

		tlv_iter_init(&it, buf + b.len / 2, b.len / 2);
		assert_int_equal(tlv_ctlv_next(&it, &t), 1);
		assert_int_equal(t.tag, 0x36);
		assert_true(t.cr);
		assert_int_equal(t.len, lens[i]);
		assert_memory_equal(t.val, val, lens[i]);
		assert_int_equal(tlv_ctlv_next(&it, &t), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_channel_2_1_1),
		cmocka_unit_test(test_send_data_1_1_1),
		cmocka_unit_test(test_event_data_available),
		cmocka_unit_test(test_ctlv_three_byte_tag),
		cmocka_unit_test(test_len_decode),
		cmocka_unit_test(test_len_size),
		cmocka_unit_test(test_ber_malformed),
		cmocka_unit_test(test_ctlv_malformed),
		cmocka_unit_test(test_empty_buffer),
		cmocka_unit_test(test_error_after_good),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_put_len),
		cmocka_unit_test(test_nested_200),
		cmocka_unit_test(test_nested_82),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_writer_bad_input),
		cmocka_unit_test(test_roundtrip_event),
		cmocka_unit_test(test_roundtrip_send_data),
		cmocka_unit_test(test_roundtrip_lengths),
	};

	return cmocka_run_group_tests_name("tlv", tests, NULL, NULL);
}
