/* SPDX-License-Identifier: MIT */
/*
 * Roaming wake-up (OMA-TS-DM_SC-V1_0 chapter 6): the Location Status event
 * (TS 102 223 clause 7.5.4, TS 31.111 clause 7.5.3), sent when the
 * location status or, in normal service, the location changes, and only to
 * cards that listed event 03 in SET UP EVENT LIST.  The configured [terminal]
 * values are the starting point; a modem or the D-Bus service feed changes.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cat/cat.h"
#include "cat/profile.h"
#include "conf.h"
#include "log.h"
#include "wakeup/wakeup.h"

struct location {
	struct cat_engine *e;
};

static void loc_from_conf(struct cat_engine *e, const struct conf *c)
{
	struct cat_terminal_info *info = cat_engine_info(e);

	snprintf(info->imei, sizeof(info->imei), "%s", c->terminal.imei);
	snprintf(info->loc.mcc, sizeof(info->loc.mcc), "%s", c->terminal.mcc);
	snprintf(info->loc.mnc, sizeof(info->loc.mnc), "%s", c->terminal.mnc);
	info->loc.lac = (uint16_t)c->terminal.lac;
	info->loc.cell = c->terminal.cell;
	info->loc.rat = (enum cat_rat)c->terminal.rat;
	info->loc_status = (uint8_t)c->terminal.location_status;
}

static void *loc_start(struct cat_engine *e, const struct conf *c)
{
	struct location *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->e = e;
	return l;
}

static void loc_stop(void *state)
{
	free(state);
}

static bool loc_equal(const struct cat_location *a, const struct cat_location *b)
{
	return !strcmp(a->mcc, b->mcc) && !strcmp(a->mnc, b->mnc) &&
	       a->lac == b->lac && a->cell == b->cell && a->rat == b->rat;
}

static void loc_sent(void *arg, struct cat *c, int err, uint16_t sw,
		     const uint8_t *data, size_t len)
{
	if (err)
		log_warn(LOG_WAKEUP, "location status event not delivered: %s",
			 strerror(-err));
}

int wakeup_location_feed(void *state, uint8_t status,
			 const struct cat_location *loc)
{
	struct location *l = state;
	struct cat_terminal_info *info = cat_engine_info(l->e);
	bool changed;
	uint8_t env[64];
	int n, told = 0;

	if (status > CAT_LOC_NO_SERVICE || (status == CAT_LOC_NORMAL && !loc))
		return -EINVAL;
	if (status == CAT_LOC_NORMAL) {
		n = cat_location_encode(env, sizeof(env), loc);
		if (n < 0)
			return -EINVAL;
	}
	changed = status != info->loc_status ||
		  (status == CAT_LOC_NORMAL && !loc_equal(loc, &info->loc));
	info->loc_status = status;
	if (loc)
		info->loc = *loc;
	if (!changed) {
		log_debug(LOG_WAKEUP, "location unchanged, no event");
		return 0;
	}
	n = cat_env_location_status(env, sizeof(env), status,
				    status == CAT_LOC_NORMAL ? loc : NULL);
	if (n < 0)
		return n;
	for (struct cat *c = cat_engine_first(l->e); c; c = cat_engine_next(c)) {
		if (!cat_event_listed(c, CAT_EV_LOCATION_STATUS)) {
			log_debug(LOG_WAKEUP, "%s: location status event not listed by the card",
				  cat_name(c));
			continue;
		}
		if (cat_envelope(c, env, (size_t)n, loc_sent, NULL) == 0)
			told++;
	}
	log_info(LOG_WAKEUP, "location status %02X: %d card%s told", status,
		 told, told == 1 ? "" : "s");
	return told;
}

static const uint8_t loc_events[] = { CAT_EV_LOCATION_STATUS };
static const char *const loc_keys[] = {
	"terminal.mcc", "terminal.mnc", "terminal.lac", "terminal.cell",
	"terminal.rat", "terminal.location_status", NULL
};

const struct wakeup_source wakeup_location_status = {
	.name = "location",
	.feeds = "event download: location status (event 03)",
	.events = loc_events,
	.nevents = 1,
	.caps = CAP_BIT(CAP_EVENT_LOCATION_STATUS),
	.conf_keys = loc_keys,
	.start = loc_start,
	.stop = loc_stop,
};

/* The configured values are the terminal's, whether or not events are on. */
void wakeup_terminal_configure(struct cat_engine *e, const struct conf *c)
{
	loc_from_conf(e, c);
}
