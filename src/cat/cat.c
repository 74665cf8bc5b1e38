/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "card/apdu.h"
#include "card/pcsc.h"
#include "card/tlv.h"
#include "cat/cat.h"
#include "cat/profile.h"
#include "log.h"
#include "util/hex.h"

#define CAT_PROFILE_MAX 64
/* delegated answers in a row on the worker; then the loop gets a turn */
#define CAT_DELEGATED_MAX 64
/*
 * What a TERMINAL RESPONSE (255 bytes) leaves after command details (5),
 * device identities (4) and a result without additional information (3):
 * TS 102 223 clause 6.8.
 */
#define CAT_TR_EXTRA_MAX (255 - 12)

/* A queued ENVELOPE, or a STATUS poll. */
struct cat_job {
	struct cat_job *next;
	bool status;
	uint8_t data[255];
	size_t len;
	cat_envelope_fn done;
	void *arg;
	unsigned tries;
};

struct cat_handler {
	cat_handler_fn fn;
	void *arg;
};

/*
 * The worker's side of a card (pcsc.h, hooks): FETCH right after a 91 XX,
 * and the delegate.  Never changed once installed: cat_delegate() installs
 * a new one, and pcsc releases the old one when no request carries it.
 */
struct cat_hook {
	struct cat *c;			/* loop only, while the card is on */
	uint8_t types[32];		/* bit per delegated type */
	const struct cat_delegate_ops *dops;
	void *darg;
	int yield;			/* atomic: envelopes wait, the loop's turn */
};

/* A note the worker leaves for the loop: a command it fetched or answered. */
struct cat_note {
	bool delegated;
	void *dnote;			/* delegated: the delegate's note */
	uint16_t sw;			/* else: the FETCH's result */
	size_t len;
	uint8_t data[];
};

struct cat_engine {
	struct event_base *base;
	struct cat_config cfg;
	struct cat_handler handlers[256];
	uint64_t caps;
	struct cat_terminal_info info;
	const struct cat_observer *obs;
	void *obs_arg;
	struct cat *cards;
};

struct cat {
	struct cat_engine *e;
	struct cat *next;
	struct pcsc_reader *reader;
	enum cat_state state;
	uint8_t profile[CAT_PROFILE_MAX];
	size_t profile_len;
	bool fetch_pending;		/* a 91 XX was seen */
	uint8_t fetch_len;		/* its XX */
	bool prefetched;		/* ... and the worker fetched already */
	struct apdu_result fetch_res;
	struct cat_hook *hook;		/* installed on the reader */
	uint64_t delegated;		/* commands the delegate answered */
	struct cat_cmd_details cmd;	/* command being executed */
	struct cat_job *jobs, **jobs_tail;
	bool status_queued;
	struct event *retry;
	unsigned backoff_ms;
	uint8_t events[CAT_MAX_EVENTS];
	size_t nevents;
	bool enveloped;			/* an ENVELOPE since the last dispatch */
	bool after_envelope;		/* ... before the one executing */
	/* told when a job queues behind a command kept unanswered */
	void (*wanted)(void *arg, struct cat *c);
	void *wanted_arg;
	struct event *wanted_ev;
};

static const char *const state_names[CAT_STATE_MAX] = {
	[CAT_OFF] = "off",
	[CAT_SELECT] = "select-mf",
	[CAT_PROFILE] = "terminal-profile",
	[CAT_IDLE] = "idle",
	[CAT_FETCH] = "fetch",
	[CAT_COMMAND] = "command",
	[CAT_RESPONSE] = "terminal-response",
	[CAT_ENVELOPE] = "envelope",
	[CAT_STATUS] = "status",
	[CAT_BACKOFF] = "busy-backoff",
	[CAT_FAILED] = "failed",
};

const char *cat_state_name(enum cat_state s)
{
	return s < CAT_STATE_MAX ? state_names[s] : "?";
}

static void cat_enter(struct cat *c, enum cat_state s)
{
	if (c->state == s)
		return;
	log_debug(LOG_CAT, "%s: %s -> %s", cat_name(c), state_names[c->state],
		  state_names[s]);
	c->state = s;
}

static void cat_apdu_done(void *arg, int err, const struct apdu_result *res);
static void cat_pcsc_done(void *arg, int err, const struct apdu_result *res);
static void cat_kick(struct cat *c);

/*
 * The one place a TERMINAL RESPONSE APDU is built, for the loop and the
 * worker alike: TS 102 221 clause 11.2.4 (CLA 80, INS 14, no Le) around the
 * TS 102 223 clause 6.8 body.
 */
static int cat_tr_apdu(uint8_t apdu[APDU_MAX_CMD],
		       const struct cat_cmd_details *det, uint8_t result,
		       const uint8_t *addl, size_t addl_len,
		       const uint8_t *extra, size_t extra_len)
{
	uint8_t tr[255];
	int n = cat_tr_build(tr, sizeof(tr), det, result, addl, addl_len,
			     extra, extra_len);

	if (n < 0)
		return n;
	return apdu_build(apdu, APDU_MAX_CMD, APDU_CLA_UICC,
			  INS_TERMINAL_RESPONSE, 0, 0, tr, (size_t)n, -1);
}

/* FETCH with Le = XX of the '91 XX' that announced it (TS 102 221 11.2.3). */
static int cat_fetch_apdu(uint8_t apdu[APDU_MAX_CMD], uint8_t xx)
{
	return apdu_build(apdu, APDU_MAX_CMD, APDU_CLA_UICC, INS_FETCH, 0, 0,
			  NULL, 0, xx ? xx : 256);
}

static int cat_send_apdu(struct cat *c, enum cat_state next,
			 const uint8_t *apdu, size_t len)
{
	int n;

	log_hex(LOG_CAT, "C-APDU", apdu, len);
	/* what answers 91 XX is followed by FETCH in the worker's turn */
	n = next == CAT_FETCH ?
	    pcsc_transmit(c->reader, apdu, len, cat_pcsc_done, c) :
	    pcsc_transmit_more(c->reader, apdu, len, cat_pcsc_done, c);
	if (n < 0) {
		log_err(LOG_CAT, "%s: cannot send APDU: %s", cat_name(c),
			strerror(-n));
		return n;
	}
	cat_enter(c, next);
	return 0;
}

static int cat_send(struct cat *c, enum cat_state next, uint8_t cla,
		    uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
		    size_t lc, int le)
{
	uint8_t apdu[APDU_MAX_CMD];
	int n = apdu_build(apdu, sizeof(apdu), cla, ins, p1, p2, data, lc, le);

	if (n < 0)
		return n;
	return cat_send_apdu(c, next, apdu, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* Proactive commands                                                  */

static void cat_log_cmd(struct cat *c, const char *why, const uint8_t *p,
			size_t len)
{
	char hex[2 * 255 + 1];

	hex_encode(hex, p, len < 255 ? len : 255);
	log_notice(LOG_CAT, "%s: %s: %s", cat_name(c), why, hex);
}

void cat_respond(struct cat *c, uint8_t result, const uint8_t *addl,
		 size_t addl_len, const uint8_t *extra, size_t extra_len)
{
	uint8_t apdu[APDU_MAX_CMD];
	int n;

	if (c->state != CAT_COMMAND) {
		log_err(LOG_CAT, "%s: response to no command (state %s)",
			cat_name(c), state_names[c->state]);
		return;
	}
	n = cat_tr_apdu(apdu, &c->cmd, result, addl, addl_len, extra,
			extra_len);
	if (n < 0) {
		log_err(LOG_CAT, "%s: terminal response too long", cat_name(c));
		n = cat_tr_apdu(apdu, &c->cmd, CAT_RES_BEYOND_CAPABILITIES,
				NULL, 0, NULL, 0);
		result = CAT_RES_BEYOND_CAPABILITIES;
	}
	/* BIP moves data with thousands of commands: success is debug */
	if (result == CAT_RES_OK)
		log_debug(LOG_CAT, "%s: %s (number %u, qualifier %02X): result 00",
			  cat_name(c), cat_cmd_name(c->cmd.type), c->cmd.number,
			  c->cmd.qualifier);
	else
		log_info(LOG_CAT, "%s: %s (number %u, qualifier %02X): result %02X %s",
			 cat_name(c), cat_cmd_name(c->cmd.type), c->cmd.number,
			 c->cmd.qualifier, result, cat_result_name(result));
	if (c->e->obs && c->e->obs->command)
		c->e->obs->command(c->e->obs_arg, c, c->cmd.type, result);
	if (cat_send_apdu(c, CAT_RESPONSE, apdu, (size_t)n) < 0)
		cat_enter(c, CAT_IDLE);
}

static void cat_dispatch(struct cat *c, const uint8_t *p, size_t len)
{
	struct cat_handler *h;
	struct cat_cmd cmd;
	int r;

	memset(&cmd, 0, sizeof(cmd));
	r = cat_cmd_decode(p, len, &cmd);
	cat_enter(c, CAT_COMMAND);
	if (r < 0) {
		/*
		 * No command details to echo (TS 102 223 clause 6.10): answer
		 * 'command data not understood' with empty details so the card
		 * is not left waiting for a response that never comes.
		 */
		cat_log_cmd(c, "malformed proactive command", p, len);
		memset(&c->cmd, 0, sizeof(c->cmd));
		cat_respond(c, CAT_RES_DATA_NOT_UNDERSTOOD, NULL, 0, NULL, 0);
		return;
	}
	c->cmd = cmd.det;
	if (r > 0) {
		cat_log_cmd(c, r == CAT_RES_TYPE_NOT_UNDERSTOOD ?
			    "unknown type of command" :
			    r == CAT_RES_VALUES_MISSING ?
			    "required values missing in command" :
			    r == CAT_RES_BEYOND_CAPABILITIES ?
			    "unsupported command qualifier or value" :
			    "command data not understood", p, len);
		cat_respond(c, (uint8_t)r, NULL, 0, NULL, 0);
		return;
	}
	h = &c->e->handlers[cmd.det.type];
	if (!h->fn) {
		/* known to the decoder, but not enabled here */
		cat_log_cmd(c, "command not enabled in this terminal", p, len);
		cat_respond(c, CAT_RES_BEYOND_CAPABILITIES, NULL, 0, NULL, 0);
		return;
	}
	log_debug(LOG_CAT, "%s: %s (number %u, qualifier %02X)", cat_name(c),
		  cat_cmd_name(cmd.det.type), cmd.det.number, cmd.det.qualifier);
	c->after_envelope = c->enveloped;
	c->enveloped = false;
	h->fn(h->arg, c, &cmd, p, len);
}

/* ------------------------------------------------------------------ */
/* The job queue                                                       */

/* The worker yields to the loop while envelopes wait (cat_hook_more). */
static void cat_yield(struct cat *c)
{
	if (c->hook)
		__atomic_store_n(&c->hook->yield, c->jobs != NULL,
				 __ATOMIC_RELEASE);
}

static struct cat_job *job_pop(struct cat *c)
{
	struct cat_job *j = c->jobs;

	if (j) {
		c->jobs = j->next;
		cat_yield(c);
		if (!c->jobs)
			c->jobs_tail = &c->jobs;
		if (j->status)
			c->status_queued = false;
	}
	return j;
}

static void job_finish(struct cat *c, struct cat_job *j, int err, uint16_t sw,
		       const uint8_t *data, size_t len)
{
	if (j->done)
		j->done(j->arg, c, err, sw, data, len);
	free(j);
}

static void cat_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cat *c = arg;

	cat_enter(c, CAT_IDLE);
	cat_kick(c);
}

/* Send what is next: a pending FETCH first, then the head of the queue. */
static void cat_kick(struct cat *c)
{
	struct cat_job *j;

	if (c->state != CAT_IDLE)
		return;
	if (c->fetch_pending && c->prefetched) {
		c->fetch_pending = c->prefetched = false;
		log_debug(LOG_CAT, "%s: FETCH (sent with the previous APDU)",
			  cat_name(c));
		cat_enter(c, CAT_FETCH);
		cat_apdu_done(c, 0, &c->fetch_res);
		return;
	}
	/*
	 * A pending proactive command not fetched yet waits for a queued
	 * envelope: TS 102 221 clause 14.6 lets the terminal send ENVELOPE
	 * while '91 XX' is outstanding (the card answers '91 XX' again), and
	 * the order of envelopes is the terminal's to choose.  So a card that
	 * streams on one channel does not starve the Data Available of
	 * another: the DM client's session or a second download.
	 */
	if (c->fetch_pending && !c->jobs) {
		uint8_t apdu[APDU_MAX_CMD];
		int n = cat_fetch_apdu(apdu, c->fetch_len);

		c->fetch_pending = false;
		if (n > 0 && cat_send_apdu(c, CAT_FETCH, apdu, (size_t)n) == 0)
			return;
	}
	j = c->jobs;
	if (!j)
		return;
	if (j->status) {
		if (cat_send(c, CAT_STATUS, APDU_CLA_UICC, INS_STATUS, 0x00,
			     0x0C, NULL, 0, -1) < 0)
			job_finish(c, job_pop(c), -EIO, 0, NULL, 0);
		return;
	}
	if (cat_send(c, CAT_ENVELOPE, APDU_CLA_UICC, INS_ENVELOPE, 0, 0,
		     j->data, j->len, -1) < 0)
		job_finish(c, job_pop(c), -EIO, 0, NULL, 0);
}

static int job_add(struct cat *c, struct cat_job *j)
{
	if (c->state == CAT_FAILED) {
		free(j);
		return -EIO;
	}
	*c->jobs_tail = j;
	c->jobs_tail = &j->next;
	cat_yield(c);
	if (c->state == CAT_COMMAND && c->wanted)
		event_active(c->wanted_ev, EV_TIMEOUT, 1);	/* not from here */
	cat_kick(c);
	return 0;
}

static void cat_wanted_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cat *c = arg;

	(void)fd;
	(void)what;
	if (c->state == CAT_COMMAND && c->jobs && c->wanted)
		c->wanted(c->wanted_arg, c);
}

/*
 * A handler may keep its TERMINAL RESPONSE back (BIP holds SEND DATA for a
 * slow peer), but the card does nothing else meanwhile: an ENVELOPE or a
 * STATUS queued behind the command waits too.  fn is told (from the loop,
 * never from inside cat_envelope) when one does, so it can answer now.
 */
void cat_on_wanted(struct cat *c, void (*fn)(void *arg, struct cat *c),
		   void *arg)
{
	c->wanted = fn;
	c->wanted_arg = arg;
}

bool cat_wanted(const struct cat *c)
{
	return c->jobs != NULL;
}

/*
 * The command executing was fetched after an ENVELOPE (since the command
 * before it): the card may have chosen it before the envelope gave it
 * other work, announced by the '91 XX' already outstanding (TS 102 221
 * 14.6), so what follows it may be wanted.
 */
bool cat_after_envelope(const struct cat *c)
{
	return c->after_envelope;
}

int cat_envelope(struct cat *c, const uint8_t *p, size_t len,
		 cat_envelope_fn done, void *arg)
{
	struct cat_job *j;

	if (len < 2 || len > sizeof(j->data))
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	memcpy(j->data, p, len);
	j->len = len;
	j->done = done;
	j->arg = arg;
	return job_add(c, j);
}

int cat_status(struct cat *c)
{
	struct cat_job *j;

	if (c->status_queued)
		return 0;	/* one poll waiting is as good as two */
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->status = true;
	c->status_queued = true;
	return job_add(c, j);
}

/* ------------------------------------------------------------------ */
/* APDU completions                                                    */

static void cat_after(struct cat *c, uint16_t sw)
{
	if (apdu_sw_proactive(sw)) {
		c->fetch_pending = true;
		c->fetch_len = SW2(sw);
	}
	cat_enter(c, CAT_IDLE);
	cat_kick(c);
}

static void cat_envelope_done(struct cat *c, uint16_t sw,
			      const struct apdu_result *res)
{
	struct cat_job *j = c->jobs;

	c->enveloped = true;
	if (sw == SW_TK_BUSY) {
		/* TS 102 221 clause 14.6.6: toolkit busy, send it again later */
		if (++j->tries > c->e->cfg.busy_retries) {
			log_err(LOG_CAT, "%s: envelope %02X dropped: card busy after %u tries",
				cat_name(c), j->data[0], j->tries);
			job_finish(c, job_pop(c), -EBUSY, sw, NULL, 0);
			c->backoff_ms = 0;
			cat_after(c, sw);
			return;
		}
		c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 :
			c->e->cfg.busy_retry_ms;
		if (c->backoff_ms > c->e->cfg.busy_retry_max_ms)
			c->backoff_ms = c->e->cfg.busy_retry_max_ms;
		log_info(LOG_CAT, "%s: toolkit busy (93 00), envelope %02X again in %u ms",
			 cat_name(c), j->data[0], c->backoff_ms);
		cat_enter(c, CAT_BACKOFF);
		{
			struct timeval tv = { c->backoff_ms / 1000,
					      (c->backoff_ms % 1000) * 1000 };

			evtimer_add(c->retry, &tv);
		}
		return;
	}
	c->backoff_ms = 0;
	j = job_pop(c);
	log_debug(LOG_CAT, "%s: envelope %02X answered %04X", cat_name(c),
		  j->data[0], sw);
	if (c->e->obs && c->e->obs->envelope)
		c->e->obs->envelope(c->e->obs_arg, c, j->data[0], sw);
	job_finish(c, j, 0, sw, res->data, res->len);
	cat_after(c, sw);
}

/*
 * A completion from the worker.  A FETCH it sent after the 91 XX arrived
 * just before, as a note (cat_hook_apply); it only holds for that 91 XX.
 */
static void cat_pcsc_done(void *arg, int err, const struct apdu_result *res)
{
	struct cat *c = arg;

	if (err || !apdu_sw_proactive(res->sw))
		c->prefetched = false;
	cat_apdu_done(c, err, res);
}

/* ------------------------------------------------------------------ */
/* The worker's side (pcsc hooks) and delegation                       */

/*
 * Worker: the fetched command, if the delegate answers it, and its
 * TERMINAL RESPONSE sent; res is then that response's result.
 */
static int cat_hook_answer(struct cat_hook *h, struct pcsc_worker *w,
			   const struct apdu_result *f, struct apdu_result *res,
			   bool *answered)
{
	uint8_t extra[CAT_TR_EXTRA_MAX], apdu[APDU_MAX_CMD];
	struct cat_note *note;
	struct cat_cmd cmd;
	void *dnote = NULL;
	bool urgent = false;
	int x, n;

	*answered = false;
	if (f->sw != SW_OK || !f->len || cat_cmd_decode(f->data, f->len, &cmd))
		return 0;
	if (!(h->types[cmd.det.type / 8] & (1u << (cmd.det.type % 8))))
		return 0;
	x = h->dops->respond(h->darg, &cmd, f->data, f->len, extra,
			     sizeof(extra), &dnote, &urgent);
	if (x < 0)
		return 0;
	n = cat_tr_apdu(apdu, &cmd.det, CAT_RES_OK, NULL, 0, extra, (size_t)x);
	note = n > 0 ? malloc(sizeof(*note)) : NULL;
	if (!note) {
		h->dops->apply(h->darg, dnote, false);	/* undo, on the worker */
		return 0;
	}
	note->delegated = true;
	note->dnote = dnote;
	pcsc_worker_note(w, note, urgent);
	*answered = true;
	return pcsc_worker_exchange(w, apdu, (size_t)n, res);
}

/*
 * Worker, after an exchange: on '91 XX' FETCH at once, saving the loop a
 * round trip (the loop would fetch first thing, TS 102 221 clause 11.2.3);
 * after a TERMINAL RESPONSE, let the delegate answer what it can.  When the
 * FETCH fails, the loop fetches again itself and sees why.
 */
static int cat_hook_more(void *arg, struct pcsc_worker *w, const uint8_t *cmd,
			 size_t clen, struct apdu_result *res)
{
	struct cat_hook *h = arg;
	/* an envelope's own answer must reach the loop: not after one */
	bool answer = h->dops && clen > 1 && cmd[1] == INS_TERMINAL_RESPONSE;
	struct apdu_result f;

	for (unsigned k = 0; apdu_sw_proactive(res->sw); k++) {
		uint8_t fetch[APDU_MAX_CMD];
		struct cat_note *note;
		bool answered = false;
		int n = cat_fetch_apdu(fetch, SW2(res->sw)), err;

		/*
		 * Envelopes wait on the loop: they go next, before any FETCH.
		 * Checked before every FETCH, so one queued while the delegate
		 * streams (another channel's Data Available, the DM client's
		 * session) waits for one command, not CAT_DELEGATED_MAX of
		 * someone else's transfer (TS 102 221 14.6).
		 */
		if (__atomic_load_n(&h->yield, __ATOMIC_ACQUIRE))
			return 0;
		if (n < 0 || pcsc_worker_exchange(w, fetch, (size_t)n, &f) < 0)
			return 0;
		if (answer && k < CAT_DELEGATED_MAX) {
			err = cat_hook_answer(h, w, &f, res, &answered);
			if (answered) {
				if (err)
					return err;
				continue;
			}
		}
		note = malloc(sizeof(*note) + f.len);
		if (!note)
			return 0;	/* the loop fetches again */
		note->delegated = false;
		note->sw = f.sw;
		note->len = f.len;
		memcpy(note->data, f.data, f.len);
		pcsc_worker_note(w, note, false);
		return 0;
	}
	return 0;
}

/* Loop: a note from the worker, before the completion it belongs to. */
static void cat_hook_apply(void *arg, void *n, bool live)
{
	struct cat_hook *h = arg;
	struct cat_note *note = n;

	if (note->delegated) {
		/* a replaced delegation keeps its notes, as dead ones */
		h->dops->apply(h->darg, note->dnote, live && h->c->hook == h);
		if (live)
			h->c->delegated++;
	} else if (live) {
		h->c->prefetched = true;
		h->c->fetch_res.sw = note->sw;
		h->c->fetch_res.len = note->len;
		memcpy(h->c->fetch_res.data, note->data, note->len);
	}
	free(note);
}

static void cat_hook_release(void *arg)
{
	struct cat_hook *h = arg;

	if (h->dops && h->dops->release)
		h->dops->release(h->darg);
	free(h);
}

static const struct pcsc_hook_ops cat_hook_ops = {
	.more = cat_hook_more,
	.apply = cat_hook_apply,
	.release = cat_hook_release,
};

/* Install a new worker side on the reader; the old one is released. */
static int cat_hook_install(struct cat *c, const uint8_t *types, size_t n,
			    const struct cat_delegate_ops *ops, void *arg)
{
	struct cat_hook *h = calloc(1, sizeof(*h));
	int r;

	if (!h) {
		pcsc_set_hook(c->reader, NULL, NULL);	/* the old one ends */
		c->hook = NULL;
		return -ENOMEM;
	}
	h->c = c;
	for (size_t i = 0; ops && i < n; i++)
		h->types[types[i] / 8] |= (uint8_t)(1u << (types[i] % 8));
	h->dops = ops;
	h->darg = arg;
	r = pcsc_set_hook(c->reader, &cat_hook_ops, h);
	if (r < 0) {
		free(h);
		c->hook = NULL;
		return r;
	}
	c->hook = h;
	cat_yield(c);
	return 0;
}

int cat_delegate(struct cat *c, const uint8_t *types, size_t ntypes,
		 const struct cat_delegate_ops *ops, void *arg)
{
	if (ops)
		log_debug(LOG_CAT, "%s: %zu types of command delegated to the worker",
			  cat_name(c), ntypes);
	return cat_hook_install(c, types, ntypes, ops, arg);
}

uint64_t cat_delegated(const struct cat *c)
{
	return c->delegated;
}

static void cat_apdu_done(void *arg, int err, const struct apdu_result *res)
{
	struct cat *c = arg;
	enum cat_state was = c->state;
	uint16_t sw;

	if (err) {
		/* pcsc logged it; a removed card is followed by card_gone */
		if (was == CAT_ENVELOPE || was == CAT_STATUS)
			job_finish(c, job_pop(c), -EIO, 0, NULL, 0);
		cat_enter(c, CAT_IDLE);
		return;
	}
	sw = res->sw;
	if (log_hexdump_enabled(LOG_CAT)) {
		uint8_t r[APDU_MAX_DATA + 2];

		memcpy(r, res->data, res->len);
		r[res->len] = SW1(sw);
		r[res->len + 1] = SW2(sw);
		log_hex(LOG_CAT, "R-APDU", r, res->len + 2);
	}

	switch (was) {
	case CAT_SELECT:
		/* A card without an MF FCP may still run a toolkit: go on. */
		if (sw != SW_OK)
			log_info(LOG_CAT, "%s: SELECT MF answered %04X (%s)",
				 cat_name(c), sw, apdu_sw_str(sw));
		if (cat_send(c, CAT_PROFILE, APDU_CLA_UICC, INS_TERMINAL_PROFILE,
			     0, 0, c->profile, c->profile_len, -1) < 0)
			cat_enter(c, CAT_FAILED);
		return;
	case CAT_PROFILE:
		if (sw != SW_OK && !apdu_sw_proactive(sw)) {
			log_err(LOG_CAT, "%s: TERMINAL PROFILE refused: %04X (%s)",
				cat_name(c), sw, apdu_sw_str(sw));
			cat_enter(c, CAT_FAILED);
			return;
		}
		log_info(LOG_CAT, "%s: terminal profile sent (%zu bytes), card answered %04X",
			 cat_name(c), c->profile_len, sw);
		if (c->e->obs && c->e->obs->card_up)
			c->e->obs->card_up(c->e->obs_arg, c);
		break;
	case CAT_FETCH:
		if (sw == SW_OK && res->len) {
			cat_dispatch(c, res->data, res->len);
			return;
		}
		log_warn(LOG_CAT, "%s: FETCH answered %04X (%s) without a command",
			 cat_name(c), sw, apdu_sw_str(sw));
		break;
	case CAT_RESPONSE:
		if (sw != SW_OK && !apdu_sw_proactive(sw))
			log_warn(LOG_CAT, "%s: TERMINAL RESPONSE answered %04X (%s)",
				 cat_name(c), sw, apdu_sw_str(sw));
		break;
	case CAT_ENVELOPE:
		cat_envelope_done(c, sw, res);
		return;
	case CAT_STATUS:
		job_finish(c, job_pop(c), 0, sw, res->data, res->len);
		log_debug(LOG_CAT, "%s: STATUS answered %04X", cat_name(c), sw);
		break;
	default:
		log_err(LOG_CAT, "%s: APDU completion in state %s", cat_name(c),
			state_names[was]);
		break;
	}
	cat_after(c, sw);
}

/* ------------------------------------------------------------------ */
/* Cards and engine                                                    */

int cat_activate(struct cat *c)
{
	static const uint8_t mf[] = { 0x3F, 0x00 };
	int n = cat_profile_build(c->profile, sizeof(c->profile), c->e->caps);

	if (n < 0)
		return n;
	c->profile_len = (size_t)n;
	/*
	 * UICC activation (TS 102 221 clause 14.5.1): select the MF, then
	 * TERMINAL PROFILE before any other toolkit exchange.
	 */
	return cat_send(c, CAT_SELECT, 0x00, INS_SELECT, 0x00, 0x04, mf,
			sizeof(mf), 256);
}

struct cat *cat_new(struct cat_engine *e, struct pcsc_reader *r)
{
	struct cat *c = calloc(1, sizeof(*c)), **pp;

	if (!c)
		return NULL;
	c->e = e;
	c->reader = r;
	c->state = CAT_OFF;
	c->jobs_tail = &c->jobs;
	c->retry = evtimer_new(e->base, cat_retry_cb, c);
	c->wanted_ev = evtimer_new(e->base, cat_wanted_cb, c);
	if (!c->retry || !c->wanted_ev) {
		if (c->retry)
			event_free(c->retry);
		if (c->wanted_ev)
			event_free(c->wanted_ev);
		free(c);
		return NULL;
	}
	/* without it, every FETCH costs the loop a round trip */
	if (cat_hook_install(c, NULL, 0, NULL, NULL) < 0)
		log_warn(LOG_CAT, "%s: no FETCH on the worker", cat_name(c));
	for (pp = &e->cards; *pp; pp = &(*pp)->next)
		;
	*pp = c;
	return c;
}

void cat_free(struct cat *c)
{
	struct cat_job *j;

	if (!c)
		return;
	for (struct cat **pp = &c->e->cards; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	while ((j = job_pop(c)))
		job_finish(c, j, -ENODEV, 0, NULL, 0);
	event_free(c->retry);
	event_free(c->wanted_ev);
	free(c);
}

bool cat_event_listed(const struct cat *c, uint8_t ev)
{
	for (size_t i = 0; i < c->nevents; i++)
		if (c->events[i] == ev)
			return true;
	return false;
}

void cat_set_events(struct cat *c, const uint8_t *ev, size_t n)
{
	if (n > CAT_MAX_EVENTS)
		n = CAT_MAX_EVENTS;
	memcpy(c->events, ev, n);
	c->nevents = n;
	cat_changed(c);
}

size_t cat_events(const struct cat *c, uint8_t *ev, size_t cap)
{
	size_t n = c->nevents < cap ? c->nevents : cap;

	memcpy(ev, c->events, n);
	return n;
}

void cat_changed(struct cat *c)
{
	if (c->e->obs && c->e->obs->changed)
		c->e->obs->changed(c->e->obs_arg, c);
}

enum cat_state cat_state(const struct cat *c)
{
	return c->state;
}

const char *cat_name(const struct cat *c)
{
	return pcsc_reader_name(c->reader);
}

struct cat_engine *cat_engine(const struct cat *c)
{
	return c->e;
}

struct pcsc_reader *cat_reader(const struct cat *c)
{
	return c->reader;
}

const uint8_t *cat_profile(const struct cat *c, size_t *len)
{
	*len = c->profile_len;
	return c->profile;
}

struct cat_engine *cat_engine_new(struct event_base *base,
				  const struct cat_config *cfg)
{
	struct cat_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->base = base;
	e->cfg = *cfg;
	e->info.loc_status = CAT_LOC_NO_SERVICE;
	return e;
}

void cat_engine_free(struct cat_engine *e)
{
	free(e);
}

void cat_engine_configure(struct cat_engine *e, const struct cat_config *cfg)
{
	e->cfg = *cfg;
}

void cat_engine_set_observer(struct cat_engine *e,
			     const struct cat_observer *obs, void *arg)
{
	e->obs = obs;
	e->obs_arg = arg;
}

void cat_engine_handle(struct cat_engine *e, uint8_t type, cat_handler_fn fn,
		       void *arg)
{
	e->handlers[type].fn = fn;
	e->handlers[type].arg = arg;
}

void cat_engine_enable(struct cat_engine *e, uint64_t caps)
{
	e->caps |= caps;
}

void cat_engine_disable(struct cat_engine *e, uint64_t caps)
{
	e->caps &= ~caps;
}

uint64_t cat_engine_caps(const struct cat_engine *e)
{
	return e->caps;
}

struct cat_terminal_info *cat_engine_info(struct cat_engine *e)
{
	return &e->info;
}

struct event_base *cat_engine_base(const struct cat_engine *e)
{
	return e->base;
}

struct cat *cat_engine_first(struct cat_engine *e)
{
	return e->cards;
}

struct cat *cat_engine_next(struct cat *c)
{
	return c->next;
}
