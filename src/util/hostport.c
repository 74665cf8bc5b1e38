/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "util/hostport.h"

static enum hostport_error
hostport_port(const char *p, const char *end, unsigned flags,
	      struct hostport *out)
{
	unsigned long v = 0;

	if (p == end)
		return flags & HOSTPORT_EMPTY_PORT ? HOSTPORT_OK
						   : HOSTPORT_BAD_PORT;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return HOSTPORT_BAD_PORT;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return HOSTPORT_BAD_PORT;
	}
	if (v == 0)
		return HOSTPORT_BAD_PORT;
	out->has_port = true;
	out->port = (uint16_t)v;
	return HOSTPORT_OK;
}

enum hostport_error
hostport_parse(const char *s, size_t len, unsigned flags, struct hostport *out)
{
	const char *end = s + len, *start, *hend, *colon = NULL;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (len > 0 && s[0] == '[') {
		out->bracketed = true;
		start = s + 1;
		hend = memchr(start, ']', (size_t)(end - start));
		if (hend == NULL)
			return HOSTPORT_NO_CLOSE_BRACKET;
		if (hend + 1 < end && hend[1] != ':')
			return HOSTPORT_AFTER_BRACKET;
		if (hend + 1 < end)
			colon = hend + 1;
		out->host_span = (size_t)(hend + 1 - s);
	} else {
		start = s;
		colon = memchr(s, ':', len);
		if (colon != NULL &&
		    memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL)
			return HOSTPORT_V6_UNBRACKETED;
		hend = colon != NULL ? colon : end;
		out->host_span = (size_t)(hend - s);
	}
	hlen = (size_t)(hend - start);
	if (hlen == 0)
		return HOSTPORT_NO_HOST;
	if (hlen > HOSTPORT_HOST_MAX)
		return HOSTPORT_HOST_TOO_LONG;
	memcpy(out->host, start, hlen);
	out->host[hlen] = '\0';
	return colon != NULL ? hostport_port(colon + 1, end, flags, out)
			     : HOSTPORT_OK;
}

const char *
hostport_strerror(enum hostport_error e)
{
	switch (e) {
	case HOSTPORT_OK:
		return "no error";
	case HOSTPORT_NO_CLOSE_BRACKET:
		return "missing ']'";
	case HOSTPORT_AFTER_BRACKET:
		return "expected ':PORT' after ']'";
	case HOSTPORT_V6_UNBRACKETED:
		return "an IPv6 address goes in brackets";
	case HOSTPORT_NO_HOST:
		return "no address";
	case HOSTPORT_HOST_TOO_LONG:
		return "address too long";
	case HOSTPORT_BAD_PORT:
		return "the port must be a number from 1 to 65535";
	}
	return "?";
}
