/* SPDX-License-Identifier: MIT */
/*
 * PC/SC access without blocking the loop.
 *
 * SCard* calls block, so none runs on the loop thread: one monitor thread
 * waits in SCardGetStatusChange (with the PnP notification reader) and one
 * worker thread per reader runs that reader's requests in order.  Threads
 * post their results to a queue that the loop drains from an event made
 * active with event_active(); every callback below runs on the loop thread.
 */
#ifndef DMSCGW_PCSC_H
#define DMSCGW_PCSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/apdu.h"

struct event_base;
struct pcsc;
struct pcsc_reader;

struct pcsc_config {
	const char *reader;	/* fnmatch(3) pattern */
	bool exclusive;
	int protocol;		/* enum conf_proto */
	unsigned retry_min;	/* seconds */
	unsigned retry_max;
};

struct pcsc_ops {
	/* pcscd became reachable (up) or was lost. */
	void (*service)(void *arg, bool up);
	/* A card in a matching reader is powered and connected. */
	void (*card_ready)(void *arg, struct pcsc_reader *r);
	/*
	 * The card is gone (removed, reader gone, pcscd lost, daemon stopping).
	 * Requests still in flight for it are cancelled: their callbacks are
	 * never called.
	 */
	void (*card_gone)(void *arg, struct pcsc_reader *r);
};

/*
 * Completion of pcsc_transmit: err is 0 with res filled (res->sw is the
 * final status word after the T=0 rules), or a negative errno:
 * -ENODEV card removed, -ECONNRESET card reset by someone else,
 * -EPROTO malformed answer, -EIO other PC/SC failure.
 */
typedef void (*pcsc_done_fn)(void *arg, int err, const struct apdu_result *res);

struct pcsc *pcsc_new(struct event_base *base, const struct pcsc_config *cfg,
		      const struct pcsc_ops *ops, void *arg);
/* Stop the threads, release every reader and the context; accepts NULL. */
void pcsc_free(struct pcsc *p);
/* New configuration (SIGHUP): readers are matched again. */
void pcsc_reconfigure(struct pcsc *p, const struct pcsc_config *cfg);

/* Queue one command APDU for the card in r.  Returns 0 or -ENODEV/-ENOMEM/-EINVAL. */
int pcsc_transmit(struct pcsc_reader *r, const uint8_t *cmd, size_t len,
		  pcsc_done_fn done, void *arg);

/*
 * The same; when the card answers 91 XX the worker sends FETCH (80 12 00 00
 * XX) right away.  During done, pcsc_fetched() is that FETCH's result, or
 * NULL when there was none or it failed (then FETCH again, as usual).
 */
int pcsc_transmit_fetch(struct pcsc_reader *r, const uint8_t *cmd,
			size_t len, pcsc_done_fn done, void *arg);
const struct apdu_result *pcsc_fetched(const struct pcsc_reader *r);

const char *pcsc_reader_name(const struct pcsc_reader *r);
const uint8_t *pcsc_reader_atr(const struct pcsc_reader *r, size_t *len);
/* "T=0" or "T=1" */
const char *pcsc_reader_protocol(const struct pcsc_reader *r);
/* Upper layer's per-card state. */
void pcsc_reader_set_data(struct pcsc_reader *r, void *data);
void *pcsc_reader_data(const struct pcsc_reader *r);

/*
 * A responder answers some proactive commands on the reader's worker
 * thread, so that a stream of them (BIP data) does not wait for the loop
 * at every command.  It is only offered what follows a TERMINAL RESPONSE
 * sent with pcsc_transmit_fetch(): the card answered 91 XX and the FETCH
 * returned a command.
 *
 * respond() runs on the worker thread and may only use state it guards
 * itself.  It returns the length of the terminal response it wrote into
 * tr (at most cap), which the worker sends at once, or 0 (setting no note)
 * to leave the command to the loop (it then arrives as pcsc_fetched(), as
 * usual).  On an answer it sets *note, which apply() receives on the loop, in order
 * with every other completion: in batches, or at once when it sets
 * *urgent, and always before the completion of the request.  live is
 * false when the card session or the responder has ended meanwhile (apply
 * must still free the note).  release() runs on the loop once no request
 * uses the responder any more.
 */
struct pcsc_responder_ops {
	int (*respond)(void *arg, const uint8_t *cmd, size_t len,
		       uint8_t *tr, size_t cap, void **note, bool *urgent);
	void (*apply)(void *arg, void *note, bool live);
	void (*release)(void *arg);
};
/* Install (ops non-NULL) or remove the reader's responder; one at a time. */
int pcsc_set_responder(struct pcsc_reader *r,
		       const struct pcsc_responder_ops *ops, void *arg);

/* Optional observer of every low-level C-APDU/R-APDU pair (for the trace). */
typedef void (*pcsc_tap_fn)(void *arg, struct pcsc_reader *r,
			    const uint8_t *cmd, size_t clen,
			    const uint8_t *resp, size_t rlen);
void pcsc_set_tap(struct pcsc *p, pcsc_tap_fn fn, void *arg);

#endif
