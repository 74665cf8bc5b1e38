/* SPDX-License-Identifier: MIT */
/*
 * The scripted-peer harness (harness.h): the daemon's modules wired as in
 * dmscgw.c over fake_pcsc.c, the script runner and the card's side of
 * every exchange.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>

#include "bip/bip.h"
#include "card/pcsc.h"
#include "cat/cat.h"
#include "cat/terminal.h"
#include "harness.h"
#include "log.h"
#include "sms/sms.h"
#include "wakeup/wakeup.h"

#define H_MAX_BYTES	600
#define H_TIMEOUT_S	2
#define H_TAIL_TURNS	20

int h_card_exchange(struct harness *h, const uint8_t *cmd, size_t clen,
		    uint8_t *resp, size_t *rlen);

struct sdbus *h_bus;

/* ---- hex patterns ------------------------------------------------------- */

struct pat {
	uint8_t b[H_MAX_BYTES];
	bool any[H_MAX_BYTES];
	size_t n;
	bool rest;			/* "*": anything may follow */
	size_t zat[4];			/* "$Z" positions, resolved later */
	size_t nz;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Tokens: two hex digits, ".." any byte, "*" any rest, "$P" the port,
 * "$L" the number of bytes after it up to "|" or the end, "$Z" the
 * length of the next proactive command (resolved by the runner), "|"
 * the end of the "$L" before it.
 */
static int pat_parse(const char *s, uint16_t port, struct pat *p)
{
	size_t lat[8], nl = 0;

	memset(p, 0, sizeof(*p));
	while (*s) {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			s++;
			continue;
		}
		if (p->n + 2 > H_MAX_BYTES)
			return -1;
		if (s[0] == '.' && s[1] == '.') {
			p->any[p->n++] = true;
			s += 2;
		} else if (*s == '*') {
			p->rest = true;
			s++;
		} else if (*s == '|') {
			for (size_t i = 0; i < nl; i++)
				p->b[lat[i]] = (uint8_t)(p->n - lat[i] - 1);
			nl = 0;
			s++;
		} else if (s[0] == '$' && s[1] == 'P') {
			p->b[p->n++] = (uint8_t)(port >> 8);
			p->b[p->n++] = (uint8_t)port;
			s += 2;
		} else if (s[0] == '$' && s[1] == 'L') {
			if (nl == 8)
				return -1;
			lat[nl++] = p->n++;
			s += 2;
		} else if (s[0] == '$' && s[1] == 'Z') {
			if (p->nz == 4)
				return -1;
			p->zat[p->nz++] = p->n++;
			s += 2;
		} else if (hexval(s[0]) >= 0 && hexval(s[1]) >= 0) {
			p->b[p->n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
			s += 2;
		} else {
			return -1;
		}
	}
	for (size_t i = 0; i < nl; i++)
		p->b[lat[i]] = (uint8_t)(p->n - lat[i] - 1);
	return 0;
}

void h_hex_str(char *out, size_t cap, const uint8_t *p, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < len && o + 4 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%02X", i ? " " : "",
				      p[i]);
}

static void pat_str(char *out, size_t cap, const struct pat *p)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < p->n && o + 4 < cap; i++) {
		if (p->any[i])
			o += (size_t)snprintf(out + o, cap - o, "%s..",
					      i ? " " : "");
		else
			o += (size_t)snprintf(out + o, cap - o, "%s%02X",
					      i ? " " : "", p->b[i]);
	}
	if (p->rest && o + 3 < cap)
		snprintf(out + o, cap - o, " *");
}

static bool pat_match(const struct pat *p, const uint8_t *b, size_t n)
{
	if (n < p->n || (!p->rest && n != p->n))
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (!p->any[i] && p->b[i] != b[i])
			return false;
	return true;
}

int h_hex_match(const char *pattern, uint16_t port, const uint8_t *b,
		size_t n)
{
	struct pat p;

	if (pat_parse(pattern, port, &p) < 0)
		return -1;
	return pat_match(&p, b, n);
}

int h_hex_bytes(const char *hex, uint16_t port, uint8_t *out, size_t cap)
{
	struct pat p;

	if (pat_parse(hex, port, &p) < 0 || p.n > cap || p.rest)
		return -1;
	memcpy(out, p.b, p.n);
	return (int)p.n;
}

/* ---- failures ------------------------------------------------------------ */

void h_fail(struct harness *h, const char *fmt, ...)
{
	va_list ap;

	if (h->failed)
		return;		/* the first one says what went wrong */
	h->failed = true;
	va_start(ap, fmt);
	vsnprintf(h->why, sizeof(h->why), fmt, ap);
	va_end(ap);
	event_base_loopbreak(h->base);
}

static const char *kind_name(enum h_kind k)
{
	return k == H_SEND ? "SEND" : k == H_RECV ? "RECV" : "CALL";
}

/* ---- the card ------------------------------------------------------------- */

static struct pat *frames;	/* the running script, parsed */

int h_card_exchange(struct harness *h, const uint8_t *cmd, size_t clen,
		    uint8_t *resp, size_t *rlen)
{
	char got[3 * H_MAX_BYTES + 8], want[3 * H_MAX_BYTES + 8];
	const struct h_frame *f;
	struct pat *p;

	h_hex_str(got, sizeof(got), cmd, clen);
	if (h->failed)
		return -EIO;
	if (!h->script || h->at >= h->nframes) {
		h_fail(h, "after the last frame (%zu): the terminal sent %s",
		       h->nframes, got);
		return -EIO;
	}
	f = &h->script[h->at];
	if (f->kind != H_SEND) {
		h_fail(h, "frame %zu: expected %s %s, the terminal sent %s",
		       h->at, kind_name(f->kind), f->what ? f->what : "", got);
		return -EIO;
	}
	p = &frames[h->at];
	if (!pat_match(p, cmd, clen)) {
		pat_str(want, sizeof(want), p);
		h_fail(h, "frame %zu: the terminal sent\n    %s\n  expected\n    %s",
		       h->at, got, want);
		return -EIO;
	}
	h->at++;
	if (h->at >= h->nframes || h->script[h->at].kind != H_RECV) {
		h_fail(h, "frame %zu: script error: SEND without RECV", h->at - 1);
		return -EIO;
	}
	p = &frames[h->at];
	if (p->n > *rlen || p->n < 2) {
		h_fail(h, "frame %zu: script error: bad answer", h->at);
		return -EIO;
	}
	memcpy(resp, p->b, p->n);
	*rlen = p->n;
	h->at++;
	return 0;
}

/* ---- the script runner ----------------------------------------------------- */

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct harness *h = arg;

	(void)fd;
	(void)what;
	if (h->at < h->nframes)
		h_fail(h, "frame %zu: nothing happened for %d s; expected %s %s",
		       h->at, H_TIMEOUT_S, kind_name(h->script[h->at].kind),
		       h->script[h->at].hex ? h->script[h->at].hex :
		       h->script[h->at].what);
	else
		event_base_loopbreak(h->base);
}

/* Parse every frame; "$Z" is the length of the next D0 answered. */
static int script_prepare(struct harness *h, const struct h_frame *s, size_t n)
{
	free(frames);
	frames = calloc(n ? n : 1, sizeof(*frames));
	if (!frames)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i].kind == H_CALL)
			continue;
		if (pat_parse(s[i].hex, h->port, &frames[i]) < 0) {
			h_fail(h, "frame %zu: script error: cannot parse '%s'",
			       i, s[i].hex);
			return -1;
		}
		if (s[i].kind == H_RECV && (frames[i].rest || frames[i].n < 2)) {
			h_fail(h, "frame %zu: script error: an answer is bytes", i);
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t z = 0; z < frames[i].nz; z++) {
			size_t j;

			for (j = i + 1; j < n; j++)
				if (s[j].kind == H_RECV && frames[j].n > 2 &&
				    frames[j].b[0] == 0xD0)
					break;
			if (j == n) {
				h_fail(h, "frame %zu: script error: $Z and no proactive command after it", i);
				return -1;
			}
			frames[i].b[frames[i].zat[z]] = (uint8_t)(frames[j].n - 2);
		}
		/* a proactive command's own BER length must be right */
		if (s[i].kind == H_RECV && frames[i].n > 4 &&
		    frames[i].b[0] == 0xD0 && frames[i].b[1] < 0x80 &&
		    frames[i].b[1] != frames[i].n - 4 && !h->lax) {
			h_fail(h, "frame %zu: script error: D0 %02X but %zu bytes follow",
			       i, frames[i].b[1], frames[i].n - 4);
			return -1;
		}
	}
	return 0;
}

void h_run(struct harness *h, const struct h_frame *script, size_t n)
{
	struct timeval tv = { H_TIMEOUT_S, 0 };
	struct event *deadline;

	h->script = script;
	h->nframes = n;
	h->at = 0;
	if (!h->failed && script_prepare(h, script, n) == 0) {
		deadline = evtimer_new(h->base, deadline_cb, h);
		assert_non_null(deadline);
		evtimer_add(deadline, &tv);
		while (!h->failed && h->at < n) {
			const struct h_frame *f = &script[h->at];

			if (f->kind == H_CALL && !fake_pcsc_pending(h->pcsc)) {
				h->at++;
				f->call(h);
				continue;
			}
			if (f->kind == H_RECV) {
				h_fail(h, "frame %zu: script error: RECV without SEND",
				       h->at);
				break;
			}
			event_base_loop(h->base, EVLOOP_ONCE);
		}
		/* the terminal must have nothing more to say */
		for (int i = 0; i < H_TAIL_TURNS && !h->failed; i++)
			event_base_loop(h->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		event_free(deadline);
	}
	h->script = NULL;
	if (h->failed)
		fail_msg("%s", h->why);
}

/* ---- the daemon ---------------------------------------------------------- */

static void obs_command(void *arg, struct cat *c, uint8_t type, uint8_t result)
{
	struct harness *h = arg;

	(void)c;
	h->commands++;
	h->last_type = type;
	h->last_result = result;
}

static const struct cat_observer observer = {
	.command = obs_command,
};

static void on_card_ready(void *arg, struct pcsc_reader *r)
{
	struct harness *h = arg;
	struct cat *c = cat_new(h->e, r);

	if (!c) {
		h_fail(h, "cat_new failed");
		return;
	}
	pcsc_reader_set_data(r, c);
	h->cat = c;
	/* as dmscgw.c: the wake-up sources (profile download), then BIP */
	wakeup_card_ready(h->w, c);
	bip_card_up(h->bip, c);
}

static void on_card_gone(void *arg, struct pcsc_reader *r)
{
	struct harness *h = arg;
	struct cat *c = pcsc_reader_data(r);

	if (!c)
		return;
	wakeup_card_gone(h->w, c);
	bip_card_gone(h->bip, c);
	cat_free(c);
	pcsc_reader_set_data(r, NULL);
	h->cat = NULL;
}

static const struct pcsc_ops pcsc_ops = {
	.card_ready = on_card_ready,
	.card_gone = on_card_gone,
};

struct harness *h_new(h_conf_fn tune)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct pcsc_config pc = { "*", false, PCSC_PROTO_ANY, 1, 1, 0 };
	struct cat_config cc;

	if (!h)
		return NULL;
	if (getenv("HARNESS_DEBUG"))
		log_set_debug("all", 2, NULL);
	h->peer = h->peer2 = -1;
	h->base = event_base_new();
	conf_defaults(&h->conf);
	/* 93 00 retried at once: no test waits for a back-off */
	h->conf.cat.busy_retry = 0;
	h->conf.cat.busy_retry_max = 0;
	h->conf.cat.busy_retries = 3;
	snprintf(h->conf.terminal.imei, sizeof(h->conf.terminal.imei),
		 "490154203237518");
	if (tune)
		tune(&h->conf);
	cc.busy_retry_ms = h->conf.cat.busy_retry;
	cc.busy_retry_max_ms = h->conf.cat.busy_retry_max;
	cc.busy_retries = h->conf.cat.busy_retries;
	h->e = cat_engine_new(h->base, &cc);
	cat_engine_set_observer(h->e, &observer, h);
	cat_terminal_register(h->e);
	wakeup_terminal_configure(h->e, &h->conf);
	h->w = wakeup_new(h->e, &h->conf);
	h->bip = bip_new(h->e, &h->conf);
	/* no bus: no modem, SEND SHORT MESSAGE is refused (but see h_bus) */
	h->sms = sms_new(h_bus, &h->conf, h->e, h->w, NULL);
	h->pcsc = pcsc_new(h->base, &pc, &pcsc_ops, h);
	if (!h->base || !h->e || !h->w || !h->bip || !h->sms || !h->pcsc) {
		h_free(h);
		return NULL;
	}
	fake_pcsc_bind(h->pcsc, h);
	return h;
}

void h_free(struct harness *h)
{
	if (!h)
		return;
	pcsc_free(h->pcsc);
	sms_free(h->sms);
	bip_free(h->bip);
	wakeup_free(h->w);
	cat_engine_free(h->e);
	if (h->peer >= 0)
		close(h->peer);
	if (h->peer2 >= 0)
		close(h->peer2);
	if (h->base)
		event_base_free(h->base);
	free(frames);
	frames = NULL;
	free(h);
}

void h_insert(struct harness *h)
{
	fake_pcsc_insert(h->pcsc);
}

void h_remove(struct harness *h)
{
	fake_pcsc_remove(h->pcsc);
}

/* ---- sockets -------------------------------------------------------------- */

static int bind_lo(int type, uint16_t *port)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	socklen_t sl = sizeof(in);
	int one = 1, fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in.sin_port = htons(*port);
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&in, sizeof(in)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&in, &sl) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(in.sin_port);
	return fd;
}

uint16_t h_free_port(void)
{
	uint16_t port = 0;
	int fd = bind_lo(SOCK_STREAM, &port);

	if (fd < 0)
		return 0;
	close(fd);
	return port;
}

int h_connect(uint16_t port)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in.sin_port = htons(port);
	if (connect(fd, (struct sockaddr *)&in, sizeof(in)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int h_listen(uint16_t *port)
{
	int fd = bind_lo(SOCK_STREAM, port);

	if (fd >= 0 && listen(fd, 4) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int h_udp(uint16_t *port)
{
	return bind_lo(SOCK_DGRAM, port);
}

void h_expect_read(struct harness *h, int fd, const char *hex)
{
	uint8_t want[H_MAX_BYTES], got[H_MAX_BYTES];
	char a[3 * H_MAX_BYTES + 8], b[3 * H_MAX_BYTES + 8];
	int n = h_hex_bytes(hex, h->port, want, sizeof(want));
	size_t have = 0;

	if (n < 0) {
		h_fail(h, "h_expect_read: cannot parse '%s'", hex);
		return;
	}
	/* the loop keeps turning: the bytes leave through a bufferevent */
	for (int i = 0; i < 2000 && have < (size_t)n && !h->failed; i++) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t r;

		event_base_loop(h->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (poll(&pf, 1, 1) <= 0)
			continue;
		r = recv(fd, got + have, (size_t)n - have, MSG_DONTWAIT);
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	if (have != (size_t)n || memcmp(got, want, (size_t)n)) {
		h_hex_str(a, sizeof(a), got, have);
		h_hex_str(b, sizeof(b), want, (size_t)n);
		h_fail(h, "frame %zu: the peer read\n    %s\n  expected\n    %s",
		       h->at, a, b);
	}
}
