/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the TLV codecs.  The input is read as a BER-TLV list
 * (toolkit templates walked again as C-TLV lists) and as a flat C-TLV list.
 * Whatever decodes is re-encoded with the writer: lengths are always minimal
 * and tags are kept in their form, so the result must be byte-identical to
 * the part of the input that was accepted, and must decode again the same way.
 * A mismatch is a codec bug, reported with abort().
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "card/tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static bool
is_template(unsigned tag)
{
	/* TS 101 220 / TS 102 223: the toolkit templates dmscgw handles. */
	return tag == 0xD0 || tag == 0xD4 || tag == 0xD6 || tag == 0xD7 ||
	       tag == 0xDC;
}

/* Every decoded object must describe itself consistently. */
static void
check_object(const struct tlv *t, const uint8_t *at, size_t tag_len)
{
	size_t ll = tlv_len_size(t->len);
	size_t len;

	CHECK(ll != 0);
	CHECK(t->hdr_len == tag_len + ll);
	CHECK(t->val == at + t->hdr_len);
	CHECK(tlv_len_decode(at + tag_len, ll, &len) == (int)ll);
	CHECK(len == t->len);
}

static size_t
ctlv_tag_len(const struct tlv *t)
{
	return t->hdr_len - tlv_len_size(t->len);
}

/*
 * Walk a C-TLV list; re-encode it into b when b is not NULL.  Returns the
 * number of bytes accepted; *clean says whether the walk reached the end.
 */
static size_t
walk_ctlv(const uint8_t *p, size_t len, struct tlv_buf *b, bool *clean)
{
	struct tlv_iter it;
	struct tlv t, f;
	const uint8_t *at;
	size_t tl;
	int r, fr;
	bool first = true;
	unsigned first_tag = 0;
	const uint8_t *first_val = NULL;

	tlv_iter_init(&it, p, len);
	for (;;) {
		at = it.p;
		r = tlv_ctlv_next(&it, &t);
		if (r != 1)
			break;
		tl = ctlv_tag_len(&t);
		CHECK(tl == 1 || tl == 3);
		check_object(&t, at, tl);
		if (tl == 1) {
			CHECK(t.tag <= 0x7F);
			CHECK(t.tag != 0x00 && t.tag != 0x7F);
		} else {
			CHECK(at[0] == 0x7F && t.tag <= 0x7FFF);
		}
		if (first) {
			first = false;
			first_tag = t.tag;
			first_val = t.val;
		}
		if (b == NULL)
			continue;
		if (tl == 1) {
			tlv_put_ctlv(b, (uint8_t)(t.tag | (t.cr ? 0x80 : 0)),
				     t.val, t.len);
		} else {
			tlv_put_u8(b, 0x7F);
			tlv_put_u8(b, (uint8_t)(t.tag >> 8 |
						(t.cr ? 0x80 : 0)));
			tlv_put_u8(b, (uint8_t)t.tag);
			tlv_put_len(b, t.len);
			tlv_put_raw(b, t.val, t.len);
		}
	}
	/* An error leaves the iterator on the bad object. */
	CHECK(r == 0 || r == -EBADMSG);
	CHECK(r != 0 || it.p == p + len);
	CHECK(r != -EBADMSG || it.p == at);
	*clean = r == 0;

	if (!first) {
		fr = tlv_ctlv_find(p, len, first_tag, &f);
		CHECK(fr == 1 && f.val == first_val);
	}
	return (size_t)(it.p - p);
}

/* Walk a BER-TLV list, re-encoding into b when not NULL; bytes accepted. */
static size_t
walk_ber(const uint8_t *p, size_t len, struct tlv_buf *b)
{
	struct tlv_iter it;
	struct tlv t;
	const uint8_t *at;
	size_t mark;
	bool clean;
	int r;

	tlv_iter_init(&it, p, len);
	for (;;) {
		at = it.p;
		r = tlv_ber_next(&it, &t);
		if (r != 1)
			break;
		CHECK(t.tag == at[0] && !t.cr);
		check_object(&t, at, 1);
		if (is_template(t.tag)) {
			/* Validate first: a half-valid one is copied as is. */
			walk_ctlv(t.val, t.len, NULL, &clean);
			if (clean && b != NULL) {
				mark = tlv_begin(b, (uint8_t)t.tag);
				(void)walk_ctlv(t.val, t.len, b, &clean);
				tlv_end(b, mark);
				continue;
			}
		}
		if (b != NULL)
			tlv_put_ber(b, (uint8_t)t.tag, t.val, t.len);
	}
	CHECK(r == 0 || r == -EBADMSG);
	CHECK(r != -EBADMSG || it.p == at);
	return (size_t)(it.p - p);
}

/*
 * Re-encode the accepted prefix into exactly n bytes (heap, so ASan sees a
 * write past the end) and compare; then into n - 1 bytes, which must
 * overflow without writing past the end.
 */
static void
roundtrip(const uint8_t *data, size_t n, bool ber)
{
	struct tlv_buf b;
	uint8_t *out;
	bool clean;
	size_t again;

	out = malloc(n > 0 ? n : 1);
	CHECK(out != NULL);
	tlv_buf_init(&b, out, n);
	if (ber)
		again = walk_ber(data, n, &b);
	else
		again = walk_ctlv(data, n, &b, &clean);
	CHECK(again == n);
	CHECK(tlv_buf_ok(&b));
	CHECK(b.len == n);
	CHECK(n == 0 || memcmp(out, data, n) == 0);

	/* What the writer produced reads back to the same length, cleanly. */
	if (ber) {
		CHECK(walk_ber(out, b.len, NULL) == n);
	} else {
		CHECK(walk_ctlv(out, b.len, NULL, &clean) == n);
		CHECK(clean);
	}

	if (n > 0) {
		tlv_buf_init(&b, out, n - 1);
		if (ber)
			(void)walk_ber(data, n, &b);
		else
			(void)walk_ctlv(data, n, &b, &clean);
		CHECK(!tlv_buf_ok(&b));
		CHECK(b.len <= n - 1);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;
	bool clean;

	n = walk_ber(data, size, NULL);
	CHECK(n <= size);
	roundtrip(data, n, true);

	n = walk_ctlv(data, size, NULL, &clean);
	CHECK(n <= size);
	roundtrip(data, n, false);
	return 0;
}
