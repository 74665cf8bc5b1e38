/* SPDX-License-Identifier: MIT */
/*
 * The OMA DM 1.2 management tree: nodes, properties, ACLs, Atomic and
 * persistence (OMA-TS-DM_TND-V1_2, OMA-TS-DM_StdObj-V1_2, DM_RepPro 6.6).
 *
 * Atomic is a snapshot of the whole tree taken at begin and swapped back on
 * rollback.  A tree is a few hundred small nodes, so the copy is cheap, and
 * unlike an undo journal it cannot forget a kind of change.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dm/tree.h"
#include "util/errbuf.h"

#define NODE_PERMANENT	0x1u	/* standard object: no Delete, no rename */
#define NODE_SECRET	0x2u	/* masked by dm_tree_get_for_display */
#define NODE_FLAGS	(NODE_PERMANENT | NODE_SECRET)

#define VERNO_MAX	0xFFFFu	/* DM_TND 7.7.10: VerNo wraps at 65535 */
#define TSTAMP_MAX	INT64_C(253402300799)	/* 9999-12-31T23:59:59Z */
#define FILE_MAX	((size_t)64 << 20)
#define FILE_MAGIC	"dmscgw-tree 1\n"
#define SHA_LINE_LEN	(7 + 64 + 1)	/* "sha256 " hex "\n" */
#define SECRET_MASK	"********"

struct dm_node {
	char *name;
	struct dm_node *parent, *first, *last, *next;
	enum dm_tree_format format;
	char *type, *acl, *title;	/* NULL when empty */
	uint8_t *value;
	size_t len;
	int64_t tstamp;
	unsigned verno;
	unsigned flags;
	dm_tree_exec_fn *exec;
	void *exec_arg;
};

struct dm_tree {
	struct dm_node *root;
	struct dm_node *snap;		/* Atomic snapshot, NULL outside */
	size_t snap_nodes;
	size_t nodes;
	size_t max_value;
	size_t max_nodes;
	char *scratch;			/* last child list handed out */
};

static const char *const format_names[] = {
	[DM_TREE_FMT_CHR] = "chr",
	[DM_TREE_FMT_INT] = "int",
	[DM_TREE_FMT_BOOL] = "bool",
	[DM_TREE_FMT_BIN] = "bin",
	[DM_TREE_FMT_NODE] = "node",
	[DM_TREE_FMT_B64] = "b64",
	[DM_TREE_FMT_XML] = "xml",
	[DM_TREE_FMT_NULL] = "null",
	[DM_TREE_FMT_FLOAT] = "float",
	[DM_TREE_FMT_DATE] = "date",
	[DM_TREE_FMT_TIME] = "time",
};
#define NFORMATS (sizeof(format_names) / sizeof(format_names[0]))

const char *
dm_tree_format_name(enum dm_tree_format f)
{
	if ((unsigned)f >= NFORMATS)
		return NULL;
	return format_names[f];
}

int
dm_tree_format_parse(const char *name, enum dm_tree_format *f)
{
	for (size_t i = 0; i < NFORMATS; i++) {
		if (strcmp(name, format_names[i]) == 0) {
			*f = (enum dm_tree_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- strings and nodes ---- */

static char *str_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A malloc'd formatted string, NULL when out of memory. */
static char *
str_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* Replace *dst by a copy of s (NULL or "" stores NULL); -ENOMEM. */
static int
set_str(char **dst, const char *s)
{
	char *c = NULL;

	if (s != NULL && *s != '\0' && (c = strdup(s)) == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

/* Copy first, then free: v may point into the node's own value. */
static int
set_value(struct dm_node *n, const uint8_t *v, size_t len)
{
	uint8_t *c = NULL;

	if (len > 0) {
		if ((c = malloc(len)) == NULL)
			return -ENOMEM;
		memcpy(c, v, len);
	}
	free(n->value);
	n->value = c;
	n->len = len;
	return 0;
}

static struct dm_node *
node_new(const char *name, size_t len)
{
	struct dm_node *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	if ((n->name = strndup(name, len)) == NULL) {
		free(n);
		return NULL;
	}
	n->format = DM_TREE_FMT_NODE;
	return n;
}

/* Frees n and its subtree; returns how many nodes went. */
static size_t
node_free(struct dm_node *n)
{
	struct dm_node *c, *next;
	size_t count = 1;

	if (n == NULL)
		return 0;
	for (c = n->first; c != NULL; c = next) {
		next = c->next;
		count += node_free(c);
	}
	free(n->name);
	free(n->type);
	free(n->acl);
	free(n->title);
	free(n->value);
	free(n);
	return count;
}

static void
node_append(struct dm_node *parent, struct dm_node *n)
{
	n->parent = parent;
	if (parent->last != NULL)
		parent->last->next = n;
	else
		parent->first = n;
	parent->last = n;
}

static void
node_unlink(struct dm_node *n)
{
	struct dm_node *p = n->parent, **pp, *prev = NULL;

	for (pp = &p->first; *pp != n; pp = &(*pp)->next)
		prev = *pp;
	*pp = n->next;
	if (p->last == n)
		p->last = prev;
	n->parent = NULL;
	n->next = NULL;
}

static struct dm_node *
node_clone(const struct dm_node *n)
{
	struct dm_node *c, *cc;
	const struct dm_node *k;

	if ((c = node_new(n->name, strlen(n->name))) == NULL)
		return NULL;
	c->format = n->format;
	c->tstamp = n->tstamp;
	c->verno = n->verno;
	c->flags = n->flags;
	c->exec = n->exec;
	c->exec_arg = n->exec_arg;
	if (set_str(&c->type, n->type) < 0 || set_str(&c->acl, n->acl) < 0 ||
	    set_str(&c->title, n->title) < 0 ||
	    set_value(c, n->value, n->len) < 0)
		goto fail;
	for (k = n->first; k != NULL; k = k->next) {
		if ((cc = node_clone(k)) == NULL)
			goto fail;
		node_append(c, cc);
	}
	return c;
fail:
	node_free(c);
	return NULL;
}

static struct dm_node *
child_find(const struct dm_node *n, const char *name, size_t len)
{
	struct dm_node *c;

	for (c = n->first; c != NULL; c = c->next)
		if (strncmp(c->name, name, len) == 0 && c->name[len] == '\0')
			return c;
	return NULL;
}

static bool
subtree_has_flag(const struct dm_node *n, unsigned flag)
{
	const struct dm_node *c;

	if (n->flags & flag)
		return true;
	for (c = n->first; c != NULL; c = c->next)
		if (subtree_has_flag(c, flag))
			return true;
	return false;
}

/* Length of the node's URI ("." for the root, "./A/B" otherwise). */
static size_t
uri_len(const struct dm_node *n)
{
	if (n->parent == NULL)
		return 1;
	return uri_len(n->parent) + 1 + strlen(n->name);
}

/* Longest "/name/name..." tail below n. */
static size_t
subtree_tail_len(const struct dm_node *n)
{
	const struct dm_node *c;
	size_t max = 0, l;

	for (c = n->first; c != NULL; c = c->next) {
		l = 1 + strlen(c->name) + subtree_tail_len(c);
		if (l > max)
			max = l;
	}
	return max;
}

/* DM_TND 7.7.10/7.7.11: each change bumps VerNo and TStamp up to the root. */
static void
node_touch(struct dm_node *n)
{
	int64_t now = (int64_t)time(NULL);

	if (now < 0 || now > TSTAMP_MAX)
		now = 0;
	for (; n != NULL; n = n->parent) {
		n->verno = (n->verno + 1) & VERNO_MAX;
		n->tstamp = now;
	}
}

/* ---- URIs (DM_TND 6, DM_RepPro 6.1) ---- */

struct seg {
	const char *p;
	size_t len;
};

struct path {
	struct seg s[DM_TREE_MAX_DEPTH];
	size_t n;
};

/* A node name: printable ASCII but '/' and '?', not "." or "..". */
static int
name_check(const char *p, size_t len)
{
	if (len == 0)
		return DM_TREE_BAD_REQUEST;
	if (len > DM_TREE_MAX_SEG)
		return DM_TREE_URI_TOO_LONG;
	if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
		return DM_TREE_BAD_REQUEST;
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7E || p[i] == '/' || p[i] == '?')
			return DM_TREE_BAD_REQUEST;
	return DM_TREE_OK;
}

/*
 * Split "./A/B", "A/B" or "." into segments.  400 for anything malformed,
 * 414 past MaxTotLen, MaxSegLen or MaxDepth.
 */
static int
path_parse(const char *uri, struct path *pa)
{
	size_t len, seglen;
	const char *p, *slash;
	int st;

	pa->n = 0;
	if (uri == NULL)
		return DM_TREE_BAD_REQUEST;
	len = strnlen(uri, DM_TREE_MAX_URI + 1);
	if (len > DM_TREE_MAX_URI)
		return DM_TREE_URI_TOO_LONG;
	if (len == 0)
		return DM_TREE_BAD_REQUEST;
	if (strcmp(uri, ".") == 0)
		return DM_TREE_OK;
	p = uri;
	if (p[0] == '.' && p[1] == '/')
		p += 2;
	for (;;) {
		slash = strchr(p, '/');
		seglen = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if ((st = name_check(p, seglen)) != DM_TREE_OK)
			return st;
		if (pa->n == DM_TREE_MAX_DEPTH)
			return DM_TREE_URI_TOO_LONG;
		pa->s[pa->n].p = p;
		pa->s[pa->n].len = seglen;
		pa->n++;
		if (slash == NULL)
			return DM_TREE_OK;
		p = slash + 1;
	}
}

/* The node at the first depth segments, or NULL. */
static struct dm_node *
path_find(const struct dm_tree *t, const struct path *pa, size_t depth)
{
	struct dm_node *n = t->root;

	for (size_t i = 0; i < depth && n != NULL; i++)
		n = child_find(n, pa->s[i].p, pa->s[i].len);
	return n;
}

static int
lookup(const struct dm_tree *t, const char *uri, struct dm_node **out)
{
	struct path pa;
	int st;

	if ((st = path_parse(uri, &pa)) != DM_TREE_OK)
		return st;
	if ((*out = path_find(t, &pa, pa.n)) == NULL)
		return DM_TREE_NOT_FOUND;
	return DM_TREE_OK;
}

/* ---- ACL (DM_TND 7.7.1) ---- */

static const char *const acl_commands[] = {
	"Add", "Delete", "Exec", "Get", "Replace", NULL
};

/* DM_TND 7.7.1.5: printable, no '=', '&', '*', '+' or white space. */
static bool
server_id_char(char c)
{
	return c > 0x20 && c < 0x7F && c != '=' && c != '&' && c != '*' &&
	       c != '+';
}

static bool
server_id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!server_id_char(s[i]) || i >= DM_TREE_MAX_ACL)
			return false;
	return i > 0;
}

/* The grammar of DM_TND 7.7.1.5; "" (no value) is valid. */
static bool
acl_valid(const char *acl)
{
	const char *p = acl, *eq;
	size_t i, idlen;

	if (strlen(acl) > DM_TREE_MAX_ACL)
		return false;
	if (*p == '\0')
		return true;
	for (;;) {
		if ((eq = strchr(p, '=')) == NULL)
			return false;
		for (i = 0; acl_commands[i] != NULL; i++)
			if (strlen(acl_commands[i]) == (size_t)(eq - p) &&
			    strncmp(acl_commands[i], p, (size_t)(eq - p)) == 0)
				break;
		if (acl_commands[i] == NULL)
			return false;
		p = eq + 1;
		for (;;) {		/* <server-identifiers> */
			if (*p == '*') {
				idlen = 1;
			} else {
				for (idlen = 0; server_id_char(p[idlen]); idlen++)
					;
				if (idlen == 0)
					return false;
			}
			p += idlen;
			if (*p != '+')
				break;
			p++;
		}
		if (*p == '\0')
			return true;
		if (*p != '&')
			return false;
		p++;
	}
}

/* Does acl (valid) grant cmd to server ("*" matches any server)? */
static bool
acl_grants(const char *acl, const char *cmd, const char *server)
{
	size_t cl = strlen(cmd), sl = strlen(server), idlen;
	const char *p = acl;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t elen = end != NULL ? (size_t)(end - p) : strlen(p);

		if (elen > cl && p[cl] == '=' && strncmp(p, cmd, cl) == 0) {
			const char *q = p + cl + 1, *qend = p + elen;

			while (q < qend) {
				for (idlen = 0; q + idlen < qend && q[idlen] != '+';
				     idlen++)
					;
				if ((idlen == 1 && q[0] == '*') ||
				    (idlen == sl && strncmp(q, server, sl) == 0))
					return true;
				q += idlen + 1;
			}
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

/*
 * DM_TND 7.7.1.1: a node without an ACL takes its nearest ancestor's whole
 * ACL.  A NULL server is the device itself.
 */
static bool
permitted(const struct dm_node *n, const char *cmd, const char *server)
{
	if (server == NULL)
		return true;
	if (!server_id_valid(server))
		return false;
	while (n != NULL && n->acl == NULL)
		n = n->parent;
	return n != NULL && acl_grants(n->acl, cmd, server);
}

/* ---- values ---- */

static bool
is_b64_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=' ||
	       c == '\r' || c == '\n';
}

/* Is the value acceptable for its Format?  400 when not, 415 for no Format. */
static int
value_check(enum dm_tree_format f, const uint8_t *v, size_t len)
{
	size_t i;

	if (len > 0 && v == NULL)
		return DM_TREE_BAD_REQUEST;
	switch (f) {
	case DM_TREE_FMT_NODE:
	case DM_TREE_FMT_NULL:
		return len == 0 ? DM_TREE_OK : DM_TREE_BAD_REQUEST;
	case DM_TREE_FMT_BOOL:
		if ((len == 4 && memcmp(v, "true", 4) == 0) ||
		    (len == 5 && memcmp(v, "false", 5) == 0))
			return DM_TREE_OK;
		return DM_TREE_BAD_REQUEST;
	case DM_TREE_FMT_INT: {
		/* MetInf: a decimal integer; signed or unsigned 32 bits. */
		int64_t x = 0;

		i = len > 0 && v[0] == '-';
		if (len == i || len - i > 10)
			return DM_TREE_BAD_REQUEST;
		for (; i < len; i++) {
			if (v[i] < '0' || v[i] > '9')
				return DM_TREE_BAD_REQUEST;
			x = x * 10 + (v[i] - '0');
		}
		if (v[0] == '-' ? x > INT64_C(2147483648) : x > INT64_C(4294967295))
			return DM_TREE_BAD_REQUEST;
		return DM_TREE_OK;
	}
	case DM_TREE_FMT_B64:
		for (i = 0; i < len; i++)
			if (!is_b64_char(v[i]))
				return DM_TREE_BAD_REQUEST;
		return DM_TREE_OK;
	case DM_TREE_FMT_BIN:
		return DM_TREE_OK;
	case DM_TREE_FMT_CHR:
	case DM_TREE_FMT_XML:
	case DM_TREE_FMT_FLOAT:
	case DM_TREE_FMT_DATE:
	case DM_TREE_FMT_TIME:
		return len == 0 || memchr(v, '\0', len) == NULL ?
		       DM_TREE_OK : DM_TREE_BAD_REQUEST;
	}
	return DM_TREE_BAD_FORMAT;
}

/* A MIME type: printable ASCII, bounded. */
static int
type_check(const char *type)
{
	size_t i;

	if (type == NULL)
		return DM_TREE_OK;
	for (i = 0; type[i] != '\0'; i++) {
		if (i >= DM_TREE_MAX_TYPE)
			return DM_TREE_TOO_LARGE;
		if (type[i] < 0x20 || type[i] > 0x7E)
			return DM_TREE_BAD_REQUEST;
	}
	return DM_TREE_OK;
}

static int
text_check(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= max)
			return DM_TREE_TOO_LARGE;
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return DM_TREE_BAD_REQUEST;
	}
	return DM_TREE_OK;
}

/* ---- tree ---- */

static struct dm_tree *
tree_alloc(const struct dm_tree_config *cfg)
{
	struct dm_tree *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->max_value = cfg != NULL && cfg->max_value ? cfg->max_value
						       : DM_TREE_VALUE_MAX;
	t->max_nodes = cfg != NULL && cfg->max_nodes ? cfg->max_nodes
						       : DM_TREE_NODES_MAX;
	return t;
}

void
dm_tree_free(struct dm_tree *t)
{
	if (t == NULL)
		return;
	node_free(t->root);
	node_free(t->snap);
	free(t->scratch);
	free(t);
}

/*
 * Create a child without ACL checks (device-side).  Returns the status, with
 * the node in *out when non-NULL.
 */
static int
add_node(struct dm_tree *t, struct dm_node *parent, const char *name,
	 size_t nlen, enum dm_tree_format format, const char *type,
	 const uint8_t *value, size_t len, struct dm_node **out)
{
	struct dm_node *n;
	int st;

	if (parent->format != DM_TREE_FMT_NODE)
		return DM_TREE_NOT_ALLOWED;
	if (child_find(parent, name, nlen) != NULL)
		return DM_TREE_EXISTS;
	if ((st = value_check(format, value, len)) != DM_TREE_OK)
		return st;
	if ((st = type_check(type)) != DM_TREE_OK)
		return st;
	if (len > t->max_value)
		return DM_TREE_TOO_LARGE;
	if (uri_len(parent) + 1 + nlen > DM_TREE_MAX_URI)
		return DM_TREE_URI_TOO_LONG;
	if (t->nodes >= t->max_nodes)
		return DM_TREE_DEVICE_FULL;
	if ((n = node_new(name, nlen)) == NULL)
		return DM_TREE_FAILED;
	n->format = format;
	if (set_str(&n->type, type) < 0 || set_value(n, value, len) < 0) {
		node_free(n);
		return DM_TREE_FAILED;
	}
	/* DMAcc secrets, wherever a server puts an account. */
	if (strcmp(n->name, "AAuthSecret") == 0)
		n->flags |= NODE_SECRET;
	node_append(parent, n);
	t->nodes++;
	node_touch(n);
	if (out != NULL)
		*out = n;
	return DM_TREE_OK;
}

/* Device-side add by URI (parent must exist); value is a C string. */
static int
add_local(struct dm_tree *t, const char *uri, enum dm_tree_format format,
	  const char *value, struct dm_node **out)
{
	struct dm_node *parent;
	struct path pa;
	int st;

	if ((st = path_parse(uri, &pa)) != DM_TREE_OK)
		return st;
	if (pa.n == 0)
		return DM_TREE_EXISTS;
	if ((parent = path_find(t, &pa, pa.n - 1)) == NULL)
		return DM_TREE_NOT_FOUND;
	if (value == NULL)
		value = "";
	return add_node(t, parent, pa.s[pa.n - 1].p, pa.s[pa.n - 1].len,
			format, NULL, (const uint8_t *)value, strlen(value), out);
}

/*
 * Make sure the standard objects exist (DM_StdObj 5) and hold the device's
 * values.  Interior nodes keep whatever ACL they have once they exist.
 */
static int
std_objects(struct dm_tree *t, const struct dm_tree_config *c)
{
	static const struct dm_tree_config empty;
	const struct dm_tree_config *cfg = c != NULL ? c : &empty;
	char maxdepth[16], maxtot[16], maxseg[16];
	const struct {
		const char *uri;
		enum dm_tree_format format;
		const char *acl;	/* interior nodes, when created */
		const char *value;	/* leaves */
	} std[] = {
		{ "./DevInfo", DM_TREE_FMT_NODE, "Get=*", NULL },
		{ "./DevInfo/DevId", DM_TREE_FMT_CHR, NULL, cfg->devid },
		{ "./DevInfo/Man", DM_TREE_FMT_CHR, NULL, cfg->manufacturer },
		{ "./DevInfo/Mod", DM_TREE_FMT_CHR, NULL, cfg->model },
		{ "./DevInfo/DmV", DM_TREE_FMT_CHR, NULL, "1.2" },
		{ "./DevInfo/Lang", DM_TREE_FMT_CHR, NULL,
		  cfg->lang != NULL ? cfg->lang : "en-US" },
		{ "./DevInfo/Ext", DM_TREE_FMT_NODE, NULL, NULL },
		{ "./DevDetail", DM_TREE_FMT_NODE, "Get=*", NULL },
		{ "./DevDetail/DevTyp", DM_TREE_FMT_CHR, NULL, cfg->devtyp },
		{ "./DevDetail/OEM", DM_TREE_FMT_CHR, NULL, cfg->oem },
		{ "./DevDetail/FwV", DM_TREE_FMT_CHR, NULL, cfg->fwv },
		{ "./DevDetail/SwV", DM_TREE_FMT_CHR, NULL, cfg->swv },
		{ "./DevDetail/HwV", DM_TREE_FMT_CHR, NULL, cfg->hwv },
		{ "./DevDetail/LrgObj", DM_TREE_FMT_BOOL, NULL, "true" },
		{ "./DevDetail/URI", DM_TREE_FMT_NODE, NULL, NULL },
		{ "./DevDetail/URI/MaxDepth", DM_TREE_FMT_INT, NULL, maxdepth },
		{ "./DevDetail/URI/MaxTotLen", DM_TREE_FMT_INT, NULL, maxtot },
		{ "./DevDetail/URI/MaxSegLen", DM_TREE_FMT_INT, NULL, maxseg },
		{ "./DevDetail/Ext", DM_TREE_FMT_NODE, NULL, NULL },
		{ "./DMAcc", DM_TREE_FMT_NODE, "Get=*", NULL },
		{ "./Inbox", DM_TREE_FMT_NODE, "Add=*", NULL },
	};
	struct dm_node *n;
	const char *v;
	size_t vlen;
	int st;

	snprintf(maxdepth, sizeof(maxdepth), "%d", DM_TREE_MAX_DEPTH);
	snprintf(maxtot, sizeof(maxtot), "%d", DM_TREE_MAX_URI);
	snprintf(maxseg, sizeof(maxseg), "%d", DM_TREE_MAX_SEG);
	for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
		v = std[i].value != NULL ? std[i].value : "";
		vlen = std[i].format == DM_TREE_FMT_NODE ? 0 : strlen(v);
		st = lookup(t, std[i].uri, &n);
		if (st == DM_TREE_NOT_FOUND) {
			st = add_local(t, std[i].uri, std[i].format,
				       std[i].format == DM_TREE_FMT_NODE ? NULL : v,
				       &n);
			if (st == DM_TREE_OK && set_str(&n->acl, std[i].acl) < 0)
				st = DM_TREE_FAILED;
		} else if (st == DM_TREE_OK && n->format != std[i].format) {
			st = DM_TREE_FAILED;	/* a file cannot change these */
		} else if (st == DM_TREE_OK && std[i].format != DM_TREE_FMT_NODE &&
			   (n->len != vlen ||
			    (vlen && memcmp(n->value, v, vlen) != 0))) {
			if (set_value(n, (const uint8_t *)v, vlen) < 0)
				st = DM_TREE_FAILED;
			else
				node_touch(n);
		}
		if (st != DM_TREE_OK)
			return st;
		n->flags |= NODE_PERMANENT;
	}
	return DM_TREE_OK;
}

struct dm_tree *
dm_tree_new(const struct dm_tree_config *cfg)
{
	const char *acl = cfg != NULL && cfg->root_acl != NULL ? cfg->root_acl
							       : DM_TREE_ROOT_ACL;
	struct dm_tree *t;

	if (!acl_valid(acl) || *acl == '\0')
		return NULL;
	if ((t = tree_alloc(cfg)) == NULL)
		return NULL;
	if ((t->root = node_new(".", 1)) == NULL || set_str(&t->root->acl, acl) < 0)
		goto fail;
	t->root->flags = NODE_PERMANENT;
	t->nodes = 1;
	node_touch(t->root);
	if (std_objects(t, cfg) != DM_TREE_OK)
		goto fail;
	return t;
fail:
	dm_tree_free(t);
	return NULL;
}

/* ---- commands ---- */

static int
children_join(const struct dm_node *n, char **out, size_t *outlen)
{
	const struct dm_node *c;
	size_t len = 0;
	char *s, *p;

	for (c = n->first; c != NULL; c = c->next)
		len += strlen(c->name) + 1;
	if ((s = malloc(len + 1)) == NULL)
		return -ENOMEM;
	p = s;
	for (c = n->first; c != NULL; c = c->next) {
		if (c != n->first)
			*p++ = '/';
		memcpy(p, c->name, strlen(c->name));
		p += strlen(c->name);
	}
	*p = '\0';
	*out = s;
	*outlen = (size_t)(p - s);
	return 0;
}

static int
get_common(struct dm_tree *t, const char *server, const char *uri,
	   struct dm_tree_value *out, bool mask)
{
	struct dm_node *n;
	size_t len;
	char *list;
	int st;

	if ((st = lookup(t, uri, &n)) != DM_TREE_OK)
		return st;
	if (!permitted(n, "Get", server))
		return DM_TREE_PERMISSION;
	out->format = n->format;
	out->type = n->type != NULL ? n->type : "";
	if (n->format == DM_TREE_FMT_NODE) {
		/* DM_RepPro 6.6.7: Get on an interior node lists its children. */
		if (children_join(n, &list, &len) < 0)
			return DM_TREE_FAILED;
		free(t->scratch);
		t->scratch = list;
		out->data = (const uint8_t *)list;
		out->len = len;
	} else if (mask && (n->flags & NODE_SECRET)) {
		out->data = (const uint8_t *)SECRET_MASK;
		out->len = strlen(SECRET_MASK);
	} else {
		out->data = n->value != NULL ? n->value : (const uint8_t *)"";
		out->len = n->len;
	}
	return DM_TREE_OK;
}

int
dm_tree_get(struct dm_tree *t, const char *server, const char *uri,
	    struct dm_tree_value *out)
{
	return get_common(t, server, uri, out, false);
}

int
dm_tree_get_for_display(struct dm_tree *t, const char *server,
			const char *uri, struct dm_tree_value *out)
{
	return get_common(t, server, uri, out, true);
}

int
dm_tree_children(struct dm_tree *t, const char *server, const char *uri,
		 char **out)
{
	struct dm_node *n;
	size_t len;
	int st;

	if ((st = lookup(t, uri, &n)) != DM_TREE_OK)
		return st;
	if (!permitted(n, "Get", server))
		return DM_TREE_PERMISSION;
	if (n->format != DM_TREE_FMT_NODE)
		return DM_TREE_NOT_ALLOWED;
	return children_join(n, out, &len) < 0 ? DM_TREE_FAILED : DM_TREE_OK;
}

int
dm_tree_add(struct dm_tree *t, const char *server, const char *uri,
	    enum dm_tree_format format, const char *type,
	    const uint8_t *value, size_t len)
{
	struct dm_node *parent, *n;
	struct path pa;
	char *acl;
	int st;

	if ((st = path_parse(uri, &pa)) != DM_TREE_OK)
		return st;
	if (pa.n == 0)
		return DM_TREE_EXISTS;
	if ((parent = path_find(t, &pa, pa.n - 1)) == NULL)
		return DM_TREE_NOT_FOUND;
	if (parent->format != DM_TREE_FMT_NODE)
		return DM_TREE_NOT_ALLOWED;
	if (!permitted(parent, "Add", server))
		return DM_TREE_PERMISSION;
	st = add_node(t, parent, pa.s[pa.n - 1].p, pa.s[pa.n - 1].len, format,
		      type, value, len, &n);
	if (st != DM_TREE_OK || server == NULL || permitted(parent, "Replace", server))
		return st;
	/*
	 * DM_TND 7.7.1.4: a server that could not set the new node's ACL
	 * through the parent gets full rights on what it added.
	 */
	acl = str_fmt("Add=%s&Delete=%s&Get=%s&Replace=%s", server, server,
		      server, server);
	if (acl == NULL) {
		node_unlink(n);
		t->nodes -= node_free(n);
		return DM_TREE_FAILED;
	}
	n->acl = acl;
	return DM_TREE_OK;
}

int
dm_tree_replace(struct dm_tree *t, const char *server, const char *uri,
		enum dm_tree_format format, const char *type,
		const uint8_t *value, size_t len)
{
	struct dm_node *n;
	int st;

	if ((st = lookup(t, uri, &n)) != DM_TREE_OK)
		return st;
	if (!permitted(n, "Replace", server))
		return DM_TREE_PERMISSION;
	if (n->format == DM_TREE_FMT_NODE || format == DM_TREE_FMT_NODE)
		return DM_TREE_NOT_ALLOWED;
	if ((st = value_check(format, value, len)) != DM_TREE_OK)
		return st;
	if ((st = type_check(type)) != DM_TREE_OK)
		return st;
	if (len > t->max_value)
		return DM_TREE_TOO_LARGE;
	if (set_value(n, value, len) < 0 ||
	    (type != NULL && set_str(&n->type, type) < 0))
		return DM_TREE_FAILED;
	n->format = format;
	node_touch(n);
	return DM_TREE_OK;
}

int
dm_tree_delete(struct dm_tree *t, const char *server, const char *uri)
{
	struct dm_node *n, *parent;
	int st;

	if ((st = lookup(t, uri, &n)) != DM_TREE_OK)
		return st;
	if (n == t->root)
		return DM_TREE_NOT_ALLOWED;
	if (!permitted(n, "Delete", server))
		return DM_TREE_PERMISSION;
	if (subtree_has_flag(n, NODE_PERMANENT))
		return DM_TREE_NOT_ALLOWED;
	parent = n->parent;
	node_unlink(n);
	t->nodes -= node_free(n);
	node_touch(parent);
	return DM_TREE_OK;
}

int
dm_tree_copy(struct dm_tree *t, const char *server, const char *target,
	     const char *source)
{
	struct dm_node *src, *dst;
	int st;

	if ((st = lookup(t, source, &src)) != DM_TREE_OK)
		return st;
	if (!permitted(src, "Get", server))
		return DM_TREE_PERMISSION;
	if (src->format == DM_TREE_FMT_NODE)
		return DM_TREE_NOT_SUPPORTED;
	st = lookup(t, target, &dst);
	if (st == DM_TREE_OK)
		return dm_tree_replace(t, server, target, src->format,
				       src->type != NULL ? src->type : "",
				       src->value, src->len);
	if (st != DM_TREE_NOT_FOUND)
		return st;
	return dm_tree_add(t, server, target, src->format, src->type,
			   src->value, src->len);
}

int
dm_tree_set_exec(struct dm_tree *t, const char *uri, dm_tree_exec_fn *fn,
		 void *arg)
{
	struct dm_node *n;
	int st;

	if ((st = lookup(t, uri, &n)) != DM_TREE_OK)
		return st;
	n->exec = fn;
	n->exec_arg = arg;
	return DM_TREE_OK;
}

int
dm_tree_exec(struct dm_tree *t, const char *server, const char *uri,
	     const uint8_t *data, size_t len)
{
	struct dm_node *n;
	int st;

	if ((st = lookup(t, uri, &n)) != DM_TREE_OK)
		return st;
	if (!permitted(n, "Exec", server))
		return DM_TREE_PERMISSION;
	if (n->exec == NULL)
		return DM_TREE_NOT_SUPPORTED;
	return n->exec(t, server, uri, data, len, n->exec_arg);
}

/* ---- properties (DM_TND 7.7) ---- */

int
dm_tree_split_prop(const char *target, char *buf, size_t cap,
		   const char **prop)
{
	const char *q = strchr(target, '?');
	size_t ulen = q != NULL ? (size_t)(q - target) : strlen(target);

	*prop = NULL;
	if (ulen >= cap)
		return DM_TREE_URI_TOO_LONG;
	memcpy(buf, target, ulen);
	buf[ulen] = '\0';
	if (q == NULL)
		return DM_TREE_OK;
	if (strncmp(q, "?prop=", 6) == 0 && q[6] != '\0') {
		*prop = q + 6;
		return DM_TREE_OK;
	}
	/* "?list=Struct" and "?list=StructData" are optional (DM_TND 8). */
	if (strncmp(q, "?list=", 6) == 0)
		return DM_TREE_NOT_SUPPORTED;
	return DM_TREE_BAD_REQUEST;
}

int
dm_tree_prop_get(struct dm_tree *t, const char *server, const char *uri,
		 const char *prop, char **out)
{
	struct dm_node *n;
	char buf[32];
	const char *v;
	int st;

	if ((st = lookup(t, uri, &n)) != DM_TREE_OK)
		return st;
	if (!permitted(n, "Get", server))
		return DM_TREE_PERMISSION;
	if (strcmp(prop, "ACL") == 0) {
		v = n->acl;
	} else if (strcmp(prop, "Format") == 0) {
		v = dm_tree_format_name(n->format);
	} else if (strcmp(prop, "Type") == 0) {
		v = n->type;
	} else if (strcmp(prop, "Size") == 0) {
		/* DM_TND 7.7.4: leaves only. */
		if (n->format == DM_TREE_FMT_NODE)
			return DM_TREE_NOT_SUPPORTED;
		snprintf(buf, sizeof(buf), "%zu", n->len);
		v = buf;
	} else if (strcmp(prop, "Name") == 0) {
		v = n->name;
	} else if (strcmp(prop, "Title") == 0) {
		v = n->title;
	} else if (strcmp(prop, "TStamp") == 0) {
		time_t ts = (time_t)n->tstamp;
		struct tm tm;

		if (gmtime_r(&ts, &tm) == NULL ||
		    strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm) == 0)
			return DM_TREE_FAILED;
		v = buf;
	} else if (strcmp(prop, "VerNo") == 0) {
		snprintf(buf, sizeof(buf), "%u", n->verno);
		v = buf;
	} else {
		return DM_TREE_NOT_SUPPORTED;
	}
	if ((*out = strdup(v != NULL ? v : "")) == NULL)
		return DM_TREE_FAILED;
	return DM_TREE_OK;
}

/* DM_TND 7.7.1.2: the root keeps "Add=*" so any server can extend the tree. */
static bool
root_acl_ok(const char *acl)
{
	return acl_grants(acl, "Add", "*");
}

static int
replace_acl(struct dm_node *n, const char *server, const char *value)
{
	/*
	 * DM_TND 7.7.1.3: Replace on the parent always allows it; an interior
	 * node's own ACL also governs its ACL, a leaf's does not.
	 */
	if (!(n->parent != NULL && permitted(n->parent, "Replace", server)) &&
	    !(n->format == DM_TREE_FMT_NODE && permitted(n, "Replace", server)))
		return DM_TREE_PERMISSION;
	if (strlen(value) > DM_TREE_MAX_ACL)
		return DM_TREE_TOO_LARGE;
	if (!acl_valid(value))
		return DM_TREE_BAD_REQUEST;
	if (n->parent == NULL && !root_acl_ok(value))
		return DM_TREE_NOT_ALLOWED;
	return set_str(&n->acl, value) < 0 ? DM_TREE_FAILED : DM_TREE_OK;
}

static int
replace_name(struct dm_node *n, const char *server, const char *value)
{
	size_t len = strlen(value);
	char *c;
	int st;

	if (!permitted(n, "Replace", server))
		return DM_TREE_PERMISSION;
	if (n->parent == NULL || (n->flags & NODE_PERMANENT))
		return DM_TREE_NOT_ALLOWED;
	if ((st = name_check(value, len)) != DM_TREE_OK)
		return st;
	if (strcmp(n->name, value) == 0)
		return DM_TREE_OK;
	if (child_find(n->parent, value, len) != NULL)
		return DM_TREE_EXISTS;
	/* The subtree's URIs must stay within MaxTotLen. */
	if (uri_len(n->parent) + 1 + len + subtree_tail_len(n) > DM_TREE_MAX_URI)
		return DM_TREE_URI_TOO_LONG;
	if ((c = strdup(value)) == NULL)
		return DM_TREE_FAILED;
	free(n->name);
	n->name = c;
	n->flags = (n->flags & ~NODE_SECRET) |
		   (strcmp(c, "AAuthSecret") == 0 ? NODE_SECRET : 0);
	return DM_TREE_OK;
}

int
dm_tree_prop_replace(struct dm_tree *t, const char *server, const char *uri,
		     const char *prop, const char *value)
{
	struct dm_node *n;
	int st;

	if ((st = lookup(t, uri, &n)) != DM_TREE_OK)
		return st;
	if (strcmp(prop, "ACL") == 0) {
		st = replace_acl(n, server, value);
	} else if (strcmp(prop, "Name") == 0) {
		st = replace_name(n, server, value);
	} else if (strcmp(prop, "Title") == 0) {
		if (!permitted(n, "Replace", server))
			return DM_TREE_PERMISSION;
		if ((st = text_check(value, DM_TREE_MAX_TITLE)) == DM_TREE_OK &&
		    set_str(&n->title, value) < 0)
			st = DM_TREE_FAILED;
	} else if (strcmp(prop, "Format") == 0 || strcmp(prop, "Type") == 0 ||
		   strcmp(prop, "Size") == 0 || strcmp(prop, "TStamp") == 0 ||
		   strcmp(prop, "VerNo") == 0) {
		/* Format and Type change with the value; the rest are derived. */
		return DM_TREE_NOT_ALLOWED;
	} else {
		return DM_TREE_NOT_SUPPORTED;
	}
	if (st == DM_TREE_OK)
		node_touch(n);
	return st;
}

/* ---- Atomic ---- */

int
dm_tree_atomic_begin(struct dm_tree *t)
{
	if (t->snap != NULL)
		return DM_TREE_FAILED;
	if ((t->snap = node_clone(t->root)) == NULL)
		return DM_TREE_FAILED;
	t->snap_nodes = t->nodes;
	return DM_TREE_OK;
}

int
dm_tree_atomic_commit(struct dm_tree *t)
{
	if (t->snap == NULL)
		return DM_TREE_FAILED;
	node_free(t->snap);
	t->snap = NULL;
	return DM_TREE_OK;
}

int
dm_tree_atomic_rollback(struct dm_tree *t)
{
	if (t->snap == NULL)
		return DM_TREE_FAILED;
	node_free(t->root);
	t->root = t->snap;
	t->nodes = t->snap_nodes;
	t->snap = NULL;
	return DM_TREE_OK;
}

bool
dm_tree_in_atomic(const struct dm_tree *t)
{
	return t->snap != NULL;
}

/* ---- DM account (DM_StdObj 1.2 DMAcc, application w7) ---- */

static int
add_leaf(struct dm_tree *t, const char *base, const char *rel,
	 enum dm_tree_format format, const char *value)
{
	char uri[DM_TREE_MAX_URI + 1];
	int n = snprintf(uri, sizeof(uri), "%s/%s", base, rel);

	if (n < 0 || (size_t)n >= sizeof(uri))
		return DM_TREE_URI_TOO_LONG;
	return add_local(t, uri, format,
			 format == DM_TREE_FMT_NODE ? NULL : value, NULL);
}

static int
account_add_auth(struct dm_tree *t, const char *base, const char *level,
		 const struct dm_account_auth *au)
{
	char b[DM_TREE_MAX_URI + 1];
	int st, n;

	if (au->type[0] == '\0')
		return DM_TREE_OK;
	n = snprintf(b, sizeof(b), "%s/AppAuth/%s", base, level);
	if (n < 0 || (size_t)n >= sizeof(b))
		return DM_TREE_URI_TOO_LONG;
	if ((st = add_local(t, b, DM_TREE_FMT_NODE, NULL, NULL)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AAuthLevel", DM_TREE_FMT_CHR, level)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AAuthType", DM_TREE_FMT_CHR, au->type)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AAuthName", DM_TREE_FMT_CHR, au->name)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AAuthSecret", DM_TREE_FMT_CHR, au->secret)) != DM_TREE_OK)
		return st;
	return add_leaf(t, b, "AAuthData", DM_TREE_FMT_B64, au->data);
}

static int
account_build(struct dm_tree *t, const char *b, const struct dm_account *a)
{
	char port[16];
	int st;

	if ((st = add_leaf(t, b, "AppID", DM_TREE_FMT_CHR, "w7")) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "ServerID", DM_TREE_FMT_CHR, a->server_id)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "Name", DM_TREE_FMT_CHR, a->name)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "PrefConRef", DM_TREE_FMT_CHR, a->pref_con_ref)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AppAddr", DM_TREE_FMT_NODE, NULL)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AppAddr/1", DM_TREE_FMT_NODE, NULL)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AppAddr/1/Addr", DM_TREE_FMT_CHR, a->addr)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AppAddr/1/AddrType", DM_TREE_FMT_CHR,
			   a->addr_type[0] != '\0' ? a->addr_type : "URI")) != DM_TREE_OK)
		return st;
	if (a->port != 0) {
		snprintf(port, sizeof(port), "%u", a->port);
		if ((st = add_leaf(t, b, "AppAddr/1/Port", DM_TREE_FMT_NODE, NULL)) != DM_TREE_OK ||
		    (st = add_leaf(t, b, "AppAddr/1/Port/1", DM_TREE_FMT_NODE, NULL)) != DM_TREE_OK ||
		    (st = add_leaf(t, b, "AppAddr/1/Port/1/PortNbr", DM_TREE_FMT_INT, port)) != DM_TREE_OK)
			return st;
	}
	if ((st = add_leaf(t, b, "AAuthPref", DM_TREE_FMT_CHR, a->aauth_pref)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AppAuth", DM_TREE_FMT_NODE, NULL)) != DM_TREE_OK ||
	    (st = account_add_auth(t, b, "CLCRED", &a->client)) != DM_TREE_OK)
		return st;
	return account_add_auth(t, b, "SRVCRED", &a->server);
}

int
dm_tree_account_add(struct dm_tree *t, const struct dm_account *a)
{
	char base[DM_TREE_MAX_URI + 1];
	struct dm_node *n;
	char *acl;
	int st;

	if (name_check(a->id, strnlen(a->id, sizeof(a->id))) != DM_TREE_OK ||
	    !server_id_valid(a->server_id) || a->port > 65535)
		return DM_TREE_BAD_REQUEST;
	snprintf(base, sizeof(base), "./DMAcc/%s", a->id);
	if ((st = add_local(t, base, DM_TREE_FMT_NODE, NULL, &n)) != DM_TREE_OK)
		return st;
	if ((acl = str_fmt("Get=%s&Replace=%s", a->server_id, a->server_id)) == NULL) {
		st = DM_TREE_FAILED;
	} else {
		n->acl = acl;
		st = account_build(t, base, a);
	}
	if (st != DM_TREE_OK) {		/* all or nothing */
		struct dm_node *parent = n->parent;

		node_unlink(n);
		t->nodes -= node_free(n);
		node_touch(parent);
	}
	return st;
}

/* Copy a leaf's text into buf; absent leaves read as "". */
static int
leaf_text(const struct dm_node *dir, const char *name, char *buf, size_t cap)
{
	const struct dm_node *n = dir != NULL ? child_find(dir, name, strlen(name))
					      : NULL;

	buf[0] = '\0';
	if (n == NULL || n->format == DM_TREE_FMT_NODE)
		return DM_TREE_OK;
	if (n->len >= cap)
		return DM_TREE_TOO_LARGE;
	if (n->len > 0 && memchr(n->value, '\0', n->len) != NULL)
		return DM_TREE_BAD_REQUEST;
	if (n->len > 0)
		memcpy(buf, n->value, n->len);
	buf[n->len] = '\0';
	return DM_TREE_OK;
}

static struct dm_node *
account_node(const struct dm_tree *t, const char *server_id)
{
	struct dm_node *acc = child_find(t->root, "DMAcc", 5), *a, *sid;
	size_t len = strlen(server_id);

	for (a = acc != NULL ? acc->first : NULL; a != NULL; a = a->next) {
		sid = child_find(a, "ServerID", 8);
		if (sid != NULL && sid->len == len &&
		    memcmp(sid->value, server_id, len) == 0)
			return a;
	}
	return NULL;
}

static struct dm_node *
auth_node(const struct dm_node *acc, const char *level)
{
	struct dm_node *aa = child_find(acc, "AppAuth", 7), *c, *l;
	size_t len = strlen(level);

	for (c = aa != NULL ? aa->first : NULL; c != NULL; c = c->next) {
		l = child_find(c, "AAuthLevel", 10);
		if (l != NULL && l->len == len && memcmp(l->value, level, len) == 0)
			return c;
	}
	return NULL;
}

static int
read_auth(const struct dm_node *acc, const char *level,
	  struct dm_account_auth *au)
{
	const struct dm_node *n = auth_node(acc, level);
	int st;

	if ((st = leaf_text(n, "AAuthType", au->type, sizeof(au->type))) != DM_TREE_OK ||
	    (st = leaf_text(n, "AAuthName", au->name, sizeof(au->name))) != DM_TREE_OK ||
	    (st = leaf_text(n, "AAuthSecret", au->secret, sizeof(au->secret))) != DM_TREE_OK)
		return st;
	return leaf_text(n, "AAuthData", au->data, sizeof(au->data));
}

int
dm_tree_account_find(struct dm_tree *t, const char *server_id,
		     struct dm_account *out)
{
	const struct dm_node *a, *addr, *port = NULL;
	char portbuf[16];
	char *end;
	unsigned long p;
	int st;

	memset(out, 0, sizeof(*out));
	if ((a = account_node(t, server_id)) == NULL)
		return DM_TREE_NOT_FOUND;
	addr = child_find(a, "AppAddr", 7);
	addr = addr != NULL ? addr->first : NULL;
	if (addr != NULL && (port = child_find(addr, "Port", 4)) != NULL)
		port = port->first;
	if (strlen(a->name) >= sizeof(out->id))
		return DM_TREE_TOO_LARGE;
	strcpy(out->id, a->name);
	if ((st = leaf_text(a, "ServerID", out->server_id, sizeof(out->server_id))) != DM_TREE_OK ||
	    (st = leaf_text(a, "Name", out->name, sizeof(out->name))) != DM_TREE_OK ||
	    (st = leaf_text(a, "PrefConRef", out->pref_con_ref, sizeof(out->pref_con_ref))) != DM_TREE_OK ||
	    (st = leaf_text(addr, "Addr", out->addr, sizeof(out->addr))) != DM_TREE_OK ||
	    (st = leaf_text(addr, "AddrType", out->addr_type, sizeof(out->addr_type))) != DM_TREE_OK ||
	    (st = leaf_text(port, "PortNbr", portbuf, sizeof(portbuf))) != DM_TREE_OK ||
	    (st = leaf_text(a, "AAuthPref", out->aauth_pref, sizeof(out->aauth_pref))) != DM_TREE_OK ||
	    (st = read_auth(a, "CLCRED", &out->client)) != DM_TREE_OK ||
	    (st = read_auth(a, "SRVCRED", &out->server)) != DM_TREE_OK)
		return st;
	if (portbuf[0] != '\0') {
		errno = 0;
		p = strtoul(portbuf, &end, 10);
		if (*end != '\0' || errno != 0 || p > 65535 || portbuf[0] == '-')
			return DM_TREE_BAD_REQUEST;
		out->port = (unsigned)p;
	}
	return DM_TREE_OK;
}

int
dm_tree_account_set_nonce(struct dm_tree *t, const char *server_id,
			  const char *level, const char *nonce_b64)
{
	struct dm_node *a, *au, *d;
	size_t len = strlen(nonce_b64);
	int st;

	if ((a = account_node(t, server_id)) == NULL ||
	    (au = auth_node(a, level)) == NULL)
		return DM_TREE_NOT_FOUND;
	if ((d = child_find(au, "AAuthData", 9)) == NULL)
		return add_node(t, au, "AAuthData", 9, DM_TREE_FMT_B64, NULL,
				(const uint8_t *)nonce_b64, len, NULL);
	if ((st = value_check(DM_TREE_FMT_B64, (const uint8_t *)nonce_b64, len)) != DM_TREE_OK)
		return st;
	if (set_value(d, (const uint8_t *)nonce_b64, len) < 0)
		return DM_TREE_FAILED;
	d->format = DM_TREE_FMT_B64;
	node_touch(d);
	return DM_TREE_OK;
}

/* ---- serialisation ---- */

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void
buf_put(struct buf *b, const void *p, size_t len)
{
	size_t cap;
	uint8_t *np;

	if (b->oom || len == 0)
		return;
	if (len > FILE_MAX || b->len + len > FILE_MAX) {
		b->oom = true;
		return;
	}
	if (b->len + len > b->cap) {
		for (cap = b->cap ? b->cap : 4096; cap < b->len + len; cap *= 2)
			;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		b->oom = true;
	else
		buf_put(b, tmp, (size_t)n);
}

/* " <n>:<bytes>" */
static void
buf_field(struct buf *b, const void *p, size_t len)
{
	buf_printf(b, " %zu:", len);
	buf_put(b, p, len);
}

static void
ser_node(struct buf *b, const struct dm_node *n, char *uri, size_t ulen)
{
	const struct dm_node *c;
	size_t nl;

	buf_printf(b, "node %zu:", ulen);
	buf_put(b, uri, ulen);
	buf_printf(b, " %s %u %u %" PRId64, format_names[n->format],
		   n->flags & NODE_FLAGS, n->verno, n->tstamp);
	buf_field(b, n->type, n->type != NULL ? strlen(n->type) : 0);
	buf_field(b, n->acl, n->acl != NULL ? strlen(n->acl) : 0);
	buf_field(b, n->title, n->title != NULL ? strlen(n->title) : 0);
	buf_field(b, n->value, n->len);
	buf_put(b, "\n", 1);
	for (c = n->first; c != NULL; c = c->next) {
		nl = strlen(c->name);
		if (ulen + 1 + nl > DM_TREE_MAX_URI) {	/* kept by add/rename */
			b->oom = true;
			return;
		}
		uri[ulen] = '/';
		memcpy(uri + ulen + 1, c->name, nl);
		ser_node(b, c, uri, ulen + 1 + nl);
	}
}

static void
hex_lower(char *out, const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xF];
	}
	out[2 * len] = '\0';
}

static int
sha256_hex(const uint8_t *p, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned mdlen = 0;

	if (EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md))
		return -EIO;
	hex_lower(out, md, sizeof(md));
	return 0;
}

int
dm_tree_serialize(const struct dm_tree *t, uint8_t **out, size_t *len)
{
	char uri[DM_TREE_MAX_URI + 1] = ".";
	struct buf b = { 0 };
	char hex[65];

	buf_put(&b, FILE_MAGIC, strlen(FILE_MAGIC));
	ser_node(&b, t->root, uri, 1);
	buf_printf(&b, "end %zu\n", t->nodes);
	if (!b.oom && sha256_hex(b.p, b.len, hex) < 0)
		b.oom = true;
	if (!b.oom)
		buf_printf(&b, "sha256 %s\n", hex);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* ---- loading ---- */

struct cur {
	const uint8_t *base, *p;
	size_t left;
	const char *why;
};

static bool
cur_fail(struct cur *c, const char *why)
{
	if (c->why == NULL)
		c->why = why;
	return false;
}

static bool
cur_lit(struct cur *c, const char *s)
{
	size_t len = strlen(s);

	if (c->left < len || memcmp(c->p, s, len) != 0)
		return cur_fail(c, "unexpected text");
	c->p += len;
	c->left -= len;
	return true;
}

/* A canonical decimal number <= max, then the byte term. */
static bool
cur_num(struct cur *c, uint64_t max, uint64_t *v, char term)
{
	uint64_t x = 0, d;
	size_t i;

	for (i = 0; i < c->left && c->p[i] >= '0' && c->p[i] <= '9'; i++) {
		if (i == 1 && c->p[0] == '0')
			return cur_fail(c, "number with a leading zero");
		d = (uint64_t)(c->p[i] - '0');
		if (d > max || x > (max - d) / 10)
			return cur_fail(c, "number out of range");
		x = x * 10 + d;
	}
	if (i == 0 || i == c->left || c->p[i] != (uint8_t)term)
		return cur_fail(c, "malformed number");
	c->p += i + 1;
	c->left -= i + 1;
	*v = x;
	return true;
}

/* "<n>:<bytes>" with n <= max, then the byte term. */
static bool
cur_field(struct cur *c, size_t max, const uint8_t **p, size_t *len, char term)
{
	uint64_t n;

	if (!cur_num(c, max, &n, ':'))
		return false;
	if (c->left < n + 1 || c->p[n] != (uint8_t)term)
		return cur_fail(c, "field runs past its end");
	*p = c->p;
	*len = (size_t)n;
	c->p += n + 1;
	c->left -= (size_t)n + 1;
	return true;
}

/* A text field: no NUL, copied into buf (cap > max). */
static bool
cur_text(struct cur *c, size_t max, char *buf, char term)
{
	const uint8_t *p;
	size_t len;

	if (!cur_field(c, max, &p, &len, term))
		return false;
	if (len > 0 && memchr(p, '\0', len) != NULL)
		return cur_fail(c, "NUL in a text field");
	memcpy(buf, p, len);
	buf[len] = '\0';
	return true;
}

static bool
load_node(struct dm_tree *t, struct cur *c)
{
	char uri[DM_TREE_MAX_URI + 1], fmt[8], type[DM_TREE_MAX_TYPE + 1];
	char acl[DM_TREE_MAX_ACL + 1], title[DM_TREE_MAX_TITLE + 1];
	uint64_t flags, verno, tstamp;
	enum dm_tree_format format;
	const uint8_t *value;
	struct dm_node *n;
	struct path pa;
	size_t i, len;

	if (!cur_lit(c, "node ") || !cur_text(c, DM_TREE_MAX_URI, uri, ' '))
		return false;
	for (i = 0; i < sizeof(fmt) - 1 && i < c->left && c->p[i] != ' '; i++)
		fmt[i] = (char)c->p[i];
	fmt[i] = '\0';
	if (i == c->left || c->p[i] != ' ' || dm_tree_format_parse(fmt, &format) < 0)
		return cur_fail(c, "unknown format");
	c->p += i + 1;
	c->left -= i + 1;
	if (!cur_num(c, NODE_FLAGS, &flags, ' ') ||
	    !cur_num(c, VERNO_MAX, &verno, ' ') ||
	    !cur_num(c, (uint64_t)TSTAMP_MAX, &tstamp, ' ') ||
	    !cur_text(c, DM_TREE_MAX_TYPE, type, ' ') ||
	    !cur_text(c, DM_TREE_MAX_ACL, acl, ' ') ||
	    !cur_text(c, DM_TREE_MAX_TITLE, title, ' ') ||
	    !cur_field(c, t->max_value, &value, &len, '\n'))
		return false;
	if (type_check(type) != DM_TREE_OK || text_check(title, DM_TREE_MAX_TITLE) != DM_TREE_OK)
		return cur_fail(c, "bad type or title");
	if (!acl_valid(acl))
		return cur_fail(c, "bad ACL");
	if (value_check(format, value, len) != DM_TREE_OK)
		return cur_fail(c, "value does not match its format");
	if (path_parse(uri, &pa) != DM_TREE_OK)
		return cur_fail(c, "bad URI");
	if (t->root == NULL) {
		if (pa.n != 0 || format != DM_TREE_FMT_NODE || acl[0] == '\0')
			return cur_fail(c, "the first node is not the root");
		if ((n = node_new(".", 1)) == NULL)
			return cur_fail(c, "out of memory");
		t->root = n;
		t->nodes = 1;
	} else {
		struct dm_node *parent;

		if (pa.n == 0)
			return cur_fail(c, "root twice");
		parent = path_find(t, &pa, pa.n - 1);
		if (parent == NULL || parent->format != DM_TREE_FMT_NODE)
			return cur_fail(c, "node without an interior parent");
		if (child_find(parent, pa.s[pa.n - 1].p, pa.s[pa.n - 1].len) != NULL)
			return cur_fail(c, "node twice");
		if (t->nodes >= t->max_nodes)
			return cur_fail(c, "too many nodes");
		if ((n = node_new(pa.s[pa.n - 1].p, pa.s[pa.n - 1].len)) == NULL)
			return cur_fail(c, "out of memory");
		node_append(parent, n);
		t->nodes++;
	}
	n->format = format;
	n->flags = (unsigned)flags;
	n->verno = (unsigned)verno;
	n->tstamp = (int64_t)tstamp;
	if (set_str(&n->type, type) < 0 || set_str(&n->acl, acl) < 0 ||
	    set_str(&n->title, title) < 0 || set_value(n, value, len) < 0)
		return cur_fail(c, "out of memory");
	return true;
}

/* Parse a whole file into t (empty); false with c->why set. */
static bool
load_parse(struct dm_tree *t, struct cur *c)
{
	const uint8_t *end;
	char want[65], have[65];
	uint64_t count;

	if (c->left < strlen(FILE_MAGIC) + SHA_LINE_LEN)
		return cur_fail(c, "file too short");
	if (memcmp(c->p, FILE_MAGIC, strlen(FILE_MAGIC)) != 0)
		return cur_fail(c, memcmp(c->p, "dmscgw-tree ", 12) == 0 ?
				"unsupported format version" :
				"not a dmscgw tree file");
	cur_lit(c, FILE_MAGIC);
	/* The last line is the checksum of everything before it. */
	end = c->p + c->left - SHA_LINE_LEN;
	if (memcmp(end, "sha256 ", 7) != 0 || end[SHA_LINE_LEN - 1] != '\n')
		return cur_fail(c, "no checksum line");
	memcpy(have, end + 7, 64);
	have[64] = '\0';
	if (sha256_hex(c->base, (size_t)(end - c->base), want) < 0)
		return cur_fail(c, "cannot compute SHA-256");
	if (strcmp(want, have) != 0)
		return cur_fail(c, "checksum mismatch");
	c->left -= SHA_LINE_LEN;
	while (c->left > 0 && c->p[0] == 'n')
		if (!load_node(t, c))
			return false;
	if (t->root == NULL)
		return cur_fail(c, "no root node");
	if (!cur_lit(c, "end ") || !cur_num(c, SIZE_MAX, &count, '\n'))
		return false;
	if (count != t->nodes)
		return cur_fail(c, "node count mismatch");
	if (c->left != 0)
		return cur_fail(c, "data after the end line");
	return true;
}

/*
 * Move a corrupt file to "<path>.corrupt-<time>" without ever replacing an
 * earlier one (link() does not overwrite).
 */
static int
move_aside(const char *path, char *aside, size_t cap)
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

static int
read_file(int fd, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *p;
	size_t got = 0;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > FILE_MAX)
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

int
dm_tree_load(const struct dm_tree_config *cfg, const char *path,
	     struct dm_tree **out, char *err, size_t errlen)
{
	struct dm_tree *t;
	uint8_t *data = NULL;
	size_t len = 0;
	struct cur c;
	char aside[4096];
	int fd, r;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		if ((*out = dm_tree_new(cfg)) == NULL)
			return -ENOMEM;
		errbuf_set(err, errlen, "%s: no such file, starting with a new tree",
			path);
		return DM_TREE_FRESH;
	}
	if (fd < 0) {
		r = -errno;
		errbuf_set(err, errlen, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	r = read_file(fd, &data, &len);
	close(fd);
	if (r < 0 && r != -EFBIG) {
		errbuf_set(err, errlen, "%s: cannot read: %s", path, strerror(-r));
		return r;
	}
	if ((t = tree_alloc(cfg)) == NULL) {
		free(data);
		return -ENOMEM;
	}
	c = (struct cur){ .base = data, .p = data, .left = len };
	if (r == -EFBIG)
		cur_fail(&c, "file too large");
	else if (load_parse(t, &c) && std_objects(t, cfg) != DM_TREE_OK)
		cur_fail(&c, "standard objects do not fit the stored tree");
	free(data);
	if (c.why == NULL) {
		*out = t;
		return DM_TREE_LOADED;
	}
	dm_tree_free(t);
	if ((r = move_aside(path, aside, sizeof(aside))) < 0) {
		errbuf_set(err, errlen, "%s: corrupt (%s) and cannot be moved aside: %s",
			path, c.why, strerror(-r));
		return r;
	}
	if ((*out = dm_tree_new(cfg)) == NULL)
		return -ENOMEM;
	errbuf_set(err, errlen, "%s: corrupt (%s at byte %zu); kept as %s", path,
		c.why, (size_t)(c.p - c.base), aside);
	return DM_TREE_CORRUPT;
}

/* ---- saving ---- */

__attribute__((weak)) void
dm_tree_save_hook(enum dm_tree_save_step step)
{
	(void)step;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
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

	if ((tmp = str_fmt("%s.tmp", path)) == NULL)
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
	if ((r = write_all(fd, data, half)) == 0) {
		dm_tree_save_hook(DM_TREE_SAVE_PARTIAL);
		r = write_all(fd, data + half, len - half);
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
