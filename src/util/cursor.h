/* SPDX-License-Identifier: MIT */
/*
 * Bounded read cursor over a byte string.
 *
 * Every read checks end - pos before it touches a byte.  A read that does
 * not fit fails the cursor: it does not move, and every later read fails
 * too, so a parser may read a whole structure and test once.
 * cursor_end() is the "must consume everything" check that ends a message.
 */
#ifndef DMSCGW_UTIL_CURSOR_H
#define DMSCGW_UTIL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *pos;
	const uint8_t *end;
	bool failed;
};

void cursor_init(struct cursor *c, const void *p, size_t len);
/* Bytes left; 0 once failed. */
size_t cursor_left(const struct cursor *c);
/* Fail the cursor (a reader found a bad value); always returns false. */
bool cursor_fail(struct cursor *c);

bool cursor_peek_u8(const struct cursor *c, uint8_t *v);
bool cursor_get_u8(struct cursor *c, uint8_t *v);
/* Borrow the next n bytes (*p points into the input) and move past them. */
bool cursor_get_bytes(struct cursor *c, size_t n, const uint8_t **p);
bool cursor_skip(struct cursor *c, size_t n);
/* The next n bytes as a cursor of their own, and past them here. */
bool cursor_sub(struct cursor *c, size_t n, struct cursor *sub);
/* The next bytes are exactly lit[0..n): move past them, else fail. */
bool cursor_expect(struct cursor *c, const void *lit, size_t n);
/*
 * A NUL-terminated string: *s points at it (NUL included in the input),
 * *len is its length without the NUL; the cursor moves past the NUL.
 */
bool cursor_get_cstr(struct cursor *c, const char **s, size_t *len);
/*
 * A variable-length unsigned integer, 7 bits an octet, most significant
 * first, top bit set on all but the last: WSP uintvar (WAP-230 8.1.2) and
 * WBXML mb_u_int32 (WAP-192 5.1) are the same coding.  At most 5 octets and
 * 32 bits.
 */
bool cursor_get_uintvar(struct cursor *c, uint32_t *v);
/* True when nothing failed and everything was read; fails the cursor otherwise. */
bool cursor_end(struct cursor *c);

#endif
