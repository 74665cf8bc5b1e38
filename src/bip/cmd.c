/* SPDX-License-Identifier: MIT */
/*
 * The five BIP commands (TS 102 223 clause 6.4.27-6.4.31), on the loop:
 * what the worker does not answer (fast.c) comes here.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "bip/channel.h"
#include "cat/cat.h"
#include "cat/profile.h"
#include "log.h"

static struct channel *cmd_channel(struct bip_card *bc, const struct cat_cmd *cmd)
{
	unsigned id = bip_channel_of(cmd->dst);

	if (!bc || !id || bc->ch[id - 1].state == CH_FREE)
		return NULL;
	return &bc->ch[id - 1];
}

static void cmd_unable(struct cat *c, uint8_t cause)
{
	/* result '20' with its additional information (clause 8.12.2) */
	cat_respond(c, CAT_RES_TERMINAL_UNABLE, &cause, 1, NULL, 0);
}

/* Terminal server mode (spec 7.1 step 2): local applications. */
static void cmd_open_local(struct bip *b, struct channel *ch, struct cat *c)
{
	struct bip_app_result r;

	ch->app = apps_find(b, ch->port);
	if (!ch->app) {
		/* spec 7.1 step 2: terminal currently unable, and why */
		log_notice(LOG_BIP, "%s: no terminal application on port %u",
			   cat_name(c), ch->port);
		cmd_unable(c, CAT_UNABLE_NO_CAUSE);
		return;
	}
	if (apps_external(ch->app)) {
		/* its socket on loopback */
		ch->dest.family = 4;
		memcpy(ch->dest.addr, (const uint8_t[]){ 127, 0, 0, 1 }, 4);
		return;
	}
	r = apps_open(ch->app, c, ch->id);
	if (r.verdict != BIP_APP_TAKEN) {
		log_notice(LOG_BIP, "%s: application %s refused the channel",
			   cat_name(c), apps_name(ch->app));
		ch->app = NULL;
		cmd_unable(c, r.cause);
		return;
	}
	snprintf(ch->peer, sizeof(ch->peer), "%s", apps_name(ch->app));
	ch_enter(ch, CH_APP, "OPEN CHANNEL, terminal server mode");
	ch_respond_open(ch, ch->open_result);
}

/* The link of a client mode: now, or on demand (clause 6.4.27). */
static void cmd_open_client(struct channel *ch, struct cat *c, uint8_t qualifier)
{
	struct bip_app_entry *app;
	int r;

	/* qualifier bit 1: immediate link establishment */
	if (!(qualifier & 0x01) && !ch_is_udp(ch) && !ch->app) {
		ch_enter(ch, CH_IDLE, "OPEN CHANNEL, link on demand");
		ch_respond_open(ch, ch->open_result);
		return;
	}
	r = client_connect(ch, CH_OPENING);
	if (r == 0) {
		ch_respond_open(ch, ch->open_result);
		return;
	}
	if (r == 1)
		return;		/* answered when connected, or dropped */
	log_info(LOG_BIP, "%s: channel %u: cannot reach %s: %s", cat_name(c),
		 ch->id, ch->peer, strerror(-r));
	app = ch->app;
	ch_enter(ch, CH_FREE, "cannot reach the peer");
	if (app)
		cmd_unable(c, CAT_UNABLE_NO_CAUSE);
	else
		ch_respond_error(c, BIP_ERR_UNREACHABLE);
}

static void cmd_open(void *arg, struct cat *c, const struct cat_cmd *cmd,
		     const uint8_t *raw, size_t len)
{
	struct bip *b = arg;
	struct bip_card *bc = bip_card_find(b, c);
	struct channel *ch = NULL;
	struct bip_open o;
	int r;

	r = bip_open_decode(raw, len, &o);
	if (r > 0) {
		cat_respond(c, (uint8_t)r, NULL, 0, NULL, 0);
		return;
	}
	if (!bc) {
		ch_respond_error(c, BIP_ERR_NONE);
		return;
	}
	for (int i = 0; i < BIP_MAX_CHANNELS; i++)
		if (bc->ch[i].state == CH_FREE) {
			ch = &bc->ch[i];
			break;
		}
	if (!ch) {
		ch_respond_error(c, BIP_ERR_NO_CHANNEL);
		return;
	}
	if (!o.has_transport) {
		/* no UICC/terminal transport level: a network bearer only */
		ch_respond_error(c, BIP_ERR_TRANSPORT);
		return;
	}
	/* the channel stays CH_FREE until it is open */
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

	switch (o.transport) {
	case BIP_TCP_SERVER:
		ch->lst = server_listen(bc, o.port);
		if (!ch->lst) {
			log_notice(LOG_BIP, "%s: cannot listen on port %u: %s",
				   cat_name(c), o.port, strerror(errno));
			ch_respond_error(c, BIP_ERR_PORT);
			return;
		}
		ch_enter(ch, CH_LISTEN, "OPEN CHANNEL, UICC server mode");
		ch_respond_open(ch, ch->open_result);
		server_take_waiting(ch->lst);
		return;
	case BIP_TCP_LOCAL:
	case BIP_UDP_LOCAL:
		cmd_open_local(b, ch, c);
		if (!ch->app || !apps_external(ch->app))
			return;		/* answered */
		break;
	case BIP_TCP_REMOTE:
	case BIP_UDP_REMOTE:
		if (!ch->dest.family) {
			cat_respond(c, CAT_RES_VALUES_MISSING, NULL, 0, NULL, 0);
			return;
		}
		break;
	default:
		ch_respond_error(c, BIP_ERR_TRANSPORT);
		return;
	}
	cmd_open_client(ch, c, o.qualifier);
}

static void cmd_close(void *arg, struct cat *c, const struct cat_cmd *cmd,
		      const uint8_t *raw, size_t len)
{
	struct channel *ch = cmd_channel(bip_card_find(arg, c), cmd);

	if (!ch) {
		ch_respond_error(c, BIP_ERR_BAD_CHANNEL_ID);
		return;
	}
	if (ch_is_server(ch) && (cmd->det.qualifier & 0x01)) {
		/* clause 6.4.28: back to TCP LISTEN, the client is dropped */
		ch_enter(ch, CH_LISTEN, "CLOSE CHANNEL, back to listen");
		cat_respond(c, CAT_RES_OK, NULL, 0, NULL, 0);
		server_take_waiting(ch->lst);
		return;
	}
	ch_enter(ch, CH_FREE, "CLOSE CHANNEL");
	cat_respond(c, CAT_RES_OK, NULL, 0, NULL, 0);
}

static void cmd_receive(void *arg, struct cat *c, const struct cat_cmd *cmd,
			const uint8_t *raw, size_t len)
{
	struct channel *ch = cmd_channel(bip_card_find(arg, c), cmd);
	uint8_t want, data[CHUNK_MAX], extra[CHUNK_MAX + 8];
	size_t n, left, xl = 0;
	int r;

	if (!ch) {
		ch_respond_error(c, BIP_ERR_BAD_CHANNEL_ID);
		return;
	}
	r = bip_receive_decode(raw, len, &want);
	if (r > 0) {
		cat_respond(c, (uint8_t)r, NULL, 0, NULL, 0);
		return;
	}
	if (!ch_rx_len(ch)) {
		ch_respond_error(c, ch->state == CH_DROPPED ||
				 ch->state == CH_LISTEN ? BIP_ERR_CLOSED :
				 BIP_ERR_NONE);
		return;
	}
	n = ch_rx_remove(ch, data, want < sizeof(data) ? want : sizeof(data));
	ch->in += n;
	left = ch_rx_len(ch);
	if (!left)
		ch->announced = false;
	/* clause 6.4.29: channel data, then the bytes left */
	r = bip_put_channel_data(extra, sizeof(extra), data, n);
	xl += r > 0 ? (size_t)r : 0;
	r = bip_put_data_length(extra + xl, sizeof(extra) - xl, left);
	xl += r > 0 ? (size_t)r : 0;
	cat_respond(c, CAT_RES_OK, NULL, 0, extra, xl);
}

/*
 * Terminal server mode: what the card stored goes, whole, to the
 * application when it says "send now".
 */
static void cmd_send_app(struct channel *ch, struct cat *c)
{
	size_t n = evbuffer_get_length(ch->tx);
	const uint8_t *p = evbuffer_pullup(ch->tx, -1);
	struct bip_app_result r;

	r = apps_deliver(ch->app, c, ch->id, p, n);
	evbuffer_drain(ch->tx, n);
	if (r.verdict != BIP_APP_TAKEN) {
		log_notice(LOG_BIP, "%s: application %s could not take %zu bytes",
			   cat_name(c), apps_name(ch->app), n);
		cmd_unable(c, r.cause);
		return;
	}
	ch->out += n;
	ch_data(ch);
	ch_respond_send(ch);
}

static void cmd_send(void *arg, struct cat *c, const struct cat_cmd *cmd,
		     const uint8_t *raw, size_t len)
{
	struct channel *ch = cmd_channel(bip_card_find(arg, c), cmd);
	const uint8_t *p;
	size_t n, waiting;
	int r;

	if (!ch) {
		ch_respond_error(c, BIP_ERR_BAD_CHANNEL_ID);
		return;
	}
	r = bip_send_decode(raw, len, &p, &n);
	if (r > 0) {
		cat_respond(c, (uint8_t)r, NULL, 0, NULL, 0);
		return;
	}
	if (ch->state == CH_LISTEN || ch->state == CH_DROPPED) {
		ch_respond_error(c, BIP_ERR_CLOSED);
		return;
	}
	if (evbuffer_get_length(ch->tx) + n > ch->bufsize) {
		ch_respond_error(c, BIP_ERR_BUFFER_SIZE);
		return;
	}
	evbuffer_add(ch->tx, p, n);
	/* clause 6.4.30: qualifier 00 stores in the Tx buffer */
	if (!(cmd->det.qualifier & 0x01)) {
		ch_respond_send(ch);
		return;
	}
	if (ch->state == CH_APP) {
		cmd_send_app(ch, c);
		return;
	}
	if (ch->state == CH_IDLE) {
		/* on demand: the link comes up now, the data follows it */
		r = client_connect(ch, CH_CONNECTING);
		if (r < 0) {
			ch_release_io(ch);
			ch_enter(ch, CH_DROPPED, "cannot reach the peer");
			ch_respond_error(c, BIP_ERR_UNREACHABLE);
			ch_send_channel_status(ch);
			return;
		}
		ch_respond_send(ch);
		return;
	}
	ch_flush(ch);
	ch_data(ch);
	waiting = ch->bev ?
		  evbuffer_get_length(bufferevent_get_output(ch->bev)) : 0;
	if (waiting > ch->bufsize && ch_may_hold(ch)) {
		/* a slow peer: hold the answer until it has taken the data */
		ch_enter(ch, CH_HELD, "the peer is slow");
		return;
	}
	if (waiting > BIP_UNTAKEN_MAX) {
		/*
		 * Not held (the card is wanted) and the peer still takes
		 * nothing: it is let go rather than buffered without end.
		 */
		char why[128];

		snprintf(why, sizeof(why), "%s left %zu bytes untaken: closed",
			 ch->peer, waiting);
		ch_drop(ch, why);
		ch_abort_io(ch);
		ch_respond_error(c, BIP_ERR_CLOSED);
		return;
	}
	ch_respond_send(ch);
}

static void cmd_status(void *arg, struct cat *c, const struct cat_cmd *cmd,
		       const uint8_t *raw, size_t len)
{
	struct bip_card *bc = bip_card_find(arg, c);
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

void cmd_register(struct bip *b)
{
	struct cat_engine *e = b->e;

	cat_engine_handle(e, CAT_OPEN_CHANNEL, cmd_open, b);
	cat_engine_handle(e, CAT_CLOSE_CHANNEL, cmd_close, b);
	cat_engine_handle(e, CAT_RECEIVE_DATA, cmd_receive, b);
	cat_engine_handle(e, CAT_SEND_DATA, cmd_send, b);
	cat_engine_handle(e, CAT_GET_CHANNEL_STATUS, cmd_status, b);
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
}
