/* SPDX-License-Identifier: MIT */
/*
 * Client modes (TS 102 223 clause 6.4.27, transports '01', '02', '04',
 * '05'): a TCP connection or a UDP association to the card's peer, and
 * terminal server mode to an external application of the registry on
 * 127.0.0.1.  The link comes up at OPEN CHANNEL, or on demand at the first
 * SEND DATA (qualifier bit 1 clear).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "bip/channel.h"
#include "cat/cat.h"
#include "log.h"

static void client_udp_read(evutil_socket_t fd, short what, void *arg)
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
	ch_data_available(ch);
}

/* Other address (clause 8.58) and port as a socket address. */
static int client_sockaddr(const struct bip_address *a, uint16_t port,
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

static int client_udp(struct channel *ch, const struct sockaddr_storage *ss,
		      socklen_t sl)
{
	ch->udp = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ch->udp < 0)
		return -errno;
	if (connect(ch->udp, (const struct sockaddr *)ss, sl) < 0) {
		int e = -errno;

		close(ch->udp);
		ch->udp = -1;
		return e;
	}
	ch->udp_ev = event_new(ch->bc->b->base, ch->udp, EV_READ | EV_PERSIST,
			       client_udp_read, ch);
	if (!ch->udp_ev)
		return -ENOMEM;
	event_add(ch->udp_ev, NULL);
	ch_enter(ch, CH_ESTABLISHED, "UDP association");
	return 0;
}

/*
 * Start a TCP connection or a UDP association to ch->dest:ch->port: 0 when
 * up (UDP), 1 when in progress (TCP, in state connecting: CH_OPENING when
 * OPEN CHANNEL waits for it, else CH_CONNECTING), or a negative errno.
 */
int client_connect(struct channel *ch, enum ch_state connecting)
{
	struct timeval tv = { ch->bc->b->timeout_s, 0 };
	struct sockaddr_storage ss;
	socklen_t sl;

	if (client_sockaddr(&ch->dest, ch->port, &ss, &sl) < 0)
		return -EAFNOSUPPORT;
	ch_peer_name(ch->peer, sizeof(ch->peer), (struct sockaddr *)&ss);
	if (ch_is_udp(ch))
		return client_udp(ch, &ss, sl);
	if (!ch_bev_new(ch, -1))
		return -ENOMEM;
	bufferevent_set_timeouts(ch->bev, NULL, &tv);
	ch_enter(ch, connecting, "connecting");
	if (bufferevent_socket_connect(ch->bev, (struct sockaddr *)&ss, (int)sl) < 0) {
		/* refused at once (e.g. no route) */
		return -ECONNREFUSED;
	}
	ch_tcp_nodelay(bufferevent_getfd(ch->bev));
	return 1;
}

/* The TCP connection is up: OPEN CHANNEL is answered if it waited. */
void client_connected(struct channel *ch)
{
	enum ch_state was = ch->state;

	ch_link_up(ch);
	bufferevent_set_timeouts(ch->bev, NULL, NULL);
	ch_bev_start(ch);
	ch_enter(ch, CH_ESTABLISHED, "connected");
	if (was == CH_OPENING)
		ch_respond_open(ch, ch->open_result);
	ch_flush(ch);	/* what the card stored while the link came up */
}
