/* SPDX-License-Identifier: MIT */
/*
 * UICC server mode (TS 102 223 clause 6.4.27, transport '03'): the card's
 * server (the SCWS) on loopback listeners.  One listener per port serves
 * every channel the card opened on it; a client that finds no channel in
 * LISTEN waits (up to the backlog) for one to come back to LISTEN.
 *
 * The DM client never waits behind strangers (choice: pre-emption).  Its
 * connections are announced (bip_apps_expect_own) and recognised by their
 * local address; one goes first among those waiting, and when every
 * channel on its port is taken it takes the one of the local client idle
 * longest, which is closed at once.  Local clients that move no byte
 * either way for [bip] idle_timeout seconds are closed too.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "bip/channel.h"
#include "cat/cat.h"
#include "log.h"

struct waiting {
	struct waiting *next;
	evutil_socket_t fd;
	char peer[64];
	bool own;
};

struct listener {
	struct listener *next;
	struct bip_card *bc;
	uint16_t port;
	struct evconnlistener *l4, *l6;
	struct waiting *waiting;
	unsigned nwaiting;
	unsigned users;
};

static bool same_endpoint(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

void bip_apps_expect_own(struct bip *b, const struct sockaddr *local,
			 unsigned len)
{
	if (len > sizeof(b->own[0]))
		return;
	if (b->nown == BIP_OWN_MAX) {
		/* the oldest never came here (another server): forgotten */
		memmove(b->own, b->own + 1, (BIP_OWN_MAX - 1) * sizeof(b->own[0]));
		b->nown--;
	}
	memset(&b->own[b->nown], 0, sizeof(b->own[0]));
	memcpy(&b->own[b->nown++], local, len);
}

/* Is peer one of the daemon's own connections?  It is expected once. */
bool bip_own_take(struct bip *b, const struct sockaddr *peer)
{
	for (unsigned i = 0; i < b->nown; i++) {
		if (!same_endpoint((const struct sockaddr *)&b->own[i], peer))
			continue;
		memmove(b->own + i, b->own + i + 1,
			(b->nown - i - 1) * sizeof(b->own[0]));
		b->nown--;
		return true;
	}
	return false;
}

/*
 * What the client took: the card's bytes less those still waiting in the
 * output buffer, so a client that stops reading is idle too.
 */
static uint64_t ch_taken(const struct channel *ch)
{
	return ch->out - (ch->bev ?
			  evbuffer_get_length(bufferevent_get_output(ch->bev)) :
			  0);
}

/* A local client moved nothing for idle_timeout: its channel is freed. */
static void server_idle(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;
	struct timeval tv = { (time_t)ch->bc->b->idle_s, 0 };
	char why[128];

	(void)fd;
	(void)what;
	if (!ch_up(ch))
		return;
	if (ch->in != ch->idle_in || ch_taken(ch) != ch->idle_out) {
		ch->idle_in = ch->in;
		ch->idle_out = ch_taken(ch);
		evtimer_add(ch->idle, &tv);
		return;
	}
	snprintf(why, sizeof(why), "client %s idle for %u s: closed", ch->peer,
		 ch->bc->b->idle_s);
	ch_drop(ch, why);
	ch_abort_io(ch);	/* the client learns at once */
}

/* A client on a channel in LISTEN: ESTABLISHED, and the card is told. */
static void server_attach(struct channel *ch, evutil_socket_t fd,
			  const char *peer, bool own)
{
	ch_tcp_nodelay(fd);
	if (!ch_bev_new(ch, fd)) {
		close(fd);
		return;
	}
	snprintf(ch->peer, sizeof(ch->peer), "%s", peer);
	ch_link_up(ch);
	ch_bev_start(ch);
	ch->own = own;
	log_info(LOG_BIP, "%s: channel %u: client %s connected on port %u%s",
		 cat_name(ch->bc->c), ch->id, peer, ch->port,
		 own ? " (the DM client)" : "");
	ch_enter(ch, CH_ESTABLISHED, "client connected");
	if (own)
		ch_release_held(ch->bc, "the DM client needs the card");
	ch_send_channel_status(ch);
	if (!own && ch->bc->b->idle_s &&
	    (ch->idle || (ch->idle = evtimer_new(ch->bc->b->base, server_idle,
						 ch)))) {
		struct timeval tv = { (time_t)ch->bc->b->idle_s, 0 };

		ch->idle_in = ch->in;
		ch->idle_out = ch_taken(ch);
		evtimer_add(ch->idle, &tv);
	}
}

/*
 * The DM client found every channel of its port taken: the local client
 * that moved bytes least recently (the idle timer's last look) gives its
 * channel up.  It comes back to LISTEN when the card closes it after the
 * link-dropped event (TS 102 223 6.4.28), and the DM client is first.
 */
static void server_preempt(struct listener *l)
{
	struct channel *victim = NULL;

	for (int i = 0; i < BIP_MAX_CHANNELS; i++) {
		struct channel *ch = &l->bc->ch[i];

		if (ch->lst != l || !ch_up(ch) || ch->own)
			continue;
		if (!victim || ch->in + ch_taken(ch) - ch->idle_in - ch->idle_out <
			       victim->in + ch_taken(victim) - victim->idle_in -
			       victim->idle_out)
			victim = ch;
	}
	if (!victim)
		return;
	log_notice(LOG_BIP, "%s: port %u: client %s closed: the DM client needs "
		   "channel %u", cat_name(l->bc->c), l->port, victim->peer,
		   victim->id);
	ch_drop(victim, "taken for the DM client");
	ch_abort_io(victim);
}

static struct channel *server_free_channel(struct listener *l)
{
	for (int i = 0; i < BIP_MAX_CHANNELS; i++) {
		struct channel *ch = &l->bc->ch[i];

		if (ch->state == CH_LISTEN && ch->lst == l)
			return ch;
	}
	return NULL;
}

void server_take_waiting(struct listener *l)
{
	struct channel *ch;

	while (l->waiting && (ch = server_free_channel(l))) {
		struct waiting *w = l->waiting;

		l->waiting = w->next;
		l->nwaiting--;
		server_attach(ch, w->fd, w->peer, w->own);
		free(w);
	}
}

static void server_accept(struct evconnlistener *el, evutil_socket_t fd,
			  struct sockaddr *sa, int socklen, void *arg)
{
	struct listener *l = arg;
	struct channel *ch = server_free_channel(l);
	bool own = bip_own_take(l->bc->b, sa);
	char peer[64];

	ch_peer_name(peer, sizeof(peer), sa);
	evutil_make_socket_nonblocking(fd);
	if (ch && (!l->waiting || own)) {
		server_attach(ch, fd, peer, own);
		return;
	}
	if (l->nwaiting < l->bc->b->backlog || own) {
		struct waiting *w = calloc(1, sizeof(*w)), **pp;

		if (w) {
			w->fd = fd;
			w->own = own;
			snprintf(w->peer, sizeof(w->peer), "%s", peer);
			/* the DM client first, then in order of arrival */
			for (pp = &l->waiting; *pp && (!own || (*pp)->own);
			     pp = &(*pp)->next)
				;
			w->next = *pp;
			*pp = w;
			l->nwaiting++;
			log_info(LOG_BIP, "%s: port %u: client %s waits for a free channel (%u waiting)",
				 cat_name(l->bc->c), l->port, peer, l->nwaiting);
			if (own)
				server_preempt(l);
			return;
		}
	}
	log_notice(LOG_BIP, "%s: port %u: client %s refused: every channel busy and %u waiting",
		   cat_name(l->bc->c), l->port, peer, l->nwaiting);
	close(fd);
}

static struct evconnlistener *server_bind(struct bip *b, struct listener *l,
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
	return evconnlistener_new_bind(b->base, server_accept, l,
				       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
				       LEV_OPT_CLOSE_ON_EXEC |
				       (family == AF_INET6 ? LEV_OPT_BIND_IPV6ONLY : 0),
				       16, (struct sockaddr *)&ss, (int)sl);
}

/* The listener of port, shared by the channels on it; NULL with errno. */
struct listener *server_listen(struct bip_card *bc, uint16_t port)
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
	l->l4 = server_bind(bc->b, l, AF_INET, port);
	if (!l->l4) {
		free(l);
		return NULL;
	}
	l->l6 = server_bind(bc->b, l, AF_INET6, port);
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

/* A channel on l closed: the port closes with its last channel. */
void server_put(struct listener *l)
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
