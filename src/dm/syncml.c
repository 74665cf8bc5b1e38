/* SPDX-License-Identifier: MIT */
/*
 * SyncML DM 1.2 message model, the format-agnostic builder both decoders
 * feed, and the format-agnostic half of the encoders (element order,
 * MaxMsgSize splitting).
 *
 * The builder follows the shape of dbus's config-loader: the XML adapter
 * (xml.c) and the WBXML reader (wbxml.c) only turn their input into
 * start/text/opaque/end calls; every rule about what may appear where lives
 * here, once.  The first failure sticks and carries a SyncML status:
 *
 *   - structure (unknown or misplaced element, duplicate, text where none
 *     belongs, a mandatory element missing, a number that is not one): 400;
 *   - a bound of syncml.h exceeded: 413;
 *   - VerDTD other than 1.2: 505 (RepPro 1.2 clause 10.2, "DTD version not
 *     supported"); VerProto other than DM/1.2: 513 ("protocol version not
 *     supported").
 *
 * Element order inside a parent is not enforced (servers in the field do not
 * all follow the DTD's order), except that SyncHdr comes before SyncBody and
 * nothing follows Final.  The encoder always writes the DTD's order.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/syncml.h"

/* ---- arena ------------------------------------------------------------ */

struct syncml_chunk {
	struct syncml_chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char mem[];
};

struct syncml_arena {
	struct syncml_chunk *head;
};

#define ARENA_CHUNK	8192u

static void *
arena_alloc(struct syncml_arena *a, size_t size)
{
	struct syncml_chunk *c = a->head;
	size_t need = (size + 15) & ~(size_t)15, cap;

	if (need < size)
		return NULL;
	if (c == NULL || c->cap - c->used < need) {
		cap = need > ARENA_CHUNK / 2 ? need : ARENA_CHUNK;
		if ((c = malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		c->used = 0;
		c->cap = cap;
		/* A big block gets its own chunk behind the current one. */
		if (need > ARENA_CHUNK / 2 && a->head != NULL) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	c->used += need;
	memset(c->mem + c->used - need, 0, need);
	return c->mem + c->used - need;
}

struct syncml_msg *
syncml_msg_new(void)
{
	struct syncml_msg *msg;

	if ((msg = calloc(1, sizeof(*msg))) == NULL)
		return NULL;
	if ((msg->arena = calloc(1, sizeof(*msg->arena))) == NULL ||
	    (msg->hdr.ver_dtd = syncml_strdup(msg, "1.2")) == NULL ||
	    (msg->hdr.ver_proto = syncml_strdup(msg, "DM/1.2")) == NULL) {
		syncml_msg_free(msg);
		return NULL;
	}
	return msg;
}

void
syncml_msg_free(struct syncml_msg *msg)
{
	struct syncml_chunk *c, *n;

	if (msg == NULL)
		return;
	if (msg->arena != NULL) {
		for (c = msg->arena->head; c != NULL; c = n) {
			n = c->next;
			free(c);
		}
		free(msg->arena);
	}
	free(msg);
}

static char *
arena_strndup(struct syncml_msg *msg, const char *s, size_t len)
{
	char *d;

	if ((d = arena_alloc(msg->arena, len + 1)) == NULL)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *
syncml_strdup(struct syncml_msg *msg, const char *s)
{
	return arena_strndup(msg, s, strlen(s));
}

int
syncml_set_str(struct syncml_msg *msg, char **field, const char *s)
{
	char *d = NULL;

	if (s != NULL && (d = syncml_strdup(msg, s)) == NULL)
		return -ENOMEM;
	*field = d;
	return 0;
}

int
syncml_set_data(struct syncml_msg *msg, struct syncml_data *d, const void *p,
		size_t len, bool opaque)
{
	uint8_t *b;

	if ((b = arena_alloc(msg->arena, len + 1)) == NULL)
		return -ENOMEM;
	if (len > 0)
		memcpy(b, p, len);
	b[len] = '\0';
	d->p = b;
	d->len = len;
	d->opaque = opaque;
	return 0;
}

struct syncml_cmd *
syncml_cmd_add(struct syncml_msg *msg, struct syncml_cmd *parent,
	       enum syncml_cmd_type type, const char *cmd_id)
{
	struct syncml_cmd *c, **pp;

	if (msg->ncmds >= SYNCML_MAX_CMDS)
		return NULL;
	if ((c = arena_alloc(msg->arena, sizeof(*c))) == NULL)
		return NULL;
	c->type = type;
	if (cmd_id != NULL && (c->cmd_id = syncml_strdup(msg, cmd_id)) == NULL)
		return NULL;
	for (pp = parent != NULL ? &parent->children : &msg->cmds; *pp != NULL;
	     pp = &(*pp)->next)
		;
	*pp = c;
	msg->ncmds++;
	return c;
}

struct syncml_item *
syncml_item_add(struct syncml_msg *msg, struct syncml_cmd *cmd)
{
	struct syncml_item *it, **pp;

	if (msg->nitems >= SYNCML_MAX_ITEMS)
		return NULL;
	if ((it = arena_alloc(msg->arena, sizeof(*it))) == NULL)
		return NULL;
	for (pp = &cmd->items; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = it;
	msg->nitems++;
	return it;
}

/* ---- tags --------------------------------------------------------------- */

/*
 * WBXML tokens: SyncML Representation Protocol 1.2 clause 8 (code page 0,
 * public id 0x1201) and MetInf 1.2 (code page 1, public id 0x1202).
 */
const struct syncml_tag_info syncml_tags[SYNCML_T_COUNT] = {
	[SYNCML_T_ADD]		= { "Add", 0, 0x05 },
	[SYNCML_T_ALERT]	= { "Alert", 0, 0x06 },
	[SYNCML_T_ATOMIC]	= { "Atomic", 0, 0x08 },
	[SYNCML_T_CHAL]		= { "Chal", 0, 0x09 },
	[SYNCML_T_CMD]		= { "Cmd", 0, 0x0A },
	[SYNCML_T_CMDID]	= { "CmdID", 0, 0x0B },
	[SYNCML_T_CMDREF]	= { "CmdRef", 0, 0x0C },
	[SYNCML_T_COPY]		= { "Copy", 0, 0x0D },
	[SYNCML_T_CRED]		= { "Cred", 0, 0x0E },
	[SYNCML_T_DATA]		= { "Data", 0, 0x0F },
	[SYNCML_T_DELETE]	= { "Delete", 0, 0x10 },
	[SYNCML_T_EXEC]		= { "Exec", 0, 0x11 },
	[SYNCML_T_FINAL]	= { "Final", 0, 0x12 },
	[SYNCML_T_GET]		= { "Get", 0, 0x13 },
	[SYNCML_T_ITEM]		= { "Item", 0, 0x14 },
	[SYNCML_T_LOCNAME]	= { "LocName", 0, 0x16 },
	[SYNCML_T_LOCURI]	= { "LocURI", 0, 0x17 },
	[SYNCML_T_META]		= { "Meta", 0, 0x1A },
	[SYNCML_T_MSGID]	= { "MsgID", 0, 0x1B },
	[SYNCML_T_MSGREF]	= { "MsgRef", 0, 0x1C },
	[SYNCML_T_NORESP]	= { "NoResp", 0, 0x1D },
	[SYNCML_T_REPLACE]	= { "Replace", 0, 0x20 },
	[SYNCML_T_RESPURI]	= { "RespURI", 0, 0x21 },
	[SYNCML_T_RESULTS]	= { "Results", 0, 0x22 },
	[SYNCML_T_SEQUENCE]	= { "Sequence", 0, 0x24 },
	[SYNCML_T_SESSIONID]	= { "SessionID", 0, 0x25 },
	[SYNCML_T_SOURCE]	= { "Source", 0, 0x27 },
	[SYNCML_T_SOURCEREF]	= { "SourceRef", 0, 0x28 },
	[SYNCML_T_STATUS]	= { "Status", 0, 0x29 },
	[SYNCML_T_SYNCBODY]	= { "SyncBody", 0, 0x2B },
	[SYNCML_T_SYNCHDR]	= { "SyncHdr", 0, 0x2C },
	[SYNCML_T_SYNCML]	= { "SyncML", 0, 0x2D },
	[SYNCML_T_TARGET]	= { "Target", 0, 0x2E },
	[SYNCML_T_TARGETREF]	= { "TargetRef", 0, 0x2F },
	[SYNCML_T_VERDTD]	= { "VerDTD", 0, 0x31 },
	[SYNCML_T_VERPROTO]	= { "VerProto", 0, 0x32 },
	[SYNCML_T_MOREDATA]	= { "MoreData", 0, 0x34 },
	[SYNCML_T_CORRELATOR]	= { "Correlator", 0, 0x3C },
	[SYNCML_T_FORMAT]	= { "Format", 1, 0x07 },
	[SYNCML_T_MARK]		= { "Mark", 1, 0x0B },
	[SYNCML_T_MAXMSGSIZE]	= { "MaxMsgSize", 1, 0x0C },
	[SYNCML_T_NEXTNONCE]	= { "NextNonce", 1, 0x10 },
	[SYNCML_T_SIZE]		= { "Size", 1, 0x12 },
	[SYNCML_T_TYPE]		= { "Type", 1, 0x13 },
	[SYNCML_T_MAXOBJSIZE]	= { "MaxObjSize", 1, 0x15 },
};

enum syncml_tag
syncml_tag_by_name(unsigned page, const char *name)
{
	int t;

	for (t = 1; t < SYNCML_T_COUNT; t++)
		if (syncml_tags[t].page == page &&
		    strcmp(syncml_tags[t].name, name) == 0)
			return (enum syncml_tag)t;
	return SYNCML_T_NONE;
}

enum syncml_tag
syncml_tag_by_token(unsigned page, unsigned token)
{
	int t;

	for (t = 1; t < SYNCML_T_COUNT; t++)
		if (syncml_tags[t].page == page &&
		    syncml_tags[t].token == token)
			return (enum syncml_tag)t;
	return SYNCML_T_NONE;
}

static const struct {
	enum syncml_tag tag;
	enum syncml_cmd_type type;
} cmd_tags[] = {
	{ SYNCML_T_ADD, SYNCML_ADD },
	{ SYNCML_T_ALERT, SYNCML_ALERT },
	{ SYNCML_T_ATOMIC, SYNCML_ATOMIC },
	{ SYNCML_T_COPY, SYNCML_COPY },
	{ SYNCML_T_DELETE, SYNCML_DELETE },
	{ SYNCML_T_EXEC, SYNCML_EXEC },
	{ SYNCML_T_GET, SYNCML_GET },
	{ SYNCML_T_REPLACE, SYNCML_REPLACE },
	{ SYNCML_T_RESULTS, SYNCML_RESULTS },
	{ SYNCML_T_SEQUENCE, SYNCML_SEQUENCE },
	{ SYNCML_T_STATUS, SYNCML_STATUS },
};

#define N_CMD_TAGS	(sizeof(cmd_tags) / sizeof(cmd_tags[0]))

static bool
tag_is_cmd(enum syncml_tag tag, enum syncml_cmd_type *type)
{
	size_t i;

	for (i = 0; i < N_CMD_TAGS; i++)
		if (cmd_tags[i].tag == tag) {
			if (type != NULL)
				*type = cmd_tags[i].type;
			return true;
		}
	return false;
}

static enum syncml_tag
cmd_tag(enum syncml_cmd_type type)
{
	size_t i;

	for (i = 0; i < N_CMD_TAGS; i++)
		if (cmd_tags[i].type == type)
			return cmd_tags[i].tag;
	return SYNCML_T_NONE;
}

const char *
syncml_cmd_name(enum syncml_cmd_type type)
{
	enum syncml_tag t = cmd_tag(type);

	return t != SYNCML_T_NONE ? syncml_tags[t].name : "?";
}

/* Elements whose content is text (or opaque data). */
static bool
tag_is_leaf(enum syncml_tag t)
{
	switch (t) {
	case SYNCML_T_CMD: case SYNCML_T_CMDID: case SYNCML_T_CMDREF:
	case SYNCML_T_DATA: case SYNCML_T_LOCNAME: case SYNCML_T_LOCURI:
	case SYNCML_T_MSGID: case SYNCML_T_MSGREF: case SYNCML_T_RESPURI:
	case SYNCML_T_SESSIONID: case SYNCML_T_SOURCEREF:
	case SYNCML_T_TARGETREF: case SYNCML_T_VERDTD:
	case SYNCML_T_VERPROTO: case SYNCML_T_CORRELATOR:
	case SYNCML_T_FORMAT: case SYNCML_T_MARK: case SYNCML_T_MAXMSGSIZE:
	case SYNCML_T_NEXTNONCE: case SYNCML_T_SIZE: case SYNCML_T_TYPE:
	case SYNCML_T_MAXOBJSIZE:
		return true;
	default:
		return false;
	}
}

/* Elements that must be empty. */
static bool
tag_is_flag(enum syncml_tag t)
{
	return t == SYNCML_T_FINAL || t == SYNCML_T_NORESP ||
	       t == SYNCML_T_MOREDATA;
}

/* ---- builder ------------------------------------------------------------- */

#define BUILDER_STACK	40

struct syncml_frame {
	enum syncml_tag tag;
	uint64_t seen;		/* child tags already met (duplicates) */
	void *obj;		/* what the element fills, by tag */
};

struct syncml_builder {
	struct syncml_error *err;
	bool failed;
	bool done;		/* root closed */
	bool final_seen;
	struct syncml_msg *msg;
	struct syncml_frame stack[BUILDER_STACK];
	size_t depth;
	unsigned nest;		/* open Atomic/Sequence */
	/* text of the open leaf */
	uint8_t *text;
	size_t text_len, text_cap;
	bool text_opaque;
};

void
syncml_builder_fail(struct syncml_builder *b, int status, const char *fmt, ...)
{
	va_list ap;

	if (b->failed)
		return;
	b->failed = true;
	b->err->status = status;
	va_start(ap, fmt);
	vsnprintf(b->err->text, sizeof(b->err->text), fmt, ap);
	va_end(ap);
}

struct syncml_builder *
syncml_builder_new(struct syncml_error *err)
{
	struct syncml_builder *b;

	memset(err, 0, sizeof(*err));
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->err = err;
	if ((b->msg = calloc(1, sizeof(*b->msg))) == NULL ||
	    (b->msg->arena = calloc(1, sizeof(*b->msg->arena))) == NULL) {
		syncml_builder_free(b);
		return NULL;
	}
	return b;
}

void
syncml_builder_free(struct syncml_builder *b)
{
	if (b == NULL)
		return;
	syncml_msg_free(b->msg);
	free(b->text);
	free(b);
}

bool
syncml_builder_failed(const struct syncml_builder *b)
{
	return b->failed;
}

enum syncml_tag
syncml_builder_parent(const struct syncml_builder *b)
{
	return b->depth > 0 ? b->stack[b->depth - 1].tag : SYNCML_T_NONE;
}

size_t
syncml_builder_depth(const struct syncml_builder *b)
{
	return b->depth;
}

static void
oom(struct syncml_builder *b)
{
	syncml_builder_fail(b, 500, "out of memory");
}

static bool
repeatable(enum syncml_tag parent, enum syncml_tag child)
{
	if (child == SYNCML_T_ITEM)
		return true;
	if (tag_is_cmd(child, NULL))
		return parent == SYNCML_T_SYNCBODY ||
		       parent == SYNCML_T_ATOMIC ||
		       parent == SYNCML_T_SEQUENCE;
	return false;
}

/*
 * Which parent an element may have, and what it fills there.  Returns the
 * object for the new frame (or a non-NULL marker for leaves), NULL after
 * failing the builder.
 */
static void *
child_obj(struct syncml_builder *b, struct syncml_frame *pf,
	  enum syncml_tag tag)
{
	struct syncml_msg *msg = b->msg;
	enum syncml_tag pt = pf != NULL ? pf->tag : SYNCML_T_NONE;
	enum syncml_cmd_type type, ptype = SYNCML_ADD;
	struct syncml_cmd *pc = NULL, *c;
	bool pcmd = tag_is_cmd(pt, &ptype);

	if (pcmd)
		pc = pf->obj;

	if (tag == SYNCML_T_SYNCML)
		return pt == SYNCML_T_NONE && !b->done ? (void *)msg : NULL;
	if (pt == SYNCML_T_NONE)
		return NULL;

	if (tag_is_cmd(tag, &type)) {
		if (pt == SYNCML_T_SYNCBODY) {
			c = NULL;
		} else if (pt == SYNCML_T_ATOMIC || pt == SYNCML_T_SEQUENCE) {
			/*
			 * RepPro 1.2 6.6.3/6.6.13: Atomic and Sequence hold
			 * Add, Replace, Delete, Copy, Exec, Alert, Get (DM
			 * Protocol 1.2 6.6.x) and each other, never Status,
			 * Results, or an Atomic in an Atomic.
			 */
			if (type == SYNCML_STATUS || type == SYNCML_RESULTS ||
			    (type == SYNCML_ATOMIC && pt == SYNCML_T_ATOMIC))
				return NULL;
			c = pc;
		} else {
			return NULL;
		}
		if (b->final_seen) {
			syncml_builder_fail(b, 400, "%s after Final",
					    syncml_tags[tag].name);
			return NULL;
		}
		if (type == SYNCML_ATOMIC || type == SYNCML_SEQUENCE) {
			if (b->nest >= SYNCML_MAX_NEST) {
				syncml_builder_fail(b, 413,
						    "nesting deeper than %d",
						    SYNCML_MAX_NEST);
				return NULL;
			}
		}
		if (msg->ncmds >= SYNCML_MAX_CMDS) {
			syncml_builder_fail(b, 413, "more than %d commands",
					    SYNCML_MAX_CMDS);
			return NULL;
		}
		if ((c = syncml_cmd_add(msg, c, type, NULL)) == NULL)
			oom(b);
		else if (type == SYNCML_ATOMIC || type == SYNCML_SEQUENCE)
			b->nest++;
		return c;
	}

	switch (tag) {
	case SYNCML_T_SYNCHDR:
		return pt == SYNCML_T_SYNCML ? (void *)&msg->hdr : NULL;
	case SYNCML_T_SYNCBODY:
		if (pt != SYNCML_T_SYNCML)
			return NULL;
		if (!(pf->seen & (1ull << SYNCML_T_SYNCHDR))) {
			syncml_builder_fail(b, 400, "SyncBody before SyncHdr");
			return NULL;
		}
		return msg;
	case SYNCML_T_VERDTD: case SYNCML_T_VERPROTO:
	case SYNCML_T_SESSIONID: case SYNCML_T_MSGID: case SYNCML_T_RESPURI:
		return pt == SYNCML_T_SYNCHDR ? pf->obj : NULL;
	case SYNCML_T_FINAL:
		if (pt != SYNCML_T_SYNCBODY)
			return NULL;
		b->final_seen = true;
		msg->final = true;
		return msg;
	case SYNCML_T_TARGET: case SYNCML_T_SOURCE:
		if (pt == SYNCML_T_SYNCHDR)
			return tag == SYNCML_T_TARGET ? &msg->hdr.target :
			       &msg->hdr.source;
		if (pt == SYNCML_T_ITEM) {
			struct syncml_item *it = pf->obj;

			return tag == SYNCML_T_TARGET ? &it->target :
			       &it->source;
		}
		return NULL;
	case SYNCML_T_LOCURI: case SYNCML_T_LOCNAME:
		return pt == SYNCML_T_TARGET || pt == SYNCML_T_SOURCE ?
		       pf->obj : NULL;
	case SYNCML_T_CRED:
		if (pt != SYNCML_T_SYNCHDR)
			return NULL;
		msg->hdr.has_cred = true;
		return &msg->hdr.cred;
	case SYNCML_T_META:
		if (pt == SYNCML_T_SYNCHDR)
			return &msg->hdr.meta;
		if (pt == SYNCML_T_CRED)
			return &msg->hdr.cred.meta;
		if (pt == SYNCML_T_CHAL)
			return &((struct syncml_cmd *)pf->obj)->chal;
		if (pt == SYNCML_T_ITEM)
			return &((struct syncml_item *)pf->obj)->meta;
		if (pcmd && ptype != SYNCML_STATUS && ptype != SYNCML_ALERT)
			return &pc->meta;
		return NULL;
	case SYNCML_T_DATA:
		if (pt == SYNCML_T_ITEM || pt == SYNCML_T_CRED)
			return pf->obj;
		if (pcmd && (ptype == SYNCML_ALERT || ptype == SYNCML_STATUS))
			return pc;
		return NULL;
	case SYNCML_T_CMDID:
		return pcmd ? pc : NULL;
	case SYNCML_T_NORESP:
		if (pt == SYNCML_T_SYNCHDR) {
			msg->hdr.no_resp = true;
			return msg;
		}
		if (!pcmd || ptype == SYNCML_STATUS || ptype == SYNCML_RESULTS)
			return NULL;
		pc->no_resp = true;
		return pc;
	case SYNCML_T_MSGREF: case SYNCML_T_CMDREF:
	case SYNCML_T_TARGETREF: case SYNCML_T_SOURCEREF:
		return pcmd && (ptype == SYNCML_STATUS ||
				ptype == SYNCML_RESULTS) ? pc : NULL;
	case SYNCML_T_CMD:
		return pcmd && ptype == SYNCML_STATUS ? pc : NULL;
	case SYNCML_T_CHAL:
		if (!pcmd || ptype != SYNCML_STATUS)
			return NULL;
		pc->has_chal = true;
		return pc;
	case SYNCML_T_CORRELATOR:
		return pcmd && (ptype == SYNCML_ALERT || ptype == SYNCML_EXEC) ?
		       pc : NULL;
	case SYNCML_T_ITEM:
		if (!pcmd || ptype == SYNCML_ATOMIC ||
		    ptype == SYNCML_SEQUENCE)
			return NULL;
		if (ptype == SYNCML_EXEC && pc->items != NULL) {
			syncml_builder_fail(b, 400, "Exec with two Items");
			return NULL;
		}
		if (msg->nitems >= SYNCML_MAX_ITEMS) {
			syncml_builder_fail(b, 413, "more than %d items",
					    SYNCML_MAX_ITEMS);
			return NULL;
		}
		if ((c = (void *)syncml_item_add(msg, pc)) == NULL)
			oom(b);
		return c;
	case SYNCML_T_MOREDATA:
		if (pt != SYNCML_T_ITEM)
			return NULL;
		((struct syncml_item *)pf->obj)->more_data = true;
		return pf->obj;
	case SYNCML_T_FORMAT: case SYNCML_T_MARK: case SYNCML_T_MAXMSGSIZE:
	case SYNCML_T_NEXTNONCE: case SYNCML_T_SIZE: case SYNCML_T_TYPE:
	case SYNCML_T_MAXOBJSIZE:
		return pt == SYNCML_T_META ? pf->obj : NULL;
	default:
		return NULL;
	}
}

void
syncml_builder_start(struct syncml_builder *b, enum syncml_tag tag)
{
	struct syncml_frame *pf, *f;
	void *obj;

	if (b->failed)
		return;
	if (tag <= SYNCML_T_NONE || tag >= SYNCML_T_COUNT) {
		syncml_builder_fail(b, 400, "unknown element");
		return;
	}
	pf = b->depth > 0 ? &b->stack[b->depth - 1] : NULL;
	if (pf != NULL && tag_is_leaf(pf->tag)) {
		syncml_builder_fail(b, 400, "element %s inside %s",
				    syncml_tags[tag].name,
				    syncml_tags[pf->tag].name);
		return;
	}
	if (pf != NULL && (pf->seen & (1ull << tag)) &&
	    !repeatable(pf->tag, tag)) {
		syncml_builder_fail(b, 400, "%s twice in %s",
				    syncml_tags[tag].name,
				    syncml_tags[pf->tag].name);
		return;
	}
	if (b->depth == BUILDER_STACK) {
		syncml_builder_fail(b, 413, "elements nested too deep");
		return;
	}
	obj = child_obj(b, pf, tag);
	if (b->failed)
		return;
	if (obj == NULL) {
		if (pf == NULL)
			syncml_builder_fail(b, b->done ? 400 : 400,
					    b->done ? "data after the root element" :
					    "root element is %s, not SyncML",
					    syncml_tags[tag].name);
		else
			syncml_builder_fail(b, 400, "%s not allowed in %s",
					    syncml_tags[tag].name,
					    syncml_tags[pf->tag].name);
		return;
	}
	if (pf != NULL)
		pf->seen |= 1ull << tag;
	f = &b->stack[b->depth++];
	f->tag = tag;
	f->seen = 0;
	f->obj = obj;
	b->text_len = 0;
	b->text_opaque = false;
}

static bool
is_xml_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
text_append(struct syncml_builder *b, const void *p, size_t len, bool opaque)
{
	struct syncml_frame *f;
	size_t cap, max;
	const uint8_t *s = p;
	uint8_t *t;
	size_t i;

	if (b->failed)
		return;
	f = b->depth > 0 ? &b->stack[b->depth - 1] : NULL;
	if (f == NULL || !tag_is_leaf(f->tag)) {
		/* Whitespace between elements is layout, anything else is not. */
		for (i = 0; i < len; i++)
			if (opaque || !is_xml_space(s[i])) {
				syncml_builder_fail(b, 400, "%s in %s",
					opaque ? "opaque data" : "text",
					f != NULL ? syncml_tags[f->tag].name :
					"the document");
				return;
			}
		return;
	}
	if (opaque)
		b->text_opaque = true;
	max = f->tag == SYNCML_T_DATA ? SYNCML_MAX_DATA : SYNCML_MAX_STR;
	if (len > max || b->text_len > max - len) {
		syncml_builder_fail(b, 413, "%s longer than %zu bytes",
				    syncml_tags[f->tag].name, max);
		return;
	}
	if (b->text_len + len + 1 > b->text_cap) {
		cap = b->text_cap ? b->text_cap : 256;
		while (cap < b->text_len + len + 1)
			cap *= 2;
		if ((t = realloc(b->text, cap)) == NULL) {
			oom(b);
			return;
		}
		b->text = t;
		b->text_cap = cap;
	}
	if (len > 0)
		memcpy(b->text + b->text_len, p, len);
	b->text_len += len;
}

void
syncml_builder_text(struct syncml_builder *b, const void *p, size_t len)
{
	text_append(b, p, len, false);
}

void
syncml_builder_opaque(struct syncml_builder *b, const void *p, size_t len)
{
	text_append(b, p, len, true);
}

/* RFC 3629: well-formed UTF-8, no NUL (strings are C strings). */
static bool
utf8_ok(const uint8_t *s, size_t len)
{
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		uint8_t c = s[i];

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		i += n + 1;
	}
	return true;
}

/* The open leaf's text as a trimmed C string in the arena. */
static char *
leaf_string(struct syncml_builder *b, const char *name)
{
	size_t s = 0, e = b->text_len;
	char *r;

	if (!utf8_ok(b->text, b->text_len)) {
		syncml_builder_fail(b, 400, "%s is not UTF-8 text", name);
		return NULL;
	}
	while (s < e && is_xml_space(b->text[s]))
		s++;
	while (e > s && is_xml_space(b->text[e - 1]))
		e--;
	if (b->text == NULL)	/* no text at all: an empty element */
		r = arena_strndup(b->msg, "", 0);
	else
		r = arena_strndup(b->msg, (const char *)b->text + s, e - s);
	if (r ==
	    NULL)
		oom(b);
	return r;
}

/* Decimal, no sign, at most max; false if not. */
static bool
parse_uint(const char *s, uint32_t max, uint32_t *v)
{
	uint64_t x = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
		if (x > max)
			return false;
	}
	*v = (uint32_t)x;
	return true;
}

static void
leaf_number(struct syncml_builder *b, const char *name, const char *s,
	    uint32_t max, uint32_t *v)
{
	if (s != NULL && !parse_uint(s, max, v))
		syncml_builder_fail(b, 400, "%s \"%.40s\" is not a number",
				    name, s);
}

static void
end_leaf(struct syncml_builder *b, struct syncml_frame *f,
	 struct syncml_frame *pf)
{
	const char *name = syncml_tags[f->tag].name;
	struct syncml_hdr *h = &b->msg->hdr;
	struct syncml_cmd *c = f->obj;
	struct syncml_meta *m = f->obj;
	struct syncml_loc *l = f->obj;
	struct syncml_data *d;
	uint32_t v = 0;
	char *s;

	if (f->tag == SYNCML_T_DATA &&
	    (pf->tag == SYNCML_T_ITEM || pf->tag == SYNCML_T_CRED)) {
		d = pf->tag == SYNCML_T_ITEM ?
		    &((struct syncml_item *)f->obj)->data :
		    &((struct syncml_cred *)f->obj)->data;
		if (syncml_set_data(b->msg, d, b->text, b->text_len,
				    b->text_opaque) < 0)
			oom(b);
		return;
	}
	if ((s = leaf_string(b, name)) == NULL)
		return;
	switch (f->tag) {
	case SYNCML_T_VERDTD:
		/* RepPro 1.2 5.1.22 / clause 10: 505 for another DTD. */
		if (strcmp(s, "1.2") != 0)
			syncml_builder_fail(b, 505, "VerDTD %.20s not supported",
					    s);
		h->ver_dtd = s;
		break;
	case SYNCML_T_VERPROTO:
		if (strcmp(s, "DM/1.2") != 0)
			syncml_builder_fail(b, 513,
					    "VerProto %.20s not supported", s);
		h->ver_proto = s;
		break;
	case SYNCML_T_SESSIONID: h->session_id = s; break;
	case SYNCML_T_MSGID: h->msg_id = s; break;
	case SYNCML_T_RESPURI: h->resp_uri = s; break;
	case SYNCML_T_LOCURI: l->uri = s; break;
	case SYNCML_T_LOCNAME: l->name = s; break;
	case SYNCML_T_CMDID: c->cmd_id = s; break;
	case SYNCML_T_MSGREF: c->msg_ref = s; break;
	case SYNCML_T_CMDREF: c->cmd_ref = s; break;
	case SYNCML_T_CMD: c->cmd = s; break;
	case SYNCML_T_TARGETREF: c->target_ref = s; break;
	case SYNCML_T_SOURCEREF: c->source_ref = s; break;
	case SYNCML_T_CORRELATOR: c->correlator = s; break;
	case SYNCML_T_DATA:	/* Alert and Status: the code */
		leaf_number(b, name, s, 9999, &v);
		c->code = v;
		break;
	case SYNCML_T_FORMAT: m->format = s; break;
	case SYNCML_T_TYPE: m->type = s; break;
	case SYNCML_T_MARK: m->mark = s; break;
	case SYNCML_T_NEXTNONCE: m->next_nonce = s; break;
	case SYNCML_T_SIZE:
		leaf_number(b, name, s, UINT32_MAX, &m->size);
		m->has |= SYNCML_META_SIZE;
		break;
	case SYNCML_T_MAXMSGSIZE:
		leaf_number(b, name, s, UINT32_MAX, &m->max_msg_size);
		m->has |= SYNCML_META_MAXMSG;
		break;
	case SYNCML_T_MAXOBJSIZE:
		leaf_number(b, name, s, UINT32_MAX, &m->max_obj_size);
		m->has |= SYNCML_META_MAXOBJ;
		break;
	default:
		break;
	}
}

static void
need(struct syncml_builder *b, const struct syncml_frame *f,
     enum syncml_tag child)
{
	if (!(f->seen & (1ull << child)))
		syncml_builder_fail(b, 400, "%s without %s",
				    syncml_tags[f->tag].name,
				    syncml_tags[child].name);
}

static bool
meta_empty(const struct syncml_meta *m)
{
	return m->type == NULL && m->format == NULL && m->mark == NULL &&
	       m->next_nonce == NULL && m->has == 0;
}

/* Mandatory children (RepPro 1.2 DTD, DM RepPro 1.2 clause 6). */
static void
end_container(struct syncml_builder *b, struct syncml_frame *f)
{
	enum syncml_cmd_type type;

	switch (f->tag) {
	case SYNCML_T_SYNCML:
		need(b, f, SYNCML_T_SYNCHDR);
		need(b, f, SYNCML_T_SYNCBODY);
		b->done = true;
		return;
	case SYNCML_T_SYNCHDR:
		need(b, f, SYNCML_T_VERDTD);
		need(b, f, SYNCML_T_VERPROTO);
		need(b, f, SYNCML_T_SESSIONID);
		need(b, f, SYNCML_T_MSGID);
		need(b, f, SYNCML_T_TARGET);
		need(b, f, SYNCML_T_SOURCE);
		return;
	case SYNCML_T_TARGET: case SYNCML_T_SOURCE:
		need(b, f, SYNCML_T_LOCURI);
		return;
	case SYNCML_T_CRED:
		need(b, f, SYNCML_T_DATA);
		return;
	case SYNCML_T_CHAL:
		/* An empty Meta would be a Chal that says nothing. */
		if (meta_empty(&((struct syncml_cmd *)f->obj)->chal))
			syncml_builder_fail(b, 400, "Chal without Meta");
		return;
	default:
		break;
	}
	if (!tag_is_cmd(f->tag, &type))
		return;
	need(b, f, SYNCML_T_CMDID);
	switch (type) {
	case SYNCML_STATUS:
		need(b, f, SYNCML_T_MSGREF);
		need(b, f, SYNCML_T_CMDREF);
		need(b, f, SYNCML_T_CMD);
		need(b, f, SYNCML_T_DATA);
		break;
	case SYNCML_ALERT:
		need(b, f, SYNCML_T_DATA);
		break;
	case SYNCML_RESULTS:
		need(b, f, SYNCML_T_CMDREF);
		need(b, f, SYNCML_T_ITEM);
		break;
	case SYNCML_ATOMIC: case SYNCML_SEQUENCE:
		b->nest--;
		break;
	default:	/* Add, Copy, Delete, Exec, Get, Replace */
		need(b, f, SYNCML_T_ITEM);
		break;
	}
}

void
syncml_builder_end(struct syncml_builder *b)
{
	struct syncml_frame *f, *pf;

	if (b->failed)
		return;
	if (b->depth == 0) {
		syncml_builder_fail(b, 400, "end without start");
		return;
	}
	f = &b->stack[b->depth - 1];
	pf = b->depth > 1 ? &b->stack[b->depth - 2] : NULL;
	if (tag_is_leaf(f->tag))
		end_leaf(b, f, pf);
	else if (tag_is_flag(f->tag) && b->text_len > 0)
		syncml_builder_fail(b, 400, "%s must be empty",
				    syncml_tags[f->tag].name);
	else
		end_container(b, f);
	b->text_len = 0;
	b->text_opaque = false;
	b->depth--;
}

struct syncml_msg *
syncml_builder_finish(struct syncml_builder *b)
{
	struct syncml_msg *msg;

	if (!b->failed && !b->done)
		syncml_builder_fail(b, 400, "document ends inside %s",
				    b->depth > 0 ?
				    syncml_tags[b->stack[b->depth - 1].tag].name :
				    "the prolog");
	if (b->failed)
		return NULL;
	msg = b->msg;
	b->msg = NULL;
	return msg;
}

int
syncml_parse(enum syncml_format fmt, const uint8_t *p, size_t len,
	     struct syncml_msg **out, struct syncml_error *err)
{
	if (fmt == SYNCML_XML)
		return syncml_parse_xml((const char *)p, len, out, err);
	return syncml_parse_wbxml(p, len, out, err);
}

/* ---- encoding ------------------------------------------------------------ */

void
syncml_buf_free(struct syncml_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

void
syncml_buf_put(struct syncml_buf *b, const void *p, size_t len)
{
	size_t cap;
	uint8_t *n;

	if (b->failed || len == 0)
		return;
	if (len > SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return;
	}
	if (b->len + len > b->cap) {
		cap = b->cap ? b->cap : 1024;
		while (cap < b->len + len)
			cap *= 2;
		if ((n = realloc(b->p, cap)) == NULL) {
			b->failed = true;
			return;
		}
		b->p = n;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

void
syncml_w_prolog(struct syncml_writer *w)
{
	if (w->fmt == SYNCML_XML)
		syncml_xml_prolog(w);
	else
		syncml_wbxml_prolog(w);
}

void
syncml_w_start(struct syncml_writer *w, enum syncml_tag tag)
{
	if (w->fmt == SYNCML_XML)
		syncml_xml_start(w, tag, false);
	else
		syncml_wbxml_start(w, tag, false);
}

void
syncml_w_empty(struct syncml_writer *w, enum syncml_tag tag)
{
	if (w->fmt == SYNCML_XML)
		syncml_xml_start(w, tag, true);
	else
		syncml_wbxml_start(w, tag, true);
}

void
syncml_w_end(struct syncml_writer *w, enum syncml_tag tag)
{
	if (w->fmt == SYNCML_XML)
		syncml_xml_end(w, tag);
	else
		syncml_wbxml_end(w);
}

void
syncml_w_text(struct syncml_writer *w, const char *s, size_t len)
{
	if (w->fmt == SYNCML_XML)
		syncml_xml_text(w, (const uint8_t *)s, len);
	else
		syncml_wbxml_text(w, (const uint8_t *)s, len);
}

void
syncml_w_data(struct syncml_writer *w, const struct syncml_data *d)
{
	if (w->fmt == SYNCML_XML)
		syncml_xml_text(w, d->p, d->len);
	else if (d->opaque || memchr(d->p, 0, d->len) != NULL)
		syncml_wbxml_opaque(w, d->p, d->len);
	else
		syncml_wbxml_text(w, d->p, d->len);
}

static void
w_leaf(struct syncml_writer *w, enum syncml_tag tag, const char *s)
{
	size_t len;

	if (s == NULL)
		return;
	len = strlen(s);
	if (len == 0) {
		syncml_w_empty(w, tag);
		return;
	}
	syncml_w_start(w, tag);
	syncml_w_text(w, s, len);
	syncml_w_end(w, tag);
}

static void
w_uint(struct syncml_writer *w, enum syncml_tag tag, uint32_t v)
{
	char s[16];

	snprintf(s, sizeof(s), "%lu", (unsigned long)v);
	w_leaf(w, tag, s);
}

static void
w_required(struct syncml_writer *w, enum syncml_tag tag, const char *s)
{
	if (s == NULL && w->err == 0)
		w->err = -EINVAL;
	w_leaf(w, tag, s);
}

/* MetInf 1.2 DTD order. */
static void
w_meta(struct syncml_writer *w, const struct syncml_meta *m)
{
	if (meta_empty(m))
		return;
	syncml_w_start(w, SYNCML_T_META);
	w_leaf(w, SYNCML_T_FORMAT, m->format);
	w_leaf(w, SYNCML_T_TYPE, m->type);
	w_leaf(w, SYNCML_T_MARK, m->mark);
	if (m->has & SYNCML_META_SIZE)
		w_uint(w, SYNCML_T_SIZE, m->size);
	w_leaf(w, SYNCML_T_NEXTNONCE, m->next_nonce);
	if (m->has & SYNCML_META_MAXMSG)
		w_uint(w, SYNCML_T_MAXMSGSIZE, m->max_msg_size);
	if (m->has & SYNCML_META_MAXOBJ)
		w_uint(w, SYNCML_T_MAXOBJSIZE, m->max_obj_size);
	syncml_w_end(w, SYNCML_T_META);
}

static void
w_loc(struct syncml_writer *w, enum syncml_tag tag, const struct syncml_loc *l)
{
	if (l->uri == NULL)
		return;
	syncml_w_start(w, tag);
	w_leaf(w, SYNCML_T_LOCURI, l->uri);
	w_leaf(w, SYNCML_T_LOCNAME, l->name);
	syncml_w_end(w, tag);
}

static void
w_data(struct syncml_writer *w, const struct syncml_data *d)
{
	if (d->p == NULL)
		return;
	if (d->len == 0) {
		syncml_w_empty(w, SYNCML_T_DATA);
		return;
	}
	syncml_w_start(w, SYNCML_T_DATA);
	syncml_w_data(w, d);
	syncml_w_end(w, SYNCML_T_DATA);
}

static void
w_items(struct syncml_writer *w, const struct syncml_item *it)
{
	for (; it != NULL; it = it->next) {
		syncml_w_start(w, SYNCML_T_ITEM);
		w_loc(w, SYNCML_T_TARGET, &it->target);
		w_loc(w, SYNCML_T_SOURCE, &it->source);
		w_meta(w, &it->meta);
		w_data(w, &it->data);
		if (it->more_data)
			syncml_w_empty(w, SYNCML_T_MOREDATA);
		syncml_w_end(w, SYNCML_T_ITEM);
	}
}

static void
w_cmd(struct syncml_writer *w, const struct syncml_cmd *c)
{
	enum syncml_tag tag = cmd_tag(c->type);
	const struct syncml_cmd *k;

	syncml_w_start(w, tag);
	w_required(w, SYNCML_T_CMDID, c->cmd_id);
	switch (c->type) {
	case SYNCML_STATUS:
		w_required(w, SYNCML_T_MSGREF, c->msg_ref);
		w_required(w, SYNCML_T_CMDREF, c->cmd_ref);
		w_required(w, SYNCML_T_CMD, c->cmd);
		w_leaf(w, SYNCML_T_TARGETREF, c->target_ref);
		w_leaf(w, SYNCML_T_SOURCEREF, c->source_ref);
		if (c->has_chal) {
			syncml_w_start(w, SYNCML_T_CHAL);
			w_meta(w, &c->chal);
			syncml_w_end(w, SYNCML_T_CHAL);
		}
		w_uint(w, SYNCML_T_DATA, c->code);
		break;
	case SYNCML_RESULTS:
		w_leaf(w, SYNCML_T_MSGREF, c->msg_ref);
		w_required(w, SYNCML_T_CMDREF, c->cmd_ref);
		w_meta(w, &c->meta);
		w_leaf(w, SYNCML_T_TARGETREF, c->target_ref);
		w_leaf(w, SYNCML_T_SOURCEREF, c->source_ref);
		break;
	case SYNCML_ALERT:
		if (c->no_resp)
			syncml_w_empty(w, SYNCML_T_NORESP);
		w_uint(w, SYNCML_T_DATA, c->code);
		w_leaf(w, SYNCML_T_CORRELATOR, c->correlator);
		break;
	default:
		if (c->no_resp)
			syncml_w_empty(w, SYNCML_T_NORESP);
		w_meta(w, &c->meta);
		if (c->type == SYNCML_EXEC)
			w_leaf(w, SYNCML_T_CORRELATOR, c->correlator);
		break;
	}
	w_items(w, c->items);
	for (k = c->children; k != NULL; k = k->next)
		w_cmd(w, k);
	syncml_w_end(w, tag);
}

static void
w_header(struct syncml_writer *w, const struct syncml_hdr *h)
{
	syncml_w_prolog(w);
	syncml_w_start(w, SYNCML_T_SYNCML);
	syncml_w_start(w, SYNCML_T_SYNCHDR);
	w_required(w, SYNCML_T_VERDTD, h->ver_dtd);
	w_required(w, SYNCML_T_VERPROTO, h->ver_proto);
	w_required(w, SYNCML_T_SESSIONID, h->session_id);
	w_required(w, SYNCML_T_MSGID, h->msg_id);
	if (h->target.uri == NULL || h->source.uri == NULL)
		w->err = w->err ? w->err : -EINVAL;
	w_loc(w, SYNCML_T_TARGET, &h->target);
	w_loc(w, SYNCML_T_SOURCE, &h->source);
	w_leaf(w, SYNCML_T_RESPURI, h->resp_uri);
	if (h->no_resp)
		syncml_w_empty(w, SYNCML_T_NORESP);
	if (h->has_cred) {
		syncml_w_start(w, SYNCML_T_CRED);
		w_meta(w, &h->cred.meta);
		if (h->cred.data.p == NULL)
			w->err = w->err ? w->err : -EINVAL;
		w_data(w, &h->cred.data);
		syncml_w_end(w, SYNCML_T_CRED);
	}
	w_meta(w, &h->meta);
	syncml_w_end(w, SYNCML_T_SYNCHDR);
	syncml_w_start(w, SYNCML_T_SYNCBODY);
}

static void
w_trailer(struct syncml_writer *w, bool final)
{
	if (final)
		syncml_w_empty(w, SYNCML_T_FINAL);
	syncml_w_end(w, SYNCML_T_SYNCBODY);
	syncml_w_end(w, SYNCML_T_SYNCML);
}

static int
w_result(struct syncml_writer *w)
{
	if (w->err != 0)
		return w->err;
	return w->out->failed ? -ENOMEM : 0;
}

int
syncml_encode(const struct syncml_msg *msg, enum syncml_format fmt,
	      struct syncml_buf *out)
{
	struct syncml_writer w = { .out = out, .fmt = fmt };
	const struct syncml_cmd *c;
	size_t start = out->len;
	int r;

	w_header(&w, &msg->hdr);
	for (c = msg->cmds; c != NULL; c = c->next)
		w_cmd(&w, c);
	w_trailer(&w, msg->final);
	if ((r = w_result(&w)) != 0)
		out->len = start;
	return r;
}

size_t
syncml_cmd_count(const struct syncml_msg *msg)
{
	const struct syncml_cmd *c;
	size_t n = 0;

	for (c = msg->cmds; c != NULL; c = c->next)
		n++;
	return n;
}

/* Commands in send order: Status first (DM Protocol 1.2 clause 8.1). */
static const struct syncml_cmd **
send_order(const struct syncml_msg *msg, size_t *n)
{
	const struct syncml_cmd **v, *c;
	size_t i = 0;
	int pass;

	*n = syncml_cmd_count(msg);
	if ((v = malloc((*n ? *n : 1) * sizeof(*v))) == NULL)
		return NULL;
	for (pass = 0; pass < 2; pass++)
		for (c = msg->cmds; c != NULL; c = c->next)
			if ((c->type == SYNCML_STATUS) == (pass == 0))
				v[i++] = c;
	return v;
}

/*
 * Write c; keep it (when keep) if, closed with the trailer it would need,
 * the message stays within max.  Returns whether it fits; w is rolled back
 * unless it fits and keep is set.
 */
static bool
try_cmd(struct syncml_writer *w, const struct syncml_cmd *c, bool last_final,
	size_t base, size_t max, bool keep)
{
	size_t mark = w->out->len, end;
	unsigned page = w->page, end_page;
	bool fits;

	w_cmd(w, c);
	end = w->out->len;
	end_page = w->page;
	w_trailer(w, last_final);
	fits = w_result(w) == 0 && w->out->len - base <= max;
	if (fits && keep) {
		w->out->len = end;
		w->page = end_page;
	} else {
		w->out->len = mark;
		w->page = page;
	}
	return fits;
}

/*
 * Bytes a message keeps for the Status commands that lead it (the one for
 * the SyncHdr, with a Chal, and one for an Alert 1222) when judging whether
 * an object would fit whole into a message of its own.
 */
#define SPLIT_RESERVE	256

/*
 * Would c fit whole into a message of hdr_len header bytes, the reserve
 * for leading Status commands, c and the trailer?  w is left as it was.
 */
static bool
fits_fresh(struct syncml_writer *w, const struct syncml_cmd *c, size_t hdr_len,
	   size_t max)
{
	size_t mark = w->out->len;
	unsigned page = w->page;
	bool fits;

	w_cmd(w, c);
	w_trailer(w, true);
	fits = w_result(w) == 0 &&
	       hdr_len + SPLIT_RESERVE + (w->out->len - mark) <= max;
	w->out->len = mark;
	w->page = page;
	return fits;
}

/* Add or Replace with exactly one item carrying Data: can be chunked. */
static bool
chunkable(const struct syncml_cmd *c)
{
	return (c->type == SYNCML_ADD || c->type == SYNCML_REPLACE ||
		c->type == SYNCML_RESULTS) &&
	       c->items != NULL && c->items->next == NULL &&
	       c->items->data.p != NULL && c->items->data.len > 1;
}

/* The command c carrying [off, off + n) of its item's Data. */
static void
make_chunk(const struct syncml_cmd *c, size_t off, size_t n,
	   struct syncml_cmd *tc, struct syncml_item *ti)
{
	*tc = *c;
	*ti = *c->items;
	ti->next = NULL;
	ti->data.p = c->items->data.p + off;
	ti->data.len = n;
	ti->more_data = off + n < c->items->data.len || c->items->more_data;
	if (off == 0 && !c->items->continued) {
		/* RepPro 1.2 6.4.1: the first chunk announces the size. */
		ti->meta.has |= SYNCML_META_SIZE;
		ti->meta.size = (uint32_t)c->items->data.len;
	} else {
		ti->meta.has &= ~SYNCML_META_SIZE;
	}
	tc->items = ti;
}

/* Largest chunk length <= left that does not cut a UTF-8 sequence. */
static size_t
utf8_cut(const struct syncml_data *d, size_t off, size_t n)
{
	if (d->opaque)
		return n;
	while (n > 0 && off + n < d->len && (d->p[off + n] & 0xC0) == 0x80)
		n--;
	return n;
}

int
syncml_encode_split(const struct syncml_msg *msg, enum syncml_format fmt,
		    size_t max_size, struct syncml_cursor *cur,
		    struct syncml_buf *out, bool *done)
{
	struct syncml_writer w = { .out = out, .fmt = fmt };
	const struct syncml_cmd **v, *c;
	struct syncml_cmd tc;
	struct syncml_item ti;
	size_t n, i, sent = 0, base = out->len, left, lo, hi, mid, k, best;
	size_t hdr_end;
	struct syncml_cursor saved = *cur;
	bool last;
	int r;

	if ((v = send_order(msg, &n)) == NULL)
		return -ENOMEM;
	w_header(&w, &msg->hdr);
	if ((r = w_result(&w)) != 0)
		goto fail;
	hdr_end = out->len;
	for (i = cur->cmd; i < n; i++) {
		c = v[i];
		last = i + 1 == n && msg->final;
		if (cur->data_off == 0 &&
		    try_cmd(&w, c, last, base, max_size, true)) {
			sent++;
			continue;
		}
		if ((r = w_result(&w)) != 0)
			goto fail;
		if (!chunkable(c))
			break;
		/*
		 * DM Protocol 1.2 clause 7: "Data objects that fit within a
		 * single message MUST NOT be followed by the <MoreData/>
		 * element".  An object that would fit whole into the next
		 * message (its header, a few leading Status commands) waits
		 * for it, once: when more than that reserve precedes it here.
		 * If the next message still has no room, it is chunked.
		 */
		if (cur->data_off == 0 && !c->no_defer &&
		    out->len - hdr_end > SPLIT_RESERVE &&
		    fits_fresh(&w, c, hdr_end - base, max_size))
			break;
		/*
		 * Too big for what is left: send the next piece of its Data
		 * (every message carries Status commands before it, so a
		 * large object never travels alone).
		 */
		left = c->items->data.len - cur->data_off;
		if (cur->data_off > 0) {
			make_chunk(c, cur->data_off, left, &tc, &ti);
			if (try_cmd(&w, &tc, last, base, max_size, true)) {
				cur->data_off = 0;
				sent++;
				continue;
			}
		}
		best = 0;
		lo = 1;
		hi = left - 1;
		while (lo <= hi && hi > 0) {
			mid = lo + (hi - lo) / 2;
			k = utf8_cut(&c->items->data, cur->data_off, mid);
			make_chunk(c, cur->data_off, k, &tc, &ti);
			if (k > 0 &&
			    try_cmd(&w, &tc, false, base, max_size, false)) {
				best = k;
				lo = mid + 1;
			} else {
				hi = mid - 1;
			}
		}
		if ((r = w_result(&w)) != 0)
			goto fail;
		if (best == 0)
			break;
		make_chunk(c, cur->data_off, best, &tc, &ti);
		(void)try_cmd(&w, &tc, false, base, max_size, true);
		cur->data_off += best;
		sent++;
		break;
	}
	if (sent == 0 && i < n) {
		r = -E2BIG;
		goto fail;
	}
	cur->cmd = i;
	*done = cur->cmd >= n && cur->data_off == 0;
	w_trailer(&w, *done && msg->final);
	if ((r = w_result(&w)) != 0)
		goto fail;
	if (out->len - base > max_size) {	/* header and trailer alone */
		r = -E2BIG;
		goto fail;
	}
	free(v);
	return 0;
fail:
	out->len = base;
	*cur = saved;
	free(v);
	return r;
}
