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

static void card_connect(struct pcsc_reader *r)
{
	struct req *q;

	if (!r->has_worker || r->quitting || !r->present ||
	    r->state != CARD_ABSENT)
		return;
	q = pcsc_req_new(REQ_CONNECT, r->gen);
	if (!q) {
		log_err(LOG_CARD, "%s: out of memory", r->name);
		return;
	}
	r->state = CARD_CONNECTING;
	log_debug(LOG_CARD, "%s: connecting", r->name);
	pcsc_worker_push(r, q);
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
		struct req *d = pcsc_req_new(REQ_DISCONNECT, r->gen);

		log_notice(LOG_CARD, "%s: card %s, connecting again", r->name,
			   q->err == -ENODEV ? "removed" : "reset");
		card_end(r);
		if (d)
			pcsc_worker_push(r, d);
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
