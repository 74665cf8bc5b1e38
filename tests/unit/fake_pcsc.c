/* SPDX-License-Identifier: MIT */
/*
 * A link-time replacement for src/card/pcsc.c: the whole of pcsc.h over
 * one fake reader whose card is the harness's script (harness.h).  Linked
 * before libdmsc.a, it resolves every pcsc_* symbol, so the archive's
 * pcsc.o is never pulled in (and pcscd is never needed).
 *
 * The worker thread of pcsc.c becomes an event on the loop: a request
 * queued by pcsc_transmit() is served on a later loop turn, one per turn -
 * the exchange with the T=0 rules (the real apdu_exchange()), the hook's
 * more() for pcsc_transmit_more(), then the notes it left (apply(), in
 * order) and the completion, as pcsc.h promises.  A card removed meanwhile
 * drops the completion; a detached hook is released when no request holds
 * it any more.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "card/apdu.h"
#include "card/pcsc.h"
#include "harness.h"

#define FAKE_NOTES_MAX	256

int h_card_exchange(struct harness *h, const uint8_t *cmd, size_t clen,
		    uint8_t *resp, size_t *rlen);

struct fhook {
	const struct pcsc_hook_ops *ops;
	void *arg;
	unsigned refs;
	bool detached;
};

struct req {
	struct req *next;
	uint8_t cmd[APDU_MAX_CMD];
	size_t clen;
	pcsc_done_fn done;
	void *arg;
	struct fhook *hook;
	unsigned gen;
	struct apdu_result res;
};

struct pcsc_reader {
	struct pcsc *p;
	char name[32];
	uint8_t atr[16];
	size_t atr_len;
	void *data;
	struct fhook *hook;
	unsigned gen;
	bool ready;
};

struct pcsc {
	struct event_base *base;
	const struct pcsc_ops *ops;
	void *arg;
	struct pcsc_reader r;
	struct req *head, **tail;
	unsigned pending;
	struct event *work;
	struct event *insert;
	struct harness *h;
	pcsc_tap_fn tap;
	void *tap_arg;
};

struct pcsc_worker {
	struct pcsc *p;
	struct req *q;
	unsigned nnotes;
	void *notes[FAKE_NOTES_MAX];
};

static struct pcsc *last;

static void hook_put(struct fhook *k)
{
	if (k && !--k->refs && k->detached) {
		k->ops->release(k->arg);
		free(k);
	}
}

static void hook_detach(struct pcsc_reader *r)
{
	struct fhook *k = r->hook;

	if (!k)
		return;
	r->hook = NULL;
	k->detached = true;
	k->refs++;
	hook_put(k);
}

static int fake_tx(void *ctx, const uint8_t *cmd, size_t clen, uint8_t *resp,
		   size_t *rlen)
{
	struct pcsc_worker *w = ctx;
	struct pcsc *p = w->p;
	int r = h_card_exchange(p->h, cmd, clen, resp, rlen);

	if (!r && p->tap)
		p->tap(p->tap_arg, &p->r, cmd, clen, resp, *rlen);
	return r;
}

/* The "worker": one request per loop turn. */
static void work_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pcsc *p = arg;
	struct pcsc_reader *r = &p->r;
	struct req *q = p->head;

	(void)fd;
	(void)what;
	if (!q)
		return;
	p->head = q->next;
	if (!p->head)
		p->tail = &p->head;
	if (q->gen == r->gen && r->ready) {
		struct pcsc_worker *w = calloc(1, sizeof(*w));
		bool live;
		int err;

		if (!w)
			abort();
		w->p = p;
		w->q = q;
		err = apdu_exchange(fake_tx, w, q->cmd, q->clen, &q->res);
		if (!err && q->hook)
			err = q->hook->ops->more(q->hook->arg, w, q->cmd,
						 q->clen, &q->res);
		live = q->gen == r->gen && r->ready;
		for (unsigned i = 0; i < w->nnotes; i++)
			q->hook->ops->apply(q->hook->arg, w->notes[i], live);
		free(w);
		if (live && q->gen == r->gen && r->ready)
			q->done(q->arg, err, err ? NULL : &q->res);
	}
	hook_put(q->hook);
	free(q);
	p->pending--;
	if (p->head)
		event_active(p->work, 0, 0);
}

static void insert_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pcsc *p = arg;

	(void)fd;
	(void)what;
	if (p->ops->service)
		p->ops->service(p->arg, true);
	p->r.ready = true;
	p->ops->card_ready(p->arg, &p->r);
}

struct pcsc *pcsc_new(struct event_base *base, const struct pcsc_config *cfg,
		      const struct pcsc_ops *ops, void *arg)
{
	static const uint8_t atr[] = { 0x3B, 0x9F, 0x96, 0x80, 0x1F, 0xC7 };
	struct pcsc *p = calloc(1, sizeof(*p));

	(void)cfg;
	if (!p)
		return NULL;
	p->base = base;
	p->ops = ops;
	p->arg = arg;
	p->tail = &p->head;
	p->r.p = p;
	snprintf(p->r.name, sizeof(p->r.name), "Fake Reader 00 00");
	memcpy(p->r.atr, atr, sizeof(atr));
	p->r.atr_len = sizeof(atr);
	p->work = event_new(base, -1, 0, work_cb, p);
	p->insert = event_new(base, -1, 0, insert_cb, p);
	if (!p->work || !p->insert) {
		pcsc_free(p);
		return NULL;
	}
	last = p;
	return p;
}

static void card_end(struct pcsc *p)
{
	struct pcsc_reader *r = &p->r;

	if (!r->ready)
		return;
	r->gen++;
	r->ready = false;
	p->ops->card_gone(p->arg, r);
	hook_detach(r);
	r->data = NULL;
}

void pcsc_free(struct pcsc *p)
{
	if (!p)
		return;
	card_end(p);
	while (p->head) {
		struct req *q = p->head;

		p->head = q->next;
		hook_put(q->hook);
		free(q);
	}
	if (p->work)
		event_free(p->work);
	if (p->insert)
		event_free(p->insert);
	if (last == p)
		last = NULL;
	free(p);
}

void pcsc_reconfigure(struct pcsc *p, const struct pcsc_config *cfg)
{
	(void)p;
	(void)cfg;
}

static int transmit(struct pcsc_reader *r, const uint8_t *cmd, size_t len,
		    pcsc_done_fn done, void *arg, bool more)
{
	struct pcsc *p = r->p;
	struct req *q;

	if (!r->ready)
		return -ENODEV;
	if (len < 4 || len > APDU_MAX_CMD)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	memcpy(q->cmd, cmd, len);
	q->clen = len;
	q->done = done;
	q->arg = arg;
	q->gen = r->gen;
	if (more && r->hook) {
		q->hook = r->hook;
		q->hook->refs++;
	}
	*p->tail = q;
	p->tail = &q->next;
	p->pending++;
	event_active(p->work, 0, 0);	/* never completed synchronously */
	return 0;
}

int pcsc_transmit(struct pcsc_reader *r, const uint8_t *cmd, size_t len,
		  pcsc_done_fn done, void *arg)
{
	return transmit(r, cmd, len, done, arg, false);
}

int pcsc_transmit_more(struct pcsc_reader *r, const uint8_t *cmd, size_t len,
		       pcsc_done_fn done, void *arg)
{
	return transmit(r, cmd, len, done, arg, true);
}

int pcsc_set_hook(struct pcsc_reader *r, const struct pcsc_hook_ops *ops,
		  void *arg)
{
	hook_detach(r);
	if (!ops)
		return 0;
	r->hook = calloc(1, sizeof(*r->hook));
	if (!r->hook)
		return -ENOMEM;
	r->hook->ops = ops;
	r->hook->arg = arg;
	return 0;
}

int pcsc_worker_exchange(struct pcsc_worker *w, const uint8_t *cmd,
			 size_t clen, struct apdu_result *res)
{
	return apdu_exchange(fake_tx, w, cmd, clen, res);
}

void pcsc_worker_note(struct pcsc_worker *w, void *note, bool urgent)
{
	(void)urgent;	/* every note reaches the loop before the completion */
	if (w->nnotes == FAKE_NOTES_MAX)
		abort();
	w->notes[w->nnotes++] = note;
}

const char *pcsc_reader_name(const struct pcsc_reader *r)
{
	return r->name;
}

const uint8_t *pcsc_reader_atr(const struct pcsc_reader *r, size_t *len)
{
	*len = r->atr_len;
	return r->atr;
}

const char *pcsc_reader_protocol(const struct pcsc_reader *r)
{
	(void)r;
	return "T=1";
}

void pcsc_reader_set_data(struct pcsc_reader *r, void *data)
{
	r->data = data;
}

void *pcsc_reader_data(const struct pcsc_reader *r)
{
	return r->data;
}

void pcsc_set_tap(struct pcsc *p, pcsc_tap_fn fn, void *arg)
{
	p->tap = fn;
	p->tap_arg = arg;
}

/* ---- the harness's side ---------------------------------------------- */

struct pcsc *fake_pcsc_last(void)
{
	return last;
}

void fake_pcsc_bind(struct pcsc *p, struct harness *h)
{
	p->h = h;
}

void fake_pcsc_insert(struct pcsc *p)
{
	event_active(p->insert, 0, 0);
}

void fake_pcsc_remove(struct pcsc *p)
{
	card_end(p);
}

unsigned fake_pcsc_pending(const struct pcsc *p)
{
	return p->pending;
}

bool fake_pcsc_hooked(const struct pcsc *p)
{
	return p->r.hook != NULL;
}
