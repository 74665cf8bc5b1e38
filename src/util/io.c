/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "util/io.h"

int
io_write_all(int fd, const void *p, size_t len, size_t *done)
{
	const uint8_t *q = p;
	size_t got = 0;
	ssize_t n;
	int r = 0;

	while (got < len) {
		n = write(fd, q + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		got += (size_t)n;
	}
	if (done != NULL)
		*done = got;
	return r;
}
