/* SPDX-License-Identifier: MIT */
/*
 * The OMA DM 1.2 management tree: nodes, properties, ACLs and Atomic
 * (OMA-TS-DM_TND-V1_2, OMA-TS-DM_StdObj-V1_2, DM_RepPro 6.6).  The DMAcc
 * helpers are in account.c, the file format and its crash-safe writing in
 * tree_file.c; the three share tree_int.h.
 *
 * Atomic is a snapshot of the whole tree taken at begin and swapped back on
 * rollback.  A tree is a few hundred small nodes, so the copy is cheap, and
 * unlike an undo journal it cannot forget a kind of change.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dm/tree.h"
#include "dm/tree_int.h"

#define SECRET_MASK	"********"

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


/* A malloc'd formatted string, NULL when out of memory. */
char *
tree_str_fmt(const char *fmt, ...)
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
int
tree_set_str(char **dst, const char *s)
{
	char *c = NULL;

	if (s != NULL && *s != '\0' && (c = strdup(s)) == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

/* Copy first, then free: v may point into the node's own value. */
int
tree_set_value(struct dm_node *n, const uint8_t *v, size_t len)
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

struct dm_node *
tree_node_new(const char *name, size_t len)
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
size_t
tree_node_free(struct dm_node *n)
{
	struct dm_node *c, *next;
	size_t count = 1;

	if (n == NULL)
		return 0;
	for (c = n->first; c != NULL; c = next) {
		next = c->next;
		count += tree_node_free(c);
	}
	free(n->name);
	free(n->type);
	free(n->acl);
	free(n->title);
	free(n->value);
	free(n);
	return count;
}

void
tree_node_append(struct dm_node *parent, struct dm_node *n)
{
	n->parent = parent;
	if (parent->last != NULL)
		parent->last->next = n;
	else
		parent->first = n;
	parent->last = n;
}

void
tree_node_unlink(struct dm_node *n)
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

	if ((c = tree_node_new(n->name, strlen(n->name))) == NULL)
		return NULL;
	c->format = n->format;
	c->tstamp = n->tstamp;
	c->verno = n->verno;
	c->flags = n->flags;
	c->exec = n->exec;
	c->exec_arg = n->exec_arg;
	if (tree_set_str(&c->type, n->type) < 0 || tree_set_str(&c->acl, n->acl) < 0 ||
	    tree_set_str(&c->title, n->title) < 0 ||
	    tree_set_value(c, n->value, n->len) < 0)
		goto fail;
	for (k = n->first; k != NULL; k = k->next) {
		if ((cc = node_clone(k)) == NULL)
			goto fail;
		tree_node_append(c, cc);
	}
	return c;
fail:
	tree_node_free(c);
	return NULL;
}

struct dm_node *
tree_child_find(const struct dm_node *n, const char *name, size_t len)
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
void
tree_node_touch(struct dm_node *n)
{
	int64_t now = (int64_t)time(NULL);

	if (now < 0 || now > TSTAMP_MAX)
		now = 0;
	for (; n != NULL; n = n->parent) {
		n->verno = (n->verno + 1) & VERNO_MAX;
		n->tstamp = now;
	}
}

static int
lookup(const struct dm_tree *t, const char *uri, struct dm_node **out)
{
	struct path pa;
	int st;

	if ((st = tree_path_parse(uri, &pa)) != DM_TREE_OK)
		return st;
	if ((*out = tree_path_find(t, &pa, pa.n)) == NULL)
		return DM_TREE_NOT_FOUND;
	return DM_TREE_OK;
}

/* ---- tree ---- */

struct dm_tree *
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
	tree_node_free(t->root);
	tree_node_free(t->snap);
	free(t->scratch);
	free(t);
}

/*
 * Create a child without ACL checks (device-side).  Returns the status, with
 * the node in *out when non-NULL.
 */
int
tree_add_node(struct dm_tree *t, struct dm_node *parent, const char *name,
	      size_t nlen, enum dm_tree_format format, const char *type,
	      const uint8_t *value, size_t len, struct dm_node **out)
{
	struct dm_node *n;
	int st;

	if (parent->format != DM_TREE_FMT_NODE)
		return DM_TREE_NOT_ALLOWED;
	if (tree_child_find(parent, name, nlen) != NULL)
		return DM_TREE_EXISTS;
	if ((st = tree_value_check(format, value, len)) != DM_TREE_OK)
		return st;
	if ((st = tree_type_check(type)) != DM_TREE_OK)
		return st;
	if (len > t->max_value)
		return DM_TREE_TOO_LARGE;
	if (uri_len(parent) + 1 + nlen > DM_TREE_MAX_URI)
		return DM_TREE_URI_TOO_LONG;
	if (t->nodes >= t->max_nodes)
		return DM_TREE_DEVICE_FULL;
	if ((n = tree_node_new(name, nlen)) == NULL)
		return DM_TREE_FAILED;
	n->format = format;
	if (tree_set_str(&n->type, type) < 0 || tree_set_value(n, value, len) < 0) {
		tree_node_free(n);
		return DM_TREE_FAILED;
	}
	/* DMAcc secrets, wherever a server puts an account. */
	if (strcmp(n->name, "AAuthSecret") == 0)
		n->flags |= NODE_SECRET;
	tree_node_append(parent, n);
	t->nodes++;
	tree_node_touch(n);
	if (out != NULL)
		*out = n;
	return DM_TREE_OK;
}

/* Device-side add by URI (parent must exist); value is a C string. */
int
tree_add_local(struct dm_tree *t, const char *uri, enum dm_tree_format format,
	       const char *value, struct dm_node **out)
{
	struct dm_node *parent;
	struct path pa;
	int st;

	if ((st = tree_path_parse(uri, &pa)) != DM_TREE_OK)
		return st;
	if (pa.n == 0)
		return DM_TREE_EXISTS;
	if ((parent = tree_path_find(t, &pa, pa.n - 1)) == NULL)
		return DM_TREE_NOT_FOUND;
	if (value == NULL)
		value = "";
	return tree_add_node(t, parent, pa.s[pa.n - 1].p, pa.s[pa.n - 1].len,
			format, NULL, (const uint8_t *)value, strlen(value), out);
}

/*
 * Make sure the standard objects exist (DM_StdObj 5) and hold the device's
 * values.  Interior nodes keep whatever ACL they have once they exist.
 */
int
tree_std_objects(struct dm_tree *t, const struct dm_tree_config *c)
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
			st = tree_add_local(t, std[i].uri, std[i].format,
				       std[i].format == DM_TREE_FMT_NODE ? NULL : v,
				       &n);
			if (st == DM_TREE_OK && tree_set_str(&n->acl, std[i].acl) < 0)
				st = DM_TREE_FAILED;
		} else if (st == DM_TREE_OK && n->format != std[i].format) {
			st = DM_TREE_FAILED;	/* a file cannot change these */
		} else if (st == DM_TREE_OK && std[i].format != DM_TREE_FMT_NODE &&
			   (n->len != vlen ||
			    (vlen && memcmp(n->value, v, vlen) != 0))) {
			if (tree_set_value(n, (const uint8_t *)v, vlen) < 0)
				st = DM_TREE_FAILED;
			else
				tree_node_touch(n);
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

	if (!tree_acl_valid(acl) || *acl == '\0')
		return NULL;
	if ((t = tree_alloc(cfg)) == NULL)
		return NULL;
	if ((t->root = tree_node_new(".", 1)) == NULL || tree_set_str(&t->root->acl, acl) < 0)
		goto fail;
	t->root->flags = NODE_PERMANENT;
	t->nodes = 1;
	tree_node_touch(t->root);
	if (tree_std_objects(t, cfg) != DM_TREE_OK)
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

/*
 * DM_StdObj 1.2 5.3.4: the Inbox is where servers drop whole objects for
 * the device to place (dm/inbox.c); a server's Get there is 405, and
 * nothing is ever added under it as it is.
 */
static bool
in_inbox(const char *uri)
{
	if (strncmp(uri, "./", 2) == 0)
		uri += 2;
	return strncmp(uri, "Inbox", 5) == 0 && (uri[5] == '\0' || uri[5] == '/');
}

static int
get_common(struct dm_tree *t, const char *server, const char *uri,
	   struct dm_tree_value *out, bool mask)
{
	struct dm_node *n;
	size_t len;
	char *list;
	int st;

	if (server != NULL && uri != NULL && in_inbox(uri))
		return DM_TREE_NOT_ALLOWED;
	if ((st = lookup(t, uri, &n)) != DM_TREE_OK)
		return st;
	if (!tree_permitted(n, "Get", server))
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
	if (!tree_permitted(n, "Get", server))
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

	if ((st = tree_path_parse(uri, &pa)) != DM_TREE_OK)
		return st;
	if (pa.n == 0)
		return DM_TREE_EXISTS;
	if (server != NULL && pa.n > 1 && in_inbox(uri))
		return DM_TREE_NOT_ALLOWED;	/* placed by dm/inbox.c */
	if ((parent = tree_path_find(t, &pa, pa.n - 1)) == NULL)
		return DM_TREE_NOT_FOUND;
	if (parent->format != DM_TREE_FMT_NODE)
		return DM_TREE_NOT_ALLOWED;
	if (!tree_permitted(parent, "Add", server))
		return DM_TREE_PERMISSION;
	st = tree_add_node(t, parent, pa.s[pa.n - 1].p, pa.s[pa.n - 1].len, format,
		      type, value, len, &n);
	if (st != DM_TREE_OK || server == NULL || tree_permitted(parent, "Replace", server))
		return st;
	/*
	 * DM_TND 7.7.1.4: a server that could not set the new node's ACL
	 * through the parent gets full rights on what it added; and Exec, as
	 * it inherited, below a node an Exec agent serves (agents.h).
	 */
	acl = tree_permitted(parent, "Exec", server) ?
	      tree_str_fmt("Add=%s&Delete=%s&Exec=%s&Get=%s&Replace=%s", server,
			   server, server, server, server) :
	      tree_str_fmt("Add=%s&Delete=%s&Get=%s&Replace=%s", server, server,
			   server, server);
	if (acl == NULL) {
		tree_node_unlink(n);
		t->nodes -= tree_node_free(n);
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
	if (!tree_permitted(n, "Replace", server))
		return DM_TREE_PERMISSION;
	if (n->format == DM_TREE_FMT_NODE || format == DM_TREE_FMT_NODE)
		return DM_TREE_NOT_ALLOWED;
	if ((st = tree_value_check(format, value, len)) != DM_TREE_OK)
		return st;
	if ((st = tree_type_check(type)) != DM_TREE_OK)
		return st;
	if (len > t->max_value)
		return DM_TREE_TOO_LARGE;
	if (tree_set_value(n, value, len) < 0 ||
	    (type != NULL && tree_set_str(&n->type, type) < 0))
		return DM_TREE_FAILED;
	n->format = format;
	tree_node_touch(n);
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
	if (!tree_permitted(n, "Delete", server))
		return DM_TREE_PERMISSION;
	if (subtree_has_flag(n, NODE_PERMANENT))
		return DM_TREE_NOT_ALLOWED;
	parent = n->parent;
	tree_node_unlink(n);
	t->nodes -= tree_node_free(n);
	tree_node_touch(parent);
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
	if (!tree_permitted(src, "Get", server))
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
dm_tree_exec_check(struct dm_tree *t, const char *server, const char *uri)
{
	struct dm_node *n;
	int st;

	if ((st = lookup(t, uri, &n)) != DM_TREE_OK)
		return st;
	return tree_permitted(n, "Exec", server) ? DM_TREE_OK
						 : DM_TREE_PERMISSION;
}

int
dm_tree_exec(struct dm_tree *t, const char *server, const char *uri,
	     const uint8_t *data, size_t len)
{
	struct dm_node *n;
	int st;

	if ((st = dm_tree_exec_check(t, server, uri)) != DM_TREE_OK)
		return st;
	(void)lookup(t, uri, &n);
	if (n->exec == NULL)
		return DM_TREE_NOT_SUPPORTED;
	return n->exec(t, server, uri, data, len, n->exec_arg);
}

int
dm_tree_make_executable(struct dm_tree *t, const char *uri, bool interior,
			bool *changed)
{
	struct dm_node *n = t->root, *k;
	struct path pa;
	char *acl;
	size_t i;
	int st;

	*changed = false;
	if ((st = tree_path_parse(uri, &pa)) != DM_TREE_OK)
		return st;
	if (pa.n == 0)
		return DM_TREE_NOT_ALLOWED;
	for (i = 0; i < pa.n; i++, n = k) {
		if ((k = tree_child_find(n, pa.s[i].p, pa.s[i].len)) != NULL)
			continue;
		/* missing: interior nodes down to a leaf without a value */
		st = tree_add_node(t, n, pa.s[i].p, pa.s[i].len,
				   i + 1 < pa.n || interior ?
				   DM_TREE_FMT_NODE : DM_TREE_FMT_NULL,
				   NULL, NULL, 0, &k);
		if (st != DM_TREE_OK)
			return st;
		*changed = true;
	}
	/* DM_TND 7.7.1: the node's own ACL, else the one it inherits */
	for (k = n; k != NULL && k->acl == NULL; k = k->parent)
		;
	if (k != NULL && tree_acl_grants(k->acl, "Exec", "*"))
		return DM_TREE_OK;
	acl = tree_str_fmt("%s%sExec=*", k != NULL ? k->acl : "",
			   k != NULL ? "&" : "");
	if (acl == NULL)
		return DM_TREE_FAILED;
	if (!tree_acl_valid(acl)) {
		free(acl);
		return DM_TREE_TOO_LARGE;
	}
	free(n->acl);
	n->acl = acl;
	tree_node_touch(n);
	*changed = true;
	return DM_TREE_OK;
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
	if (!tree_permitted(n, "Get", server))
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
	return tree_acl_grants(acl, "Add", "*");
}

static int
replace_acl(struct dm_node *n, const char *server, const char *value)
{
	/*
	 * DM_TND 7.7.1.3: Replace on the parent always allows it; an interior
	 * node's own ACL also governs its ACL, a leaf's does not.
	 */
	if (!(n->parent != NULL && tree_permitted(n->parent, "Replace", server)) &&
	    !(n->format == DM_TREE_FMT_NODE && tree_permitted(n, "Replace", server)))
		return DM_TREE_PERMISSION;
	if (strlen(value) > DM_TREE_MAX_ACL)
		return DM_TREE_TOO_LARGE;
	if (!tree_acl_valid(value))
		return DM_TREE_BAD_REQUEST;
	if (n->parent == NULL && !root_acl_ok(value))
		return DM_TREE_NOT_ALLOWED;
	return tree_set_str(&n->acl, value) < 0 ? DM_TREE_FAILED : DM_TREE_OK;
}

static int
replace_name(struct dm_node *n, const char *server, const char *value)
{
	size_t len = strlen(value);
	char *c;
	int st;

	if (!tree_permitted(n, "Replace", server))
		return DM_TREE_PERMISSION;
	if (n->parent == NULL || (n->flags & NODE_PERMANENT))
		return DM_TREE_NOT_ALLOWED;
	if ((st = tree_name_check(value, len)) != DM_TREE_OK)
		return st;
	if (strcmp(n->name, value) == 0)
		return DM_TREE_OK;
	if (tree_child_find(n->parent, value, len) != NULL)
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
		if (!tree_permitted(n, "Replace", server))
			return DM_TREE_PERMISSION;
		if ((st = tree_text_check(value, DM_TREE_MAX_TITLE)) == DM_TREE_OK &&
		    tree_set_str(&n->title, value) < 0)
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
		tree_node_touch(n);
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
	tree_node_free(t->snap);
	t->snap = NULL;
	return DM_TREE_OK;
}

int
dm_tree_atomic_rollback(struct dm_tree *t)
{
	if (t->snap == NULL)
		return DM_TREE_FAILED;
	tree_node_free(t->root);
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
