/* SPDX-License-Identifier: MIT */
/*
 * The state files' format (dm/file.h): the strict reader, the writer's
 * field and checksum, reading a file safely and keeping a corrupt one
 * aside.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dm/file.h"
#include "util/hex.h"

#define SHA_LINE_LEN	(7 + 64 + 1)	/* "sha256 " hex "\n" */

void dm_file_rd_init(struct dm_file_rd *r, const uint8_t *p, size_t len)
{
	r->base = p;
	r->why = NULL;
	cursor_init(&r->c, p, len);
}

bool dm_file_fail(struct dm_file_rd *r, const char *why)
{
	if (r->why == NULL)
		r->why = why;
	return cursor_fail(&r->c);
}

bool dm_file_lit(struct dm_file_rd *r, const char *s)
{
	if (!cursor_expect(&r->c, s, strlen(s)))
		return dm_file_fail(r, "unexpected text");
	return true;
}

bool dm_file_num(struct dm_file_rd *r, uint64_t max, uint64_t *v, char term)
{
	const uint8_t *p = r->c.pos;
	size_t left = cursor_left(&r->c), i;
	uint64_t x = 0, d;

	for (i = 0; i < left && p[i] >= '0' && p[i] <= '9'; i++) {
		if (i == 1 && p[0] == '0')
			return dm_file_fail(r, "number with a leading zero");
		d = (uint64_t)(p[i] - '0');
		if (d > max || x > (max - d) / 10)
			return dm_file_fail(r, "number out of range");
		x = x * 10 + d;
	}
	if (i == 0 || i == left || p[i] != (uint8_t)term)
		return dm_file_fail(r, "malformed number");
	cursor_skip(&r->c, i + 1);
	*v = x;
	return true;
}

bool dm_file_field(struct dm_file_rd *r, size_t max, const uint8_t **p,
		   size_t *len, char term)
{
	uint64_t n;

	if (!dm_file_num(r, max, &n, ':'))
		return false;
	if (cursor_left(&r->c) < n + 1 || r->c.pos[n] != (uint8_t)term)
		return dm_file_fail(r, "field runs past its end");
	cursor_get_bytes(&r->c, (size_t)n, p);
	cursor_skip(&r->c, 1);
	*len = (size_t)n;
	return true;
}

bool dm_file_text(struct dm_file_rd *r, size_t max, char *buf, char term)
{
	const uint8_t *p;
	size_t len;

	if (!dm_file_field(r, max, &p, &len, term))
		return false;
	if (len > 0 && memchr(p, '\0', len) != NULL)
		return dm_file_fail(r, "NUL in a text field");
	if (len > 0)
		memcpy(buf, p, len);
	buf[len] = '\0';
	return true;
}

static int sha256_hex(const uint8_t *p, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned mdlen = 0;

	if (EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md))
		return -EIO;
	hex_encode_lower(out, md, sizeof(md));
	return 0;
}

bool dm_file_begin(struct dm_file_rd *r, const char *magic,
		   const char *family, const char *what)
{
	const uint8_t *end;
	char want[65], have[65];

	if (cursor_left(&r->c) < strlen(magic) + SHA_LINE_LEN)
		return dm_file_fail(r, "file too short");
	if (memcmp(r->c.pos, magic, strlen(magic)) != 0)
		return dm_file_fail(r, memcmp(r->c.pos, family,
					      strlen(family)) == 0 ?
				    "unsupported format version" : what);
	dm_file_lit(r, magic);
	/* The last line is the checksum of everything before it. */
	end = r->c.end - SHA_LINE_LEN;
	if (memcmp(end, "sha256 ", 7) != 0 || end[SHA_LINE_LEN - 1] != '\n')
		return dm_file_fail(r, "no checksum line");
	memcpy(have, end + 7, 64);
	have[64] = '\0';
	if (sha256_hex(r->base, (size_t)(end - r->base), want) < 0)
		return dm_file_fail(r, "cannot compute SHA-256");
	if (strcmp(want, have) != 0)
		return dm_file_fail(r, "checksum mismatch");
	cursor_init(&r->c, r->c.pos, (size_t)(end - r->c.pos));
	return true;
}

void dm_file_put_field(struct buf *b, const void *p, size_t len)
{
	buf_printf(b, " %zu:", len);
	buf_put(b, p, len);
}

void dm_file_seal(struct buf *b)
{
	char hex[65];

	if (!buf_ok(b) || sha256_hex(b->p, b->len, hex) < 0) {
		buf_fail(b);
		return;
	}
	buf_printf(b, "sha256 %s\n", hex);
}

static int read_fd(int fd, size_t max, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *p;
	size_t got = 0;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	if ((p = malloc((size_t)st.st_size + 1)) == NULL)
		return -ENOMEM;
	for (;;) {
		n = read(fd, p + got, (size_t)st.st_size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;

			free(p);
			return e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > (size_t)st.st_size) {	/* grew while we read */
			free(p);
			return -EFBIG;
		}
	}
	*out = p;
	*len = got;
	return 0;
}

int dm_file_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
	int fd, r;

	/* O_NONBLOCK: a FIFO put in its place must not hold the daemon */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = read_fd(fd, max, out, len);
	close(fd);
	return r;
}

int dm_file_move_aside(const char *path, char *aside, size_t cap)
{
	long long now = (long long)time(NULL);

	for (unsigned i = 0; i < 100; i++) {
		int n = i == 0 ? snprintf(aside, cap, "%s.corrupt-%lld", path, now)
			       : snprintf(aside, cap, "%s.corrupt-%lld-%u", path, now, i);

		if (n < 0 || (size_t)n >= cap)
			return -ENAMETOOLONG;
		if (link(path, aside) == 0) {
			if (unlink(path) < 0)
				return -errno;
			return 0;
		}
		if (errno == EEXIST)
			continue;
		/* File systems without hard links: rename, having checked. */
		if (access(aside, F_OK) == 0)
			continue;
		return rename(path, aside) < 0 ? -errno : 0;
	}
	return -EEXIST;
}
