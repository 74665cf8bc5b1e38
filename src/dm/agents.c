/* SPDX-License-Identifier: MIT */
/*
 * Exec agents, the daemon's side (agents.h): an Exec on an agent's node is
 * a call the session waits for; a 202 is made durable before the server
 * hears it; a result is made durable, then delivered by a Generic Alert
 * session per result, one at a time per server, tried again with back-off
 * until a session that carried it ends well.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "conf.h"
#include "dm/agents.h"
#include "dm/client.h"
#include "dm/exec.h"
#include "dm/file.h"
#include "dm/results.h"
#include "dm/store.h"
#include "log.h"

#define RETRY_MIN	10	/* seconds before the second delivery, doubled */
#define RETRY_MAX	3600	/* up to */

/* An Exec handed to an agent. */
struct call {
	unsigned id;
	struct dm_session *s;		/* NULL once its session is gone */
	struct dm_result rec;		/* key, server, URI, correlator; and a
					 * result that came before the 202 */
	bool early;			/* that result came */
	uint64_t gen;			/* 202: the write it waits for, else 0 */
	struct call *next;
};

/* What is not in the file: a result's delivery. */
struct delivery {
	char key[DM_RESULT_KEY_MAX + 1];
	unsigned session;		/* the session carrying it, 0 none */
	uint64_t due;			/* CLOCK_MONOTONIC usec of the next try */
};

struct dm_agents {
	struct event_base *base;
	struct dm_client *dc;
	const struct conf *conf;
	struct dm_agents_ops ops;
	struct call *calls;
	unsigned next_call;
	struct dm_results res;
	struct delivery *dl;		/* one per READY result, same key */
	size_t ndl;
	char path[300];
	struct dm_saver *saver;
	struct event *timer;		/* the next delivery due */
};

static uint64_t mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- the file ---- */

/* Hand the list to the writer: 0 with *gen, or < 0 (logged). */
static int save(struct dm_agents *a, uint64_t *gen)
{
	uint8_t *data;
	size_t len;
	int r;

	if (!a->saver)
		return -ENOMEM;
	if ((r = dm_results_serialize(&a->res, &data, &len)) < 0 ||
	    (r = dm_saver_save_bytes(a->saver, a->path, data, len, gen)) < 0)
		log_err(LOG_DM, "cannot save the Exec results: %s",
			strerror(-r));
	return r;
}

static void load(struct dm_agents *a)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char why[160], aside[400];
	int r = dm_file_read(a->path, (size_t)4 << 20, &data, &len);

	if (r == -ENOENT)
		return;
	if (r == 0)
		r = dm_results_parse(&a->res, data, len, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", strerror(-r));
	free(data);
	if (r == 0) {
		log_info(LOG_DM, "%zu Exec results loaded from %s", a->res.n,
			 a->path);
		return;
	}
	if (r == -EBADMSG && dm_file_move_aside(a->path, aside,
						sizeof(aside)) == 0)
		log_err(LOG_DM, "%s is corrupt (%s); kept as %s", a->path, why,
			aside);
	else
		log_err(LOG_DM, "cannot load %s: %s", a->path, why);
}

/* ---- delivery ---- */

static struct delivery *delivery_of(struct dm_agents *a, const char *key)
{
	for (size_t i = 0; i < a->ndl; i++)
		if (!strcmp(a->dl[i].key, key))
			return &a->dl[i];
	return NULL;
}

/* Deliver from the loop, soon. */
static void kick(struct dm_agents *a)
{
	struct timeval now = { 0, 0 };

	evtimer_add(a->timer, &now);
}

/* A READY result's delivery, due now; NULL when out of memory. */
static struct delivery *delivery_new(struct dm_agents *a, const char *key)
{
	struct delivery *v = realloc(a->dl, (a->ndl + 1) * sizeof(*v));

	if (!v)
		return NULL;
	a->dl = v;
	v = &a->dl[a->ndl++];
	memset(v, 0, sizeof(*v));
	snprintf(v->key, sizeof(v->key), "%s", key);
	v->due = mono_usec();
	return v;
}

/* The result of d is delivered or dropped: both go. */
static void result_drop(struct dm_agents *a, struct delivery *d)
{
	struct dm_result *x = dm_results_find(&a->res, d->key);

	if (x)
		dm_results_remove(&a->res, x);
	memmove(d, d + 1, (size_t)(a->dl + a->ndl - d - 1) * sizeof(*d));
	a->ndl--;
	(void)save(a, NULL);
}

/*
 * The Generic Alert for x (DM Protocol 1.2 8.7; DM RepPro 1.2 6.6.6: the
 * Correlator of the Exec, Source the node).  FUMO's nodes get FUMO's alert
 * types (OMA-TS-DM-FUMO-V1_0, Generic Alert types), others the vendor
 * type; Data is the agent's result code (Format int), with its data in a
 * second item of Format chr.  Meta Mark, optional: "informational" for a
 * success, "critical" for a failure.
 */
static void alert_of(const struct dm_result *x, struct dm_generic_alert *g)
{
	static const char *const fumo[][2] = {
		{ "/Download", "download" },
		{ "/Update", "update" },
		{ "/DownloadAndUpdate", "downloadandupdate" },
	};
	size_t ul = strlen(x->uri), i;

	memset(g, 0, sizeof(*g));
	snprintf(g->correlator, sizeof(g->correlator), "%s", x->correlator);
	snprintf(g->source, sizeof(g->source), "%s", x->uri);
	snprintf(g->type, sizeof(g->type), "%s", DM_AGENTS_ALERT_TYPE);
	for (i = 0; !strncmp(x->uri, "./FUMO/", 7) &&
		    i < sizeof(fumo) / sizeof(fumo[0]); i++) {
		size_t sl = strlen(fumo[i][0]);

		if (ul > sl && !strcmp(x->uri + ul - sl, fumo[i][0]))
			snprintf(g->type, sizeof(g->type),
				 "org.openmobilealliance.dm.firmwareupdate.%s",
				 fumo[i][1]);
	}
	snprintf(g->format, sizeof(g->format), "int");
	snprintf(g->mark, sizeof(g->mark), "%s", x->code >= 200 &&
		 x->code < 300 ? "informational" : "critical");
	snprintf(g->data, sizeof(g->data), "%u", x->code);
	snprintf(g->text, sizeof(g->text), "%s", x->data);
}

/* Seconds before the next try: 10 after the first, doubled, up to 3600. */
static unsigned backoff(const struct dm_result *x)
{
	unsigned wait = RETRY_MIN;

	for (unsigned n = 1; n < x->attempts && wait < RETRY_MAX; n++)
		wait *= 2;
	return wait < RETRY_MAX ? wait : RETRY_MAX;
}

static bool server_busy(struct dm_agents *a, const char *server_id)
{
	for (size_t i = 0; i < a->ndl; i++) {
		struct dm_result *x = dm_results_find(&a->res, a->dl[i].key);

		if (a->dl[i].session && x && !strcmp(x->server_id, server_id))
			return true;
	}
	return false;
}

/* Start what is due (one session per server at a time); arm the timer. */
static void deliver(struct dm_agents *a)
{
	struct dm_generic_alert g;
	uint64_t now = mono_usec(), next = UINT64_MAX;
	char why[200];
	size_t i = 0;
	int r;

	while (i < a->ndl) {
		struct delivery *d = &a->dl[i];
		struct dm_result *x = dm_results_find(&a->res, d->key);

		if (!x) {	/* cannot be: drop the orphan */
			result_drop(a, d);
			continue;
		}
		if (d->session || server_busy(a, x->server_id)) {
			i++;
			continue;
		}
		if (d->due > now) {
			next = d->due < next ? d->due : next;
			i++;
			continue;
		}
		alert_of(x, &g);
		r = dm_client_report(a->dc, x->server_id, &g, "exec", why,
				     sizeof(why));
		if (r == -ENOENT) {
			log_err(LOG_DM, "Exec result of %s (correlator %s) "
				"dropped: %s", x->uri, x->key, why);
			result_drop(a, d);
			continue;
		}
		x->attempts++;
		if (r > 0) {
			d->session = (unsigned)r;
			log_info(LOG_DM, "Exec result of %s (correlator %s, "
				 "result %u) to %s in session %d", x->uri,
				 x->key, x->code, x->server_id, r);
		} else {
			/* the client is disabled or its queue full */
			d->due = now + (uint64_t)backoff(x) * 1000000u;
			next = d->due < next ? d->due : next;
			log_notice(LOG_DM, "Exec result of %s for %s waits %u s: %s",
				   x->uri, x->server_id, backoff(x), why);
		}
		i++;
	}
	if (next != UINT64_MAX) {
		struct timeval tv = {
			.tv_sec = (time_t)((next - now) / 1000000u),
			.tv_usec = (suseconds_t)((next - now) % 1000000u),
		};

		evtimer_add(a->timer, &tv);
	}
}

static void due(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	deliver(arg);
}

void dm_agents_session_done(struct dm_agents *a,
			    const struct dm_session_info *i)
{
	struct dm_result *x;
	unsigned wait;
	bool ok = i->result == DM_RESULT_OK;

	for (size_t k = 0; k < a->ndl; k++) {
		struct delivery *d = &a->dl[k];

		if (!(x = dm_results_find(&a->res, d->key)) ||
		    strcmp(x->server_id, i->server_id))
			continue;
		if (d->session != i->id) {
			/* the server answers again: no need to wait */
			if (ok && !d->session)
				d->due = mono_usec();
			continue;
		}
		d->session = 0;
		if (ok) {
			log_info(LOG_DM, "Exec result of %s (correlator %s) "
				 "delivered to %s", x->uri, x->key,
				 x->server_id);
			result_drop(a, d);
			k--;
			continue;
		}
		wait = backoff(x);
		d->due = mono_usec() + (uint64_t)wait * 1000000u;
		log_notice(LOG_DM, "Exec result of %s (correlator %s) not "
			   "delivered to %s (%s: %s): next try in %u s", x->uri,
			   x->key, x->server_id,
			   dm_session_result_name(i->result), i->error, wait);
		(void)save(a, NULL);	/* its attempts */
	}
	deliver(a);
}

static struct call *call_of_key(struct dm_agents *a, const char *key);

int dm_agents_result(struct dm_agents *a, const char *key, unsigned code,
		     const char *data)
{
	struct dm_result *x = dm_results_find(&a->res, key);
	struct call *c = x ? NULL : call_of_key(a, key);

	if (!x && !c)
		return -ENOENT;
	if ((x && x->state == DM_RES_READY) || (c && c->early))
		return -EALREADY;
	if (code < 200 || code > 599)
		return -EINVAL;
	if (strlen(data) > DM_RESULT_DATA_MAX)
		return -E2BIG;
	if (c) {
		/* a script may report before its agent answers its Exec */
		c->early = true;
		c->rec.code = code;
		snprintf(c->rec.data, sizeof(c->rec.data), "%s", data);
		log_info(LOG_DM, "Exec result of %s (correlator %s): %u, before "
			 "its 202", c->rec.uri, key, code);
		return 0;
	}
	if (!delivery_new(a, key))
		return -ENOMEM;
	x->state = DM_RES_READY;
	x->code = code;
	x->attempts = 0;
	snprintf(x->data, sizeof(x->data), "%s", data);
	log_info(LOG_DM, "Exec result of %s (correlator %s): %u", x->uri, key,
		 code);
	/* delivered from the loop, after the save it follows in order */
	(void)save(a, NULL);
	kick(a);
	return 0;
}

/* ---- the calls ---- */

static struct call *call_of_key(struct dm_agents *a, const char *key)
{
	for (struct call *c = a->calls; c; c = c->next)
		if (!c->gen && !strcmp(c->rec.key, key))
			return c;
	return NULL;
}

static struct call *call_find(struct dm_agents *a, unsigned id)
{
	for (struct call *c = a->calls; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void call_free(struct dm_agents *a, struct call *c)
{
	struct call **pp;

	for (pp = &a->calls; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	free(c);
}

/* The call's answer to its session, if it still waits; c is freed. */
static void call_end(struct dm_agents *a, struct call *c, unsigned code,
		     const char *data)
{
	struct dm_session *s = c->s;

	call_free(a, c);
	if (s)
		dm_session_exec_answer(s, code, data);
}

static bool key_taken(struct dm_agents *a, const char *key)
{
	if (dm_results_find(&a->res, key))
		return true;
	for (struct call *c = a->calls; c; c = c->next)
		if (!strcmp(c->rec.key, key))
			return true;
	return false;
}

/*
 * The correlator the agent quotes: the server's Correlator when it fits
 * and is not in use, else one made here.
 */
static int make_key(struct dm_agents *a, const char *corr, char *key)
{
	uint8_t rnd[8];

	if (*corr && strlen(corr) <= DM_RESULT_KEY_MAX && !key_taken(a, corr)) {
		snprintf(key, DM_RESULT_KEY_MAX + 1, "%s", corr);
		return 0;
	}
	do {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return -EIO;
		snprintf(key, DM_RESULT_KEY_MAX + 1, "dmscgw-%02x%02x%02x%02x"
			 "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
			 rnd[4], rnd[5], rnd[6], rnd[7]);
	} while (key_taken(a, key));
	return 0;
}

unsigned dm_agents_exec(struct dm_agents *a, struct dm_session *s,
			const struct dm_exec_request *r)
{
	struct call *c;
	int e;

	if (strlen(r->correlator) > DM_RESULT_CORR_MAX) {
		log_notice(LOG_DM, "Exec %s: Correlator longer than %d bytes",
			   r->uri, DM_RESULT_CORR_MAX);
		return 413;	/* DM RepPro 1.2 clause 10: too large */
	}
	if (!(c = calloc(1, sizeof(*c))))
		return DM_ST_FAILED;
	if (!++a->next_call)
		a->next_call++;
	c->id = a->next_call;
	c->s = s;
	snprintf(c->rec.server_id, sizeof(c->rec.server_id), "%s", r->server);
	snprintf(c->rec.uri, sizeof(c->rec.uri), "%s", r->uri);
	snprintf(c->rec.correlator, sizeof(c->rec.correlator), "%s",
		 r->correlator);
	e = make_key(a, r->correlator, c->rec.key);
	if (!e)
		e = a->ops.exec ? a->ops.exec(a->ops.arg, c->id, r, c->rec.key,
					      a->conf->dm.exec_timeout) :
				  -ENOENT;
	if (e < 0) {
		/*
		 * The node is executable, nothing executes it now: 500
		 * (command failed).  406 would say the device cannot Exec at
		 * all, 405 that Exec is not allowed on it: both are
		 * permanent for a server, and both would be untrue.
		 */
		log_notice(LOG_DM, "Exec %s from %s: %s: 500", r->uri, r->server,
			   e == -ENOENT ? "no agent serves it" : strerror(-e));
		free(c);
		return DM_ST_FAILED;
	}
	c->next = a->calls;
	a->calls = c;
	return 0;
}

void dm_agents_answer(struct dm_agents *a, unsigned id, unsigned code,
		      const char *data)
{
	struct call *c = call_find(a, id);
	int e;

	if (!c || c->gen)
		return;
	if (code < 200 || code > 599) {
		log_notice(LOG_DM, "Exec %s: the agent answered %u: 500",
			   c->rec.uri, code);
		code = DM_ST_FAILED;
	}
	if (code != DM_ST_ACCEPTED) {
		log_info(LOG_DM, "Exec %s: the agent answered %u%s", c->rec.uri,
			 code, c->early ? " (its result reported is dropped)" :
			 "");
		call_end(a, c, code, data);
		return;
	}
	/* 202: on disk before the server hears it (DM RepPro 1.2 6.6.6) */
	c->rec.state = c->early ? DM_RES_READY : DM_RES_ACCEPTED;
	e = dm_results_add(&a->res, &c->rec);
	if (e == 0 && (e = save(a, &c->gen)) < 0)
		dm_results_remove(&a->res, dm_results_find(&a->res,
							    c->rec.key));
	if (e < 0) {
		log_err(LOG_DM, "Exec %s accepted by its agent, but it cannot be "
			"kept (%s): 500", c->rec.uri, e == -ENOSPC ?
			"too many results wait" : strerror(-e));
		call_end(a, c, DM_ST_FAILED, "");
		return;
	}
	log_info(LOG_DM, "Exec %s accepted by its agent: correlator %s",
		 c->rec.uri, c->rec.key);
	if (c->early && delivery_new(a, c->rec.key))
		kick(a);	/* it queues behind this session */
	else if (c->early)
		log_err(LOG_DM, "Exec result of %s: out of memory: delivered "
			"after a restart", c->rec.uri);
}

/* The writer's outcome: the 202s that waited for it go, or fail. */
static void saved(void *arg, uint64_t gen, int err)
{
	struct dm_agents *a = arg;
	struct call *c, *next;
	struct dm_result *x;
	struct delivery *d;

	for (c = a->calls; c; c = next) {
		next = c->next;
		if (!c->gen || c->gen > gen)
			continue;
		if (!err) {
			call_end(a, c, DM_ST_ACCEPTED, "");
			continue;
		}
		log_err(LOG_DM, "Exec %s accepted by its agent, but it could "
			"not be saved: 500", c->rec.uri);
		if ((d = delivery_of(a, c->rec.key)))
			result_drop(a, d);	/* the server hears 500 */
		else if ((x = dm_results_find(&a->res, c->rec.key)))
			dm_results_remove(&a->res, x);
		call_end(a, c, DM_ST_FAILED, "");
	}
}

void dm_agents_session_gone(struct dm_agents *a, struct dm_session *s)
{
	struct call *c, *next;

	for (c = a->calls; c; c = next) {
		next = c->next;
		if (c->s != s)
			continue;
		c->s = NULL;
		if (c->gen)
			continue;	/* accepted: kept, its answer not sent */
		if (a->ops.cancel)
			a->ops.cancel(a->ops.arg, c->id);
		call_free(a, c);
	}
}

/* ---- life ---- */

void dm_agents_set_ops(struct dm_agents *a, const struct dm_agents_ops *ops)
{
	if (ops)
		a->ops = *ops;
	else
		memset(&a->ops, 0, sizeof(a->ops));
}

void dm_agents_reconfigure(struct dm_agents *a, const struct conf *c)
{
	a->conf = c;
}

struct dm_agents *dm_agents_new(struct event_base *base, struct dm_client *dc,
				const struct conf *c)
{
	struct dm_agents *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->base = base;
	a->dc = dc;
	a->conf = c;
	snprintf(a->path, sizeof(a->path), "%s/exec-results", c->dm.state_dir);
	a->timer = evtimer_new(base, due, a);
	a->saver = dm_saver_new(base, saved, a);
	if (!a->timer || !a->saver) {
		dm_agents_free(a);
		return NULL;
	}
	dm_saver_set_what(a->saver, "the Exec results");
	load(a);
	for (size_t i = 0; i < a->res.n; i++)
		if (a->res.v[i].state == DM_RES_READY &&
		    !delivery_new(a, a->res.v[i].key)) {
			dm_agents_free(a);
			return NULL;
		}
	if (a->ndl)
		kick(a);
	return a;
}

void dm_agents_free(struct dm_agents *a)
{
	if (!a)
		return;
	while (a->calls)
		call_free(a, a->calls);
	dm_saver_free(a->saver);	/* what waits is written */
	if (a->timer)
		event_free(a->timer);
	dm_results_clear(&a->res);
	free(a->dl);
	free(a);
}
