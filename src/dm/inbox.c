/* SPDX-License-Identifier: MIT */
/*
 * The Inbox (see inbox.h).  The rules, by clause:
 *  - DM_StdObj 1.2 5.3.4: an object added under ./Inbox is placed by its
 *    management object identifier, the Type property of the interior node
 *    the server adds; where it lands is the standard place of that object
 *    (DMAcc: ./DMAcc/<x>, DM_StdObj 5.3.1).  The name the server gave is
 *    kept: ./Inbox/<x> becomes ./DMAcc/<x>.
 *  - The ACL of the destination decides (DM_TND 7.7.1): the Inbox does not
 *    let a server add what it could not add where the object lands, so
 *    "Add=*" on ./Inbox gives no right over ./DMAcc.
 *  - Statuses (DM_RepPro 1.2 clause 10), our interoperable choices where
 *    the Inbox clause names none: an identifier the device does not place
 *    is 406 Optional feature not supported (supporting a management object
 *    is optional); a root without a Type is 400 Bad request (the request
 *    lacks what the Inbox needs to act); a leaf as an object's root (a
 *    TNDS document, DM 1.3) is 406 as well.  An object whose name is taken
 *    where it lands is 418 Already exists, as a direct Add would be.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/inbox.h"
#include "log.h"

#define INBOX_PLACED_MAX	32	/* objects remembered per session */

/* Where DM_StdObj places the objects the Inbox takes, by identifier. */
static const struct placement {
	const char *moi;
	const char *parent;
} placements[] = {
	/* DM_StdObj 1.2 5.3.1: the DMAcc object, application w7 */
	{ "org.openmobilealliance/1.0/w7", "./DMAcc" },
	/* the same object by its URN (DM_StdObj 1.3) */
	{ "urn:oma:mo:oma-dm-dmacc:1.0", "./DMAcc" },
};

struct placed {
	char name[DM_TREE_MAX_SEG + 1];
	const char *parent;
};

struct dm_inbox {
	struct placed v[INBOX_PLACED_MAX];
	size_t n, next;		/* a ring: the oldest goes first */
};

struct dm_inbox *dm_inbox_new(void)
{
	return calloc(1, sizeof(struct dm_inbox));
}

void dm_inbox_free(struct dm_inbox *ib)
{
	free(ib);
}

/* What follows "./Inbox/" (or "Inbox/") in uri; NULL when not below it. */
static const char *below_inbox(const char *uri)
{
	if (!strncmp(uri, "./", 2))
		uri += 2;
	if (strncmp(uri, "Inbox/", 6))
		return NULL;
	return uri + 6;
}

static const struct placement *placement_of(const char *type)
{
	for (size_t i = 0; i < sizeof(placements) / sizeof(placements[0]); i++)
		if (!strcmp(placements[i].moi, type))
			return &placements[i];
	return NULL;
}

static const struct placed *find(const struct dm_inbox *ib, const char *name,
				 size_t len)
{
	for (size_t i = 0; i < ib->n; i++)
		if (strlen(ib->v[i].name) == len &&
		    !memcmp(ib->v[i].name, name, len))
			return &ib->v[i];
	return NULL;
}

static void remember(struct dm_inbox *ib, const char *name, size_t len,
		     const char *parent)
{
	struct placed *p = (struct placed *)find(ib, name, len);

	if (!p) {
		p = &ib->v[ib->next];
		ib->next = (ib->next + 1) % INBOX_PLACED_MAX;
		if (ib->n < INBOX_PLACED_MAX)
			ib->n++;
	}
	snprintf(p->name, sizeof(p->name), "%.*s", (int)len, name);
	p->parent = parent;
}

/* A server's text for the log: printable ASCII, bounded. */
static const char *printable(const char *in, char *out, size_t cap)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < cap; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
	return out;
}

/* The root of an object: placed by its Type, or refused. */
static int add_root(struct dm_inbox *ib, struct dm_tree *t, const char *server,
		    const char *log_id, const char *name,
		    enum dm_tree_format format, const char *type,
		    const uint8_t *value, size_t len)
{
	const struct placement *pl;
	char dest[DM_TREE_MAX_URI + 1], shown[101];
	size_t nlen = strlen(name);
	int st;

	if (format != DM_TREE_FMT_NODE) {
		log_info(LOG_DM, "session %s: Inbox: ./Inbox/%s is a leaf, not "
			 "a management object's root: not placed", log_id, name);
		return DM_TREE_NOT_SUPPORTED;
	}
	if (!type || !*type) {
		log_info(LOG_DM, "session %s: Inbox: ./Inbox/%s has no Type "
			 "(management object identifier): not placed", log_id,
			 name);
		return DM_TREE_BAD_REQUEST;
	}
	if (!(pl = placement_of(type))) {
		log_info(LOG_DM, "session %s: Inbox: ./Inbox/%s is a %s, "
			 "which this device does not place", log_id, name,
			 printable(type, shown, sizeof(shown)));
		return DM_TREE_NOT_SUPPORTED;
	}
	if (snprintf(dest, sizeof(dest), "%s/%s", pl->parent, name) >=
	    (int)sizeof(dest))
		return DM_TREE_URI_TOO_LONG;
	st = dm_tree_add(t, server, dest, format, type, value, len);
	if (st != DM_TREE_OK) {
		log_info(LOG_DM, "session %s: Inbox: ./Inbox/%s (%s) not placed "
			 "at %s: %d", log_id, name, type, dest, st);
		return st;
	}
	remember(ib, name, nlen, pl->parent);
	log_info(LOG_DM, "session %s: Inbox: ./Inbox/%s (%s) placed at %s",
		 log_id, name, type, dest);
	return DM_TREE_OK;
}

int dm_inbox_add(struct dm_inbox *ib, struct dm_tree *t, const char *server,
		 const char *log_id, const char *uri,
		 enum dm_tree_format format, const char *type,
		 const uint8_t *value, size_t len)
{
	const char *rel = below_inbox(uri), *slash;
	const struct placed *p;
	char dest[DM_TREE_MAX_URI + 1];
	size_t nlen;

	if (!rel)
		return dm_tree_add(t, server, uri, format, type, value, len);
	slash = strchr(rel, '/');
	nlen = slash ? (size_t)(slash - rel) : strlen(rel);
	if (nlen == 0 || nlen > DM_TREE_MAX_SEG)
		return nlen ? DM_TREE_URI_TOO_LONG : DM_TREE_BAD_REQUEST;
	if (!slash)
		return add_root(ib, t, server, log_id, rel, format, type, value,
				len);
	if (!(p = find(ib, rel, nlen)))
		return DM_TREE_NOT_FOUND;	/* ./Inbox holds nothing */
	if (snprintf(dest, sizeof(dest), "%s/%s%s", p->parent, p->name,
		     slash) >= (int)sizeof(dest))
		return DM_TREE_URI_TOO_LONG;
	return dm_tree_add(t, server, dest, format, type, value, len);
}
