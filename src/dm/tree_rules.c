/* SPDX-License-Identifier: MIT */
/*
 * The management tree's rules on what it holds: node names and URIs
 * (DM_TND 6, DM_RepPro 6.1), ACLs (DM_TND 7.7.1) and values by format.
 * Shared by tree.c, account.c and tree_file.c through tree_int.h: a value
 * loaded from the file passes the same checks as one a server sends.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dm/tree.h"
#include "dm/tree_int.h"

/* ---- URIs (DM_TND 6, DM_RepPro 6.1) ---- */


/* A node name: printable ASCII but '/' and '?', not "." or "..". */
int
tree_name_check(const char *p, size_t len)
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
int
tree_path_parse(const char *uri, struct path *pa)
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
		if ((st = tree_name_check(p, seglen)) != DM_TREE_OK)
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
struct dm_node *
tree_path_find(const struct dm_tree *t, const struct path *pa, size_t depth)
{
	struct dm_node *n = t->root;

	for (size_t i = 0; i < depth && n != NULL; i++)
		n = tree_child_find(n, pa->s[i].p, pa->s[i].len);
	return n;
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

bool
tree_server_id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!server_id_char(s[i]) || i >= DM_TREE_MAX_ACL)
			return false;
	return i > 0;
}

/* The grammar of DM_TND 7.7.1.5; "" (no value) is valid. */
bool
tree_acl_valid(const char *acl)
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
bool
tree_acl_grants(const char *acl, const char *cmd, const char *server)
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
bool
tree_permitted(const struct dm_node *n, const char *cmd, const char *server)
{
	if (server == NULL)
		return true;
	if (!tree_server_id_valid(server))
		return false;
	while (n != NULL && n->acl == NULL)
		n = n->parent;
	return n != NULL && tree_acl_grants(n->acl, cmd, server);
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
int
tree_value_check(enum dm_tree_format f, const uint8_t *v, size_t len)
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
int
tree_type_check(const char *type)
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

int
tree_text_check(const char *s, size_t max)
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
