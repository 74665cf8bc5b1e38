/* SPDX-License-Identifier: MIT */
/*
 * Scripted-peer harness (in the manner of oFono's unit/rilmodem-test-engine):
 * the real CAT engine, wake-up sources, BIP module and SMS service, wired as
 * dmscgw.c wires them, over a fake PC/SC layer (fake_pcsc.c) whose one
 * reader holds a scripted card.  A script is a table of frames: the APDU
 * the terminal must send, the card's answer, and actions on the test's side
 * (a TCP client connecting to a BIP listener, an envelope queued...).
 *
 * Hex in frames: bytes separated by blanks; ".." matches any one byte,
 * "*" (last) any rest, "$P" stands for the two bytes of h->port.
 *
 * Threads: there are none.  The fake "worker" runs on the loop thread, in
 * an event made active by pcsc_transmit(): it applies the T=0 rules with
 * the real apdu_exchange() against the script, then the reader's hook
 * (the engine's FETCH after 91 XX and the BIP fast path's delegate), then
 * applies the hook's notes and calls the completion - never from inside
 * pcsc_transmit() itself.  One request is served per loop turn, so socket
 * events interleave with APDUs as they would with a real worker.
 */
#ifndef DMSCGW_TESTS_HARNESS_H
#define DMSCGW_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct harness;

enum h_kind {
	H_SEND,		/* the APDU the terminal must send (pattern) */
	H_RECV,		/* the card's answer to it, data and SW */
	H_CALL,		/* a test-side action, run when no APDU is pending */
};

struct h_frame {
	enum h_kind kind;
	const char *hex;
	void (*call)(struct harness *h);
	const char *what;
};

#define SEND(x)		{ H_SEND, (x), NULL, NULL }
#define RECV(x)		{ H_RECV, (x), NULL, NULL }
#define CALL(f)		{ H_CALL, NULL, (f), #f }

/*
 * UICC activation as every script starts: SELECT MF (TS 102 221 14.5.1),
 * then TERMINAL PROFILE with whatever profile, both answered 90 00.
 */
#define ACTIVATE \
	SEND("00 A4 00 04 02 3F 00 00"), RECV("90 00"), \
	SEND("80 10 00 00 .. *"), RECV("90 00")

struct harness {
	struct event_base *base;
	struct conf conf;
	struct cat_engine *e;
	struct wakeup *w;
	struct bip *bip;
	struct sms_service *sms;
	struct pcsc *pcsc;
	struct cat *cat;		/* the card's toolkit session, once up */

	uint16_t port;			/* "$P" in scripts */
	int peer;			/* test-side socket, -1 none */
	int peer2;
	void *user;			/* for the test's actions */

	/* observed */
	unsigned commands;		/* TERMINAL RESPONSEs the engine sent */
	uint8_t last_type, last_result;	/* of the last one */
	unsigned envelopes;		/* envelope completions (cat_envelope_fn) */
	int env_err[8];
	uint16_t env_sw[8];
	unsigned apps_opened, apps_closed;
	uint8_t delivered[512];		/* what a registered app received */
	size_t ndelivered;

	/* the script */
	const struct h_frame *script;
	size_t nframes, at;
	bool failed;
	bool lax;			/* allow a D0 whose length is wrong */
	char why[1024];
};

/*
 * The bus sms_new() gets (NULL: no modem).  A test linking fake_mm.c sets
 * any non-NULL value: the fake never looks at it.
 */
extern struct sdbus *h_bus;

/* Options of h_new(), applied to the configuration before the modules start. */
typedef void (*h_conf_fn)(struct conf *c);

/*
 * A new daemon with its modules over the fake PC/SC layer; no card yet.
 * Busy retries are immediate (busy_retry 0 ms) so that no test waits.
 */
struct harness *h_new(h_conf_fn tune);
void h_free(struct harness *h);

/* Insert the card: service up, card ready, as pcsc.c reports them. */
void h_insert(struct harness *h);
/* Remove it: card_gone; requests in flight are dropped (pcsc.h). */
void h_remove(struct harness *h);

/*
 * Run the script to its end: the loop turns until every frame is
 * consumed, then a few more turns to check the terminal sends nothing
 * else.  Fails the cmocka test (frame index, expected and actual hex) on
 * a mismatch, an APDU beyond the script, or when nothing happens for
 * 2 seconds.  Frames run in order across calls: h_run() may be called
 * again with the next part of a test.
 */
void h_run(struct harness *h, const struct h_frame *script, size_t n);
#define H_RUN(h, s)	h_run((h), (s), sizeof(s) / sizeof((s)[0]))

/* Record a failure from a test action (reported by h_run). */
void h_fail(struct harness *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Test-side sockets on loopback. */
uint16_t h_free_port(void);
/* A TCP client connected (blocking, loopback) to 127.0.0.1:port; -1 on error. */
int h_connect(uint16_t port);
/* A TCP listener on 127.0.0.1:port (0: any; *port set). */
int h_listen(uint16_t *port);
/* A UDP socket bound to 127.0.0.1:port (0: any; *port set). */
int h_udp(uint16_t *port);
/* Read exactly n bytes within the loop's time (the loop keeps turning). */
void h_expect_read(struct harness *h, int fd, const char *hex);

/* The fake PC/SC layer (fake_pcsc.c). */
struct pcsc *fake_pcsc_last(void);
void fake_pcsc_bind(struct pcsc *p, struct harness *h);
void fake_pcsc_insert(struct pcsc *p);
void fake_pcsc_remove(struct pcsc *p);
/* Requests queued or being served. */
unsigned fake_pcsc_pending(const struct pcsc *p);
/* The hook (installed by the engine) is currently set. */
bool fake_pcsc_hooked(const struct pcsc *p);

/* Hex helpers. */
int h_hex_match(const char *pattern, uint16_t port, const uint8_t *p,
		size_t len);
/* Pattern to bytes ("$P" expanded, no wildcards); the length or -1. */
int h_hex_bytes(const char *hex, uint16_t port, uint8_t *out, size_t cap);
void h_hex_str(char *out, size_t cap, const uint8_t *p, size_t len);

#endif
