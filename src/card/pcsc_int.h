/* SPDX-License-Identifier: MIT */
/*
 * Inside the PC/SC layer: what its threads (pcsc_thread.c) and its loop
 * side (pcsc.c) share.  Threads never touch loop state: they put messages
 * on pcsc->inbox and make pcsc->wake active; pcsc_drain() runs on the loop.
 */
#ifndef DMSCGW_CARD_PCSC_INT_H
#define DMSCGW_CARD_PCSC_INT_H

#include <pthread.h>
#include <stdbool.h>

#include <winscard.h>

#include "card/apdu.h"
#include "card/pcsc.h"

#define PNP_READER	"\\\\?PnP?\\Notification"
#define MAX_READERS	16
#define BATCH		16	/* notes the loop is told of at once */
/* a transmit and one more exchange, then up to BATCH notes after two
 * exchanges each, with a GET RESPONSE or a resend each under T=0 */
#define MAX_TAPS	(4 + 4 * BATCH)

/* Messages from threads to the loop. */
enum msg_type {
	MSG_SERVICE_UP,
	MSG_SERVICE_DOWN,
	MSG_READERS,		/* the current reader list (names) */
	MSG_CARD_PRESENT,	/* name */
	MSG_CARD_ABSENT,	/* name */
	MSG_CONNECTED,		/* worker: connect done (err, atr, protocol) */
	MSG_TRANSMITTED,	/* worker: request done */
	MSG_NOTES,		/* worker: notes its hook left */
	MSG_WORKER_EXIT,	/* worker: thread finished */
};

struct tap {
	uint8_t cmd[APDU_MAX_CMD];
	size_t clen;
	uint8_t resp[APDU_MAX_RESP];
	size_t rlen;
};

/* An installed hook (see pcsc.h); loop-owned, shared read-only. */
struct hook {
	const struct pcsc_hook_ops *ops;
	void *arg;
	unsigned refs;			/* loop only: requests carrying it */
	bool detached;			/* loop only */
};

/* The notes a hook left on the worker, for the loop. */
struct notes {
	struct hook *hook;
	unsigned gen;
	unsigned nnotes;
	void *notes[BATCH];
	unsigned ntaps;
	struct tap taps[];
};

/* A request to a worker; returned to the loop as its completion. */
enum req_type { REQ_CONNECT, REQ_TRANSMIT, REQ_DISCONNECT, REQ_QUIT };

struct req {
	enum req_type type;
	struct req *next;
	unsigned gen;			/* card session it belongs to */
	bool reset;			/* REQ_CONNECT: reset the card first */
	uint8_t cmd[APDU_MAX_CMD];
	size_t clen;
	pcsc_done_fn done;
	void *arg;
	struct hook *hook;		/* continues after the exchange */
	unsigned nnotes;		/* left, the loop not told yet */
	void *notes[BATCH];
	/* results */
	int err;
	long rv;
	struct apdu_result res;
	unsigned ntaps;
	struct tap taps[MAX_TAPS];
	uint8_t atr[MAX_ATR_SIZE];
	size_t atr_len;
	unsigned long proto;
};

struct msg {
	enum msg_type type;
	struct msg *next;
	struct pcsc_reader *reader;	/* worker messages */
	struct req *req;		/* worker messages */
	struct notes *notes;		/* MSG_NOTES */
	long rv;
	char *names;			/* MSG_READERS: multi-string; else one name */
	size_t names_len;
};

enum card_state {
	CARD_ABSENT,		/* no card, or not ours */
	CARD_CONNECTING,
	CARD_READY,
};

struct pcsc_reader {
	struct pcsc *pcsc;
	struct pcsc_reader *next;
	char *name;
	bool present;			/* monitor says a card is in */
	enum card_state state;
	unsigned gen;			/* bumps at every card session end */
	uint8_t atr[MAX_ATR_SIZE];
	size_t atr_len;
	unsigned long proto;
	void *data;
	struct hook *hook;		/* loop only */
	/* loop only: a card that stops answering or fails (pcsc.c) */
	struct event *tx_timer;		/* an exchange takes too long */
	struct event *retry_timer;	/* the next reset */
	unsigned inflight;		/* exchanges not completed */
	unsigned failures;		/* card sessions that failed in a row */
	bool given_up;			/* until the card is taken out */
	bool mismatch;			/* ... or [card] protocol changes */

	/* worker; NULL thread when the reader does not match */
	bool has_worker;
	bool quitting;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct req *head, **tail;
	SCARDHANDLE card;		/* worker thread only */
	SCARDCONTEXT ctx;		/* worker thread only */
};

struct pcsc {
	struct event_base *base;
	struct event *wake;
	const struct pcsc_ops *ops;
	void *arg;
	pcsc_tap_fn tap;
	void *tap_arg;

	char pattern[256];
	bool exclusive;
	enum pcsc_proto protocol;
	struct pcsc_reader *readers;
	bool service_up;
	bool service_known;
	unsigned nworkers;		/* running, including unlinked readers' */

	/* shared with threads, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct msg *inbox, **inbox_tail;
	bool stop;
	unsigned retry_min, retry_max;
	unsigned apdu_timeout;		/* loop only */
	bool abandoned;			/* shut down without its threads */
	SCARDCONTEXT mctx;
	bool mctx_valid;
	pthread_t monitor;
};


/* pcsc_thread.c */
void pcsc_post(struct pcsc *p, struct msg *m);
struct msg *pcsc_msg_new(enum msg_type t);
int pcsc_rv_to_errno(LONG rv);
void *pcsc_monitor_main(void *arg);
void *pcsc_worker_main(void *arg);
struct req *pcsc_req_new(enum req_type t, unsigned gen);
void pcsc_worker_push(struct pcsc_reader *r, struct req *q);

#endif
