/* SPDX-License-Identifier: MIT */
/*
 * The fast path.  SEND DATA and RECEIVE DATA on an established TCP channel
 * are delegated to the CAT engine's worker side (cat_delegate): they are
 * answered on the reader's worker thread, so a transfer does not wait for
 * the loop at every command.  The loop stays in charge: it grants the
 * worker Tx room (what it would answer itself: the room less what the
 * worker took and the loop has not queued yet) and stages the peer's bytes
 * (up to a buffer size) for RECEIVE DATA.  The worker answers within that
 * and leaves a note; the loop applies the notes in order with everything
 * else (queues the bytes, counts, re-announces).  Any other command,
 * channel state, a full buffer or nothing staged goes to the loop's
 * handlers (cmd.c).  A link number tells a note from an older link.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "bip/channel.h"
#include "cat/cat.h"
#include "cat/proactive.h"
#include "log.h"

/* What the loop publishes to the worker, under the lock. */
struct fast {
	pthread_mutex_t lock;
	pthread_cond_t granted;		/* the loop published a grant */
	struct bip_card *bc;		/* loop only */
	struct {
		unsigned link;
		bool up;		/* link up: the worker may answer */
		size_t room;		/* Tx room the worker may take */
		bool offer_none;	/* answers report no room (ch_tx_offer) */
		size_t taken;		/* taken, not queued by the loop yet */
		struct evbuffer *rx;	/* staged for RECEIVE DATA */
		size_t unstaged;	/* what the loop still holds */
	} ch[BIP_MAX_CHANNELS];
};

struct fast_note {
	uint8_t id;
	uint8_t type;			/* SEND DATA or RECEIVE DATA */
	bool now;			/* SEND DATA: "send immediately" */
	unsigned link;
	size_t n;
	size_t left;			/* RECEIVE DATA: bytes left to read */
	uint8_t data[];			/* SEND DATA's */
};

/*
 * Loop: publish the channel's state to the worker - whether its link is up
 * and what it may take (only in CH_ESTABLISHED: nothing while a SEND DATA
 * answer is held).  ch_enter() calls it at every transition.
 */
void fast_grant(struct channel *ch)
{
	struct fast *f = ch->bc->fast;
	size_t room = 0;

	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	if (ch->bev && ch->state == CH_ESTABLISHED) {
		size_t r = ch_tx_room(ch), taken = f->ch[ch->id - 1].taken;

		room = r > taken ? r - taken : 0;
	}
	f->ch[ch->id - 1].room = room;
	f->ch[ch->id - 1].offer_none = ch_offers_none(ch);
	f->ch[ch->id - 1].link = ch->link;
	f->ch[ch->id - 1].up = ch->bev && ch_up(ch);
	pthread_cond_broadcast(&f->granted);
	pthread_mutex_unlock(&f->lock);
}

/* Loop: move the peer's bytes where the worker can give them to the card. */
void fast_stage(struct channel *ch)
{
	struct fast *f = ch->bc->fast;
	struct evbuffer *in, *rx;
	size_t staged;

	if (!f || !ch->bev)
		return;
	in = bufferevent_get_input(ch->bev);
	rx = f->ch[ch->id - 1].rx;
	pthread_mutex_lock(&f->lock);
	staged = evbuffer_get_length(rx);
	if (staged < ch->bufsize)
		evbuffer_remove_buffer(in, rx, ch->bufsize - staged);
	f->ch[ch->id - 1].unstaged = evbuffer_get_length(in);
	pthread_mutex_unlock(&f->lock);
}

/* Loop: the staged bytes, part of the channel's Rx buffer. */
size_t fast_rx_len(const struct channel *ch)
{
	struct fast *f = ch->bc->fast;
	size_t n;

	if (!f)
		return 0;
	pthread_mutex_lock(&f->lock);
	n = evbuffer_get_length(f->ch[ch->id - 1].rx);
	pthread_mutex_unlock(&f->lock);
	return n;
}

size_t fast_rx_remove(struct channel *ch, uint8_t *data, size_t want)
{
	struct fast *f = ch->bc->fast;
	int n;

	if (!f)
		return 0;
	pthread_mutex_lock(&f->lock);
	n = evbuffer_remove(f->ch[ch->id - 1].rx, data, want);
	pthread_mutex_unlock(&f->lock);
	return n > 0 ? (size_t)n : 0;
}

/* Loop: the link is gone, and what was staged with it. */
void fast_rx_drop(struct channel *ch)
{
	struct fast *f = ch->bc->fast;

	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	evbuffer_drain(f->ch[ch->id - 1].rx,
		       evbuffer_get_length(f->ch[ch->id - 1].rx));
	f->ch[ch->id - 1].unstaged = 0;
	f->ch[ch->id - 1].up = false;
	pthread_cond_broadcast(&f->granted);
	pthread_mutex_unlock(&f->lock);
}

/*
 * Worker, lock held: wait a little for room the worker itself took and the
 * loop has not handed on yet (its notes in flight: a "send immediately"
 * burst leaves the grant short until the loop writes it out).  The card
 * waits for this TERMINAL RESPONSE either way; answering here spares the
 * round trip through the loop's handlers and a held answer.  Room short
 * because the peer is slow is not waited for: that is the loop's to hold.
 */
#define FAST_GRANT_WAIT_NS	(10 * 1000 * 1000)

static void fast_wait_room(struct fast *f, unsigned id, size_t n)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += FAST_GRANT_WAIT_NS;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (f->ch[id - 1].up && n > f->ch[id - 1].room &&
	       f->ch[id - 1].taken > 0)
		if (pthread_cond_timedwait(&f->granted, &f->lock, &until))
			break;
}

/* Worker: a SEND DATA the grant covers. */
static struct fast_note *fast_send(struct fast *f, const uint8_t *p,
				   size_t len, unsigned id, size_t *room)
{
	struct fast_note *fn;
	const uint8_t *data;
	size_t n;

	if (bip_send_decode(p, len, &data, &n))
		return NULL;
	fn = malloc(sizeof(*fn) + n);
	if (!fn)
		return NULL;
	pthread_mutex_lock(&f->lock);
	fast_wait_room(f, id, n);
	*room = f->ch[id - 1].room;
	fn->link = f->ch[id - 1].link;
	if (f->ch[id - 1].up && n <= *room) {
		f->ch[id - 1].room -= n;
		f->ch[id - 1].taken += n;
		*room -= n;
		if (f->ch[id - 1].offer_none)
			*room = 0;
	} else {
		free(fn);
		fn = NULL;
	}
	pthread_mutex_unlock(&f->lock);
	if (fn) {
		fn->n = n;
		memcpy(fn->data, data, n);
	}
	return fn;
}

/* Worker: a RECEIVE DATA from the staged bytes. */
static struct fast_note *fast_receive(struct fast *f, const uint8_t *p,
				      size_t len, unsigned id, uint8_t *data)
{
	struct fast_note *fn;
	size_t staged;
	uint8_t want;
	int n = 0;

	if (bip_receive_decode(p, len, &want))
		return NULL;
	fn = malloc(sizeof(*fn));
	if (!fn)
		return NULL;
	pthread_mutex_lock(&f->lock);
	staged = evbuffer_get_length(f->ch[id - 1].rx);
	if (f->ch[id - 1].up && staged)
		n = evbuffer_remove(f->ch[id - 1].rx, data,
				    want < CHUNK_MAX ? want : CHUNK_MAX);
	fn->link = f->ch[id - 1].link;
	fn->left = staged - (size_t)(n > 0 ? n : 0) + f->ch[id - 1].unstaged;
	pthread_mutex_unlock(&f->lock);
	if (n <= 0) {
		free(fn);
		return NULL;
	}
	fn->n = (size_t)n;
	return fn;
}

/* Worker: answer what the grant and the staged bytes cover. */
static int fast_respond(void *arg, const struct cat_cmd *cmd,
			const uint8_t *p, size_t len, uint8_t *extra,
			size_t cap, void **note, bool *urgent)
{
	struct fast *f = arg;
	struct fast_note *fn = NULL;
	uint8_t data[CHUNK_MAX];
	size_t room = 0, x = 0;
	unsigned id;
	int r;

	id = bip_channel_of(cmd->dst);
	if (!id)
		return -1;
	if (cmd->det.type == CAT_SEND_DATA)
		fn = fast_send(f, p, len, id, &room);
	else if (cmd->det.type == CAT_RECEIVE_DATA)
		fn = fast_receive(f, p, len, id, data);
	if (!fn)
		return -1;
	fn->id = (uint8_t)id;
	fn->type = cmd->det.type;
	fn->now = cmd->det.qualifier & 0x01;
	/* the loop's own answers: clause 6.4.30 (SEND), 6.4.29 (RECEIVE) */
	if (cmd->det.type == CAT_SEND_DATA) {
		r = bip_put_data_length(extra, cap, room);
		x += r > 0 ? (size_t)r : 0;
	} else {
		r = bip_put_channel_data(extra, cap, data, fn->n);
		x += r > 0 ? (size_t)r : 0;
		r = bip_put_data_length(extra + x, cap - x, fn->left);
		x += r > 0 ? (size_t)r : 0;
	}
	/*
	 * Bytes to send now, and the end of what the peer sent, matter to
	 * the loop at once; stored bytes and counters can wait a little.
	 */
	*urgent = cmd->det.type == CAT_SEND_DATA ? fn->now : !fn->left;
	*note = fn;
	return (int)x;
}

/* Loop: what the worker answered - the SEND DATA bytes, counters. */
static void fast_apply(void *arg, void *note, bool live)
{
	struct fast *f = arg;
	struct fast_note *fn = note;
	struct channel *ch;

	if (fn->type == CAT_SEND_DATA) {
		pthread_mutex_lock(&f->lock);
		f->ch[fn->id - 1].taken -= fn->n;
		pthread_mutex_unlock(&f->lock);
	}
	if (!live || !f->bc) {
		free(fn);
		return;
	}
	ch = &f->bc->ch[fn->id - 1];
	if (!ch_up(ch) || !ch->bev || ch->link != fn->link) {
		if (fn->type == CAT_SEND_DATA)
			log_info(LOG_BIP, "%s: channel %u: %zu bytes from the card dropped: their link is gone",
				 cat_name(f->bc->c), ch->id, fn->n);
		fast_grant(ch);
	} else if (fn->type == CAT_RECEIVE_DATA) {
		ch->in += fn->n;
		fast_stage(ch);
		ch_rx_flow(ch);
		if (!fn->left) {
			/* drained: what came meanwhile gets its own event */
			ch->announced = false;
			ch_data_available(ch);
		}
	} else {
		evbuffer_add(ch->tx, fn->data, fn->n);
		if (fn->now) {
			ch_flush(ch);
			ch_data(ch);
		}
	}
	free(fn);
}

static void fast_release(void *arg)
{
	struct fast *f = arg;

	for (int i = 0; i < BIP_MAX_CHANNELS; i++)
		if (f->ch[i].rx)
			evbuffer_free(f->ch[i].rx);
	pthread_cond_destroy(&f->granted);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* A condition variable on the monotonic clock (fast_wait_room). */
static bool fast_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t a;
	bool ok;

	if (pthread_condattr_init(&a))
		return false;
	ok = !pthread_condattr_setclock(&a, CLOCK_MONOTONIC) &&
	     !pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return ok;
}

static const struct cat_delegate_ops fast_ops = {
	.respond = fast_respond,
	.apply = fast_apply,
	.release = fast_release,
};

void fast_start(struct bip_card *bc)
{
	static const uint8_t types[] = { CAT_SEND_DATA, CAT_RECEIVE_DATA };
	struct fast *f = calloc(1, sizeof(*f));

	if (!f) {
		log_warn(LOG_BIP, "%s: no fast path: every command goes through the loop",
			 cat_name(bc->c));
		return;
	}
	pthread_mutex_init(&f->lock, NULL);
	if (!fast_cond_init(&f->granted)) {
		pthread_mutex_destroy(&f->lock);
		free(f);
		log_warn(LOG_BIP, "%s: no fast path: every command goes through the loop",
			 cat_name(bc->c));
		return;
	}
	for (int i = 0; i < BIP_MAX_CHANNELS; i++)
		if (!(f->ch[i].rx = evbuffer_new())) {
			fast_release(f);
			return;
		}
	f->bc = bc;
	if (cat_delegate(bc->c, types, sizeof(types), &fast_ops, f) < 0) {
		log_warn(LOG_BIP, "%s: no fast path: every command goes through the loop",
			 cat_name(bc->c));
		fast_release(f);
		return;
	}
	bc->fast = f;
}

void fast_stop(struct bip_card *bc)
{
	if (!bc->fast)
		return;
	bc->fast->bc = NULL;
	bc->fast = NULL;
	cat_delegate(bc->c, NULL, 0, NULL, NULL);	/* released when idle */
}
