/* SPDX-License-Identifier: MIT */
/*
 * Inside the BIP module: the channel table of a card and its one state
 * machine, shared by channel.c (the table, ch_enter, the socket I/O),
 * server.c (UICC server mode), client.c (client modes), cmd.c (the command
 * handlers), fast.c (the worker's answers) and apps.c (the registry).
 * Nothing outside src/bip/ includes it.
 */
#ifndef DMSCGW_BIP_CHANNEL_H
#define DMSCGW_BIP_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>

#include "bip/apps.h"
#include "bip/codec.h"

struct bufferevent;
struct event;
struct evbuffer;
struct event_base;
struct cat;
struct cat_engine;
struct fast;
struct listener;
struct lingerer;
struct sockaddr;
struct bip_app_entry;

#include <sys/socket.h>

#define BIP_OWN_MAX	8	/* own connections expected at once */
/* bytes a peer may leave untaken while its answer cannot be held */
#define BIP_UNTAKEN_MAX	65536

/*
 * A channel's state (TS 102 223 clause 6.4.27-6.4.31, channel status
 * clause 8.56).  Changed only by ch_enter(), which logs it, tells the
 * observer and publishes it to the worker (fast.c).
 */
enum ch_state {
	CH_FREE,		/* not open: the channel identifier is free */
	CH_LISTEN,		/* UICC server mode, no client (TCP LISTEN) */
	CH_IDLE,		/* client mode on demand: open, no link yet */
	CH_OPENING,		/* link being set up; OPEN CHANNEL waits for it */
	CH_CONNECTING,		/* on demand: link being set up, the card answered */
	CH_ESTABLISHED,		/* link up (TCP or UDP socket) */
	CH_HELD,		/* link up; a SEND DATA answer waits for the peer */
	CH_APP,			/* in-process terminal application */
	CH_DROPPED,		/* the peer went away; the card has not closed */
	CH_STATE_MAX
};

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
	struct listener *lst;		/* server mode */
	struct bufferevent *bev;	/* TCP */
	evutil_socket_t udp;
	struct event *udp_ev;
	struct evbuffer *rx;		/* UDP datagrams received */
	struct evbuffer *tx;		/* SEND DATA stored, not yet sent */
	bool announced;			/* data available sent, not drained */
	uint64_t in, out;
	uint64_t link_in, link_out;	/* in and out when the link came up */
	char peer[64];
	unsigned link;			/* this link's number, see fast.c */
	struct bip_app_entry *app;
	struct event *timeout;		/* CH_HELD */
	/* server mode: the daemon's own DM client goes first (server.c) */
	bool own;
	struct event *idle;		/* a local client that does nothing */
	uint64_t idle_in, idle_out;	/* in and taken at the last look */
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
	unsigned idle_s;		/* [bip] idle_timeout, 0 none */
	/* local addresses the daemon's own connections come from */
	struct sockaddr_storage own[BIP_OWN_MAX];
	unsigned nown;
	struct bip_app_entry *apps;
	struct bip_card *cards;
	void (*obs)(void *arg, struct cat *c, uint8_t id, const char *what);
	void *obs_arg;
	struct lingerer *lingering;
};

#define CHUNK_MAX BIP_MAX_CHUNK

bool bip_own_take(struct bip *b, const struct sockaddr *peer);

/* bip.c: the card's table */
struct bip_card *bip_card_find(struct bip *b, const struct cat *c);

/* channel.c: the table */
int ch_init(struct channel *ch, struct bip_card *bc, uint8_t id);
void ch_fini(struct channel *ch);

/* channel.c: the state machine */
void ch_enter(struct channel *ch, enum ch_state s, const char *why);
const char *ch_what(enum ch_state s);
bool ch_up(const struct channel *ch);
bool ch_is_server(const struct channel *ch);
bool ch_is_udp(const struct channel *ch);
void ch_data(struct channel *ch);
void ch_status(const struct channel *ch, uint8_t s[2]);
void ch_link_up(struct channel *ch);
void ch_drop(struct channel *ch, const char *why);
void ch_release_io(struct channel *ch);
void ch_abort_io(struct channel *ch);

/* channel.c: buffers, events and answers */
size_t ch_rx_len(const struct channel *ch);
size_t ch_rx_remove(struct channel *ch, uint8_t *data, size_t want);
void ch_rx_flow(struct channel *ch);
size_t ch_tx_room(const struct channel *ch);
size_t ch_tx_offer(const struct channel *ch);
bool ch_offers_none(const struct channel *ch);
bool ch_may_hold(const struct channel *ch);
void ch_release_held(struct bip_card *bc, const char *why);
bool ch_own_busy(const struct bip_card *bc);
void ch_flush(struct channel *ch);
void ch_send_channel_status(struct channel *ch);
void ch_data_available(struct channel *ch);
void ch_respond_open(struct channel *ch, uint8_t result);
void ch_respond_send(struct channel *ch);
void ch_respond_error(struct cat *c, uint8_t cause);

/* channel.c: sockets */
struct bufferevent *ch_bev_new(struct channel *ch, evutil_socket_t fd);
void ch_bev_start(struct channel *ch);
void ch_tcp_nodelay(evutil_socket_t fd);
void ch_peer_name(char *out, size_t cap, const struct sockaddr *sa);
void ch_linger_all(struct bip *b);

/* server.c: UICC server mode */
struct listener *server_listen(struct bip_card *bc, uint16_t port);
void server_put(struct listener *l);
void server_take_waiting(struct listener *l);

/* client.c: client modes and terminal server mode */
int client_connect(struct channel *ch, enum ch_state connecting);
void client_connected(struct channel *ch);

/* fast.c: the fast path (worker-side answers, cat_delegate) */
void fast_start(struct bip_card *bc);
void fast_stop(struct bip_card *bc);
void fast_grant(struct channel *ch);
void fast_stage(struct channel *ch);
size_t fast_rx_len(const struct channel *ch);
size_t fast_rx_remove(struct channel *ch, uint8_t *data, size_t want);
void fast_rx_drop(struct channel *ch);

/* apps.c: the registry */
struct bip_app_entry *apps_find(struct bip *b, uint16_t port);
void apps_reload(struct bip *b, const char *list);
void apps_announce(struct bip *b, struct cat *c);
void apps_free(struct bip *b);
const char *apps_name(const struct bip_app_entry *a);
bool apps_external(const struct bip_app_entry *a);
struct bip_app_result apps_open(struct bip_app_entry *a, struct cat *c,
				unsigned channel);
struct bip_app_result apps_deliver(struct bip_app_entry *a, struct cat *c,
				   unsigned channel, const uint8_t *p,
				   size_t len);
void apps_close(struct bip_app_entry *a, struct cat *c, unsigned channel);

/* cmd.c: the five command handlers */
void cmd_register(struct bip *b);

#endif
