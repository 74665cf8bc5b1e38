/* SPDX-License-Identifier: MIT */
/*
 * Internal to the management tree: what tree.c (nodes, ACLs, Atomic),
 * account.c (the DMAcc helpers) and tree_file.c (the file format) share.
 * Nothing else includes this; everyone else goes through tree.h.
 */
#ifndef DMSCGW_DM_TREE_INT_H
#define DMSCGW_DM_TREE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/tree.h"

#define NODE_PERMANENT	0x1u	/* standard object: no Delete, no rename */
#define NODE_SECRET	0x2u	/* masked by dm_tree_get_for_display */
#define NODE_FLAGS	(NODE_PERMANENT | NODE_SECRET)

#define VERNO_MAX	0xFFFFu	/* DM_TND 7.7.10: VerNo wraps at 65535 */
#define TSTAMP_MAX	INT64_C(253402300799)	/* 9999-12-31T23:59:59Z */

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

/* A parsed URI: segments point into the string parsed. */
struct seg {
	const char *p;
	size_t len;
};

struct path {
	struct seg s[DM_TREE_MAX_DEPTH];
	size_t n;
};

/* ---- strings and nodes ---- */
char *tree_str_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Replace *dst by a copy of s ("" stores NULL); -ENOMEM. */
int tree_set_str(char **dst, const char *s);
int tree_set_value(struct dm_node *n, const uint8_t *v, size_t len);
struct dm_node *tree_node_new(const char *name, size_t len);
/* Free n and its subtree; returns how many nodes that was. */
size_t tree_node_free(struct dm_node *n);
void tree_node_append(struct dm_node *parent, struct dm_node *n);
void tree_node_unlink(struct dm_node *n);
/* A change: VerNo and TStamp of n (DM_TND 7.7.10, 7.7.11). */
void tree_node_touch(struct dm_node *n);
struct dm_node *tree_child_find(const struct dm_node *n, const char *name,
				size_t len);

/* ---- tree_rules.c: URIs, ACLs, values; DM_TREE_OK or the status ---- */
int tree_name_check(const char *p, size_t len);
int tree_path_parse(const char *uri, struct path *pa);
/* The node at pa's first depth segments, NULL if absent. */
struct dm_node *tree_path_find(const struct dm_tree *t, const struct path *pa,
			       size_t depth);
bool tree_server_id_valid(const char *s);
bool tree_acl_valid(const char *acl);
/* Whether acl grants cmd to server (DM_TND 7.7.1; "*" is anyone). */
bool tree_acl_grants(const char *acl, const char *cmd, const char *server);
/* cmd on n by server (NULL: the device), the nearest non-empty ACL deciding. */
bool tree_permitted(const struct dm_node *n, const char *cmd,
		    const char *server);
int tree_value_check(enum dm_tree_format f, const uint8_t *v, size_t len);
int tree_type_check(const char *type);
int tree_text_check(const char *s, size_t max);

/* ---- the tree ---- */
/* An empty tree (no root) with cfg's bounds. */
struct dm_tree *tree_alloc(const struct dm_tree_config *cfg);
/* Add the standard objects cfg asks for where they are missing. */
int tree_std_objects(struct dm_tree *t, const struct dm_tree_config *c);
/* Add a node under parent, as the device (no ACL check). */
int tree_add_node(struct dm_tree *t, struct dm_node *parent, const char *name,
		  size_t nlen, enum dm_tree_format format, const char *type,
		  const uint8_t *value, size_t len, struct dm_node **out);
/* Add the node at uri, as the device; its parent must exist. */
int tree_add_local(struct dm_tree *t, const char *uri,
		   enum dm_tree_format format, const char *value,
		   struct dm_node **out);

#endif
