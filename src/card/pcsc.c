/* SPDX-License-Identifier: MIT */
/*
 * PC/SC threads.  Threads never touch loop state: they put messages on
 * pcsc->inbox and make pcsc->wake active; pcsc_drain() runs on the loop.
 * Monitor thread: context, reader list, SCardGetStatusChange on every reader
 * plus "\\?PnP?\Notification", backoff when pcscd is gone.
 * Worker thread (one per matching reader): connect, transmit, disconnect.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <winscard.h>

#include "card/pcsc.h"
#include "log.h"

#define PNP_READER	"\\\\?PnP?\\Notification"
#define MAX_READERS	16
#define BATCH		16	/* notes the loop is told of at once */
/* a transmit and one more exchange, then up to BATCH notes after two
 * exchanges each, with a GET RESPONSE or a resend each under T=0 */
#define MAX_TAPS	(4 + 4 * BATCH)

/* Messages from threads to the loop. */
enum msg_type {
	MSG_SERVICE_UP,
	MSG_SERVICE_DOWN,
	MSG_READERS,		/* the current reader list (names) */
	MSG_CARD_PRESENT,	/* name */
	MSG_CARD_ABSENT,	/* name */
	MSG_CONNECTED,		/* worker: connect done (err, atr, protocol) */
	MSG_TRANSMITTED,	/* worker: request done */
	MSG_NOTES,		/* worker: notes its hook left */
	MSG_WORKER_EXIT,	/* worker: thread finished */
};

struct tap {
	uint8_t cmd[APDU_MAX_CMD];
	size_t clen;
	uint8_t resp[APDU_MAX_RESP];
	size_t rlen;
};

/* An installed hook (see pcsc.h); loop-owned, shared read-only. */
struct hook {
	const struct pcsc_hook_ops *ops;
	void *arg;
	unsigned refs;			/* loop only: requests carrying it */
	bool detached;			/* loop only */
};

/* The notes a hook left on the worker, for the loop. */
struct notes {
	struct hook *hook;
	unsigned gen;
	unsigned nnotes;
	void *notes[BATCH];
	unsigned ntaps;
	struct tap taps[];
};

/* A request to a worker; returned to the loop as its completion. */
enum req_type { REQ_CONNECT, REQ_TRANSMIT, REQ_DISCONNECT, REQ_QUIT };

struct req {
	enum req_type type;
	struct req *next;
	unsigned gen;			/* card session it belongs to */
	uint8_t cmd[APDU_MAX_CMD];
	size_t clen;
	pcsc_done_fn done;
	void *arg;
	struct hook *hook;		/* continues after the exchange */
	unsigned nnotes;		/* left, the loop not told yet */
	void *notes[BATCH];
	/* results */
	int err;
	long rv;
	struct apdu_result res;
	unsigned ntaps;
	struct tap taps[MAX_TAPS];
	uint8_t atr[MAX_ATR_SIZE];
	size_t atr_len;
	unsigned long proto;
};

struct msg {
	enum msg_type type;
	struct msg *next;
	struct pcsc_reader *reader;	/* worker messages */
	struct req *req;		/* worker messages */
	struct notes *notes;		/* MSG_NOTES */
	long rv;
	char *names;			/* MSG_READERS: multi-string; else one name */
	size_t names_len;
};

enum card_state {
	CARD_ABSENT,		/* no card, or not ours */
	CARD_CONNECTING,
	CARD_READY,
};

struct pcsc_reader {
	struct pcsc *pcsc;
	struct pcsc_reader *next;
	char *name;
	bool present;			/* monitor says a card is in */
	enum card_state state;
	unsigned gen;			/* bumps at every card session end */
	uint8_t atr[MAX_ATR_SIZE];
	size_t atr_len;
	unsigned long proto;
	void *data;
	struct hook *hook;		/* loop only */

	/* worker; NULL thread when the reader does not match */
	bool has_worker;
	bool quitting;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct req *head, **tail;
	SCARDHANDLE card;		/* worker thread only */
	SCARDCONTEXT ctx;		/* worker thread only */
};

struct pcsc {
	struct event_base *base;
	struct event *wake;
	const struct pcsc_ops *ops;
	void *arg;
	pcsc_tap_fn tap;
	void *tap_arg;

	char pattern[256];
	bool exclusive;
	enum pcsc_proto protocol;
	struct pcsc_reader *readers;
	bool service_up;
	bool service_known;
	unsigned nworkers;		/* running, including unlinked readers' */

	/* shared with threads, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct msg *inbox, **inbox_tail;
	bool stop;
	unsigned retry_min, retry_max;
	SCARDCONTEXT mctx;
	bool mctx_valid;
	pthread_t monitor;
};

static void post(struct pcsc *p, struct msg *m)
{
	pthread_mutex_lock(&p->lock);
	m->next = NULL;
	*p->inbox_tail = m;
	p->inbox_tail = &m->next;
	pthread_mutex_unlock(&p->lock);
	event_active(p->wake, EV_READ, 0);
}

static struct msg *msg_new(enum msg_type t)
{
	struct msg *m = calloc(1, sizeof(*m));

	if (!m)
		abort();	/* a lost hot-plug event would wedge the daemon */
	m->type = t;
	return m;
}

static void post_name(struct pcsc *p, enum msg_type t, const char *name)
{
	struct msg *m = msg_new(t);

	m->names = strdup(name);
	if (!m->names)
		abort();
	post(p, m);
}

static int rv_to_errno(LONG rv)
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
				struct msg *m = msg_new(MSG_READERS);

				m->names = malloc(len + 1);
				if (!m->names)
					abort();
				memcpy(m->names, names, len);
				m->names[len] = '\0';
				m->names_len = len;
				post(p, m);
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
				bool is = (ev & SCARD_STATE_PRESENT) &&
					  !(ev & SCARD_STATE_MUTE);

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

static void *monitor_main(void *arg)
{
	struct pcsc *p = arg;
	unsigned backoff = 0;

	while (!monitor_stopping(p)) {
		SCARDCONTEXT ctx;
		LONG rv;

		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
		if (rv != SCARD_S_SUCCESS) {
			struct msg *m = msg_new(MSG_SERVICE_DOWN);

			m->rv = rv;
			post(p, m);
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
		post(p, msg_new(MSG_SERVICE_UP));
		monitor_watch(p, ctx);
		monitor_release(p);
		if (!monitor_stopping(p)) {
			struct msg *m = msg_new(MSG_SERVICE_DOWN);

			m->rv = SCARD_E_NO_SERVICE;
			post(p, m);
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
		return rv_to_errno(t->rv);
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
			q->err = rv_to_errno(rv);
			return;
		}
	}
	rv = SCardConnect(r->ctx, r->name,
			  r->pcsc->exclusive ? SCARD_SHARE_EXCLUSIVE : SCARD_SHARE_SHARED,
			  protos, &r->card, &active);
	if (rv == SCARD_S_SUCCESS)
		rv = SCardStatus(r->card, NULL, &namelen, &state, &proto,
				 q->atr, &atrlen);
	q->rv = rv;
	q->err = rv_to_errno(rv);
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
	m = msg_new(MSG_NOTES);
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
	post(w->r->pcsc, m);
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

static void *worker_main(void *arg)
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
		m = msg_new(quit ? MSG_WORKER_EXIT :
			    q->type == REQ_CONNECT ? MSG_CONNECTED : MSG_TRANSMITTED);
		m->reader = r;
		m->req = q;
		post(p, m);
	}
	return NULL;
}

static struct req *req_new(enum req_type t, unsigned gen)
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

static void worker_push(struct pcsc_reader *r, struct req *q)
{
	pthread_mutex_lock(&r->lock);
	q->next = NULL;
	*r->tail = q;
	r->tail = &q->next;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* ------------------------------------------------------------------ */
/* Loop side                                                           */

static struct pcsc_reader *reader_find(struct pcsc *p, const char *name)
{
	for (struct pcsc_reader *r = p->readers; r; r = r->next)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

static bool reader_matches(struct pcsc *p, const char *name)
{
	return fnmatch(p->pattern, name, 0) == 0;
}

static void hook_put(struct hook *h)
{
	if (h && !--h->refs && h->detached) {
		h->ops->release(h->arg);
		free(h);
	}
}

static void hook_detach(struct pcsc_reader *r)
{
	struct hook *h = r->hook;

	if (!h)
		return;
	r->hook = NULL;
	h->detached = true;
	h->refs++;
	hook_put(h);
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

static void on_notes(struct pcsc *p, struct pcsc_reader *r, struct notes *a)
{
	bool live = a->gen == r->gen && r->state == CARD_READY;

	if (p->tap)
		for (unsigned i = 0; i < a->ntaps; i++)
			p->tap(p->tap_arg, r, a->taps[i].cmd, a->taps[i].clen,
			       a->taps[i].resp, a->taps[i].rlen);
	for (unsigned i = 0; i < a->nnotes; i++)
		a->hook->ops->apply(a->hook->arg, a->notes[i], live);
}

/* End the card session: callbacks of in-flight requests are dropped. */
static void card_end(struct pcsc_reader *r)
{
	struct pcsc *p = r->pcsc;
	enum card_state was = r->state;

	r->gen++;
	r->state = CARD_ABSENT;
	if (was == CARD_READY) {
		log_info(LOG_CARD, "%s: card gone", r->name);
		p->ops->card_gone(p->arg, r);
	}
	hook_detach(r);
	r->data = NULL;
}

static void card_connect(struct pcsc_reader *r)
{
	struct req *q;

	if (!r->has_worker || r->quitting || !r->present ||
	    r->state != CARD_ABSENT)
		return;
	q = req_new(REQ_CONNECT, r->gen);
	if (!q) {
		log_err(LOG_CARD, "%s: out of memory", r->name);
		return;
	}
	r->state = CARD_CONNECTING;
	log_debug(LOG_CARD, "%s: connecting", r->name);
	worker_push(r, q);
}

static void worker_start(struct pcsc_reader *r)
{
	if (r->has_worker)
		return;
	r->head = NULL;
	r->tail = &r->head;
	r->quitting = false;
	if (pthread_create(&r->thread, NULL, worker_main, r)) {
		log_err(LOG_CARD, "%s: cannot start worker thread", r->name);
		return;
	}
	r->has_worker = true;
	r->pcsc->nworkers++;
	log_info(LOG_CARD, "%s: using reader", r->name);
	card_connect(r);
}

/* Ask the worker to release the card and exit; freed on MSG_WORKER_EXIT. */
static void worker_stop(struct pcsc_reader *r)
{
	struct req *q;

	card_end(r);
	if (!r->has_worker || r->quitting)
		return;
	q = req_new(REQ_QUIT, r->gen);
	if (!q)
		abort();
	r->quitting = true;
	worker_push(r, q);
}

static void reader_free(struct pcsc_reader *r)
{
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r->name);
	free(r);
}

static void reader_unlink(struct pcsc *p, struct pcsc_reader *r)
{
	for (struct pcsc_reader **pp = &p->readers; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			return;
		}
	}
}

/* A reader left the list: stop its worker; free it now or at its exit. */
static void reader_drop(struct pcsc *p, struct pcsc_reader *r)
{
	log_debug(LOG_CARD, "%s: reader removed", r->name);
	reader_unlink(p, r);
	if (r->has_worker) {
		r->present = false;
		worker_stop(r);	/* freed at MSG_WORKER_EXIT */
	} else {
		reader_free(r);
	}
}

static void readers_update(struct pcsc *p, const char *names, size_t len)
{
	struct pcsc_reader *r, *next;

	/* drop readers that are gone */
	for (r = p->readers; r; r = next) {
		bool found = false;

		next = r->next;
		for (const char *n = names; n < names + len && *n;
		     n += strlen(n) + 1)
			if (!strcmp(n, r->name))
				found = true;
		if (!found)
			reader_drop(p, r);
	}
	/* add new ones */
	for (const char *n = names; n < names + len && *n; n += strlen(n) + 1) {
		if (reader_find(p, n))
			continue;
		r = calloc(1, sizeof(*r));
		if (!r || !(r->name = strdup(n))) {
			free(r);
			log_err(LOG_CARD, "out of memory adding reader %s", n);
			continue;
		}
		r->pcsc = p;
		pthread_mutex_init(&r->lock, NULL);
		pthread_cond_init(&r->cond, NULL);
		r->next = p->readers;
		p->readers = r;
		if (reader_matches(p, n))
			worker_start(r);
		else
			log_info(LOG_CARD, "%s: ignored (does not match reader = %s)",
				 n, p->pattern);
	}
}

static void on_connected(struct pcsc *p, struct pcsc_reader *r, struct req *q)
{
	if (q->gen != r->gen || r->quitting || r->state != CARD_CONNECTING)
		return;
	if (q->err) {
		r->state = CARD_ABSENT;
		if (q->err == -ENODEV) {
			log_info(LOG_CARD, "%s: card left before it was connected",
				 r->name);
		} else {
			log_err(LOG_CARD, "%s: cannot connect to the card: %s",
				r->name, pcsc_stringify_error(q->rv));
		}
		return;
	}
	memcpy(r->atr, q->atr, q->atr_len);
	r->atr_len = q->atr_len;
	r->proto = q->proto;
	r->state = CARD_READY;
	{
		char hex[2 * MAX_ATR_SIZE + 1];

		for (size_t i = 0; i < r->atr_len; i++)
			snprintf(hex + 2 * i, 3, "%02X", r->atr[i]);
		hex[2 * r->atr_len] = '\0';
		log_info(LOG_CARD, "%s: card present, %s, ATR %s", r->name,
			 pcsc_reader_protocol(r), hex);
	}
	p->ops->card_ready(p->arg, r);
}

static void on_transmitted(struct pcsc *p, struct pcsc_reader *r, struct req *q)
{
	if (p->tap)
		for (unsigned i = 0; i < q->ntaps; i++)
			p->tap(p->tap_arg, r, q->taps[i].cmd, q->taps[i].clen,
			       q->taps[i].resp, q->taps[i].rlen);
	if (q->gen != r->gen || r->state != CARD_READY)
		return;		/* that card session is over */
	if ((q->err == -ENODEV || q->err == -ECONNRESET) && !r->quitting) {
		/*
		 * The card was swapped or reset behind our back (the reader
		 * may never have looked empty): end this session and connect
		 * again; if no card is there the connect says so.
		 */
		struct req *d = req_new(REQ_DISCONNECT, r->gen);

		log_notice(LOG_CARD, "%s: card %s, connecting again", r->name,
			   q->err == -ENODEV ? "removed" : "reset");
		card_end(r);
		if (d)
			worker_push(r, d);
		card_connect(r);
		return;
	}
	if (q->err) {
		if (q->err == -EPROTO)
			log_warn(LOG_CARD, "%s: malformed response from the card",
				 r->name);
		else
			log_warn(LOG_CARD, "%s: transmit failed: %s", r->name,
				 pcsc_stringify_error(q->rv));
	}
	q->done(q->arg, q->err, q->err ? NULL : &q->res);
}

static void service_change(struct pcsc *p, bool up, long rv)
{
	if (p->service_known && p->service_up == up)
		return;
	/* logged once per transition, however long the outage */
	if (up)
		log_notice(LOG_CARD, "connected to pcscd");
	else
		log_warn(LOG_CARD, "pcscd not available (%s); retrying every %u..%us",
			 pcsc_stringify_error(rv), p->retry_min, p->retry_max);
	p->service_up = up;
	p->service_known = true;
	if (!up)
		readers_update(p, "", 0);
	if (p->ops->service)
		p->ops->service(p->arg, up);
}

static void pcsc_drain(evutil_socket_t fd, short what, void *arg)
{
	struct pcsc *p = arg;
	struct msg *m, *next;

	pthread_mutex_lock(&p->lock);
	m = p->inbox;
	p->inbox = NULL;
	p->inbox_tail = &p->inbox;
	pthread_mutex_unlock(&p->lock);

	for (; m; m = next) {
		struct pcsc_reader *r;

		next = m->next;
		switch (m->type) {
		case MSG_SERVICE_UP:
			service_change(p, true, 0);
			break;
		case MSG_SERVICE_DOWN:
			service_change(p, false, m->rv);
			break;
		case MSG_READERS:
			readers_update(p, m->names, m->names_len);
			break;
		case MSG_CARD_PRESENT:
			r = reader_find(p, m->names);
			if (r) {
				r->present = true;
				card_connect(r);
			}
			break;
		case MSG_CARD_ABSENT:
			r = reader_find(p, m->names);
			if (r) {
				r->present = false;
				if (r->state != CARD_ABSENT && r->has_worker) {
					struct req *q = req_new(REQ_DISCONNECT, r->gen);

					card_end(r);
					if (q)
						worker_push(r, q);
				}
			}
			break;
		case MSG_CONNECTED:
			on_connected(p, m->reader, m->req);
			break;
		case MSG_TRANSMITTED:
			on_transmitted(p, m->reader, m->req);
			hook_put(m->req->hook);
			break;
		case MSG_NOTES:
			on_notes(p, m->reader, m->notes);
			free(m->notes);
			break;
		case MSG_WORKER_EXIT:
			r = m->reader;
			pthread_join(r->thread, NULL);	/* it has returned */
			r->has_worker = false;
			p->nworkers--;
			if (!reader_find(p, r->name) || r != reader_find(p, r->name))
				reader_free(r);
			else
				r->quitting = false;
			break;
		}
		free(m->req);
		free(m->names);
		free(m);
	}
}

struct pcsc *pcsc_new(struct event_base *base, const struct pcsc_config *cfg,
		      const struct pcsc_ops *ops, void *arg)
{
	struct pcsc *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (!p)
		return NULL;
	p->base = base;
	p->ops = ops;
	p->arg = arg;
	p->inbox_tail = &p->inbox;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	pcsc_reconfigure(p, cfg);
	p->wake = event_new(base, -1, 0, pcsc_drain, p);
	if (!p->wake || pthread_create(&p->monitor, NULL, monitor_main, p)) {
		if (p->wake)
			event_free(p->wake);
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->cond);
		free(p);
		return NULL;
	}
	return p;
}

void pcsc_reconfigure(struct pcsc *p, const struct pcsc_config *cfg)
{
	snprintf(p->pattern, sizeof(p->pattern), "%s", cfg->reader);
	p->exclusive = cfg->exclusive;
	p->protocol = cfg->protocol;
	pthread_mutex_lock(&p->lock);
	p->retry_min = cfg->retry_min;
	p->retry_max = cfg->retry_max;
	pthread_mutex_unlock(&p->lock);
	/* readers that now match get a worker; those that no longer do lose it */
	for (struct pcsc_reader *r = p->readers; r; r = r->next) {
		bool match = reader_matches(p, r->name);

		if (match && !r->has_worker)
			worker_start(r);
		else if (!match && r->has_worker && !r->quitting) {
			log_info(LOG_CARD, "%s: no longer matches reader = %s",
				 r->name, p->pattern);
			worker_stop(r);
		}
	}
}

void pcsc_free(struct pcsc *p)
{
	struct pcsc_reader *r, *next;

	if (!p)
		return;
	/*
	 * Wake the monitor: SCardCancel interrupts SCardGetStatusChange, the
	 * condition interrupts the backoff.  A cancel can land just before the
	 * monitor enters the wait, so repeat it until the thread is gone.
	 */
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (;;) {
		struct timespec ts;

		pthread_mutex_lock(&p->lock);
		if (p->mctx_valid)
			SCardCancel(p->mctx);
		pthread_mutex_unlock(&p->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(p->monitor, NULL, &ts) == 0)
			break;
	}
	/* release every reader and join its worker */
	for (r = p->readers; r; r = r->next)
		worker_stop(r);
	for (;;) {
		pcsc_drain(-1, 0, p);
		if (!p->nworkers)
			break;
		/* blocking is fine here: the loop has ended */
		nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	}
	for (r = p->readers; r; r = next) {
		next = r->next;
		reader_free(r);
	}
	event_free(p->wake);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

static int transmit(struct pcsc_reader *r, const uint8_t *cmd, size_t len,
		    pcsc_done_fn done, void *arg, bool more)
{
	struct req *q;

	if (r->state != CARD_READY || r->quitting)
		return -ENODEV;
	if (len < 4 || len > APDU_MAX_CMD)
		return -EINVAL;
	q = req_new(REQ_TRANSMIT, r->gen);
	if (!q)
		return -ENOMEM;
	memcpy(q->cmd, cmd, len);
	q->clen = len;
	q->done = done;
	q->arg = arg;
	if (more && r->hook) {
		q->hook = r->hook;
		q->hook->refs++;
	}
	worker_push(r, q);
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
	return r->proto == SCARD_PROTOCOL_T0 ? "T=0" : "T=1";
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
