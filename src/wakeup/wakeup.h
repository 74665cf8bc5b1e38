/* SPDX-License-Identifier: MIT */
/*
 * Wake-up sources (OMA-TS-DM_SC-V1_0 chapter 6): what makes the card's
 * DM_SC server run.  Each source is one file with one `struct
 * wakeup_source` and one row in the table of wakeup.c; which ones run is
 * chosen by `sources` in the [wakeup] section of dmscgw.conf.
 *
 * Location changes and calls reach the sources through wakeup_location()
 * and wakeup_call(): the one entry point for the D-Bus service and the
 * modem.
 */
#ifndef DMSCGW_WAKEUP_H
#define DMSCGW_WAKEUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat/envelope.h"

struct cat;
struct cat_engine;
struct conf;
struct wakeup;

struct wakeup_source {
	const char *name;
	const char *feeds;		/* what it sends the card, for people */
	const uint8_t *events;		/* SET UP EVENT LIST events it reports */
	size_t nevents;
	uint64_t caps;			/* terminal profile capabilities */
	const char *const *conf_keys;	/* "section.key" it reads, NULL-ended */
	/* Daemon start: register handlers; returns the source's state. */
	void *(*start)(struct cat_engine *e, const struct conf *c);
	void (*stop)(void *state);
	void (*reconfigure)(void *state, const struct conf *c);
	void (*card_ready)(void *state, struct cat *c);
	void (*card_gone)(void *state, struct cat *c);
};

/*
 * Check [wakeup] sources and the check digit of [terminal] imei: 0, or -1
 * with "file:line: key: why" in err.
 */
int wakeup_conf_check(const struct conf *c, char *err, size_t errlen);
/* Table access, for --help style listings. */
const struct wakeup_source *wakeup_source_at(size_t i);

struct wakeup *wakeup_new(struct cat_engine *e, const struct conf *c);
void wakeup_free(struct wakeup *w);
/* New configuration: sources started or stopped, options updated. */
void wakeup_reconfigure(struct wakeup *w, const struct conf *c);
bool wakeup_enabled(const struct wakeup *w, const char *name);

void wakeup_card_ready(struct wakeup *w, struct cat *c);
void wakeup_card_gone(struct wakeup *w, struct cat *c);

/*
 * The terminal's location changed (Location Status source).  Updates what
 * PROVIDE LOCAL INFORMATION answers and, for each card that listed the
 * location status event, sends the event when status or location changed.
 * Returns the number of cards told, or -ENOTSUP when the source is off.
 */
int wakeup_location(struct wakeup *w, uint8_t status,
		    const struct cat_location *loc);

/* Verdict of call control for a call being set up. */
typedef void (*wakeup_call_fn)(void *arg, int err,
			       const struct cat_cc_answer *answer);
/*
 * A call to number is being set up (Call Control source): ask the card in
 * `reader` (NULL: the first card).  done runs once, with -ENOTSUP (source
 * off), -ENODEV (no card), -EINVAL (bad number), -EIO/-EBUSY, or 0.
 */
int wakeup_call(struct wakeup *w, const char *reader, const char *number,
		wakeup_call_fn done, void *arg);

/* Per-source entry points behind wakeup_location() / wakeup_call(). */
int wakeup_location_feed(void *state, uint8_t status,
			 const struct cat_location *loc);
int wakeup_call_control(void *state, struct cat *c, const char *number,
			wakeup_call_fn done, void *arg);

/* The [terminal] values of the configuration, for local information. */
void wakeup_terminal_configure(struct cat_engine *e, const struct conf *c);
/* Timers left (seconds, 0 = not running) and poll interval of a card. */
int wakeup_timers(struct wakeup *w, struct cat *c, uint32_t left[8],
		  uint32_t *poll_ms);
int wakeup_timer_state(void *state, struct cat *c, uint32_t left[8],
		       uint32_t *poll_ms);

extern const struct wakeup_source wakeup_profile_download;
extern const struct wakeup_source wakeup_timer;
extern const struct wakeup_source wakeup_location_status;
extern const struct wakeup_source wakeup_call_control_source;

#endif
