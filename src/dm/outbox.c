/* SPDX-License-Identifier: MIT */
/*
 * The DM client's outgoing queue.  Invariant: the queue is in send order,
 * every Status before every other command (what syncml_encode_split
 * expects), so a cursor index into the encoded list is an index into the
 * queue.  At most one entry is part-sent: a large object being chunked.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dm/outbox.h"

struct entry {
	struct syncml_cmd *cmd;
	struct syncml_msg *owner;	/* the arena cmd lives in */
	size_t off;			/* Data bytes sent before this */
	size_t end;			/* unacknowledged: up to here; 0 all */
};

struct list {
	struct entry *v;
	size_t n, cap;
};

struct dm_outbox {
	struct list q;			/* to send */
	struct list sent;		/* in the last message, unacknowledged */
	struct syncml_msg **msgs;	/* arenas taken */
	size_t nmsgs, msgs_cap;
	/* the rest of the part-sent object, as encoded (no Meta Size) */
	struct syncml_cmd rest;
	struct syncml_item rest_item;
};

static int list_reserve(struct list *l, size_t more)
{
	size_t cap;
	void *p;

	if (l->n + more <= l->cap)
		return 0;
	cap = (l->n + more) * 2 + 8;
	if ((p = realloc(l->v, cap * sizeof(*l->v))) == NULL)
		return -ENOMEM;
	l->v = p;
	l->cap = cap;
	return 0;
}

/* Insert e at index i of l (room reserved). */
static void list_insert(struct list *l, size_t i, const struct entry *e)
{
	memmove(l->v + i + 1, l->v + i, (l->n - i) * sizeof(*l->v));
	l->v[i] = *e;
	l->n++;
}

static size_t leading_statuses(const struct list *l)
{
	size_t i = 0;

	while (i < l->n && l->v[i].cmd->type == SYNCML_STATUS)
		i++;
	return i;
}

static bool is_hdr_status(const struct syncml_cmd *c)
{
	return c->type == SYNCML_STATUS && c->cmd_ref &&
	       !strcmp(c->cmd_ref, "0");
}

struct dm_outbox *dm_outbox_new(void)
{
	return calloc(1, sizeof(struct dm_outbox));
}

static bool referenced(const struct dm_outbox *ob, const struct syncml_msg *m)
{
	size_t i;

	for (i = 0; i < ob->q.n; i++)
		if (ob->q.v[i].owner == m)
			return true;
	for (i = 0; i < ob->sent.n; i++)
		if (ob->sent.v[i].owner == m)
			return true;
	return false;
}

/* Free the arenas nothing queued or unacknowledged lives in. */
static void release(struct dm_outbox *ob)
{
	size_t i, k = 0;

	for (i = 0; i < ob->nmsgs; i++) {
		if (referenced(ob, ob->msgs[i]))
			ob->msgs[k++] = ob->msgs[i];
		else
			syncml_msg_free(ob->msgs[i]);
	}
	ob->nmsgs = k;
}

int dm_outbox_take(struct dm_outbox *ob, struct syncml_msg *m)
{
	struct syncml_cmd *c, *next;
	struct entry e = { .owner = m };
	size_t n = 0, i;

	for (i = 0; i < ob->nmsgs && ob->msgs[i] != m; i++)
		;
	if (i == ob->nmsgs) {
		if (ob->nmsgs == ob->msgs_cap) {
			size_t cap = ob->msgs_cap * 2 + 4;
			void *p = realloc(ob->msgs, cap * sizeof(*ob->msgs));

			if (!p) {
				syncml_msg_free(m);
				return -ENOMEM;
			}
			ob->msgs = p;
			ob->msgs_cap = cap;
		}
		ob->msgs[ob->nmsgs++] = m;
	}
	for (c = m->cmds; c; c = c->next)
		n++;
	if (list_reserve(&ob->q, n) < 0)
		return -ENOMEM;
	for (c = m->cmds; c; c = next) {
		next = c->next;
		c->next = NULL;
		e.cmd = c;
		if (is_hdr_status(c))
			list_insert(&ob->q, 0, &e);
		else if (c->type == SYNCML_STATUS)
			list_insert(&ob->q, leading_statuses(&ob->q), &e);
		else
			list_insert(&ob->q, ob->q.n, &e);
	}
	m->cmds = NULL;
	return 0;
}

/* The command to encode for queue entry e: the rest of a part-sent one. */
static struct syncml_cmd *encoded_cmd(struct dm_outbox *ob,
				      const struct entry *e)
{
	if (!e->off)
		return e->cmd;
	ob->rest = *e->cmd;
	ob->rest_item = *e->cmd->items;
	ob->rest_item.next = NULL;
	ob->rest_item.data.p += e->off;
	ob->rest_item.data.len -= e->off;
	ob->rest_item.continued = true;		/* RepPro 6.4.1: no Size */
	ob->rest_item.meta.has &= ~SYNCML_META_SIZE;
	ob->rest.items = &ob->rest_item;
	ob->rest.next = NULL;
	return &ob->rest;
}

int dm_outbox_encode(struct dm_outbox *ob, struct syncml_msg *hdr,
		     enum syncml_format fmt, size_t max, bool final,
		     struct buf *out)
{
	struct syncml_cursor cur = { 0, 0 };
	struct syncml_cmd **tail, *c;
	size_t i, sent;
	bool done;
	int r;

	if ((r = dm_outbox_take(ob, hdr)) < 0)
		return r;
	tail = &hdr->cmds;
	for (i = 0; i < ob->q.n; i++) {
		c = encoded_cmd(ob, &ob->q.v[i]);
		*tail = c;
		tail = &c->next;
	}
	hdr->final = final;
	r = syncml_encode_split(hdr, fmt, max, &cur, out, &done);
	/* unlinked again: the list is rebuilt for every message */
	for (i = 0; i < ob->q.n; i++)
		ob->q.v[i].cmd->next = NULL;
	ob->rest.next = NULL;
	hdr->cmds = NULL;
	if (r < 0) {
		release(ob);
		return r;
	}
	sent = cur.cmd + (cur.data_off > 0);
	ob->sent.n = 0;
	if (list_reserve(&ob->sent, sent) < 0) {
		release(ob);
		return -ENOMEM;
	}
	for (i = 0; i < sent; i++) {
		ob->sent.v[i] = ob->q.v[i];
		ob->sent.v[i].end = 0;
	}
	ob->sent.n = sent;
	if (cur.data_off > 0) {
		/* part of a large object went; the rest waits at the front */
		struct entry *e = &ob->q.v[cur.cmd];

		ob->sent.v[cur.cmd].end = e->off + cur.data_off;
		e->off += cur.data_off;
	}
	if (cur.cmd < ob->q.n)
		ob->q.v[cur.cmd].cmd->no_defer = true;	/* it waited once */
	memmove(ob->q.v, ob->q.v + cur.cmd,
		(ob->q.n - cur.cmd) * sizeof(*ob->q.v));
	ob->q.n -= cur.cmd;
	release(ob);
	return 0;
}

void dm_outbox_ack(struct dm_outbox *ob)
{
	ob->sent.n = 0;
	release(ob);
}

void dm_outbox_requeue(struct dm_outbox *ob)
{
	struct list *s = &ob->sent, *q = &ob->q, m = { 0 };
	size_t i, j, sst, qst;

	/* the part-sent object: again from where this message started it */
	for (i = j = 0; i < s->n; i++) {
		struct entry *e = &s->v[i];
		size_t k = leading_statuses(q);

		if (is_hdr_status(e->cmd))
			continue;	/* the new message gets its own */
		if (e->end && k < q->n && q->v[k].cmd == e->cmd) {
			q->v[k].off = e->off;
			continue;
		}
		s->v[j] = *e;
		s->v[j++].end = 0;
	}
	s->n = j;
	if (s->n + q->n == 0) {		/* nothing to merge: m.v stays NULL */
		release(ob);
		return;
	}
	/* [sent Status, queued Status, sent others, queued others] */
	if (list_reserve(&m, s->n + q->n) < 0) {
		s->n = 0;	/* only short of memory: the content is lost */
		release(ob);
		return;
	}
	sst = leading_statuses(s);
	qst = leading_statuses(q);
	memcpy(m.v, s->v, sst * sizeof(*m.v));
	memcpy(m.v + sst, q->v, qst * sizeof(*m.v));
	memcpy(m.v + sst + qst, s->v + sst, (s->n - sst) * sizeof(*m.v));
	memcpy(m.v + s->n + qst, q->v + qst, (q->n - qst) * sizeof(*m.v));
	m.n = s->n + q->n;
	free(q->v);
	*q = m;
	s->n = 0;
	release(ob);
}

void dm_outbox_clear(struct dm_outbox *ob)
{
	ob->q.n = 0;
	ob->sent.n = 0;
	release(ob);
}

bool dm_outbox_empty(const struct dm_outbox *ob)
{
	return ob->q.n == 0;
}

size_t dm_outbox_queued(const struct dm_outbox *ob)
{
	return ob->q.n;
}

bool dm_outbox_has_alert(const struct dm_outbox *ob, unsigned code)
{
	for (size_t i = 0; i < ob->q.n; i++)
		if (ob->q.v[i].cmd->type == SYNCML_ALERT &&
		    ob->q.v[i].cmd->code == code)
			return true;
	return false;
}

void dm_outbox_free(struct dm_outbox *ob)
{
	if (!ob)
		return;
	ob->q.n = ob->sent.n = 0;
	release(ob);
	free(ob->msgs);
	free(ob->q.v);
	free(ob->sent.v);
	free(ob);
}
