/* SPDX-License-Identifier: MIT */
/*
 * The Card Application Toolkit engine (ETSI TS 102 223, TS 102 221 clause
 * 14).  One struct cat per card: UICC activation, the proactive loop (91xx
 * -> FETCH -> handler -> TERMINAL RESPONSE until 90 00), and a queue of
 * ENVELOPE and STATUS jobs with one APDU in flight; '93 00' is retried after
 * a back-off without reordering.  The engine (struct cat_engine) holds what
 * is shared by every card: the command handlers, the capabilities for the
 * terminal profile, the terminal's local information and the observers.
 * On the reader's worker thread (pcsc hooks) the engine FETCHes right after
 * a '91 XX' and answers the commands a module delegated (cat_delegate).
 */
#ifndef DMSCGW_CAT_H
#define DMSCGW_CAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat/envelope.h"
#include "cat/proactive.h"

struct event_base;
struct pcsc_reader;
struct cat;
struct cat_engine;

enum cat_state {
	CAT_OFF,		/* card connected, toolkit not started */
	CAT_SELECT,		/* SELECT MF in flight */
	CAT_PROFILE,		/* TERMINAL PROFILE in flight */
	CAT_IDLE,		/* nothing in flight */
	CAT_FETCH,		/* FETCH in flight */
	CAT_COMMAND,		/* a handler is executing the fetched command */
	CAT_RESPONSE,		/* TERMINAL RESPONSE in flight */
	CAT_ENVELOPE,		/* ENVELOPE in flight */
	CAT_STATUS,		/* STATUS in flight */
	CAT_BACKOFF,		/* card answered 93 00: waiting to retry */
	CAT_FAILED,		/* activation refused; nothing more is sent */
	CAT_STATE_MAX
};

struct cat_config {
	unsigned busy_retry_ms;		/* first retry after 93 00 */
	unsigned busy_retry_max_ms;	/* back-off ceiling */
	unsigned busy_retries;		/* then the envelope is dropped */
};

/* The terminal's own information, for PROVIDE LOCAL INFORMATION. */
struct cat_terminal_info {
	char imei[16];			/* 15 digits */
	struct cat_location loc;
	uint8_t loc_status;		/* enum cat_loc_status */
};

/* Observers (the D-Bus service); every member optional. */
struct cat_observer {
	void (*card_up)(void *arg, struct cat *c);	/* profile answered */
	void (*command)(void *arg, struct cat *c, uint8_t type, uint8_t result);
	void (*envelope)(void *arg, struct cat *c, uint8_t tag, uint16_t sw);
	void (*changed)(void *arg, struct cat *c);	/* events, timers... */
};

/* Executes a decoded proactive command; must end with cat_respond(). */
typedef void (*cat_handler_fn)(void *arg, struct cat *c,
			       const struct cat_cmd *cmd,
			       const uint8_t *raw, size_t len);

/*
 * Completion of an envelope: err 0 with the final status word and response
 * data, or -ENODEV (card gone), -EBUSY (still 93 00 after every retry),
 * -EIO.  Runs once per queued envelope, also when the card goes away.
 */
typedef void (*cat_envelope_fn)(void *arg, struct cat *c, int err, uint16_t sw,
				const uint8_t *data, size_t len);

/*
 * Delegation (the fast path).  A module may have some types of proactive
 * command answered on the reader's worker thread, so that a stream of them
 * (BIP data) does not wait for the loop at every command.  The engine
 * offers the delegate only what follows a TERMINAL RESPONSE: the card
 * answered 91 XX and the worker's FETCH returned a well-formed command of
 * one of its types; everything else (and what the delegate declines) comes
 * to the loop's handlers as usual.  The engine builds and sends the
 * TERMINAL RESPONSE (result 00) and counts the commands delegated.
 *
 * respond() runs on the worker thread and may only use state it guards
 * itself.  It returns the length of the objects it wrote into extra (at
 * most cap) after the result, and sets *note; or -1 (setting no note) to
 * leave the command to the loop.  apply() receives every note on the loop,
 * in order with every other completion: in batches, or at once when
 * respond set *urgent, and always before the loop sees the card's next
 * status word.  live is false when the card session or the delegation has
 * ended meanwhile (and when the answer could not be sent: then apply runs
 * on the worker); apply must still free the note.  release() runs on the
 * loop once no worker uses the delegate any more.
 */
struct cat_delegate_ops {
	int (*respond)(void *arg, const struct cat_cmd *cmd,
		       const uint8_t *raw, size_t len, uint8_t *extra,
		       size_t cap, void **note, bool *urgent);
	void (*apply)(void *arg, void *note, bool live);
	void (*release)(void *arg);
};

struct cat_engine *cat_engine_new(struct event_base *base,
				  const struct cat_config *cfg);
void cat_engine_free(struct cat_engine *e);
void cat_engine_configure(struct cat_engine *e, const struct cat_config *cfg);
void cat_engine_set_observer(struct cat_engine *e,
			     const struct cat_observer *obs, void *arg);
/* Register the handler of a type of command and the capabilities it brings. */
void cat_engine_handle(struct cat_engine *e, uint8_t type, cat_handler_fn fn,
		       void *arg);
void cat_engine_enable(struct cat_engine *e, uint64_t caps);
void cat_engine_disable(struct cat_engine *e, uint64_t caps);
uint64_t cat_engine_caps(const struct cat_engine *e);
struct cat_terminal_info *cat_engine_info(struct cat_engine *e);
struct event_base *cat_engine_base(const struct cat_engine *e);

/* Cards, in insertion order. */
struct cat *cat_engine_first(struct cat_engine *e);
struct cat *cat_engine_next(struct cat *c);

struct cat *cat_new(struct cat_engine *e, struct pcsc_reader *r);
/* Queued envelope callbacks run with -ENODEV; accepts NULL. */
void cat_free(struct cat *c);

/* UICC activation: SELECT MF, TERMINAL PROFILE (Profile Download). */
int cat_activate(struct cat *c);

/* Answer the command being executed (state CAT_COMMAND). */
void cat_respond(struct cat *c, uint8_t result, const uint8_t *addl,
		 size_t addl_len, const uint8_t *extra, size_t extra_len);

/*
 * Delegate the commands of these types to ops (ops NULL: end the
 * delegation); one delegate per card.  Returns 0 or -ENOMEM.
 */
int cat_delegate(struct cat *c, const uint8_t *types, size_t ntypes,
		 const struct cat_delegate_ops *ops, void *arg);
/* Commands answered by the delegate so far (current when read). */
uint64_t cat_delegated(const struct cat *c);

/* Queue an ENVELOPE (the full BER-TLV object). */
int cat_envelope(struct cat *c, const uint8_t *p, size_t len,
		 cat_envelope_fn done, void *arg);
/* Queue a STATUS command (POLL INTERVAL); at most one is queued. */
int cat_status(struct cat *c);

/* A command kept unanswered: told when an envelope or STATUS waits behind it. */
void cat_on_wanted(struct cat *c, void (*fn)(void *arg, struct cat *c),
		   void *arg);
bool cat_wanted(const struct cat *c);
/* The command executing came after an envelope the card may not have heeded. */
bool cat_after_envelope(const struct cat *c);

/* SET UP EVENT LIST state. */
bool cat_event_listed(const struct cat *c, uint8_t ev);
void cat_set_events(struct cat *c, const uint8_t *ev, size_t n);
size_t cat_events(const struct cat *c, uint8_t *ev, size_t cap);

enum cat_state cat_state(const struct cat *c);
const char *cat_state_name(enum cat_state s);
const char *cat_name(const struct cat *c);
struct cat_engine *cat_engine(const struct cat *c);
struct pcsc_reader *cat_reader(const struct cat *c);
const uint8_t *cat_profile(const struct cat *c, size_t *len);

/* Tell the observers that something visible changed (timers...). */
void cat_changed(struct cat *c);

#endif
