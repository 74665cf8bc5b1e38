/* SPDX-License-Identifier: MIT */
/*
 * dmsc-vuicc: a virtual UICC behind pcscd's vpcd reader driver.
 *
 * Three layers in this file, bottom up:
 *   link  the vpcd wire protocol: we connect to vpcd (it listens), every
 *         message both ways is a 2-byte big-endian length and a payload; a
 *         1-byte payload from vpcd is a control code, a longer one a C-APDU;
 *   card  the UICC: ETSI TS 102 221 clause 10/11 commands and the toolkit
 *         commands of TS 102 223, one function per INS;
 *   main  options and a single-threaded poll loop: a card only ever
 *         answers, so nothing here needs more concurrency than that.
 * The scenario runner (scenario.c) sees the card through vuicc.h only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* ppoll(), TCP_QUICKACK */
#endif

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bip.h"
#include "tcp.h"
#include "tls.h"
#include "util/hex.h"
#include "vuicc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#define PROG			"dmsc-vuicc"
#define RECONNECT_MS		100
#define VPCD_MAX_MSG		0xFFFF

/* vpcd control codes (a one-byte payload). */
#define VPCD_CTRL_OFF		0
#define VPCD_CTRL_ON		1
#define VPCD_CTRL_RESET		2
#define VPCD_CTRL_ATR		4

/* Status words, TS 102 221 clause 10.2.1. */
#define SW_OK			0x9000
#define SW_TK_BUSY		0x9300
#define SW_WRONG_LENGTH		0x6700
#define SW_CONDITIONS		0x6985
#define SW_FILE_NOT_FOUND	0x6A82
#define SW_INCORRECT_P1P2	0x6A86
#define SW_WRONG_P1P2		0x6B00
#define SW_INS_UNKNOWN		0x6D00
#define SW_CLA_UNKNOWN		0x6E00
#define SW_NO_DIAG		0x6F00
#define SW1_MORE_DATA		0x61	/* T=0: GET RESPONSE with Le = SW2 */
#define SW1_WRONG_LE		0x6C	/* T=0: resend with Le = SW2 */
#define SW1_PROACTIVE		0x91

#define INS_SELECT		0xA4
#define INS_STATUS		0xF2
#define INS_GET_RESPONSE	0xC0
#define INS_TERMINAL_PROFILE	0x10
#define INS_FETCH		0x12
#define INS_TERMINAL_RESPONSE	0x14
#define INS_ENVELOPE		0xC2

/*
 * ATRs (ISO/IEC 7816-3 clause 8).  Default: TS 3B, T0 80 (TD1 follows, no
 * historical bytes), TD1 80 (T=0, TD2 follows), TD2 01 (T=1), and TCK, the
 * XOR of T0..TD2, mandatory once T=1 is offered.  With --t0: T0 00 and
 * nothing else, T=0 only, no TCK.
 */
static const uint8_t atr_default[] = { 0x3B, 0x80, 0x80, 0x01, 0x01 };
static const uint8_t atr_t0[] = { 0x3B, 0x00 };

/*
 * FCP of the MF, TS 102 221 clause 11.1.1.3: file descriptor (DF, 78 21),
 * file identifier 3F00, proprietary information with the UICC
 * characteristics (11.1.1.4.6.1: clock stop allowed), life cycle status
 * "operational, activated", security attributes by reference to EF ARR
 * 2F06 record 1, and the PIN status template (PIN1 disabled, ADM1 enabled).
 */
static const uint8_t fcp_mf[] = {
	0x62, 0x20,
	0x82, 0x02, 0x78, 0x21,
	0x83, 0x02, 0x3F, 0x00,
	0xA5, 0x03, 0x80, 0x01, 0x71,
	0x8A, 0x01, 0x05,
	0x8B, 0x03, 0x2F, 0x06, 0x01,
	0xC6, 0x09, 0x90, 0x01, 0x40, 0x83, 0x01, 0x01, 0x83, 0x01, 0x0A,
};

struct options {
	const char *host;
	const char *port;
	const char *log_path;
	const char *scenario_path;
	uint8_t atr[VUICC_ATR_MAX];
	size_t atr_len;
	bool t0;
	bool once;
	bool scenario_exit;
	unsigned busy;
	struct bip_config bip;
	struct vtcp_config tcp;		/* --tcp, --tcp-tls, --netns */
};

/* A parsed short C-APDU (ISO/IEC 7816-3 12.1.3, cases 1 to 4). */
struct capdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;
	bool has_le;
	uint8_t le;		/* raw Le byte: 00 means "up to 256" */
};

enum link_state {
	LINK_IDLE,		/* not connected; next attempt at retry_at */
	LINK_CONNECTING,	/* non-blocking connect() in progress */
	LINK_UP,
};

struct vuicc {
	const struct options *opt;
	struct addrinfo *addrs;

	/* link */
	enum link_state link;
	int fd;
	int64_t retry_at;
	bool waiting_reported;
	uint8_t rx[2 + VPCD_MAX_MSG];
	size_t rx_len;
	FILE *log;

	/* card */
	bool powered;
	bool profiled;		/* TERMINAL PROFILE received since power-on */
	uint8_t profile[VUICC_MAX_CDATA];
	size_t profile_len;
	bool in_session;	/* a command was fetched; its TR is due */
	uint8_t fetched[VUICC_MAX_PROACTIVE];	/* that command */
	size_t fetched_len;
	struct {
		size_t len;
		uint8_t data[VUICC_MAX_PROACTIVE];
	} queue[VUICC_QUEUE_MAX];
	unsigned q_head, q_len;
	unsigned busy;
	/* T=0: response data waiting for GET RESPONSE */
	bool pending;
	struct vuicc_resp pend;
	size_t pend_off;

	struct bip *bip;	/* BIP channels and the SCWS */
	struct vtcp *tcp;	/* the SCWS over TCP/IP; NULL none */
	struct vuicc_hooks hooks;
};

static int verbose;
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t relink_signal;	/* SIGUSR1 */

/* --- diagnostics ------------------------------------------------------- */

void
vuicc_verbose(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
vuicc_warn(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int64_t
vuicc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Print prefix and p as upper-case hex to f, in chunks to bound the stack. */
static void
hex_line(FILE *f, const char *prefix, const uint8_t *p, size_t len)
{
	char buf[2 * 64 + 1];
	size_t n;

	fputs(prefix, f);
	while (len > 0) {
		n = len < 64 ? len : 64;
		fputs(hex_encode(buf, p, n), f);
		p += n;
		len -= n;
	}
	fputc('\n', f);
}

/* The exchange log (-l): "> C-APDU", "< R-APDU", "# event", flushed per line. */
static void
log_apdu(struct vuicc *card, const char *dir, const uint8_t *p, size_t len)
{
	if (card->log) {
		hex_line(card->log, dir, p, len);
		fflush(card->log);
	}
	if (verbose) {
		fputs(PROG ": ", stderr);
		hex_line(stderr, dir, p, len);
	}
}

static void
log_event(struct vuicc *card, const char *what)
{
	if (card->log) {
		fprintf(card->log, "# %s\n", what);
		fflush(card->log);
	}
	vuicc_verbose("%s", what);
}

/* --- card -------------------------------------------------------------- */

static void
card_emit(struct vuicc *card, enum vuicc_event_kind kind, const uint8_t *p,
	  size_t len)
{
	struct vuicc_event ev = { .kind = kind, .data = p, .len = len };

	if (card->hooks.event)
		card->hooks.event(card->hooks.ctx, card, &ev);
}

void
vuicc_set_hooks(struct vuicc *card, const struct vuicc_hooks *hooks)
{
	card->hooks = *hooks;
}

int
vuicc_queue_proactive(struct vuicc *card, const uint8_t *p, size_t len)
{
	unsigned tail;

	if (len == 0 || len > VUICC_MAX_PROACTIVE)
		return -EINVAL;
	if (card->q_len == VUICC_QUEUE_MAX)
		return -ENOSPC;
	tail = (card->q_head + card->q_len) % VUICC_QUEUE_MAX;
	memcpy(card->queue[tail].data, p, len);
	card->queue[tail].len = len;
	card->q_len++;
	vuicc_verbose("proactive command queued (%zu bytes, %u in queue)", len,
		      card->q_len);
	return 0;
}

int
vuicc_cancel_proactive(struct vuicc *card, const uint8_t *p, size_t len)
{
	unsigned i, j, from, to;

	for (i = 0; i < card->q_len; i++) {
		from = (card->q_head + i) % VUICC_QUEUE_MAX;
		if (card->queue[from].len != len ||
		    memcmp(card->queue[from].data, p, len) != 0)
			continue;
		for (j = i; j + 1 < card->q_len; j++) {
			to = (card->q_head + j) % VUICC_QUEUE_MAX;
			from = (card->q_head + j + 1) % VUICC_QUEUE_MAX;
			card->queue[to] = card->queue[from];
		}
		card->q_len--;
		vuicc_verbose("proactive command withdrawn (%u in queue)",
			      card->q_len);
		return 0;
	}
	return -ENOENT;
}

struct bip *
vuicc_bip(struct vuicc *card)
{
	return card->bip;
}

void
vuicc_set_busy(struct vuicc *card, unsigned n)
{
	card->busy = n;
	vuicc_verbose("next %u ENVELOPE(s) answered 93 00", n);
}

/*
 * Power off, power on and reset end the toolkit session: the terminal sends
 * a new TERMINAL PROFILE (TS 102 223 clause 5.1) and a fetched command whose
 * response never came is gone.  Queued commands stay: the scenario decides.
 */
static void
card_forget(struct vuicc *card)
{
	card->profiled = false;
	card->profile_len = 0;
	card->in_session = false;
	card->fetched_len = 0;
	card->pending = false;
	if (card->bip)
		bip_on_reset(card->bip);
}

/*
 * '91 XX' instead of '90 00' (TS 102 221 clause 14.6.x, TS 102 223 clause
 * 6.3): only once the terminal has told us its profile, and not while a
 * fetched command still waits for its TERMINAL RESPONSE.
 */
static void
card_announce(struct vuicc *card, struct vuicc_resp *r)
{
	if (r->sw != SW_OK || !card->profiled || card->in_session ||
	    card->q_len == 0)
		return;
	r->sw = (uint16_t)(SW1_PROACTIVE << 8 | card->queue[card->q_head].len);
}

/*
 * Le of a case-2 command (no data in).  T=0 (TS 102 221 7.3.1.1.4): any Le
 * but the exact length gets '6C XX', except 00, which asks for up to 256.
 * T=1: only an Le too short for the data does.  Returns false with r set
 * when the command must not be carried out.
 */
static bool
card_le_ok(const struct vuicc *card, const struct capdu *c, size_t avail,
	   struct vuicc_resp *r)
{
	bool bad;

	if (!c->has_le || c->lc != 0 || c->le == 0)
		return true;
	bad = card->opt->t0 ? c->le != avail : c->le < avail;
	if (!bad)
		return true;
	r->len = 0;
	r->sw = (uint16_t)(SW1_WRONG_LE << 8 | (avail & 0xFF));
	return false;
}

static void
resp_set(struct vuicc_resp *r, const uint8_t *p, size_t len, uint16_t sw)
{
	memcpy(r->data, p, len);
	r->len = len;
	r->sw = sw;
}

/* SELECT, TS 102 221 clause 11.1.1: only the MF exists. */
static void
ins_select(struct vuicc *card, const struct capdu *c, struct vuicc_resp *r)
{
	if (c->p2 != 0x04 && c->p2 != 0x0C) {
		r->sw = SW_INCORRECT_P1P2;
		return;
	}
	switch (c->p1) {
	case 0x00:		/* by file identifier */
		if (c->lc != 2) {
			r->sw = SW_WRONG_LENGTH;
			return;
		}
		if (c->data[0] != 0x3F || c->data[1] != 0x00) {
			r->sw = SW_FILE_NOT_FOUND;
			return;
		}
		if (c->p2 == 0x04)
			resp_set(r, fcp_mf, sizeof(fcp_mf), SW_OK);
		else
			r->sw = SW_OK;
		return;
	case 0x04:		/* by DF name (AID): no applications */
	case 0x08:		/* by path from MF */
	case 0x09:		/* by path from current DF */
		r->sw = c->lc == 0 ? SW_WRONG_LENGTH : SW_FILE_NOT_FOUND;
		return;
	default:
		r->sw = SW_INCORRECT_P1P2;
		return;
	}
}

/* STATUS, TS 102 221 clause 11.1.2; the terminal polls with it (TS 102 223 6.4.6). */
static void
ins_status(struct vuicc *card, const struct capdu *c, struct vuicc_resp *r)
{
	if (c->p1 > 0x02) {
		r->sw = SW_WRONG_P1P2;
		return;
	}
	if (c->lc != 0) {
		r->sw = SW_WRONG_LENGTH;
		return;
	}
	switch (c->p2) {
	case 0x00:		/* FCP of the current DF: always the MF */
		if (!card_le_ok(card, c, sizeof(fcp_mf), r))
			return;
		resp_set(r, fcp_mf, sizeof(fcp_mf), SW_OK);
		break;
	case 0x0C:		/* no data returned */
		r->sw = SW_OK;
		break;
	case 0x01:		/* DF name of the current application: none */
		r->sw = SW_INCORRECT_P1P2;
		return;
	default:
		r->sw = SW_WRONG_P1P2;
		return;
	}
	card_emit(card, VUICC_EV_STATUS, NULL, 0);
	card_announce(card, r);
}

/* GET RESPONSE, TS 102 221 clause 12.1.1: T=0 only has anything to give. */
static void
ins_get_response(struct vuicc *card, const struct capdu *c,
		 struct vuicc_resp *r)
{
	size_t avail, n, rest;

	if (c->p1 != 0 || c->p2 != 0) {
		r->sw = SW_WRONG_P1P2;
		return;
	}
	if (c->lc != 0) {
		r->sw = SW_WRONG_LENGTH;
		return;
	}
	if (!card->pending) {
		r->sw = SW_CONDITIONS;
		return;
	}
	avail = card->pend.len - card->pend_off;
	n = avail;
	if (c->has_le && c->le != 0) {
		if (c->le > avail) {
			r->sw = (uint16_t)(SW1_WRONG_LE << 8 | (avail & 0xFF));
			return;
		}
		n = c->le;
	}
	memcpy(r->data, card->pend.data + card->pend_off, n);
	r->len = n;
	card->pend_off += n;
	rest = avail - n;
	if (rest > 0) {
		r->sw = (uint16_t)(SW1_MORE_DATA << 8 | (rest & 0xFF));
	} else {
		r->sw = card->pend.sw;
		card->pending = false;
	}
}

/* TERMINAL PROFILE, TS 102 221 clause 11.2.1. */
static void
ins_terminal_profile(struct vuicc *card, const struct capdu *c,
		     struct vuicc_resp *r)
{
	if (c->p1 != 0 || c->p2 != 0) {
		r->sw = SW_WRONG_P1P2;
		return;
	}
	if (c->lc == 0) {
		r->sw = SW_WRONG_LENGTH;
		return;
	}
	memcpy(card->profile, c->data, c->lc);
	card->profile_len = c->lc;
	card->profiled = true;
	card->in_session = false;
	r->sw = SW_OK;
	bip_on_profile(card->bip, c->data, c->lc);
	card_emit(card, VUICC_EV_PROFILE, c->data, c->lc);
	card_announce(card, r);
}

/* FETCH, TS 102 221 clause 11.2.3. */
static void
ins_fetch(struct vuicc *card, const struct capdu *c, struct vuicc_resp *r)
{
	size_t len;

	if (c->p1 != 0 || c->p2 != 0) {
		r->sw = SW_WRONG_P1P2;
		return;
	}
	if (c->lc != 0) {
		r->sw = SW_WRONG_LENGTH;
		return;
	}
	if (card->q_len == 0) {
		r->sw = SW_NO_DIAG;
		return;
	}
	len = card->queue[card->q_head].len;
	if (!card_le_ok(card, c, len, r))
		return;		/* still queued: the terminal asks again */
	resp_set(r, card->queue[card->q_head].data, len, SW_OK);
	card->q_head = (card->q_head + 1) % VUICC_QUEUE_MAX;
	card->q_len--;
	card->in_session = true;
	memcpy(card->fetched, r->data, r->len);
	card->fetched_len = r->len;
	bip_on_fetch(card->bip, r->data, r->len);
	card_emit(card, VUICC_EV_FETCH, r->data, r->len);
}

/* TERMINAL RESPONSE, TS 102 221 clause 11.2.4. */
static void
ins_terminal_response(struct vuicc *card, const struct capdu *c,
		      struct vuicc_resp *r)
{
	if (c->p1 != 0 || c->p2 != 0) {
		r->sw = SW_WRONG_P1P2;
		return;
	}
	if (c->lc == 0) {
		r->sw = SW_WRONG_LENGTH;
		return;
	}
	card->in_session = false;
	r->sw = SW_OK;
	/* The channels first: 'expect data' looks at what this TR brought. */
	bip_on_tr(card->bip, card->fetched_len ? card->fetched : NULL,
		  card->fetched_len, c->data, c->lc);
	card->fetched_len = 0;
	card_emit(card, VUICC_EV_TR, c->data, c->lc);
	card_announce(card, r);
}

/* ENVELOPE, TS 102 221 clause 11.2.2; '93 00' per TS 102 223 clause 7. */
static void
ins_envelope(struct vuicc *card, const struct capdu *c, struct vuicc_resp *r)
{
	if (c->p1 != 0 || c->p2 != 0) {
		r->sw = SW_WRONG_P1P2;
		return;
	}
	if (c->lc == 0) {
		r->sw = SW_WRONG_LENGTH;
		return;
	}
	if (card->busy > 0) {
		card->busy--;
		r->sw = SW_TK_BUSY;
		vuicc_verbose("ENVELOPE refused: toolkit busy (%u more)",
			      card->busy);
		card_emit(card, VUICC_EV_ENVELOPE_BUSY, c->data, c->lc);
		return;
	}
	r->len = 0;
	r->sw = SW_OK;
	bip_on_envelope(card->bip, c->data, c->lc);
	if (card->hooks.envelope &&
	    !card->hooks.envelope(card->hooks.ctx, card, c->data, c->lc, r)) {
		r->len = 0;
		r->sw = SW_OK;
	}
	card_emit(card, VUICC_EV_ENVELOPE, c->data, c->lc);
	card_announce(card, r);
}

typedef void (*ins_fn)(struct vuicc *card, const struct capdu *c,
		       struct vuicc_resp *r);

static const struct {
	uint8_t ins;
	ins_fn fn;
} ins_table[] = {
	{ INS_SELECT, ins_select },
	{ INS_STATUS, ins_status },
	{ INS_GET_RESPONSE, ins_get_response },
	{ INS_TERMINAL_PROFILE, ins_terminal_profile },
	{ INS_FETCH, ins_fetch },
	{ INS_TERMINAL_RESPONSE, ins_terminal_response },
	{ INS_ENVELOPE, ins_envelope },
};

/* Short APDU cases, ISO/IEC 7816-3 12.1.3.  Extended lengths: -1. */
static int
capdu_parse(const uint8_t *p, size_t n, struct capdu *c)
{
	memset(c, 0, sizeof(*c));
	if (n < 4)
		return -1;
	c->cla = p[0];
	c->ins = p[1];
	c->p1 = p[2];
	c->p2 = p[3];
	if (n == 4)
		return 0;			/* case 1 */
	if (n == 5) {
		c->has_le = true;		/* case 2 */
		c->le = p[4];
		return 0;
	}
	c->lc = p[4];
	if (c->lc == 0)
		return -1;			/* extended length */
	c->data = p + 5;
	if (n == 5 + c->lc)
		return 0;			/* case 3 */
	if (n == 6 + c->lc) {
		c->has_le = true;		/* case 4 */
		c->le = p[5 + c->lc];
		return 0;
	}
	return -1;
}

/*
 * One C-APDU in, one R-APDU out (at most 258 bytes).  Under T=0 a command
 * that is not case 2 cannot carry response data: it gets '61 XX' and the
 * data waits for GET RESPONSE (TS 102 221 7.3.1.1.4).
 */
static size_t
card_transmit(struct vuicc *card, const uint8_t *cmd, size_t n, uint8_t *out)
{
	struct vuicc_resp r = { .len = 0, .sw = SW_WRONG_LENGTH };
	struct capdu c;
	bool parsed;
	size_t i;

	parsed = capdu_parse(cmd, n, &c) == 0;
	if (n >= 4 && cmd[1] != INS_GET_RESPONSE)
		card->pending = false;
	if (n < 4)
		goto answer;
	if ((cmd[0] & 0xFC) != 0x00 && (cmd[0] & 0xFC) != 0x80) {
		r.sw = SW_CLA_UNKNOWN;
		goto answer;
	}
	for (i = 0; i < sizeof(ins_table) / sizeof(ins_table[0]); i++)
		if (ins_table[i].ins == cmd[1])
			break;
	if (i == sizeof(ins_table) / sizeof(ins_table[0])) {
		r.sw = SW_INS_UNKNOWN;
		goto answer;
	}
	if (!parsed)
		goto answer;		/* 67 00 */
	ins_table[i].fn(card, &c, &r);

	if (r.len > 0 && card->opt->t0 && c.ins != INS_GET_RESPONSE &&
	    !(c.has_le && c.lc == 0)) {
		card->pend = r;
		card->pend_off = 0;
		card->pending = true;
		out[0] = SW1_MORE_DATA;
		out[1] = (uint8_t)(r.len & 0xFF);
		return 2;
	}
answer:
	memcpy(out, r.data, r.len);
	out[r.len] = (uint8_t)(r.sw >> 8);
	out[r.len + 1] = (uint8_t)(r.sw & 0xFF);
	return r.len + 2;
}

/* --- link -------------------------------------------------------------- */

static void
link_close(struct vuicc *card)
{
	if (card->fd >= 0) {
		close(card->fd);
		card->fd = -1;
	}
	card->link = LINK_IDLE;
	card->rx_len = 0;
	card->powered = false;
	card_forget(card);
}

static void
link_retry_later(struct vuicc *card, int64_t now)
{
	link_close(card);
	card->retry_at = now + RECONNECT_MS;
}

static void
link_up(struct vuicc *card)
{
	int one = 1;

	/* Without NODELAY and QUICKACK every APDU costs a delayed ACK, ~40 ms. */
	setsockopt(card->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(card->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	card->link = LINK_UP;
	card->waiting_reported = false;
	card->rx_len = 0;
	card->powered = false;
	card_forget(card);
	vuicc_verbose("connected to vpcd at %s:%s", card->opt->host,
		      card->opt->port);
}

static void
link_connect(struct vuicc *card, int64_t now)
{
	const struct addrinfo *ai = card->addrs;
	int fd;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0) {
		vuicc_warn("socket: %s", strerror(errno));
		card->retry_at = now + RECONNECT_MS;
		return;
	}
	card->fd = fd;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		link_up(card);
		return;
	}
	if (errno == EINPROGRESS) {
		card->link = LINK_CONNECTING;
		return;
	}
	if (!card->waiting_reported) {
		vuicc_verbose("waiting for vpcd at %s:%s (%s)", card->opt->host,
			      card->opt->port, strerror(errno));
		card->waiting_reported = true;
	}
	link_retry_later(card, now);
}

static void
link_connect_done(struct vuicc *card, int64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(card->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		link_up(card);
		return;
	}
	if (!card->waiting_reported) {
		vuicc_verbose("waiting for vpcd at %s:%s (%s)", card->opt->host,
			      card->opt->port, strerror(err));
		card->waiting_reported = true;
	}
	link_retry_later(card, now);
}

static int
link_send(struct vuicc *card, const uint8_t *p, size_t len)
{
	uint8_t buf[2 + VUICC_MAX_RDATA + 2];
	struct pollfd pfd = { .fd = card->fd, .events = POLLOUT };
	size_t off = 0;
	ssize_t w;

	if (len > sizeof(buf) - 2)
		return -EMSGSIZE;
	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)(len & 0xFF);
	memcpy(buf + 2, p, len);
	len += 2;
	while (off < len) {
		w = send(card->fd, buf + off, len - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
		} else if (w < 0 && errno == EAGAIN) {
			if (poll(&pfd, 1, 1000) <= 0)
				return -ETIMEDOUT;
		} else if (w < 0 && errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

static int
link_control(struct vuicc *card, uint8_t code)
{
	switch (code) {
	case VPCD_CTRL_OFF:
		log_event(card, "power off");
		card->powered = false;
		card_forget(card);
		card_emit(card, VUICC_EV_POWER_OFF, NULL, 0);
		return 0;
	case VPCD_CTRL_ON:
		log_event(card, "power on");
		card->powered = true;
		card_forget(card);
		card_emit(card, VUICC_EV_POWER_ON, NULL, 0);
		return 0;
	case VPCD_CTRL_RESET:
		log_event(card, "reset");
		card->powered = true;
		card_forget(card);
		card_emit(card, VUICC_EV_RESET, NULL, 0);
		return 0;
	case VPCD_CTRL_ATR:
		vuicc_verbose("ATR requested");
		return link_send(card, card->opt->atr, card->opt->atr_len);
	default:
		vuicc_verbose("unknown vpcd control code %u ignored", code);
		return 0;
	}
}

static int
link_message(struct vuicc *card, const uint8_t *p, size_t len)
{
	uint8_t out[VUICC_MAX_RDATA + 2];
	size_t n;

	if (len == 0)
		return 0;
	if (len == 1)
		return link_control(card, p[0]);
	log_apdu(card, "> ", p, len);
	n = card_transmit(card, p, len, out);
	log_apdu(card, "< ", out, n);
	return link_send(card, out, n);
}

/* Read what is there and handle every complete message.  -1: link lost. */
static int
link_read(struct vuicc *card)
{
	const int one = 1;
	size_t msg_len, off;
	ssize_t r;

	r = recv(card->fd, card->rx + card->rx_len,
		 sizeof(card->rx) - card->rx_len, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r <= 0) {
		vuicc_verbose("vpcd closed the connection%s%s",
			      r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
		return -1;
	}
	/* The kernel turns QUICKACK off again by itself: re-arm every time. */
	setsockopt(card->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	card->rx_len += (size_t)r;

	off = 0;
	while (card->rx_len - off >= 2) {
		msg_len = (size_t)card->rx[off] << 8 | card->rx[off + 1];
		if (card->rx_len - off - 2 < msg_len)
			break;
		if (link_message(card, card->rx + off + 2, msg_len) < 0) {
			vuicc_verbose("send to vpcd failed");
			return -1;
		}
		off += 2 + msg_len;
	}
	memmove(card->rx, card->rx + off, card->rx_len - off);
	card->rx_len -= off;
	return 0;
}

/* --- main -------------------------------------------------------------- */

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		relink_signal = 1;
	else
		stop_signal = sig;
}

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " -p PORT [OPTION]...\n"
"A virtual UICC for dmscgw tests: connects to pcscd's vpcd reader driver.\n"
"\n"
"  -p, --port PORT        vpcd port to connect to (required)\n"
"      --host ADDR        vpcd host (default 127.0.0.1)\n"
"  -l, --log FILE         append every exchange to FILE ('> C-APDU', '< R-APDU',\n"
"                         '# power on|reset|power off')\n"
"      --t0               T=0 transport: data via 61xx/GET RESPONSE, 6Cxx on wrong Le\n"
"      --atr HEX          ATR to present (default 3B80800101; with --t0 3B00)\n"
"      --once             exit when vpcd closes the connection instead of reconnecting\n"
"  -s, --scenario FILE    run the scenario in FILE (see README.md)\n"
"      --scenario-exit    exit as soon as the scenario has passed\n"
"      --busy N           answer the first N ENVELOPEs with 93 00 (toolkit busy)\n"
"      --scws PORT        after TERMINAL PROFILE open a UICC-server-mode channel on\n"
"                         PORT and serve HTTP on it (repeatable, up to 7)\n"
"      --scws-tls PORT    the same with HTTP over TLS 1.2 with a pre-shared key\n"
"                         (PSK-AES128-CBC-SHA); --scws and --scws-tls channels\n"
"                         are opened in command-line order, up to 7 in all\n"
"      --psk-identity ID  PSK identity the --scws-tls clients must give (default\n"
"                         dmsc)\n"
"      --psk HEX          the pre-shared key (1 to 128 bytes; required with\n"
"                         --scws-tls)\n"
"      --tcp ADDR[:PORT]  serve HTTP on a TCP socket bound to ADDR (default port\n"
"                         80): the card's own TCP/IP stack, as over USB EEM;\n"
"                         [V6] for IPv6 (repeatable, up to 4 with --tcp-tls)\n"
"      --tcp-tls ADDR[:PORT]  the same over TLS-PSK (default port 443: the\n"
"                         DM_SC server is https://localuicc:443/OMA/DM)\n"
"      --netns PATH       bind the --tcp and --tcp-tls sockets in the network\n"
"                         namespace at PATH (/run/netns/NAME), the card's end\n"
"                         of a link; vpcd is still reached from where it runs\n"
"      --www DIR          files the web server serves (default: a built-in page at /)\n"
"      --buffer N         buffer size asked for the --scws and --scws-tls channels\n"
"                         (default 1400)\n"
"      --ignore-room      serve every channel in turn, even one the terminal\n"
"                         reported no Tx room for (channel data length 00)\n"
"  -v, --verbose          tell on stderr what the card does\n"
"  -h, --help             show this help and exit\n"
"  -V, --version          show the version and exit\n"
"\n"
"Exit status: 0 ok (signal, vpcd gone with --once, scenario passed or 'exit'),\n"
"1 a scenario step failed, 2 usage or scenario parse error.\n");
}

enum {
	OPT_HOST = 256,
	OPT_T0,
	OPT_ATR,
	OPT_ONCE,
	OPT_SCENARIO_EXIT,
	OPT_BUSY,
	OPT_SCWS,
	OPT_SCWS_TLS,
	OPT_PSK_IDENTITY,
	OPT_PSK,
	OPT_WWW,
	OPT_BUFFER,
	OPT_IGNORE_ROOM,
	OPT_TCP,
	OPT_TCP_TLS,
	OPT_NETNS,
};

static const struct option long_opts[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "log", required_argument, NULL, 'l' },
	{ "t0", no_argument, NULL, OPT_T0 },
	{ "atr", required_argument, NULL, OPT_ATR },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "scenario", required_argument, NULL, 's' },
	{ "scenario-exit", no_argument, NULL, OPT_SCENARIO_EXIT },
	{ "busy", required_argument, NULL, OPT_BUSY },
	{ "scws", required_argument, NULL, OPT_SCWS },
	{ "scws-tls", required_argument, NULL, OPT_SCWS_TLS },
	{ "psk-identity", required_argument, NULL, OPT_PSK_IDENTITY },
	{ "psk", required_argument, NULL, OPT_PSK },
	{ "www", required_argument, NULL, OPT_WWW },
	{ "buffer", required_argument, NULL, OPT_BUFFER },
	{ "ignore-room", no_argument, NULL, OPT_IGNORE_ROOM },
	{ "tcp", required_argument, NULL, OPT_TCP },
	{ "tcp-tls", required_argument, NULL, OPT_TCP_TLS },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static bool
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *out <= max;
}

/* --scws PORT or --scws-tls PORT: one more channel, in command-line order. */
static int
add_scws(struct bip_config *cfg, const char *arg, bool tls)
{
	const char *name = tls ? "--scws-tls" : "--scws";
	unsigned long v;

	if (!parse_uint(arg, 65535, &v) || v == 0) {
		vuicc_warn("invalid %s port '%s'", name, arg);
		return -1;
	}
	if (cfg->n_scws == BIP_MAX_SCWS) {
		vuicc_warn("at most %d --scws and --scws-tls channels",
			   BIP_MAX_SCWS);
		return -1;
	}
	cfg->scws_tls[cfg->n_scws] = tls;
	cfg->scws_port[cfg->n_scws++] = (uint16_t)v;
	return 0;
}

/* --tcp ADDR[:PORT] or --tcp-tls ADDR[:PORT]: one more listener. */
static int
add_tcp(struct vtcp_config *cfg, const char *arg, bool tls)
{
	if (vtcp_check_spec(arg) < 0)
		return -1;
	if (cfg->n == VTCP_MAX_LISTEN) {
		vuicc_warn("at most %d --tcp and --tcp-tls addresses",
			   VTCP_MAX_LISTEN);
		return -1;
	}
	snprintf(cfg->listen[cfg->n].spec, sizeof(cfg->listen[cfg->n].spec),
		 "%s", arg);
	cfg->listen[cfg->n++].tls = tls;
	return 0;
}

static bool
any_tls(const struct options *opt)
{
	size_t i;

	for (i = 0; i < opt->bip.n_scws; i++)
		if (opt->bip.scws_tls[i])
			return true;
	for (i = 0; i < opt->tcp.n; i++)
		if (opt->tcp.listen[i].tls)
			return true;
	return false;
}

static void
discard(void *ctx, const uint8_t *p, size_t len)
{
}

/* Whether the TLS library takes the settings: better now than per client. */
static bool
tls_usable(const struct bip_config *cfg)
{
	struct vtls *t = vtls_new(cfg->psk_identity, cfg->psk, cfg->psk_len,
				  discard, discard, NULL);

	vtls_free(t);
	return t != NULL;
}

/* Returns -1 to go on, or an exit status. */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	const char *atr_hex = NULL;
	unsigned long v;
	int ch, n;

	opt->host = "127.0.0.1";
	opt->bip.buffer = BIP_BUFFER_DEFAULT;
	opt->bip.psk_identity = "dmsc";
	while ((ch = getopt_long(argc, argv, "p:l:s:vhV", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (!parse_uint(optarg, 65535, &v) || v == 0) {
				vuicc_warn("invalid port '%s'", optarg);
				return 2;
			}
			opt->port = optarg;
			break;
		case OPT_HOST:
			opt->host = optarg;
			break;
		case 'l':
			opt->log_path = optarg;
			break;
		case OPT_T0:
			opt->t0 = true;
			break;
		case OPT_ATR:
			atr_hex = optarg;
			break;
		case OPT_ONCE:
			opt->once = true;
			break;
		case 's':
			opt->scenario_path = optarg;
			break;
		case OPT_SCENARIO_EXIT:
			opt->scenario_exit = true;
			break;
		case OPT_BUSY:
			if (!parse_uint(optarg, UINT_MAX, &v)) {
				vuicc_warn("invalid --busy count '%s'", optarg);
				return 2;
			}
			opt->busy = (unsigned)v;
			break;
		case OPT_SCWS:
		case OPT_SCWS_TLS:
			if (add_scws(&opt->bip, optarg, ch == OPT_SCWS_TLS) < 0)
				return 2;
			break;
		case OPT_PSK_IDENTITY:
			if (optarg[0] == '\0' ||
			    strlen(optarg) > VTLS_IDENTITY_MAX) {
				vuicc_warn("invalid --psk-identity (1 to %d bytes)",
					   VTLS_IDENTITY_MAX);
				return 2;
			}
			opt->bip.psk_identity = optarg;
			break;
		case OPT_PSK:
			n = hex_decode(opt->bip.psk, sizeof(opt->bip.psk), optarg);
			if (n < 1) {
				vuicc_warn("invalid --psk (1 to %d hex bytes)",
					   VTLS_PSK_MAX);
				return 2;
			}
			opt->bip.psk_len = (size_t)n;
			break;
		case OPT_WWW:
			opt->bip.www = optarg;
			break;
		case OPT_TCP:
		case OPT_TCP_TLS:
			if (add_tcp(&opt->tcp, optarg, ch == OPT_TCP_TLS) < 0)
				return 2;
			break;
		case OPT_NETNS:
			opt->tcp.netns = optarg;
			break;
		case OPT_BUFFER:
			if (!parse_uint(optarg, 65535, &v) || v == 0) {
				vuicc_warn("invalid --buffer size '%s' (1 to 65535)",
					   optarg);
				return 2;
			}
			opt->bip.buffer = (uint16_t)v;
			break;
		case OPT_IGNORE_ROOM:
			opt->bip.ignore_room = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(PROG " " PACKAGE_VERSION "\n");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		vuicc_warn("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (opt->port == NULL) {
		vuicc_warn("--port is required");
		usage(stderr);
		return 2;
	}
	if (any_tls(opt) && opt->bip.psk_len == 0) {
		vuicc_warn("--scws-tls and --tcp-tls need --psk");
		return 2;
	}
	if (any_tls(opt) && !tls_usable(&opt->bip)) {
		vuicc_warn("--scws-tls, --tcp-tls: TLS 1.2 with "
			   "PSK-AES128-CBC-SHA is not available");
		return 2;
	}
	if (opt->tcp.netns && !opt->tcp.n) {
		vuicc_warn("--netns is for the --tcp and --tcp-tls sockets");
		return 2;
	}
	opt->tcp.www = opt->bip.www;
	opt->tcp.psk_identity = opt->bip.psk_identity;
	opt->tcp.psk = opt->bip.psk;
	opt->tcp.psk_len = opt->bip.psk_len;
	if (atr_hex) {
		n = hex_decode(opt->atr, sizeof(opt->atr), atr_hex);
		if (n < 2) {
			vuicc_warn("invalid --atr '%s' (2 to %d hex bytes)",
				   atr_hex, VUICC_ATR_MAX);
			return 2;
		}
		opt->atr_len = (size_t)n;
	} else if (opt->t0) {
		memcpy(opt->atr, atr_t0, sizeof(atr_t0));
		opt->atr_len = sizeof(atr_t0);
	} else {
		memcpy(opt->atr, atr_default, sizeof(atr_default));
		opt->atr_len = sizeof(atr_default);
	}
	return -1;
}

static int
resolve(const struct options *opt, struct addrinfo **out)
{
	const struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	int r;

	r = getaddrinfo(opt->host, opt->port, &hints, out);
	if (r != 0) {
		vuicc_warn("%s:%s: %s", opt->host, opt->port, gai_strerror(r));
		return -1;
	}
	return 0;
}

/*
 * What the scenario's state means for the process: -1 go on, else the exit
 * status.  Its messages are printed by scenario.c.
 */
static int
scenario_verdict(const struct options *opt, const struct scenario *sc)
{
	if (sc == NULL)
		return -1;
	switch (scenario_state(sc)) {
	case SCENARIO_RUNNING:
		return -1;
	case SCENARIO_PASSED:
		return opt->scenario_exit ? 0 : -1;
	case SCENARIO_EXIT:
		return 0;
	case SCENARIO_FAILED:
	default:
		return 1;
	}
}

/* Exit status when the card stops on its own (signal, --once). */
static int
stop_status(struct scenario *sc, const char *why)
{
	if (sc == NULL)
		return 0;
	scenario_abort(sc, why);
	return scenario_state(sc) == SCENARIO_FAILED ? 1 : 0;
}

static int
run(struct vuicc *card, struct scenario *sc)
{
	const struct options *opt = card->opt;
	struct pollfd pfds[1 + VTCP_POLLFDS], *pfd = &pfds[0];
	size_t ntcp;
	struct timespec ts;
	sigset_t none;
	int64_t now, wake, d;
	int status, r;

	sigemptyset(&none);
	now = vuicc_now_ms();
	if (sc)
		scenario_start(sc, card, now);
	for (;;) {
		now = vuicc_now_ms();
		if (sc)
			scenario_tick(sc, now);
		status = scenario_verdict(opt, sc);
		if (status >= 0)
			return status;
		if (stop_signal) {
			vuicc_verbose("signal %d: removing the card",
				      (int)stop_signal);
			return stop_status(sc, "interrupted by a signal");
		}
		if (relink_signal) {
			/* the card's link resets: gone, and back at once */
			relink_signal = 0;
			vuicc_verbose("SIGUSR1: dropping the vpcd link");
			link_close(card);
			card->retry_at = now;
		}
		if (card->link == LINK_IDLE && now >= card->retry_at)
			link_connect(card, now);

		wake = -1;
		pfd->fd = card->fd;
		pfd->revents = 0;
		switch (card->link) {
		case LINK_IDLE:
			pfd->fd = -1;
			pfd->events = 0;
			wake = card->retry_at;
			break;
		case LINK_CONNECTING:
			pfd->events = POLLOUT;
			break;
		case LINK_UP:
			pfd->events = POLLIN;
			break;
		}
		ntcp = vtcp_pollfds(card->tcp, pfds + 1, VTCP_POLLFDS);
		d = sc ? scenario_deadline(sc) : -1;
		if (d >= 0 && (wake < 0 || d < wake))
			wake = d;
		if (wake >= 0) {
			d = wake > now ? wake - now : 0;
			ts.tv_sec = (time_t)(d / 1000);
			ts.tv_nsec = (long)(d % 1000) * 1000000;
		}
		r = ppoll(pfds, 1 + ntcp, wake >= 0 ? &ts : NULL, &none);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			vuicc_warn("ppoll: %s", strerror(errno));
			return 2;
		}
		if (r > 0)
			vtcp_handle(card->tcp, pfds + 1, ntcp);
		if (r == 0 || pfd->revents == 0)
			continue;
		now = vuicc_now_ms();
		if (card->link == LINK_CONNECTING) {
			link_connect_done(card, now);
			continue;
		}
		if (link_read(card) == 0)
			continue;
		link_retry_later(card, now);
		if (opt->once) {
			status = scenario_verdict(opt, sc);
			if (status >= 0)
				return status;
			return stop_status(sc, "vpcd closed the connection (--once)");
		}
	}
}

int
main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct scenario *sc = NULL;
	struct vuicc *card;
	struct sigaction sa;
	sigset_t block;
	int status;

	status = parse_options(argc, argv, &opt);
	if (status >= 0)
		return status;
	if (opt.scenario_path && scenario_load(opt.scenario_path, &sc) < 0)
		return 2;

	card = calloc(1, sizeof(*card));
	if (card == NULL) {
		vuicc_warn("out of memory");
		scenario_free(sc);
		return 2;
	}
	card->opt = &opt;
	card->fd = -1;
	card->busy = opt.busy;
	card->bip = bip_new(card, &opt.bip);
	if (card->bip == NULL) {
		vuicc_warn("out of memory");
		status = 2;
		goto out;
	}
	if (resolve(&opt, &card->addrs) < 0) {
		status = 2;
		goto out;
	}
	if (opt.tcp.n && (card->tcp = vtcp_new(&opt.tcp)) == NULL) {
		status = 2;
		goto out;
	}
	if (opt.log_path) {
		card->log = fopen(opt.log_path, "a");
		if (card->log == NULL) {
			vuicc_warn("%s: %s", opt.log_path, strerror(errno));
			status = 2;
			goto out;
		}
	}

	/*
	 * SIGTERM and SIGINT are blocked except inside ppoll(), so that a
	 * signal can never slip in between the flag check and the wait.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);

	vuicc_verbose("%s ATR, vpcd at %s:%s", opt.t0 ? "T=0" : "T=0/T=1",
		      opt.host, opt.port);
	status = run(card, sc);
out:
	link_close(card);
	vtcp_free(card->tcp);
	bip_free(card->bip);
	if (card->log)
		fclose(card->log);
	if (card->addrs)
		freeaddrinfo(card->addrs);
	free(card);
	scenario_free(sc);
	return status;
}
