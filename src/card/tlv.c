/* SPDX-License-Identifier: MIT */
/*
 * Bounded BER-TLV and COMPREHENSION-TLV codecs (ETSI TS 101 220 clause 7.1,
 * TS 102 223 Annex C).
 *
 * Every read is checked against the bytes left, computed as a count
 * (end - p) rather than by forming pointers past the end, so no input can make
 * the reader touch memory it was not given.
 *
 * Multi-byte BER tags (low five bits of the first byte all set, ISO/IEC
 * 7816-4 5.2.2.1) are rejected with -EBADMSG: every BER-TLV template that the
 * card application toolkit exchanges (D0, D4, D6, D7, DC...) has a one-byte
 * tag, and the writer only produces one-byte tags, so accepting longer ones
 * would only widen what a hostile card can feed us.
 */
#include <errno.h>
#include <string.h>

#include "card/tlv.h"

/* Largest length the 83 form can carry (TS 101 220 7.1.2). */
#define TLV_LEN_MAX	0xFFFFFFu

void
tlv_iter_init(struct tlv_iter *it, const uint8_t *p, size_t len)
{
	it->p = p;
	/* NULL + 0 is undefined in C, yet an empty NULL buffer is legal. */
	it->end = p != NULL ? p + len : p;
}

int
tlv_len_decode(const uint8_t *p, size_t avail, size_t *len)
{
	size_t n, i, v;

	if (avail == 0)
		return -EBADMSG;
	if (p[0] < 0x80) {
		*len = p[0];
		return 1;
	}
	/* TS 101 220 7.1.2: 81, 82 and 83 are the only long forms. */
	n = p[0] & 0x7F;
	if (n < 1 || n > 3 || avail < 1 + n)
		return -EBADMSG;
	v = 0;
	for (i = 1; i <= n; i++)
		v = v << 8 | p[i];
	/*
	 * The table in 7.1.2 gives each form a range starting where the
	 * shorter form stops (81 80.., 82 0100.., 83 010000..): anything below
	 * is a non-minimal coding, which the specification does not allow and
	 * which would let two byte strings mean the same object.
	 */
	if (v < (n == 1 ? 0x80u : 1u << (8 * (n - 1))))
		return -EBADMSG;
	*len = v;
	return (int)(1 + n);
}

size_t
tlv_len_size(size_t len)
{
	if (len < 0x80)
		return 1;
	if (len <= 0xFF)
		return 2;
	if (len <= 0xFFFF)
		return 3;
	if (len <= TLV_LEN_MAX)
		return 4;
	return 0;	/* not encodable */
}

/* TS 101 220 7.1.2: 81/82/83, then the length big-endian; 0 if too long. */
static size_t
tlv_len_encode(uint8_t enc[4], size_t len)
{
	size_t n, i;

	n = tlv_len_size(len);
	if (n == 1) {
		enc[0] = (uint8_t)len;
	} else if (n > 1) {
		enc[0] = (uint8_t)(0x80 | (n - 1));
		for (i = 1; i < n; i++)
			enc[i] = (uint8_t)(len >> (8 * (n - 1 - i)));
	}
	return n;
}

/*
 * Length and value after a tag of tag_len bytes.  Shared by both formats,
 * which use the same length coding (TS 101 220 7.1.2).
 */
static int
tlv_finish(struct tlv_iter *it, struct tlv *t, size_t tag_len)
{
	size_t left = (size_t)(it->end - it->p);
	size_t len;
	int n;

	n = tlv_len_decode(it->p + tag_len, left - tag_len, &len);
	if (n < 0)
		return n;
	if (len > left - tag_len - (size_t)n)
		return -EBADMSG;
	t->hdr_len = tag_len + (size_t)n;
	t->val = it->p + t->hdr_len;
	t->len = len;
	it->p = t->val + len;
	return 1;
}

int
tlv_ber_next(struct tlv_iter *it, struct tlv *t)
{
	uint8_t b;

	if (it->p == it->end)
		return 0;
	b = it->p[0];
	/*
	 * ISO/IEC 7816-4 5.2.2.1: 00 and FF are not tags (they are padding
	 * in some contexts, never in a toolkit template); 1F in the low bits
	 * starts a multi-byte tag, which we do not accept (see top of file).
	 */
	if (b == 0x00 || b == 0xFF || (b & 0x1F) == 0x1F)
		return -EBADMSG;
	t->tag = b;
	t->cr = false;
	return tlv_finish(it, t, 1);
}

int
tlv_ctlv_next(struct tlv_iter *it, struct tlv *t)
{
	size_t left;
	unsigned v;
	uint8_t b;

	if (it->p == it->end)
		return 0;
	left = (size_t)(it->end - it->p);
	b = it->p[0];
	switch (b) {
	case 0x00:
	case 0x80:
	case 0xFF:
		/* TS 101 220 7.1.1: reserved in the single-byte format. */
		return -EBADMSG;
	case 0x7F:
		/*
		 * TS 101 220 7.1.1: three-byte format; CR is bit 16 of the
		 * two bytes after 7F, the tag value the 15 bits below it.
		 */
		if (left < 3)
			return -EBADMSG;
		v = (unsigned)it->p[1] << 8 | it->p[2];
		t->cr = (v & 0x8000) != 0;
		t->tag = v & 0x7FFF;
		return tlv_finish(it, t, 3);
	default:
		/* TS 101 220 7.1.1: CR is bit 8, the tag the 7 bits below. */
		t->cr = (b & 0x80) != 0;
		t->tag = b & 0x7F;
		return tlv_finish(it, t, 1);
	}
}

int
tlv_ctlv_find(const uint8_t *p, size_t len, unsigned tag, struct tlv *t)
{
	struct tlv_iter it;
	int r;

	/*
	 * Stops at the first match without validating the rest: a command
	 * handler that needs the whole list to be well formed walks it with
	 * tlv_ctlv_next() and answers "command data not understood" itself.
	 */
	tlv_iter_init(&it, p, len);
	while ((r = tlv_ctlv_next(&it, t)) == 1) {
		if (t->tag == tag)
			return 1;
	}
	return r;
}

void
tlv_buf_init(struct tlv_buf *b, uint8_t *p, size_t cap)
{
	buf_init_fixed(b, p, cap);
}

bool
tlv_buf_ok(const struct tlv_buf *b)
{
	return buf_ok(b);
}

/*
 * The failure flag is sticky and also marks objects the writer cannot
 * encode (bad tag, length above 83 FF FF FF): the caller checks one flag at
 * the end instead of every call, and never sends a half-built message.
 */
void
tlv_put_raw(struct tlv_buf *b, const void *p, size_t len)
{
	buf_put(b, p, len);
}

void
tlv_put_u8(struct tlv_buf *b, uint8_t v)
{
	buf_put_u8(b, v);
}

void
tlv_put_len(struct tlv_buf *b, size_t len)
{
	uint8_t enc[4];
	size_t n;

	n = tlv_len_encode(enc, len);
	if (n == 0) {
		buf_fail(b);
		return;
	}
	tlv_put_raw(b, enc, n);
}

/* Tags our own reader would reject must not be written either. */
static bool
tlv_ber_tag_ok(uint8_t tag)
{
	return tag != 0x00 && tag != 0xFF && (tag & 0x1F) != 0x1F;
}

static bool
tlv_ctlv_tag_ok(uint8_t tag)
{
	/* 7F would announce a three-byte tag (TS 101 220 7.1.1). */
	return tag != 0x00 && tag != 0x80 && tag != 0xFF && tag != 0x7F;
}

void
tlv_put_ber(struct tlv_buf *b, uint8_t tag, const void *val, size_t len)
{
	if (!tlv_ber_tag_ok(tag)) {
		buf_fail(b);
		return;
	}
	tlv_put_u8(b, tag);
	tlv_put_len(b, len);
	tlv_put_raw(b, val, len);
}

void
tlv_put_ctlv(struct tlv_buf *b, uint8_t tag, const void *val, size_t len)
{
	if (!tlv_ctlv_tag_ok(tag)) {
		buf_fail(b);
		return;
	}
	tlv_put_u8(b, tag);
	tlv_put_len(b, len);
	tlv_put_raw(b, val, len);
}

/*
 * The mark is the offset of the tag.  The length is written as one
 * placeholder byte because most toolkit objects are short; tlv_end() widens
 * it only when needed.
 */
size_t
tlv_begin(struct tlv_buf *b, uint8_t tag)
{
	size_t mark = b->len;

	if (!tlv_ber_tag_ok(tag)) {
		buf_fail(b);
		return mark;
	}
	tlv_put_u8(b, tag);
	tlv_put_u8(b, 0);
	return mark;
}

void
tlv_end(struct tlv_buf *b, size_t mark)
{
	size_t start, clen, n, extra;
	uint8_t enc[4];

	if (!buf_ok(b))
		return;
	/* A mark that is no open object is a caller bug: fail, do not write. */
	if (mark > b->len || b->len - mark < 2) {
		buf_fail(b);
		return;
	}
	start = mark + 2;
	clen = b->len - start;
	n = tlv_len_encode(enc, clen);
	if (n == 0) {
		buf_fail(b);
		return;
	}
	extra = n - 1;
	if (extra > 0) {
		if (buf_extend(b, extra) == NULL)
			return;
		memmove(b->p + start + extra, b->p + start, clen);
	}
	memcpy(b->p + mark + 1, enc, n);
}
