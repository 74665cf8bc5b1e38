/* SPDX-License-Identifier: MIT */
/*
 * The management tree: standard objects, commands and their status codes,
 * URI validation, ACL inheritance (DM_TND 7.7.1), Atomic rollback,
 * persistence (including a process killed mid-save) and DMAcc bootstrap.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "dm/inbox.h"
#include "dm/tree.h"

static const struct dm_tree_config cfg = {
	.devid = "IMEI:004999010640000",
	.manufacturer = "dmscgw project",
	.model = "gateway-1",
	.devtyp = "gateway",
	.oem = "ACME",
	.fwv = "fw-1.0",
	.swv = "0.1.0",
	.hwv = "rev-A",
};

/* ---- the save hook: kill this process at a chosen step ---- */

static int crash_step = -1;

void
dm_tree_save_hook(enum dm_tree_save_step step)
{
	if ((int)step == crash_step)
		raise(SIGKILL);
}

/* ---- helpers ---- */

static char value_buf[4096];

/* Get as a C string into value_buf; returns the status. */
static int
get_str(struct dm_tree *t, const char *server, const char *uri)
{
	struct dm_tree_value v;
	int st = dm_tree_get(t, server, uri, &v);

	value_buf[0] = '\0';
	if (st == DM_TREE_OK) {
		assert_true(v.len < sizeof(value_buf));
		memcpy(value_buf, v.data, v.len);
		value_buf[v.len] = '\0';
	}
	return st;
}

static void
assert_value(struct dm_tree *t, const char *uri, const char *want)
{
	assert_int_equal(get_str(t, NULL, uri), DM_TREE_OK);
	assert_string_equal(value_buf, want);
}

static int
add_chr(struct dm_tree *t, const char *server, const char *uri, const char *v)
{
	return dm_tree_add(t, server, uri, DM_TREE_FMT_CHR, "text/plain",
			   (const uint8_t *)v, strlen(v));
}

static int
add_dir(struct dm_tree *t, const char *server, const char *uri)
{
	return dm_tree_add(t, server, uri, DM_TREE_FMT_NODE, NULL, NULL, 0);
}

static void
assert_prop(struct dm_tree *t, const char *uri, const char *prop,
	    const char *want)
{
	char *v = NULL;

	assert_int_equal(dm_tree_prop_get(t, NULL, uri, prop, &v), DM_TREE_OK);
	assert_string_equal(v, want);
	free(v);
}

static void
set_acl(struct dm_tree *t, const char *uri, const char *acl)
{
	assert_int_equal(dm_tree_prop_replace(t, NULL, uri, "ACL", acl),
			 DM_TREE_OK);
}

struct ser {
	uint8_t *p;
	size_t len;
};

static struct ser
ser(const struct dm_tree *t)
{
	struct ser s;

	assert_int_equal(dm_tree_serialize(t, &s.p, &s.len), 0);
	return s;
}

static void
assert_same_tree(const struct dm_tree *a, const struct dm_tree *b)
{
	struct ser x = ser(a), y = ser(b);

	assert_int_equal(x.len, y.len);
	assert_memory_equal(x.p, y.p, x.len);
	free(x.p);
	free(y.p);
}

static struct dm_tree *
new_tree(void)
{
	struct dm_tree *t = dm_tree_new(&cfg);

	assert_non_null(t);
	return t;
}

/* A tree with a vendor subtree, a binary value and an account. */
static struct dm_tree *
rich_tree(void)
{
	static const uint8_t bin[] = { 0, 1, '\n', 'n', 'o', 'd', 'e', ' ',
				       '1', ':', 0xFF, '\r', '\n' };
	struct dm_tree *t = new_tree();
	struct dm_account a = {
		.id = "DMSC", .server_id = "DMSC-SRV", .name = "Card",
		.addr = DM_SC_APPADDR_BIP_IPV4, .addr_type = "URI",
		.port = DM_SC_PORT_BIP, .aauth_pref = "DIGEST",
		.client = { "DIGEST", "dmclient", "clipwd", "YWJjZGVmZ2g=" },
		.server = { "DIGEST", "DMSC-SRV", "srvpwd", "MTIzNDU2Nzg=" },
	};

	assert_int_equal(add_dir(t, NULL, "./Vendor"), DM_TREE_OK);
	assert_int_equal(add_dir(t, NULL, "./Vendor/Sub"), DM_TREE_OK);
	assert_int_equal(add_chr(t, NULL, "./Vendor/Sub/Leaf", "hello"), DM_TREE_OK);
	assert_int_equal(dm_tree_add(t, NULL, "./Vendor/Blob", DM_TREE_FMT_BIN,
				     "application/octet-stream", bin, sizeof(bin)),
			 DM_TREE_OK);
	assert_int_equal(dm_tree_add(t, NULL, "./Vendor/Flag", DM_TREE_FMT_BOOL,
				     NULL, (const uint8_t *)"true", 4), DM_TREE_OK);
	assert_int_equal(dm_tree_add(t, NULL, "./Vendor/Empty", DM_TREE_FMT_NULL,
				     NULL, NULL, 0), DM_TREE_OK);
	set_acl(t, "./Vendor", "Get=srv1+srv2&Replace=srv1&Add=srv1&Delete=srv1");
	assert_int_equal(dm_tree_prop_replace(t, NULL, "./Vendor/Sub", "Title",
					      "A title"), DM_TREE_OK);
	assert_int_equal(dm_tree_account_add(t, &a), DM_TREE_OK);
	return t;
}

static char tmpdir[64];

static int
setup_dir(void **state)
{
	strcpy(tmpdir, "/tmp/test_dm_tree.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown_dir(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	closedir(d);
	return rmdir(tmpdir);
}

static char *
tmp_path(const char *name)
{
	static char p[4][512];
	static unsigned i;
	char *r = p[i++ % 4];

	snprintf(r, sizeof(p[0]), "%s/%s", tmpdir, name);
	return r;
}

static struct ser
read_whole(const char *path)
{
	struct ser s = { NULL, 0 };
	struct stat st;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	s.len = (size_t)st.st_size;
	s.p = malloc(s.len + 1);
	assert_non_null(s.p);
	assert_int_equal(read(fd, s.p, s.len), (ssize_t)s.len);
	close(fd);
	return s;
}

static void
write_whole(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

/* Names in tmpdir starting with prefix; the last one into found. */
static int
count_prefixed(const char *prefix, char *found, size_t cap)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			n++;
			if (found != NULL)
				snprintf(found, cap, "%s", e->d_name);
		}
	}
	closedir(d);
	return n;
}

/* ---- standard objects ---- */

static void
test_std_objects(void **state)
{
	struct dm_tree *t = new_tree();
	struct dm_tree_value v;

	assert_value(t, ".", "DevInfo/DevDetail/DMAcc/Inbox");
	assert_value(t, "./DevInfo", "DevId/Man/Mod/DmV/Lang/Ext");
	assert_value(t, "./DevInfo/DevId", cfg.devid);
	assert_value(t, "./DevInfo/Man", cfg.manufacturer);
	assert_value(t, "./DevInfo/Mod", cfg.model);
	assert_value(t, "./DevInfo/DmV", "1.2");
	assert_value(t, "./DevInfo/Lang", "en-US");
	assert_value(t, "./DevDetail/DevTyp", "gateway");
	assert_value(t, "./DevDetail/OEM", "ACME");
	assert_value(t, "./DevDetail/FwV", "fw-1.0");
	assert_value(t, "./DevDetail/SwV", "0.1.0");
	assert_value(t, "./DevDetail/HwV", "rev-A");
	assert_value(t, "./DevDetail/LrgObj", "true");
	assert_value(t, "./DevDetail/URI/MaxDepth", "32");
	assert_value(t, "./DevDetail/URI/MaxTotLen", "1024");
	assert_value(t, "./DevDetail/URI/MaxSegLen", "64");
	assert_value(t, "./DMAcc", "");
	assert_value(t, "./Inbox", "");
	assert_int_equal(dm_tree_get(t, NULL, "./DevDetail/LrgObj", &v), DM_TREE_OK);
	assert_int_equal(v.format, DM_TREE_FMT_BOOL);
	assert_int_equal(dm_tree_get(t, NULL, "./DevDetail/URI/MaxDepth", &v), DM_TREE_OK);
	assert_int_equal(v.format, DM_TREE_FMT_INT);
	assert_int_equal(dm_tree_get(t, NULL, "./DMAcc", &v), DM_TREE_OK);
	assert_int_equal(v.format, DM_TREE_FMT_NODE);
	/* any server reads DevInfo, none changes or deletes it */
	assert_int_equal(get_str(t, "anyserver", "./DevInfo/DevId"), DM_TREE_OK);
	assert_int_equal(dm_tree_replace(t, "anyserver", "./DevInfo/DevId",
					 DM_TREE_FMT_CHR, NULL,
					 (const uint8_t *)"x", 1), DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_delete(t, NULL, "./DevInfo"), DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_delete(t, NULL, "./DevInfo/DmV"), DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_delete(t, NULL, "./Inbox"), DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_delete(t, NULL, "."), DM_TREE_NOT_ALLOWED);
	dm_tree_free(t);
}

static void
test_new_bad_root_acl(void **state)
{
	struct dm_tree_config c = cfg;

	c.root_acl = "Get";
	assert_null(dm_tree_new(&c));
	c.root_acl = "";
	assert_null(dm_tree_new(&c));
	c.root_acl = "Add=*&Get=srv1&Replace=srv1";
	struct dm_tree *t = dm_tree_new(&c);
	assert_non_null(t);
	assert_prop(t, ".", "ACL", "Add=*&Get=srv1&Replace=srv1");
	dm_tree_free(t);
	dm_tree_free(NULL);
}

static void
test_format_names(void **state)
{
	enum dm_tree_format f;

	assert_string_equal(dm_tree_format_name(DM_TREE_FMT_B64), "b64");
	assert_string_equal(dm_tree_format_name(DM_TREE_FMT_NODE), "node");
	assert_null(dm_tree_format_name((enum dm_tree_format)99));
	assert_int_equal(dm_tree_format_parse("bool", &f), 0);
	assert_int_equal(f, DM_TREE_FMT_BOOL);
	assert_int_equal(dm_tree_format_parse("Bool", &f), -EINVAL);
}

/* ---- commands ---- */

static void
test_add_get(void **state)
{
	struct dm_tree *t = new_tree();
	struct dm_tree_value v;

	assert_int_equal(add_dir(t, "srv1", "./Vendor"), DM_TREE_OK);
	assert_int_equal(add_chr(t, "srv1", "Vendor/Name", "abc"), DM_TREE_OK);
	assert_int_equal(dm_tree_get(t, "srv1", "./Vendor/Name", &v), DM_TREE_OK);
	assert_int_equal(v.format, DM_TREE_FMT_CHR);
	assert_string_equal(v.type, "text/plain");
	assert_int_equal(v.len, 3);
	assert_memory_equal(v.data, "abc", 3);
	assert_value(t, "./Vendor", "Name");
	/* 418 already exists, also for the root */
	assert_int_equal(add_chr(t, "srv1", "./Vendor/Name", "x"), DM_TREE_EXISTS);
	assert_int_equal(add_dir(t, NULL, "."), DM_TREE_EXISTS);
	/* the parent must exist: no implicit interior nodes */
	assert_int_equal(add_chr(t, "srv1", "./Vendor/No/Leaf", "x"), DM_TREE_NOT_FOUND);
	assert_int_equal(get_str(t, NULL, "./Vendor/No"), DM_TREE_NOT_FOUND);
	/* nothing goes under a leaf */
	assert_int_equal(add_chr(t, "srv1", "./Vendor/Name/Sub", "x"), DM_TREE_NOT_ALLOWED);
	/* a value that does not match its Format, an interior node with data */
	assert_int_equal(dm_tree_add(t, NULL, "./Vendor/B", DM_TREE_FMT_BOOL, NULL,
				     (const uint8_t *)"yes", 3), DM_TREE_BAD_REQUEST);
	assert_int_equal(dm_tree_add(t, NULL, "./Vendor/I", DM_TREE_FMT_INT, NULL,
				     (const uint8_t *)"12a", 3), DM_TREE_BAD_REQUEST);
	assert_int_equal(dm_tree_add(t, NULL, "./Vendor/I", DM_TREE_FMT_INT, NULL,
				     (const uint8_t *)"-42", 3), DM_TREE_OK);
	assert_int_equal(dm_tree_add(t, NULL, "./Vendor/N", DM_TREE_FMT_NODE, NULL,
				     (const uint8_t *)"x", 1), DM_TREE_BAD_REQUEST);
	assert_int_equal(dm_tree_add(t, NULL, "./Vendor/F", (enum dm_tree_format)77,
				     NULL, NULL, 0), DM_TREE_BAD_FORMAT);
	assert_int_equal(dm_tree_add(t, NULL, "./Vendor/T", DM_TREE_FMT_CHR,
				     "text/\x01", NULL, 0), DM_TREE_BAD_REQUEST);
	assert_int_equal(get_str(t, NULL, "./Nothing"), DM_TREE_NOT_FOUND);
	dm_tree_free(t);
}

static void
test_limits(void **state)
{
	struct dm_tree_config c = cfg;
	struct dm_tree *t;
	uint8_t big[65] = { 0 };
	size_t n;

	c.max_value = 64;
	t = dm_tree_new(&c);
	assert_non_null(t);
	assert_int_equal(dm_tree_add(t, NULL, "./A", DM_TREE_FMT_BIN, NULL, big, 64),
			 DM_TREE_OK);
	assert_int_equal(dm_tree_add(t, NULL, "./B", DM_TREE_FMT_BIN, NULL, big, 65),
			 DM_TREE_TOO_LARGE);
	assert_int_equal(dm_tree_replace(t, NULL, "./A", DM_TREE_FMT_BIN, NULL, big, 65),
			 DM_TREE_TOO_LARGE);
	dm_tree_free(t);

	/* the node count bound: 420 device full */
	c = cfg;
	c.max_nodes = 40;
	t = dm_tree_new(&c);
	assert_non_null(t);
	for (n = 0; n < 100; n++) {
		char uri[32];
		int st;

		snprintf(uri, sizeof(uri), "./N%zu", n);
		st = add_dir(t, NULL, uri);
		if (st != DM_TREE_OK) {
			assert_int_equal(st, DM_TREE_DEVICE_FULL);
			break;
		}
	}
	assert_true(n > 0 && n < 100);
	dm_tree_free(t);
}

static void
test_replace(void **state)
{
	struct dm_tree *t = rich_tree();
	struct dm_tree_value v;
	char *verno;

	assert_int_equal(dm_tree_prop_get(t, NULL, "./Vendor/Sub/Leaf", "VerNo", &verno),
			 DM_TREE_OK);
	assert_int_equal(dm_tree_replace(t, "srv1", "./Vendor/Flag", DM_TREE_FMT_BOOL,
					 NULL, (const uint8_t *)"false", 5), DM_TREE_OK);
	assert_value(t, "./Vendor/Flag", "false");
	/* Type is kept when none is given, replaced when one is */
	assert_int_equal(dm_tree_replace(t, "srv1", "./Vendor/Sub/Leaf", DM_TREE_FMT_CHR,
					 NULL, (const uint8_t *)"bye", 3), DM_TREE_OK);
	assert_int_equal(dm_tree_get(t, NULL, "./Vendor/Sub/Leaf", &v), DM_TREE_OK);
	assert_string_equal(v.type, "text/plain");
	assert_int_equal(dm_tree_replace(t, "srv1", "./Vendor/Sub/Leaf", DM_TREE_FMT_XML,
					 "text/xml", (const uint8_t *)"<a/>", 4), DM_TREE_OK);
	assert_int_equal(dm_tree_get(t, NULL, "./Vendor/Sub/Leaf", &v), DM_TREE_OK);
	assert_string_equal(v.type, "text/xml");
	assert_int_equal(v.format, DM_TREE_FMT_XML);
	/* VerNo moved on by two changes */
	char want[16];
	snprintf(want, sizeof(want), "%lu", strtoul(verno, NULL, 10) + 2);
	assert_prop(t, "./Vendor/Sub/Leaf", "VerNo", want);
	free(verno);
	/* errors */
	assert_int_equal(dm_tree_replace(t, "srv1", "./Vendor/Nope", DM_TREE_FMT_CHR,
					 NULL, NULL, 0), DM_TREE_NOT_FOUND);
	assert_int_equal(dm_tree_replace(t, "srv1", "./Vendor/Sub", DM_TREE_FMT_CHR,
					 NULL, NULL, 0), DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_replace(t, "srv1", "./Vendor/Flag", DM_TREE_FMT_NODE,
					 NULL, NULL, 0), DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_replace(t, "srv1", "./Vendor/Flag", DM_TREE_FMT_BOOL,
					 NULL, (const uint8_t *)"TRUE", 4), DM_TREE_BAD_REQUEST);
	assert_int_equal(dm_tree_replace(t, "srv2", "./Vendor/Flag", DM_TREE_FMT_BOOL,
					 NULL, (const uint8_t *)"true", 4), DM_TREE_PERMISSION);
	dm_tree_free(t);
}

static void
test_delete(void **state)
{
	struct dm_tree *t = rich_tree();

	assert_int_equal(dm_tree_delete(t, "srv2", "./Vendor/Sub"), DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_delete(t, "srv1", "./Vendor/Sub"), DM_TREE_OK);
	assert_int_equal(get_str(t, NULL, "./Vendor/Sub"), DM_TREE_NOT_FOUND);
	assert_int_equal(get_str(t, NULL, "./Vendor/Sub/Leaf"), DM_TREE_NOT_FOUND);
	assert_int_equal(dm_tree_delete(t, "srv1", "./Vendor/Sub"), DM_TREE_NOT_FOUND);
	assert_value(t, "./Vendor", "Blob/Flag/Empty");
	/* a subtree holding a permanent node cannot go */
	assert_int_equal(dm_tree_delete(t, NULL, "./DevDetail"), DM_TREE_NOT_ALLOWED);
	/* the whole vendor subtree; then it can be added again */
	assert_int_equal(dm_tree_delete(t, NULL, "./Vendor"), DM_TREE_OK);
	assert_int_equal(add_dir(t, NULL, "./Vendor"), DM_TREE_OK);
	assert_value(t, "./Vendor", "");
	dm_tree_free(t);
}

static void
test_copy(void **state)
{
	struct dm_tree *t = rich_tree();
	struct dm_tree_value v, w;

	assert_int_equal(dm_tree_copy(t, "srv1", "./Vendor/Blob2", "./Vendor/Blob"),
			 DM_TREE_OK);
	assert_int_equal(dm_tree_get(t, NULL, "./Vendor/Blob", &v), DM_TREE_OK);
	assert_int_equal(dm_tree_get(t, NULL, "./Vendor/Blob2", &w), DM_TREE_OK);
	assert_int_equal(v.len, w.len);
	assert_memory_equal(v.data, w.data, v.len);
	assert_int_equal(w.format, DM_TREE_FMT_BIN);
	assert_string_equal(w.type, "application/octet-stream");
	/* onto an existing leaf: Replace */
	assert_int_equal(dm_tree_copy(t, "srv1", "./Vendor/Flag", "./Vendor/Sub/Leaf"),
			 DM_TREE_OK);
	assert_value(t, "./Vendor/Flag", "hello");
	assert_int_equal(dm_tree_get(t, NULL, "./Vendor/Flag", &v), DM_TREE_OK);
	assert_int_equal(v.format, DM_TREE_FMT_CHR);
	/* onto itself */
	assert_int_equal(dm_tree_copy(t, "srv1", "./Vendor/Flag", "./Vendor/Flag"),
			 DM_TREE_OK);
	assert_value(t, "./Vendor/Flag", "hello");
	/* errors */
	assert_int_equal(dm_tree_copy(t, "srv1", "./Vendor/X", "./Vendor/None"),
			 DM_TREE_NOT_FOUND);
	assert_int_equal(dm_tree_copy(t, "srv1", "./Vendor/X", "./Vendor/Sub"),
			 DM_TREE_NOT_SUPPORTED);
	assert_int_equal(dm_tree_copy(t, "srv1", "./Vendor/Sub", "./Vendor/Flag"),
			 DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_copy(t, "srv1", "./Vendor/No/X", "./Vendor/Flag"),
			 DM_TREE_NOT_FOUND);
	assert_int_equal(dm_tree_copy(t, "nobody", "./Vendor/X", "./Vendor/Flag"),
			 DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_copy(t, "srv2", "./Vendor/X", "./Vendor/Flag"),
			 DM_TREE_PERMISSION);	/* srv2 may Get, not Add */
	dm_tree_free(t);
}

struct exec_seen {
	int calls;
	char server[32];
	char data[32];
};

static int
exec_cb(struct dm_tree *t, const char *server, const char *uri,
	const uint8_t *data, size_t len, void *arg)
{
	struct exec_seen *s = arg;

	s->calls++;
	snprintf(s->server, sizeof(s->server), "%s", server);
	snprintf(s->data, sizeof(s->data), "%.*s", (int)len, (const char *)data);
	return 202;
}

static void
test_exec(void **state)
{
	struct dm_tree *t = new_tree();
	struct exec_seen seen = { 0 };

	assert_int_equal(add_dir(t, NULL, "./Fumo"), DM_TREE_OK);
	set_acl(t, "./Fumo", "Get=srv1&Exec=srv1");
	assert_int_equal(dm_tree_exec(t, "srv1", "./Fumo", NULL, 0), DM_TREE_NOT_SUPPORTED);
	assert_int_equal(dm_tree_set_exec(t, "./Fumo", exec_cb, &seen), DM_TREE_OK);
	assert_int_equal(dm_tree_exec(t, "srv1", "./Fumo", (const uint8_t *)"go", 2), 202);
	assert_int_equal(seen.calls, 1);
	assert_string_equal(seen.server, "srv1");
	assert_string_equal(seen.data, "go");
	assert_int_equal(dm_tree_exec(t, "srv2", "./Fumo", NULL, 0), DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_exec(t, "srv1", "./Nope", NULL, 0), DM_TREE_NOT_FOUND);
	assert_int_equal(dm_tree_set_exec(t, "./Nope", exec_cb, &seen), DM_TREE_NOT_FOUND);
	assert_int_equal(dm_tree_set_exec(t, "./Fumo", NULL, NULL), DM_TREE_OK);
	assert_int_equal(dm_tree_exec(t, "srv1", "./Fumo", NULL, 0), DM_TREE_NOT_SUPPORTED);
	assert_int_equal(seen.calls, 1);
	dm_tree_free(t);
}

/* An Exec agent's node (dm_tree_make_executable). */
static void
test_make_executable(void **state)
{
	struct dm_tree *t = new_tree();
	bool changed;

	/* missing: made, a leaf of Format null under interior ancestors */
	assert_int_equal(dm_tree_exec_check(t, "srv1", "./V/R"), DM_TREE_NOT_FOUND);
	assert_int_equal(dm_tree_make_executable(t, "./V/R", false, &changed),
			 DM_TREE_OK);
	assert_true(changed);
	assert_prop(t, "./V", "Format", "node");
	assert_prop(t, "./V/R", "Format", "null");
	/* the inherited ACL, and Exec for every server */
	assert_prop(t, "./V/R", "ACL", DM_TREE_ROOT_ACL "&Exec=*");
	assert_prop(t, "./V", "ACL", "");
	assert_int_equal(dm_tree_exec_check(t, "srv1", "./V/R"), DM_TREE_OK);
	assert_int_equal(dm_tree_exec_check(t, "srv1", "./V"), DM_TREE_PERMISSION);
	/* again: nothing to do */
	assert_int_equal(dm_tree_make_executable(t, "V/R", false, &changed),
			 DM_TREE_OK);
	assert_false(changed);
	/* an existing node keeps what it granted */
	assert_int_equal(add_dir(t, NULL, "./S"), DM_TREE_OK);
	set_acl(t, "./S", "Get=srv1");
	assert_int_equal(dm_tree_make_executable(t, "./S", false, &changed),
			 DM_TREE_OK);
	assert_true(changed);
	assert_prop(t, "./S", "ACL", "Get=srv1&Exec=*");
	/* a subtree: interior; what a server adds below inherits Exec */
	assert_int_equal(dm_tree_make_executable(t, "./T", true, &changed),
			 DM_TREE_OK);
	assert_prop(t, "./T", "Format", "node");
	assert_int_equal(add_chr(t, "srv1", "./T/Go", "v"), DM_TREE_OK);
	/* DM_TND 7.7.1.4, with the Exec it inherited */
	assert_prop(t, "./T/Go", "ACL",
		    "Add=srv1&Delete=srv1&Exec=srv1&Get=srv1&Replace=srv1");
	assert_int_equal(dm_tree_exec_check(t, "srv1", "./T/Go"), DM_TREE_OK);
	/* the root, under a leaf, a bad URI */
	assert_int_equal(dm_tree_make_executable(t, ".", false, &changed),
			 DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_make_executable(t, "./V/R/X", false, &changed),
			 DM_TREE_NOT_ALLOWED);
	assert_false(changed);
	assert_int_equal(dm_tree_make_executable(t, "./V//X", false, &changed),
			 DM_TREE_BAD_REQUEST);
	dm_tree_free(t);
}

static void
test_children(void **state)
{
	struct dm_tree *t = rich_tree();
	char *list = NULL;

	assert_int_equal(dm_tree_children(t, "srv2", "./Vendor", &list), DM_TREE_OK);
	assert_string_equal(list, "Sub/Blob/Flag/Empty");
	free(list);
	assert_int_equal(dm_tree_children(t, NULL, "./Vendor/Flag", &list),
			 DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_children(t, "srv3", "./Vendor", &list),
			 DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_children(t, NULL, "./None", &list), DM_TREE_NOT_FOUND);
	dm_tree_free(t);
}

/* ---- URIs ---- */

struct uri_case {
	const char *name;
	const char *uri;
	int status;
};

static char seg65[80], uri1025[1100], deep33[200];

static const struct uri_case bad_uris[] = {
	{ "empty", "", DM_TREE_BAD_REQUEST },
	{ "slash", "/", DM_TREE_BAD_REQUEST },
	{ "absolute", "/DevInfo", DM_TREE_BAD_REQUEST },
	{ "dot slash", "./", DM_TREE_BAD_REQUEST },
	{ "dotdot", "..", DM_TREE_BAD_REQUEST },
	{ "dotdot segment", "./DevInfo/../DMAcc", DM_TREE_BAD_REQUEST },
	{ "leading dotdot", "./../x", DM_TREE_BAD_REQUEST },
	{ "dot segment", "./DevInfo/./DevId", DM_TREE_BAD_REQUEST },
	{ "dot dot slash", "././DevInfo", DM_TREE_BAD_REQUEST },
	{ "empty segment", "./DevInfo//DevId", DM_TREE_BAD_REQUEST },
	{ "trailing slash", "./DevInfo/", DM_TREE_BAD_REQUEST },
	{ "control char", "./Dev\x01Info", DM_TREE_BAD_REQUEST },
	{ "newline", "./DevInfo\n", DM_TREE_BAD_REQUEST },
	{ "DEL", "./Dev\x7fInfo", DM_TREE_BAD_REQUEST },
	{ "UTF-8", "./D\xc3\xa9vInfo", DM_TREE_BAD_REQUEST },
	{ "query", "./DevInfo?prop=ACL", DM_TREE_BAD_REQUEST },
	{ "segment of 65", seg65, DM_TREE_URI_TOO_LONG },
	{ "URI of 1025", uri1025, DM_TREE_URI_TOO_LONG },
	{ "depth 33", deep33, DM_TREE_URI_TOO_LONG },
};
#define NBAD_URIS (sizeof(bad_uris) / sizeof(bad_uris[0]))

static void
make_long_uris(void)
{
	size_t i;

	strcpy(seg65, "./");
	memset(seg65 + 2, 'a', 65);
	seg65[67] = '\0';
	strcpy(uri1025, "./");
	for (i = 2; i < 1025; i++)
		uri1025[i] = i % 10 == 0 ? '/' : 'b';
	uri1025[1025] = '\0';
	strcpy(deep33, ".");
	for (i = 0; i < 33; i++)
		strcat(deep33, "/c");
}

/* One test per bad URI: every command refuses it the same way. */
static void
test_bad_uri(void **state)
{
	const struct uri_case *c = *state;
	struct dm_tree *t = new_tree();
	struct dm_tree_value v;
	char *s;

	assert_int_equal(dm_tree_get(t, NULL, c->uri, &v), c->status);
	assert_int_equal(add_chr(t, NULL, c->uri, "x"), c->status);
	assert_int_equal(dm_tree_replace(t, NULL, c->uri, DM_TREE_FMT_CHR, NULL,
					 NULL, 0), c->status);
	assert_int_equal(dm_tree_delete(t, NULL, c->uri), c->status);
	assert_int_equal(dm_tree_copy(t, NULL, c->uri, "./DevInfo/DevId"), c->status);
	assert_int_equal(dm_tree_exec(t, NULL, c->uri, NULL, 0), c->status);
	assert_int_equal(dm_tree_prop_get(t, NULL, c->uri, "ACL", &s), c->status);
	dm_tree_free(t);
}

static void
test_good_uris(void **state)
{
	struct dm_tree *t = new_tree();
	char seg64[80], uri[1100];
	size_t len;

	/* with or without "./" */
	assert_value(t, "DevInfo/DmV", "1.2");
	assert_value(t, "./DevInfo/DmV", "1.2");
	/* a 64-character segment */
	strcpy(seg64, "./");
	memset(seg64 + 2, 'a', 64);
	seg64[66] = '\0';
	assert_int_equal(add_dir(t, NULL, seg64), DM_TREE_OK);
	/* names may hold spaces and other printable characters */
	assert_int_equal(add_chr(t, NULL, "./Some name-1_~", "x"), DM_TREE_OK);
	/* 32 levels deep and exactly 1024 characters long */
	strcpy(uri, seg64);
	len = strlen(uri);
	for (int d = 2; d <= 32; d++) {
		size_t seg = d < 16 ? 64 : 1;
		int st;

		if (d == 32)	/* pad the last segment to hit 1024 exactly */
			seg = 1024 - len - 1;
		uri[len++] = '/';
		memset(uri + len, 'd', seg);
		len += seg;
		uri[len] = '\0';
		st = d == 32 ? add_chr(t, NULL, uri, "deep") : add_dir(t, NULL, uri);
		assert_int_equal(st, DM_TREE_OK);
	}
	assert_int_equal(strlen(uri), 1024);
	assert_value(t, uri, "deep");
	/* a 33rd level is one too many, whatever its length */
	strcat(uri, "/e");
	assert_int_equal(add_chr(t, NULL, uri, "x"), DM_TREE_URI_TOO_LONG);
	dm_tree_free(t);
}

/* ---- ACL (DM_TND 7.7.1) ---- */

static void
test_acl_inherit(void **state)
{
	struct dm_tree *t = rich_tree();

	/* ./Vendor/Sub/Leaf has no ACL: ./Vendor's applies, two levels up */
	assert_prop(t, "./Vendor/Sub/Leaf", "ACL", "");
	assert_int_equal(get_str(t, "srv1", "./Vendor/Sub/Leaf"), DM_TREE_OK);
	assert_int_equal(get_str(t, "srv2", "./Vendor/Sub/Leaf"), DM_TREE_OK);
	assert_int_equal(dm_tree_replace(t, "srv1", "./Vendor/Sub/Leaf", DM_TREE_FMT_CHR,
					 NULL, (const uint8_t *)"a", 1), DM_TREE_OK);
	assert_int_equal(dm_tree_replace(t, "srv2", "./Vendor/Sub/Leaf", DM_TREE_FMT_CHR,
					 NULL, (const uint8_t *)"a", 1), DM_TREE_PERMISSION);
	dm_tree_free(t);
}

static void
test_acl_override(void **state)
{
	struct dm_tree *t = rich_tree();

	/* an explicit ACL replaces the inherited one as a whole */
	set_acl(t, "./Vendor/Sub", "Get=srv3");
	assert_int_equal(get_str(t, "srv3", "./Vendor/Sub/Leaf"), DM_TREE_OK);
	assert_int_equal(get_str(t, "srv1", "./Vendor/Sub/Leaf"), DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_replace(t, "srv1", "./Vendor/Sub/Leaf", DM_TREE_FMT_CHR,
					 NULL, (const uint8_t *)"a", 1), DM_TREE_PERMISSION);
	/* siblings keep the parent's */
	assert_int_equal(get_str(t, "srv1", "./Vendor/Flag"), DM_TREE_OK);
	assert_int_equal(get_str(t, "srv3", "./Vendor/Flag"), DM_TREE_PERMISSION);
	/* an emptied ACL inherits again */
	set_acl(t, "./Vendor/Sub", "");
	assert_int_equal(get_str(t, "srv1", "./Vendor/Sub/Leaf"), DM_TREE_OK);
	/* "*" with other identifiers */
	set_acl(t, "./Vendor/Sub", "Get=srv9+*");
	assert_int_equal(get_str(t, "whoever", "./Vendor/Sub/Leaf"), DM_TREE_OK);
	dm_tree_free(t);
}

static void
test_acl_root_default(void **state)
{
	struct dm_tree *t = new_tree();

	assert_prop(t, ".", "ACL", DM_TREE_ROOT_ACL);
	assert_int_equal(add_dir(t, NULL, "./Top"), DM_TREE_OK);
	assert_int_equal(add_chr(t, NULL, "./Top/L", "v"), DM_TREE_OK);
	/* nothing on the way: the root's Get=* and no Replace or Delete */
	assert_int_equal(get_str(t, "anyone", "./Top/L"), DM_TREE_OK);
	assert_int_equal(dm_tree_replace(t, "anyone", "./Top/L", DM_TREE_FMT_CHR,
					 NULL, (const uint8_t *)"w", 1), DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_delete(t, "anyone", "./Top/L"), DM_TREE_PERMISSION);
	/* the device itself is not bound by ACLs */
	assert_int_equal(dm_tree_delete(t, NULL, "./Top/L"), DM_TREE_OK);
	dm_tree_free(t);
}

static void
test_acl_unknown_server(void **state)
{
	struct dm_tree *t = rich_tree();

	assert_int_equal(get_str(t, "srv4", "./Vendor/Flag"), DM_TREE_PERMISSION);
	assert_int_equal(add_chr(t, "srv4", "./Vendor/X", "x"), DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_delete(t, "srv4", "./Vendor/Flag"), DM_TREE_PERMISSION);
	/* identifiers that cannot appear in an ACL never match one */
	assert_int_equal(get_str(t, "", "./Vendor/Flag"), DM_TREE_PERMISSION);
	assert_int_equal(get_str(t, "*", "./Vendor/Flag"), DM_TREE_PERMISSION);
	assert_int_equal(get_str(t, "srv1+srv2", "./Vendor/Flag"), DM_TREE_PERMISSION);
	assert_int_equal(get_str(t, "srv1 ", "./Vendor/Flag"), DM_TREE_PERMISSION);
	/* a prefix of a listed identifier is another identifier */
	assert_int_equal(get_str(t, "srv", "./Vendor/Flag"), DM_TREE_PERMISSION);
	assert_int_equal(get_str(t, "srv12", "./Vendor/Flag"), DM_TREE_PERMISSION);
	/* the account's secrets are for its server only */
	assert_int_equal(get_str(t, "srv1", "./DMAcc/DMSC/AppAuth/CLCRED/AAuthSecret"),
			 DM_TREE_PERMISSION);
	dm_tree_free(t);
}

static void
test_acl_change_rules(void **state)
{
	struct dm_tree *t = rich_tree();

	/* a leaf's own Replace right does not cover its ACL ... */
	set_acl(t, "./Vendor/Flag", "Get=srv2&Replace=srv2");
	assert_int_equal(dm_tree_prop_replace(t, "srv2", "./Vendor/Flag", "ACL",
					      "Get=*"), DM_TREE_PERMISSION);
	/* ... Replace on the parent does, even without rights on the leaf */
	assert_int_equal(dm_tree_prop_replace(t, "srv1", "./Vendor/Flag", "ACL",
					      "Get=srv1"), DM_TREE_OK);
	assert_prop(t, "./Vendor/Flag", "ACL", "Get=srv1");
	/* an interior node's own Replace right covers its ACL */
	set_acl(t, "./Vendor/Sub", "Get=srv2&Replace=srv2");
	assert_int_equal(dm_tree_prop_replace(t, "srv2", "./Vendor/Sub", "ACL",
					      "Get=srv2+srv3&Replace=srv2"), DM_TREE_OK);
	/* no right on either */
	assert_int_equal(dm_tree_prop_replace(t, "srv3", "./Vendor/Sub", "ACL",
					      "Get=*"), DM_TREE_PERMISSION);
	/* malformed ACLs */
	static const char *const bad[] = {
		"Get", "Get=", "Fetch=srv1", "Get=srv1&", "Get=srv1++srv2",
		"Get=srv 1", "Get=a=b", "&Get=*", "Get=**", "get=srv1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dm_tree_prop_replace(t, NULL, "./Vendor", "ACL",
						      bad[i]), DM_TREE_BAD_REQUEST);
	/* the root keeps Add=* (DM_TND 7.7.1.2) */
	assert_int_equal(dm_tree_prop_replace(t, NULL, ".", "ACL", "Get=*"),
			 DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_prop_replace(t, NULL, ".", "ACL", ""),
			 DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_prop_replace(t, NULL, ".", "ACL",
					      "Add=*&Get=*&Replace=srv1"), DM_TREE_OK);
	/* srv1 may now change ACLs of the root's children */
	assert_int_equal(dm_tree_prop_replace(t, "srv1", "./DevInfo", "ACL",
					      "Get=srv1"), DM_TREE_OK);
	dm_tree_free(t);
}

static void
test_acl_added_node(void **state)
{
	struct dm_tree *t = new_tree();

	/*
	 * srv1 cannot set ACLs under the root (no Replace there), so what it
	 * adds is given full rights for it (DM_TND 7.7.1.4).
	 */
	assert_int_equal(add_dir(t, "srv1", "./Mine"), DM_TREE_OK);
	assert_prop(t, "./Mine", "ACL", "Add=srv1&Delete=srv1&Get=srv1&Replace=srv1");
	assert_int_equal(add_chr(t, "srv1", "./Mine/L", "v"), DM_TREE_OK);
	assert_prop(t, "./Mine/L", "ACL", "");	/* srv1 has Replace on ./Mine */
	assert_int_equal(get_str(t, "srv2", "./Mine/L"), DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_delete(t, "srv1", "./Mine"), DM_TREE_OK);
	/* the Inbox places what it takes (dm/inbox.c): nothing lands there */
	assert_int_equal(add_chr(t, "srv2", "./Inbox/Obj", "v"), DM_TREE_NOT_ALLOWED);
	assert_int_equal(add_dir(t, "srv2", "./Inbox/Dir"), DM_TREE_NOT_ALLOWED);
	assert_int_equal(get_str(t, NULL, "./Inbox/Obj"), DM_TREE_NOT_FOUND);
	dm_tree_free(t);
}

/* ---- the Inbox (DM_StdObj 1.2 5.3.4) ---- */

#define W7	"org.openmobilealliance/1.0/w7"

static int
inbox_dir(struct dm_inbox *ib, struct dm_tree *t, const char *server,
	  const char *uri, const char *type)
{
	return dm_inbox_add(ib, t, server, "test", uri, DM_TREE_FMT_NODE, type,
			    NULL, 0);
}

static int
inbox_chr(struct dm_inbox *ib, struct dm_tree *t, const char *server,
	  const char *uri, const char *v)
{
	return dm_inbox_add(ib, t, server, "test", uri, DM_TREE_FMT_CHR, NULL,
			    (const uint8_t *)v, strlen(v));
}

/* A Get of ./Inbox or below by a server is 405; the device still sees it. */
static void
test_inbox_get(void **state)
{
	struct dm_tree *t = new_tree();

	assert_int_equal(get_str(t, "srv1", "./Inbox"), DM_TREE_NOT_ALLOWED);
	assert_int_equal(get_str(t, "srv1", "Inbox"), DM_TREE_NOT_ALLOWED);
	assert_int_equal(get_str(t, "srv1", "./Inbox/X"), DM_TREE_NOT_ALLOWED);
	assert_int_equal(get_str(t, "srv1", "./InboxY"), DM_TREE_NOT_FOUND);
	assert_value(t, "./Inbox", "");
	dm_tree_free(t);
}

/*
 * A DMAcc object (w7) added whole under ./Inbox lands at ./DMAcc/<name>,
 * its Type kept, the rest of the object following it there.
 */
static void
test_inbox_places_dmacc(void **state)
{
	struct dm_tree *t = new_tree();
	struct dm_inbox *ib = dm_inbox_new();

	assert_non_null(ib);
	set_acl(t, "./DMAcc", "Get=*&Add=srv1");
	assert_int_equal(inbox_dir(ib, t, "srv1", "./Inbox/Remote", W7), DM_TREE_OK);
	assert_int_equal(inbox_chr(ib, t, "srv1", "./Inbox/Remote/ServerID", "R"),
			 DM_TREE_OK);
	assert_int_equal(inbox_dir(ib, t, "srv1", "Inbox/Remote/AppAddr", NULL),
			 DM_TREE_OK);
	assert_int_equal(inbox_dir(ib, t, "srv1", "./Inbox/Remote/AppAddr/1", NULL),
			 DM_TREE_OK);
	assert_int_equal(inbox_chr(ib, t, "srv1", "./Inbox/Remote/AppAddr/1/Addr",
				   "https://localhost/dm"), DM_TREE_OK);
	assert_value(t, "./DMAcc/Remote/ServerID", "R");
	assert_value(t, "./DMAcc/Remote/AppAddr/1/Addr", "https://localhost/dm");
	assert_prop(t, "./DMAcc/Remote", "Type", W7);
	assert_value(t, "./DMAcc", "Remote");
	assert_value(t, "./Inbox", "");
	/* the same name again: where it lands, it exists */
	assert_int_equal(inbox_dir(ib, t, "srv1", "./Inbox/Remote", W7),
			 DM_TREE_EXISTS);
	/* the URN names the same object */
	assert_int_equal(inbox_dir(ib, t, "srv1", "./Inbox/Other",
				   "urn:oma:mo:oma-dm-dmacc:1.0"), DM_TREE_OK);
	assert_value(t, "./DMAcc", "Remote/Other");
	/* outside the Inbox, an Add is an Add */
	assert_int_equal(inbox_dir(ib, t, "srv1", "./Plain", NULL), DM_TREE_OK);
	dm_inbox_free(ib);
	dm_tree_free(t);
}

/* What the Inbox cannot place, and where the destination's ACL decides. */
static void
test_inbox_refusals(void **state)
{
	struct dm_tree *t = new_tree();
	struct dm_inbox *ib = dm_inbox_new();

	assert_non_null(ib);
	set_acl(t, "./DMAcc", "Get=*&Add=srv1");
	/* an identifier this device does not place: 406 */
	assert_int_equal(inbox_dir(ib, t, "srv1", "./Inbox/Fw",
				   "org.openmobilealliance/1.0/FirmwareUpdateManagementObject"),
			 DM_TREE_NOT_SUPPORTED);
	/* no identifier at all: 400 */
	assert_int_equal(inbox_dir(ib, t, "srv1", "./Inbox/Bare", NULL),
			 DM_TREE_BAD_REQUEST);
	assert_int_equal(inbox_dir(ib, t, "srv1", "./Inbox/Bare", ""),
			 DM_TREE_BAD_REQUEST);
	/* a leaf is no object's root (a TNDS document, DM 1.3): 406 */
	assert_int_equal(dm_inbox_add(ib, t, "srv1", "test", "./Inbox/Doc",
				      DM_TREE_FMT_XML, W7,
				      (const uint8_t *)"<x/>", 4),
			 DM_TREE_NOT_SUPPORTED);
	/* below an object the session did not place: nothing is there */
	assert_int_equal(inbox_chr(ib, t, "srv1", "./Inbox/Fw/Pkg", "x"),
			 DM_TREE_NOT_FOUND);
	/* a server without Add on ./DMAcc cannot add accounts by the Inbox */
	assert_int_equal(inbox_dir(ib, t, "srv2", "./Inbox/Sneak", W7),
			 DM_TREE_PERMISSION);
	assert_int_equal(inbox_chr(ib, t, "srv2", "./Inbox/Sneak/ServerID", "S"),
			 DM_TREE_NOT_FOUND);
	assert_int_equal(inbox_dir(ib, t, "srv1", "./Inbox/", W7),
			 DM_TREE_BAD_REQUEST);
	assert_value(t, "./DMAcc", "");
	assert_value(t, "./Inbox", "");
	dm_inbox_free(ib);
	dm_tree_free(t);
}

/* ---- properties ---- */

static void
test_properties(void **state)
{
	struct dm_tree *t = rich_tree();
	char *s = NULL;

	assert_prop(t, "./Vendor/Blob", "Format", "bin");
	assert_prop(t, "./Vendor/Blob", "Type", "application/octet-stream");
	assert_prop(t, "./Vendor/Blob", "Size", "13");
	assert_prop(t, "./Vendor/Blob", "Name", "Blob");
	assert_prop(t, "./Vendor/Sub", "Format", "node");
	assert_prop(t, "./Vendor/Sub", "Title", "A title");
	assert_prop(t, ".", "Name", ".");
	assert_int_equal(dm_tree_prop_get(t, NULL, "./Vendor/Sub", "Size", &s),
			 DM_TREE_NOT_SUPPORTED);
	assert_int_equal(dm_tree_prop_get(t, NULL, "./Vendor/Sub", "Colour", &s),
			 DM_TREE_NOT_SUPPORTED);
	assert_int_equal(dm_tree_prop_get(t, "srv3", "./Vendor/Sub", "ACL", &s),
			 DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_prop_get(t, NULL, "./Vendor/Blob", "TStamp", &s),
			 DM_TREE_OK);
	assert_int_equal(strlen(s), 16);	/* 20240101T120000Z */
	assert_int_equal(s[8], 'T');
	assert_int_equal(s[15], 'Z');
	free(s);
	/* Title */
	assert_int_equal(dm_tree_prop_replace(t, "srv1", "./Vendor/Blob", "Title",
					      "Blob title"), DM_TREE_OK);
	assert_prop(t, "./Vendor/Blob", "Title", "Blob title");
	assert_int_equal(dm_tree_prop_replace(t, "srv2", "./Vendor/Blob", "Title",
					      "x"), DM_TREE_PERMISSION);
	/* read-only properties */
	assert_int_equal(dm_tree_prop_replace(t, NULL, "./Vendor/Blob", "Format", "chr"),
			 DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_prop_replace(t, NULL, "./Vendor/Blob", "Size", "1"),
			 DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_prop_replace(t, NULL, "./Vendor/Blob", "VerNo", "1"),
			 DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_prop_replace(t, NULL, "./Vendor/Blob", "Colour", "1"),
			 DM_TREE_NOT_SUPPORTED);
	dm_tree_free(t);
}

static void
test_rename(void **state)
{
	struct dm_tree *t = rich_tree();

	assert_int_equal(dm_tree_prop_replace(t, "srv1", "./Vendor/Sub", "Name", "Sub2"),
			 DM_TREE_OK);
	assert_int_equal(get_str(t, NULL, "./Vendor/Sub/Leaf"), DM_TREE_NOT_FOUND);
	assert_value(t, "./Vendor/Sub2/Leaf", "hello");
	assert_value(t, "./Vendor", "Sub2/Blob/Flag/Empty");	/* order kept */
	assert_int_equal(dm_tree_prop_replace(t, "srv1", "./Vendor/Sub2", "Name", "Flag"),
			 DM_TREE_EXISTS);
	assert_int_equal(dm_tree_prop_replace(t, "srv1", "./Vendor/Sub2", "Name", "a/b"),
			 DM_TREE_BAD_REQUEST);
	assert_int_equal(dm_tree_prop_replace(t, "srv1", "./Vendor/Sub2", "Name", ".."),
			 DM_TREE_BAD_REQUEST);
	assert_int_equal(dm_tree_prop_replace(t, "srv2", "./Vendor/Sub2", "Name", "S"),
			 DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_prop_replace(t, NULL, "./DevInfo", "Name", "Dev"),
			 DM_TREE_NOT_ALLOWED);
	assert_int_equal(dm_tree_prop_replace(t, NULL, ".", "Name", "root"),
			 DM_TREE_NOT_ALLOWED);
	dm_tree_free(t);
}

struct split_case {
	const char *target, *uri, *prop;
	int status;
};

static void
test_split_prop(void **state)
{
	static const struct split_case cases[] = {
		{ "./A/B?prop=ACL", "./A/B", "ACL", DM_TREE_OK },
		{ "./A/B", "./A/B", NULL, DM_TREE_OK },
		{ "./A?list=Struct", NULL, NULL, DM_TREE_NOT_SUPPORTED },
		{ "./A?prop=", NULL, NULL, DM_TREE_BAD_REQUEST },
		{ "./A?foo", NULL, NULL, DM_TREE_BAD_REQUEST },
	};
	char buf[64];
	const char *prop;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct split_case *c = &cases[i];

		assert_int_equal(dm_tree_split_prop(c->target, buf, sizeof(buf), &prop),
				 c->status);
		if (c->status != DM_TREE_OK)
			continue;
		assert_string_equal(buf, c->uri);
		if (c->prop == NULL)
			assert_null(prop);
		else
			assert_string_equal(prop, c->prop);
	}
	assert_int_equal(dm_tree_split_prop("./ABCDEFGH", buf, 4, &prop),
			 DM_TREE_URI_TOO_LONG);
}

/* ---- Atomic ---- */

static void
test_atomic_rollback(void **state)
{
	struct dm_tree *t = rich_tree();
	struct ser before = ser(t), after;
	struct dm_account a = { .id = "Other", .server_id = "other" };

	assert_int_equal(dm_tree_atomic_begin(t), DM_TREE_OK);
	assert_true(dm_tree_in_atomic(t));
	/* every kind of change */
	assert_int_equal(add_dir(t, "srv1", "./Vendor/New"), DM_TREE_OK);
	assert_int_equal(add_chr(t, "srv1", "./Vendor/New/L", "n"), DM_TREE_OK);
	assert_int_equal(dm_tree_replace(t, "srv1", "./Vendor/Flag", DM_TREE_FMT_CHR,
					 "text/x", (const uint8_t *)"zz", 2), DM_TREE_OK);
	assert_int_equal(dm_tree_delete(t, "srv1", "./Vendor/Sub"), DM_TREE_OK);
	assert_int_equal(dm_tree_copy(t, "srv1", "./Vendor/Copy", "./Vendor/Blob"),
			 DM_TREE_OK);
	assert_int_equal(dm_tree_prop_replace(t, "srv1", "./Vendor/Blob", "Name", "B"),
			 DM_TREE_OK);
	assert_int_equal(dm_tree_prop_replace(t, "srv1", "./Vendor/B", "Title", "t"),
			 DM_TREE_OK);
	assert_int_equal(dm_tree_prop_replace(t, NULL, "./Vendor", "ACL", "Get=*"),
			 DM_TREE_OK);
	assert_int_equal(dm_tree_account_add(t, &a), DM_TREE_OK);
	assert_int_equal(dm_tree_account_set_nonce(t, "DMSC-SRV", "SRVCRED", "AAAA"),
			 DM_TREE_OK);
	/* nested Atomic is refused, the open one is unaffected */
	assert_int_equal(dm_tree_atomic_begin(t), DM_TREE_FAILED);
	/* no save inside an Atomic */
	assert_int_equal(dm_tree_save(t, "/nonexistent/x"), -EBUSY);
	after = ser(t);
	assert_false(after.len == before.len &&
		     memcmp(after.p, before.p, before.len) == 0);
	free(after.p);

	assert_int_equal(dm_tree_atomic_rollback(t), DM_TREE_OK);
	assert_false(dm_tree_in_atomic(t));
	after = ser(t);
	assert_int_equal(after.len, before.len);
	assert_memory_equal(after.p, before.p, before.len);
	free(after.p);
	free(before.p);
	/* the restored tree is fully usable */
	assert_value(t, "./Vendor/Sub/Leaf", "hello");
	assert_int_equal(add_dir(t, "srv1", "./Vendor/New"), DM_TREE_OK);
	assert_int_equal(dm_tree_atomic_rollback(t), DM_TREE_FAILED);
	assert_int_equal(dm_tree_atomic_commit(t), DM_TREE_FAILED);
	dm_tree_free(t);
}

static void
test_atomic_commit(void **state)
{
	struct dm_tree *t = rich_tree();

	assert_int_equal(dm_tree_atomic_begin(t), DM_TREE_OK);
	assert_int_equal(dm_tree_delete(t, "srv1", "./Vendor/Sub"), DM_TREE_OK);
	assert_int_equal(add_chr(t, "srv1", "./Vendor/N", "n"), DM_TREE_OK);
	assert_int_equal(dm_tree_atomic_commit(t), DM_TREE_OK);
	assert_int_equal(get_str(t, NULL, "./Vendor/Sub"), DM_TREE_NOT_FOUND);
	assert_value(t, "./Vendor/N", "n");
	/* a new Atomic may start; freeing inside one leaks nothing */
	assert_int_equal(dm_tree_atomic_begin(t), DM_TREE_OK);
	dm_tree_free(t);
}

/* ---- persistence ---- */

static void
test_save_load_round_trip(void **state)
{
	struct dm_tree *t = rich_tree(), *u = NULL;
	const char *path = tmp_path("tree");
	struct stat st;
	char err[512];

	assert_int_equal(dm_tree_save(t, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_prefixed("tree.", NULL, 0), 0);	/* no .tmp left */
	assert_int_equal(dm_tree_load(&cfg, path, &u, err, sizeof(err)), DM_TREE_LOADED);
	assert_non_null(u);
	assert_same_tree(t, u);
	/* the loaded tree behaves like the saved one */
	assert_int_equal(get_str(u, "srv2", "./Vendor/Sub/Leaf"), DM_TREE_OK);
	assert_int_equal(get_str(u, "srv3", "./Vendor/Sub/Leaf"), DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_delete(u, NULL, "./DevInfo"), DM_TREE_NOT_ALLOWED);
	/* saving again replaces the file */
	assert_int_equal(dm_tree_delete(u, NULL, "./Vendor"), DM_TREE_OK);
	assert_int_equal(dm_tree_save(u, path), 0);
	dm_tree_free(t);
	assert_int_equal(dm_tree_load(&cfg, path, &t, err, sizeof(err)), DM_TREE_LOADED);
	assert_same_tree(t, u);
	dm_tree_free(t);
	dm_tree_free(u);
}

static void
test_load_refreshes_device_values(void **state)
{
	struct dm_tree_config c = cfg;
	struct dm_tree *t = new_tree(), *u = NULL;
	const char *path = tmp_path("tree");
	char err[512];

	assert_int_equal(dm_tree_save(t, path), 0);
	c.swv = "0.2.0";	/* a software update since the last save */
	assert_int_equal(dm_tree_load(&c, path, &u, err, sizeof(err)), DM_TREE_LOADED);
	assert_value(u, "./DevDetail/SwV", "0.2.0");
	dm_tree_free(t);
	dm_tree_free(u);
}

static void
test_load_missing(void **state)
{
	struct dm_tree *t = NULL, *fresh = new_tree();
	char err[512];

	assert_int_equal(dm_tree_load(&cfg, tmp_path("none"), &t, err, sizeof(err)),
			 DM_TREE_FRESH);
	assert_non_null(t);
	assert_non_null(strstr(err, "no such file"));
	assert_value(t, "./DevInfo/DmV", "1.2");
	dm_tree_free(t);
	dm_tree_free(fresh);
	/* an unreadable path is an error, not a fresh start */
	assert_int_equal(dm_tree_load(&cfg, tmpdir, &t, err, sizeof(err)), -EINVAL);
	assert_null(t);
}

/*
 * Kill a child at a step of dm_tree_save (SIGKILL from the save hook) and
 * check what is left on disk.
 */
static void
crash_save(enum dm_tree_save_step step, bool expect_new)
{
	struct dm_tree *old = rich_tree(), *changed = rich_tree(), *u = NULL;
	const char *path = tmp_path("tree");
	struct ser before, now;
	char err[512];
	pid_t pid;
	int status;

	assert_int_equal(dm_tree_save(old, path), 0);
	before = read_whole(path);
	assert_int_equal(dm_tree_delete(changed, NULL, "./Vendor/Sub"), DM_TREE_OK);
	assert_int_equal(add_chr(changed, NULL, "./Vendor/New", "new"), DM_TREE_OK);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		crash_step = (int)step;
		dm_tree_save(changed, path);
		_exit(0);	/* not reached */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	if (!expect_new) {
		/* the old file, byte for byte, and the partial temporary */
		now = read_whole(path);
		assert_int_equal(now.len, before.len);
		assert_memory_equal(now.p, before.p, before.len);
		free(now.p);
		assert_int_equal(count_prefixed("tree.tmp", NULL, 0), 1);
	}
	assert_int_equal(dm_tree_load(&cfg, path, &u, err, sizeof(err)), DM_TREE_LOADED);
	assert_same_tree(u, expect_new ? changed : old);
	dm_tree_free(u);
	/* the next save goes through despite a stale temporary */
	assert_int_equal(dm_tree_save(changed, path), 0);
	assert_int_equal(count_prefixed("tree.", NULL, 0), 0);
	assert_int_equal(dm_tree_load(&cfg, path, &u, err, sizeof(err)), DM_TREE_LOADED);
	assert_same_tree(u, changed);
	dm_tree_free(u);
	free(before.p);
	dm_tree_free(old);
	dm_tree_free(changed);
}

static void
test_crash_mid_write(void **state)
{
	crash_save(DM_TREE_SAVE_PARTIAL, false);
}

static void
test_crash_before_rename(void **state)
{
	crash_save(DM_TREE_SAVE_WRITTEN, false);
}

static void
test_crash_after_rename(void **state)
{
	crash_save(DM_TREE_SAVE_RENAMED, true);
}

/* Write a corrupted copy of a good file, load it, check it was kept aside. */
static void
load_corrupt(const uint8_t *p, size_t len, const char *why)
{
	const char *path = tmp_path("tree");
	struct dm_tree *t = NULL;
	char err[1024], aside[256], *end;
	struct ser kept;

	write_whole(path, p, len);
	assert_int_equal(dm_tree_load(&cfg, path, &t, err, sizeof(err)),
			 DM_TREE_CORRUPT);
	/* a fresh tree to carry on with */
	assert_non_null(t);
	assert_value(t, "./DevInfo/DmV", "1.2");
	assert_int_equal(get_str(t, NULL, "./Vendor"), DM_TREE_NOT_FOUND);
	dm_tree_free(t);
	/* the file is gone from its place but kept, unchanged, aside */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_prefixed("tree.corrupt-", aside, sizeof(aside)), 1);
	strtoll(aside + strlen("tree.corrupt-"), &end, 10);
	assert_true(end > aside + strlen("tree.corrupt-"));
	assert_int_equal(*end, '\0');
	assert_non_null(strstr(err, aside));
	if (strstr(err, why) == NULL)
		fail_msg("'%s' does not say '%s'", err, why);
	kept = read_whole(tmp_path(aside));
	assert_int_equal(kept.len, len);
	assert_memory_equal(kept.p, p, len);
	free(kept.p);
	unlink(tmp_path(aside));
}

static void
test_corrupt_flipped_byte(void **state)
{
	struct dm_tree *t = rich_tree();
	struct ser s = ser(t);

	s.p[s.len / 2] ^= 0x01;
	load_corrupt(s.p, s.len, "checksum mismatch");
	free(s.p);
	dm_tree_free(t);
}

static void
test_corrupt_truncated(void **state)
{
	struct dm_tree *t = rich_tree();
	struct ser s = ser(t);

	load_corrupt(s.p, s.len - 10, "");
	load_corrupt(s.p, s.len / 2, "");
	load_corrupt(s.p, 5, "file too short");
	load_corrupt(s.p, 0, "file too short");
	free(s.p);
	dm_tree_free(t);
}

static void
test_corrupt_header(void **state)
{
	struct dm_tree *t = rich_tree();
	struct ser s = ser(t);

	s.p[12] = '2';		/* "dmscgw-tree 2" */
	load_corrupt(s.p, s.len, "unsupported format version");
	s.p[0] = 'X';
	load_corrupt(s.p, s.len, "not a dmscgw tree file");
	free(s.p);
	dm_tree_free(t);
}

static void
test_corrupt_twice_same_second(void **state)
{
	const char *path = tmp_path("tree");
	struct dm_tree *t = NULL;
	char err[1024];

	/* two corrupt files in a row never overwrite each other */
	write_whole(path, "garbage one\n", 12);
	assert_int_equal(dm_tree_load(&cfg, path, &t, err, sizeof(err)), DM_TREE_CORRUPT);
	dm_tree_free(t);
	write_whole(path, "garbage two\n", 12);
	assert_int_equal(dm_tree_load(&cfg, path, &t, err, sizeof(err)), DM_TREE_CORRUPT);
	dm_tree_free(t);
	assert_int_equal(count_prefixed("tree.corrupt-", NULL, 0), 2);
}

/*
 * Files with a valid checksum whose content is wrong: the checksum is not
 * the only check.  Each case rewrites the body of a good file and signs it
 * again.
 */
struct resign_case {
	const char *name;
	const char *from, *to;	/* first occurrence replaced */
	const char *why;
};

static const struct resign_case resign_cases[] = {
	{ "unknown format", " bin ", " binary ", "unknown format" },
	{ "leading zero", "node 9:./DevInfo", "node 09:./DevInfo", "leading zero" },
	{ "length overrun", "node 9:./DevInfo", "node 99999:./DevInfo", "" },
	{ "parent missing", "9:./DevInfo node", "9:./DevInfX node",
	  "node without an interior parent" },
	{ "child of a leaf", "17:./Vendor/Sub/Leaf", "20:./DevInfo/DevId/Leaf",
	  "node without an interior parent" },
	{ "bad flags", " bool 0 ", " bool 9 ", "number out of range" },
	{ "bad ACL", "5:Get=*", "5:Get=+", "bad ACL" },
	{ "bad URI", "9:./DevInfo", "9:./Dev/../", "bad URI" },
	{ "bool value", "4:true\n", "4:yes!\n", "value does not match its format" },
	{ "count", "\nend ", "\nend 1", "node count mismatch" },
	{ "root missing", "node 1:. node", "node 1:X node",
	  "the first node is not the root" },
	{ "trailing data", "\nend ", "\njunk\nend ", "unexpected text" },
};
#define NRESIGN (sizeof(resign_cases) / sizeof(resign_cases[0]))

static void
test_corrupt_resigned(void **state)
{
	const struct resign_case *rc = *state;
	struct dm_tree *t = rich_tree();
	struct ser s = ser(t);
	size_t body = s.len - 72, flen = strlen(rc->from), tlen = strlen(rc->to);
	uint8_t *hit, *out, md[32];
	unsigned mdlen;
	size_t off, n;

	hit = NULL;
	for (size_t i = 0; i + flen <= body && hit == NULL; i++)
		if (memcmp(s.p + i, rc->from, flen) == 0)
			hit = s.p + i;
	assert_non_null(hit);
	off = (size_t)(hit - s.p);
	out = malloc(s.len + tlen + 1);
	assert_non_null(out);
	memcpy(out, s.p, off);
	memcpy(out + off, rc->to, tlen);
	memcpy(out + off + tlen, hit + flen, body - off - flen);
	n = body - flen + tlen;
	assert_int_equal(EVP_Digest(out, n, md, &mdlen, EVP_sha256(), NULL), 1);
	n += (size_t)sprintf((char *)out + n, "sha256 ");
	for (unsigned i = 0; i < mdlen; i++)
		n += (size_t)sprintf((char *)out + n, "%02x", md[i]);
	out[n++] = '\n';
	load_corrupt(out, n, rc->why);
	free(out);
	free(s.p);
	dm_tree_free(t);
}

/* ---- DMAcc ---- */

static void
test_account_bootstrap(void **state)
{
	struct dm_tree *t = rich_tree();
	struct dm_account a;

	assert_int_equal(dm_tree_account_find(t, "DMSC-SRV", &a), DM_TREE_OK);
	assert_string_equal(a.id, "DMSC");
	assert_string_equal(a.server_id, "DMSC-SRV");
	assert_string_equal(a.name, "Card");
	assert_string_equal(a.addr, "https://127.0.0.1:4116/OMA/DM");
	assert_string_equal(a.addr_type, "URI");
	assert_int_equal(a.port, 4116);
	assert_string_equal(a.aauth_pref, "DIGEST");
	assert_string_equal(a.client.type, "DIGEST");
	assert_string_equal(a.client.name, "dmclient");
	assert_string_equal(a.client.secret, "clipwd");
	assert_string_equal(a.client.data, "YWJjZGVmZ2g=");
	assert_string_equal(a.server.type, "DIGEST");
	assert_string_equal(a.server.name, "DMSC-SRV");
	assert_string_equal(a.server.secret, "srvpwd");
	assert_string_equal(a.server.data, "MTIzNDU2Nzg=");
	/* the w7 layout */
	assert_value(t, "./DMAcc/DMSC/AppID", "w7");
	assert_value(t, "./DMAcc/DMSC/AppAddr/1/Port/1/PortNbr", "4116");
	assert_value(t, "./DMAcc/DMSC/AppAuth", "CLCRED/SRVCRED");
	assert_value(t, "./DMAcc/DMSC/AppAuth/SRVCRED/AAuthLevel", "SRVCRED");
	assert_prop(t, "./DMAcc/DMSC/AppAuth/CLCRED/AAuthData", "Format", "b64");
	assert_prop(t, "./DMAcc/DMSC", "ACL", "Get=DMSC-SRV&Replace=DMSC-SRV");
	/* its server reads and updates it; others do not even read it */
	assert_int_equal(get_str(t, "DMSC-SRV", "./DMAcc/DMSC/Name"), DM_TREE_OK);
	assert_int_equal(dm_tree_replace(t, "DMSC-SRV", "./DMAcc/DMSC/Name",
					 DM_TREE_FMT_CHR, NULL,
					 (const uint8_t *)"Card 2", 6), DM_TREE_OK);
	assert_int_equal(get_str(t, "srv1", "./DMAcc/DMSC/Name"), DM_TREE_PERMISSION);
	assert_int_equal(dm_tree_delete(t, "DMSC-SRV", "./DMAcc/DMSC"), DM_TREE_PERMISSION);
	/* ./DMAcc lists accounts to anybody, no one adds through the protocol */
	assert_value(t, "./DMAcc", "DMSC");
	assert_int_equal(add_dir(t, "DMSC-SRV", "./DMAcc/Evil"), DM_TREE_PERMISSION);
	/* NextNonce */
	assert_int_equal(dm_tree_account_set_nonce(t, "DMSC-SRV", "CLCRED", "bmV3bm9uY2U="),
			 DM_TREE_OK);
	assert_int_equal(dm_tree_account_find(t, "DMSC-SRV", &a), DM_TREE_OK);
	assert_string_equal(a.client.data, "bmV3bm9uY2U=");
	assert_string_equal(a.name, "Card 2");
	assert_int_equal(dm_tree_account_set_nonce(t, "DMSC-SRV", "CLCRED", "!!"),
			 DM_TREE_BAD_REQUEST);
	assert_int_equal(dm_tree_account_set_nonce(t, "DMSC-SRV", "OTHER", "AAAA"),
			 DM_TREE_NOT_FOUND);
	assert_int_equal(dm_tree_account_set_nonce(t, "nobody", "CLCRED", "AAAA"),
			 DM_TREE_NOT_FOUND);
	assert_int_equal(dm_tree_account_find(t, "nobody", &a), DM_TREE_NOT_FOUND);
	dm_tree_free(t);
}

static void
test_account_errors(void **state)
{
	struct dm_tree *t = new_tree();
	struct dm_account a = { .id = "A", .server_id = "srv", .addr = DM_SC_APPADDR_TCPIP };
	struct dm_account b;
	size_t before;

	assert_int_equal(dm_tree_account_add(t, &a), DM_TREE_OK);
	assert_int_equal(dm_tree_account_add(t, &a), DM_TREE_EXISTS);
	/* minimal account: no port, no AppAuth entries, AddrType defaults */
	assert_int_equal(dm_tree_account_find(t, "srv", &b), DM_TREE_OK);
	assert_string_equal(b.addr, "https://localuicc:443/OMA/DM");
	assert_string_equal(b.addr_type, "URI");
	assert_int_equal(b.port, 0);
	assert_string_equal(b.client.type, "");
	assert_value(t, "./DMAcc/A/AppAuth", "");
	/* bad identifiers, bad nonce: nothing is left behind */
	struct ser s0 = ser(t);
	before = s0.len;
	free(s0.p);
	a = (struct dm_account){ .id = "B", .server_id = "has space" };
	assert_int_equal(dm_tree_account_add(t, &a), DM_TREE_BAD_REQUEST);
	a = (struct dm_account){ .id = "B", .server_id = "" };
	assert_int_equal(dm_tree_account_add(t, &a), DM_TREE_BAD_REQUEST);
	a = (struct dm_account){ .id = "..", .server_id = "s" };
	assert_int_equal(dm_tree_account_add(t, &a), DM_TREE_BAD_REQUEST);
	a = (struct dm_account){ .id = "B/C", .server_id = "s" };
	assert_int_equal(dm_tree_account_add(t, &a), DM_TREE_BAD_REQUEST);
	a = (struct dm_account){ .id = "B", .server_id = "s", .port = 70000 };
	assert_int_equal(dm_tree_account_add(t, &a), DM_TREE_BAD_REQUEST);
	a = (struct dm_account){ .id = "B", .server_id = "s",
				 .server = { "DIGEST", "n", "p", "not b64!" } };
	assert_int_equal(dm_tree_account_add(t, &a), DM_TREE_BAD_REQUEST);
	assert_int_equal(get_str(t, NULL, "./DMAcc/B"), DM_TREE_NOT_FOUND);
	s0 = ser(t);
	assert_int_equal(s0.len, before);
	free(s0.p);
	dm_tree_free(t);
}

static void
test_appaddr_constants(void **state)
{
	/* OMA-TS-DM_SC 8.1 table 2, "https://{SCWS@}/OMA/DM" */
	assert_string_equal(DM_SC_APPADDR_BIP_IPV4, "https://127.0.0.1:4116/OMA/DM");
	assert_string_equal(DM_SC_APPADDR_BIP_IPV6, "https://[::1]:4116/OMA/DM");
	assert_string_equal(DM_SC_APPADDR_TCPIP, "https://localuicc:443/OMA/DM");
}

static void
test_display_masks_secrets(void **state)
{
	struct dm_tree *t = rich_tree();
	struct dm_tree_value v;
	const char *uri = "./DMAcc/DMSC/AppAuth/SRVCRED/AAuthSecret";

	assert_int_equal(dm_tree_get_for_display(t, NULL, uri, &v), DM_TREE_OK);
	assert_int_equal(v.len, 8);
	assert_memory_equal(v.data, "********", 8);
	assert_value(t, uri, "srvpwd");
	/* other leaves as they are */
	assert_int_equal(dm_tree_get_for_display(t, NULL, "./DMAcc/DMSC/AppAuth/SRVCRED/AAuthName",
						 &v), DM_TREE_OK);
	assert_memory_equal(v.data, "DMSC-SRV", 8);
	/* an account a server builds by hand is masked too */
	assert_int_equal(add_dir(t, NULL, "./Vendor/Acc"), DM_TREE_OK);
	assert_int_equal(add_chr(t, NULL, "./Vendor/Acc/AAuthSecret", "pw"), DM_TREE_OK);
	assert_int_equal(dm_tree_get_for_display(t, NULL, "./Vendor/Acc/AAuthSecret", &v),
			 DM_TREE_OK);
	assert_memory_equal(v.data, "********", 8);
	/* and the mask survives a save and load */
	const char *path = tmp_path("tree");
	struct dm_tree *u;
	char err[256];
	assert_int_equal(dm_tree_save(t, path), 0);
	assert_int_equal(dm_tree_load(&cfg, path, &u, err, sizeof(err)), DM_TREE_LOADED);
	assert_int_equal(dm_tree_get_for_display(u, NULL, uri, &v), DM_TREE_OK);
	assert_memory_equal(v.data, "********", 8);
	dm_tree_free(u);
	dm_tree_free(t);
}

#define DIR_TEST(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_std_objects),
		cmocka_unit_test(test_new_bad_root_acl),
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_add_get),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_children),
		cmocka_unit_test(test_good_uris),
		cmocka_unit_test(test_acl_inherit),
		cmocka_unit_test(test_acl_override),
		cmocka_unit_test(test_acl_root_default),
		cmocka_unit_test(test_acl_unknown_server),
		cmocka_unit_test(test_acl_change_rules),
		cmocka_unit_test(test_acl_added_node),
		cmocka_unit_test(test_inbox_get),
		cmocka_unit_test(test_inbox_places_dmacc),
		cmocka_unit_test(test_inbox_refusals),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_rename),
		cmocka_unit_test(test_split_prop),
		cmocka_unit_test(test_atomic_rollback),
		cmocka_unit_test(test_atomic_commit),
		DIR_TEST(test_save_load_round_trip),
		DIR_TEST(test_load_refreshes_device_values),
		DIR_TEST(test_load_missing),
		DIR_TEST(test_crash_mid_write),
		DIR_TEST(test_crash_before_rename),
		DIR_TEST(test_crash_after_rename),
		DIR_TEST(test_corrupt_flipped_byte),
		DIR_TEST(test_corrupt_truncated),
		DIR_TEST(test_corrupt_header),
		DIR_TEST(test_corrupt_twice_same_second),
		cmocka_unit_test(test_make_executable),
		cmocka_unit_test(test_account_bootstrap),
		cmocka_unit_test(test_account_errors),
		cmocka_unit_test(test_appaddr_constants),
		DIR_TEST(test_display_masks_secrets),
	};
#define NFIXED (sizeof(fixed) / sizeof(fixed[0]))
	static struct CMUnitTest tests[NFIXED + NBAD_URIS + NRESIGN];
	static char names[NBAD_URIS + NRESIGN][64];
	size_t n = 0, k = 0;

	make_long_uris();
	for (size_t i = 0; i < NFIXED; i++)
		tests[n++] = fixed[i];
	for (size_t i = 0; i < NBAD_URIS; i++, k++) {
		snprintf(names[k], sizeof(names[k]), "bad URI: %s", bad_uris[i].name);
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_bad_uri,
						(void *)&bad_uris[i]);
		tests[n++].name = names[k];
	}
	for (size_t i = 0; i < NRESIGN; i++, k++) {
		snprintf(names[k], sizeof(names[k]), "corrupt, valid checksum: %s",
			 resign_cases[i].name);
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
			test_corrupt_resigned, setup_dir, teardown_dir,
			(void *)&resign_cases[i]);
		tests[n++].name = names[k];
	}
	return _cmocka_run_group_tests("dm_tree", tests, n, NULL, NULL);
}
