/* SPDX-License-Identifier: MIT */
#ifndef DMSCGW_HEX_H
#define DMSCGW_HEX_H

#include <stddef.h>
#include <stdint.h>

/*
 * Upper-case hex without separators into out (2*len+1 bytes, NUL-terminated).
 * Returns out.
 */
char *hex_encode(char *out, const uint8_t *p, size_t len);
/* The same in lower case, as sha256sum prints digests. */
char *hex_encode_lower(char *out, const uint8_t *p, size_t len);

/*
 * Decode hex; spaces, tabs and ':' between byte pairs are ignored.  Returns
 * the number of bytes written, -EINVAL on an odd digit count or a bad
 * character, -ENOSPC when it does not fit in cap.
 */
int hex_decode(uint8_t *out, size_t cap, const char *s);

#endif
