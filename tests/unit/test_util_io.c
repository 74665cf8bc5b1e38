/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <unistd.h>

#include <sys/stat.h>

#include "util/io.h"

/* mode of path, or -1 */
static int
mode_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return -1;
	return (int)(st.st_mode & 07777);
}

static void
test_mkdir_p(void **state)
{
	char top[] = "/tmp/test_util_mkdir.XXXXXX", p[256], q[256];
	mode_t old = umask(022);
	int fd;

	(void)state;
	assert_non_null(mkdtemp(top));
	/* three levels, none there: each made 0700 */
	snprintf(p, sizeof(p), "%s/a/b/c", top);
	assert_int_equal(io_mkdir_p(p, 0700), 0);
	assert_int_equal(mode_of(p), 0700);
	snprintf(q, sizeof(q), "%s/a", top);
	assert_int_equal(mode_of(q), 0700);
	/* there already: fine, and left as it is */
	assert_int_equal(chmod(q, 0755), 0);
	assert_int_equal(io_mkdir_p(p, 0700), 0);
	assert_int_equal(mode_of(q), 0755);
	/* a trailing slash and doubled slashes are the same path */
	snprintf(q, sizeof(q), "%s//a/b//d/", top);
	assert_int_equal(io_mkdir_p(q, 0700), 0);
	snprintf(q, sizeof(q), "%s/a/b/d", top);
	assert_int_equal(mode_of(q), 0700);
	/* a file in the way, as the last component or a parent */
	snprintf(q, sizeof(q), "%s/f", top);
	fd = open(q, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(io_mkdir_p(q, 0700), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/f/x", top);
	assert_int_equal(io_mkdir_p(p, 0700), -ENOTDIR);
	assert_int_equal(io_mkdir_p("", 0700), -ENOENT);
	/* a parent that cannot be written (as root, mode bits do not stop it) */
	snprintf(p, sizeof(p), "%s/ro", top);
	assert_int_equal(mkdir(p, 0500), 0);
	snprintf(q, sizeof(q), "%s/ro/x/y", top);
	if (geteuid() != 0)
		assert_int_equal(io_mkdir_p(q, 0700), -EACCES);
	umask(old);
	assert_int_equal(system((snprintf(p, sizeof(p), "rm -rf '%s'", top), p)), 0);
}

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
		cmocka_unit_test(test_mkdir_p),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("util_io", tests, NULL, NULL);
}
