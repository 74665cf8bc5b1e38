/* SPDX-License-Identifier: MIT */
/*
 * dmsc-vuicc: a virtual UICC for testing dmscgw through pcscd and the
 * vsmartcard vpcd reader driver.
 *
 * The card side of ETSI TS 102 221 (SELECT, STATUS, GET RESPONSE) and of the
 * Card Application Toolkit, TS 102 223 (TERMINAL PROFILE, FETCH, TERMINAL
 * RESPONSE, ENVELOPE), written independently of the daemon: it shares only
 * the TLV and hex codecs with it, so that a misreading of the specification
 * in the daemon is not mirrored here.  The DM_SC server shares the SyncML,
 * credential and Package#0 codecs, not the daemon's session logic.
 *
 * Modules:
 *   vuicc.c     options, the vpcd link, the card (one function per INS);
 *   scenario.c  the scenario language: parser and runner;
 *   bip.c       the card side of BIP: channels, events, the SCWS set-up
 *               (bip.h);
 *   scws.c      the Smartcard Web Server, HTTP/1.1 on a byte stream (scws.h);
 *   tls.c       TLS 1.2 PSK server on memory BIOs for --scws-tls (tls.h);
 *   dmserver.c  the DM_SC server: OMA DM 1.2 sessions, server side
 *               (dmserver.h), reached through the SCWS at /OMA/DM.
 * The card tells the scenario what it receives through struct vuicc_hooks;
 * the scenario acts on the card only through the vuicc_*() calls below and
 * on its channels through bip.h.
 */
#ifndef DMSC_VUICC_H
#define DMSC_VUICC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Short APDUs only: 255 bytes of command data, 256 of response data. */
#define VUICC_MAX_CDATA		255
#define VUICC_MAX_RDATA		256
/* A proactive command is announced by '91 XX': at most 255 bytes. */
#define VUICC_MAX_PROACTIVE	255
#define VUICC_QUEUE_MAX		32
#define VUICC_ATR_MAX		33

/* What the card received, as reported to the scenario. */
enum vuicc_event_kind {
	VUICC_EV_POWER_ON,
	VUICC_EV_POWER_OFF,
	VUICC_EV_RESET,
	VUICC_EV_PROFILE,	/* TERMINAL PROFILE accepted; data = profile */
	VUICC_EV_FETCH,		/* FETCH delivered; data = proactive command */
	VUICC_EV_TR,		/* TERMINAL RESPONSE; data = its data field */
	VUICC_EV_ENVELOPE,	/* ENVELOPE accepted; data = its data field */
	VUICC_EV_ENVELOPE_BUSY,	/* ENVELOPE refused with '93 00' */
	VUICC_EV_STATUS,	/* STATUS accepted (any P1/P2 it answers) */
};

struct vuicc_event {
	enum vuicc_event_kind kind;
	const uint8_t *data;
	size_t len;
};

/* A response before transport shaping: data and the final status word. */
struct vuicc_resp {
	uint8_t data[VUICC_MAX_RDATA];
	size_t len;
	uint16_t sw;
};

struct vuicc;

struct vuicc_hooks {
	void *ctx;
	/*
	 * Called after a command has been accepted and before its answer is
	 * built, so that whatever the hook queues (a proactive command) is
	 * announced in that very answer, as a card applet would do.
	 */
	void (*event)(void *ctx, struct vuicc *card, const struct vuicc_event *ev);
	/*
	 * An accepted ENVELOPE, before the event above: return true with *resp
	 * filled (data and status word) to answer it, false for the default
	 * answer ('90 00', or '91 XX' when a proactive command is queued).
	 */
	bool (*envelope)(void *ctx, struct vuicc *card, const uint8_t *data,
			 size_t len, struct vuicc_resp *resp);
};

/* Queue a raw proactive command (the whole D0 object).  0 or -ENOSPC/-EINVAL. */
int vuicc_queue_proactive(struct vuicc *card, const uint8_t *p, size_t len);
/* Take back the first queued (not fetched) command equal to p.  0 or -ENOENT. */
int vuicc_cancel_proactive(struct vuicc *card, const uint8_t *p, size_t len);
/* The card's BIP engine (bip.h). */
struct bip *vuicc_bip(struct vuicc *card);
/* Answer the next n ENVELOPEs with '93 00' (toolkit busy). */
void vuicc_set_busy(struct vuicc *card, unsigned n);
void vuicc_set_hooks(struct vuicc *card, const struct vuicc_hooks *hooks);

/* Diagnostics on stderr: vuicc_verbose() only with -v. */
void vuicc_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vuicc_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Monotonic clock in milliseconds. */
int64_t vuicc_now_ms(void);

/* --- scenario.c ----------------------------------------------------------- */

enum scenario_state {
	SCENARIO_RUNNING,
	SCENARIO_PASSED,	/* every step passed; the card keeps serving */
	SCENARIO_EXIT,		/* an 'exit' step: remove the card and exit 0 */
	SCENARIO_FAILED,	/* an expectation failed: exit 1 */
};

struct scenario;

/*
 * Parse path.  Returns 0 with *out set, or -1 after printing
 * "scenario FILE:LINE: ..." to stderr (exit status 2).
 */
int scenario_load(const char *path, struct scenario **out);
void scenario_free(struct scenario *sc);
/* Install the hooks on card and run the steps that need no input. */
void scenario_start(struct scenario *sc, struct vuicc *card, int64_t now_ms);
/* Run what is due at now_ms (timeouts, sleeps). */
void scenario_tick(struct scenario *sc, int64_t now_ms);
/* Fail the current step (e.g. "interrupted by signal"); no-op once finished. */
void scenario_abort(struct scenario *sc, const char *why);
enum scenario_state scenario_state(const struct scenario *sc);
/* When scenario_tick() next needs to run; -1 if it waits for input only. */
int64_t scenario_deadline(const struct scenario *sc);

#endif
