/* SPDX-License-Identifier: MIT */
/*
 * Bounded BER-TLV and COMPREHENSION-TLV reader and writer.
 *
 * ETSI TS 101 220 clause 7.1 (BER-TLV) and 7.1.1 / TS 102 223 Annex C
 * (COMPREHENSION-TLV).  The reader never reads past the buffer it was given;
 * a malformed tag or length is an error value, never a crash.
 */
#ifndef DMSCGW_TLV_H
#define DMSCGW_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct tlv {
	unsigned tag;		/* BER: the tag byte(s); C-TLV: tag without CR bit */
	bool cr;		/* C-TLV only: comprehension required */
	const uint8_t *val;
	size_t len;
	size_t hdr_len;		/* tag + length bytes */
};

struct tlv_iter {
	const uint8_t *p;
	const uint8_t *end;
};

void tlv_iter_init(struct tlv_iter *it, const uint8_t *p, size_t len);

/*
 * Decode the next object.  Returns 1 with *t filled, 0 at the clean end of the
 * buffer, -EBADMSG when the tag or length is malformed or the value would run
 * past the end.  After an error the iterator does not move.
 */
int tlv_ber_next(struct tlv_iter *it, struct tlv *t);
int tlv_ctlv_next(struct tlv_iter *it, struct tlv *t);

/*
 * Length field coding shared by both formats (TS 101 220 7.1.2):
 * 00..7F, 81 80..FF, 82 0100..FFFF, 83 010000..FFFFFF.
 * tlv_len_decode returns the number of bytes used, or -EBADMSG.
 */
int tlv_len_decode(const uint8_t *p, size_t avail, size_t *len);
size_t tlv_len_size(size_t len);

/*
 * Writer into a caller-owned array: a fixed util/buf.  Writing past cap, or
 * an object the writer cannot encode, fails the buffer and writes nothing
 * further; check tlv_buf_ok() once at the end.  The name struct tlv_buf is
 * kept for the card and toolkit callers; it is struct buf.
 */
#define tlv_buf buf

void tlv_buf_init(struct tlv_buf *b, uint8_t *p, size_t cap);
bool tlv_buf_ok(const struct tlv_buf *b);
void tlv_put_raw(struct tlv_buf *b, const void *p, size_t len);
void tlv_put_u8(struct tlv_buf *b, uint8_t v);
void tlv_put_len(struct tlv_buf *b, size_t len);
/* BER object: one-byte tag, length, value. */
void tlv_put_ber(struct tlv_buf *b, uint8_t tag, const void *val, size_t len);
/* C-TLV object; tag carries the CR bit if wanted (tag | 0x80). */
void tlv_put_ctlv(struct tlv_buf *b, uint8_t tag, const void *val, size_t len);

/*
 * Constructed BER object (D0, D6, ...): open with tlv_begin(), write the
 * contents, close with tlv_end(), which fixes up the length (moving the
 * contents when the length needs more than one byte).
 */
size_t tlv_begin(struct tlv_buf *b, uint8_t tag);
void tlv_end(struct tlv_buf *b, size_t mark);

/* Find the first C-TLV with tag (CR bit ignored) in p..p+len; 1 found, 0 not, <0 malformed. */
int tlv_ctlv_find(const uint8_t *p, size_t len, unsigned tag, struct tlv *t);

#endif
