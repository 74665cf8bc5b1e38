/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <unistd.h>

#include "util/io.h"

static void
test_write_all(void **state)
{
	char path[] = "/tmp/test_util_io.XXXXXX";
	static uint8_t data[200000];
	uint8_t back[sizeof(data)];
	size_t done = 1;
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(io_write_all(fd, data, 0, &done), 0);
	assert_int_equal(done, 0);
	assert_int_equal(io_write_all(fd, data, sizeof(data), &done), 0);
	assert_int_equal(done, sizeof(data));
	assert_int_equal(io_write_all(fd, data, 1, NULL), 0);
	assert_int_equal(pread(fd, back, sizeof(back), 0), sizeof(back));
	assert_memory_equal(back, data, sizeof(data));
	close(fd);
}

/* A pipe nobody reads fills up: the short writes are retried until then. */
static void
test_errors(void **state)
{
	int p[2];
	size_t done = 1;

	(void)state;
	assert_int_equal(io_write_all(-1, "x", 1, &done), -EBADF);
	assert_int_equal(done, 0);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(io_write_all(p[1], "x", 1, &done), -EPIPE);
	close(p[1]);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	{
		static uint8_t big[1 << 20];

		assert_int_equal(io_write_all(p[1], big, sizeof(big), &done),
				 -EAGAIN);
		assert_true(done > 0 && done < sizeof(big));	/* torn: said how far */
	}
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_all),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("util_io", tests, NULL, NULL);
}
