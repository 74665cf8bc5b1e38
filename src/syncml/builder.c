/* SPDX-License-Identifier: MIT */
/*
 * The format-agnostic builder both SyncML decoders feed.
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
 * nothing follows Final.  The encoder (encode.c) always writes the DTD's
 * order.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncml/model.h"
#include "syncml/syncml.h"

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
	if ((b->msg = syncml_msg_new_empty()) == NULL) {
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
	if (syncml_tag_is_cmd(child, NULL))
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
	bool pcmd = syncml_tag_is_cmd(pt, &ptype);

	if (pcmd)
		pc = pf->obj;

	if (tag == SYNCML_T_SYNCML)
		return pt == SYNCML_T_NONE && !b->done ? (void *)msg : NULL;
	if (pt == SYNCML_T_NONE)
		return NULL;

	if (syncml_tag_is_cmd(tag, &type)) {
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
	if (pf != NULL && syncml_tag_is_leaf(pf->tag)) {
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
	if (f == NULL || !syncml_tag_is_leaf(f->tag)) {
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
		r = syncml_arena_strndup(b->msg, "", 0);
	else
		r = syncml_arena_strndup(b->msg, (const char *)b->text + s, e - s);
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
		if (syncml_meta_empty(&((struct syncml_cmd *)f->obj)->chal))
			syncml_builder_fail(b, 400, "Chal without Meta");
		return;
	default:
		break;
	}
	if (!syncml_tag_is_cmd(f->tag, &type))
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
	if (syncml_tag_is_leaf(f->tag))
		end_leaf(b, f, pf);
	else if (syncml_tag_is_flag(f->tag) && b->text_len > 0)
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
