/* SPDX-License-Identifier: MIT */
/*
 * The card's TCP/IP side (tcp.h): listening sockets, and per connection an
 * HTTP server, behind TLS-PSK on --tcp-tls ports, as bip.c does it per
 * UICC-server-mode channel: the SCWS output is gathered, then encrypted
 * (tls.h: its callbacks never call back into the same endpoint).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* setns() */
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "scws.h"
#include "tcp.h"
#include "tls.h"
#include "util/buf.h"
#include "util/hostport.h"
#include "vuicc.h"

#define OUT_MAX		(64u << 20)	/* answers not yet taken by the client */
#define READ_CHUNK	16384

struct conn {
	bool used;
	int fd;
	bool tls;
	char peer[INET6_ADDRSTRLEN + 8];
	struct scws *http;
	struct vtls *vt;
	struct buf plain;		/* tls: SCWS output not yet encrypted */
	struct buf out;			/* bytes for the client */
	size_t out_off;			/* of out, already written */
	bool closing;			/* close once out is written */
	bool http_done;			/* the SCWS is done with it */
};

struct vtcp {
	const struct vtcp_config *cfg;
	int lfd[VTCP_MAX_LISTEN];
	struct conn conn[VTCP_MAX_CONN];
};

/* ---- addresses ---- */

static int parse_spec(const char *spec, bool tls, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct hostport hp;
	uint16_t port;

	if (hostport_parse(spec, strlen(spec), 0, &hp) != HOSTPORT_OK)
		return -1;
	port = hp.has_port ? hp.port : tls ? 443 : 80;
	memset(ss, 0, sizeof(*ss));
	if (!hp.bracketed && inet_pton(AF_INET, hp.host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (hp.bracketed && inet_pton(AF_INET6, hp.host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

int vtcp_check_spec(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (strlen(spec) >= sizeof(((struct vtcp_listen *)0)->spec) ||
	    parse_spec(spec, false, &ss, &len) < 0) {
		vuicc_warn("invalid address '%s' (ADDR[:PORT] or [V6][:PORT], "
			   "numeric)", spec);
		return -1;
	}
	return 0;
}

/* ---- connections ---- */

static void conn_close(struct conn *c, const char *why)
{
	vuicc_verbose("tcp: connection from %s closed%s%s", c->peer,
		      why ? ": " : "", why ? why : "");
	close(c->fd);
	scws_free(c->http);
	vtls_free(c->vt);
	buf_free(&c->plain);
	buf_free(&c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void out_add(struct conn *c, struct buf *b, const uint8_t *p,
		    size_t len)
{
	buf_put(b, p, len);
	if (!buf_ok(b)) {
		vuicc_warn("tcp: %s: out of memory, the connection is dropped",
			   c->peer);
		c->closing = true;
	}
}

static void http_out(void *ctx, const uint8_t *p, size_t len)
{
	struct conn *c = ctx;

	out_add(c, c->tls ? &c->plain : &c->out, p, len);
}

static void tls_out(void *ctx, const uint8_t *p, size_t len)
{
	struct conn *c = ctx;

	out_add(c, &c->out, p, len);
}

static void tls_plain(void *ctx, const uint8_t *p, size_t len)
{
	struct conn *c = ctx;

	if (scws_input(c->http, p, len))
		c->http_done = true;
}

/* Bytes from the client. */
static void conn_input(struct conn *c, const uint8_t *p, size_t len)
{
	int r;

	if (!c->tls) {
		if (scws_input(c->http, p, len))
			c->closing = true;
		return;
	}
	r = vtls_input(c->vt, p, len);
	if (r == 0 && c->plain.len) {
		r = vtls_write(c->vt, c->plain.p, c->plain.len);
		buf_free(&c->plain);
		buf_init(&c->plain, OUT_MAX);
	}
	if (r < 0) {
		vuicc_verbose("tcp: %s: %s", c->peer, vtls_error(c->vt));
		c->closing = true;
	} else if (r > 0) {
		c->closing = true;	/* close_notify both ways */
	} else if (c->http_done) {
		vtls_shutdown(c->vt);
		c->closing = true;
	}
}

static void conn_read(struct conn *c)
{
	uint8_t b[READ_CHUNK];
	ssize_t n = read(c->fd, b, sizeof(b));

	if (n > 0) {
		if (!c->closing)
			conn_input(c, b, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	conn_close(c, n == 0 ? "by the client" : strerror(errno));
}

static void conn_write(struct conn *c)
{
	ssize_t n;

	if (c->out_off < c->out.len) {
		n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
			 MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			conn_close(c, strerror(errno));
			return;
		}
		if (n > 0)
			c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		buf_free(&c->out);
		buf_init(&c->out, OUT_MAX);
		c->out_off = 0;
		if (c->closing)
			conn_close(c, NULL);
	}
}

static void conn_accept(struct vtcp *t, int lfd, bool tls)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct conn *c = NULL;
	char host[INET6_ADDRSTRLEN] = "?";
	int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
			 SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;

	if (fd < 0)
		return;
	for (size_t i = 0; i < VTCP_MAX_CONN && !c; i++)
		if (!t->conn[i].used)
			c = &t->conn[i];
	if (!c) {
		vuicc_warn("tcp: more than %d connections: one refused",
			   VTCP_MAX_CONN);
		close(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->fd = fd;
	c->tls = tls;
	buf_init(&c->out, OUT_MAX);
	buf_init(&c->plain, OUT_MAX);
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
			  host, sizeof(host));
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  host, sizeof(host));
	snprintf(c->peer, sizeof(c->peer), "%s", host);
	c->http = scws_new(t->cfg->www, http_out, c);
	if (c->http && tls)
		c->vt = vtls_new(t->cfg->psk_identity, t->cfg->psk,
				 t->cfg->psk_len, tls_out, tls_plain, c);
	if (!c->http || (tls && !c->vt)) {
		/* never plain HTTP on a port meant for TLS */
		conn_close(c, "no web server");
		return;
	}
	vuicc_verbose("tcp: connection from %s%s", c->peer,
		      tls ? " (TLS-PSK)" : "");
}

/* ---- listening ---- */

static int listen_on(const char *spec, bool tls)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (parse_spec(spec, tls, &ss, &len) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 8) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* setns(2) into path's network namespace, or back; 0 or -1. */
static int enter_netns(const char *path, int *back)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		vuicc_warn("--netns %s: %s", path, strerror(errno));
		return -1;
	}
	*back = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*back < 0 || setns(fd, CLONE_NEWNET) < 0) {
		vuicc_warn("--netns %s: %s", path, strerror(errno));
		close(fd);
		if (*back >= 0)
			close(*back);
		return -1;
	}
	close(fd);
	return 0;
}

struct vtcp *vtcp_new(const struct vtcp_config *cfg)
{
	struct vtcp *t = calloc(1, sizeof(*t));
	int back = -1, ok = 1;

	if (!t) {
		vuicc_warn("out of memory");
		return NULL;
	}
	t->cfg = cfg;
	for (size_t i = 0; i < VTCP_MAX_LISTEN; i++)
		t->lfd[i] = -1;
	for (size_t i = 0; i < VTCP_MAX_CONN; i++)
		t->conn[i].fd = -1;
	if (cfg->netns && enter_netns(cfg->netns, &back) < 0) {
		free(t);
		return NULL;
	}
	for (size_t i = 0; i < cfg->n && ok; i++) {
		t->lfd[i] = listen_on(cfg->listen[i].spec, cfg->listen[i].tls);
		if (t->lfd[i] < 0) {
			vuicc_warn("cannot listen on %s: %s", cfg->listen[i].spec,
				   strerror(errno));
			ok = 0;
		} else {
			vuicc_verbose("tcp: listening on %s%s%s",
				      cfg->listen[i].spec,
				      cfg->listen[i].tls ? " (TLS-PSK)" : "",
				      cfg->netns ? " in the link's namespace" : "");
		}
	}
	/* the sockets stay in the namespace they were made in */
	if (cfg->netns) {
		if (setns(back, CLONE_NEWNET) < 0) {
			vuicc_warn("cannot leave --netns: %s", strerror(errno));
			ok = 0;
		}
		close(back);
	}
	if (!ok) {
		vtcp_free(t);
		return NULL;
	}
	return t;
}

void vtcp_free(struct vtcp *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < VTCP_MAX_CONN; i++)
		if (t->conn[i].used)
			conn_close(&t->conn[i], "the card stops");
	for (size_t i = 0; i < VTCP_MAX_LISTEN; i++)
		if (t->lfd[i] >= 0)
			close(t->lfd[i]);
	free(t);
}

size_t vtcp_pollfds(struct vtcp *t, struct pollfd *p, size_t cap)
{
	size_t n = 0;

	if (!t)
		return 0;
	for (size_t i = 0; i < t->cfg->n && n < cap; i++, n++) {
		p[n].fd = t->lfd[i];
		p[n].events = POLLIN;
		p[n].revents = 0;
	}
	for (size_t i = 0; i < VTCP_MAX_CONN && n < cap; i++, n++) {
		struct conn *c = &t->conn[i];

		p[n].fd = c->used ? c->fd : -1;
		p[n].events = !c->used ? 0 :
			      c->out_off < c->out.len ? POLLIN | POLLOUT : POLLIN;
		p[n].revents = 0;
	}
	return n;
}

void vtcp_handle(struct vtcp *t, const struct pollfd *p, size_t n)
{
	size_t k = 0;

	if (!t)
		return;
	for (size_t i = 0; i < t->cfg->n && k < n; i++, k++)
		if (p[k].revents & POLLIN)
			conn_accept(t, t->lfd[i], t->cfg->listen[i].tls);
	for (size_t i = 0; i < VTCP_MAX_CONN && k < n; i++, k++) {
		struct conn *c = &t->conn[i];

		if (!c->used || p[k].fd != c->fd || !p[k].revents)
			continue;
		if (p[k].revents & (POLLIN | POLLHUP | POLLERR))
			conn_read(c);
		if (c->used)
			conn_write(c);
	}
}
