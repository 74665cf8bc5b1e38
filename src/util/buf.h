/* SPDX-License-Identifier: MIT */
/*
 * Byte buffer with a sticky failure flag: writers append without checking
 * each call and look at buf_ok() once, at the end, so a half-built message
 * is never sent.
 *
 * Two kinds share one type:
 *   - growable (zero-initialised, or buf_init() with a size limit): the
 *     buffer owns p and grows it; buf_free() releases it;
 *   - fixed (buf_init_fixed()): p is the caller's array of cap bytes; it is
 *     never grown nor freed.
 * A write that does not fit (no memory, over max, past a fixed cap) writes
 * nothing, sets failed, and makes every later write a no-op.
 */
#ifndef DMSCGW_UTIL_BUF_H
#define DMSCGW_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;		/* growable: the largest len allowed, 0 = no limit */
	bool fixed;		/* p is the caller's, cap bytes */
	bool failed;		/* sticky */
};

/* An empty growable buffer that refuses to exceed max bytes (0: no limit). */
void buf_init(struct buf *b, size_t max);
/* A writer into the caller's p[0..cap); p NULL means cap 0. */
void buf_init_fixed(struct buf *b, void *p, size_t cap);
/* Growable: free p and reset to empty.  Fixed: nothing.  NULL is fine. */
void buf_free(struct buf *b);

bool buf_ok(const struct buf *b);
/* Mark the buffer failed (a writer met something it cannot encode). */
void buf_fail(struct buf *b);

void buf_put(struct buf *b, const void *p, size_t len);
void buf_put_u8(struct buf *b, uint8_t v);
/* printf-style append; output longer than 255 bytes fails the buffer. */
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Append n bytes left for the caller to fill; returns where they start, or
 * NULL (and the buffer failed) when they do not fit.
 */
uint8_t *buf_extend(struct buf *b, size_t n);

#endif
