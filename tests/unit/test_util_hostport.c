/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "util/hostport.h"

static void
test_ok(void **state)
{
	static const struct {
		const char *in;
		unsigned flags;
		const char *host;
		bool bracketed, has_port;
		unsigned port;
		size_t span;
	} vec[] = {
		{ "127.0.0.1", 0, "127.0.0.1", false, false, 0, 9 },
		{ "127.0.0.1:4729", 0, "127.0.0.1", false, true, 4729, 9 },
		{ "host.example:1", 0, "host.example", false, true, 1, 12 },
		{ "h:65535", 0, "h", false, true, 65535, 1 },
		{ "[::1]", 0, "::1", true, false, 0, 5 },
		{ "[::1]:80", 0, "::1", true, true, 80, 5 },
		{ "[fe80::1%eth0]:9", 0, "fe80::1%eth0", true, true, 9, 14 },
		{ "h:", HOSTPORT_EMPTY_PORT, "h", false, false, 0, 1 },
		{ "[::1]:", HOSTPORT_EMPTY_PORT, "::1", true, false, 0, 5 },
	};
	struct hostport hp;

	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		assert_int_equal(hostport_parse(vec[i].in, strlen(vec[i].in),
						vec[i].flags, &hp), HOSTPORT_OK);
		assert_string_equal(hp.host, vec[i].host);
		assert_int_equal(hp.bracketed, vec[i].bracketed);
		assert_int_equal(hp.has_port, vec[i].has_port);
		assert_int_equal(hp.port, vec[i].port);
		assert_int_equal(hp.host_span, vec[i].span);
	}
}

static void
test_errors(void **state)
{
	static const struct {
		const char *in;
		unsigned flags;
		enum hostport_error e;
	} vec[] = {
		{ "", 0, HOSTPORT_NO_HOST },
		{ ":80", 0, HOSTPORT_NO_HOST },
		{ "[]", 0, HOSTPORT_NO_HOST },
		{ "[]:80", 0, HOSTPORT_NO_HOST },
		{ "[::1", 0, HOSTPORT_NO_CLOSE_BRACKET },
		{ "[::1]x", 0, HOSTPORT_AFTER_BRACKET },
		{ "[::1]80", 0, HOSTPORT_AFTER_BRACKET },
		{ "::1", 0, HOSTPORT_V6_UNBRACKETED },
		{ "::1:4729", 0, HOSTPORT_V6_UNBRACKETED },
		{ "h:", 0, HOSTPORT_BAD_PORT },
		{ "h:0", 0, HOSTPORT_BAD_PORT },
		{ "h:65536", 0, HOSTPORT_BAD_PORT },
		{ "h:99999999999999999999", 0, HOSTPORT_BAD_PORT },
		{ "h:-1", 0, HOSTPORT_BAD_PORT },
		{ "h:8x", 0, HOSTPORT_BAD_PORT },
		{ "[::1]:0", 0, HOSTPORT_BAD_PORT },
	};
	char longhost[HOSTPORT_HOST_MAX + 4];
	struct hostport hp;

	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		assert_int_equal(hostport_parse(vec[i].in, strlen(vec[i].in),
						vec[i].flags, &hp), vec[i].e);
		assert_non_null(hostport_strerror(vec[i].e));
	}
	memset(longhost, 'a', HOSTPORT_HOST_MAX);	/* exactly the limit */
	assert_int_equal(hostport_parse(longhost, HOSTPORT_HOST_MAX, 0, &hp),
			 HOSTPORT_OK);
	longhost[HOSTPORT_HOST_MAX] = 'a';		/* one past */
	assert_int_equal(hostport_parse(longhost, HOSTPORT_HOST_MAX + 1, 0, &hp),
			 HOSTPORT_HOST_TOO_LONG);
	/* only len bytes are read: the ":80" is outside */
	assert_int_equal(hostport_parse("h:80", 1, 0, &hp), HOSTPORT_OK);
	assert_false(hp.has_port);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("util_hostport", tests, NULL, NULL);
}
