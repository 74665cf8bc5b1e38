/* SPDX-License-Identifier: MIT */
/*
 * The channel table: one state machine per channel (enum ch_state) changed
 * only by ch_enter(), the channel's buffers and events, and its socket.
 * Every socket is a libevent bufferevent (TCP) or event (UDP) on the one
 * loop; nothing blocks.
 *
 * Back-pressure: bytes from a peer stay in the bufferevent's input, which
 * stops reading at the channel's buffer size until the card pulls them with
 * RECEIVE DATA; bytes from the card go to the peer's output, and when more
 * than a buffer size is waiting there the SEND DATA response is held
 * (CH_HELD) until the peer has taken them (or the time-out passes), so a
 * slow peer slows its card and nothing grows without bound.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "bip/channel.h"
#include "cat/cat.h"
#include "cat/envelope.h"
#include "cat/proactive.h"
#include "log.h"

static const char *const ch_state_names[CH_STATE_MAX] = {
	[CH_FREE] = "free",
	[CH_LISTEN] = "listen",
	[CH_IDLE] = "idle",
	[CH_OPENING] = "opening",
	[CH_CONNECTING] = "connecting",
	[CH_ESTABLISHED] = "established",
	[CH_HELD] = "held",
	[CH_APP] = "app",
	[CH_DROPPED] = "dropped",
};

/* What the observer (ChannelChanged, Channels) is told of each state. */
static const char *const ch_whats[CH_STATE_MAX] = {
	[CH_FREE] = "closed",
	[CH_LISTEN] = "listen",
	[CH_IDLE] = "open",
	[CH_OPENING] = "connecting",
	[CH_CONNECTING] = "connecting",
	[CH_ESTABLISHED] = "established",
	[CH_HELD] = "established",
	[CH_APP] = "established",
	[CH_DROPPED] = "dropped",
};

const char *ch_what(enum ch_state s)
{
	return s < CH_STATE_MAX ? ch_whats[s] : "?";
}

/*
 * A channel that holds one link: the socket it is bound to is up.
 * Server mode and client modes alike.
 */
bool ch_up(const struct channel *ch)
{
	return ch->state == CH_ESTABLISHED || ch->state == CH_HELD;
}

/*
 * A link of the daemon's own with the card: the DM client's connection to
 * the card's DM_SC server, or the card's channel to an in-process
 * application (the DM client taking a notification).
 */
static bool ch_own_link(const struct channel *ch)
{
	return (ch->own && ch_up(ch)) ||
	       (ch->state == CH_APP && ch->app && !apps_external(ch->app));
}

bool ch_is_server(const struct channel *ch)
{
	return ch->transport == BIP_TCP_SERVER;
}

bool ch_is_udp(const struct channel *ch)
{
	return ch->transport == BIP_UDP_REMOTE || ch->transport == BIP_UDP_LOCAL;
}

static void ch_notify(struct channel *ch, const char *what)
{
	struct bip *b = ch->bc->b;

	if (b->obs)
		b->obs(b->obs_arg, ch->bc->c, ch->id, what);
}

/* Everything a closed channel gives back: socket, application, listener. */
static void ch_release_all(struct channel *ch)
{
	ch_release_io(ch);
	if (ch->app)
		apps_close(ch->app, ch->bc->c, ch->id);
	ch->app = NULL;
	if (ch->lst) {
		server_put(ch->lst);
		ch->lst = NULL;
	}
	evbuffer_drain(ch->tx, evbuffer_get_length(ch->tx));
}

/*
 * The one place a channel changes state: logged, told to the observer
 * when what it sees changes, published to the worker (fast_grant); the
 * channel's I/O is released on CH_FREE (and on CH_LISTEN after a link,
 * clause 6.4.28), the SEND DATA time-out runs while CH_HELD.
 */
void ch_enter(struct channel *ch, enum ch_state s, const char *why)
{
	enum ch_state old = ch->state;
	bool own_was = ch_own_link(ch);

	if (s >= CH_STATE_MAX) {
		log_err(LOG_BIP, "%s: channel %u: no state %d", cat_name(ch->bc->c),
			ch->id, (int)s);
		return;
	}
	if (s == CH_FREE)
		ch_release_all(ch);	/* also what a failed open left */
	if (old == s)
		return;
	/* "channel N <what>" first: what scripts look for in the log */
	log_debug(LOG_BIP, "%s: channel %u %s (%s -> %s: %s)",
		  cat_name(ch->bc->c), ch->id, ch_whats[s], ch_state_names[old],
		  ch_state_names[s], why);
	if (old == CH_HELD)
		evtimer_del(ch->timeout);
	if (s != CH_ESTABLISHED && s != CH_HELD) {
		/* the link is down: whose it was no longer matters */
		if (ch->idle)
			evtimer_del(ch->idle);
		ch->own = false;
	}
	if (s == CH_LISTEN && old != CH_FREE)
		ch_release_io(ch);
	ch->state = s;
	if (s == CH_HELD) {
		struct timeval tv = { ch->bc->b->timeout_s, 0 };

		evtimer_add(ch->timeout, &tv);
	}
	if (own_was != ch_own_link(ch)) {
		/* an own link came or went: every channel's offer */
		for (int i = 0; i < BIP_MAX_CHANNELS; i++)
			fast_grant(&ch->bc->ch[i]);
	} else {
		fast_grant(ch);
	}
	if (strcmp(ch_whats[old], ch_whats[s]))
		ch_notify(ch, ch_whats[s]);
}

/* Bytes moved: the counters changed (read on demand), the worker's room. */
void ch_data(struct channel *ch)
{
	fast_grant(ch);
	ch_notify(ch, "data");
}

/* Channel status object bytes (clause 8.56). */
void ch_status(const struct channel *ch, uint8_t s[2])
{
	s[0] = ch->id;
	s[1] = BIP_CS_NO_INFO;
	switch (ch->state) {
	case CH_LISTEN:
		s[0] |= BIP_CS_LISTEN;
		break;
	case CH_ESTABLISHED:
	case CH_HELD:
	case CH_APP:
		s[0] |= ch_is_server(ch) ? BIP_CS_ESTABLISHED : BIP_CS_LINK_UP;
		break;
	case CH_DROPPED:
		s[1] = BIP_CS_LINK_DROPPED;
		break;
	default:
		break;
	}
}

/* A new link on ch: its number (see fast.c), its counters' start. */
void ch_link_up(struct channel *ch)
{
	ch->link = ++ch->bc->links;
	ch->link_in = ch->in;
	ch->link_out = ch->out;
}

/* The peer went away: the card hears of it (clause 7.5.11). */
void ch_drop(struct channel *ch, const char *why)
{
	enum ch_state was = ch->state;

	if (ch_up(ch))
		log_info(LOG_BIP, "%s: channel %u: %s (%llu bytes in, %llu out)",
			 cat_name(ch->bc->c), ch->id, why,
			 (unsigned long long)(ch->in - ch->link_in),
			 (unsigned long long)(ch->out - ch->link_out));
	else
		log_info(LOG_BIP, "%s: channel %u: %s", cat_name(ch->bc->c),
			 ch->id, why);
	if (ch->bev)
		bufferevent_disable(ch->bev, EV_READ | EV_WRITE);
	ch_enter(ch, CH_DROPPED, why);
	if (was == CH_OPENING) {
		/* OPEN CHANNEL still waits: remote device not reachable */
		ch_respond_error(ch->bc->c, BIP_ERR_UNREACHABLE);
		ch_enter(ch, CH_FREE, "OPEN CHANNEL failed");
		return;
	}
	if (was == CH_HELD)
		ch_respond_error(ch->bc->c, BIP_ERR_CLOSED);
	ch_send_channel_status(ch);
}

/* ------------------------------------------------------------------ */
/* Buffers                                                             */

/*
 * The channel's Rx buffer: a UDP channel's datagrams; a TCP channel's
 * bytes staged for the worker (fast.c), then its socket's input.
 */
size_t ch_rx_len(const struct channel *ch)
{
	if (!ch->bev)
		return evbuffer_get_length(ch->rx);
	return fast_rx_len(ch) +
	       evbuffer_get_length(bufferevent_get_input(ch->bev));
}

/*
 * Back-pressure on a TCP peer: read while less than a buffer waits in the
 * socket's input.  Reading must stop there: with reading enabled and the
 * input at its high watermark, libevent runs the read callback again at
 * every loop turn.
 */
void ch_rx_flow(struct channel *ch)
{
	bool full;

	if (!ch->bev || !ch_up(ch))
		return;
	full = evbuffer_get_length(bufferevent_get_input(ch->bev)) >= ch->bufsize;
	if (full && (bufferevent_get_enabled(ch->bev) & EV_READ))
		bufferevent_disable(ch->bev, EV_READ);
	else if (!full && !(bufferevent_get_enabled(ch->bev) & EV_READ))
		bufferevent_enable(ch->bev, EV_READ);
}

size_t ch_rx_remove(struct channel *ch, uint8_t *data, size_t want)
{
	size_t n;
	int m;

	if (!ch->bev) {
		m = evbuffer_remove(ch->rx, data, want);
		return m > 0 ? (size_t)m : 0;
	}
	n = fast_rx_remove(ch, data, want);
	m = evbuffer_remove(bufferevent_get_input(ch->bev), data + n, want - n);
	fast_stage(ch);
	ch_rx_flow(ch);
	return n + (m > 0 ? (size_t)m : 0);
}

/* While there is one, the card's server channels are offered no Tx room. */
bool ch_own_busy(const struct bip_card *bc)
{
	for (int i = 0; i < BIP_MAX_CHANNELS; i++)
		if (ch_own_link(&bc->ch[i]))
			return true;
	return false;
}

/*
 * The room a SEND DATA answer reports (channel data length, TS 102 223
 * 8.54: the empty space the terminal offers in the Tx buffer).  How much
 * of its buffer the terminal offers is the terminal's choice: while its
 * own DM session is on the card, a local client's channel is offered none,
 * so a card that respects the figure serves the DM_SC server first and the
 * stranger in the gaps - priority for the DM client without holding the
 * card (a held answer would stop the DM session too).  What the card sends
 * regardless is still taken, up to the real room, and passed on: a card
 * that ignores the figure loses nothing.
 */
bool ch_offers_none(const struct channel *ch)
{
	return !ch->own && ch_is_server(ch) && ch_own_busy(ch->bc);
}

size_t ch_tx_offer(const struct channel *ch)
{
	return ch_offers_none(ch) ? 0 : ch_tx_room(ch);
}

/*
 * A held SEND DATA answer stops the whole card: nothing else is fetched
 * and envelopes wait behind it.  So a slow peer's answer is held only
 * while nothing else wants the card - no envelope or STATUS queued
 * (cat_wanted), no envelope just before the command (the card may have
 * chosen it before the envelope gave it other work: cat_after_envelope)
 * and, for a local client of a server channel, no link of the DM client
 * up - and is let go (reporting no room) as soon as something does
 * (ch_release_held).  A card that respects the room comes back to the
 * slow channel when it has nothing else to do.
 */
bool ch_may_hold(const struct channel *ch)
{
	return !cat_wanted(ch->bc->c) && !cat_after_envelope(ch->bc->c) &&
	       !ch_offers_none(ch);
}

void ch_release_held(struct bip_card *bc, const char *why)
{
	for (int i = 0; i < BIP_MAX_CHANNELS; i++) {
		struct channel *ch = &bc->ch[i];

		if (ch->state != CH_HELD || ch_may_hold(ch))
			continue;
		ch_enter(ch, CH_ESTABLISHED, why);
		ch_respond_send(ch);
	}
}

/* Tx room: the buffer size less what waits, stored or for the peer. */
size_t ch_tx_room(const struct channel *ch)
{
	size_t used = evbuffer_get_length(ch->tx);

	if (ch->bev)
		used += evbuffer_get_length(bufferevent_get_output(ch->bev));
	return used >= ch->bufsize ? 0 : ch->bufsize - used;
}

void ch_flush(struct channel *ch)
{
	size_t n = evbuffer_get_length(ch->tx);

	if (!n)
		return;
	if (ch->bev && ch_up(ch)) {
		struct evbuffer *out = bufferevent_get_output(ch->bev);
		bool was_empty = evbuffer_get_length(out) == 0;

		ch->out += n;
		evbuffer_add_buffer(out, ch->tx);
		/*
		 * Hand the bytes to the kernel now rather than at the next
		 * turn of the loop, so the room they held is the worker's
		 * again at once (fast_grant by the caller).  What the socket
		 * does not take stays for the bufferevent's own write event.
		 */
		if (was_empty)
			(void)evbuffer_write(out, bufferevent_getfd(ch->bev));
	} else if (ch->udp >= 0) {
		uint8_t *p = evbuffer_pullup(ch->tx, -1);

		/* one SEND DATA burst is one datagram */
		if (send(ch->udp, p, n, 0) < 0)
			log_info(LOG_BIP, "%s: channel %u: datagram not sent: %s",
				 cat_name(ch->bc->c), ch->id, strerror(errno));
		else
			ch->out += n;
		evbuffer_drain(ch->tx, n);
	}
}

/* ------------------------------------------------------------------ */
/* Events and answers                                                  */

static void event_sent(void *arg, struct cat *c, int err, uint16_t sw,
		       const uint8_t *data, size_t len)
{
	if (err)
		log_warn(LOG_BIP, "BIP event not delivered: %s", strerror(-err));
}

/* Event download, only for events the card listed (clause 7.5.10/11). */
void ch_send_channel_status(struct channel *ch)
{
	uint8_t env[32], s[2];
	int n;

	if (!cat_event_listed(ch->bc->c, CAT_EV_CHANNEL_STATUS))
		return;
	ch_status(ch, s);
	n = cat_env_channel_status(env, sizeof(env), s);
	if (n > 0)
		cat_envelope(ch->bc->c, env, (size_t)n, event_sent, NULL);
}

/* Data available (clause 7.5.10): once, until the card has drained it. */
void ch_data_available(struct channel *ch)
{
	uint8_t env[32], s[2];
	size_t avail = ch_rx_len(ch);
	int n;

	if (ch->announced || !avail)
		return;
	if (!cat_event_listed(ch->bc->c, CAT_EV_DATA_AVAILABLE))
		return;
	ch->announced = true;
	ch_status(ch, s);
	n = cat_env_data_available(env, sizeof(env), s, avail);
	if (n > 0)
		cat_envelope(ch->bc->c, env, (size_t)n, event_sent, NULL);
}

/* OPEN CHANNEL's answer: channel status, bearer, buffer size (6.4.27). */
void ch_respond_open(struct channel *ch, uint8_t result)
{
	uint8_t extra[64], s[2];
	size_t n = 0;
	int r;

	ch_status(ch, s);
	r = bip_put_channel_status(extra, sizeof(extra), s[0], s[1]);
	n += r > 0 ? (size_t)r : 0;
	if (ch->bearer_len) {
		r = bip_put_bearer(extra + n, sizeof(extra) - n, ch->bearer,
				   ch->bearer_len);
		n += r > 0 ? (size_t)r : 0;
	}
	r = bip_put_buffer_size(extra + n, sizeof(extra) - n, ch->bufsize);
	n += r > 0 ? (size_t)r : 0;
	cat_respond(ch->bc->c, result, NULL, 0, extra, n);
}

void ch_respond_error(struct cat *c, uint8_t cause)
{
	cat_respond(c, CAT_RES_BIP_ERROR, &cause, 1, NULL, 0);
}

/* SEND DATA's answer: the Tx room left (clause 6.4.30). */
void ch_respond_send(struct channel *ch)
{
	uint8_t extra[8];
	int r = bip_put_data_length(extra, sizeof(extra), ch_tx_offer(ch));

	fast_grant(ch);		/* the loop took bytes: the worker's room too */
	cat_respond(ch->bc->c, CAT_RES_OK, NULL, 0, extra, r > 0 ? (size_t)r : 0);
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */

/*
 * A connection the card closed while bytes it sent were still on their way:
 * it is closed once they have gone (or the peer is gone, or the time-out).
 */
struct lingerer {
	struct bufferevent *bev;
	struct bip *b;
	struct lingerer *next;
};

static void linger_free(struct lingerer *l)
{
	struct lingerer **pp;

	for (pp = &l->b->lingering; *pp != l; pp = &(*pp)->next)
		;
	*pp = l->next;
	bufferevent_free(l->bev);
	free(l);
}

static void linger_written(struct bufferevent *bev, void *arg)
{
	(void)bev;
	linger_free(arg);
}

static void linger_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	linger_free(arg);
}

void ch_linger_all(struct bip *b)
{
	while (b->lingering)
		linger_free(b->lingering);
}

/* Close bev, after what it still has to send. */
static void close_bev(struct bip *b, struct bufferevent *bev)
{
	struct timeval tv = { b->timeout_s, 0 };
	struct lingerer *l;

	if (!evbuffer_get_length(bufferevent_get_output(bev)) ||
	    !(l = calloc(1, sizeof(*l)))) {
		bufferevent_free(bev);
		return;
	}
	l->bev = bev;
	l->b = b;
	l->next = b->lingering;
	b->lingering = l;
	bufferevent_disable(bev, EV_READ);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_setcb(bev, NULL, linger_written, linger_event, l);
	bufferevent_set_timeouts(bev, NULL, &tv);
	bufferevent_enable(bev, EV_WRITE);
}

/*
 * A peer put off (a local client idle, or whose channel is taken for the
 * DM client; a peer that left BIP_UNTAKEN_MAX untaken): what it did not
 * take is dropped and the connection reset, so it learns at once - a FIN
 * would queue behind bytes a peer that stopped reading never takes.
 */
void ch_abort_io(struct channel *ch)
{
	static const struct linger now = { 1, 0 };

	if (ch->bev) {
		if (setsockopt(bufferevent_getfd(ch->bev), SOL_SOCKET,
			       SO_LINGER, &now, sizeof(now)) < 0)
			log_info(LOG_BIP, "%s: channel %u: SO_LINGER: %s",
				 cat_name(ch->bc->c), ch->id, strerror(errno));
		/* not close_bev(): nothing lingers for the client's sake */
		bufferevent_free(ch->bev);
		ch->bev = NULL;
	}
	ch_release_io(ch);
}

void ch_release_io(struct channel *ch)
{
	if (ch->bev) {
		close_bev(ch->bc->b, ch->bev);
		ch->bev = NULL;
	}
	if (ch->udp_ev) {
		event_free(ch->udp_ev);
		ch->udp_ev = NULL;
	}
	if (ch->udp >= 0) {
		close(ch->udp);
		ch->udp = -1;
	}
	evbuffer_drain(ch->rx, evbuffer_get_length(ch->rx));
	fast_rx_drop(ch);
	ch->announced = false;
	ch->peer[0] = '\0';
}

static void bev_read(struct bufferevent *bev, void *arg)
{
	fast_stage(arg);
	ch_rx_flow(arg);
	ch_data_available(arg);
}

static void bev_write(struct bufferevent *bev, void *arg)
{
	struct channel *ch = arg;

	if (ch->state == CH_HELD &&
	    evbuffer_get_length(bufferevent_get_output(bev)) <= ch->bufsize) {
		ch_enter(ch, CH_ESTABLISHED, "the peer took the data");
		ch_respond_send(ch);
	}
	fast_grant(ch);		/* the peer took some: more room */
}

static void bev_event(struct bufferevent *bev, short what, void *arg)
{
	struct channel *ch = arg;

	if (what & BEV_EVENT_CONNECTED) {
		log_info(LOG_BIP, "%s: channel %u connected to %s",
			 cat_name(ch->bc->c), ch->id, ch->peer);
		client_connected(ch);
		return;
	}
	if (what & BEV_EVENT_EOF)
		ch_drop(ch, "the peer closed the connection");
	else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		ch_drop(ch, ch->state == CH_OPENING ||
			ch->state == CH_CONNECTING ?
			"remote device not reachable" : "connection lost");
}

/* The channel's bufferevent on fd (-1: to be connected). */
struct bufferevent *ch_bev_new(struct channel *ch, evutil_socket_t fd)
{
	ch->bev = bufferevent_socket_new(ch->bc->b->base, fd,
					 BEV_OPT_CLOSE_ON_FREE);
	if (ch->bev)
		bufferevent_setcb(ch->bev, bev_read, bev_write, bev_event, ch);
	return ch->bev;
}

/* A link is up: read up to a buffer, hold SEND DATA beyond one. */
void ch_bev_start(struct channel *ch)
{
	bufferevent_setwatermark(ch->bev, EV_READ, 0, ch->bufsize);
	bufferevent_setwatermark(ch->bev, EV_WRITE, ch->bufsize, 0);
	bufferevent_enable(ch->bev, EV_READ | EV_WRITE);
}

/*
 * The card's bytes come in pieces of at most 237: without this, Nagle holds
 * each small write for the peer's delayed ACK (40 ms on Linux).
 */
void ch_tcp_nodelay(evutil_socket_t fd)
{
	int one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void ch_peer_name(char *out, size_t cap, const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(out, cap, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(out, cap, "[%s]:%u", host, port);
	} else {
		snprintf(out, cap, "?");
	}
}

/* ------------------------------------------------------------------ */
/* The table                                                           */

/* CH_HELD for too long: the peer has not taken the data. */
static void ch_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;

	if (ch->state != CH_HELD)
		return;
	log_info(LOG_BIP, "%s: channel %u: peer slow, Tx buffer still full",
		 cat_name(ch->bc->c), ch->id);
	ch_enter(ch, CH_ESTABLISHED, "SEND DATA time-out");
	ch_respond_send(ch);
}

int ch_init(struct channel *ch, struct bip_card *bc, uint8_t id)
{
	ch->bc = bc;
	ch->id = id;		/* state CH_FREE: the table is zeroed */
	ch->udp = -1;
	ch->tx = evbuffer_new();
	ch->rx = evbuffer_new();
	ch->timeout = evtimer_new(bc->b->base, ch_timeout, ch);
	return ch->tx && ch->rx && ch->timeout ? 0 : -ENOMEM;
}

/* The card is gone: nothing is answered any more. */
void ch_fini(struct channel *ch)
{
	if (ch->tx && ch->rx && ch->timeout)
		ch_enter(ch, CH_FREE, "card gone");
	if (ch->tx)
		evbuffer_free(ch->tx);
	if (ch->rx)
		evbuffer_free(ch->rx);
	if (ch->timeout)
		event_free(ch->timeout);
	if (ch->idle)
		event_free(ch->idle);
	ch->idle = NULL;
}
