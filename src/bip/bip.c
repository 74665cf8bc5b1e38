/* SPDX-License-Identifier: MIT */
/*
 * BIP channel table and its sockets.  Every socket is a libevent
 * bufferevent (TCP) or event (UDP) on the one loop; nothing blocks.
 *
 * Back-pressure: bytes from a peer stay in the bufferevent's input, which
 * stops reading at the channel's buffer size until the card pulls them with
 * RECEIVE DATA; bytes from the card go to the peer's output, and when more
 * than a buffer size is waiting there the SEND DATA response is held until
 * the peer has taken them (or the time-out passes), so a slow peer slows
 * its card and nothing grows without bound.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "bip/bip.h"
#include "bip/codec.h"
#include "cat/cat.h"
#include "cat/envelope.h"
#include "cat/proactive.h"
#include "cat/profile.h"
#include "conf.h"
#include "log.h"

enum ch_state {
	CH_FREE,
	CH_LISTEN,		/* server mode, no client */
	CH_IDLE,		/* client mode on demand, not connected yet */
	CH_CONNECTING,
	CH_ESTABLISHED,
	CH_APP,			/* in-process terminal application */
	CH_DROPPED,		/* the peer went away; the card has not closed */
};

static const char *const ch_state_names[] = {
	[CH_FREE] = "free",
	[CH_LISTEN] = "listen",
	[CH_IDLE] = "open",
	[CH_CONNECTING] = "connecting",
	[CH_ESTABLISHED] = "established",
	[CH_APP] = "established",
	[CH_DROPPED] = "dropped",
};

struct bip_app_entry {
	struct bip_app_entry *next;
	uint16_t port;
	uint8_t type;
	char name[64];
	const struct bip_app_ops *ops;	/* NULL: TCP/UDP on 127.0.0.1:port */
	void *arg;
};

struct waiting {
	struct waiting *next;
	evutil_socket_t fd;
	char peer[64];
};

struct bip_card;

struct listener {
	struct listener *next;
	struct bip_card *bc;
	uint16_t port;
	struct evconnlistener *l4, *l6;
	struct waiting *waiting;
	unsigned nwaiting;
	unsigned users;
};

enum pending { PEND_NONE, PEND_OPEN, PEND_SEND };

struct channel {
	struct bip_card *bc;
	uint8_t id;
	enum ch_state state;
	uint8_t transport;
	uint16_t port;
	struct bip_address dest;
	uint16_t bufsize;
	uint8_t bearer[32];
	size_t bearer_len;
	uint8_t open_result;
	struct listener *lst;
	struct bufferevent *bev;
	evutil_socket_t udp;
	struct event *udp_ev;
	struct evbuffer *rx;		/* UDP datagrams received */
	struct evbuffer *tx;		/* SEND DATA stored, not yet sent */
	bool announced;			/* data available sent, not drained */
	uint64_t in, out;
	uint64_t link_in, link_out;	/* in and out when the link came up */
	char peer[64];
	unsigned link;			/* this link's number, see struct fast */
	struct bip_app_entry *app;
	enum pending pending;
	struct event *timeout;
};

/*
 * The fast path.  SEND DATA and RECEIVE DATA on an established TCP channel
 * are answered on the reader's worker thread (pcsc.h, responders), so a
 * transfer does not wait for the loop at every command.  The loop stays
 * in charge: it grants the worker Tx room (what it would answer itself:
 * the room less what the worker took and the loop has not queued yet) and
 * stages the peer's bytes (up to a buffer size) for RECEIVE DATA.  The
 * worker answers within that and leaves a note; the loop applies the notes
 * in order with everything else (queues the bytes, counts, re-announces).
 * Any other command, channel state, a full buffer or nothing staged goes
 * to the loop as before.  A link number tells a note from an older link.
 */
struct fast {
	pthread_mutex_t lock;
	struct bip_card *bc;		/* loop only */
	struct {
		unsigned link;
		bool up;		/* established: the worker may answer */
		size_t room;		/* Tx room the worker may take */
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

struct bip_card {
	struct bip_card *next;
	struct bip *b;
	struct cat *c;
	struct channel ch[BIP_MAX_CHANNELS];
	struct listener *listeners;
	struct fast *fast;
	unsigned links;			/* numbers the links channels get */
};

struct bip {
	struct cat_engine *e;
	struct event_base *base;
	unsigned buffer_max;
	unsigned backlog;
	unsigned timeout_s;
	struct bip_app_entry *apps;
	struct bip_card *cards;
	void (*obs)(void *arg, struct cat *c, uint8_t id, const char *what);
	void *obs_arg;
	struct lingerer *lingering;
};

/*
 * A connection the card closed while bytes it sent were still on their way:
 * it is closed once they have gone (or the peer is gone, or the time-out).
 */
struct lingerer {
	struct bufferevent *bev;
	struct bip *b;
	struct lingerer *next;
};

#define CHUNK_MAX BIP_MAX_CHUNK

static void fast_grant(struct channel *ch);

static void ch_changed(struct channel *ch, const char *what)
{
	struct bip *b = ch->bc->b;

	fast_grant(ch);
	log_debug(LOG_BIP, "%s: channel %u %s", cat_name(ch->bc->c), ch->id, what);
	if (b->obs)
		b->obs(b->obs_arg, ch->bc->c, ch->id, what);
}

static struct bip_card *card_of(struct bip *b, struct cat *c)
{
	for (struct bip_card *bc = b->cards; bc; bc = bc->next)
		if (bc->c == c)
			return bc;
	return NULL;
}

static bool is_server(const struct channel *ch)
{
	return ch->transport == BIP_TCP_SERVER;
}

static bool is_udp(const struct channel *ch)
{
	return ch->transport == BIP_UDP_REMOTE || ch->transport == BIP_UDP_LOCAL;
}

/* Channel status object bytes (clause 8.56). */
static void ch_status(const struct channel *ch, uint8_t s[2])
{
	s[0] = ch->id;
	s[1] = BIP_CS_NO_INFO;
	switch (ch->state) {
	case CH_LISTEN:
		s[0] |= BIP_CS_LISTEN;
		break;
	case CH_ESTABLISHED:
	case CH_APP:
		s[0] |= is_server(ch) ? BIP_CS_ESTABLISHED : BIP_CS_LINK_UP;
		break;
	case CH_DROPPED:
		s[1] = BIP_CS_LINK_DROPPED;
		break;
	default:
		break;
	}
}

/*
 * The channel's Rx buffer: a UDP channel's datagrams; a TCP channel's
 * bytes staged for the worker (struct fast), then its socket's input.
 */
static size_t ch_rx_len(const struct channel *ch)
{
	struct fast *f = ch->bc->fast;
	size_t n = 0;

	if (!ch->bev)
		return evbuffer_get_length(ch->rx);
	if (f) {
		pthread_mutex_lock(&f->lock);
		n = evbuffer_get_length(f->ch[ch->id - 1].rx);
		pthread_mutex_unlock(&f->lock);
	}
	return n + evbuffer_get_length(bufferevent_get_input(ch->bev));
}

static void fast_stage(struct channel *ch);

/*
 * Back-pressure on a TCP peer: read while less than a buffer waits in the
 * socket's input.  Reading must stop there: with reading enabled and the
 * input at its high watermark, libevent runs the read callback again at
 * every loop turn.
 */
static void rx_flow(struct channel *ch)
{
	bool full;

	if (!ch->bev || ch->state != CH_ESTABLISHED)
		return;
	full = evbuffer_get_length(bufferevent_get_input(ch->bev)) >= ch->bufsize;
	if (full && (bufferevent_get_enabled(ch->bev) & EV_READ))
		bufferevent_disable(ch->bev, EV_READ);
	else if (!full && !(bufferevent_get_enabled(ch->bev) & EV_READ))
		bufferevent_enable(ch->bev, EV_READ);
}

static size_t ch_rx_remove(struct channel *ch, uint8_t *data, size_t want)
{
	struct fast *f = ch->bc->fast;
	int n = 0, m;

	if (!ch->bev) {
		n = evbuffer_remove(ch->rx, data, want);
		return n > 0 ? (size_t)n : 0;
	}
	if (f) {
		pthread_mutex_lock(&f->lock);
		n = evbuffer_remove(f->ch[ch->id - 1].rx, data, want);
		pthread_mutex_unlock(&f->lock);
		n = n > 0 ? n : 0;
	}
	m = evbuffer_remove(bufferevent_get_input(ch->bev), data + n,
			    want - (size_t)n);
	fast_stage(ch);
	rx_flow(ch);
	return (size_t)n + (m > 0 ? (size_t)m : 0);
}

static void event_sent(void *arg, struct cat *c, int err, uint16_t sw,
		       const uint8_t *data, size_t len)
{
	if (err)
		log_warn(LOG_BIP, "BIP event not delivered: %s", strerror(-err));
}

/* Event download, only for events the card listed (clause 7.5.10/11). */
static void send_channel_status(struct channel *ch)
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

static void maybe_data_available(struct channel *ch)
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

/* ------------------------------------------------------------------ */
/* Terminal responses                                                  */

static void respond_open(struct channel *ch, uint8_t result)
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

static void respond_bip_error(struct cat *c, uint8_t cause)
{
	cat_respond(c, CAT_RES_BIP_ERROR, &cause, 1, NULL, 0);
}

static size_t tx_room(const struct channel *ch)
{
	size_t used = evbuffer_get_length(ch->tx);

	if (ch->bev)
		used += evbuffer_get_length(bufferevent_get_output(ch->bev));
	return used >= ch->bufsize ? 0 : ch->bufsize - used;
}

static void respond_send(struct channel *ch)
{
	uint8_t extra[8];
	int r = bip_put_data_length(extra, sizeof(extra), tx_room(ch));

	fast_grant(ch);		/* the loop took bytes: the worker's room too */

	cat_respond(ch->bc->c, CAT_RES_OK, NULL, 0, extra, r > 0 ? (size_t)r : 0);
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */

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

static void ch_release_io(struct channel *ch)
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
	if (ch->rx)
		evbuffer_drain(ch->rx, evbuffer_get_length(ch->rx));
	if (ch->bc->fast) {
		struct fast *f = ch->bc->fast;
		struct evbuffer *rx = f->ch[ch->id - 1].rx;

		pthread_mutex_lock(&f->lock);
		evbuffer_drain(rx, evbuffer_get_length(rx));
		f->ch[ch->id - 1].unstaged = 0;
		f->ch[ch->id - 1].up = false;
		pthread_mutex_unlock(&f->lock);
	}
	ch->announced = false;
	ch->peer[0] = '\0';
}

static void listener_put(struct listener *l);
static void listener_take_waiting(struct listener *l);

static void ch_free(struct channel *ch)
{
	ch_release_io(ch);
	if (ch->app && ch->app->ops && ch->app->ops->close)
		ch->app->ops->close(ch->app->arg, ch->bc->c, ch->id);
	ch->app = NULL;
	if (ch->lst) {
		listener_put(ch->lst);
		ch->lst = NULL;
	}
	if (ch->timeout)
		evtimer_del(ch->timeout);
	if (ch->tx)
		evbuffer_drain(ch->tx, evbuffer_get_length(ch->tx));
	ch->pending = PEND_NONE;
	ch->state = CH_FREE;
	ch_changed(ch, "closed");
}

static void ch_flush(struct channel *ch)
{
	size_t n = evbuffer_get_length(ch->tx);

	if (!n)
		return;
	if (ch->bev && ch->state == CH_ESTABLISHED) {
		ch->out += n;
		evbuffer_add_buffer(bufferevent_get_output(ch->bev), ch->tx);
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

static void ch_drop(struct channel *ch, const char *why)
{
	if (ch->state == CH_ESTABLISHED)
		log_info(LOG_BIP, "%s: channel %u: %s (%llu bytes in, %llu out)",
			 cat_name(ch->bc->c), ch->id, why,
			 (unsigned long long)(ch->in - ch->link_in),
			 (unsigned long long)(ch->out - ch->link_out));
	else
		log_info(LOG_BIP, "%s: channel %u: %s", cat_name(ch->bc->c),
			 ch->id, why);
	if (ch->bev)
		bufferevent_disable(ch->bev, EV_READ | EV_WRITE);
	ch->state = CH_DROPPED;
	ch_changed(ch, "dropped");
	if (ch->pending == PEND_OPEN) {
		ch->pending = PEND_NONE;
		evtimer_del(ch->timeout);
		respond_bip_error(ch->bc->c, BIP_ERR_UNREACHABLE);
		ch_free(ch);
		return;
	}
	if (ch->pending == PEND_SEND) {
		ch->pending = PEND_NONE;
		evtimer_del(ch->timeout);
		respond_bip_error(ch->bc->c, BIP_ERR_CLOSED);
	}
	send_channel_status(ch);
}

static void bev_read(struct bufferevent *bev, void *arg)
{
	fast_stage(arg);
	rx_flow(arg);
	maybe_data_available(arg);
}

static void bev_write(struct bufferevent *bev, void *arg)
{
	struct channel *ch = arg;

	if (ch->pending == PEND_SEND &&
	    evbuffer_get_length(bufferevent_get_output(bev)) <= ch->bufsize) {
		ch->pending = PEND_NONE;
		evtimer_del(ch->timeout);
		respond_send(ch);
	}
	fast_grant(ch);		/* the peer took some: more room */
}

/* A new link on ch: its number, its counters' start, ESTABLISHED. */
static void link_up(struct channel *ch)
{
	ch->link = ++ch->bc->links;
	ch->link_in = ch->in;
	ch->link_out = ch->out;
	ch->state = CH_ESTABLISHED;
}

static void ch_connected(struct channel *ch)
{
	link_up(ch);
	bufferevent_set_timeouts(ch->bev, NULL, NULL);
	bufferevent_setwatermark(ch->bev, EV_READ, 0, ch->bufsize);
	bufferevent_setwatermark(ch->bev, EV_WRITE, ch->bufsize, 0);
	bufferevent_enable(ch->bev, EV_READ | EV_WRITE);
	ch_changed(ch, "established");
	if (ch->pending == PEND_OPEN) {
		ch->pending = PEND_NONE;
		evtimer_del(ch->timeout);
		respond_open(ch, ch->open_result);
	}
	ch_flush(ch);
}

static void bev_event(struct bufferevent *bev, short what, void *arg)
{
	struct channel *ch = arg;

	if (what & BEV_EVENT_CONNECTED) {
		log_info(LOG_BIP, "%s: channel %u connected to %s",
			 cat_name(ch->bc->c), ch->id, ch->peer);
		ch_connected(ch);
		return;
	}
	if (what & BEV_EVENT_EOF)
		ch_drop(ch, "the peer closed the connection");
	else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		ch_drop(ch, ch->state == CH_CONNECTING ?
			"remote device not reachable" : "connection lost");
}

static void udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;
	uint8_t buf[65536];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	if (n < 0) {
		if (errno == ECONNREFUSED)
			log_info(LOG_BIP, "%s: channel %u: port unreachable",
				 cat_name(ch->bc->c), ch->id);
		return;
	}
	if (evbuffer_get_length(ch->rx) + (size_t)n > ch->bufsize) {
		log_info(LOG_BIP, "%s: channel %u: receive buffer full, datagram of %zd bytes dropped",
			 cat_name(ch->bc->c), ch->id, n);
		return;
	}
	evbuffer_add(ch->rx, buf, (size_t)n);
	maybe_data_available(ch);
}

static int addr_to_sockaddr(const struct bip_address *a, uint16_t port,
			    struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, a->addr, 4);
		*len = sizeof(*in);
		return 0;
	}
	if (a->family == 6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, a->addr, 16);
		*len = sizeof(*in6);
		return 0;
	}
	return -EAFNOSUPPORT;
}

static void peer_name(char *out, size_t cap, const struct sockaddr *sa)
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

static void ch_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;

	if (ch->pending == PEND_SEND) {
		/* the peer has not taken the data: give the card its answer */
		log_info(LOG_BIP, "%s: channel %u: peer slow, Tx buffer still full",
			 cat_name(ch->bc->c), ch->id);
		ch->pending = PEND_NONE;
		respond_send(ch);
	} else if (ch->pending == PEND_OPEN) {
		ch_drop(ch, "connection timed out");
	}
}

/*
 * The card's bytes come in pieces of at most 237: without this, Nagle holds
 * each small write for the peer's delayed ACK (40 ms on Linux).
 */
static void tcp_nodelay(evutil_socket_t fd)
{
	int one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Start a TCP connection or a UDP association to ch->dest:ch->port. */
static int ch_connect(struct channel *ch)
{
	struct bip *b = ch->bc->b;
	struct sockaddr_storage ss;
	socklen_t sl;

	if (addr_to_sockaddr(&ch->dest, ch->port, &ss, &sl) < 0)
		return -EAFNOSUPPORT;
	peer_name(ch->peer, sizeof(ch->peer), (struct sockaddr *)&ss);
	if (is_udp(ch)) {
		ch->udp = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (ch->udp < 0)
			return -errno;
		if (connect(ch->udp, (struct sockaddr *)&ss, sl) < 0) {
			int e = -errno;

			close(ch->udp);
			ch->udp = -1;
			return e;
		}
		ch->udp_ev = event_new(b->base, ch->udp, EV_READ | EV_PERSIST,
				       udp_read, ch);
		if (!ch->udp_ev)
			return -ENOMEM;
		event_add(ch->udp_ev, NULL);
		ch->state = CH_ESTABLISHED;
		ch_changed(ch, "established");
		return 0;
	}
	ch->bev = bufferevent_socket_new(b->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!ch->bev)
		return -ENOMEM;
	bufferevent_setcb(ch->bev, bev_read, bev_write, bev_event, ch);
	{
		struct timeval tv = { b->timeout_s, 0 };

		bufferevent_set_timeouts(ch->bev, NULL, &tv);
	}
	ch->state = CH_CONNECTING;
	ch_changed(ch, "connecting");
	if (bufferevent_socket_connect(ch->bev, (struct sockaddr *)&ss, (int)sl) < 0) {
		/* refused at once (e.g. no route): reported through bev_event */
		return -ECONNREFUSED;
	}
	tcp_nodelay(bufferevent_getfd(ch->bev));
	return 1;	/* in progress */
}

/* ------------------------------------------------------------------ */
/* UICC server mode listeners (loopback only)                          */

static void ch_attach(struct channel *ch, evutil_socket_t fd, const char *peer)
{
	struct bip *b = ch->bc->b;

	tcp_nodelay(fd);
	ch->bev = bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!ch->bev) {
		close(fd);
		return;
	}
	snprintf(ch->peer, sizeof(ch->peer), "%s", peer);
	bufferevent_setcb(ch->bev, bev_read, bev_write, bev_event, ch);
	link_up(ch);
	bufferevent_setwatermark(ch->bev, EV_READ, 0, ch->bufsize);
	bufferevent_setwatermark(ch->bev, EV_WRITE, ch->bufsize, 0);
	bufferevent_enable(ch->bev, EV_READ | EV_WRITE);
	log_info(LOG_BIP, "%s: channel %u: client %s connected on port %u",
		 cat_name(ch->bc->c), ch->id, peer, ch->port);
	ch_changed(ch, "established");
	send_channel_status(ch);
}

static struct channel *listener_free_channel(struct listener *l)
{
	for (int i = 0; i < BIP_MAX_CHANNELS; i++) {
		struct channel *ch = &l->bc->ch[i];

		if (ch->state == CH_LISTEN && ch->lst == l)
			return ch;
	}
	return NULL;
}

static void listener_take_waiting(struct listener *l)
{
	struct channel *ch;

	while (l->waiting && (ch = listener_free_channel(l))) {
		struct waiting *w = l->waiting;

		l->waiting = w->next;
		l->nwaiting--;
		ch_attach(ch, w->fd, w->peer);
		free(w);
	}
}

static void on_accept(struct evconnlistener *el, evutil_socket_t fd,
		      struct sockaddr *sa, int socklen, void *arg)
{
	struct listener *l = arg;
	struct channel *ch = listener_free_channel(l);
	char peer[64];

	peer_name(peer, sizeof(peer), sa);
	evutil_make_socket_nonblocking(fd);
	if (ch && !l->waiting) {
		ch_attach(ch, fd, peer);
		return;
	}
	if (l->nwaiting < l->bc->b->backlog) {
		struct waiting *w = calloc(1, sizeof(*w)), **pp;

		if (w) {
			w->fd = fd;
			snprintf(w->peer, sizeof(w->peer), "%s", peer);
			for (pp = &l->waiting; *pp; pp = &(*pp)->next)
				;
			*pp = w;
			l->nwaiting++;
			log_info(LOG_BIP, "%s: port %u: client %s waits for a free channel (%u waiting)",
				 cat_name(l->bc->c), l->port, peer, l->nwaiting);
			return;
		}
	}
	log_notice(LOG_BIP, "%s: port %u: client %s refused: every channel busy and %u waiting",
		   cat_name(l->bc->c), l->port, peer, l->nwaiting);
	close(fd);
}

static struct evconnlistener *listen_on(struct bip *b, struct listener *l,
					int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_loopback;
		sl = sizeof(*in6);
	}
	return evconnlistener_new_bind(b->base, on_accept, l,
				       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
				       LEV_OPT_CLOSE_ON_EXEC |
				       (family == AF_INET6 ? LEV_OPT_BIND_IPV6ONLY : 0),
				       16, (struct sockaddr *)&ss, (int)sl);
}

static struct listener *listener_get(struct bip_card *bc, uint16_t port)
{
	struct listener *l;

	for (l = bc->listeners; l; l = l->next)
		if (l->port == port) {
			l->users++;
			return l;
		}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->bc = bc;
	l->port = port;
	/*
	 * Both loopback addresses, or none: a port another program holds on
	 * one of them would send the card's clients there.  Only a host
	 * without IPv6 gets 127.0.0.1 alone.
	 */
	l->l4 = listen_on(bc->b, l, AF_INET, port);
	if (!l->l4) {
		free(l);
		return NULL;
	}
	l->l6 = listen_on(bc->b, l, AF_INET6, port);
	if (!l->l6) {
		int e = errno;

		if (e == EADDRINUSE || e == EACCES) {
			evconnlistener_free(l->l4);
			free(l);
			errno = e;
			return NULL;
		}
		log_warn(LOG_BIP, "%s: port %u: no IPv6 loopback (%s), 127.0.0.1 only",
			 cat_name(bc->c), port, strerror(e));
	}
	log_info(LOG_BIP, "%s: listening on 127.0.0.1:%u and [::1]:%u",
		 cat_name(bc->c), port, port);
	l->users = 1;
	l->next = bc->listeners;
	bc->listeners = l;
	return l;
}

static void listener_put(struct listener *l)
{
	struct bip_card *bc = l->bc;

	if (--l->users)
		return;
	for (struct listener **pp = &bc->listeners; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	while (l->waiting) {
		struct waiting *w = l->waiting;

		l->waiting = w->next;
		close(w->fd);
		free(w);
	}
	if (l->l4)
		evconnlistener_free(l->l4);
	if (l->l6)
		evconnlistener_free(l->l6);
	log_info(LOG_BIP, "%s: port %u closed", cat_name(bc->c), l->port);
	free(l);
}

/* ------------------------------------------------------------------ */
/* Command handlers                                                    */

static struct channel *cmd_channel(struct bip_card *bc, const struct cat_cmd *cmd)
{
	unsigned id = bip_channel_of(cmd->dst);

	if (!bc || !id || bc->ch[id - 1].state == CH_FREE)
		return NULL;
	return &bc->ch[id - 1];
}

static struct bip_app_entry *app_find(struct bip *b, uint16_t port)
{
	for (struct bip_app_entry *a = b->apps; a; a = a->next)
		if (a->port == port)
			return a;
	return NULL;
}

static void open_channel(void *arg, struct cat *c, const struct cat_cmd *cmd,
			 const uint8_t *raw, size_t len)
{
	struct bip *b = arg;
	struct bip_card *bc = card_of(b, c);
	struct channel *ch = NULL;
	struct bip_open o;
	int r;

	r = bip_open_decode(raw, len, &o);
	if (r > 0) {
		cat_respond(c, (uint8_t)r, NULL, 0, NULL, 0);
		return;
	}
	if (!bc) {
		respond_bip_error(c, BIP_ERR_NONE);
		return;
	}
	for (int i = 0; i < BIP_MAX_CHANNELS; i++)
		if (bc->ch[i].state == CH_FREE) {
			ch = &bc->ch[i];
			break;
		}
	if (!ch) {
		respond_bip_error(c, BIP_ERR_NO_CHANNEL);
		return;
	}
	if (!o.has_transport) {
		/* no UICC/terminal transport level: a network bearer only */
		respond_bip_error(c, BIP_ERR_TRANSPORT);
		return;
	}
	ch->transport = o.transport;
	ch->port = o.port;
	ch->dest = o.dest;
	ch->open_result = CAT_RES_OK;
	ch->bufsize = o.buffer_size;
	if (!ch->bufsize || ch->bufsize > b->buffer_max) {
		/* clause 6.4.27: the closest we can do, result 07 */
		ch->bufsize = (uint16_t)b->buffer_max;
		ch->open_result = CAT_RES_MODIFIED;
	}
	ch->bearer_len = 0;
	if (o.has_bearer && o.transport != BIP_TCP_SERVER) {
		switch (o.bearer[0]) {
		case BIP_BEARER_PACKET:
		case BIP_BEARER_DEFAULT:
		case BIP_BEARER_EUTRAN:
		case BIP_BEARER_LOCAL:
			/* the IP stack of the host carries them all */
			memcpy(ch->bearer, o.bearer, o.bearer_len);
			ch->bearer_len = o.bearer_len;
			break;
		default:
			log_notice(LOG_BIP, "%s: bearer type %02X not supported",
				   cat_name(c), o.bearer[0]);
			cat_respond(c, CAT_RES_BEYOND_CAPABILITIES, NULL, 0, NULL, 0);
			return;
		}
	}
	ch->state = CH_IDLE;

	switch (o.transport) {
	case BIP_TCP_SERVER:
		ch->lst = listener_get(bc, o.port);
		if (!ch->lst) {
			ch->state = CH_FREE;
			log_notice(LOG_BIP, "%s: cannot listen on port %u: %s",
				   cat_name(c), o.port, strerror(errno));
			respond_bip_error(c, BIP_ERR_PORT);
			return;
		}
		ch->state = CH_LISTEN;
		ch_changed(ch, "listen");
		respond_open(ch, ch->open_result);
		listener_take_waiting(ch->lst);
		return;
	case BIP_TCP_LOCAL:
	case BIP_UDP_LOCAL:
		ch->app = app_find(b, o.port);
		if (!ch->app) {
			/* spec 7.1 step 2: terminal currently unable, and why */
			log_notice(LOG_BIP, "%s: no terminal application on port %u",
				   cat_name(c), o.port);
			ch->state = CH_FREE;
			cat_respond(c, CAT_RES_TERMINAL_UNABLE,
				    (const uint8_t[]){ CAT_UNABLE_NO_CAUSE }, 1,
				    NULL, 0);
			return;
		}
		if (ch->app->ops) {
			r = ch->app->ops->open ?
				ch->app->ops->open(ch->app->arg, c, ch->id) : 0;
			if (r) {
				uint8_t why = (uint8_t)(r & 0xFF);

				log_notice(LOG_BIP, "%s: application %s refused the channel",
					   cat_name(c), ch->app->name);
				ch->app = NULL;
				ch->state = CH_FREE;
				cat_respond(c, CAT_RES_TERMINAL_UNABLE, &why, 1,
					    NULL, 0);
				return;
			}
			ch->state = CH_APP;
			snprintf(ch->peer, sizeof(ch->peer), "%s", ch->app->name);
			ch_changed(ch, "established");
			respond_open(ch, ch->open_result);
			return;
		}
		/* an external application: its socket on loopback */
		ch->dest.family = 4;
		memcpy(ch->dest.addr, (const uint8_t[]){ 127, 0, 0, 1 }, 4);
		break;
	case BIP_TCP_REMOTE:
	case BIP_UDP_REMOTE:
		if (!ch->dest.family) {
			ch->state = CH_FREE;
			cat_respond(c, CAT_RES_VALUES_MISSING, NULL, 0, NULL, 0);
			return;
		}
		break;
	default:
		ch->state = CH_FREE;
		respond_bip_error(c, BIP_ERR_TRANSPORT);
		return;
	}

	/* client modes: immediate link, or on demand (qualifier bit 1) */
	if (!(o.qualifier & 0x01) && !is_udp(ch) && !ch->app) {
		ch_changed(ch, "open");
		respond_open(ch, ch->open_result);
		return;
	}
	r = ch_connect(ch);
	if (r == 0) {
		respond_open(ch, ch->open_result);
		return;
	}
	if (r == 1) {
		ch->pending = PEND_OPEN;	/* answered when connected */
		return;
	}
	log_info(LOG_BIP, "%s: channel %u: cannot reach %s: %s", cat_name(c),
		 ch->id, ch->peer, strerror(-r));
	ch_release_io(ch);
	ch->state = CH_FREE;
	if (ch->app) {
		ch->app = NULL;
		cat_respond(c, CAT_RES_TERMINAL_UNABLE,
			    (const uint8_t[]){ CAT_UNABLE_NO_CAUSE }, 1, NULL, 0);
		return;
	}
	respond_bip_error(c, BIP_ERR_UNREACHABLE);
}

static void close_channel(void *arg, struct cat *c, const struct cat_cmd *cmd,
			  const uint8_t *raw, size_t len)
{
	struct channel *ch = cmd_channel(card_of(arg, c), cmd);

	if (!ch) {
		respond_bip_error(c, BIP_ERR_BAD_CHANNEL_ID);
		return;
	}
	if (is_server(ch) && (cmd->det.qualifier & 0x01)) {
		/* clause 6.4.28: back to TCP LISTEN, the client is dropped */
		ch_release_io(ch);
		ch->state = CH_LISTEN;
		ch_changed(ch, "listen");
		cat_respond(c, CAT_RES_OK, NULL, 0, NULL, 0);
		listener_take_waiting(ch->lst);
		return;
	}
	ch_free(ch);
	cat_respond(c, CAT_RES_OK, NULL, 0, NULL, 0);
}

static void receive_data(void *arg, struct cat *c, const struct cat_cmd *cmd,
			 const uint8_t *raw, size_t len)
{
	struct channel *ch = cmd_channel(card_of(arg, c), cmd);
	uint8_t want, data[CHUNK_MAX], extra[CHUNK_MAX + 8];
	size_t n, left, xl = 0;
	int r;

	if (!ch) {
		respond_bip_error(c, BIP_ERR_BAD_CHANNEL_ID);
		return;
	}
	r = bip_receive_decode(raw, len, &want);
	if (r > 0) {
		cat_respond(c, (uint8_t)r, NULL, 0, NULL, 0);
		return;
	}
	if (!ch_rx_len(ch)) {
		respond_bip_error(c, ch->state == CH_DROPPED ||
				  ch->state == CH_LISTEN ? BIP_ERR_CLOSED :
				  BIP_ERR_NONE);
		return;
	}
	n = ch_rx_remove(ch, data, want < sizeof(data) ? want : sizeof(data));
	ch->in += n;
	left = ch_rx_len(ch);
	if (!left)
		ch->announced = false;
	r = bip_put_channel_data(extra, sizeof(extra), data, n);
	xl += r > 0 ? (size_t)r : 0;
	r = bip_put_data_length(extra + xl, sizeof(extra) - xl, left);
	xl += r > 0 ? (size_t)r : 0;
	cat_respond(c, CAT_RES_OK, NULL, 0, extra, xl);
}

static void send_data(void *arg, struct cat *c, const struct cat_cmd *cmd,
		      const uint8_t *raw, size_t len)
{
	struct channel *ch = cmd_channel(card_of(arg, c), cmd);
	const uint8_t *p;
	size_t n;
	int r;

	if (!ch) {
		respond_bip_error(c, BIP_ERR_BAD_CHANNEL_ID);
		return;
	}
	r = bip_send_decode(raw, len, &p, &n);
	if (r > 0) {
		cat_respond(c, (uint8_t)r, NULL, 0, NULL, 0);
		return;
	}
	if (ch->state == CH_LISTEN || ch->state == CH_DROPPED) {
		respond_bip_error(c, BIP_ERR_CLOSED);
		return;
	}
	if (ch->state == CH_APP) {
		/*
		 * terminal server mode: what the card stores is kept, and the
		 * whole goes to the application when it says "send now"
		 */
		size_t stored = evbuffer_get_length(ch->tx);

		if (stored + n > ch->bufsize) {
			respond_bip_error(c, BIP_ERR_BUFFER_SIZE);
			return;
		}
		evbuffer_add(ch->tx, p, n);
		if (!(cmd->det.qualifier & 0x01)) {
			respond_send(ch);
			return;
		}
		n += stored;
		p = evbuffer_pullup(ch->tx, -1);
		r = ch->app->ops->deliver ?
			ch->app->ops->deliver(ch->app->arg, c, ch->id, p, n) : 0;
		evbuffer_drain(ch->tx, n);
		if (r) {
			uint8_t why = (uint8_t)(r & 0xFF);

			log_notice(LOG_BIP, "%s: application %s could not take %zu bytes",
				   cat_name(c), ch->app->name, n);
			cat_respond(c, CAT_RES_TERMINAL_UNABLE, &why, 1, NULL, 0);
			return;
		}
		ch->out += n;
		ch_changed(ch, "data");
		respond_send(ch);
		return;
	}
	if (evbuffer_get_length(ch->tx) + n > ch->bufsize) {
		respond_bip_error(c, BIP_ERR_BUFFER_SIZE);
		return;
	}
	evbuffer_add(ch->tx, p, n);
	if (!(cmd->det.qualifier & 0x01)) {
		respond_send(ch);	/* stored in the Tx buffer */
		return;
	}
	if (ch->state == CH_IDLE) {
		/* on demand: the link comes up now, the data follows it */
		r = ch_connect(ch);
		if (r < 0) {
			ch_release_io(ch);
			ch->state = CH_DROPPED;
			respond_bip_error(c, BIP_ERR_UNREACHABLE);
			send_channel_status(ch);
			return;
		}
		respond_send(ch);
		return;
	}
	ch_flush(ch);
	ch_changed(ch, "data");
	if (ch->bev && evbuffer_get_length(bufferevent_get_output(ch->bev)) >
	    ch->bufsize) {
		/* a slow peer: hold the answer until it has taken the data */
		struct timeval tv = { ch->bc->b->timeout_s, 0 };

		ch->pending = PEND_SEND;
		evtimer_add(ch->timeout, &tv);
		return;
	}
	respond_send(ch);
}

static void get_channel_status(void *arg, struct cat *c,
			       const struct cat_cmd *cmd, const uint8_t *raw,
			       size_t len)
{
	struct bip_card *bc = card_of(arg, c);
	uint8_t extra[BIP_MAX_CHANNELS * 4 + 4], st[BIP_MAX_CHANNELS][2];
	size_t n = 0;
	int r;

	for (int i = 0; bc && i < BIP_MAX_CHANNELS; i++)
		if (bc->ch[i].state != CH_FREE)
			ch_status(&bc->ch[i], st[n++]);
	/* clause 6.4.31; no channel open gives one status 00 00 */
	r = bip_put_channel_status_list(extra, sizeof(extra),
					(const uint8_t (*)[2])st, n);
	cat_respond(c, CAT_RES_OK, NULL, 0, extra, r > 0 ? (size_t)r : 0);
}

/* ------------------------------------------------------------------ */
/* Cards, applications, configuration                                  */

/* ------------------------------------------------------------------ */
/* The fast path (struct fast)                                         */

/* Loop: what the worker may take on this channel now. */
static void fast_grant(struct channel *ch)
{
	struct fast *f = ch->bc->fast;
	size_t room = 0;

	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	if (ch->bev && ch->state == CH_ESTABLISHED &&
	    ch->pending == PEND_NONE) {
		size_t r = tx_room(ch), taken = f->ch[ch->id - 1].taken;

		room = r > taken ? r - taken : 0;
	}
	f->ch[ch->id - 1].room = room;
	f->ch[ch->id - 1].link = ch->link;
	f->ch[ch->id - 1].up = ch->bev && ch->state == CH_ESTABLISHED;
	pthread_mutex_unlock(&f->lock);
}

/* Loop: move the peer's bytes where the worker can give them to the card. */
static void fast_stage(struct channel *ch)
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
	*room = f->ch[id - 1].room;
	fn->link = f->ch[id - 1].link;
	if (f->ch[id - 1].up && n <= *room) {
		f->ch[id - 1].room -= n;
		f->ch[id - 1].taken += n;
		*room -= n;
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

static void fast_apply(void *arg, void *note, bool live);

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
	/* the loop's own answers, clause 6.4.30 and 6.4.29 */
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
	if (ch->state != CH_ESTABLISHED || !ch->bev || ch->link != fn->link) {
		if (fn->type == CAT_SEND_DATA)
			log_info(LOG_BIP, "%s: channel %u: %zu bytes from the card dropped: their link is gone",
				 cat_name(f->bc->c), ch->id, fn->n);
		fast_grant(ch);
	} else if (fn->type == CAT_RECEIVE_DATA) {
		ch->in += fn->n;
		fast_stage(ch);
		rx_flow(ch);
		if (!fn->left) {
			/* drained: what came meanwhile gets its own event */
			ch->announced = false;
			maybe_data_available(ch);
		}
	} else {
		evbuffer_add(ch->tx, fn->data, fn->n);
		if (fn->now) {
			ch_flush(ch);
			ch_changed(ch, "data");
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
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static const struct cat_delegate_ops fast_ops = {
	.respond = fast_respond,
	.apply = fast_apply,
	.release = fast_release,
};

static void fast_start(struct bip_card *bc)
{
	static const uint8_t types[] = { CAT_SEND_DATA, CAT_RECEIVE_DATA };
	struct fast *f = calloc(1, sizeof(*f));

	if (!f)
		return;		/* everything goes through the loop then */
	pthread_mutex_init(&f->lock, NULL);
	for (int i = 0; i < BIP_MAX_CHANNELS; i++)
		if (!(f->ch[i].rx = evbuffer_new())) {
			fast_release(f);
			return;
		}
	f->bc = bc;
	if (cat_delegate(bc->c, types, sizeof(types), &fast_ops, f) < 0) {
		fast_release(f);
		return;
	}
	bc->fast = f;
}

static void fast_stop(struct bip_card *bc)
{
	if (!bc->fast)
		return;
	bc->fast->bc = NULL;
	bc->fast = NULL;
	cat_delegate(bc->c, NULL, 0, NULL, NULL);	/* released when idle */
}

static void apps_sent(void *arg, struct cat *c, int err, uint16_t sw,
		      const uint8_t *data, size_t len)
{
	if (err || (sw != 0x9000 && (sw >> 8) != 0x91))
		log_warn(LOG_BIP, "%s: terminal applications not accepted (%04X)",
			 cat_name(c), sw);
}

void bip_card_up(struct bip *b, struct cat *c)
{
	struct bip_card *bc = card_of(b, c);
	struct bip_app apps[16];
	uint8_t env[255];
	size_t n = 0;
	int len;

	if (!bc) {
		bc = calloc(1, sizeof(*bc));
		if (!bc)
			return;
		bc->b = b;
		bc->c = c;
		for (int i = 0; i < BIP_MAX_CHANNELS; i++) {
			struct channel *ch = &bc->ch[i];

			ch->bc = bc;
			ch->id = (uint8_t)(i + 1);
			ch->udp = -1;
			ch->tx = evbuffer_new();
			ch->rx = evbuffer_new();
			ch->timeout = evtimer_new(b->base, ch_timeout, ch);
		}
		bc->next = b->cards;
		b->cards = bc;
		fast_start(bc);
	}
	for (struct bip_app_entry *a = b->apps; a && n < 16; a = a->next) {
		apps[n].port = a->port;
		apps[n].type = a->type;
		apps[n].name = a->name;
		n++;
	}
	if (!n)
		return;
	/* spec 7.1 step 1: the registry, after the terminal profile */
	len = bip_env_terminal_apps(env, sizeof(env), apps, n, true);
	if (len < 0) {
		log_err(LOG_BIP, "terminal applications envelope too long");
		return;
	}
	log_info(LOG_BIP, "%s: %zu terminal application%s registered with the card",
		 cat_name(c), n, n == 1 ? "" : "s");
	cat_envelope(c, env, (size_t)len, apps_sent, NULL);
}

void bip_card_gone(struct bip *b, struct cat *c)
{
	for (struct bip_card **pp = &b->cards; *pp; pp = &(*pp)->next) {
		struct bip_card *bc = *pp;

		if (bc->c != c)
			continue;
		*pp = bc->next;
		fast_stop(bc);
		for (int i = 0; i < BIP_MAX_CHANNELS; i++) {
			struct channel *ch = &bc->ch[i];

			ch->pending = PEND_NONE;	/* no card to answer */
			if (ch->state != CH_FREE)
				ch_free(ch);
			evbuffer_free(ch->tx);
			evbuffer_free(ch->rx);
			event_free(ch->timeout);
		}
		free(bc);
		return;
	}
}

size_t bip_channels(struct bip *b, struct cat *c, struct bip_channel_info *out,
		    size_t cap)
{
	struct bip_card *bc = card_of(b, c);
	size_t n = 0;

	for (int i = 0; bc && i < BIP_MAX_CHANNELS && n < cap; i++) {
		struct channel *ch = &bc->ch[i];

		if (ch->state == CH_FREE)
			continue;
		out[n].id = ch->id;
		out[n].transport = ch->transport;
		out[n].state = ch_state_names[ch->state];
		out[n].port = ch->port;
		snprintf(out[n].peer, sizeof(out[n].peer), "%s", ch->peer);
		out[n].bytes_in = ch->in;
		out[n].bytes_out = ch->out;
		n++;
	}
	return n;
}

void bip_set_observer(struct bip *b,
		      void (*changed)(void *arg, struct cat *c, uint8_t id,
				      const char *what),
		      void *arg)
{
	b->obs = changed;
	b->obs_arg = arg;
}

static int app_add(struct bip *b, uint16_t port, uint8_t type, const char *name,
		   const struct bip_app_ops *ops, void *arg)
{
	struct bip_app_entry *a, **pp;

	if (app_find(b, port))
		return -EEXIST;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->port = port;
	a->type = type;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->ops = ops;
	a->arg = arg;
	for (pp = &b->apps; *pp; pp = &(*pp)->next)
		;
	*pp = a;
	return 0;
}

int bip_register_app(struct bip *b, uint16_t port, uint8_t type,
		     const char *name, const struct bip_app_ops *ops, void *arg)
{
	return app_add(b, port, type, name, ops, arg);
}

/*
 * [bip] applications = PORT:TYPE:NAME, ...  (external applications on
 * 127.0.0.1:PORT; TYPE in hex, 07 is an OMA DM client).
 */
static int parse_apps(const char *list, struct bip *b, char *why, size_t whylen)
{
	const char *p = list;

	while (*p) {
		char item[96], name[64];
		size_t n = strcspn(p, ",");
		unsigned port, type;
		int used = 0;

		if (n >= sizeof(item)) {
			snprintf(why, whylen, "application entry too long");
			return -EINVAL;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		p += strspn(p, ",");
		if (strspn(item, " \t") == n)
			continue;
		if (sscanf(item, " %u:%x:%63[^\n]%n", &port, &type, name, &used) != 3 ||
		    !port || port > 65535 || type > 255) {
			snprintf(why, whylen,
				 "'%.40s' is not PORT:TYPE:NAME (port 1-65535, type in hex)",
				 item);
			return -EINVAL;
		}
		if (b && app_add(b, (uint16_t)port, (uint8_t)type, name, NULL,
				 NULL) < 0) {
			snprintf(why, whylen, "port %u listed twice", port);
			return -EINVAL;
		}
	}
	return 0;
}

int bip_check_apps(const char *list, char *why, size_t whylen)
{
	return parse_apps(list, NULL, why, whylen);
}

void bip_reconfigure(struct bip *b, const struct conf *c)
{
	char why[128];

	b->buffer_max = c->bip.buffer_max;
	b->backlog = c->bip.backlog;
	b->timeout_s = c->bip.timeout;
	/* configured (external) applications are replaced */
	for (struct bip_app_entry **pp = &b->apps; *pp;) {
		struct bip_app_entry *a = *pp;

		if (!a->ops) {
			*pp = a->next;
			free(a);
		} else {
			pp = &a->next;
		}
	}
	if (parse_apps(c->bip.applications, b, why, sizeof(why)) < 0)
		log_err(LOG_BIP, "bip.applications: %s", why);
}

struct bip *bip_new(struct cat_engine *e, const struct conf *c)
{
	struct bip *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->e = e;
	b->base = cat_engine_base(e);
	bip_reconfigure(b, c);
	cat_engine_handle(e, CAT_OPEN_CHANNEL, open_channel, b);
	cat_engine_handle(e, CAT_CLOSE_CHANNEL, close_channel, b);
	cat_engine_handle(e, CAT_RECEIVE_DATA, receive_data, b);
	cat_engine_handle(e, CAT_SEND_DATA, send_data, b);
	cat_engine_handle(e, CAT_GET_CHANNEL_STATUS, get_channel_status, b);
	cat_engine_enable(e, CAP_BIT(CAP_OPEN_CHANNEL) | CAP_BIT(CAP_CLOSE_CHANNEL) |
			  CAP_BIT(CAP_RECEIVE_DATA) | CAP_BIT(CAP_SEND_DATA) |
			  CAP_BIT(CAP_GET_CHANNEL_STATUS) |
			  CAP_BIT(CAP_BIP_CHANNELS) |
			  CAP_BIT(CAP_EVENT_DATA_AVAILABLE) |
			  CAP_BIT(CAP_EVENT_CHANNEL_STATUS) |
			  CAP_BIT(CAP_TCP_CLIENT_REMOTE) |
			  CAP_BIT(CAP_UDP_CLIENT_REMOTE) |
			  CAP_BIT(CAP_TCP_SERVER) |
			  CAP_BIT(CAP_TCP_CLIENT_LOCAL) |
			  CAP_BIT(CAP_UDP_CLIENT_LOCAL) |
			  CAP_BIT(CAP_TERMINAL_APPLICATIONS));
	return b;
}

void bip_free(struct bip *b)
{
	if (!b)
		return;
	while (b->cards)
		bip_card_gone(b, b->cards->c);
	while (b->lingering)
		linger_free(b->lingering);
	while (b->apps) {
		struct bip_app_entry *a = b->apps;

		b->apps = a->next;
		free(a);
	}
	free(b);
}
