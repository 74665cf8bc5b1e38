/* SPDX-License-Identifier: MIT */
/*
 * The scenario language of dmsc-vuicc (see README.md): a list of steps run in
 * order while the card keeps answering the terminal.
 *
 * Steps either act at once (queue a proactive command, add an envelope rule,
 * set busy, log) or wait (expect, sleep).  What the card receives is kept in
 * a backlog, so an expectation is met by a command that arrived while an
 * earlier step (a sleep) was still running; matching a command discards it
 * and everything received before it, so every expectation looks only at what
 * came after the previous one was met.
 *
 * The runner is driven from two places: the card's hooks (a command came
 * in: steps run before the card builds its answer, so a proactive command
 * queued in reaction is announced in that very answer) and the main loop's
 * timer (timeouts, sleeps).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bip.h"
#include "card/tlv.h"
#include "syncml/auth.h"
#include "syncml/notification.h"
#include "dmserver.h"
#include "scws.h"
#include "util/hex.h"
#include "vuicc.h"

#define SC_TIMEOUT_MS_DEFAULT	10000
#define SC_BACKLOG_MAX		256
#define SC_MAX_WORDS		1024
#define SC_MAX_SECONDS		86400.0
#define SC_MAX_SEND_FILE	(64u << 20)
#define SC_DATA_SHOWN		64	/* bytes of received data in messages */
#define SC_DM_NEST_MAX		8	/* Atomic/Sequence nesting */
#define SC_DM_MAX_FILE		(16u << 20)

/* Tags with the comprehension-required bit set (TS 102 223 clause 9.3). */
#define CTAG_COMMAND_DETAILS	0x81
#define CTAG_DEVICE_IDENTITIES	0x82
#define CTAG_DURATION		0x84
#define CTAG_EVENT_LIST		0x99
#define CTAG_TIMER_ID		0xA4
#define CTAG_TIMER_VALUE	0xA5
#define CTAG_CHANNEL_DATA_LEN	0xB7
/* BIP objects go without CR, as in the TS 31.124 OPEN CHANNEL vectors. */
#define TAG_BEARER		0x35
#define TAG_BUFFER_SIZE		0x39
#define TAG_TRANSPORT		0x3C
#define TAG_OTHER_ADDRESS	0x3E
#define BER_PROACTIVE_COMMAND	0xD0
#define DEV_UICC		0x81
#define DEV_TERMINAL		0x82
#define DEV_CHANNEL(id)		(uint8_t)(0x20 | (id))
#define CMD_OPEN_CHANNEL	0x40
#define CMD_CLOSE_CHANNEL	0x41
#define CMD_RECEIVE_DATA	0x42
#define CMD_GET_CHANNEL_STATUS	0x44

/* A data field pattern: bytes, ".." any byte, a trailing "*" any rest. */
struct pattern {
	size_t len;
	bool rest;
	uint8_t byte[VUICC_MAX_CDATA];
	bool any[VUICC_MAX_CDATA];
};

enum step_kind {
	STEP_EXPECT,
	STEP_PROACTIVE,
	STEP_ON_ENVELOPE,
	STEP_BUSY,
	STEP_SLEEP,
	STEP_TIMEOUT,
	STEP_EXIT,
	STEP_LOG,
	STEP_BIP,		/* a BIP command, sent through the BIP engine */
	STEP_BIP_SEND,		/* send, send-text, send-file */
	STEP_AUTO_RECEIVE,
	STEP_EXPECT_DATA,
	STEP_DM_SET,		/* dm-server, dm-client, dm-auth, ... */
	STEP_DM_NOTIFY,
	STEP_DM_CMD,		/* scripted at parse time: nothing to run */
	STEP_EXPECT_DM_SESSION,
	STEP_EXPECT_DM_END,
	STEP_EXPECT_DM_STATUS,
};

enum dm_setting {
	DM_SET_SERVER,
	DM_SET_CLIENT,
	DM_SET_AUTH,
	DM_SET_NONCE_SERVER,
	DM_SET_NONCE_CLIENT,
	DM_SET_FORMAT,
	DM_SET_MAX_MSG,
};

enum rule_action {
	RULE_REPLY,		/* answer with data and status word */
	RULE_PROACTIVE,		/* queue a proactive command */
};

struct step {
	enum step_kind kind;
	unsigned line;
	char *text;		/* the source line, for messages */
	/* expect */
	enum vuicc_event_kind what;
	struct pattern pat;	/* also the 'on envelope' pattern */
	unsigned count;		/* expect status; busy */
	/* proactive; on envelope */
	enum rule_action action;
	uint8_t bytes[VUICC_MAX_RDATA];
	size_t bytes_len;
	uint16_t sw;
	/* sleep, timeout */
	int64_t ms;
	/* log */
	const char *msg;	/* points into text */
	/* BIP: send data (owned), channel, first command number, last qualifier */
	uint8_t *data;
	size_t data_len;
	uint8_t channel;
	uint8_t number;
	bool flag;		/* send: now; auto-receive: on */
	/* DM_SC server */
	enum dm_setting dm_set;
	char *s1, *s2;		/* owned: ids and passwords, URI */
	unsigned num;		/* auth, format, size, alert, end, code */
	struct dms_notify_opts noti;
	bool has_port;
	uint16_t port;
	uint8_t numbers[3];	/* dm-notify: OPEN, first SEND, CLOSE */
	bool wbxml_set, wbxml;	/* expect dm-session format */
};

/* A command the card received, kept for the expectations. */
struct record {
	enum vuicc_event_kind kind;
	size_t len;
	uint8_t data[VUICC_MAX_CDATA];
};

struct scenario {
	char *path;
	struct step *steps;
	size_t n_steps;

	struct vuicc *card;
	enum scenario_state state;
	size_t cur;		/* index of the running step */
	bool started;		/* steps[cur] has begun */
	int64_t deadline;	/* of steps[cur] when it waits; -1 none */
	int64_t timeout_ms;

	struct record *backlog;
	size_t n_backlog;
	bool overflow_told;

	const struct step **rules;	/* active 'on envelope' rules */
	size_t n_rules;

	/* the DM_SC server */
	struct dms *dm;
	bool dm_used;			/* some dm- step: route /OMA/DM */
	unsigned dm_accepted_seen, dm_ended_seen;
	bool dm_port_known;		/* a DC envelope with a type 07 entry */
	uint16_t dm_port;
	bool noti_pending;		/* OPEN CHANNEL sent, answer awaited */
	uint8_t noti_numbers[3];
	uint8_t noti[DM_NOTI_HDR_LEN + DM_NOTI_SERVER_ID_MAX + 8];
	size_t noti_len;
};

/* --- patterns ---------------------------------------------------------- */

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
pattern_match(const struct pattern *p, const uint8_t *d, size_t len)
{
	size_t i;

	if (p->rest ? len < p->len : len != p->len)
		return false;
	for (i = 0; i < p->len; i++)
		if (!p->any[i] && d[i] != p->byte[i])
			return false;
	return true;
}

static const char *
event_name(enum vuicc_event_kind k)
{
	switch (k) {
	case VUICC_EV_PROFILE:
		return "TERMINAL PROFILE";
	case VUICC_EV_TR:
		return "TERMINAL RESPONSE";
	case VUICC_EV_ENVELOPE:
		return "ENVELOPE";
	case VUICC_EV_STATUS:
		return "STATUS";
	case VUICC_EV_FETCH:
		return "FETCH";
	case VUICC_EV_ENVELOPE_BUSY:
		return "ENVELOPE (busy)";
	case VUICC_EV_POWER_ON:
		return "power on";
	case VUICC_EV_POWER_OFF:
		return "power off";
	case VUICC_EV_RESET:
		return "reset";
	}
	return "?";
}

/* --- parser ------------------------------------------------------------ */

struct parser {
	const char *path;
	unsigned line;
	uint8_t next_number;	/* command number of the next named command */
	char err[256];
	struct scenario *sc;
	size_t dm_session;	/* script of the dm- command steps */
	enum dms_op dm_open[SC_DM_NEST_MAX];	/* open Atomic/Sequence */
	size_t dm_depth;
};

static int perr(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
perr(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->err, sizeof(ps->err), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Whitespace inside a pattern is ignored ("81030127.. 820281 82 *"): the
 * words are read as one string of byte pairs.
 */
static int
parse_pattern(struct parser *ps, char **w, size_t n, struct pattern *p)
{
	char s[4 * VUICC_MAX_CDATA + 8];
	size_t i, l, len = 0;
	int hi, lo;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < n; i++) {
		l = strlen(w[i]);
		if (len + l >= sizeof(s))
			return perr(ps, "pattern too long");
		memcpy(s + len, w[i], l);
		len += l;
	}
	s[len] = '\0';
	for (i = 0; i < len; i += 2) {
		if (s[i] == '*') {
			if (i + 1 != len)
				return perr(ps, "'*' must end the pattern");
			p->rest = true;
			break;
		}
		if (i + 1 == len || s[i + 1] == '*')
			return perr(ps, "odd number of hex digits in pattern");
		if (p->len == sizeof(p->byte))
			return perr(ps, "pattern longer than %zu bytes",
				    sizeof(p->byte));
		if (s[i] == '.' && s[i + 1] == '.') {
			p->any[p->len++] = true;
			continue;
		}
		hi = hex_digit(s[i]);
		lo = hex_digit(s[i + 1]);
		if (hi < 0 || lo < 0)
			return perr(ps, "bad pattern byte '%.2s'", s + i);
		p->byte[p->len++] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Join words with single spaces into buf, for hex_decode(). */
static int
join_words(struct parser *ps, char **w, size_t n, char *buf, size_t cap)
{
	size_t i, len = 0, l;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		l = strlen(w[i]);
		if (len + l + 2 > cap)
			return perr(ps, "line too long");
		if (i > 0)
			buf[len++] = ' ';
		memcpy(buf + len, w[i], l + 1);
		len += l;
	}
	return 0;
}

static int
parse_hex(struct parser *ps, char **w, size_t n, uint8_t *out, size_t cap,
	  size_t *len, const char *what)
{
	char buf[4 * VUICC_MAX_RDATA + 64];
	int r;

	if (join_words(ps, w, n, buf, sizeof(buf)) < 0)
		return -1;
	r = hex_decode(out, cap, buf);
	if (r == -ENOSPC)
		return perr(ps, "%s longer than %zu bytes", what, cap);
	if (r < 0)
		return perr(ps, "%s: invalid hex '%s'", what, buf);
	*len = (size_t)r;
	return 0;
}

/* One hex byte, written as 1 or 2 digits ("9", "0A"). */
static int
parse_byte(struct parser *ps, const char *s, uint8_t *out, const char *what)
{
	int hi, lo;

	if (s[0] == '\0' || (s[1] != '\0' && s[2] != '\0'))
		return perr(ps, "%s: '%s' is not a hex byte", what, s);
	hi = hex_digit(s[0]);
	lo = s[1] ? hex_digit(s[1]) : 0;
	if (hi < 0 || lo < 0)
		return perr(ps, "%s: '%s' is not a hex byte", what, s);
	*out = (uint8_t)(s[1] ? hi << 4 | lo : hi);
	return 0;
}

static int
parse_count(struct parser *ps, const char *s, unsigned long max,
	    unsigned long *out, const char *what)
{
	char *end;

	*out = 0;
	if (*s < '0' || *s > '9')
		return perr(ps, "%s: '%s' is not a number", what, s);
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out > max)
		return perr(ps, "%s: '%s' is not a number up to %lu", what, s,
			    max);
	return 0;
}

/* A channel identifier, 0..15 (1..7 are valid; the others test rejection). */
static int
parse_channel(struct parser *ps, const char *s, uint8_t *out)
{
	unsigned long v;

	if (parse_count(ps, s, 15, &v, "channel") < 0)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

static int
parse_seconds(struct parser *ps, const char *s, bool zero_ok, int64_t *ms,
	      const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 ||
	    (!zero_ok && v == 0) || v > SC_MAX_SECONDS)
		return perr(ps, "%s: '%s' is not a number of seconds", what, s);
	*ms = (int64_t)(v * 1000.0 + 0.5);
	return 0;
}

/* --- named proactive commands (TS 102 223 clause 6.6) ------------------ */

typedef int (*pro_body_fn)(struct parser *ps, char **args, size_t n,
			   struct tlv_buf *b);

/* Duration, clause 8.8: unit 00 minutes, 01 seconds; 00 is reserved. */
static int
body_poll_interval(struct parser *ps, char **args, size_t n, struct tlv_buf *b)
{
	unsigned long secs;
	uint8_t d[2];

	if (parse_count(ps, args[0], 255 * 60, &secs, "poll-interval") < 0)
		return -1;
	if (secs == 0)
		return perr(ps, "poll-interval: a duration of 0 is reserved");
	if (secs <= 255) {
		d[0] = 0x01;
		d[1] = (uint8_t)secs;
	} else {
		if (secs % 60 != 0)
			return perr(ps, "poll-interval: %lu s is above 255 s and "
				    "not a whole number of minutes", secs);
		d[0] = 0x00;
		d[1] = (uint8_t)(secs / 60);
	}
	tlv_put_ctlv(b, CTAG_DURATION, d, sizeof(d));
	return 0;
}

/* Event list, clause 8.25: may be empty (removes the list). */
static int
body_event_list(struct parser *ps, char **args, size_t n, struct tlv_buf *b)
{
	uint8_t ev[SC_MAX_WORDS];
	size_t i;

	for (i = 0; i < n; i++)
		if (parse_byte(ps, args[i], &ev[i], "set-event-list") < 0)
			return -1;
	tlv_put_ctlv(b, CTAG_EVENT_LIST, ev, n);
	return 0;
}

static int
body_timer_id(struct parser *ps, char **args, size_t n, struct tlv_buf *b)
{
	uint8_t id;

	if (parse_byte(ps, args[0], &id, "timer identifier") < 0)
		return -1;
	tlv_put_ctlv(b, CTAG_TIMER_ID, &id, 1);
	return 0;
}

/* Timer value, clause 8.38: hours, minutes, seconds in BCD, nibbles swapped. */
static int
body_timer_start(struct parser *ps, char **args, size_t n, struct tlv_buf *b)
{
	unsigned h, m, s;
	uint8_t v[3];
	char tail;

	if (body_timer_id(ps, args, n, b) < 0)
		return -1;
	if (sscanf(args[1], "%2u:%2u:%2u%c", &h, &m, &s, &tail) != 3 ||
	    m > 59 || s > 59)
		return perr(ps, "timer-start: '%s' is not HH:MM:SS", args[1]);
	v[0] = (uint8_t)((h % 10) << 4 | h / 10);
	v[1] = (uint8_t)((m % 10) << 4 | m / 10);
	v[2] = (uint8_t)((s % 10) << 4 | s / 10);
	tlv_put_ctlv(b, CTAG_TIMER_VALUE, v, sizeof(v));
	return 0;
}

static const struct pro_def {
	const char *name;
	uint8_t type;
	int qualifier;		/* -1: the first argument, in hex */
	size_t min_args, max_args;
	pro_body_fn body;
	const char *usage;
} pro_defs[] = {
	{ "more-time", 0x02, 0x00, 0, 0, NULL, "more-time" },
	{ "poll-interval", 0x03, 0x00, 1, 1, body_poll_interval,
	  "poll-interval SECONDS" },
	{ "polling-off", 0x04, 0x00, 0, 0, NULL, "polling-off" },
	{ "set-event-list", 0x05, 0x00, 0, SC_MAX_WORDS, body_event_list,
	  "set-event-list [EVENT...]" },
	{ "timer-start", 0x27, 0x00, 2, 2, body_timer_start,
	  "timer-start ID HH:MM:SS" },
	{ "timer-stop", 0x27, 0x01, 1, 1, body_timer_id, "timer-stop ID" },
	{ "timer-get", 0x27, 0x02, 1, 1, body_timer_id, "timer-get ID" },
	{ "local-info", 0x26, -1, 1, 1, NULL, "local-info QUALIFIER" },
};

static const struct pro_def *
pro_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(pro_defs) / sizeof(pro_defs[0]); i++)
		if (strcmp(pro_defs[i].name, name) == 0)
			return &pro_defs[i];
	return NULL;
}

/*
 * D0 { command details 81 03 number type qualifier, device identities
 * 82 02 81 82 (UICC to terminal), body } per TS 102 223 clause 6.6.
 */
static int
build_named(struct parser *ps, const struct pro_def *d, char **args, size_t n,
	    uint8_t *out, size_t cap, size_t *len)
{
	static const uint8_t dev[] = { DEV_UICC, DEV_TERMINAL };
	uint8_t details[3];
	struct tlv_buf b;
	size_t mark;

	if (n < d->min_args || n > d->max_args)
		return perr(ps, "usage: proactive %s", d->usage);
	details[0] = ps->next_number;
	details[1] = d->type;
	if (d->qualifier < 0) {
		if (parse_byte(ps, args[0], &details[2], d->name) < 0)
			return -1;
	} else {
		details[2] = (uint8_t)d->qualifier;
	}
	tlv_buf_init(&b, out, cap);
	mark = tlv_begin(&b, BER_PROACTIVE_COMMAND);
	tlv_put_ctlv(&b, CTAG_COMMAND_DETAILS, details, sizeof(details));
	tlv_put_ctlv(&b, CTAG_DEVICE_IDENTITIES, dev, sizeof(dev));
	if (d->body && d->body(ps, args, n, &b) < 0)
		return -1;
	tlv_end(&b, mark);
	if (!tlv_buf_ok(&b))
		return perr(ps, "proactive command longer than %zu bytes", cap);
	/* Command numbers 01..FE (clause 8.6); FF is reserved. */
	ps->next_number = ps->next_number == 0xFE ? 1 : ps->next_number + 1;
	*len = b.len;
	return 0;
}

/* "NAME ARGS" or raw hex of the whole D0 object. */
static int
parse_proactive(struct parser *ps, char **w, size_t n, uint8_t *out,
		size_t *len)
{
	const struct pro_def *d;

	if (n == 0)
		return perr(ps, "proactive: a name or hex is missing");
	d = pro_lookup(w[0]);
	if (d)
		return build_named(ps, d, w + 1, n - 1, out,
				   VUICC_MAX_PROACTIVE, len);
	if (strspn(w[0], "0123456789abcdefABCDEF:") != strlen(w[0]))
		return perr(ps, "unknown proactive command '%s'", w[0]);
	if (parse_hex(ps, w, n, out, VUICC_MAX_PROACTIVE, len,
		      "proactive command") < 0)
		return -1;
	if (*len == 0)
		return perr(ps, "proactive: empty command");
	return 0;
}

static int
parse_expect(struct parser *ps, char **w, size_t n, struct step *st)
{
	unsigned long count = 1;

	st->kind = STEP_EXPECT;
	if (n == 0)
		return perr(ps, "expect what? (profile, tr, envelope, status, "
			    "data)");
	if (strcmp(w[0], "data") == 0) {
		st->kind = STEP_EXPECT_DATA;
		if (n < 3)
			return perr(ps, "usage: expect data CHANNEL PATTERN");
		if (parse_channel(ps, w[1], &st->channel) < 0)
			return -1;
		return parse_pattern(ps, w + 2, n - 2, &st->pat);
	}
	if (strcmp(w[0], "profile") == 0) {
		st->what = VUICC_EV_PROFILE;
		if (n == 1) {
			st->pat.rest = true;
			return 0;
		}
	} else if (strcmp(w[0], "tr") == 0) {
		st->what = VUICC_EV_TR;
	} else if (strcmp(w[0], "envelope") == 0) {
		st->what = VUICC_EV_ENVELOPE;
	} else if (strcmp(w[0], "status") == 0) {
		st->what = VUICC_EV_STATUS;
		if (n > 2)
			return perr(ps, "usage: expect status [COUNT]");
		if (n == 2 && parse_count(ps, w[1], 100000, &count,
					  "expect status") < 0)
			return -1;
		if (count == 0)
			return perr(ps, "expect status: COUNT must be at least 1");
		st->count = (unsigned)count;
		return 0;
	} else {
		return perr(ps, "expect '%s'? (profile, tr, envelope, status, "
			    "data)", w[0]);
	}
	if (n == 1)
		return perr(ps, "expect %s: PATTERN is missing", w[0]);
	return parse_pattern(ps, w + 1, n - 1, &st->pat);
}

/* on envelope PATTERN reply HEX|- [SW]  /  on envelope PATTERN proactive ... */
static int
parse_on(struct parser *ps, char **w, size_t n, struct step *st)
{
	size_t i;
	unsigned long sw;
	char *end;

	st->kind = STEP_ON_ENVELOPE;
	if (n == 0 || strcmp(w[0], "envelope") != 0)
		return perr(ps, "usage: on envelope PATTERN reply|proactive ...");
	for (i = 1; i < n; i++)
		if (strcmp(w[i], "reply") == 0 || strcmp(w[i], "proactive") == 0)
			break;
	if (i == 1)
		return perr(ps, "on envelope: PATTERN is missing");
	if (i == n)
		return perr(ps, "on envelope: 'reply' or 'proactive' is missing");
	if (parse_pattern(ps, w + 1, i - 1, &st->pat) < 0)
		return -1;
	if (strcmp(w[i], "proactive") == 0) {
		st->action = RULE_PROACTIVE;
		return parse_proactive(ps, w + i + 1, n - i - 1, st->bytes,
				       &st->bytes_len);
	}
	st->action = RULE_REPLY;
	st->sw = 0x9000;
	i++;
	if (i == n || n - i > 2)
		return perr(ps, "usage: on envelope PATTERN reply HEX|- [SW]");
	if (strcmp(w[i], "-") != 0 &&
	    parse_hex(ps, w + i, 1, st->bytes, VUICC_MAX_RDATA, &st->bytes_len,
		      "reply data") < 0)
		return -1;
	if (n - i == 2) {
		errno = 0;
		sw = strtoul(w[i + 1], &end, 16);
		if (strlen(w[i + 1]) != 4 || *end != '\0' || errno != 0)
			return perr(ps, "reply: '%s' is not a status word (4 hex "
				    "digits)", w[i + 1]);
		st->sw = (uint16_t)sw;
	}
	return 0;
}

/* --- BIP steps (TS 102 223 clauses 6.4.27-6.4.31, 6.6.27-6.6.31) ------- */

/* D0 { 81 03 number type qualifier, 82 02 81 dest, body }, numbered now. */
static int
build_bip(struct parser *ps, struct step *st, uint8_t type, uint8_t qualifier,
	  uint8_t dest, const uint8_t *body, size_t body_len)
{
	const uint8_t details[] = { ps->next_number, type, qualifier };
	const uint8_t dev[] = { DEV_UICC, dest };
	struct tlv_buf b;
	size_t mark;

	tlv_buf_init(&b, st->bytes, VUICC_MAX_PROACTIVE);
	mark = tlv_begin(&b, BER_PROACTIVE_COMMAND);
	tlv_put_ctlv(&b, CTAG_COMMAND_DETAILS, details, sizeof(details));
	tlv_put_ctlv(&b, CTAG_DEVICE_IDENTITIES, dev, sizeof(dev));
	tlv_put_raw(&b, body, body_len);
	tlv_end(&b, mark);
	if (!tlv_buf_ok(&b))
		return perr(ps, "command longer than %d bytes",
			    VUICC_MAX_PROACTIVE);
	ps->next_number = ps->next_number == 0xFE ? 1 : ps->next_number + 1;
	st->kind = STEP_BIP;
	st->bytes_len = b.len;
	return 0;
}

/* PORT and the optional BUFFER (decimal). */
static int
parse_port(struct parser *ps, const char *s, uint16_t *port)
{
	unsigned long v;

	if (parse_count(ps, s, 65535, &v, "port") < 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static void
put_buffer_and_transport(struct tlv_buf *b, unsigned long buffer,
			 uint8_t transport, uint16_t port)
{
	const uint8_t bs[] = { (uint8_t)(buffer >> 8), (uint8_t)buffer };
	const uint8_t tl[] = { transport, (uint8_t)(port >> 8), (uint8_t)port };

	tlv_put_ctlv(b, TAG_BUFFER_SIZE, bs, sizeof(bs));
	tlv_put_ctlv(b, TAG_TRANSPORT, tl, sizeof(tl));
}

/*
 * open-client tcp|udp ADDR PORT [BUFFER] [immediate|ondemand]: OPEN
 * CHANNEL related to the default (network) bearer, clause 6.6.27.4: bearer
 * description 35 01 03, buffer size, transport level 02 (TCP) or 01 (UDP)
 * "UICC in client mode, remote connection", data destination address
 * 3E 05 21 IPv4 or 3E 11 57 IPv6 (clauses 8.52, 8.55, 8.58, 8.59).
 */
static int
parse_open_client(struct parser *ps, char **w, size_t n, struct step *st)
{
	static const uint8_t bearer[] = { 0x03 };
	uint8_t body[64], addr[1 + 16];
	unsigned long buffer = BIP_BUFFER_DEFAULT;
	uint8_t qualifier = 0x01, transport;
	char host[64];
	size_t addr_len, l, i;
	struct tlv_buf b;
	uint16_t port;

	if (n < 3 || n > 5)
		return perr(ps, "usage: open-client tcp|udp ADDR PORT [BUFFER] "
			    "[immediate|ondemand]");
	if (strcmp(w[0], "tcp") == 0)
		transport = 0x02;
	else if (strcmp(w[0], "udp") == 0)
		transport = 0x01;
	else
		return perr(ps, "open-client: '%s' is not tcp or udp", w[0]);
	l = strlen(w[1]);
	if (l >= sizeof(host))
		return perr(ps, "open-client: address '%s' too long", w[1]);
	memcpy(host, w[1], l + 1);
	if (l >= 2 && host[0] == '[' && host[l - 1] == ']') {
		host[l - 1] = '\0';
		memmove(host, host + 1, l - 1);
	}
	if (inet_pton(AF_INET, host, addr + 1) == 1) {
		addr[0] = 0x21;
		addr_len = 1 + 4;
	} else if (inet_pton(AF_INET6, host, addr + 1) == 1) {
		addr[0] = 0x57;
		addr_len = 1 + 16;
	} else {
		return perr(ps, "open-client: '%s' is not an IPv4 or IPv6 "
			    "address", w[1]);
	}
	if (parse_port(ps, w[2], &port) < 0)
		return -1;
	for (i = 3; i < n; i++) {
		if (strcmp(w[i], "immediate") == 0)
			qualifier = 0x01;
		else if (strcmp(w[i], "ondemand") == 0)
			qualifier = 0x00;
		else if (parse_count(ps, w[i], 65535, &buffer,
				     "open-client buffer") < 0)
			return -1;
	}
	tlv_buf_init(&b, body, sizeof(body));
	tlv_put_ctlv(&b, TAG_BEARER, bearer, sizeof(bearer));
	put_buffer_and_transport(&b, buffer, transport, port);
	tlv_put_ctlv(&b, TAG_OTHER_ADDRESS, addr, addr_len);
	return build_bip(ps, st, CMD_OPEN_CHANNEL, qualifier, DEV_TERMINAL,
			 body, b.len);
}

/*
 * open-local tcp|udp PORT [BUFFER] [loopback]: OPEN CHANNEL related to
 * Terminal Server Mode (a terminal application listening on PORT): buffer
 * size and transport level 05 (TCP) or 04 (UDP) "UICC in client mode, local
 * connection"; no bearer description and no address, the terminal itself
 * is the peer.  "loopback" adds data destination address 127.0.0.1.
 */
static int
parse_open_local(struct parser *ps, char **w, size_t n, struct step *st)
{
	static const uint8_t loopback[] = { 0x21, 127, 0, 0, 1 };
	unsigned long buffer = BIP_BUFFER_DEFAULT;
	bool with_addr = false;
	uint8_t body[32], transport;
	struct tlv_buf b;
	uint16_t port;
	size_t i;

	if (n < 2 || n > 4)
		return perr(ps, "usage: open-local tcp|udp PORT [BUFFER] "
			    "[loopback]");
	if (strcmp(w[0], "tcp") == 0)
		transport = 0x05;
	else if (strcmp(w[0], "udp") == 0)
		transport = 0x04;
	else
		return perr(ps, "open-local: '%s' is not tcp or udp", w[0]);
	if (parse_port(ps, w[1], &port) < 0)
		return -1;
	for (i = 2; i < n; i++) {
		if (strcmp(w[i], "loopback") == 0)
			with_addr = true;
		else if (parse_count(ps, w[i], 65535, &buffer,
				     "open-local buffer") < 0)
			return -1;
	}
	tlv_buf_init(&b, body, sizeof(body));
	put_buffer_and_transport(&b, buffer, transport, port);
	if (with_addr)
		tlv_put_ctlv(&b, TAG_OTHER_ADDRESS, loopback, sizeof(loopback));
	return build_bip(ps, st, CMD_OPEN_CHANNEL, 0x01, DEV_TERMINAL, body,
			 b.len);
}

/* The data of a send step: numbers for every 237-byte chunk. */
static void
set_send(struct parser *ps, struct step *st, uint8_t channel, uint8_t *data,
	 size_t len, bool now)
{
	size_t chunks = (len + BIP_CHUNK_MAX - 1) / BIP_CHUNK_MAX;

	st->kind = STEP_BIP_SEND;
	st->channel = channel;
	st->data = data;
	st->data_len = len;
	st->flag = now;
	st->number = ps->next_number;
	ps->next_number = (uint8_t)((ps->next_number - 1 + chunks) % 0xFE + 1);
}

/* send CHANNEL HEX... [store|now] */
static int
parse_send(struct parser *ps, char **w, size_t n, struct step *st)
{
	bool now = true;
	uint8_t channel, *data;
	size_t cap, i, len = 0;
	char *buf;
	int r;

	if (n >= 3 && (strcmp(w[n - 1], "store") == 0 ||
		       strcmp(w[n - 1], "now") == 0)) {
		now = strcmp(w[n - 1], "now") == 0;
		n--;
	}
	if (n < 2)
		return perr(ps, "usage: send CHANNEL HEX [store|now]");
	if (parse_channel(ps, w[0], &channel) < 0)
		return -1;
	for (i = 1; i < n; i++)
		len += strlen(w[i]) + 1;
	buf = malloc(len + 1);
	cap = len / 2 + 1;
	data = malloc(cap);
	if (buf == NULL || data == NULL) {
		free(buf);
		free(data);
		return perr(ps, "out of memory");
	}
	buf[0] = '\0';
	for (i = 1; i < n; i++) {
		strcat(buf, w[i]);
		strcat(buf, " ");
	}
	r = hex_decode(data, cap, buf);
	free(buf);
	if (r <= 0) {
		free(data);
		return perr(ps, "send: invalid hex data");
	}
	set_send(ps, st, channel, data, (size_t)r, now);
	return 0;
}

/* send-text CHANNEL TEXT: the rest of the line, with \r \n \t \\ \xHH. */
static int
parse_send_text(struct parser *ps, const char *text, char **w, size_t n,
		struct step *st)
{
	size_t len = 0, i;
	uint8_t channel, *data;
	int hi, lo;

	if (n < 2)
		return perr(ps, "usage: send-text CHANNEL TEXT");
	if (parse_channel(ps, w[0], &channel) < 0)
		return -1;
	data = malloc(strlen(text) + 1);
	if (data == NULL)
		return perr(ps, "out of memory");
	for (i = 0; text[i]; i++) {
		if (text[i] != '\\') {
			data[len++] = (uint8_t)text[i];
			continue;
		}
		switch (text[++i]) {
		case 'r':
			data[len++] = '\r';
			break;
		case 'n':
			data[len++] = '\n';
			break;
		case 't':
			data[len++] = '\t';
			break;
		case '\\':
			data[len++] = '\\';
			break;
		case 'x':
			if ((hi = hex_digit(text[i + 1])) < 0 ||
			    (lo = hex_digit(text[i + 2])) < 0) {
				free(data);
				return perr(ps, "send-text: \\x needs two hex "
					    "digits");
			}
			data[len++] = (uint8_t)(hi << 4 | lo);
			i += 2;
			break;
		default:
			free(data);
			return perr(ps, "send-text: unknown escape '\\%c' (use "
				    "\\r \\n \\t \\\\ \\xHH)", text[i] ? text[i] : ' ');
		}
	}
	set_send(ps, st, channel, data, len, true);
	return 0;
}

/* send-file CHANNEL FILE: read now, so that a missing file is a parse error. */
static int
parse_send_file(struct parser *ps, char **w, size_t n, struct step *st)
{
	uint8_t channel, *data = NULL, *grown;
	size_t len = 0, cap = 0, r;
	FILE *f;

	if (n != 2)
		return perr(ps, "usage: send-file CHANNEL FILE");
	if (parse_channel(ps, w[0], &channel) < 0)
		return -1;
	f = fopen(w[1], "rb");
	if (f == NULL)
		return perr(ps, "send-file: %s: %s", w[1], strerror(errno));
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			if (cap > SC_MAX_SEND_FILE ||
			    (grown = realloc(data, cap)) == NULL) {
				fclose(f);
				free(data);
				return perr(ps, "send-file: %s: too big (at most "
					    "%u bytes)", w[1], SC_MAX_SEND_FILE);
			}
			data = grown;
		}
		r = fread(data + len, 1, cap - len, f);
		len += r;
		if (r == 0)
			break;
	}
	if (ferror(f) || len == 0) {
		int err = ferror(f) ? errno : 0;

		fclose(f);
		free(data);
		return perr(ps, "send-file: %s: %s", w[1],
			    err ? strerror(err) : "empty file");
	}
	fclose(f);
	set_send(ps, st, channel, data, len, true);
	return 0;
}

/* receive CHANNEL LEN: RECEIVE DATA, channel data length B7 01 LEN. */
static int
parse_receive(struct parser *ps, char **w, size_t n, struct step *st)
{
	unsigned long len;
	uint8_t channel, body[3];

	if (n != 2)
		return perr(ps, "usage: receive CHANNEL LEN");
	if (parse_channel(ps, w[0], &channel) < 0 ||
	    parse_count(ps, w[1], 255, &len, "receive length") < 0)
		return -1;
	body[0] = CTAG_CHANNEL_DATA_LEN;
	body[1] = 1;
	body[2] = (uint8_t)len;
	return build_bip(ps, st, CMD_RECEIVE_DATA, 0x00, DEV_CHANNEL(channel),
			 body, sizeof(body));
}

/* close CHANNEL [listen]: qualifier 01 puts a server channel back to LISTEN. */
static int
parse_close(struct parser *ps, char **w, size_t n, struct step *st)
{
	uint8_t channel;

	if (n < 1 || n > 2 || (n == 2 && strcmp(w[1], "listen") != 0))
		return perr(ps, "usage: close CHANNEL [listen]");
	if (parse_channel(ps, w[0], &channel) < 0)
		return -1;
	return build_bip(ps, st, CMD_CLOSE_CHANNEL, n == 2 ? 0x01 : 0x00,
			 DEV_CHANNEL(channel), NULL, 0);
}

static int
parse_auto_receive(struct parser *ps, char **w, size_t n, struct step *st)
{
	st->kind = STEP_AUTO_RECEIVE;
	if (n != 1 || (strcmp(w[0], "on") != 0 && strcmp(w[0], "off") != 0))
		return perr(ps, "usage: auto-receive on|off");
	st->flag = strcmp(w[0], "on") == 0;
	return 0;
}


/* --- the DM_SC server (dmserver.h) --------------------------------------- */

static int
dup_words(struct parser *ps, char **w, size_t n, char **out)
{
	char buf[8192];

	if (join_words(ps, w, n, buf, sizeof(buf)) < 0)
		return -1;
	*out = strdup(buf);
	return *out ? 0 : perr(ps, "out of memory");
}

static int
dup_str(struct parser *ps, const char *s, char **out)
{
	*out = strdup(s);
	return *out ? 0 : perr(ps, "out of memory");
}

/* A SyncML status code, 100..599. */
static int
parse_code(struct parser *ps, const char *s, unsigned *code)
{
	unsigned long v;

	if (parse_count(ps, s, 599, &v, "status code") < 0)
		return -1;
	if (v < 100)
		return perr(ps, "status code: '%s' is not 100..599", s);
	*code = (unsigned)v;
	return 0;
}

/* A trailing "expect CODE": taken off the words. */
static int
take_expect(struct parser *ps, char **w, size_t *n, unsigned *code)
{
	*code = 0;
	if (*n >= 2 && strcmp(w[*n - 2], "expect") == 0) {
		if (parse_code(ps, w[*n - 1], code) < 0)
			return -1;
		*n -= 2;
	}
	return 0;
}

static int
dm_setting(struct parser *ps, char **w, size_t n, struct step *st)
{
	uint8_t nonce[64];
	unsigned long v;
	int r;

	st->kind = STEP_DM_SET;
	if (strcmp(w[0], "dm-server") == 0 || strcmp(w[0], "dm-client") == 0) {
		st->dm_set = w[0][3] == 's' ? DM_SET_SERVER : DM_SET_CLIENT;
		if (n != 3)
			return perr(ps, "usage: %s %s PASSWORD", w[0],
				    st->dm_set == DM_SET_SERVER ? "SERVERID" :
				    "NAME");
		if (strlen(w[1]) > DM_NOTI_SERVER_ID_MAX)
			return perr(ps, "%s: '%s' is too long", w[0], w[1]);
		if (dup_str(ps, w[1], &st->s1) < 0 ||
		    dup_str(ps, w[2], &st->s2) < 0)
			return -1;
		return 0;
	}
	if (strcmp(w[0], "dm-auth") == 0) {
		st->dm_set = DM_SET_AUTH;
		if (n == 2 && strcmp(w[1], "basic") == 0)
			st->num = DMS_AUTH_BASIC;
		else if (n == 2 && strcmp(w[1], "digest") == 0)
			st->num = DMS_AUTH_DIGEST;
		else if (n == 2 && strcmp(w[1], "hmac") == 0)
			st->num = DMS_AUTH_HMAC;
		else if (n == 2 && strcmp(w[1], "none") == 0)
			st->num = DMS_AUTH_NONE;
		else
			return perr(ps, "usage: dm-auth basic|digest|hmac|none");
		return 0;
	}
	if (strcmp(w[0], "dm-nonce") == 0) {
		if (n != 3 || (strcmp(w[1], "server") != 0 &&
			       strcmp(w[1], "client") != 0))
			return perr(ps, "usage: dm-nonce server|client BASE64 "
				    "('-' for an empty nonce)");
		st->dm_set = w[1][0] == 's' ? DM_SET_NONCE_SERVER :
			     DM_SET_NONCE_CLIENT;
		r = 0;
		if (strcmp(w[2], "-") != 0)
			r = dm_b64_decode(nonce, sizeof(nonce), w[2],
					  strlen(w[2]));
		if (r < 0)
			return perr(ps, "dm-nonce: '%s' is not base64 of at "
				    "most %zu bytes", w[2], sizeof(nonce));
		st->data = malloc(r > 0 ? (size_t)r : 1);
		if (st->data == NULL)
			return perr(ps, "out of memory");
		if (r > 0)
			memcpy(st->data, nonce, (size_t)r);
		st->data_len = (size_t)r;
		return 0;
	}
	if (strcmp(w[0], "dm-format") == 0) {
		st->dm_set = DM_SET_FORMAT;
		if (n == 2 && strcmp(w[1], "xml") == 0)
			st->num = DMS_FORMAT_XML;
		else if (n == 2 && strcmp(w[1], "wbxml") == 0)
			st->num = DMS_FORMAT_WBXML;
		else if (n == 2 && strcmp(w[1], "auto") == 0)
			st->num = DMS_FORMAT_AUTO;
		else
			return perr(ps, "usage: dm-format xml|wbxml|auto");
		return 0;
	}
	/* dm-max-msg-size */
	st->dm_set = DM_SET_MAX_MSG;
	if (n != 2)
		return perr(ps, "usage: dm-max-msg-size N");
	if (parse_count(ps, w[1], 0xFFFFFFFFul, &v, "dm-max-msg-size") < 0)
		return -1;
	if (v < 256)
		return perr(ps, "dm-max-msg-size: at least 256");
	st->num = (unsigned)v;
	return 0;
}

/*
 * dm-notify [ui background|informative|user] [session HEX4] [nonce zero]
 * [bad-digest] [server ID] [port N] [version 11|12]
 */
static int
parse_dm_notify(struct parser *ps, char **w, size_t n, struct step *st)
{
	unsigned long v;
	char *end;
	size_t i;

	st->kind = STEP_DM_NOTIFY;
	st->noti.session_id = -1;
	st->noti.version = DM_NOTI_VERSION_12;
	st->noti.ui_mode = DM_UI_NOT_SPECIFIED;
	for (i = 1; i < n; i++) {
		const char *arg = i + 1 < n ? w[i + 1] : NULL;

		if (strcmp(w[i], "bad-digest") == 0) {
			st->noti.bad_digest = true;
			continue;
		}
		if (arg == NULL)
			break;
		if (strcmp(w[i], "ui") == 0) {
			if (strcmp(arg, "background") == 0)
				st->noti.ui_mode = DM_UI_BACKGROUND;
			else if (strcmp(arg, "informative") == 0)
				st->noti.ui_mode = DM_UI_INFORMATIVE;
			else if (strcmp(arg, "user") == 0)
				st->noti.ui_mode = DM_UI_USER_INTERACTION;
			else if (strcmp(arg, "none") == 0)
				st->noti.ui_mode = DM_UI_NOT_SPECIFIED;
			else
				return perr(ps, "dm-notify: ui '%s'? (background, "
					    "informative, user)", arg);
		} else if (strcmp(w[i], "session") == 0) {
			errno = 0;
			v = strtoul(arg, &end, 16);
			if (*arg == '\0' || strlen(arg) > 4 || *end != '\0' ||
			    errno != 0)
				return perr(ps, "dm-notify: session '%s' is not "
					    "1 to 4 hex digits", arg);
			st->noti.session_id = (int)v;
		} else if (strcmp(w[i], "nonce") == 0) {
			if (strcmp(arg, "zero") != 0)
				return perr(ps, "dm-notify: nonce zero?");
			st->noti.zero_nonce = true;
		} else if (strcmp(w[i], "server") == 0) {
			if (strlen(arg) > DM_NOTI_SERVER_ID_MAX)
				return perr(ps, "dm-notify: server id too long");
			if (dup_str(ps, arg, &st->s1) < 0)
				return -1;
		} else if (strcmp(w[i], "port") == 0) {
			if (parse_port(ps, arg, &st->port) < 0)
				return -1;
			st->has_port = true;
		} else if (strcmp(w[i], "version") == 0) {
			if (strcmp(arg, "11") == 0)
				st->noti.version = DM_NOTI_VERSION_11;
			else if (strcmp(arg, "12") == 0)
				st->noti.version = DM_NOTI_VERSION_12;
			else
				return perr(ps, "dm-notify: version 11|12");
		} else {
			break;
		}
		i++;
	}
	if (i < n)
		return perr(ps, "usage: dm-notify [ui background|informative|"
			    "user] [session HEX4] [nonce zero] [bad-digest] "
			    "[server ID] [port N] [version 11|12]");
	/* OPEN CHANNEL, SEND DATA (two chunks at most), CLOSE CHANNEL. */
	st->numbers[0] = ps->next_number;
	st->numbers[1] = (uint8_t)(ps->next_number % 0xFE + 1);
	st->numbers[2] = (uint8_t)((ps->next_number + 2) % 0xFE + 1);
	ps->next_number = (uint8_t)((ps->next_number + 3) % 0xFE + 1);
	return 0;
}

/* A file's bytes for dm-add-file (b64: encoded). */
static int
read_dm_file(struct parser *ps, const char *path, bool b64, uint8_t **out,
	     size_t *len)
{
	uint8_t *data = NULL, *grown;
	size_t cap = 0, got = 0, r;
	char *enc;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return perr(ps, "dm-add-file: %s: %s", path, strerror(errno));
	for (;;) {
		if (got == cap) {
			cap = cap ? 2 * cap : 4096;
			if (cap > SC_DM_MAX_FILE * 2 ||
			    (grown = realloc(data, cap)) == NULL) {
				fclose(f);
				free(data);
				return perr(ps, "dm-add-file: %s: too big", path);
			}
			data = grown;
		}
		r = fread(data + got, 1, cap - got, f);
		got += r;
		if (r == 0)
			break;
	}
	if (ferror(f) || got > SC_DM_MAX_FILE) {
		fclose(f);
		free(data);
		return perr(ps, "dm-add-file: %s: read error or above %u bytes",
			    path, SC_DM_MAX_FILE);
	}
	fclose(f);
	if (!b64) {
		*out = data;
		*len = got;
		return 0;
	}
	enc = malloc(DM_B64_CAP(got));
	if (enc == NULL || dm_b64_encode(enc, DM_B64_CAP(got), data, got) < 0) {
		free(enc);
		free(data);
		return perr(ps, "out of memory");
	}
	free(data);
	*len = strlen(enc);
	*out = (uint8_t *)enc;
	return 0;
}

/* Set Data from the words (joined by blanks); "-" alone: none. */
static int
cmd_words_data(struct parser *ps, char **w, size_t n, struct dms_cmd *c)
{
	char *s;

	if (n == 0 || (n == 1 && strcmp(w[0], "-") == 0))
		return 0;
	if (dup_words(ps, w, n, &s) < 0)
		return -1;
	c->data = (uint8_t *)s;
	c->len = strlen(s);
	return 0;
}

static int
parse_dm_cmd(struct parser *ps, char *rest_of_line, char **w, size_t n,
	     struct step *st)
{
	const char *k = w[0];
	struct dms_cmd c;
	unsigned long v;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.line = ps->line;
	st->kind = STEP_DM_CMD;
	if (strcmp(k, "dm-get") == 0) {
		/* dm-get URI [expect CODE [value TEXT]] */
		c.op = DMS_OP_GET;
		if (n < 2 || (n > 2 && (n < 4 || strcmp(w[2], "expect") != 0)) ||
		    (n > 4 && (n < 6 || strcmp(w[4], "value") != 0)))
			return perr(ps, "usage: dm-get URI [expect CODE [value "
				    "TEXT]]");
		if (n >= 4 && parse_code(ps, w[3], &c.expect) < 0)
			return -1;
		if (n >= 6) {
			/* TEXT: the rest of the line after "value ". */
			char *t = strstr(rest_of_line, " value ");

			if (t == NULL)
				t = strstr(rest_of_line, "\tvalue");
			t = t ? t + 6 : NULL;
			t += t ? strspn(t, " \t") : 0;
			if (t == NULL || *t == '\0')
				return perr(ps, "dm-get: value TEXT is missing");
			if (dup_str(ps, t, &c.value) < 0)
				return -1;
			c.value_len = strlen(c.value);
		}
		if (dup_str(ps, w[1], &c.uri) < 0)
			goto fail;
		goto add;
	}
	if (take_expect(ps, w, &n, &c.expect) < 0)
		return -1;
	if (strcmp(k, "dm-add") == 0 || strcmp(k, "dm-replace") == 0 ||
	    strcmp(k, "dm-add-file") == 0) {
		bool file = strcmp(k, "dm-add-file") == 0;

		c.op = k[3] == 'a' ? DMS_OP_ADD : DMS_OP_REPLACE;
		i = 3;
		if (n >= 5 && strcmp(w[3], "type") == 0)
			i = 5;
		if (n < 3 || (file && n != i + 1) || (!file && n < i + 1 &&
							 c.op == DMS_OP_REPLACE))
			return perr(ps, "usage: %s URI FORMAT [type MIME] %s "
				    "[expect CODE]", k, file ? "FILE" :
				    "VALUE|-");
		if (dup_str(ps, w[1], &c.uri) < 0 ||
		    dup_str(ps, w[2], &c.format) < 0 ||
		    (i == 5 && dup_str(ps, w[4], &c.type) < 0))
			goto fail;
		c.opaque = strcmp(w[2], "bin") == 0;
		if (file) {
			if (read_dm_file(ps, w[i], strcmp(w[2], "b64") == 0,
					 &c.data, &c.len) < 0)
				goto fail;
		} else if (cmd_words_data(ps, w + i, n - i, &c) < 0) {
			goto fail;
		}
		goto add;
	}
	if (strcmp(k, "dm-delete") == 0) {
		c.op = DMS_OP_DELETE;
		if (n != 2)
			return perr(ps, "usage: dm-delete URI [expect CODE]");
		if (dup_str(ps, w[1], &c.uri) < 0)
			goto fail;
		goto add;
	}
	if (strcmp(k, "dm-exec") == 0) {
		c.op = DMS_OP_EXEC;
		if (n < 2)
			return perr(ps, "usage: dm-exec URI [DATA] [expect CODE]");
		if (dup_str(ps, w[1], &c.uri) < 0 ||
		    cmd_words_data(ps, w + 2, n - 2, &c) < 0)
			goto fail;
		goto add;
	}
	if (strcmp(k, "dm-copy") == 0) {
		c.op = DMS_OP_COPY;
		if (n != 3)
			return perr(ps, "usage: dm-copy TARGET SOURCE [expect "
				    "CODE]");
		if (dup_str(ps, w[1], &c.uri) < 0 ||
		    dup_str(ps, w[2], &c.source) < 0)
			goto fail;
		goto add;
	}
	if (strcmp(k, "dm-alert") == 0) {
		c.op = DMS_OP_ALERT;
		if (n < 2)
			return perr(ps, "usage: dm-alert CODE [TEXT] [expect "
				    "CODE]");
		if (parse_count(ps, w[1], 9999, &v, "dm-alert") < 0)
			return -1;
		c.alert = (unsigned)v;
		if (cmd_words_data(ps, w + 2, n - 2, &c) < 0)
			goto fail;
		goto add;
	}
	if (strcmp(k, "dm-atomic") == 0 || strcmp(k, "dm-sequence") == 0) {
		c.op = k[3] == 'a' ? DMS_OP_ATOMIC : DMS_OP_SEQUENCE;
		if (n != 1)
			return perr(ps, "usage: %s [expect CODE]", k);
		if (ps->dm_depth == SC_DM_NEST_MAX)
			return perr(ps, "%s: nested more than %d deep", k,
				    SC_DM_NEST_MAX);
		ps->dm_open[ps->dm_depth++] = c.op;
		goto add;
	}
	if (strcmp(k, "dm-end-atomic") == 0 || strcmp(k, "dm-end-sequence") == 0) {
		enum dms_op want = k[7] == 'a' ? DMS_OP_ATOMIC : DMS_OP_SEQUENCE;

		c.op = DMS_OP_END;
		if (n != 1)
			return perr(ps, "usage: %s", k);
		if (ps->dm_depth == 0 || ps->dm_open[ps->dm_depth - 1] != want)
			return perr(ps, "%s without its opening step", k);
		ps->dm_depth--;
		goto add;
	}
	if (strcmp(k, "dm-abort") == 0 || strcmp(k, "dm-package") == 0) {
		c.op = k[3] == 'a' ? DMS_OP_ABORT : DMS_OP_PACKAGE;
		if (n != 1 || c.expect)
			return perr(ps, "usage: %s", k);
		if (ps->dm_depth > 0)
			return perr(ps, "%s inside an Atomic or Sequence", k);
		goto add;
	}
	return perr(ps, "unknown step '%s'", k);
add:
	if (dms_script_add(ps->sc->dm, ps->dm_session, &c) == NULL) {
		perr(ps, "out of memory");
		goto fail;
	}
	return 0;
fail:
	free(c.uri);
	free(c.source);
	free(c.format);
	free(c.type);
	free(c.data);
	free(c.value);
	return -1;
}

/* expect dm-session|dm-end|dm-status ... */
static int
parse_expect_dm(struct parser *ps, char **w, size_t n, struct step *st)
{
	size_t i;
	unsigned long v;

	if (strcmp(w[0], "dm-session") == 0) {
		st->kind = STEP_EXPECT_DM_SESSION;
		st->num = 1200;
		for (i = 1; i + 1 < n; i += 2) {
			if (strcmp(w[i], "alert") == 0) {
				if (parse_count(ps, w[i + 1], 1201, &v,
						"alert") < 0 || v < 1200)
					return perr(ps, "expect dm-session: "
						    "alert 1200|1201");
				st->num = (unsigned)v;
			} else if (strcmp(w[i], "format") == 0 &&
				   (strcmp(w[i + 1], "xml") == 0 ||
				    strcmp(w[i + 1], "wbxml") == 0)) {
				st->wbxml_set = true;
				st->wbxml = w[i + 1][0] == 'w';
			} else {
				break;
			}
		}
		if (i != n)
			return perr(ps, "usage: expect dm-session [alert "
				    "1200|1201] [format xml|wbxml]");
		return 0;
	}
	if (strcmp(w[0], "dm-end") == 0) {
		static const char *const names[] = {
			"any", "completed", "aborted", "client-abort",
			"auth-failed",
		};
		static const enum dms_end ends[] = {
			DMS_END_NONE, DMS_END_COMPLETED, DMS_END_ABORTED,
			DMS_END_CLIENT_ABORT, DMS_END_AUTH_FAILED,
		};

		st->kind = STEP_EXPECT_DM_END;
		if (ps->dm_depth > 0)
			return perr(ps, "expect dm-end: an Atomic or Sequence "
				    "is still open");
		for (i = 0; n == 2 && i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(w[1], names[i]) == 0)
				break;
		if (n != 2 || i == sizeof(names) / sizeof(names[0]))
			return perr(ps, "usage: expect dm-end completed|aborted|"
				    "client-abort|auth-failed|any");
		st->num = ends[i];
		/* The following dm- commands belong to the next session. */
		ps->dm_session++;
		return 0;
	}
	st->kind = STEP_EXPECT_DM_STATUS;
	if (n != 3)
		return perr(ps, "usage: expect dm-status URI CODE");
	if (parse_code(ps, w[2], &st->num) < 0)
		return -1;
	return dup_str(ps, w[1], &st->s1);
}

static int
parse_step(struct parser *ps, char *line, struct step *st)
{
	char *w[SC_MAX_WORDS];
	size_t n = 0, rest2;
	unsigned long v;
	char *p, *save = NULL;
	const char *msg;

	/* 'log' keeps its text verbatim, 'send-text' what follows CHANNEL. */
	msg = line + strcspn(line, " \t");
	msg += strspn(msg, " \t");
	rest2 = (size_t)(msg - line) + strcspn(msg, " \t");
	rest2 += strspn(line + rest2, " \t");
	for (p = strtok_r(line, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
		if (n == SC_MAX_WORDS)
			return perr(ps, "more than %d words on a line",
				    SC_MAX_WORDS);
		w[n++] = p;
	}
	if (strncmp(w[0], "dm-", 3) == 0 ||
	    (strcmp(w[0], "expect") == 0 && n > 1 && strncmp(w[1], "dm-", 3) == 0))
		ps->sc->dm_used = true;
	if (strcmp(w[0], "expect") == 0 && n > 1 &&
	    (strcmp(w[1], "dm-session") == 0 || strcmp(w[1], "dm-end") == 0 ||
	     strcmp(w[1], "dm-status") == 0))
		return parse_expect_dm(ps, w + 1, n - 1, st);
	if (strcmp(w[0], "expect") == 0)
		return parse_expect(ps, w + 1, n - 1, st);
	if (strcmp(w[0], "dm-server") == 0 || strcmp(w[0], "dm-client") == 0 ||
	    strcmp(w[0], "dm-auth") == 0 || strcmp(w[0], "dm-nonce") == 0 ||
	    strcmp(w[0], "dm-format") == 0 ||
	    strcmp(w[0], "dm-max-msg-size") == 0)
		return dm_setting(ps, w, n, st);
	if (strcmp(w[0], "dm-notify") == 0)
		return parse_dm_notify(ps, w, n, st);
	if (strncmp(w[0], "dm-", 3) == 0)
		return parse_dm_cmd(ps, st->text, w, n, st);
	if (strcmp(w[0], "proactive") == 0) {
		st->kind = STEP_PROACTIVE;
		return parse_proactive(ps, w + 1, n - 1, st->bytes,
				       &st->bytes_len);
	}
	if (strcmp(w[0], "on") == 0)
		return parse_on(ps, w + 1, n - 1, st);
	if (strcmp(w[0], "busy") == 0) {
		st->kind = STEP_BUSY;
		if (n != 2)
			return perr(ps, "usage: busy N");
		if (parse_count(ps, w[1], 1000000, &v, "busy") < 0)
			return -1;
		st->count = (unsigned)v;
		return 0;
	}
	if (strcmp(w[0], "sleep") == 0 || strcmp(w[0], "timeout") == 0) {
		bool sleep = w[0][0] == 's';

		st->kind = sleep ? STEP_SLEEP : STEP_TIMEOUT;
		if (n != 2)
			return perr(ps, "usage: %s SECONDS", w[0]);
		return parse_seconds(ps, w[1], sleep, &st->ms, w[0]);
	}
	if (strcmp(w[0], "exit") == 0) {
		st->kind = STEP_EXIT;
		if (n != 1)
			return perr(ps, "usage: exit");
		return 0;
	}
	if (strcmp(w[0], "log") == 0) {
		st->kind = STEP_LOG;
		st->msg = msg;	/* fixed up to point into text by the caller */
		return 0;
	}
	if (strcmp(w[0], "open-client") == 0)
		return parse_open_client(ps, w + 1, n - 1, st);
	if (strcmp(w[0], "open-local") == 0)
		return parse_open_local(ps, w + 1, n - 1, st);
	if (strcmp(w[0], "send") == 0)
		return parse_send(ps, w + 1, n - 1, st);
	if (strcmp(w[0], "send-text") == 0)
		return parse_send_text(ps, st->text + rest2, w + 1, n - 1, st);
	if (strcmp(w[0], "send-file") == 0)
		return parse_send_file(ps, w + 1, n - 1, st);
	if (strcmp(w[0], "receive") == 0)
		return parse_receive(ps, w + 1, n - 1, st);
	if (strcmp(w[0], "close") == 0)
		return parse_close(ps, w + 1, n - 1, st);
	if (strcmp(w[0], "channel-status") == 0) {
		if (n != 1)
			return perr(ps, "usage: channel-status");
		return build_bip(ps, st, CMD_GET_CHANNEL_STATUS, 0x00,
				 DEV_TERMINAL, NULL, 0);
	}
	if (strcmp(w[0], "auto-receive") == 0)
		return parse_auto_receive(ps, w + 1, n - 1, st);
	return perr(ps, "unknown step '%s'", w[0]);
}

/* Cut a comment ('#' at the start or after blank) and surrounding blanks. */
static char *
clean_line(char *s)
{
	char *p, *end;

	for (p = s; *p; p++)
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int
load_steps(struct scenario *sc, FILE *f, struct parser *ps)
{
	char *buf = NULL, *line, *work;
	size_t cap = 0, alloc = 0;
	struct step *st, *grown;
	bool after_exit = false;
	int r = 0;

	while (getline(&buf, &cap, f) >= 0) {
		ps->line++;
		line = clean_line(buf);
		if (*line == '\0')
			continue;
		if (after_exit) {
			r = perr(ps, "steps after 'exit' would never run");
			break;
		}
		if (sc->n_steps == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			grown = realloc(sc->steps, alloc * sizeof(*grown));
			if (grown == NULL) {
				r = perr(ps, "out of memory");
				break;
			}
			sc->steps = grown;
		}
		st = &sc->steps[sc->n_steps];
		memset(st, 0, sizeof(*st));
		st->line = ps->line;
		st->text = strdup(line);
		work = strdup(line);
		if (st->text == NULL || work == NULL) {
			free(st->text);
			free(work);
			r = perr(ps, "out of memory");
			break;
		}
		sc->n_steps++;
		r = parse_step(ps, work, st);
		if (r == 0 && st->kind == STEP_LOG)
			st->msg = st->text + (st->msg - work);
		free(work);
		if (r < 0)
			break;
		after_exit = st->kind == STEP_EXIT;
	}
	if (r == 0 && ferror(f))
		r = perr(ps, "read error: %s", strerror(errno));
	free(buf);
	return r;
}

int
scenario_load(const char *path, struct scenario **out)
{
	struct parser ps = { .path = path, .next_number = 1 };
	struct scenario *sc;
	FILE *f;
	int r;

	*out = NULL;
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "scenario %s: %s\n", path, strerror(errno));
		return -1;
	}
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL || (sc->path = strdup(path)) == NULL ||
	    (sc->dm = dms_new()) == NULL ||
	    (sc->backlog = calloc(SC_BACKLOG_MAX, sizeof(*sc->backlog))) == NULL) {
		fclose(f);
		scenario_free(sc);
		fprintf(stderr, "scenario %s: out of memory\n", path);
		return -1;
	}
	ps.sc = sc;
	r = load_steps(sc, f, &ps);
	fclose(f);
	if (r == 0 && sc->n_steps > 0) {
		sc->rules = calloc(sc->n_steps, sizeof(*sc->rules));
		if (sc->rules == NULL)
			r = perr(&ps, "out of memory");
	}
	if (r < 0) {
		fprintf(stderr, "scenario %s:%u: %s\n", path, ps.line, ps.err);
		scenario_free(sc);
		return -1;
	}
	sc->state = SCENARIO_RUNNING;
	sc->deadline = -1;
	sc->timeout_ms = SC_TIMEOUT_MS_DEFAULT;
	*out = sc;
	return 0;
}

void
scenario_free(struct scenario *sc)
{
	size_t i;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->n_steps; i++) {
		free(sc->steps[i].text);
		free(sc->steps[i].data);
		free(sc->steps[i].s1);
		free(sc->steps[i].s2);
	}
	dms_free(sc->dm);
	free(sc->steps);
	free(sc->rules);
	free(sc->backlog);
	free(sc->path);
	free(sc);
}

/* --- runner ------------------------------------------------------------ */

enum step_result {
	STEP_DONE,
	STEP_WAIT,
	STEP_FAILED,
};

static enum step_result sc_fail(struct scenario *sc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum step_result
sc_fail(struct scenario *sc, const char *fmt, ...)
{
	const struct step *st = &sc->steps[sc->cur];
	va_list ap;

	fprintf(stderr, "scenario %s:%u: step %zu (%s) failed: ", sc->path,
		st->line, sc->cur + 1, st->text);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	sc->state = SCENARIO_FAILED;
	sc->deadline = -1;
	return STEP_FAILED;
}

static void
sc_finish(struct scenario *sc, enum scenario_state state)
{
	sc->state = state;
	sc->deadline = -1;
	fprintf(stderr, "scenario: all %zu steps passed\n", sc->n_steps);
}

/* Forget the backlog up to and including index i. */
static void
sc_consume(struct scenario *sc, size_t i)
{
	sc->n_backlog -= i + 1;
	memmove(sc->backlog, sc->backlog + i + 1,
		sc->n_backlog * sizeof(*sc->backlog));
}

static enum step_result
sc_expect(struct scenario *sc, const struct step *st, int64_t now)
{
	const struct record *last = NULL, *rec;
	char hex[2 * VUICC_MAX_CDATA + 1];
	unsigned seen = 0;
	size_t i;

	for (i = 0; i < sc->n_backlog; i++) {
		rec = &sc->backlog[i];
		if (rec->kind != st->what)
			continue;
		last = rec;
		if (st->what == VUICC_EV_STATUS) {
			if (++seen < st->count)
				continue;
		} else if (!pattern_match(&st->pat, rec->data, rec->len)) {
			continue;
		}
		vuicc_verbose("scenario line %u: matched", st->line);
		sc_consume(sc, i);
		return STEP_DONE;
	}
	if (now < sc->deadline)
		return STEP_WAIT;
	if (st->what == VUICC_EV_STATUS)
		return sc_fail(sc, "%u of %u STATUS commands within %.1f s",
			       seen, st->count, sc->timeout_ms / 1000.0);
	if (last == NULL)
		return sc_fail(sc, "no %s within %.1f s", event_name(st->what),
			       sc->timeout_ms / 1000.0);
	return sc_fail(sc, "no matching %s within %.1f s (last one: %s)",
		       event_name(st->what), sc->timeout_ms / 1000.0,
		       hex_encode(hex, last->data, last->len));
}

/* expect data: what RECEIVE DATA brought on the channel since the last one. */
static enum step_result
sc_expect_data(struct scenario *sc, const struct step *st, int64_t now)
{
	struct bip *b = vuicc_bip(sc->card);
	char hex[2 * SC_DATA_SHOWN + 1];
	const uint8_t *p;
	size_t len;

	bip_received(b, st->channel, &p, &len);
	if (len > 0 && pattern_match(&st->pat, p, len)) {
		vuicc_verbose("scenario line %u: matched %zu bytes", st->line,
			      len);
		bip_consume(b, st->channel);
		return STEP_DONE;
	}
	if (now < sc->deadline)
		return STEP_WAIT;
	if (len == 0)
		return sc_fail(sc, "no data on channel %u within %.1f s",
			       st->channel, sc->timeout_ms / 1000.0);
	return sc_fail(sc, "no matching data on channel %u within %.1f s "
		       "(%zu bytes: %s%s)", st->channel, sc->timeout_ms / 1000.0,
		       len, hex_encode(hex, p, len < SC_DATA_SHOWN ? len :
				       SC_DATA_SHOWN),
		       len > SC_DATA_SHOWN ? "..." : "");
}

static void
sc_begin(struct scenario *sc, const struct step *st, int64_t now)
{
	sc->deadline = -1;
	if (st->kind == STEP_EXPECT || st->kind == STEP_EXPECT_DATA ||
	    st->kind == STEP_EXPECT_DM_SESSION || st->kind == STEP_EXPECT_DM_END ||
	    st->kind == STEP_EXPECT_DM_STATUS)
		sc->deadline = now + sc->timeout_ms;
	else if (st->kind == STEP_SLEEP)
		sc->deadline = now + st->ms;
}

/* --- the DM_SC server at run time ------------------------------------------ */

static enum step_result
sc_dm_set(struct scenario *sc, const struct step *st)
{
	int r = 0;

	switch (st->dm_set) {
	case DM_SET_SERVER:
		r = dms_set_server(sc->dm, st->s1, st->s2);
		break;
	case DM_SET_CLIENT:
		r = dms_set_client(sc->dm, st->s1, st->s2);
		break;
	case DM_SET_AUTH:
		dms_set_auth(sc->dm, (enum dms_auth)st->num);
		break;
	case DM_SET_NONCE_SERVER:
	case DM_SET_NONCE_CLIENT:
		r = dms_set_nonce(sc->dm, st->dm_set == DM_SET_NONCE_SERVER,
				  st->data, st->data_len);
		break;
	case DM_SET_FORMAT:
		dms_set_format(sc->dm, (enum dms_format)st->num);
		break;
	case DM_SET_MAX_MSG:
		dms_set_max_msg_size(sc->dm, st->num);
		break;
	}
	if (r < 0)
		return sc_fail(sc, "%s", strerror(-r));
	return STEP_DONE;
}

/*
 * DM_SC 7: Package#0 to the DM client over BIP, Terminal Server Mode:
 * OPEN CHANNEL to the DM client's port (transport 05, TCP, UICC in client
 * mode, local connection); SEND DATA and CLOSE CHANNEL follow once the
 * terminal told the channel (sc_dm_on_tr).
 */
static enum step_result
sc_dm_notify(struct scenario *sc, const struct step *st)
{
	uint8_t body[16], cmd[VUICC_MAX_PROACTIVE];
	struct dms_notify_opts o = st->noti;
	uint16_t port;
	size_t len;
	int r;

	if (st->has_port) {
		port = st->port;
	} else if (sc->dm_port_known) {
		port = sc->dm_port;
	} else {
		return sc_fail(sc, "no Terminal Applications ENVELOPE (DC) "
			       "with a DM client (type 07) seen, and no port "
			       "given");
	}
	o.server_id = st->s1;
	r = dms_notify(sc->dm, &o, sc->noti, sizeof(sc->noti));
	if (r == -EINVAL)
		return sc_fail(sc, "no DM_SC server id and password (dm-server)");
	if (r < 0)
		return sc_fail(sc, "cannot build Package#0: %s", strerror(-r));
	sc->noti_len = (size_t)r;
	body[0] = TAG_BUFFER_SIZE;
	body[1] = 2;
	body[2] = (uint8_t)(BIP_BUFFER_DEFAULT >> 8);
	body[3] = (uint8_t)(BIP_BUFFER_DEFAULT & 0xFF);
	body[4] = TAG_TRANSPORT;
	body[5] = 3;
	body[6] = 0x05;
	body[7] = (uint8_t)(port >> 8);
	body[8] = (uint8_t)port;
	len = bip_build_command(cmd, st->numbers[0], CMD_OPEN_CHANNEL, 0x01,
				DEV_TERMINAL, body, 9);
	if (len == 0 || bip_submit(vuicc_bip(sc->card), cmd, len) < 0)
		return sc_fail(sc, "out of memory");
	memcpy(sc->noti_numbers, st->numbers, sizeof(sc->noti_numbers));
	sc->noti_pending = true;
	vuicc_verbose("dm: OPEN CHANNEL to the DM client on port %u queued",
		      port);
	return STEP_DONE;
}

/* The answer to our OPEN CHANNEL: send Package#0 on that channel, close. */
static void
sc_dm_on_tr(struct scenario *sc, const uint8_t *tr, size_t len)
{
	struct bip *b = vuicc_bip(sc->card);
	uint8_t cmd[VUICC_MAX_PROACTIVE];
	struct tlv t;
	uint8_t ch;
	size_t n;

	if (!sc->noti_pending || tlv_ctlv_find(tr, len, 0x01, &t) != 1 ||
	    t.len != 3 || t.val[0] != sc->noti_numbers[0] ||
	    t.val[1] != CMD_OPEN_CHANNEL)
		return;
	sc->noti_pending = false;
	if (tlv_ctlv_find(tr, len, 0x03, &t) != 1 || t.len < 1 ||
	    t.val[0] >= 0x10) {
		vuicc_verbose("dm: OPEN CHANNEL to the DM client refused: "
			      "Package#0 not sent");
		return;
	}
	if (tlv_ctlv_find(tr, len, 0x38, &t) != 1 || t.len != 2 ||
	    (t.val[0] & 0x07) == 0) {
		vuicc_verbose("dm: OPEN CHANNEL answer without a channel");
		return;
	}
	ch = t.val[0] & 0x07;
	n = bip_build_command(cmd, sc->noti_numbers[2], CMD_CLOSE_CHANNEL,
			      0x00, DEV_CHANNEL(ch), NULL, 0);
	if (bip_submit_send(b, ch, sc->noti_numbers[1], sc->noti,
			    sc->noti_len, true) < 0 ||
	    bip_submit(b, cmd, n) < 0)
		vuicc_warn("dm: out of memory, Package#0 not sent");
	else
		vuicc_verbose("dm: Package#0 (%zu bytes) on channel %u",
			      sc->noti_len, ch);
}

/*
 * Terminal Applications (TS 102 223 7.5.x, tag DC): the Registry
 * application data objects (8.88, tag 71: port, coding scheme, type,
 * name); type 07 is the OMA DM client (DM_SC 6.2).  A DC with no entry at
 * all forgets the port.
 */
static void
sc_dm_on_envelope(struct scenario *sc, const uint8_t *p, size_t len)
{
	struct tlv_iter it;
	struct tlv t;
	size_t entries = 0;

	tlv_iter_init(&it, p, len);
	if (tlv_ber_next(&it, &t) != 1 || t.tag != 0xDC)
		return;
	tlv_iter_init(&it, t.val, t.len);
	while (tlv_ctlv_next(&it, &t) == 1) {
		if (t.tag != 0x71)
			continue;
		entries++;
		if (t.len >= 4 && t.val[3] == 0x07) {
			sc->dm_port = (uint16_t)(t.val[0] << 8 | t.val[1]);
			sc->dm_port_known = true;
			vuicc_verbose("dm: the DM client listens on port %u",
				      sc->dm_port);
		}
	}
	if (entries == 0)
		sc->dm_port_known = false;
}

static enum step_result
sc_expect_dm_session(struct scenario *sc, const struct step *st, int64_t now)
{
	struct dms_session_info info;
	unsigned n = dms_sessions_accepted(sc->dm, &info);

	if (n <= sc->dm_accepted_seen) {
		if (now < sc->deadline)
			return STEP_WAIT;
		return sc_fail(sc, "no DM session accepted within %.1f s",
			       sc->timeout_ms / 1000.0);
	}
	sc->dm_accepted_seen = n;
	if (info.alert != st->num)
		return sc_fail(sc, "the client's Package#1 has Alert %u, "
			       "expected %u", info.alert, st->num);
	if (st->wbxml_set && info.wbxml != st->wbxml)
		return sc_fail(sc, "the client spoke %s, expected %s",
			       info.wbxml ? "wbxml" : "xml",
			       st->wbxml ? "wbxml" : "xml");
	if (!info.devinfo)
		return sc_fail(sc, "no Replace of ./DevInfo in Package#1");
	if (info.noti_sent && strcmp(info.session_id, info.noti_session_id) != 0)
		return sc_fail(sc, "SessionID '%s', the notification said '%s'",
			       info.session_id, info.noti_session_id);
	vuicc_verbose("scenario line %u: DM session %s", st->line,
		      info.session_id);
	return STEP_DONE;
}

static enum step_result
sc_expect_dm_end(struct scenario *sc, const struct step *st, int64_t now)
{
	enum dms_end how;
	unsigned n = dms_sessions_ended(sc->dm, &how);
	const char *why;

	if (n <= sc->dm_ended_seen) {
		if (now < sc->deadline)
			return STEP_WAIT;
		return sc_fail(sc, "no DM session ended within %.1f s",
			       sc->timeout_ms / 1000.0);
	}
	sc->dm_ended_seen = n;
	if (st->num != DMS_END_NONE && how != (enum dms_end)st->num)
		return sc_fail(sc, "the session ended %s", dms_end_name(how));
	why = dms_check_expects(sc->dm);
	dms_next_script(sc->dm);
	if (why)
		return sc_fail(sc, "%s", why);
	return STEP_DONE;
}

static enum step_result
sc_expect_dm_status(struct scenario *sc, const struct step *st, int64_t now)
{
	unsigned got = dms_status_of(sc->dm, st->s1);

	if (got == st->num)
		return STEP_DONE;
	if (now < sc->deadline)
		return STEP_WAIT;
	if (got == 0)
		return sc_fail(sc, "no Status for %s within %.1f s", st->s1,
			       sc->timeout_ms / 1000.0);
	return sc_fail(sc, "Status %u for %s", got, st->s1);
}

static enum step_result
sc_run_step(struct scenario *sc, const struct step *st, int64_t now)
{
	int r;

	switch (st->kind) {
	case STEP_EXPECT:
		return sc_expect(sc, st, now);
	case STEP_PROACTIVE:
		r = vuicc_queue_proactive(sc->card, st->bytes, st->bytes_len);
		if (r < 0)
			return sc_fail(sc, "proactive command queue full (%d "
				       "commands not fetched)", VUICC_QUEUE_MAX);
		return STEP_DONE;
	case STEP_ON_ENVELOPE:
		sc->rules[sc->n_rules++] = st;
		return STEP_DONE;
	case STEP_BUSY:
		vuicc_set_busy(sc->card, st->count);
		return STEP_DONE;
	case STEP_SLEEP:
		return now >= sc->deadline ? STEP_DONE : STEP_WAIT;
	case STEP_TIMEOUT:
		sc->timeout_ms = st->ms;
		return STEP_DONE;
	case STEP_LOG:
		fprintf(stderr, "scenario: %s\n", st->msg);
		return STEP_DONE;
	case STEP_EXIT:
		sc_finish(sc, SCENARIO_EXIT);
		return STEP_DONE;
	case STEP_BIP:
		if (bip_submit(vuicc_bip(sc->card), st->bytes, st->bytes_len) < 0)
			return sc_fail(sc, "out of memory");
		return STEP_DONE;
	case STEP_BIP_SEND:
		if (bip_submit_send(vuicc_bip(sc->card), st->channel, st->number,
				    st->data, st->data_len, st->flag) < 0)
			return sc_fail(sc, "out of memory");
		return STEP_DONE;
	case STEP_AUTO_RECEIVE:
		bip_set_auto_receive(vuicc_bip(sc->card), st->flag);
		return STEP_DONE;
	case STEP_EXPECT_DATA:
		return sc_expect_data(sc, st, now);
	case STEP_DM_SET:
		return sc_dm_set(sc, st);
	case STEP_DM_NOTIFY:
		return sc_dm_notify(sc, st);
	case STEP_DM_CMD:
		return STEP_DONE;
	case STEP_EXPECT_DM_SESSION:
		return sc_expect_dm_session(sc, st, now);
	case STEP_EXPECT_DM_END:
		return sc_expect_dm_end(sc, st, now);
	case STEP_EXPECT_DM_STATUS:
		return sc_expect_dm_status(sc, st, now);
	}
	return STEP_DONE;
}

static void
sc_advance(struct scenario *sc, int64_t now)
{
	const struct step *st;
	enum step_result r;

	while (sc->state == SCENARIO_RUNNING) {
		const char *why;

		if (sc->cur < sc->n_steps &&
		    (why = dms_take_failure(sc->dm)) != NULL) {
			sc_fail(sc, "DM server: %s", why);
			return;
		}
		if (sc->cur == sc->n_steps) {
			sc_finish(sc, SCENARIO_PASSED);
			return;
		}
		st = &sc->steps[sc->cur];
		if (!sc->started) {
			sc->started = true;
			vuicc_verbose("scenario line %u: %s", st->line, st->text);
			sc_begin(sc, st, now);
		}
		r = sc_run_step(sc, st, now);
		if (r != STEP_DONE)
			return;
		if (sc->state == SCENARIO_RUNNING) {
			sc->cur++;
			sc->started = false;
			sc->deadline = -1;
		}
	}
}

static void
sc_record(struct scenario *sc, const struct vuicc_event *ev)
{
	struct record *rec;
	size_t len = ev->len;

	if (sc->n_backlog == SC_BACKLOG_MAX) {
		if (!sc->overflow_told)
			vuicc_verbose("scenario backlog full: forgetting the "
				      "oldest commands");
		sc->overflow_told = true;
		sc_consume(sc, 0);
	}
	rec = &sc->backlog[sc->n_backlog++];
	rec->kind = ev->kind;
	if (len > sizeof(rec->data))
		len = sizeof(rec->data);
	if (len > 0)
		memcpy(rec->data, ev->data, len);
	rec->len = len;
}

static void
sc_on_event(void *ctx, struct vuicc *card, const struct vuicc_event *ev)
{
	struct scenario *sc = ctx;

	/* The DM_SC server's own work goes on after the scenario. */
	if (ev->kind == VUICC_EV_TR)
		sc_dm_on_tr(sc, ev->data, ev->len);
	else if (ev->kind == VUICC_EV_ENVELOPE)
		sc_dm_on_envelope(sc, ev->data, ev->len);
	if (sc->state != SCENARIO_RUNNING)
		return;
	switch (ev->kind) {
	case VUICC_EV_PROFILE:
	case VUICC_EV_TR:
	case VUICC_EV_ENVELOPE:
	case VUICC_EV_STATUS:
		sc_record(sc, ev);
		sc_advance(sc, vuicc_now_ms());
		break;
	default:
		break;
	}
}

/* The newest matching rule wins, so that a later rule overrides. */
static bool
sc_on_envelope(void *ctx, struct vuicc *card, const uint8_t *data, size_t len,
	       struct vuicc_resp *resp)
{
	struct scenario *sc = ctx;
	const struct step *rule;
	size_t i;

	for (i = sc->n_rules; i-- > 0; ) {
		rule = sc->rules[i];
		if (!pattern_match(&rule->pat, data, len))
			continue;
		vuicc_verbose("ENVELOPE matches the rule of scenario line %u",
			      rule->line);
		if (rule->action == RULE_REPLY) {
			memcpy(resp->data, rule->bytes, rule->bytes_len);
			resp->len = rule->bytes_len;
			resp->sw = rule->sw;
			return true;
		}
		if (vuicc_queue_proactive(card, rule->bytes, rule->bytes_len) < 0)
			vuicc_warn("scenario line %u: proactive command queue "
				   "full, rule ignored", rule->line);
		return false;
	}
	return false;
}

void
scenario_start(struct scenario *sc, struct vuicc *card, int64_t now_ms)
{
	const struct vuicc_hooks hooks = {
		.ctx = sc,
		.event = sc_on_event,
		.envelope = sc_on_envelope,
	};

	sc->card = card;
	vuicc_set_hooks(card, &hooks);
	if (sc->dm_used)
		scws_set_dm_handler(dms_http, sc->dm);
	sc_advance(sc, now_ms);
}

void
scenario_tick(struct scenario *sc, int64_t now_ms)
{
	sc_advance(sc, now_ms);
}

void
scenario_abort(struct scenario *sc, const char *why)
{
	if (sc->state == SCENARIO_RUNNING && sc->cur < sc->n_steps)
		sc_fail(sc, "%s", why);
}

enum scenario_state
scenario_state(const struct scenario *sc)
{
	return sc->state;
}

int64_t
scenario_deadline(const struct scenario *sc)
{
	return sc->state == SCENARIO_RUNNING ? sc->deadline : -1;
}
