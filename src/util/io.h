/* SPDX-License-Identifier: MIT */
#ifndef DMSCGW_UTIL_IO_H
#define DMSCGW_UTIL_IO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Write all len bytes to a blocking fd, retrying short writes and EINTR.
 * 0, or -errno (-EIO when write() returns 0).  *done (NULL: not wanted) is
 * how many bytes were written, so that a caller can take back a torn record.
 */
int io_write_all(int fd, const void *p, size_t len, size_t *done);

/*
 * mkdir -p: path and every missing parent, each made with mode (umask
 * applied); directories already there are left as they are.  0, or -errno
 * of the step that failed (-ENOTDIR when a component is not a directory,
 * -ENAMETOOLONG past PATH_MAX).
 */
int io_mkdir_p(const char *path, mode_t mode);

#endif
