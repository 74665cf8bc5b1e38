/* SPDX-License-Identifier: MIT */
/*
 * "HOST", "HOST:PORT", "[V6]", "[V6]:PORT" (RFC 3986 3.2.2 / 3.2.3): the
 * authority of a URL, or an address option.  An IPv6 literal is always in
 * brackets, so that "::1:4729" cannot be misread.  Only the syntax is
 * checked here; what a host may be (numeric only, a name) is the caller's.
 */
#ifndef DMSCGW_UTIL_HOSTPORT_H
#define DMSCGW_UTIL_HOSTPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOSTPORT_HOST_MAX	255	/* a DNS name, or a v6 literal with %scope */

/* hostport_parse() flags */
#define HOSTPORT_EMPTY_PORT	0x1u	/* "host:" is no port (RFC 3986 3.2.3) */

enum hostport_error {
	HOSTPORT_OK = 0,
	HOSTPORT_NO_CLOSE_BRACKET,	/* "[::1" */
	HOSTPORT_AFTER_BRACKET,		/* "[::1]x": only ":PORT" may follow */
	HOSTPORT_V6_UNBRACKETED,	/* "::1", "::1:80" */
	HOSTPORT_NO_HOST,		/* "", ":80", "[]" */
	HOSTPORT_HOST_TOO_LONG,
	HOSTPORT_BAD_PORT,		/* not 1..65535 in decimal */
};

struct hostport {
	char host[HOSTPORT_HOST_MAX + 1];	/* without the brackets */
	size_t host_span;	/* bytes of the input before ":PORT", brackets included */
	bool bracketed;
	bool has_port;
	uint16_t port;		/* when has_port */
};

/* Parse s[0..len); HOSTPORT_OK with *out filled, or the first error. */
enum hostport_error hostport_parse(const char *s, size_t len, unsigned flags,
				   struct hostport *out);
const char *hostport_strerror(enum hostport_error e);

#endif
