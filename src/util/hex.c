/* SPDX-License-Identifier: MIT */
/*
 * Hex strings for logs, configuration and test vectors.
 *
 * Decoding accepts the forms people paste from specifications and traces
 * ("D0 13 81 03", "d0:13:81:03", "D01381"): separators may stand at any byte
 * boundary, including the start and the end, but never inside a pair, where
 * "D 0" is more likely a typo than a byte.
 */
#include <errno.h>
#include <limits.h>

#include "util/hex.h"

static char *
hex_encode_with(char *out, const uint8_t *p, size_t len, const char *digits)
{
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0F];
	}
	out[2 * len] = '\0';
	return out;
}

char *
hex_encode(char *out, const uint8_t *p, size_t len)
{
	return hex_encode_with(out, p, len, "0123456789ABCDEF");
}

char *
hex_encode_lower(char *out, const uint8_t *p, size_t len)
{
	return hex_encode_with(out, p, len, "0123456789abcdef");
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
hex_is_sep(char c)
{
	return c == ' ' || c == '\t' || c == ':';
}

/*
 * Walk s; write the bytes to out when out is not NULL.  Returns the byte
 * count or -EINVAL.  Used twice so that a malformed string is reported as
 * such whatever cap is, and out is left untouched on any error.
 */
static long
hex_scan(uint8_t *out, const char *s)
{
	long n = 0;
	int hi, lo;

	for (;;) {
		while (hex_is_sep(*s))
			s++;
		if (*s == '\0')
			return n;
		hi = hex_nibble(s[0]);
		if (hi < 0)
			return -EINVAL;
		lo = hex_nibble(s[1]);	/* s[1] is at worst the NUL */
		if (lo < 0)
			return -EINVAL;
		if (n == INT_MAX)
			return -ENOSPC;	/* count would not fit the result */
		if (out != NULL)
			out[n] = (uint8_t)(hi << 4 | lo);
		n++;
		s += 2;
	}
}

int
hex_decode(uint8_t *out, size_t cap, const char *s)
{
	long n;

	if (s == NULL)
		return -EINVAL;
	n = hex_scan(NULL, s);
	if (n < 0)
		return (int)n;
	if ((unsigned long)n > cap)
		return -ENOSPC;
	if (n > 0)
		hex_scan(out, s);
	return (int)n;
}
