/* SPDX-License-Identifier: MIT */
#ifndef DMSCGW_ERRBUF_H
#define DMSCGW_ERRBUF_H

#include <stddef.h>

/* Format a one-line reason into a caller's buffer; NULL/0 is fine. */
void errbuf_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
