/* SPDX-License-Identifier: MIT */
/*
 * What the scripted tests share: frames for the proactive loop, and one
 * test per "command -> terminal response" vector (struct vec), run by
 * vec_run() over a fresh harness.
 */
#ifndef DMSCGW_TESTS_SCRIPT_H
#define DMSCGW_TESTS_SCRIPT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "harness.h"

/* The card has a proactive command: '91 XX', XX its length ($Z). */
#define PENDING		RECV("91 $Z")
/* FETCH with Le = XX, the command answered with 90 00 (TS 102 221 11.2.3) */
#define FETCH(cmd)	SEND("80 12 00 00 $Z"), RECV(cmd " | 90 00")
/* TERMINAL RESPONSE (TS 102 221 11.2.4) with this body */
#define TR(body)	SEND("80 14 00 00 $L " body)
/* ENVELOPE (TS 102 221 11.2.2) with this BER-TLV */
#define ENVELOPE(env)	SEND("80 C2 00 00 $L " env)
#define OK		RECV("90 00")

/* Activation with a proactive command waiting after the profile. */
#define ACTIVATE_PENDING \
	SEND("00 A4 00 04 02 3F 00 00"), RECV("90 00"), \
	SEND("80 10 00 00 .. *"), PENDING

/* The terminal's side of every response: device identities 82 -> 81. */
#define TERM	" 82 02 82 81 "

struct vec {
	const char *cmd;	/* the proactive command, "D0 $L ..." */
	const char *tr;		/* the TERMINAL RESPONSE body expected */
	h_conf_fn tune;		/* configuration, or NULL */
	bool lax;		/* cmd's D0 length is wrong on purpose */
};

static inline int h_setup_none(void **state)
{
	*state = NULL;
	return 0;
}

/* cmocka teardown for tests that keep their harness in h_state. */
extern struct harness *h_state;

static inline int h_teardown(void **state)
{
	(void)state;
	h_free(h_state);
	h_state = NULL;
	return 0;
}

/* A new harness with the card inserted; freed by h_teardown. */
static inline struct harness *h_start(h_conf_fn tune)
{
	struct harness *h = h_new(tune);

	assert_non_null(h);
	h_state = h;
	h_insert(h);
	return h;
}

/* Activation, the command fetched, its response, 90 00. */
static inline void vec_run(void **state)
{
	const struct vec *v = *state;
	struct harness *h = h_start(v->tune);
	char cmd[1024], tr[1024];
	struct h_frame s[] = {
		ACTIVATE_PENDING,
		SEND("80 12 00 00 $Z"), RECV(cmd),
		SEND(tr), OK,
	};

	h->lax = v->lax;
	h->port = 4116;
	snprintf(cmd, sizeof(cmd), "%s | 90 00", v->cmd);
	snprintf(tr, sizeof(tr), "80 14 00 00 $L %s", v->tr);
	H_RUN(h, s);
}

#define VEC(name, v) { name, vec_run, NULL, h_teardown, (void *)&(v) }

#endif
