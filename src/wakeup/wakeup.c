/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat/cat.h"
#include "conf.h"
#include "log.h"
#include "wakeup/wakeup.h"

/* The sources, in the order they act on a new card. */
static const struct wakeup_source *const sources[] = {
	&wakeup_profile_download,
	&wakeup_timer,
	&wakeup_location_status,
	&wakeup_call_control_source,
};
#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

struct wakeup {
	struct cat_engine *e;
	void *state[NSOURCES];
	bool on[NSOURCES];
};

const struct wakeup_source *wakeup_source_at(size_t i)
{
	return i < NSOURCES ? sources[i] : NULL;
}

/* Calls fn for each name of a comma/blank separated list; stops on < 0. */
static int for_each_name(const char *list,
			 int (*fn)(const char *name, size_t n, void *arg),
			 void *arg)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ", \t");
		int r = n ? fn(p, n, arg) : 0;

		if (r < 0)
			return r;
		p += n;
		p += strspn(p, ", \t");
	}
	return 0;
}

static int source_index(const char *name, size_t n)
{
	for (size_t i = 0; i < NSOURCES; i++)
		if (strlen(sources[i]->name) == n &&
		    !strncmp(sources[i]->name, name, n))
			return (int)i;
	return -1;
}

struct check_ctx {
	char *why;
	size_t whylen;
	bool *seen;
};

static int check_one(const char *name, size_t n, void *arg)
{
	struct check_ctx *cx = arg;
	int i = source_index(name, n);

	if (i < 0) {
		char known[128] = "";

		for (size_t k = 0; k < NSOURCES; k++) {
			if (k)
				strcat(known, ", ");
			strcat(known, sources[k]->name);
		}
		snprintf(cx->why, cx->whylen, "unknown wake-up source '%.*s' (known: %s)",
			 (int)(n < 40 ? n : 40), name, known);
		return -EINVAL;
	}
	if (cx->seen)
		cx->seen[i] = true;
	return 0;
}

/*
 * The Luhn check digit of a 15-digit IMEI (3GPP TS 23.003 annex B.2): from
 * the left, every second of the first 14 digits doubled, the digits of the
 * products and the rest summed; the check digit takes the sum to a
 * multiple of 10.
 */
static int imei_check_digit(const char *imei)
{
	unsigned sum = 0;

	for (int i = 0; i < 14; i++) {
		unsigned d = (unsigned)(imei[i] - '0');

		if (i % 2)
			d = d * 2 > 9 ? d * 2 - 9 : d * 2;
		sum += d;
	}
	return (int)((10 - sum % 10) % 10);
}

int wakeup_conf_check(const struct conf *c, char *err, size_t errlen)
{
	char why[160];
	struct check_ctx cx = { why, sizeof(why), NULL };
	const char *imei = c->terminal.imei;

	/* conf.c made it 15 digits; the card and the DM server see it */
	if (strlen(imei) == 15 && imei[14] - '0' != imei_check_digit(imei))
		return conf_key_error(c, "terminal", "imei", err, errlen,
				      "'%s' has a wrong check digit (Luhn, "
				      "TS 23.003 B.2: %c expected)", imei,
				      '0' + imei_check_digit(imei));

	if (for_each_name(c->wakeup.sources, check_one, &cx) < 0)
		return conf_key_error(c, "wakeup", "sources", err, errlen, "%s",
				      why);
	return 0;
}

static void source_set(struct wakeup *w, size_t i, bool on,
		       const struct conf *c)
{
	if (on == w->on[i]) {
		if (on && sources[i]->reconfigure)
			sources[i]->reconfigure(w->state[i], c);
		return;
	}
	if (on) {
		w->state[i] = sources[i]->start ? sources[i]->start(w->e, c) : NULL;
		cat_engine_enable(w->e, sources[i]->caps);
		log_info(LOG_WAKEUP, "source %s enabled", sources[i]->name);
	} else {
		for (struct cat *k = cat_engine_first(w->e); k;
		     k = cat_engine_next(k))
			if (sources[i]->card_gone)
				sources[i]->card_gone(w->state[i], k);
		if (sources[i]->stop)
			sources[i]->stop(w->state[i]);
		w->state[i] = NULL;
		cat_engine_disable(w->e, sources[i]->caps);
		log_info(LOG_WAKEUP, "source %s disabled", sources[i]->name);
	}
	w->on[i] = on;
}

void wakeup_reconfigure(struct wakeup *w, const struct conf *c)
{
	bool want[NSOURCES] = { false };
	char why[160];
	struct check_ctx cx = { why, sizeof(why), want };

	if (for_each_name(c->wakeup.sources, check_one, &cx) < 0) {
		log_err(LOG_WAKEUP, "%s", why);	/* conf has checked it */
		return;
	}
	for (size_t i = 0; i < NSOURCES; i++)
		source_set(w, i, want[i], c);
}

struct wakeup *wakeup_new(struct cat_engine *e, const struct conf *c)
{
	struct wakeup *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->e = e;
	wakeup_reconfigure(w, c);
	return w;
}

void wakeup_free(struct wakeup *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < NSOURCES; i++)
		source_set(w, i, false, NULL);
	free(w);
}

bool wakeup_enabled(const struct wakeup *w, const char *name)
{
	int i = source_index(name, strlen(name));

	return i >= 0 && w->on[i];
}

void wakeup_card_ready(struct wakeup *w, struct cat *c)
{
	for (size_t i = 0; i < NSOURCES; i++)
		if (w->on[i] && sources[i]->card_ready)
			sources[i]->card_ready(w->state[i], c);
}

void wakeup_card_gone(struct wakeup *w, struct cat *c)
{
	for (size_t i = 0; i < NSOURCES; i++)
		if (w->on[i] && sources[i]->card_gone)
			sources[i]->card_gone(w->state[i], c);
}

static void *state_of(struct wakeup *w, const struct wakeup_source *s)
{
	for (size_t i = 0; i < NSOURCES; i++)
		if (sources[i] == s && w->on[i])
			return w->state[i];
	return NULL;
}

int wakeup_location(struct wakeup *w, uint8_t status,
		    const struct cat_location *loc)
{
	void *st = state_of(w, &wakeup_location_status);

	if (!st)
		return -ENOTSUP;
	return wakeup_location_feed(st, status, loc);
}

int wakeup_call(struct wakeup *w, const char *reader, const char *number,
		wakeup_call_fn done, void *arg)
{
	void *st = state_of(w, &wakeup_call_control_source);
	struct cat *c;

	if (!st)
		return -ENOTSUP;
	for (c = cat_engine_first(w->e); c; c = cat_engine_next(c))
		if (!reader || !strcmp(reader, cat_name(c)))
			break;
	if (!c)
		return -ENODEV;
	return wakeup_call_control(st, c, number, done, arg);
}

int wakeup_timers(struct wakeup *w, struct cat *c, uint32_t left[8],
		  uint32_t *poll_ms)
{
	void *st = state_of(w, &wakeup_timer);

	if (!st)
		return -ENOTSUP;
	return wakeup_timer_state(st, c, left, poll_ms);
}
