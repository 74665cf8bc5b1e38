/* SPDX-License-Identifier: MIT */
/*
 * The daemon's state files (the management tree, tree_file.c; the
 * asynchronous Exec results, results.c): one text format of records read
 * strictly and written one way only.
 *
 *	<magic line>\n
 *	<records: words, canonical decimal numbers (no sign, no leading
 *	 zero), fields written <n>:<bytes> (n raw bytes, binary-safe)>
 *	sha256 <64 lower-case hex digits>\n	(of everything before)
 *
 * Files are written crash-safely with dm_tree_write (tree.h); a file that
 * fails its checks is kept aside, never silently lost.
 */
#ifndef DMSCGW_DM_FILE_H
#define DMSCGW_DM_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/cursor.h"

/* A reader: a bounded cursor and the first reason it failed. */
struct dm_file_rd {
	const uint8_t *base;
	struct cursor c;
	const char *why;
};

void dm_file_rd_init(struct dm_file_rd *r, const uint8_t *p, size_t len);
/* Record why (the first reason stays) and fail the cursor: false. */
bool dm_file_fail(struct dm_file_rd *r, const char *why);
/* The literal text s. */
bool dm_file_lit(struct dm_file_rd *r, const char *s);
/* A canonical decimal number <= max, then the byte term. */
bool dm_file_num(struct dm_file_rd *r, uint64_t max, uint64_t *v, char term);
/* "<n>:<bytes>" with n <= max, then the byte term; *p points into it. */
bool dm_file_field(struct dm_file_rd *r, size_t max, const uint8_t **p,
		   size_t *len, char term);
/* A text field (no NUL) copied into buf, whose size must exceed max. */
bool dm_file_text(struct dm_file_rd *r, size_t max, char *buf, char term);
/*
 * The magic line and the checksum line: true with r's cursor on the
 * records between them.  family is the magic without its version
 * ("dmscgw-tree "), to tell an unsupported version from another file;
 * what names the file's kind in that message.
 */
bool dm_file_begin(struct dm_file_rd *r, const char *magic,
		   const char *family, const char *what);

/* " <n>:<bytes>" */
void dm_file_put_field(struct buf *b, const void *p, size_t len);
/* The checksum line after what b holds; b fails when it cannot be made. */
void dm_file_seal(struct buf *b);

/*
 * The whole regular file at path (at most max bytes), malloc'd into *out;
 * never waits on a FIFO put in its place.  0, or -ENOENT, -EINVAL (not a
 * regular file), -EFBIG, another negative errno.
 */
int dm_file_read(const char *path, size_t max, uint8_t **out, size_t *len);
/*
 * Move a corrupt file to "<path>.corrupt-<time>" (named in aside) without
 * ever replacing an earlier one.  0 or a negative errno.
 */
int dm_file_move_aside(const char *path, char *aside, size_t cap);

#endif
