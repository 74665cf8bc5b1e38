/* SPDX-License-Identifier: MIT */
/*
 * The management tree on disk: the file format, loading (a corrupt file is
 * kept aside, never lost) and crash-safe saving (write a temporary file,
 * fsync, rename, fsync the directory).
 *
 * File format (all numbers decimal, no sign, no leading zeros; a field
 * written <n>:<bytes> is n raw bytes, so values are binary-safe with no
 * escaping):
 *
 *	dmscgw-tree 1\n
 *	node <n>:<uri> <format> <flags> <verno> <tstamp> <n>:<type> <n>:<acl>
 *	     <n>:<title> <n>:<value>\n			(one line per node,
 *							 parents first)
 *	end <node count>\n
 *	sha256 <64 lower-case hex digits>\n		(of everything before)
 *
 * Every field has one spelling, so a tree has exactly one serialisation;
 * the tests compare trees by comparing serialisations.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dm/file.h"
#include "dm/tree.h"
#include "dm/tree_int.h"
#include "util/buf.h"
#include "util/errbuf.h"
#include "util/io.h"

#define FILE_MAX	((size_t)64 << 20)
#define FILE_MAGIC	"dmscgw-tree 1\n"

/* ---- serialisation ---- */

static void
ser_node(struct buf *b, const struct dm_node *n, char *uri, size_t ulen)
{
	const struct dm_node *c;
	size_t nl;

	buf_printf(b, "node %zu:", ulen);
	buf_put(b, uri, ulen);
	buf_printf(b, " %s %u %u %" PRId64, dm_tree_format_name(n->format),
		   n->flags & NODE_FLAGS, n->verno, n->tstamp);
	dm_file_put_field(b, n->type, n->type != NULL ? strlen(n->type) : 0);
	dm_file_put_field(b, n->acl, n->acl != NULL ? strlen(n->acl) : 0);
	dm_file_put_field(b, n->title, n->title != NULL ? strlen(n->title) : 0);
	dm_file_put_field(b, n->value, n->len);
	buf_put(b, "\n", 1);
	for (c = n->first; c != NULL; c = c->next) {
		nl = strlen(c->name);
		if (ulen + 1 + nl > DM_TREE_MAX_URI) {	/* kept by add/rename */
			buf_fail(b);
			return;
		}
		uri[ulen] = '/';
		memcpy(uri + ulen + 1, c->name, nl);
		ser_node(b, c, uri, ulen + 1 + nl);
	}
}

int
dm_tree_serialize(const struct dm_tree *t, uint8_t **out, size_t *len)
{
	char uri[DM_TREE_MAX_URI + 1] = ".";
	struct buf b;

	buf_init(&b, FILE_MAX);
	buf_put(&b, FILE_MAGIC, strlen(FILE_MAGIC));
	ser_node(&b, t->root, uri, 1);
	buf_printf(&b, "end %zu\n", t->nodes);
	dm_file_seal(&b);
	if (!buf_ok(&b)) {
		buf_free(&b);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* ---- loading ---- */

static bool
load_node(struct dm_tree *t, struct dm_file_rd *r)
{
	char uri[DM_TREE_MAX_URI + 1], fmt[8], type[DM_TREE_MAX_TYPE + 1];
	char acl[DM_TREE_MAX_ACL + 1], title[DM_TREE_MAX_TITLE + 1];
	uint64_t flags, verno, tstamp;
	enum dm_tree_format format;
	const uint8_t *value, *p;
	struct dm_node *n;
	struct path pa;
	size_t i, len, left;

	if (!dm_file_lit(r, "node ") || !dm_file_text(r, DM_TREE_MAX_URI, uri, ' '))
		return false;
	p = r->c.pos;
	left = cursor_left(&r->c);
	for (i = 0; i < sizeof(fmt) - 1 && i < left && p[i] != ' '; i++)
		fmt[i] = (char)p[i];
	fmt[i] = '\0';
	if (i == left || p[i] != ' ' || dm_tree_format_parse(fmt, &format) < 0)
		return dm_file_fail(r, "unknown format");
	cursor_skip(&r->c, i + 1);
	if (!dm_file_num(r, NODE_FLAGS, &flags, ' ') ||
	    !dm_file_num(r, VERNO_MAX, &verno, ' ') ||
	    !dm_file_num(r, (uint64_t)TSTAMP_MAX, &tstamp, ' ') ||
	    !dm_file_text(r, DM_TREE_MAX_TYPE, type, ' ') ||
	    !dm_file_text(r, DM_TREE_MAX_ACL, acl, ' ') ||
	    !dm_file_text(r, DM_TREE_MAX_TITLE, title, ' ') ||
	    !dm_file_field(r, t->max_value, &value, &len, '\n'))
		return false;
	if (tree_type_check(type) != DM_TREE_OK || tree_text_check(title, DM_TREE_MAX_TITLE) != DM_TREE_OK)
		return dm_file_fail(r, "bad type or title");
	if (!tree_acl_valid(acl))
		return dm_file_fail(r, "bad ACL");
	if (tree_value_check(format, value, len) != DM_TREE_OK)
		return dm_file_fail(r, "value does not match its format");
	if (tree_path_parse(uri, &pa) != DM_TREE_OK)
		return dm_file_fail(r, "bad URI");
	if (t->root == NULL) {
		if (pa.n != 0 || format != DM_TREE_FMT_NODE || acl[0] == '\0')
			return dm_file_fail(r, "the first node is not the root");
		if ((n = tree_node_new(".", 1)) == NULL)
			return dm_file_fail(r, "out of memory");
		t->root = n;
		t->nodes = 1;
	} else {
		struct dm_node *parent;

		if (pa.n == 0)
			return dm_file_fail(r, "root twice");
		parent = tree_path_find(t, &pa, pa.n - 1);
		if (parent == NULL || parent->format != DM_TREE_FMT_NODE)
			return dm_file_fail(r, "node without an interior parent");
		if (tree_child_find(parent, pa.s[pa.n - 1].p, pa.s[pa.n - 1].len) != NULL)
			return dm_file_fail(r, "node twice");
		if (t->nodes >= t->max_nodes)
			return dm_file_fail(r, "too many nodes");
		if ((n = tree_node_new(pa.s[pa.n - 1].p, pa.s[pa.n - 1].len)) == NULL)
			return dm_file_fail(r, "out of memory");
		tree_node_append(parent, n);
		t->nodes++;
	}
	n->format = format;
	n->flags = (unsigned)flags;
	n->verno = (unsigned)verno;
	n->tstamp = (int64_t)tstamp;
	if (tree_set_str(&n->type, type) < 0 || tree_set_str(&n->acl, acl) < 0 ||
	    tree_set_str(&n->title, title) < 0 || tree_set_value(n, value, len) < 0)
		return dm_file_fail(r, "out of memory");
	return true;
}

/* Parse a whole file into t (empty); false with r->why set. */
static bool
load_parse(struct dm_tree *t, struct dm_file_rd *r)
{
	uint64_t count;
	uint8_t first;

	if (!dm_file_begin(r, FILE_MAGIC, "dmscgw-tree ",
			   "not a dmscgw tree file"))
		return false;
	while (cursor_peek_u8(&r->c, &first) && first == 'n')
		if (!load_node(t, r))
			return false;
	if (t->root == NULL)
		return dm_file_fail(r, "no root node");
	if (!dm_file_lit(r, "end ") || !dm_file_num(r, SIZE_MAX, &count, '\n'))
		return false;
	if (count != t->nodes)
		return dm_file_fail(r, "node count mismatch");
	if (!cursor_end(&r->c))
		return dm_file_fail(r, "data after the end line");
	return true;
}

int
dm_tree_load(const struct dm_tree_config *cfg, const char *path,
	     struct dm_tree **out, char *err, size_t errlen)
{
	struct dm_tree *t;
	uint8_t *data = NULL;
	size_t len = 0;
	struct dm_file_rd in;
	char aside[4096];
	int r;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	r = dm_file_read(path, FILE_MAX, &data, &len);
	if (r == -ENOENT) {
		if ((*out = dm_tree_new(cfg)) == NULL)
			return -ENOMEM;
		errbuf_set(err, errlen, "%s: no such file, starting with a new tree",
			path);
		return DM_TREE_FRESH;
	}
	if (r == -EINVAL) {
		errbuf_set(err, errlen, "%s: not a regular file", path);
		return r;
	}
	if (r < 0 && r != -EFBIG) {
		errbuf_set(err, errlen, "%s: cannot read: %s", path, strerror(-r));
		return r;
	}
	if ((t = tree_alloc(cfg)) == NULL) {
		free(data);
		return -ENOMEM;
	}
	dm_file_rd_init(&in, data, len);
	if (r == -EFBIG)
		dm_file_fail(&in, "file too large");
	else if (load_parse(t, &in) && tree_std_objects(t, cfg) != DM_TREE_OK)
		dm_file_fail(&in, "standard objects do not fit the stored tree");
	free(data);
	if (in.why == NULL) {
		*out = t;
		return DM_TREE_LOADED;
	}
	dm_tree_free(t);
	if ((r = dm_file_move_aside(path, aside, sizeof(aside))) < 0) {
		errbuf_set(err, errlen, "%s: corrupt (%s) and cannot be moved aside: %s",
			path, in.why, strerror(-r));
		return r;
	}
	if ((*out = dm_tree_new(cfg)) == NULL)
		return -ENOMEM;
	errbuf_set(err, errlen, "%s: corrupt (%s at byte %zu); kept as %s", path,
		in.why, (size_t)(in.c.pos - in.base), aside);
	return DM_TREE_CORRUPT;
}

/* ---- saving ---- */

__attribute__((weak)) void
dm_tree_save_hook(enum dm_tree_save_step step)
{
	(void)step;
}

static int
fsync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, r = 0;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int
dm_tree_write(const char *path, const uint8_t *data, size_t len)
{
	size_t half;
	char *tmp;
	int fd, r;

	if ((tmp = tree_str_fmt("%s.tmp", path)) == NULL)
		return -ENOMEM;
	/* A stale temporary file from a crash is ours to replace. */
	if (unlink(tmp) < 0 && errno != ENOENT) {
		r = -errno;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	half = len / 2;
	if ((r = io_write_all(fd, data, half, NULL)) == 0) {
		dm_tree_save_hook(DM_TREE_SAVE_PARTIAL);
		r = io_write_all(fd, data + half, len - half, NULL);
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0) {
		dm_tree_save_hook(DM_TREE_SAVE_WRITTEN);
		if (rename(tmp, path) < 0)
			r = -errno;
	}
	if (r < 0) {
		unlink(tmp);
		goto out;
	}
	dm_tree_save_hook(DM_TREE_SAVE_RENAMED);
	r = fsync_dir(path);
out:
	free(tmp);
	return r;
}

int
dm_tree_save(const struct dm_tree *t, const char *path)
{
	uint8_t *data;
	size_t len;
	int r;

	if (t->snap != NULL)
		return -EBUSY;
	if ((r = dm_tree_serialize(t, &data, &len)) < 0)
		return r;
	r = dm_tree_write(path, data, len);
	free(data);
	return r;
}
