/* SPDX-License-Identifier: MIT */
/*
 * The format-agnostic half of the SyncML encoders: element order (the DTD's),
 * mandatory fields, and MaxMsgSize splitting (DM Protocol 1.2 clause 8.1).
 * xml.c and wbxml.c write the bytes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncml/model.h"
#include "syncml/syncml.h"

/* ---- encoding ------------------------------------------------------------ */

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
	if (syncml_meta_empty(m))
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
	enum syncml_tag tag = syncml_cmd_tag(c->type);
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
	      struct buf *out)
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
		    struct buf *out, bool *done)
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
