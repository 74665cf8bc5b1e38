/* SPDX-License-Identifier: MIT */
/*
 * The card side of the Bearer Independent Protocol (see bip.h).
 *
 * Three parts:
 *   codec    proactive commands built with the TLV writer, TERMINAL
 *            RESPONSEs and event ENVELOPEs read with the bounded reader;
 *   channels the table of open channels (id 1..7 as the terminal gave
 *            them), updated from every BIP command and its response and
 *            from the events, with the SCWS on UICC-server-mode channels
 *            (behind TLS on those opened for --scws-tls);
 *   engine   one command of ours outstanding at a time: a FIFO of explicit
 *            commands (the SCWS set-up, scenario steps), then the channels'
 *            own work (send what the SCWS produced, close, receive).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bip.h"
#include "card/tlv.h"
#include "scws.h"
#include "tls.h"

#define BIP_CHANNELS		7
#define BIP_ID_SLOTS		16	/* device identities 20..2F */
#define BIP_RX_MAX		(1u << 20)
#define BIP_NUMBER_FIRST	0x80	/* the card's own command numbers */

/* Types of command, TS 102 223 clause 9.4. */
#define CMD_SET_UP_EVENT_LIST	0x05
#define CMD_OPEN_CHANNEL	0x40
#define CMD_CLOSE_CHANNEL	0x41
#define CMD_RECEIVE_DATA	0x42
#define CMD_SEND_DATA		0x43
#define CMD_GET_CHANNEL_STATUS	0x44

/* COMMAND-TLV tags, clause 9.3 (reader: without the CR bit). */
#define TAG_COMMAND_DETAILS	0x01
#define TAG_DEVICE_IDENTITIES	0x02
#define TAG_RESULT		0x03
#define TAG_EVENT_LIST		0x19
#define TAG_BEARER		0x35
#define TAG_CHANNEL_DATA	0x36
#define TAG_CHANNEL_DATA_LEN	0x37
#define TAG_CHANNEL_STATUS	0x38
#define TAG_BUFFER_SIZE		0x39
#define TAG_TRANSPORT		0x3C
#define TAG_OTHER_ADDRESS	0x3E
#define CR			0x80
#define BER_PROACTIVE		0xD0
#define BER_EVENT_DOWNLOAD	0xD6

#define DEV_UICC		0x81
#define DEV_TERMINAL		0x82
#define DEV_CHANNEL(id)		(uint8_t)(0x20 | (id))

/* Events, clause 7.5 / 8.25. */
#define EV_DATA_AVAILABLE	0x09
#define EV_CHANNEL_STATUS	0x0A

/* Transport protocol types, clause 8.59. */
#define TRANSPORT_UDP_REMOTE	0x01
#define TRANSPORT_TCP_REMOTE	0x02
#define TRANSPORT_TCP_SERVER	0x03
#define TRANSPORT_UDP_LOCAL	0x04
#define TRANSPORT_TCP_LOCAL	0x05

/* Channel status byte 1, clause 8.56. */
#define CS_ID(s)		((s) & 0x07)
#define CS_SERVER_STATE(s)	(((s) >> 6) & 0x03)	/* UICC server mode */
#define CS_LINK_UP(s)		(((s) & 0x80) != 0)	/* client modes */
#define CS_SERVER_CLOSED	0
#define CS_SERVER_LISTEN	1
#define CS_SERVER_ESTABLISHED	2
#define CS_INFO_LINK_DROPPED	0x05

/* CLOSE CHANNEL qualifier bit 1 in UICC server mode, clause 8.6. */
#define CLOSE_TO_CLOSED		0x00
#define CLOSE_TO_LISTEN		0x01
/* SEND DATA qualifier bit 1, clause 8.6. */
#define SEND_STORE		0x00
#define SEND_NOW		0x01

/* A growing byte queue: append at the end, take from the front. */
struct bytes {
	uint8_t *p;
	size_t off, len, cap;
};

enum chan_kind {
	CHAN_SERVER,		/* TCP, UICC in server mode: the SCWS */
	CHAN_CLIENT,		/* UICC in client mode, remote connection */
	CHAN_LOCAL,		/* UICC in client mode, local (terminal server mode) */
};

enum chan_state {
	CHAN_LISTEN,		/* server: waiting for a client */
	CHAN_ESTABLISHED,	/* server: a client; client: link up */
	CHAN_DOWN,		/* client: link not established or dropped */
	CHAN_CLOSED,		/* server: TCP in CLOSED state (client gone) */
};

struct channel {
	bool used;
	uint8_t id;
	enum chan_kind kind;
	enum chan_state state;
	uint16_t port;
	size_t buffer;		/* the terminal's buffer size for it */
	size_t tx_stored;	/* stored in the Tx buffer, not yet sent */
	unsigned tx_free;	/* last channel data length of SEND DATA; 255 = more */
	unsigned rx_avail;	/* bytes the terminal holds for us; 255 = more */
	struct bytes tx;	/* SCWS output waiting for SEND DATA */
	bool close_pending;	/* CLOSE CHANNEL once tx is empty */
	bool close_now;		/* CLOSE CHANNEL before anything else */
	bool closing;		/* our CLOSE CHANNEL is queued or unanswered */
	uint8_t close_qualifier;
	struct scws *http;	/* CHAN_SERVER */
	struct vtls *tls;	/* CHAN_SERVER opened for --scws-tls */
	struct bytes plain;	/* tls: SCWS output not yet encrypted */
	bool http_done;		/* tls: the SCWS is done with the connection */
	struct bip *bip;
};

enum item_kind {
	ITEM_COMMAND,		/* a built command */
	ITEM_SEND,		/* data for SEND DATA, chunked when issued */
};

struct item {
	struct item *next;
	enum item_kind kind;
	bool setup;		/* the card's own set-up: forgotten on reset */
	bool tls;		/* OPEN CHANNEL for --scws-tls */
	uint8_t cmd[VUICC_MAX_PROACTIVE];
	size_t cmd_len;
	uint8_t channel, number;
	bool now;
	uint8_t *data;
	size_t len, off;
};

/* The one command of ours in the card's queue or waiting for its response. */
struct inflight {
	bool active;
	bool fetched;
	uint8_t cmd[VUICC_MAX_PROACTIVE];
	size_t len;
	struct item *item;	/* NULL: channel work */
	size_t chunk;		/* ITEM_SEND: bytes of this chunk */
};

struct bip {
	struct vuicc *card;
	struct bip_config cfg;
	struct channel ch[BIP_CHANNELS];	/* index id - 1 */
	struct bytes rx[BIP_ID_SLOTS];		/* client data, by id */
	struct item *head, *tail;
	struct inflight fl;
	bool setup_done;
	bool auto_receive;
	unsigned rr;				/* round robin over channels */
	uint8_t next_number;
};

/* --- bytes ------------------------------------------------------------- */

static int
bytes_add(struct bytes *q, const uint8_t *p, size_t len)
{
	size_t need;
	uint8_t *grown;

	if (len == 0)
		return 0;
	if (q->off > 0 && q->off + q->len + len > q->cap) {
		memmove(q->p, q->p + q->off, q->len);
		q->off = 0;
	}
	need = q->off + q->len + len;
	if (need > q->cap) {
		size_t cap = q->cap ? q->cap : 512;

		while (cap < need)
			cap *= 2;
		grown = realloc(q->p, cap);
		if (grown == NULL)
			return -ENOMEM;
		q->p = grown;
		q->cap = cap;
	}
	memcpy(q->p + q->off + q->len, p, len);
	q->len += len;
	return 0;
}

static void
bytes_take(struct bytes *q, size_t n)
{
	q->off += n;
	q->len -= n;
	if (q->len == 0)
		q->off = 0;
}

static void
bytes_clear(struct bytes *q)
{
	q->off = 0;
	q->len = 0;
}

static void
bytes_free(struct bytes *q)
{
	free(q->p);
	memset(q, 0, sizeof(*q));
}

/* --- codec ------------------------------------------------------------- */

size_t
bip_build_command(uint8_t *out, uint8_t number, uint8_t type,
		  uint8_t qualifier, uint8_t dest, const uint8_t *body,
		  size_t body_len)
{
	const uint8_t details[] = { number, type, qualifier };
	const uint8_t dev[] = { DEV_UICC, dest };
	struct tlv_buf b;
	size_t mark;

	tlv_buf_init(&b, out, VUICC_MAX_PROACTIVE);
	mark = tlv_begin(&b, BER_PROACTIVE);
	tlv_put_ctlv(&b, CR | TAG_COMMAND_DETAILS, details, sizeof(details));
	tlv_put_ctlv(&b, CR | TAG_DEVICE_IDENTITIES, dev, sizeof(dev));
	tlv_put_raw(&b, body, body_len);
	tlv_end(&b, mark);
	return tlv_buf_ok(&b) ? b.len : 0;
}

/* The COMPREHENSION-TLV contents of a BER-TLV template of the given tag. */
static bool
ber_contents(const uint8_t *p, size_t len, uint8_t tag, const uint8_t **val,
	     size_t *val_len)
{
	struct tlv_iter it;
	struct tlv t;

	tlv_iter_init(&it, p, len);
	if (tlv_ber_next(&it, &t) != 1 || t.tag != tag)
		return false;
	*val = t.val;
	*val_len = t.len;
	return true;
}

/* The value of C-TLV tag when it is exactly n bytes long (n 0: any length). */
static const uint8_t *
find(const uint8_t *p, size_t len, unsigned tag, size_t n, size_t *got)
{
	struct tlv t;

	if (tlv_ctlv_find(p, len, tag, &t) != 1 || (n && t.len != n))
		return NULL;
	if (got)
		*got = t.len;
	return t.val;
}

/* What a BIP command says about itself. */
struct cmd_info {
	uint8_t number, type, qualifier;
	uint8_t dest;			/* device identity of the destination */
	const uint8_t *body;		/* the C-TLVs */
	size_t body_len;
};

static bool
cmd_parse(const uint8_t *p, size_t len, struct cmd_info *ci)
{
	const uint8_t *d, *dev;

	memset(ci, 0, sizeof(*ci));
	if (!ber_contents(p, len, BER_PROACTIVE, &ci->body, &ci->body_len))
		return false;
	d = find(ci->body, ci->body_len, TAG_COMMAND_DETAILS, 3, NULL);
	dev = find(ci->body, ci->body_len, TAG_DEVICE_IDENTITIES, 2, NULL);
	if (d == NULL || dev == NULL)
		return false;
	ci->number = d[0];
	ci->type = d[1];
	ci->qualifier = d[2];
	ci->dest = dev[1];
	return true;
}

/* The result of a TERMINAL RESPONSE, clause 8.12: "performed" is 0X. */
struct tr_info {
	bool has_result;
	uint8_t general, additional;
	const uint8_t *data;		/* channel data */
	size_t data_len;
	const uint8_t *status;		/* channel status (the first) */
	int data_left;			/* channel data length; -1 absent */
	int buffer;			/* buffer size; -1 absent */
};

static void
tr_parse(const uint8_t *p, size_t len, struct tr_info *ti)
{
	const uint8_t *v;
	size_t n;

	memset(ti, 0, sizeof(*ti));
	ti->data_left = -1;
	ti->buffer = -1;
	v = find(p, len, TAG_RESULT, 0, &n);
	if (v && n >= 1) {
		ti->has_result = true;
		ti->general = v[0];
		ti->additional = n >= 2 ? v[1] : 0;
	}
	ti->data = find(p, len, TAG_CHANNEL_DATA, 0, &ti->data_len);
	ti->status = find(p, len, TAG_CHANNEL_STATUS, 2, NULL);
	v = find(p, len, TAG_CHANNEL_DATA_LEN, 1, NULL);
	if (v)
		ti->data_left = v[0];
	v = find(p, len, TAG_BUFFER_SIZE, 2, NULL);
	if (v)
		ti->buffer = v[0] << 8 | v[1];
}

static bool
tr_ok(const struct tr_info *ti)
{
	return ti->has_result && ti->general < 0x10;
}

/* "3A 07" or "00" for messages. */
static const char *
tr_result(const struct tr_info *ti, char *buf, size_t cap)
{
	if (!ti->has_result)
		snprintf(buf, cap, "none");
	else if (ti->general >= 0x20)
		snprintf(buf, cap, "%02X %02X", ti->general, ti->additional);
	else
		snprintf(buf, cap, "%02X", ti->general);
	return buf;
}

/* --- channels ---------------------------------------------------------- */

static const char *
kind_name(enum chan_kind k)
{
	switch (k) {
	case CHAN_SERVER:
		return "UICC server mode";
	case CHAN_CLIENT:
		return "client";
	case CHAN_LOCAL:
		return "local client";
	}
	return "?";
}

static const char *
chan_state_name(enum chan_state st)
{
	switch (st) {
	case CHAN_LISTEN:
		return "LISTEN";
	case CHAN_ESTABLISHED:
		return "ESTABLISHED";
	case CHAN_DOWN:
		return "DOWN";
	case CHAN_CLOSED:
		return "CLOSED";
	}
	return "?";
}

static void
chan_enter(struct channel *ch, enum chan_state st, const char *why)
{
	if (ch->state != st)
		vuicc_verbose("channel %u: %s -> %s (%s)", ch->id,
			      chan_state_name(ch->state), chan_state_name(st),
			      why);
	ch->state = st;
}

static struct channel *
chan_get(struct bip *b, unsigned id)
{
	if (id < 1 || id > BIP_CHANNELS || !b->ch[id - 1].used)
		return NULL;
	return &b->ch[id - 1];
}

static unsigned
dest_id(uint8_t dest)
{
	return (dest & 0xF0) == 0x20 ? dest & 0x0F : 0;
}

/*
 * The SCWS's output: queued for SEND DATA, or under TLS gathered until the
 * input that made it has been handled, so that one response makes a few
 * large records rather than one per header line.
 */
static void
chan_http_out(void *ctx, const uint8_t *p, size_t len)
{
	struct channel *ch = ctx;

	if (bytes_add(ch->tls ? &ch->plain : &ch->tx, p, len) < 0)
		vuicc_warn("channel %u: out of memory, response bytes lost",
			   ch->id);
}

/* TLS records for the client: queued for SEND DATA like plain output. */
static void
chan_tls_out(void *ctx, const uint8_t *p, size_t len)
{
	struct channel *ch = ctx;

	if (bytes_add(&ch->tx, p, len) < 0)
		vuicc_warn("channel %u: out of memory, TLS bytes lost", ch->id);
}

/* Decrypted bytes from the client: to the SCWS. */
static void
chan_tls_plain(void *ctx, const uint8_t *p, size_t len)
{
	struct channel *ch = ctx;

	if (ch->http && scws_input(ch->http, p, len))
		ch->http_done = true;
}

/* A new client, or the old one gone: no HTTP state, nothing to send. */
static void
chan_reset_http(struct channel *ch)
{
	if (ch->http)
		scws_reset(ch->http);
	if (ch->tls) {
		vtls_reset(ch->tls);
		bytes_clear(&ch->plain);
		ch->http_done = false;
	}
	bytes_clear(&ch->tx);
	ch->tx_stored = 0;
	ch->tx_free = 255;
	ch->close_pending = false;
}

static void
chan_remove(struct bip *b, struct channel *ch)
{
	vuicc_verbose("channel %u: closed", ch->id);
	scws_free(ch->http);
	vtls_free(ch->tls);
	bytes_free(&ch->tx);
	bytes_free(&ch->plain);
	memset(ch, 0, sizeof(*ch));
}

static void
chan_open(struct bip *b, uint8_t status, enum chan_kind kind, uint16_t port,
	  size_t buffer, bool tls)
{
	unsigned id = CS_ID(status);
	struct channel *ch = &b->ch[id - 1];

	if (ch->used) {
		vuicc_warn("channel %u opened again while open: the old one is "
			   "forgotten", id);
		chan_remove(b, ch);
	}
	memset(ch, 0, sizeof(*ch));
	ch->used = true;
	ch->bip = b;
	ch->id = (uint8_t)id;
	ch->kind = kind;
	ch->port = port;
	ch->buffer = buffer;
	ch->tx_free = 255;
	if (kind == CHAN_SERVER) {
		ch->http = scws_new(b->cfg.www, chan_http_out, ch);
		if (ch->http == NULL)
			vuicc_warn("channel %u: out of memory, no web server", id);
		if (tls && (ch->tls = vtls_new(b->cfg.psk_identity, b->cfg.psk,
					       b->cfg.psk_len, chan_tls_out,
					       chan_tls_plain, ch)) == NULL) {
			/* Never plain HTTP on a port meant for TLS. */
			vuicc_warn("channel %u: no TLS, no web server", id);
			scws_free(ch->http);
			ch->http = NULL;
		}
		ch->state = CS_SERVER_STATE(status) == CS_SERVER_ESTABLISHED ?
			    CHAN_ESTABLISHED : CHAN_LISTEN;
	} else {
		ch->state = CS_LINK_UP(status) ? CHAN_ESTABLISHED : CHAN_DOWN;
	}
	bytes_clear(&b->rx[id]);
	vuicc_verbose("channel %u: open, %s, port %u, buffer %zu, %s%s", id,
		      kind_name(kind), port, buffer, chan_state_name(ch->state),
		      ch->tls ? ", TLS-PSK" : "");
}

/* After what is queued has been sent, CLOSE CHANNEL back to LISTEN. */
static void
chan_close_after(struct channel *ch)
{
	if (ch->close_pending)
		return;
	ch->close_pending = true;
	ch->close_qualifier = CLOSE_TO_LISTEN;
}

/*
 * The SCWS output gathered under TLS, encrypted.  A fatal TLS error leaves
 * what TLS produced (the alert) to be sent, then the channel listens again.
 */
static void
chan_tls_flush(struct channel *ch)
{
	int r = 0;

	if (ch->plain.len > 0)
		r = vtls_write(ch->tls, ch->plain.p + ch->plain.off,
			       ch->plain.len);
	bytes_clear(&ch->plain);
	if (r < 0) {
		vuicc_verbose("channel %u: %s", ch->id, vtls_error(ch->tls));
		chan_close_after(ch);
	}
}

/*
 * Ciphertext from the client.  The channel is closed (back to LISTEN) after
 * what is queued when TLS fails (its alert is queued), when the client has
 * sent close_notify (ours is queued), or when the HTTP server is done with
 * the connection (the response, then our close_notify).
 */
static void
chan_tls_input(struct channel *ch, const uint8_t *p, size_t len)
{
	int r;

	if (ch->close_pending)
		return;
	r = vtls_input(ch->tls, p, len);
	if (r < 0) {
		vuicc_verbose("channel %u: %s", ch->id, vtls_error(ch->tls));
		bytes_clear(&ch->plain);
		chan_close_after(ch);
		return;
	}
	chan_tls_flush(ch);
	if (r > 0) {
		vuicc_verbose("channel %u: TLS closed by the client", ch->id);
		chan_close_after(ch);
	} else if (ch->http_done && !ch->close_pending) {
		vtls_shutdown(ch->tls);
		chan_close_after(ch);
	}
}

/* Bytes from RECEIVE DATA: to the SCWS, or kept for 'expect data'. */
static void
chan_deliver(struct bip *b, unsigned id, const uint8_t *p, size_t len)
{
	struct channel *ch = chan_get(b, id);
	struct bytes *rx;

	if (len == 0)
		return;
	if (ch && ch->kind == CHAN_SERVER && ch->tls) {
		chan_tls_input(ch, p, len);
		return;
	}
	if (ch && ch->kind == CHAN_SERVER) {
		if (ch->http && scws_input(ch->http, p, len) &&
		    !ch->close_pending) {
			ch->close_pending = true;
			ch->close_qualifier = CLOSE_TO_LISTEN;
		}
		return;
	}
	rx = &b->rx[id & 0x0F];
	if (rx->len + len > BIP_RX_MAX) {
		/* Bounded: len is at most 237 here (one RECEIVE DATA). */
		vuicc_warn("channel %u: more than %u bytes received and not "
			   "expected: the oldest are dropped", id, BIP_RX_MAX);
		bytes_take(rx, rx->len + len - BIP_RX_MAX);
	}
	if (bytes_add(rx, p, len) < 0)
		vuicc_warn("channel %u: out of memory, received bytes lost", id);
}

/* --- what a command and its TERMINAL RESPONSE tell ----------------------- */

static void
seen_open(struct bip *b, const struct cmd_info *ci, const struct tr_info *ti,
	  bool tls)
{
	const uint8_t *tl, *bs;
	enum chan_kind kind = CHAN_CLIENT;
	uint16_t port = 0;
	size_t buffer = BIP_BUFFER_DEFAULT;
	char res[16];

	if (!tr_ok(ti) || ti->status == NULL || CS_ID(ti->status[0]) == 0) {
		vuicc_verbose("OPEN CHANNEL (number %02X) not performed: "
			      "result %s", ci->number,
			      tr_result(ti, res, sizeof(res)));
		return;
	}
	tl = find(ci->body, ci->body_len, TAG_TRANSPORT, 3, NULL);
	if (tl) {
		port = (uint16_t)(tl[1] << 8 | tl[2]);
		if (tl[0] == TRANSPORT_TCP_SERVER)
			kind = CHAN_SERVER;
		else if (tl[0] == TRANSPORT_TCP_LOCAL ||
			 tl[0] == TRANSPORT_UDP_LOCAL)
			kind = CHAN_LOCAL;
	}
	bs = find(ci->body, ci->body_len, TAG_BUFFER_SIZE, 2, NULL);
	if (bs)
		buffer = (size_t)(bs[0] << 8 | bs[1]);
	if (ti->buffer >= 0)
		buffer = (size_t)ti->buffer;	/* result 07: modified */
	chan_open(b, ti->status[0], kind, port, buffer,
		  tls && kind == CHAN_SERVER);
}

static void
seen_close(struct bip *b, const struct cmd_info *ci, const struct tr_info *ti)
{
	unsigned id = dest_id(ci->dest);
	struct channel *ch = chan_get(b, id);
	char res[16];

	if (ch == NULL)
		return;
	ch->closing = false;
	if (!tr_ok(ti)) {
		vuicc_verbose("channel %u: CLOSE CHANNEL not performed: %s", id,
			      tr_result(ti, res, sizeof(res)));
		if (ti->has_result && ti->general == 0x3A &&
		    (ti->additional == 0x02 || ti->additional == 0x03))
			chan_remove(b, ch);	/* closed, or never was */
		return;
	}
	if (ch->kind == CHAN_SERVER && (ci->qualifier & 0x01) == CLOSE_TO_LISTEN) {
		chan_reset_http(ch);
		ch->close_now = false;
		chan_enter(ch, CHAN_LISTEN, "CLOSE CHANNEL, back to listen");
		return;
	}
	chan_remove(b, ch);
}

static void
seen_receive(struct bip *b, const struct cmd_info *ci, const struct tr_info *ti)
{
	unsigned id = dest_id(ci->dest);
	struct channel *ch = chan_get(b, id);
	char res[16];

	if (!tr_ok(ti)) {
		vuicc_verbose("channel %u: RECEIVE DATA not performed: %s", id,
			      tr_result(ti, res, sizeof(res)));
		if (ch) {
			ch->rx_avail = 0;
			if (ch->kind == CHAN_SERVER)
				chan_reset_http(ch);
		}
		return;
	}
	vuicc_verbose("channel %u: %zu bytes received, %d left", id,
		      ti->data_len, ti->data_left);
	if (ch)
		ch->rx_avail = ti->data_left > 0 ? (unsigned)ti->data_left : 0;
	if (ti->data)
		chan_deliver(b, id, ti->data, ti->data_len);
}

static void
seen_send(struct bip *b, const struct cmd_info *ci, const struct tr_info *ti)
{
	unsigned id = dest_id(ci->dest);
	struct channel *ch = chan_get(b, id);
	size_t sent = 0;
	char res[16];

	if (ch == NULL)
		return;
	if (!tr_ok(ti)) {
		vuicc_warn("channel %u: SEND DATA not performed: %s", id,
			   tr_result(ti, res, sizeof(res)));
		if (ch->kind == CHAN_SERVER)
			chan_reset_http(ch);
		ch->tx_stored = 0;
		return;
	}
	find(ci->body, ci->body_len, TAG_CHANNEL_DATA, 0, &sent);
	if (ci->qualifier & SEND_NOW)
		ch->tx_stored = 0;
	else
		ch->tx_stored += sent;
	ch->tx_free = ti->data_left >= 0 ? (unsigned)ti->data_left : 255;
	if (ch->kind != CHAN_SERVER && ch->state == CHAN_DOWN &&
	    (ci->qualifier & SEND_NOW))
		chan_enter(ch, CHAN_ESTABLISHED, "on-demand link set up");
}

static void
seen_status(const uint8_t *tr, size_t tr_len)
{
	struct tlv_iter it;
	struct tlv t;

	tlv_iter_init(&it, tr, tr_len);
	while (tlv_ctlv_next(&it, &t) == 1)
		if (t.tag == TAG_CHANNEL_STATUS && t.len == 2)
			vuicc_verbose("channel status %02X %02X", t.val[0],
				      t.val[1]);
}

/*
 * Every fetched BIP command and its response update the table; tls: the
 * command was our OPEN CHANNEL for --scws-tls.
 */
static void
observe(struct bip *b, const struct cmd_info *ci, const uint8_t *tr,
	size_t tr_len, bool tls)
{
	struct tr_info ti;
	char res[16];

	tr_parse(tr, tr_len, &ti);
	switch (ci->type) {
	case CMD_OPEN_CHANNEL:
		seen_open(b, ci, &ti, tls);
		break;
	case CMD_CLOSE_CHANNEL:
		seen_close(b, ci, &ti);
		break;
	case CMD_RECEIVE_DATA:
		seen_receive(b, ci, &ti);
		break;
	case CMD_SEND_DATA:
		seen_send(b, ci, &ti);
		break;
	case CMD_GET_CHANNEL_STATUS:
		seen_status(tr, tr_len);
		break;
	case CMD_SET_UP_EVENT_LIST:
		if (!tr_ok(&ti))
			vuicc_verbose("SET UP EVENT LIST not performed: %s",
				      tr_result(&ti, res, sizeof(res)));
		break;
	default:
		break;
	}
}

/* --- engine ------------------------------------------------------------ */

static uint8_t
own_number(struct bip *b)
{
	uint8_t n = b->next_number;

	b->next_number = n >= 0xFE ? BIP_NUMBER_FIRST : n + 1;
	return n;
}

static void
item_unlink(struct bip *b, struct item *it)
{
	struct item **pp;

	for (pp = &b->head; *pp; pp = &(*pp)->next) {
		if (*pp != it)
			continue;
		*pp = it->next;
		if (b->tail == it) {
			b->tail = NULL;
			for (struct item *i = b->head; i; i = i->next)
				b->tail = i;
		}
		break;
	}
	free(it->data);
	free(it);
}

static void
item_append(struct bip *b, struct item *it)
{
	it->next = NULL;
	if (b->tail)
		b->tail->next = it;
	else
		b->head = it;
	b->tail = it;
}

static bool
issue(struct bip *b, const uint8_t *cmd, size_t len, struct item *it,
      size_t chunk)
{
	if (len == 0) {
		vuicc_warn("BIP command does not fit in 255 bytes: dropped");
		return false;
	}
	if (vuicc_queue_proactive(b->card, cmd, len) < 0) {
		vuicc_warn("proactive command queue full: BIP command dropped");
		return false;
	}
	memcpy(b->fl.cmd, cmd, len);
	b->fl.len = len;
	b->fl.active = true;
	b->fl.fetched = false;
	b->fl.item = it;
	b->fl.chunk = chunk;
	return true;
}

/*
 * Room in the terminal's Tx buffer: what we stored since the last "send
 * immediately" counts against the buffer size, and a channel data length
 * below 255 from the last SEND DATA is taken at its word (clause 8.54).
 */
static size_t
tx_room(const struct channel *ch)
{
	size_t room = ch->buffer > ch->tx_stored ? ch->buffer - ch->tx_stored : 0;

	if (ch->tx_free < 255 && ch->tx_free < room)
		room = ch->tx_free;
	return room;
}

/*
 * The next chunk of a burst of rest bytes: at most 237, no more than the
 * room left; "store" unless it is the last one or the next would not fit.
 */
static size_t
chunk_plan(const struct channel *ch, size_t rest, bool last_now,
	   uint8_t *qualifier)
{
	size_t n = rest < BIP_CHUNK_MAX ? rest : BIP_CHUNK_MAX;
	size_t room, next;

	if (ch == NULL) {
		*qualifier = n == rest ? (last_now ? SEND_NOW : SEND_STORE) :
			     SEND_STORE;
		return n;
	}
	room = tx_room(ch);
	if (room > 0 && room < n)
		n = room;
	next = rest - n < BIP_CHUNK_MAX ? rest - n : BIP_CHUNK_MAX;
	if (n == rest)
		*qualifier = last_now ? SEND_NOW : SEND_STORE;
	else
		*qualifier = room < n + next ? SEND_NOW : SEND_STORE;
	return n;
}

/* SEND DATA: 81 03 nn 43 QQ, 82 02 81 2X, B6 LL data (clause 6.6.30). */
static size_t
build_send(uint8_t *out, uint8_t number, uint8_t qualifier, uint8_t channel,
	   const uint8_t *data, size_t len)
{
	uint8_t body[3 + BIP_CHUNK_MAX];
	struct tlv_buf b;

	tlv_buf_init(&b, body, sizeof(body));
	tlv_put_ctlv(&b, CR | TAG_CHANNEL_DATA, data, len);
	return bip_build_command(out, number, CMD_SEND_DATA, qualifier,
				 DEV_CHANNEL(channel), body, b.len);
}

static bool
issue_item(struct bip *b, struct item *it)
{
	uint8_t cmd[VUICC_MAX_PROACTIVE];
	uint8_t q;
	size_t n, len;

	if (it->kind == ITEM_COMMAND) {
		if (issue(b, it->cmd, it->cmd_len, it, 0))
			return true;
		item_unlink(b, it);
		return false;
	}
	n = chunk_plan(chan_get(b, it->channel), it->len - it->off, it->now, &q);
	len = build_send(cmd, it->number, q, it->channel, it->data + it->off, n);
	it->number = it->number >= 0xFE ? 1 : it->number + 1;
	if (issue(b, cmd, len, it, n))
		return true;
	item_unlink(b, it);
	return false;
}

/*
 * One channel's own work, if it has any: close at once, send, close after,
 * receive.  A channel the terminal said has no Tx room (channel data length
 * 00 in the last SEND DATA answer, clause 8.54) is not sent on unless
 * full_too: the terminal may say so to put another channel first.
 */
static size_t
channel_work(struct bip *b, struct channel *ch, uint8_t *cmd, bool full_too)
{
	uint8_t body[3], q;
	size_t n, len;

	if (ch->tls && ch->plain.len > 0)
		chan_tls_flush(ch);
	if (ch->close_now || (ch->close_pending && ch->tx.len == 0)) {
		/* CLOSE CHANNEL: 81 03 nn 41 QQ, 82 02 81 2X (6.6.28). */
		len = bip_build_command(cmd, own_number(b), CMD_CLOSE_CHANNEL,
					ch->close_qualifier,
					DEV_CHANNEL(ch->id), NULL, 0);
		ch->close_now = false;
		ch->close_pending = false;
		ch->closing = true;
		ch->rx_avail = 0;
		bytes_clear(&ch->tx);
		return len;
	}
	if (ch->tx.len > 0 && (full_too || ch->tx_free > 0)) {
		n = chunk_plan(ch, ch->tx.len, true, &q);
		len = build_send(cmd, own_number(b), q, ch->id,
				 ch->tx.p + ch->tx.off, n);
		bytes_take(&ch->tx, n);
		return len;
	}
	if (ch->rx_avail > 0 && !ch->close_pending &&
	    (ch->kind == CHAN_SERVER || b->auto_receive)) {
		/* RECEIVE DATA: 81 03 nn 42 00, 82 02 81 2X, B7 01 L. */
		body[0] = CR | TAG_CHANNEL_DATA_LEN;
		body[1] = 1;
		body[2] = (uint8_t)(ch->rx_avail < BIP_CHUNK_MAX ?
				    ch->rx_avail : BIP_CHUNK_MAX);
		len = bip_build_command(cmd, own_number(b), CMD_RECEIVE_DATA,
					0x00, DEV_CHANNEL(ch->id), body, 3);
		ch->rx_avail = 0;	/* the response tells what is left */
		return len;
	}
	return 0;
}

/*
 * The channels' own work, round robin; a channel told it has no Tx room
 * only when no other channel has anything to do (and then it learns the
 * room again from the answer) - unless --ignore-room: every channel in
 * turn, as a card that does not heed the figure.
 */
static bool
issue_channel(struct bip *b)
{
	uint8_t cmd[VUICC_MAX_PROACTIVE];
	struct channel *ch;
	size_t len;
	unsigned k;

	for (k = 0; k < 2 * BIP_CHANNELS; k++) {
		ch = &b->ch[(b->rr + k) % BIP_CHANNELS];
		if (!ch->used)
			continue;
		len = channel_work(b, ch, cmd,
				   k >= BIP_CHANNELS || b->cfg.ignore_room);
		if (!len)
			continue;
		b->rr = (unsigned)(ch - b->ch + 1) % BIP_CHANNELS;
		if (issue(b, cmd, len, NULL, 0))
			return true;
	}
	return false;
}

static void
pump(struct bip *b)
{
	while (!b->fl.active) {
		if (b->head) {
			if (issue_item(b, b->head))
				return;
			continue;
		}
		issue_channel(b);
		return;
	}
}

/* Our command was answered (ok: performed): move on. */
static void
complete(struct bip *b, bool ok)
{
	struct item *it = b->fl.item;
	size_t chunk = b->fl.chunk;

	memset(&b->fl, 0, sizeof(b->fl));
	if (it == NULL)
		return;
	if (it->kind == ITEM_SEND && ok) {
		it->off += chunk;
		if (it->off < it->len)
			return;
	} else if (it->kind == ITEM_SEND) {
		vuicc_warn("channel %u: SEND DATA failed, %zu of %zu bytes sent",
			   it->channel, it->off, it->len);
	}
	item_unlink(b, it);
}

/* --- card hooks -------------------------------------------------------- */

struct bip *
bip_new(struct vuicc *card, const struct bip_config *cfg)
{
	struct bip *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->card = card;
	b->cfg = *cfg;
	b->auto_receive = true;
	b->next_number = BIP_NUMBER_FIRST;
	return b;
}

void
bip_free(struct bip *b)
{
	unsigned i;

	if (b == NULL)
		return;
	for (i = 0; i < BIP_CHANNELS; i++)
		if (b->ch[i].used)
			chan_remove(b, &b->ch[i]);
	for (i = 0; i < BIP_ID_SLOTS; i++)
		bytes_free(&b->rx[i]);
	while (b->head)
		item_unlink(b, b->head);
	free(b);
}

void
bip_on_reset(struct bip *b)
{
	struct item *it, *next;
	unsigned i;

	if (b->fl.active) {
		it = b->fl.item;
		if (b->fl.fetched) {
			/* Its response will never come. */
			if (it)
				item_unlink(b, it);
			memset(&b->fl, 0, sizeof(b->fl));
		} else if (it == NULL || it->setup) {
			/* Still queued: the channel it was for is gone. */
			vuicc_cancel_proactive(b->card, b->fl.cmd, b->fl.len);
			memset(&b->fl, 0, sizeof(b->fl));
		}
		/* A scenario command still queued stays queued, like others. */
	}
	for (it = b->head; it; it = next) {
		next = it->next;
		if (it->setup && it != b->fl.item)
			item_unlink(b, it);
	}
	for (i = 0; i < BIP_CHANNELS; i++)
		if (b->ch[i].used)
			chan_remove(b, &b->ch[i]);
	for (i = 0; i < BIP_ID_SLOTS; i++)
		bytes_clear(&b->rx[i]);
	b->setup_done = false;
}

static struct item *
item_command(struct bip *b, bool setup)
{
	struct item *it = calloc(1, sizeof(*it));

	if (it == NULL) {
		vuicc_warn("out of memory: BIP command dropped");
		return NULL;
	}
	it->kind = ITEM_COMMAND;
	it->setup = setup;
	return it;
}

/* Terminal profile byte.bit (clause 5.2), bit 1 the least significant. */
static bool
profile_has(const uint8_t *p, size_t len, unsigned byte, unsigned bit)
{
	return byte <= len && (p[byte - 1] >> (bit - 1) & 1);
}

/*
 * The SCWS set-up, as a card applet does it once the terminal has told its
 * profile: SET UP EVENT LIST (data available, channel status), then one
 * OPEN CHANNEL in UICC server mode per --scws (clauses 6.4.16, 6.4.27).
 */
void
bip_on_profile(struct bip *b, const uint8_t *profile, size_t len)
{
	static const uint8_t events[] = {
		CR | TAG_EVENT_LIST, 2, EV_DATA_AVAILABLE, EV_CHANNEL_STATUS,
	};
	uint8_t body[9];
	struct item *it;
	size_t i;

	if (b->setup_done || b->cfg.n_scws == 0)
		return;
	b->setup_done = true;
	if (!profile_has(profile, len, 12, 1) || !profile_has(profile, len, 17, 3) ||
	    !profile_has(profile, len, 6, 3) || !profile_has(profile, len, 6, 4))
		vuicc_verbose("the terminal profile lacks OPEN CHANNEL (12.1), "
			      "UICC server mode (17.3) or the data available / "
			      "channel status events (6.3, 6.4): opening anyway");
	if ((it = item_command(b, true)) == NULL)
		return;
	it->cmd_len = bip_build_command(it->cmd, own_number(b),
					CMD_SET_UP_EVENT_LIST, 0x00,
					DEV_TERMINAL, events, sizeof(events));
	item_append(b, it);
	for (i = 0; i < b->cfg.n_scws; i++) {
		/*
		 * OPEN CHANNEL related to UICC Server Mode: buffer size and
		 * the transport level, TCP in server mode with the port; no
		 * bearer, no address; the qualifier is RFU there (8.6).
		 */
		body[0] = TAG_BUFFER_SIZE;
		body[1] = 2;
		body[2] = (uint8_t)(b->cfg.buffer >> 8);
		body[3] = (uint8_t)(b->cfg.buffer & 0xFF);
		body[4] = TAG_TRANSPORT;
		body[5] = 3;
		body[6] = TRANSPORT_TCP_SERVER;
		body[7] = (uint8_t)(b->cfg.scws_port[i] >> 8);
		body[8] = (uint8_t)(b->cfg.scws_port[i] & 0xFF);
		if ((it = item_command(b, true)) == NULL)
			return;
		it->cmd_len = bip_build_command(it->cmd, own_number(b),
						CMD_OPEN_CHANNEL, 0x00,
						DEV_TERMINAL, body,
						sizeof(body));
		it->tls = b->cfg.scws_tls[i];
		item_append(b, it);
	}
	vuicc_verbose("SCWS: event list and %zu server channel(s) queued",
		      b->cfg.n_scws);
	pump(b);
}

void
bip_on_fetch(struct bip *b, const uint8_t *cmd, size_t len)
{
	if (!b->fl.active)
		return;
	if (!b->fl.fetched && len == b->fl.len &&
	    memcmp(cmd, b->fl.cmd, len) == 0) {
		b->fl.fetched = true;
		return;
	}
	if (b->fl.fetched) {
		/* Fetched again before its response: ours is given up. */
		vuicc_verbose("BIP command fetched over without a response");
		memset(&b->fl, 0, sizeof(b->fl));
	}
}

void
bip_on_tr(struct bip *b, const uint8_t *cmd, size_t cmd_len,
	  const uint8_t *tr, size_t tr_len)
{
	struct cmd_info ci;
	struct tr_info ti;
	bool ours;

	if (cmd == NULL || !cmd_parse(cmd, cmd_len, &ci))
		return;
	ours = b->fl.active && b->fl.fetched && cmd_len == b->fl.len &&
	       memcmp(cmd, b->fl.cmd, cmd_len) == 0;
	observe(b, &ci, tr, tr_len, ours && b->fl.item && b->fl.item->tls);
	if (ours) {
		tr_parse(tr, tr_len, &ti);
		complete(b, tr_ok(&ti));
	}
	pump(b);
}

/*
 * Event download, clauses 7.5.10 and 7.5.11: D6 { event list 99 01 09|0A,
 * device identities 82 02 82 81, channel status B8 02 s1 s2 [, channel data
 * length B7 01 n] }.
 */
void
bip_on_envelope(struct bip *b, const uint8_t *p, size_t len)
{
	const uint8_t *body, *ev, *st, *dl;
	struct channel *ch;
	size_t body_len;
	unsigned id;

	if (!ber_contents(p, len, BER_EVENT_DOWNLOAD, &body, &body_len))
		return;
	ev = find(body, body_len, TAG_EVENT_LIST, 1, NULL);
	st = find(body, body_len, TAG_CHANNEL_STATUS, 2, NULL);
	if (ev == NULL || st == NULL ||
	    (ev[0] != EV_DATA_AVAILABLE && ev[0] != EV_CHANNEL_STATUS))
		return;
	id = CS_ID(st[0]);
	ch = chan_get(b, id);
	if (ch == NULL) {
		vuicc_verbose("event %02X on unknown channel %u ignored", ev[0],
			      id);
		return;
	}
	if (ev[0] == EV_DATA_AVAILABLE) {
		dl = find(body, body_len, TAG_CHANNEL_DATA_LEN, 1, NULL);
		ch->rx_avail = dl ? dl[0] : 255;
		vuicc_verbose("channel %u: data available (%u%s bytes)", id,
			      ch->rx_avail, ch->rx_avail == 255 ? " or more" : "");
	} else if (ch->kind == CHAN_SERVER) {
		switch (CS_SERVER_STATE(st[0])) {
		case CS_SERVER_ESTABLISHED:
			chan_reset_http(ch);
			chan_enter(ch, CHAN_ESTABLISHED, "a client connected");
			break;
		case CS_SERVER_LISTEN:
			chan_reset_http(ch);
			chan_enter(ch, CHAN_LISTEN, "back to listen");
			break;
		case CS_SERVER_CLOSED:
			/*
			 * The client is gone: back to LISTEN (clause 6.4.28),
			 * unless our own CLOSE CHANNEL is on its way already.
			 */
			chan_reset_http(ch);
			ch->rx_avail = 0;
			ch->close_now = !ch->closing;
			ch->close_qualifier = CLOSE_TO_LISTEN;
			chan_enter(ch, CHAN_CLOSED, st[1] == CS_INFO_LINK_DROPPED ?
				   "link dropped" : "closed");
			break;
		default:
			vuicc_verbose("channel %u: reserved status %02X", id,
				      st[0]);
			break;
		}
	} else if (CS_LINK_UP(st[0])) {
		chan_enter(ch, CHAN_ESTABLISHED, "link up");
	} else {
		chan_enter(ch, CHAN_DOWN, st[1] == CS_INFO_LINK_DROPPED ?
			   "link dropped" : "link down");
	}
	pump(b);
}

/* --- scenario ---------------------------------------------------------- */

int
bip_submit(struct bip *b, const uint8_t *cmd, size_t len)
{
	struct item *it;

	if (len == 0 || len > VUICC_MAX_PROACTIVE)
		return -EINVAL;
	if ((it = item_command(b, false)) == NULL)
		return -ENOMEM;
	memcpy(it->cmd, cmd, len);
	it->cmd_len = len;
	item_append(b, it);
	pump(b);
	return 0;
}

int
bip_submit_send(struct bip *b, uint8_t channel, uint8_t number,
		const uint8_t *data, size_t len, bool now)
{
	struct item *it;

	if (len == 0)
		return -EINVAL;
	it = calloc(1, sizeof(*it));
	if (it == NULL || (it->data = malloc(len)) == NULL) {
		free(it);
		return -ENOMEM;
	}
	it->kind = ITEM_SEND;
	it->channel = channel;
	it->number = number;
	it->now = now;
	memcpy(it->data, data, len);
	it->len = len;
	item_append(b, it);
	pump(b);
	return 0;
}

void
bip_set_auto_receive(struct bip *b, bool on)
{
	b->auto_receive = on;
	vuicc_verbose("automatic RECEIVE DATA %s", on ? "on" : "off");
	pump(b);
}

void
bip_received(const struct bip *b, unsigned channel, const uint8_t **p,
	     size_t *len)
{
	const struct bytes *rx = &b->rx[channel & 0x0F];

	*p = rx->p ? rx->p + rx->off : NULL;
	*len = rx->len;
}

void
bip_consume(struct bip *b, unsigned channel)
{
	bytes_clear(&b->rx[channel & 0x0F]);
}
