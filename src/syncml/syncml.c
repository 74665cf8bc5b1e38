/* SPDX-License-Identifier: MIT */
/*
 * SyncML DM 1.2 message model: the arena every message lives in, the
 * commands and items hanging off it, and the tag table both codecs share.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncml/model.h"
#include "syncml/syncml.h"

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
syncml_msg_new_empty(void)
{
	struct syncml_msg *msg;

	if ((msg = calloc(1, sizeof(*msg))) == NULL)
		return NULL;
	if ((msg->arena = calloc(1, sizeof(*msg->arena))) == NULL) {
		free(msg);
		return NULL;
	}
	return msg;
}

struct syncml_msg *
syncml_msg_new(void)
{
	struct syncml_msg *msg;

	if ((msg = syncml_msg_new_empty()) == NULL)
		return NULL;
	if ((msg->hdr.ver_dtd = syncml_strdup(msg, "1.2")) == NULL ||
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

char *
syncml_arena_strndup(struct syncml_msg *msg, const char *s, size_t len)
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
	return syncml_arena_strndup(msg, s, strlen(s));
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

bool
syncml_tag_is_cmd(enum syncml_tag tag, enum syncml_cmd_type *type)
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

enum syncml_tag
syncml_cmd_tag(enum syncml_cmd_type type)
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
	enum syncml_tag t = syncml_cmd_tag(type);

	return t != SYNCML_T_NONE ? syncml_tags[t].name : "?";
}

/* Elements whose content is text (or opaque data). */
bool
syncml_tag_is_leaf(enum syncml_tag t)
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
bool
syncml_tag_is_flag(enum syncml_tag t)
{
	return t == SYNCML_T_FINAL || t == SYNCML_T_NORESP ||
	       t == SYNCML_T_MOREDATA;
}

bool
syncml_meta_empty(const struct syncml_meta *m)
{
	return m->type == NULL && m->format == NULL && m->mark == NULL &&
	       m->next_nonce == NULL && m->has == 0;
}

const struct syncml_cmd *syncml_hdr_status(const struct syncml_msg *msg)
{
	for (const struct syncml_cmd *c = msg->cmds; c; c = c->next)
		if (c->type == SYNCML_STATUS && c->cmd_ref &&
		    !strcmp(c->cmd_ref, "0"))
			return c;
	return NULL;
}

bool syncml_wants_answer(const struct syncml_msg *msg)
{
	for (const struct syncml_cmd *c = msg->cmds; c; c = c->next)
		if (c->type != SYNCML_STATUS && c->type != SYNCML_RESULTS)
			return true;
	return false;
}

bool syncml_next_message_request(const struct syncml_msg *msg)
{
	bool alert = false;

	for (const struct syncml_cmd *c = msg->cmds; c; c = c->next) {
		if (c->type == SYNCML_ALERT &&
		    c->code == SYNCML_ALERT_NEXT_MESSAGE)
			alert = true;
		else if (c->type != SYNCML_STATUS)
			return false;
	}
	return alert && !msg->final;
}
