/* SPDX-License-Identifier: MIT */
/*
 * The Card Application Toolkit engine, one per card: UICC activation
 * (SELECT MF, TERMINAL PROFILE), then the proactive loop (91xx -> FETCH ->
 * TERMINAL RESPONSE until 90 00).  One APDU in flight per card.
 */
#ifndef DMSCGW_CAT_H
#define DMSCGW_CAT_H

#include <stddef.h>
#include <stdint.h>

struct pcsc_reader;
struct cat;

enum cat_state {
	CAT_OFF,		/* no card session */
	CAT_SELECT,		/* SELECT MF in flight */
	CAT_PROFILE,		/* TERMINAL PROFILE in flight */
	CAT_IDLE,		/* toolkit ready, nothing in flight */
	CAT_FETCH,		/* FETCH in flight */
	CAT_RESPONSE,		/* TERMINAL RESPONSE in flight */
	CAT_FAILED,		/* the card refused activation; nothing more sent */
	CAT_STATE_MAX
};

struct cat_ops {
	/* The card answered TERMINAL PROFILE (sw) - the toolkit session is up. */
	void (*profile_done)(void *arg, struct cat *c, uint16_t sw);
};

/* Start the toolkit on a connected card: Profile Download. */
struct cat *cat_new(struct pcsc_reader *r, const struct cat_ops *ops, void *arg);
void cat_free(struct cat *c);
enum cat_state cat_state(const struct cat *c);
const char *cat_state_name(enum cat_state s);
/* The TERMINAL PROFILE bytes sent to this card. */
const uint8_t *cat_profile(const struct cat *c, size_t *len);

#endif
