/* SPDX-License-Identifier: MIT */
/*
 * PC/SC, the loop side: readers and card sessions as the threads report
 * them (pcsc_thread.c), requests to the workers and their completions.
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

#include "card/pcsc_int.h"
#include "log.h"

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

static void card_connect_as(struct pcsc_reader *r, bool reset)
{
	struct req *q;

	if (!r->has_worker || r->quitting || !r->present || r->given_up ||
	    r->state != CARD_ABSENT)
		return;
	q = pcsc_req_new(REQ_CONNECT, r->gen);
	if (!q) {
		log_err(LOG_CARD, "%s: out of memory", r->name);
		return;
	}
	q->reset = reset;
	r->state = CARD_CONNECTING;
	log_debug(LOG_CARD, "%s: connecting", r->name);
	pcsc_worker_push(r, q);
}

static void card_connect(struct pcsc_reader *r)
{
	card_connect_as(r, false);
}

#define MAX_FAILURES	3	/* card sessions failed in a row, then left */
#define RESET_DELAY_MS	250	/* before the second reset, doubled after */

static void retry_reset(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	card_connect_as(arg, true);
}

/*
 * The card session failed: a transmission error, no answer in time, a
 * connect that did not work.  Never a dead end: the session ends at once
 * for everyone above (card_gone: CardRemoved, BIP peers closed, callers
 * answered with an error), and the card is reset and started again, at
 * once, then after 250 ms, 500 ms...  After MAX_FAILURES in a row it is
 * left alone until it is taken out, and the log says so.
 */
static void card_fail(struct pcsc_reader *r, const char *what)
{
	struct timeval tv = { 0, 0 };
	unsigned ms = 0;

	if (r->quitting || r->given_up) {
		card_end(r);
		return;
	}
	if (++r->failures > MAX_FAILURES) {
		log_err(LOG_CARD, "%s: %s; the card failed %u times in a row: "
			"left alone until it is taken out", r->name, what,
			MAX_FAILURES);
		r->given_up = true;
	} else {
		ms = r->failures == 1 ? 0 : RESET_DELAY_MS << (r->failures - 2);
		log_notice(LOG_CARD, "%s: %s: resetting the card (%u of %u)",
			   r->name, what, r->failures, MAX_FAILURES);
	}
	card_end(r);
	r->inflight = 0;
	evtimer_del(r->tx_timer);
	if (r->given_up)
		return;
	if (!ms) {
		card_connect_as(r, true);
		return;
	}
	tv.tv_usec = (suseconds_t)ms * 1000;
	evtimer_add(r->retry_timer, &tv);
}

/* An exchange took longer than apdu_timeout: the card is not answering. */
static void tx_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pcsc_reader *r = arg;
	char why[80];

	(void)fd;
	(void)what;
	if (r->state != CARD_READY || !r->inflight)
		return;
	snprintf(why, sizeof(why), "no answer from the card within %u s",
		 r->pcsc->apdu_timeout);
	card_fail(r, why);
}

static void tx_arm(struct pcsc_reader *r)
{
	struct timeval tv = { (time_t)r->pcsc->apdu_timeout, 0 };

	if (r->inflight && r->pcsc->apdu_timeout)
		evtimer_add(r->tx_timer, &tv);
	else
		evtimer_del(r->tx_timer);
}

static void worker_start(struct pcsc_reader *r)
{
	if (r->has_worker)
		return;
	r->head = NULL;
	r->tail = &r->head;
	r->quitting = false;
	if (pthread_create(&r->thread, NULL, pcsc_worker_main, r)) {
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
	q = pcsc_req_new(REQ_QUIT, r->gen);
	if (!q)
		abort();
	r->quitting = true;
	pcsc_worker_push(r, q);
}

static void reader_free(struct pcsc_reader *r)
{
	if (r->tx_timer)
		event_free(r->tx_timer);
	if (r->retry_timer)
		event_free(r->retry_timer);
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
		r->tx_timer = evtimer_new(p->base, tx_timeout, r);
		r->retry_timer = evtimer_new(p->base, retry_reset, r);
		if (!r->tx_timer || !r->retry_timer)
			abort();	/* a card that hangs would hang us */
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

/*
 * The card does not offer the one protocol [card] protocol allows: no
 * reset changes that, so it is said once, naming the key, and the card
 * is left alone until it is taken out or the key changes (reload).
 */
static void proto_mismatch(struct pcsc *p, struct pcsc_reader *r)
{
	bool t0 = p->protocol == PCSC_PROTO_T0;

	log_err(LOG_CARD, "%s: the card does not offer %s, the only protocol "
		"[card] protocol = %s allows: set [card] protocol = any (or "
		"%s); the card is left alone until then", r->name,
		t0 ? "T=0" : "T=1", t0 ? "t0" : "t1", t0 ? "t1" : "t0");
	r->given_up = true;
	r->mismatch = true;
}

static void on_connected(struct pcsc *p, struct pcsc_reader *r, struct req *q)
{
	char why[120];

	if (q->gen != r->gen || r->quitting || r->state != CARD_CONNECTING)
		return;
	if (q->err) {
		r->state = CARD_ABSENT;
		if (q->err == -ENODEV && !r->present) {
			log_info(LOG_CARD, "%s: card left before it was connected",
				 r->name);
			return;
		}
		if (q->rv == SCARD_E_PROTO_MISMATCH &&
		    p->protocol != PCSC_PROTO_ANY) {
			proto_mismatch(p, r);
			return;
		}
		/* still there as far as pcscd said: try again, bounded */
		snprintf(why, sizeof(why), "cannot connect to the card: %s",
			 pcsc_stringify_error(q->rv));
		card_fail(r, why);
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
		log_info(LOG_CARD, "%s: card present, %s, ATR %s%s", r->name,
			 pcsc_reader_protocol(r), hex,
			 q->reset ? " (after a reset)" : "");
	}
	p->ops->card_ready(p->arg, r);
}

static void on_transmitted(struct pcsc *p, struct pcsc_reader *r, struct req *q)
{
	char why[120];

	if (p->tap)
		for (unsigned i = 0; i < q->ntaps; i++)
			p->tap(p->tap_arg, r, q->taps[i].cmd, q->taps[i].clen,
			       q->taps[i].resp, q->taps[i].rlen);
	if (q->gen != r->gen || r->state != CARD_READY)
		return;		/* that card session is over */
	if (r->inflight)
		r->inflight--;
	tx_arm(r);
	if (q->err && !r->quitting) {
		/*
		 * Removed, reset behind our back, a transmission that failed
		 * (pcscd: "Transaction failed"), or an answer that is no
		 * answer (no status word, a 61/6C chain that never ends:
		 * what a link cut mid-APDU leaves): whatever the card was
		 * doing is lost, so is its toolkit session, and the card is
		 * reset (bounded) rather than left waiting for a command
		 * that will not come.
		 */
		if (q->err == -ENODEV)
			snprintf(why, sizeof(why), "card removed");
		else if (q->err == -ECONNRESET)
			snprintf(why, sizeof(why), "card reset");
		else if (q->err == -EPROTO)
			snprintf(why, sizeof(why),
				 "malformed response from the card");
		else
			snprintf(why, sizeof(why), "transmission failed: %s",
				 pcsc_stringify_error(q->rv));
		card_fail(r, why);
		return;
	}
	if (!q->err)
		r->failures = 0;	/* it answers: the session is sound */
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
				/* taken out: a card put in is a new one */
				r->failures = 0;
				r->given_up = false;
				r->mismatch = false;
				evtimer_del(r->retry_timer);
				if (r->state != CARD_ABSENT && r->has_worker) {
					struct req *q = pcsc_req_new(REQ_DISCONNECT, r->gen);

					card_end(r);
					if (q)
						pcsc_worker_push(r, q);
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
	if (!p->wake || pthread_create(&p->monitor, NULL, pcsc_monitor_main, p)) {
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
	bool proto_changed = p->protocol != cfg->protocol;

	snprintf(p->pattern, sizeof(p->pattern), "%s", cfg->reader);
	p->exclusive = cfg->exclusive;
	p->protocol = cfg->protocol;
	/* a card refused for its protocol is tried again with the new one */
	for (struct pcsc_reader *r = p->readers; proto_changed && r; r = r->next)
		if (r->mismatch) {
			r->mismatch = false;
			r->given_up = false;
			r->failures = 0;
			card_connect(r);
		}
	p->apdu_timeout = cfg->apdu_timeout;
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

/* What shutdown may wait for pcscd and the cards, all in all. */
#define STOP_WAIT_MS	2000

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * One SCardCancel, on a thread of its own: it talks to pcscd and waits
 * for its answer, which a stopped pcscd never gives.  The job is freed by
 * whoever sees it done; one that never ends stays with its thread.
 */
struct cancel_job {
	SCARDCONTEXT ctx;
	volatile int done;	/* written once by the canceller */
};

static void *cancel_main(void *arg)
{
	struct cancel_job *j = arg;

	SCardCancel(j->ctx);
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Shut down while threads are stuck: kept, and reachable, until exit. */
static struct pcsc *pcsc_abandoned;

static bool monitor_stop(struct pcsc *p, uint64_t deadline)
{
	struct cancel_job *job = NULL;
	pthread_attr_t at;
	pthread_t t;

	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (;;) {
		struct timespec ts;

		/*
		 * SCardCancel interrupts SCardGetStatusChange, the condition
		 * the backoff; a cancel can land just before the monitor
		 * waits, so it is repeated until the thread is gone.
		 */
		if (job && __atomic_load_n(&job->done, __ATOMIC_ACQUIRE)) {
			free(job);
			job = NULL;
		}
		pthread_mutex_lock(&p->lock);
		if (!job && p->mctx_valid && (job = calloc(1, sizeof(*job)))) {
			job->ctx = p->mctx;
			if (pthread_create(&t, &at, cancel_main, job)) {
				free(job);
				job = NULL;
			}
		}
		pthread_mutex_unlock(&p->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(p->monitor, NULL, &ts) == 0)
			break;
		if (mono_ms() >= deadline) {
			pthread_attr_destroy(&at);
			return false;	/* job stays with its thread */
		}
	}
	pthread_attr_destroy(&at);
	while (job && !__atomic_load_n(&job->done, __ATOMIC_ACQUIRE) &&
	       mono_ms() < deadline)
		nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	if (job && !__atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
		return false;
	free(job);
	return true;
}

/*
 * Stop within STOP_WAIT_MS whatever pcscd or a card do: a thread stuck in
 * a PC/SC call (a card that stopped answering, a stopped pcscd) is left
 * behind, with its memory, for the process exit to end.
 */
void pcsc_free(struct pcsc *p)
{
	uint64_t deadline = mono_ms() + STOP_WAIT_MS;
	struct pcsc_reader *r, *next;

	if (!p)
		return;
	if (!monitor_stop(p, deadline))
		goto abandon;
	/* release every reader and join its worker */
	for (r = p->readers; r; r = r->next)
		worker_stop(r);
	for (;;) {
		pcsc_drain(-1, 0, p);
		if (!p->nworkers)
			break;
		if (mono_ms() >= deadline)
			goto abandon;
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
	return;
abandon:
	log_warn(LOG_CARD, "pcscd or a card does not answer: stopping without "
		 "waiting for its %u thread%s", p->nworkers + 1,
		 p->nworkers ? "s" : "");
	pthread_mutex_lock(&p->lock);
	p->abandoned = true;	/* what they post later is dropped */
	pthread_mutex_unlock(&p->lock);
	for (r = p->readers; r; r = r->next) {
		evtimer_del(r->tx_timer);
		evtimer_del(r->retry_timer);
	}
	event_del(p->wake);
	pcsc_abandoned = p;
}

static int transmit(struct pcsc_reader *r, const uint8_t *cmd, size_t len,
		    pcsc_done_fn done, void *arg, bool more)
{
	struct req *q;

	if (r->state != CARD_READY || r->quitting)
		return -ENODEV;
	if (len < 4 || len > APDU_MAX_CMD)
		return -EINVAL;
	q = pcsc_req_new(REQ_TRANSMIT, r->gen);
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
	pcsc_worker_push(r, q);
	r->inflight++;
	tx_arm(r);
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
