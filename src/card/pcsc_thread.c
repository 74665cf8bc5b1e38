/* SPDX-License-Identifier: MIT */
/*
 * PC/SC threads.  Monitor thread: context, reader list, SCardGetStatusChange
 * on every reader plus "\\?PnP?\Notification", backoff when pcscd is
 * gone.  Worker thread (one per matching reader): connect, transmit,
 * disconnect, and what a hook does after an exchange (pcsc.h).
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <winscard.h>

#include "card/pcsc_int.h"
#include "log.h"

void pcsc_post(struct pcsc *p, struct msg *m)
{
	pthread_mutex_lock(&p->lock);
	if (p->abandoned) {
		/* shut down while this thread was stuck: nobody listens */
		pthread_mutex_unlock(&p->lock);
		free(m->req);
		free(m->names);
		free(m->notes);
		free(m);
		return;
	}
	m->next = NULL;
	*p->inbox_tail = m;
	p->inbox_tail = &m->next;
	pthread_mutex_unlock(&p->lock);
	event_active(p->wake, EV_READ, 0);
}

struct msg *pcsc_msg_new(enum msg_type t)
{
	struct msg *m = calloc(1, sizeof(*m));

	if (!m)
		abort();	/* a lost hot-plug event would wedge the daemon */
	m->type = t;
	return m;
}

static void post_name(struct pcsc *p, enum msg_type t, const char *name)
{
	struct msg *m = pcsc_msg_new(t);

	m->names = strdup(name);
	if (!m->names)
		abort();
	pcsc_post(p, m);
}

int pcsc_rv_to_errno(LONG rv)
{
	switch (rv) {
	case SCARD_S_SUCCESS:
		return 0;
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NO_SMARTCARD:
	case SCARD_E_READER_UNAVAILABLE:
	case SCARD_E_UNKNOWN_READER:
		return -ENODEV;
	case SCARD_W_RESET_CARD:
		return -ECONNRESET;
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
	case SCARD_E_INVALID_HANDLE:
		return -ENOTCONN;
	default:
		return -EIO;
	}
}

/* ------------------------------------------------------------------ */
/* Monitor thread                                                      */

static bool monitor_stopping(struct pcsc *p)
{
	bool s;

	pthread_mutex_lock(&p->lock);
	s = p->stop;
	pthread_mutex_unlock(&p->lock);
	return s;
}

/* Wait up to secs, or until pcsc_free() says stop.  Returns true to stop. */
static bool monitor_sleep(struct pcsc *p, unsigned secs)
{
	struct timespec ts;
	bool s;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += secs;
	pthread_mutex_lock(&p->lock);
	while (!p->stop &&
	       pthread_cond_timedwait(&p->cond, &p->lock, &ts) != ETIMEDOUT)
		;
	s = p->stop;
	pthread_mutex_unlock(&p->lock);
	return s;
}

static void monitor_release(struct pcsc *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->mctx_valid) {
		SCardReleaseContext(p->mctx);
		p->mctx_valid = false;
	}
	pthread_mutex_unlock(&p->lock);
}

/*
 * One connected period: list readers, wait for changes, until pcscd goes
 * away (returns) or we are stopped.
 */
static void monitor_watch(struct pcsc *p, SCARDCONTEXT ctx)
{
	SCARD_READERSTATE st[MAX_READERS + 1];
	char *names = NULL;
	bool relist = true;
	unsigned n = 0;

	memset(st, 0, sizeof(st));
	while (!monitor_stopping(p)) {
		LONG rv;

		if (relist) {
			DWORD len = 0;
			char *np;

			free(names);
			names = NULL;
			rv = SCardListReaders(ctx, NULL, NULL, &len);
			if (rv == SCARD_S_SUCCESS) {
				names = calloc(1, len + 1);
				if (!names)
					abort();
				rv = SCardListReaders(ctx, NULL, names, &len);
			}
			if (rv == SCARD_E_NO_READERS_AVAILABLE) {
				free(names);
				names = calloc(1, 2);
				if (!names)
					abort();
				len = 1;
			} else if (rv != SCARD_S_SUCCESS) {
				break;
			}
			/* tell the loop which readers exist */
			{
				struct msg *m = pcsc_msg_new(MSG_READERS);

				m->names = malloc(len + 1);
				if (!m->names)
					abort();
				memcpy(m->names, names, len);
				m->names[len] = '\0';
				m->names_len = len;
				pcsc_post(p, m);
			}
			n = 0;
			memset(st, 0, sizeof(st));
			st[n].szReader = PNP_READER;
			st[n++].dwCurrentState = SCARD_STATE_UNAWARE;
			for (np = names; *np && n <= MAX_READERS;
			     np += strlen(np) + 1) {
				st[n].szReader = np;
				st[n++].dwCurrentState = SCARD_STATE_UNAWARE;
			}
			relist = false;
		}

		rv = SCardGetStatusChange(ctx, INFINITE, st, n);
		if (rv == SCARD_E_CANCELLED || rv == SCARD_E_TIMEOUT)
			continue;
		if (rv == SCARD_E_UNKNOWN_READER) {
			relist = true;
			continue;
		}
		if (rv != SCARD_S_SUCCESS)
			break;
		for (unsigned i = 0; i < n; i++) {
			DWORD ev = st[i].dwEventState;

			if (!(ev & SCARD_STATE_CHANGED))
				continue;
			if (i == 0 || (ev & (SCARD_STATE_UNKNOWN |
					     SCARD_STATE_IGNORE)))
				relist = true;
			if (i > 0) {
				bool was = st[i].dwCurrentState & SCARD_STATE_PRESENT;
				/*
				 * A mute card counts as present: pcscd powers it
				 * up again when we connect, and one that stays
				 * mute fails the connect (bounded in pcsc.c).
				 * Ignoring it would leave a card that answers
				 * again unserved until taken out.
				 */
				bool is = ev & SCARD_STATE_PRESENT;

				if (st[i].dwCurrentState == SCARD_STATE_UNAWARE) {
					was = !is;	/* first look: report either way */
				} else if (is && was &&
					   (ev >> 16) != (st[i].dwCurrentState >> 16)) {
					/*
					 * pcsc-lite counts insertions and removals in
					 * the high word: a card was swapped between
					 * two looks.
					 */
					post_name(p, MSG_CARD_ABSENT, st[i].szReader);
					was = false;
				}
				if (is && !was)
					post_name(p, MSG_CARD_PRESENT, st[i].szReader);
				else if (!is && was)
					post_name(p, MSG_CARD_ABSENT, st[i].szReader);
				if (!is)
					ev &= ~SCARD_STATE_PRESENT;
			}
			st[i].dwCurrentState = ev & ~SCARD_STATE_CHANGED;
		}
	}
	free(names);
}

void *pcsc_monitor_main(void *arg)
{
	struct pcsc *p = arg;
	unsigned backoff = 0;

	while (!monitor_stopping(p)) {
		SCARDCONTEXT ctx;
		LONG rv;

		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
		if (rv != SCARD_S_SUCCESS) {
			struct msg *m = pcsc_msg_new(MSG_SERVICE_DOWN);

			m->rv = rv;
			pcsc_post(p, m);
			pthread_mutex_lock(&p->lock);
			backoff = backoff ? backoff * 2 : p->retry_min;
			if (backoff > p->retry_max)
				backoff = p->retry_max;
			pthread_mutex_unlock(&p->lock);
			if (monitor_sleep(p, backoff))
				break;
			continue;
		}
		pthread_mutex_lock(&p->lock);
		p->mctx = ctx;
		p->mctx_valid = true;
		pthread_mutex_unlock(&p->lock);
		backoff = 0;
		pcsc_post(p, pcsc_msg_new(MSG_SERVICE_UP));
		monitor_watch(p, ctx);
		monitor_release(p);
		if (!monitor_stopping(p)) {
			struct msg *m = pcsc_msg_new(MSG_SERVICE_DOWN);

			m->rv = SCARD_E_NO_SERVICE;
			pcsc_post(p, m);
			/* pcscd was there a moment ago: retry soon */
			if (monitor_sleep(p, p->retry_min))
				break;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Worker threads                                                      */

/* The worker's side of a request, for the hook (pcsc.h). */
struct pcsc_worker {
	struct pcsc_reader *r;
	struct req *q;
	LONG rv;
};

static int worker_tx(void *arg, const uint8_t *cmd, size_t clen,
		     uint8_t *resp, size_t *rlen)
{
	struct pcsc_worker *t = arg;
	const SCARD_IO_REQUEST *pci = t->r->proto == SCARD_PROTOCOL_T0 ?
		SCARD_PCI_T0 : SCARD_PCI_T1;
	DWORD n = *rlen;

	t->rv = SCardTransmit(t->r->card, pci, cmd, clen, NULL, resp, &n);
	if (t->rv != SCARD_S_SUCCESS)
		return pcsc_rv_to_errno(t->rv);
	*rlen = n;
	if (t->q->ntaps < MAX_TAPS) {
		struct tap *tp = &t->q->taps[t->q->ntaps++];

		memcpy(tp->cmd, cmd, clen);
		tp->clen = clen;
		memcpy(tp->resp, resp, n);
		tp->rlen = n;
	}
	return 0;
}

static void worker_connect(struct pcsc_reader *r, struct req *q)
{
	DWORD protos, active = 0, state, proto, namelen = 0, atrlen = MAX_ATR_SIZE;
	LONG rv;

	switch (r->pcsc->protocol) {
	case PCSC_PROTO_T0:
		protos = SCARD_PROTOCOL_T0;
		break;
	case PCSC_PROTO_T1:
		protos = SCARD_PROTOCOL_T1;
		break;
	default:
		protos = SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1;
	}
	if (!r->ctx) {
		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &r->ctx);
		if (rv != SCARD_S_SUCCESS) {
			r->ctx = 0;
			q->rv = rv;
			q->err = pcsc_rv_to_errno(rv);
			return;
		}
	}
	if (q->reset && r->card) {
		/* a card that failed: a warm reset, then its start-up again */
		rv = SCardReconnect(r->card, r->pcsc->exclusive ?
				    SCARD_SHARE_EXCLUSIVE : SCARD_SHARE_SHARED,
				    protos, SCARD_RESET_CARD, &active);
		if (rv != SCARD_S_SUCCESS) {
			SCardDisconnect(r->card, SCARD_RESET_CARD);
			r->card = 0;
		}
	}
	if (!r->card)
		rv = SCardConnect(r->ctx, r->name,
				  r->pcsc->exclusive ? SCARD_SHARE_EXCLUSIVE :
						       SCARD_SHARE_SHARED,
				  protos, &r->card, &active);
	if (rv == SCARD_S_SUCCESS)
		rv = SCardStatus(r->card, NULL, &namelen, &state, &proto,
				 q->atr, &atrlen);
	q->rv = rv;
	q->err = pcsc_rv_to_errno(rv);
	if (rv == SCARD_S_SUCCESS) {
		q->atr_len = atrlen;
		q->proto = active;
	} else if (r->card) {
		SCardDisconnect(r->card, SCARD_LEAVE_CARD);
		r->card = 0;
	}
}

/* Tell the loop of the hook's notes, with the APDUs so far. */
static void worker_flush(struct pcsc_worker *w)
{
	struct req *q = w->q;
	struct notes *a;
	struct msg *m;

	if (!q->nnotes)
		return;
	a = malloc(sizeof(*a) + q->ntaps * sizeof(a->taps[0]));
	m = pcsc_msg_new(MSG_NOTES);
	if (!a)
		abort();	/* the card has its answer: the loop must know */
	a->hook = q->hook;
	a->gen = q->gen;
	a->nnotes = q->nnotes;
	memcpy(a->notes, q->notes, q->nnotes * sizeof(void *));
	q->nnotes = 0;
	a->ntaps = q->ntaps;
	memcpy(a->taps, q->taps, q->ntaps * sizeof(a->taps[0]));
	q->ntaps = 0;
	m->reader = w->r;
	m->notes = a;
	pcsc_post(w->r->pcsc, m);
}

int pcsc_worker_exchange(struct pcsc_worker *w, const uint8_t *cmd,
			 size_t clen, struct apdu_result *res)
{
	int err = apdu_exchange(worker_tx, w, cmd, clen, res);

	w->q->rv = w->rv;
	return err;
}

/*
 * The loop hears of the notes in batches, at once when one is urgent, and
 * always before the request completes.
 */
void pcsc_worker_note(struct pcsc_worker *w, void *note, bool urgent)
{
	struct req *q = w->q;

	q->notes[q->nnotes++] = note;
	if (urgent || q->nnotes == BATCH)
		worker_flush(w);
}

void *pcsc_worker_main(void *arg)
{
	struct pcsc_reader *r = arg;
	struct pcsc *p = r->pcsc;
	bool quit = false;

	while (!quit) {
		struct req *q;
		struct msg *m;

		pthread_mutex_lock(&r->lock);
		while (!r->head)
			pthread_cond_wait(&r->cond, &r->lock);
		q = r->head;
		r->head = q->next;
		if (!r->head)
			r->tail = &r->head;
		pthread_mutex_unlock(&r->lock);

		switch (q->type) {
		case REQ_CONNECT:
			worker_connect(r, q);
			break;
		case REQ_TRANSMIT:
			if (!r->card) {
				q->err = -ENODEV;
				break;
			}
			{
				struct pcsc_worker w = { r, q, SCARD_S_SUCCESS };

				q->err = pcsc_worker_exchange(&w, q->cmd,
							      q->clen, &q->res);
				if (!q->err && q->hook)
					q->err = q->hook->ops->more(
						q->hook->arg, &w, q->cmd,
						q->clen, &q->res);
				worker_flush(&w);
			}
			break;
		case REQ_DISCONNECT:
		case REQ_QUIT:
			if (r->card) {
				SCardDisconnect(r->card, SCARD_RESET_CARD);
				r->card = 0;
			}
			if (q->type == REQ_QUIT) {
				if (r->ctx)
					SCardReleaseContext(r->ctx);
				r->ctx = 0;
				quit = true;
			}
			break;
		}
		m = pcsc_msg_new(quit ? MSG_WORKER_EXIT :
			    q->type == REQ_CONNECT ? MSG_CONNECTED : MSG_TRANSMITTED);
		m->reader = r;
		m->req = q;
		pcsc_post(p, m);
	}
	return NULL;
}

struct req *pcsc_req_new(enum req_type t, unsigned gen)
{
	/* not calloc: the result areas are large and written before use */
	struct req *q = malloc(sizeof(*q));

	if (q) {
		memset(q, 0, offsetof(struct req, res));
		q->type = t;
		q->gen = gen;
		q->ntaps = 0;
		q->atr_len = 0;
		q->proto = 0;
	}
	return q;
}

void pcsc_worker_push(struct pcsc_reader *r, struct req *q)
{
	pthread_mutex_lock(&r->lock);
	q->next = NULL;
	*r->tail = q;
	r->tail = &q->next;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

