/* SPDX-License-Identifier: MIT */
/*
 * The DM client: Package#0 from any source is decoded, matched to its DM
 * account by ServerID, verified, and turned into a session; one session
 * runs per server, the notifications that come meanwhile wait in order.
 * The tree is saved after every server message that changed it.
 *
 * The DM_SC server's sessions use [dm_sc]'s pre-shared key; every other
 * account's https:// server is verified by its certificate (dm/tls.h).  A
 * session with such a remote server that fails on a network error is
 * tried again, from Package#1, [dm] retries times with back-off
 * (retry_min doubling up to retry_max seconds), in its place in the queue
 * (state "retry-wait"); the DM_SC server lives on the card, whose faults
 * have their own handling (a reset, a new notification).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "bip/apps.h"
#include "conf.h"
#include "dm/account.h"
#include "dm/agents.h"
#include "syncml/auth.h"
#include "dm/client.h"
#include "syncml/notification.h"
#include "dm/http.h"
#include "dm/store.h"
#include "dm/tls.h"
#include "log.h"
#include "util/errbuf.h"
#include "util/hex.h"

#define QUEUE_MAX	8	/* waiting sessions, all servers */
#define APP_TYPE_DM	0x07	/* Registry application type: OMA DM client */

struct entry {
	struct dm_session_info info;
	struct dm_session *s;		/* NULL while queued */
	uint16_t session_id;
	bool server_initiated;
	bool resync;
	bool has_report;
	bool confirm;			/* UI mode user interaction: asking */
	struct dm_generic_alert report;
	uint64_t wait_gen;		/* the save its session waits for */
	bool tcpip;			/* over the card's IP link */
	unsigned retried;		/* times it was tried again */
	uint64_t retry_at;		/* CLOCK_MONOTONIC µs; 0 not waiting */
	struct entry *next;
};

struct dm_client {
	struct event_base *base;
	const struct conf *conf;
	struct dm_tree *tree;
	struct bip *bip;
	struct entry *active;		/* running and queued, oldest first */
	struct dm_session_info history[DM_CLIENT_HISTORY];
	size_t nhistory;		/* newest at index 0 */
	unsigned next_id;
	struct dm_client_observer obs;
	struct dm_client_ui ui;
	struct dm_client_link link;
	struct event *kick;		/* start what can start */
	struct dm_saver *saver;		/* NULL: saves on the loop */
	struct event *retry;		/* a failed save, tried again */
	unsigned retry_s;		/* its back-off, 0 when all is saved */
	struct dm_agents *agents;	/* Exec agents; NULL: out of memory */
	struct event *wake;		/* a session's retry is due */
};

#define SAVE_RETRY_MIN	1	/* seconds, doubled up to */
#define SAVE_RETRY_MAX	60

static uint64_t clock_usec(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t now_usec(void)
{
	return clock_usec(CLOCK_REALTIME);
}

struct dm_tree *dm_client_tree(struct dm_client *dc)
{
	return dc->tree;
}

void dm_client_set_tree(struct dm_client *dc, struct dm_tree *t)
{
	dc->tree = t;
}

void dm_client_set_observer(struct dm_client *dc,
			    const struct dm_client_observer *o)
{
	if (o)
		dc->obs = *o;
	else
		memset(&dc->obs, 0, sizeof(dc->obs));
}

void dm_client_set_ui(struct dm_client *dc, const struct dm_client_ui *ui)
{
	if (ui)
		dc->ui = *ui;
	else
		memset(&dc->ui, 0, sizeof(dc->ui));
}

static struct entry *entry_of(struct dm_client *dc, const struct dm_session *s)
{
	for (struct entry *e = dc->active; e; e = e->next)
		if (e->s == s)
			return e;
	return NULL;
}

static int session_ui(void *arg, struct dm_session *s,
		      const struct dm_ui_request *r)
{
	struct dm_client *dc = arg;
	struct entry *e = entry_of(dc, s);

	if (!e || !dc->ui.ask)
		return -ENOENT;
	return dc->ui.ask(dc->ui.arg, e->info.id, e->info.server_id, r);
}

static void confirmed(struct dm_client *dc, struct entry *e,
		      enum dm_ui_verdict v);
static void remember(struct dm_client *dc, const struct dm_session_info *i);

void dm_client_ui_answer(struct dm_client *dc, unsigned id,
			 enum dm_ui_verdict v, const char *answer)
{
	for (struct entry *e = dc->active; e; e = e->next)
		if (e->info.id == id && e->s) {
			dm_session_ui_answer(e->s, v, answer);
			return;
		} else if (e->info.id == id && e->confirm) {
			confirmed(dc, e, v);
			return;
		}
}

static unsigned session_exec(void *arg, struct dm_session *s,
			     const struct dm_exec_request *r)
{
	struct dm_client *dc = arg;

	return dm_agents_exec(dc->agents, s, r);
}

struct dm_agents *dm_client_agents(struct dm_client *dc)
{
	return dc->agents;
}

/* The session of e ends: a question to an agent is withdrawn. */
static void end_session(struct dm_client *dc, struct entry *e)
{
	if (e->s && dm_session_ui_waiting(e->s) && dc->ui.cancel)
		dc->ui.cancel(dc->ui.arg, e->info.id);
	if (e->s && dc->agents)
		dm_agents_session_gone(dc->agents, e->s);
	dm_session_free(e->s);
	e->s = NULL;
}

/* e is finished: kept for display and told. */
static void tell_finished(struct dm_client *dc, struct entry *e)
{
	e->info.state = "finished";
	e->info.finished_usec = now_usec();
	remember(dc, &e->info);
	if (dc->obs.finished)
		dc->obs.finished(dc->obs.arg, &e->info);
	if (dc->agents)
		dm_agents_session_done(dc->agents, &e->info);
}

static bool running_for(struct dm_client *dc, const char *server_id)
{
	for (struct entry *e = dc->active; e; e = e->next)
		if (e->s && !strcmp(e->info.server_id, server_id))
			return true;
	return false;
}

static size_t queued(struct dm_client *dc)
{
	size_t n = 0;

	for (struct entry *e = dc->active; e; e = e->next)
		n += e->s == NULL;
	return n;
}

/*
 * Have the tree saved: 1 with *gen to wait for (the writer thread), 0
 * when it is on disk already (no writer: saved on the loop), or < 0.
 */
static int save(struct dm_client *dc, uint64_t *gen)
{
	int r;

	if (dc->saver) {
		r = dm_saver_save(dc->saver, dc->conf, dc->tree, gen);
		return r < 0 ? r : 1;
	}
	r = dm_store_save(dc->conf, dc->tree);
	return r < 0 ? r : 0;
}

/*
 * A session's change waits for the disk before the server hears of it
 * (dm_session_saved from saved()).
 */
static int session_changed(void *arg, struct dm_session *s)
{
	struct dm_client *dc = arg;
	struct entry *e;
	uint64_t gen = 0;
	int r = save(dc, &gen);

	for (e = dc->active; e && e->s != s; e = e->next)
		;
	if (r > 0 && e)
		e->wait_gen = gen;
	return r;
}

static void saved(void *arg, uint64_t gen, int err);

static void retry_save(evutil_socket_t fd, short what, void *arg)
{
	struct dm_client *dc = arg;

	(void)fd;
	(void)what;
	log_info(LOG_DM, "saving the management tree again");
	if (save(dc, NULL) < 0)
		saved(dc, 0, -EIO);
}

/*
 * The writer's outcome for generation gen.  Sessions waiting for it (or an
 * older one) go on, or abort on a failure.  A failure is tried again with
 * back-off until a save succeeds: the tree in memory is the truth.
 */
static void saved(void *arg, uint64_t gen, int err)
{
	struct dm_client *dc = arg;
	struct timeval tv = { 0, 0 };

	for (struct entry *e = dc->active; e; e = e->next) {
		if (!e->s || !e->wait_gen || e->wait_gen > gen)
			continue;
		e->wait_gen = 0;
		dm_session_saved(e->s, err, err ? strerror(-err) : NULL);
	}
	if (!err) {
		if (dc->retry_s)
			log_notice(LOG_DM, "management tree saved after an "
				   "earlier failure");
		dc->retry_s = 0;
		if (dc->retry)
			event_del(dc->retry);
		return;
	}
	dc->retry_s = !dc->retry_s ? SAVE_RETRY_MIN :
		      dc->retry_s * 2 > SAVE_RETRY_MAX ? SAVE_RETRY_MAX :
		      dc->retry_s * 2;
	tv.tv_sec = dc->retry_s;
	if (dc->retry && !evtimer_pending(dc->retry, NULL)) {
		log_notice(LOG_DM, "saving the management tree again in %u s",
			   dc->retry_s);
		evtimer_add(dc->retry, &tv);
	}
}

/* The DM client's connections go first on the card's server ports. */
static void session_local(void *arg, const struct sockaddr *sa, unsigned len)
{
	struct dm_client *dc = arg;

	if (dc->bip)
		bip_apps_expect_own(dc->bip, sa, len);
}

void dm_client_set_link(struct dm_client *dc, const struct dm_client_link *l)
{
	if (l)
		dc->link = *l;
	else
		memset(&dc->link, 0, sizeof(dc->link));
}

/* "localuicc" is the card on its IP link (OMA-TS-DM_SC 8.1 table 2). */
static int session_resolve(void *arg, const char *host, char *addr,
			   size_t cap, char *why, size_t whylen)
{
	struct dm_client *dc = arg;
	const char *w = "the card's IP link is not followed";
	int r = -ENETDOWN;

	if (strcasecmp(host, DM_ACCOUNT_LOCALUICC))
		return 0;
	if (dc->link.resolve)
		r = dc->link.resolve(dc->link.arg, addr, cap, &w);
	if (r < 0) {
		errbuf_set(why, whylen, "%s", w);
		return r;
	}
	return 1;
}

/*
 * The DM_SC server's transport, by priority (OMA-TS-DM_SC 5.1: USB, then
 * ISO): its TCP/IP AppAddr while the card's link is ready, into url.
 */
static bool over_tcpip(struct dm_client *dc, char *url, size_t cap)
{
	char addr[128];
	const char *why;

	return dc->link.resolve &&
	       dc->link.resolve(dc->link.arg, addr, sizeof(addr), &why) == 0 &&
	       dm_account_dmsc_tcpip(dc->tree, url, cap) == 0;
}

void dm_client_link_lost(struct dm_client *dc, const char *why)
{
	char text[sizeof(((struct dm_session_info *)0)->error)];

	snprintf(text, sizeof(text), "the card's IP link was lost: %s", why);
	for (struct entry *e = dc->active; e; e = e->next)
		if (e->s && e->tcpip)
			dm_session_stop(e->s, DM_RESULT_TRANSPORT, text);
}

static void remember(struct dm_client *dc, const struct dm_session_info *i)
{
	if (dc->nhistory < DM_CLIENT_HISTORY)
		dc->nhistory++;
	memmove(dc->history + 1, dc->history,
		(dc->nhistory - 1) * sizeof(dc->history[0]));
	dc->history[0] = *i;
}

static bool is_dmsc(const struct dm_client *dc, const char *server_id)
{
	return *dc->conf->dm_sc.server_id &&
	       !strcmp(server_id, dc->conf->dm_sc.server_id);
}

/*
 * A remote server's session that a network error ended is tried again
 * later while retries are left: true when e waits for that, in its place.
 */
static bool retry_later(struct dm_client *dc, struct entry *e,
			struct dm_session *s)
{
	const struct conf *c = dc->conf;
	unsigned delay = c->dm.retry_min;

	if (dm_session_result(s) != DM_RESULT_TRANSPORT ||
	    !dm_http_transient(dm_session_transport_err(s)) ||
	    is_dmsc(dc, e->info.server_id) || e->retried >= c->dm.retries)
		return false;
	for (unsigned i = 0; i < e->retried && delay < c->dm.retry_max; i++)
		delay *= 2;
	if (delay > c->dm.retry_max)
		delay = c->dm.retry_max;
	e->retried++;
	e->retry_at = clock_usec(CLOCK_MONOTONIC) + (uint64_t)delay * 1000000u;
	e->info.state = "retry-wait";
	e->info.commands = dm_session_commands(s);
	snprintf(e->info.error, sizeof(e->info.error), "%.110s; retry %u of "
		 "%u in %u s", dm_session_error(s), e->retried, c->dm.retries,
		 delay);
	log_notice(LOG_DM, "session %u with %s: %s", e->info.id,
		   e->info.server_id, e->info.error);
	end_session(dc, e);
	if (dc->obs.changed)
		dc->obs.changed(dc->obs.arg, &e->info);
	event_active(dc->kick, EV_TIMEOUT, 0);	/* arms the wake-up */
	return true;
}

static void session_done(void *arg, struct dm_session *s)
{
	struct dm_client *dc = arg;
	struct entry **pp, *e;

	for (pp = &dc->active; *pp && (*pp)->s != s; pp = &(*pp)->next)
		;
	if (!(e = *pp) || retry_later(dc, e, s))
		return;
	*pp = e->next;
	e->info.result = dm_session_result(s);
	e->info.commands = dm_session_commands(s);
	if (e->retried && e->info.result != DM_RESULT_OK)
		snprintf(e->info.error, sizeof(e->info.error), "%.120s (after "
			 "%u retries)", dm_session_error(s), e->retried);
	else
		snprintf(e->info.error, sizeof(e->info.error), "%s",
			 dm_session_error(s));
	end_session(dc, e);
	/* the tree was saved after each change (session_changed) */
	tell_finished(dc, e);
	free(e);
	event_active(dc->kick, EV_TIMEOUT, 0);
}

void dm_client_card_gone(struct dm_client *dc)
{
	const char *dmsc = dc->conf->dm_sc.server_id;

	if (!*dmsc)
		return;
	for (struct entry *e = dc->active; e; e = e->next)
		if (e->s && !strcmp(e->info.server_id, dmsc))
			dm_session_stop(e->s, DM_RESULT_TRANSPORT,
					"card removed");
}

/* A queued session is dropped, cancelled because of why. */
static void drop_queued(struct dm_client *dc, struct entry *e,
			const char *why)
{
	struct entry **pp;

	for (pp = &dc->active; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	if (e->confirm && dc->ui.cancel)
		dc->ui.cancel(dc->ui.arg, e->info.id);
	log_notice(LOG_DM, "queued session %u with %s dropped: %s", e->info.id,
		   e->info.server_id, why);
	e->info.result = DM_RESULT_CANCELLED;
	snprintf(e->info.error, sizeof(e->info.error), "%s", why);
	tell_finished(dc, e);
	free(e);
}

int dm_client_cancel(struct dm_client *dc, unsigned id, const char *why)
{
	struct entry *e;

	for (e = dc->active; e && e->info.id != id; e = e->next)
		;
	if (!e)
		return -ENOENT;
	if (e->s) {
		/* the agent's question is withdrawn; the session says no */
		if (dm_session_ui_waiting(e->s) && dc->ui.cancel)
			dc->ui.cancel(dc->ui.arg, e->info.id);
		dm_session_cancel(e->s, why);
		return 0;
	}
	drop_queued(dc, e, why);
	return 0;
}

static size_t psk_bytes(const struct conf *c, uint8_t *out, size_t cap)
{
	int n = hex_decode(out, cap, c->dm_sc.psk_key);

	return n > 0 ? (size_t)n : 0;
}

static int start_entry(struct dm_client *dc, struct entry *e)
{
	const struct conf *c = dc->conf;
	struct dm_session_cfg cfg;
	struct dm_account acc;
	struct dm_tls_trust trust;
	struct dm_tree_value v;
	uint8_t psk[64];
	char devid[128] = "", err[160];
	bool dmsc = is_dmsc(dc, e->info.server_id);

	if (dm_tree_account_find(dc->tree, e->info.server_id, &acc) != 200) {
		snprintf(e->info.error, sizeof(e->info.error),
			 "no DM account for %s any more", e->info.server_id);
		return -ENOENT;
	}
	e->tcpip = dmsc && over_tcpip(dc, acc.addr, sizeof(acc.addr));
	e->info.transport = e->tcpip ? "tcpip" : dmsc ? "bip" : "network";
	if (dm_tree_get(dc->tree, NULL, "./DevInfo/DevId", &v) == 200)
		snprintf(devid, sizeof(devid), "%.*s", (int)v.len,
			 (const char *)v.data);
	memset(&cfg, 0, sizeof(cfg));
	cfg.base = dc->base;
	cfg.tree = dc->tree;
	cfg.acc = &acc;
	cfg.devid = devid;
	cfg.session_id = e->session_id;
	cfg.server_initiated = e->server_initiated;
	cfg.resync = e->resync;
	cfg.report = e->has_report ? &e->report : NULL;
	cfg.format = c->dm.encoding ? SYNCML_XML : SYNCML_WBXML;
	cfg.max_msg_size = c->dm.max_msg_size;
	cfg.max_obj_size = c->dm.max_obj_size;
	cfg.timeout = c->dm.timeout;
	cfg.auth_retries = c->dm.auth_retries;
	cfg.alerts = (enum dm_alert_policy)c->dm.alerts;
	cfg.ui = session_ui;
	cfg.exec = dc->agents ? session_exec : NULL;
	/* BIP's own-connection priority is for loopback connections only */
	cfg.local = e->tcpip ? NULL : session_local;
	cfg.resolve = session_resolve;
	/* the DM_SC server's PSK ([dm_sc]); the others show certificates */
	cfg.psk_identity = dmsc ? c->dm_sc.psk_identity : NULL;
	cfg.psk = psk;
	cfg.psk_len = dmsc ? psk_bytes(c, psk, sizeof(psk)) : 0;
	dm_tls_trust_for(c, e->info.server_id, &trust);
	cfg.trust = &trust;
	if (!dmsc && !strncasecmp(acc.addr, "https:", 6))
		log_debug(LOG_DM, "session with %s: certificates verified "
			  "against %s", e->info.server_id,
			  *trust.ca_file ? trust.ca_file : "the system store");
	e->s = dm_session_start(&cfg, session_done, session_changed, dc, err,
				sizeof(err));
	OPENSSL_cleanse(psk, sizeof(psk));
	OPENSSL_cleanse(acc.client.secret, sizeof(acc.client.secret));
	OPENSSL_cleanse(acc.server.secret, sizeof(acc.server.secret));
	if (!e->s) {
		snprintf(e->info.error, sizeof(e->info.error), "%s", err);
		return -EINVAL;
	}
	log_info(LOG_DM, "session %u with %s over %s", e->info.id,
		 e->info.server_id, e->tcpip ? "TCP/IP (the card's IP link)" :
		 dmsc ? "BIP" : "the network");
	e->info.state = "running";
	e->info.started_usec = now_usec();
	if (dc->obs.started)
		dc->obs.started(dc->obs.arg, &e->info);
	return 0;
}

/* An older session of e's server waits to be tried again: e waits too. */
static bool behind_retry(struct dm_client *dc, const struct entry *e)
{
	for (const struct entry *x = dc->active; x && x != e; x = x->next)
		if (x->retry_at && !strcmp(x->info.server_id, e->info.server_id))
			return true;
	return false;
}

/* Start every queued session whose server is free and whose time came. */
static void kicked(evutil_socket_t fd, short what, void *arg)
{
	struct dm_client *dc = arg;
	struct entry **pp = &dc->active, *e;
	uint64_t now = clock_usec(CLOCK_MONOTONIC), next = 0;

	(void)fd;
	(void)what;
	while ((e = *pp)) {
		if (e->retry_at > now && (!next || e->retry_at < next))
			next = e->retry_at;
		if (e->s || e->confirm || e->retry_at > now ||
		    behind_retry(dc, e) || running_for(dc, e->info.server_id)) {
			pp = &e->next;
			continue;
		}
		e->retry_at = 0;
		if (start_entry(dc, e) == 0) {
			pp = &e->next;
			continue;
		}
		/* could not start: finished at once, with the reason */
		log_err(LOG_DM, "session with %s not started: %s",
			e->info.server_id, e->info.error);
		*pp = e->next;
		e->info.result = DM_RESULT_CANCELLED;
		tell_finished(dc, e);
		free(e);
	}
	if (next) {
		struct timeval tv = {
			.tv_sec = (time_t)((next - now) / 1000000u),
			.tv_usec = (suseconds_t)((next - now) % 1000000u),
		};

		evtimer_add(dc->wake, &tv);
	}
}

static int enqueue(struct dm_client *dc, const char *server_id,
		   uint16_t session_id, bool server_initiated, bool resync,
		   const struct dm_generic_alert *report,
		   const char *source, char *why, size_t whylen)
{
	struct entry *e, **pp;

	if (queued(dc) >= QUEUE_MAX) {
		errbuf_set(why, whylen, "%d sessions already waiting",
			   QUEUE_MAX);
		return -EAGAIN;
	}
	if (!(e = calloc(1, sizeof(*e)))) {
		errbuf_set(why, whylen, "out of memory");
		return -ENOMEM;
	}
	e->info.id = ++dc->next_id;
	snprintf(e->info.server_id, sizeof(e->info.server_id), "%s",
		 server_id);
	e->info.trigger = source;
	e->info.transport = "";
	e->info.state = "queued";
	e->info.started_usec = now_usec();
	e->session_id = session_id;
	e->server_initiated = server_initiated;
	e->resync = resync;
	if (report) {
		e->has_report = true;
		e->report = *report;
	}
	for (pp = &dc->active; *pp; pp = &(*pp)->next)
		;
	*pp = e;
	if (running_for(dc, server_id))
		log_info(LOG_DM, "session with %s queued: one is running",
			 server_id);
	event_active(dc->kick, EV_TIMEOUT, 0);
	return (int)e->info.id;
}

static bool enabled(struct dm_client *dc, char *why, size_t whylen)
{
	if (dc->conf->dm.enable && dc->tree)
		return true;
	errbuf_set(why, whylen, "the DM client is disabled ([dm] enable = no)");
	return false;
}

static const char *ui_mode_name(unsigned mode)
{
	static const char *const names[] = {
		[DM_UI_NOT_SPECIFIED] = "not specified",
		[DM_UI_BACKGROUND] = "background",
		[DM_UI_INFORMATIVE] = "informative",
		[DM_UI_USER_INTERACTION] = "user interaction",
	};

	return mode < sizeof(names) / sizeof(names[0]) ? names[mode] : "?";
}

/* The user's (or the policy's) word on a user-interaction session. */
static void confirmed(struct dm_client *dc, struct entry *e,
		      enum dm_ui_verdict v)
{
	bool yes = v == DM_UI_POLICY ? dc->conf->dm.alerts == DM_ALERTS_ACCEPT :
		   v == DM_UI_ACCEPT;
	const char *by = v == DM_UI_POLICY ? "by policy ([dm] alerts)" :
			 "by the UI agent";
	char why[96];

	e->confirm = false;
	if (!yes) {
		snprintf(why, sizeof(why), "UI mode user interaction: refused %s",
			 by);
		drop_queued(dc, e, why);
		return;
	}
	log_notice(LOG_DM, "session %u with %s (UI mode user interaction) "
		   "accepted %s", e->info.id, e->info.server_id, by);
	e->info.state = "queued";
	event_active(dc->kick, EV_TIMEOUT, 0);
}

/*
 * DM_Notification 1.2 6.2.7, the UI mode (a SHOULD): background, and not
 * specified, run silently; informative tells the UI (the observer's
 * notice) and runs; user interaction asks the UI agent before the session
 * starts, and without one [dm] alerts decides.
 */
static void ui_mode(struct dm_client *dc, unsigned id, unsigned mode)
{
	struct entry *e;

	for (e = dc->active; e && e->info.id != id; e = e->next)
		;
	if (!e || e->s)
		return;
	if (mode == DM_UI_INFORMATIVE && dc->obs.notice)
		dc->obs.notice(dc->obs.arg, &e->info);
	if (mode != DM_UI_USER_INTERACTION)
		return;
	e->confirm = true;
	e->info.state = "awaiting-user";
	if (dc->ui.confirm &&
	    dc->ui.confirm(dc->ui.arg, e->info.id, e->info.server_id) == 0) {
		log_info(LOG_DM, "session %u with %s (UI mode user interaction) "
			 "asked of the UI agent", e->info.id, e->info.server_id);
		return;
	}
	confirmed(dc, e, DM_UI_POLICY);
}

int dm_client_notify(struct dm_client *dc, const uint8_t *p, size_t len,
		     const char *source, char *why, size_t whylen)
{
	struct dm_notification n;
	struct dm_account acc;
	uint8_t nonce[128];
	int nl, r, v;

	r = dm_notification_decode(p, len, &n);
	if (r < 0) {
		errbuf_set(why, whylen, "not a DM notification: %s",
			   dm_notification_strerror(r));
		goto refused;
	}
	if (!enabled(dc, why, whylen)) {
		r = -EAGAIN;
		goto refused;
	}
	if (dm_tree_account_find(dc->tree, n.server_id, &acc) != 200) {
		errbuf_set(why, whylen, "no DM account for server '%s'",
			   n.server_id);
		r = -ENOENT;
		goto refused;
	}
	nl = dm_b64_decode(nonce, sizeof(nonce), acc.server.data,
			   strlen(acc.server.data));
	v = dm_notification_verify(&n, acc.server.secret, nonce,
				   nl > 0 ? (size_t)nl : 0);
	OPENSSL_cleanse(&acc, sizeof(acc));
	if (v == DM_NOTI_BAD_DIGEST || v < 0) {
		errbuf_set(why, whylen, "digest of the notification from '%s' "
			   "is wrong", n.server_id);
		r = -EPERM;
		goto refused;
	}
	log_info(LOG_DM, "notification from %s by %s: session %04X, UI mode %s%s",
		 n.server_id, source, n.session_id, ui_mode_name(n.ui_mode),
		 v == DM_NOTI_OK_RESYNC ? ", nonce resynchronisation" : "");
	r = enqueue(dc, n.server_id, n.session_id, true,
		    v == DM_NOTI_OK_RESYNC, NULL, source, why, whylen);
	if (r < 0)
		goto refused;
	ui_mode(dc, (unsigned)r, n.ui_mode);
	return 0;
refused:
	log_notice(LOG_DM, "notification by %s refused: %s", source, why);
	if (log_hexdump_enabled(LOG_DM))
		log_hex(LOG_DM, "Package#0", p, len);
	return r;
}

static int client_session(struct dm_client *dc, const char *server_id,
			  const struct dm_generic_alert *report,
			  const char *source, char *why, size_t whylen)
{
	struct dm_account acc;
	uint16_t sid;

	if (!enabled(dc, why, whylen))
		return -EAGAIN;
	if (dm_tree_account_find(dc->tree, server_id, &acc) != 200) {
		errbuf_set(why, whylen, "no DM account for server '%s'",
			   server_id);
		return -ENOENT;
	}
	OPENSSL_cleanse(&acc, sizeof(acc));
	if (RAND_bytes((unsigned char *)&sid, sizeof(sid)) != 1) {
		errbuf_set(why, whylen, "no random session id");
		return -EIO;
	}
	log_info(LOG_DM, "client-initiated session with %s by %s%s", server_id,
		 source, report ? ": generic alert" : "");
	return enqueue(dc, server_id, sid, false, false, report, source, why,
		       whylen);
}

int dm_client_start(struct dm_client *dc, const char *server_id,
		    const char *source, char *why, size_t whylen)
{
	return client_session(dc, server_id, NULL, source, why, whylen);
}

int dm_client_report(struct dm_client *dc, const char *server_id,
		     const struct dm_generic_alert *r, const char *source,
		     char *why, size_t whylen)
{
	return client_session(dc, server_id, r, source, why, whylen);
}

int dm_client_make_executable(struct dm_client *dc, const char *uri,
			      bool interior)
{
	static const char *const own[] = { "DMAcc", "Inbox" };
	const char *u = !strncmp(uri, "./", 2) ? uri + 2 : uri;
	bool changed;
	int st;

	/* DM_StdObj 1.2: the accounts and the Inbox are the client's */
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strncmp(u, own[i], strlen(own[i])) &&
		    (!u[strlen(own[i])] || u[strlen(own[i])] == '/'))
			return DM_TREE_NOT_ALLOWED;
	st = dm_tree_make_executable(dc->tree, uri, interior, &changed);
	if (st != DM_TREE_OK || !changed)
		return st;
	log_info(LOG_DM, "%s made executable by an agent", uri);
	if (save(dc, NULL) < 0)
		saved(dc, 0, -EIO);	/* tried again with back-off */
	return st;
}

size_t dm_client_sessions(struct dm_client *dc, struct dm_session_info *out,
			  size_t cap)
{
	size_t n = 0;

	for (struct entry *e = dc->active; e && n < cap; e = e->next) {
		out[n] = e->info;
		if (e->s) {
			out[n].state = dm_session_state(e->s);
			out[n].commands = dm_session_commands(e->s);
		}
		n++;
	}
	for (size_t i = 0; i < dc->nhistory && n < cap; i++)
		out[n++] = dc->history[i];
	return n;
}

/* ------------------------------------------------------------------------ */
/* The terminal application of type 07 (spec 7.1)                          */

static struct bip_app_result app_open(void *arg, struct cat *c,
				      unsigned channel)
{
	struct dm_client *dc = arg;

	(void)c;
	if (!dc->conf->dm.enable) {
		log_notice(LOG_DM, "notification by bip refused: the DM client "
			   "is disabled ([dm] enable = no)");
		return BIP_APP_REFUSED(BIP_APP_NO_CAUSE);
	}
	log_debug(LOG_DM, "card opened channel %u to the DM client", channel);
	return BIP_APP_OK;
}

static struct bip_app_result app_deliver(void *arg, struct cat *c,
					 unsigned channel, const uint8_t *p,
					 size_t len)
{
	char why[160];

	(void)c;
	(void)channel;
	if (dm_client_notify(arg, p, len, "bip", why, sizeof(why)) < 0)
		return BIP_APP_REFUSED(BIP_APP_NO_CAUSE);	/* '20' '00' */
	return BIP_APP_OK;
}

/* Off ([dm] enable = no): not in the Terminal Applications envelope. */
static bool app_offered(void *arg)
{
	struct dm_client *dc = arg;

	return dc->conf->dm.enable;
}

static const struct bip_app_ops app_ops = {
	.offered = app_offered,
	.open = app_open,
	.deliver = app_deliver,
};

struct dm_client *dm_client_new(struct event_base *base,
				const struct conf *c, struct dm_tree *t,
				struct bip *bip)
{
	struct dm_client *dc = calloc(1, sizeof(*dc));
	int r;

	if (!dc)
		return NULL;
	dc->base = base;
	dc->conf = c;
	dc->tree = t;
	dc->bip = bip;
	dc->kick = event_new(base, -1, 0, kicked, dc);
	dc->wake = evtimer_new(base, kicked, dc);
	if (!dc->kick || !dc->wake) {
		if (dc->kick)
			event_free(dc->kick);
		free(dc);
		return NULL;
	}
	dc->retry = evtimer_new(base, retry_save, dc);
	dc->agents = dm_agents_new(base, dc, c);
	if (!dc->agents)
		log_err(LOG_DM, "no Exec agents: out of memory");
	dc->saver = dm_saver_new(base, saved, dc);
	if (!dc->saver)
		log_warn(LOG_DM, "no writer thread for the management tree: "
			 "it is saved on the event loop");
	if (bip) {
		r = bip_apps_register(bip, (uint16_t)c->dm.client_port,
				      APP_TYPE_DM, c->dm.app_name, &app_ops,
				      dc);
		if (r < 0)
			log_err(LOG_DM, "DM client not registered on BIP port "
				"%u: %s", c->dm.client_port, strerror(-r));
	}
	return dc;
}

/*
 * [dm_sc] is applied to the DM_SC account (account.h); the tree is on disk
 * before the applied nonces are recorded.  Sessions running keep the
 * account they started with: the change is for the next ones.
 */
static void apply_dmsc(struct dm_client *dc)
{
	int n, r = 0;

	if (!dc->tree)
		return;		/* off: no tree was loaded */
	n = dm_account_apply_dmsc(dc->tree, dc->conf);

	if (n > 0 && dc->saver) {
		r = dm_saver_save(dc->saver, dc->conf, dc->tree, NULL);
		if (r == 0)
			r = dm_saver_flush(dc->saver);
	} else if (n > 0) {
		r = dm_store_save(dc->conf, dc->tree);
	}
	/* failures are logged; not recorded, the nonces apply again */
	if (n >= 0 && r == 0)
		dm_account_dmsc_commit(dc->conf);
}

void dm_client_reconfigure(struct dm_client *dc, const struct conf *c)
{
	dc->conf = c;
	if (dc->agents)
		dm_agents_reconfigure(dc->agents, c);
	apply_dmsc(dc);
}

void dm_client_free(struct dm_client *dc)
{
	struct entry *e;

	if (!dc)
		return;
	while ((e = dc->active)) {
		dc->active = e->next;
		if (e->s)
			log_notice(LOG_DM, "session with %s cancelled: stopping",
				   e->info.server_id);
		end_session(dc, e);
		free(e);
	}
	dm_agents_free(dc->agents);	/* the results are on disk */
	dm_saver_free(dc->saver);	/* what the sessions changed is on disk */
	if (dc->retry)
		event_free(dc->retry);
	event_free(dc->kick);
	event_free(dc->wake);
	free(dc);
}
