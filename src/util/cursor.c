/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "util/cursor.h"

#define UINTVAR_MAX_OCTETS	5

void
cursor_init(struct cursor *c, const void *p, size_t len)
{
	c->pos = p;
	c->end = p != NULL ? c->pos + len : NULL;
	c->failed = false;
}

size_t
cursor_left(const struct cursor *c)
{
	return c->failed ? 0 : (size_t)(c->end - c->pos);
}

bool
cursor_fail(struct cursor *c)
{
	c->failed = true;
	return false;
}

bool
cursor_peek_u8(const struct cursor *c, uint8_t *v)
{
	if (cursor_left(c) < 1)
		return false;
	*v = c->pos[0];
	return true;
}

bool
cursor_get_u8(struct cursor *c, uint8_t *v)
{
	if (!cursor_peek_u8(c, v))
		return cursor_fail(c);
	c->pos++;
	return true;
}

bool
cursor_get_bytes(struct cursor *c, size_t n, const uint8_t **p)
{
	if (c->failed || n > cursor_left(c))
		return cursor_fail(c);
	*p = c->pos;
	c->pos += n;
	return true;
}

bool
cursor_skip(struct cursor *c, size_t n)
{
	const uint8_t *p;

	return cursor_get_bytes(c, n, &p);
}

bool
cursor_sub(struct cursor *c, size_t n, struct cursor *sub)
{
	const uint8_t *p;

	if (!cursor_get_bytes(c, n, &p))
		return false;
	cursor_init(sub, p, n);
	return true;
}

bool
cursor_expect(struct cursor *c, const void *lit, size_t n)
{
	if (c->failed || n > cursor_left(c) || (n > 0 && memcmp(c->pos, lit, n) != 0))
		return cursor_fail(c);
	c->pos += n;
	return true;
}

bool
cursor_get_cstr(struct cursor *c, const char **s, size_t *len)
{
	const uint8_t *nul;
	size_t left = cursor_left(c);

	nul = left > 0 ? memchr(c->pos, '\0', left) : NULL;
	if (nul == NULL)
		return cursor_fail(c);
	*s = (const char *)c->pos;
	*len = (size_t)(nul - c->pos);
	c->pos = nul + 1;
	return true;
}

bool
cursor_get_uintvar(struct cursor *c, uint32_t *v)
{
	size_t left = cursor_left(c);
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < UINTVAR_MAX_OCTETS && i < left; i++) {
		x = x << 7 | (c->pos[i] & 0x7Fu);
		if ((c->pos[i] & 0x80) == 0) {
			if (x > UINT32_MAX)
				break;
			*v = (uint32_t)x;
			c->pos += i + 1;
			return true;
		}
	}
	return cursor_fail(c);
}

bool
cursor_end(struct cursor *c)
{
	if (c->failed || c->pos != c->end)
		return cursor_fail(c);
	return true;
}
