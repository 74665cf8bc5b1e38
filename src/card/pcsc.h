/* SPDX-License-Identifier: MIT */
/*
 * PC/SC access without blocking the loop.
 *
 * SCard* calls block, so none runs on the loop thread: one monitor thread
 * waits in SCardGetStatusChange (with the PnP notification reader) and one
 * worker thread per reader runs that reader's requests in order.  Threads
 * post their results to a queue that the loop drains from an event made
 * active with event_active(); every callback below runs on the loop thread,
 * but for a hook's more(), which runs on the worker (see below).
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

/* Protocols offered to SCardConnect. */
enum pcsc_proto { PCSC_PROTO_ANY, PCSC_PROTO_T0, PCSC_PROTO_T1 };

struct pcsc_config {
	const char *reader;	/* fnmatch(3) pattern */
	bool exclusive;
	enum pcsc_proto protocol;
	unsigned retry_min;	/* seconds */
	unsigned retry_max;
	/*
	 * Seconds a card may take to answer an APDU (0: no limit); past it
	 * the card is treated as failed, as after a transmission error.
	 */
	unsigned apdu_timeout;
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

const char *pcsc_reader_name(const struct pcsc_reader *r);
const uint8_t *pcsc_reader_atr(const struct pcsc_reader *r, size_t *len);
/* "T=0" or "T=1" */
const char *pcsc_reader_protocol(const struct pcsc_reader *r);
/* Upper layer's per-card state. */
void pcsc_reader_set_data(struct pcsc_reader *r, void *data);
void *pcsc_reader_data(const struct pcsc_reader *r);

/*
 * Continue on the worker.  A hook lets the layer above go on with the card
 * on the reader's worker thread after the exchange of a request sent with
 * pcsc_transmit_more(), so that a stream of exchanges does not wait for the
 * loop at every step.  pcsc knows nothing of what the exchanges mean.
 *
 * more() runs on the worker thread after the request's exchange, with its
 * command and result; it may only use state it guards itself.  It may send
 * further commands with pcsc_worker_exchange() (each traced as usual) and
 * leave notes for the loop with pcsc_worker_note(); what it leaves in res
 * and returns (0 or a negative errno, as for pcsc_done_fn) is what the
 * request's done() receives.  apply() receives every note on the loop, in
 * order with every other completion: in batches, or at once for an urgent
 * note, and always before the completion of the request.  live is false
 * when the card session of the request has ended meanwhile (apply must
 * still free the note); a hook replaced meanwhile still gets its notes.
 * release() runs on the loop once no request uses the hook any more.
 */
struct pcsc_worker;
struct pcsc_hook_ops {
	int (*more)(void *arg, struct pcsc_worker *w, const uint8_t *cmd,
		    size_t clen, struct apdu_result *res);
	void (*apply)(void *arg, void *note, bool live);
	void (*release)(void *arg);
};
/* Install (ops non-NULL) or remove the reader's hook; one at a time. */
int pcsc_set_hook(struct pcsc_reader *r, const struct pcsc_hook_ops *ops,
		  void *arg);
/* pcsc_transmit(), then the reader's hook (if any) on the worker. */
int pcsc_transmit_more(struct pcsc_reader *r, const uint8_t *cmd, size_t len,
		       pcsc_done_fn done, void *arg);
/* Worker thread, within more(): one more exchange (T=0 rules applied). */
int pcsc_worker_exchange(struct pcsc_worker *w, const uint8_t *cmd,
			 size_t clen, struct apdu_result *res);
/* Worker thread, within more(): a note for apply() on the loop. */
void pcsc_worker_note(struct pcsc_worker *w, void *note, bool urgent);

/* Optional observer of every low-level C-APDU/R-APDU pair (for the trace). */
typedef void (*pcsc_tap_fn)(void *arg, struct pcsc_reader *r,
			    const uint8_t *cmd, size_t clen,
			    const uint8_t *resp, size_t rlen);
void pcsc_set_tap(struct pcsc *p, pcsc_tap_fn fn, void *arg);

#endif
