/* SPDX-License-Identifier: MIT */
/*
 * Regular interval wake-up (OMA-TS-DM_SC-V1_0 chapter 6): TIMER MANAGEMENT
 * with the Timer Expiration envelope (TS 102 223 clauses 6.4.21 and 7.4),
 * and POLL INTERVAL / POLLING OFF with periodic STATUS (clauses 6.4.6,
 * 6.4.8; TS 102 221 clause 14.6.7).  Timers run on the event loop: no timer
 * is armed unless the card asked for one.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "card/tlv.h"
#include "cat/cat.h"
#include "cat/profile.h"
#include "conf.h"
#include "log.h"
#include "wakeup/wakeup.h"

struct timer_src;

struct card_timer {
	struct card_timers *owner;
	uint8_t id;			/* 1..8 */
	struct event *ev;
	bool running;
	uint32_t value;			/* seconds, as started */
	struct timeval started;		/* monotonic */
	uint64_t seq;			/* start order, to break ties */
};

/* Timers and poll interval of one card. */
struct card_timers {
	struct card_timers *next;
	struct timer_src *src;
	struct cat *cat;
	struct card_timer t[CAT_MAX_TIMERS];
	struct event *poll;
	uint32_t poll_ms;		/* 0: polling off */
	uint64_t seq;
};

struct timer_src {
	struct cat_engine *e;
	struct card_timers *cards;
	unsigned poll_min, poll_max;	/* seconds */
};

static struct card_timers *card_find(struct timer_src *s, struct cat *c)
{
	for (struct card_timers *k = s->cards; k; k = k->next)
		if (k->cat == c)
			return k;
	return NULL;
}

static void now_mono(struct timeval *tv)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

/* Seconds left before expiry, rounded up. */
static uint32_t timer_left(const struct card_timer *t)
{
	struct timeval now, d;
	uint64_t gone_ms;

	now_mono(&now);
	timersub(&now, &t->started, &d);
	gone_ms = (uint64_t)d.tv_sec * 1000 + (uint64_t)d.tv_usec / 1000;
	if (gone_ms >= (uint64_t)t->value * 1000)
		return 0;
	return (uint32_t)(((uint64_t)t->value * 1000 - gone_ms + 999) / 1000);
}

static void expiry_sent(void *arg, struct cat *c, int err, uint16_t sw,
			const uint8_t *data, size_t len)
{
	if (err)
		log_warn(LOG_WAKEUP, "timer expiration not delivered: %s",
			 strerror(-err));
}

static void timer_report(struct card_timer *t)
{
	struct cat *c = t->owner->cat;
	uint8_t env[32];
	int n;

	t->running = false;
	evtimer_del(t->ev);
	log_info(LOG_WAKEUP, "%s: timer %u expired after %u s", cat_name(c),
		 t->id, t->value);
	/* clause 7.4: the value is the time elapsed since the start */
	n = cat_env_timer_expiration(env, sizeof(env), t->id, t->value);
	if (n < 0 || cat_envelope(c, env, (size_t)n, expiry_sent, NULL) < 0)
		log_err(LOG_WAKEUP, "%s: cannot queue the timer expiration",
			cat_name(c));
}

static struct timeval timer_deadline(const struct card_timer *t)
{
	struct timeval d = t->started;

	d.tv_sec += t->value;
	return d;
}

static bool timer_before(const struct card_timer *a, const struct card_timer *b)
{
	struct timeval da = timer_deadline(a), db = timer_deadline(b);

	if (timercmp(&da, &db, !=))
		return timercmp(&da, &db, <);
	return a->seq < b->seq;
}

/*
 * libevent does not order timers that fall due together, so when one fires
 * every timer of the card that is due goes out with it, earliest deadline
 * (then earliest start) first: the card sees expirations in their order.
 */
static void timer_expired(evutil_socket_t fd, short what, void *arg)
{
	struct card_timer *fired = arg;
	struct card_timers *k = fired->owner;
	struct timeval limit = timer_deadline(fired);

	for (;;) {
		struct card_timer *next = NULL;

		for (int i = 0; i < CAT_MAX_TIMERS; i++) {
			struct card_timer *t = &k->t[i];
			struct timeval d = timer_deadline(t);

			if (!t->running || (timercmp(&d, &limit, >) &&
					    timer_left(t) > 0))
				continue;
			if (!next || timer_before(t, next))
				next = t;
		}
		if (!next)
			break;
		timer_report(next);
	}
	cat_changed(k->cat);
}

static void poll_fire(evutil_socket_t fd, short what, void *arg)
{
	struct card_timers *k = arg;

	log_debug(LOG_WAKEUP, "%s: poll interval: STATUS", cat_name(k->cat));
	cat_status(k->cat);
}

static void timer_management(void *arg, struct cat *c,
			     const struct cat_cmd *cmd, const uint8_t *raw,
			     size_t len)
{
	struct timer_src *s = arg;
	struct card_timers *k = card_find(s, c);
	struct card_timer *t;
	uint8_t extra[16];
	struct tlv_buf b;

	if (!k) {
		cat_respond(c, CAT_RES_TERMINAL_UNABLE,
			    (const uint8_t[]){ CAT_UNABLE_NO_CAUSE }, 1, NULL, 0);
		return;
	}
	t = &k->t[cmd->u.timer.id - 1];
	tlv_buf_init(&b, extra, sizeof(extra));
	tlv_put_ctlv(&b, CAT_TAG_TIMER_ID | 0x80, &t->id, 1);
	switch (cmd->det.qualifier) {
	case 0x00:	/* start: a running timer starts again */
		t->value = cmd->u.timer.seconds;
		now_mono(&t->started);
		t->seq = ++k->seq;
		t->running = true;
		{
			struct timeval tv = { t->value, 0 };

			evtimer_add(t->ev, &tv);
		}
		log_info(LOG_WAKEUP, "%s: timer %u started for %u s", cat_name(c),
			 t->id, t->value);
		break;
	case 0x01:	/* deactivate */
	case 0x02: {	/* get current value */
		uint8_t v[3];

		if (!t->running) {
			/* clause 6.4.21: contradiction with the timer state */
			cat_respond(c, CAT_RES_TIMER_CONTRADICTION, NULL, 0,
				    NULL, 0);
			return;
		}
		cat_timer_value_encode(v, timer_left(t));
		tlv_put_ctlv(&b, CAT_TAG_TIMER_VALUE | 0x80, v, 3);
		if (cmd->det.qualifier == 0x01) {
			evtimer_del(t->ev);
			t->running = false;
			log_info(LOG_WAKEUP, "%s: timer %u stopped", cat_name(c),
				 t->id);
		}
		break;
	}
	default:
		cat_respond(c, CAT_RES_BEYOND_CAPABILITIES, NULL, 0, NULL, 0);
		return;
	}
	cat_changed(c);
	cat_respond(c, CAT_RES_OK, NULL, 0, extra, b.len);
}

static void poll_set(struct card_timers *k, uint32_t ms)
{
	k->poll_ms = ms;
	if (!ms) {
		evtimer_del(k->poll);
		return;
	}
	event_del(k->poll);
	event_assign(k->poll, cat_engine_base(k->src->e), -1, EV_PERSIST,
		     poll_fire, k);
	{
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

		event_add(k->poll, &tv);
	}
}

static void poll_interval(void *arg, struct cat *c, const struct cat_cmd *cmd,
			  const uint8_t *raw, size_t len)
{
	struct timer_src *s = arg;
	struct card_timers *k = card_find(s, c);
	uint32_t want = cat_duration_ms(&cmd->u.poll), use = want;
	struct cat_duration d;
	uint8_t extra[8], v[2];
	struct tlv_buf b;

	if (!k) {
		cat_respond(c, CAT_RES_TERMINAL_UNABLE,
			    (const uint8_t[]){ CAT_UNABLE_NO_CAUSE }, 1, NULL, 0);
		return;
	}
	/* clause 6.4.6: use the closest interval we can, and say which */
	if (use < s->poll_min * 1000)
		use = s->poll_min * 1000;
	if (use > s->poll_max * 1000)
		use = s->poll_max * 1000;
	cat_duration_from_ms(&d, use);
	use = cat_duration_ms(&d);
	poll_set(k, use);
	log_info(LOG_WAKEUP, "%s: poll interval %u ms asked, %u ms used",
		 cat_name(c), want, use);
	v[0] = d.unit;
	v[1] = d.interval;
	tlv_buf_init(&b, extra, sizeof(extra));
	tlv_put_ctlv(&b, CAT_TAG_DURATION | 0x80, v, 2);
	cat_changed(c);
	cat_respond(c, CAT_RES_OK, NULL, 0, extra, b.len);
}

static void polling_off(void *arg, struct cat *c, const struct cat_cmd *cmd,
			const uint8_t *raw, size_t len)
{
	struct card_timers *k = card_find(arg, c);

	if (k) {
		poll_set(k, 0);
		log_info(LOG_WAKEUP, "%s: polling off", cat_name(c));
		cat_changed(c);
	}
	cat_respond(c, CAT_RES_OK, NULL, 0, NULL, 0);
}

static void timer_reconf(void *state, const struct conf *c)
{
	struct timer_src *s = state;

	s->poll_min = c->wakeup.poll_min;
	s->poll_max = c->wakeup.poll_max;
}

static void *timer_start(struct cat_engine *e, const struct conf *c)
{
	struct timer_src *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->e = e;
	timer_reconf(s, c);
	cat_engine_handle(e, CAT_TIMER_MANAGEMENT, timer_management, s);
	cat_engine_handle(e, CAT_POLL_INTERVAL, poll_interval, s);
	cat_engine_handle(e, CAT_POLLING_OFF, polling_off, s);
	return s;
}

static void timer_stop(void *state)
{
	struct timer_src *s = state;

	cat_engine_handle(s->e, CAT_TIMER_MANAGEMENT, NULL, NULL);
	cat_engine_handle(s->e, CAT_POLL_INTERVAL, NULL, NULL);
	cat_engine_handle(s->e, CAT_POLLING_OFF, NULL, NULL);
	free(s);
}

static void timer_card_ready(void *state, struct cat *c)
{
	struct timer_src *s = state;
	struct card_timers *k = calloc(1, sizeof(*k));

	if (!k) {
		log_err(LOG_WAKEUP, "%s: out of memory for timers", cat_name(c));
		return;
	}
	k->src = s;
	k->cat = c;
	for (int i = 0; i < CAT_MAX_TIMERS; i++) {
		k->t[i].owner = k;
		k->t[i].id = (uint8_t)(i + 1);
		k->t[i].ev = evtimer_new(cat_engine_base(s->e), timer_expired,
					 &k->t[i]);
	}
	k->poll = evtimer_new(cat_engine_base(s->e), poll_fire, k);
	k->next = s->cards;
	s->cards = k;
}

static void timer_card_gone(void *state, struct cat *c)
{
	struct timer_src *s = state;

	for (struct card_timers **pp = &s->cards; *pp; pp = &(*pp)->next) {
		struct card_timers *k = *pp;

		if (k->cat != c)
			continue;
		*pp = k->next;
		for (int i = 0; i < CAT_MAX_TIMERS; i++)
			if (k->t[i].ev)
				event_free(k->t[i].ev);
		if (k->poll)
			event_free(k->poll);
		free(k);
		return;
	}
}

/* For the D-Bus service: running timers and the poll interval. */
int wakeup_timer_state(void *state, struct cat *c, uint32_t left[CAT_MAX_TIMERS],
		       uint32_t *poll_ms)
{
	struct card_timers *k = state ? card_find(state, c) : NULL;

	if (!k)
		return -ENOENT;
	for (int i = 0; i < CAT_MAX_TIMERS; i++)
		left[i] = k->t[i].running ? timer_left(&k->t[i]) : 0;
	*poll_ms = k->poll_ms;
	return 0;
}

static const char *const timer_keys[] = {
	"wakeup.poll_min", "wakeup.poll_max", NULL
};

const struct wakeup_source wakeup_timer = {
	.name = "timer",
	.feeds = "envelope timer expiration (D7); STATUS at the poll interval",
	.caps = CAP_BIT(CAP_TIMER_EXPIRATION) | CAP_BIT(CAP_TIMER_START_STOP) |
		CAP_BIT(CAP_TIMER_GET) | CAP_BIT(CAP_POLL_INTERVAL) |
		CAP_BIT(CAP_POLLING_OFF),
	.conf_keys = timer_keys,
	.start = timer_start,
	.stop = timer_stop,
	.reconfigure = timer_reconf,
	.card_ready = timer_card_ready,
	.card_gone = timer_card_gone,
};
