/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define BUF_FIRST_CAP	1024

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_init_fixed(struct buf *b, void *p, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->p = p;
	b->cap = p != NULL ? cap : 0;
	b->fixed = true;
}

void
buf_free(struct buf *b)
{
	size_t max;

	if (b == NULL || b->fixed)
		return;
	max = b->max;
	free(b->p);
	buf_init(b, max);
}

bool
buf_ok(const struct buf *b)
{
	return !b->failed;
}

void
buf_fail(struct buf *b)
{
	b->failed = true;
}

/* Room for n more bytes; false (and failed) when there cannot be. */
static bool
buf_room(struct buf *b, size_t n)
{
	size_t limit, cap;
	uint8_t *np;

	if (b->failed)
		return false;
	limit = b->fixed ? b->cap : b->max != 0 ? b->max : SIZE_MAX / 2;
	if (n > limit || b->len > limit - n) {
		b->failed = true;
		return false;
	}
	if (n <= b->cap - b->len)
		return true;
	for (cap = b->cap ? b->cap : BUF_FIRST_CAP; cap < b->len + n; cap *= 2)
		;
	if ((np = realloc(b->p, cap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->p = np;
	b->cap = cap;
	return true;
}

uint8_t *
buf_extend(struct buf *b, size_t n)
{
	uint8_t *at;

	if (!buf_room(b, n))
		return NULL;
	at = b->p + b->len;
	b->len += n;
	return at;
}

void
buf_put(struct buf *b, const void *p, size_t len)
{
	uint8_t *at;

	if (len == 0 || (at = buf_extend(b, len)) == NULL)
		return;
	memcpy(at, p, len);
}

void
buf_put_u8(struct buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		b->failed = true;
	else
		buf_put(b, tmp, (size_t)n);
}
