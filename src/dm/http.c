/* SPDX-License-Identifier: MIT */
/*
 * The DM client's HTTP(S) transport (see http.h): evhttp over a plain or a
 * bufferevent_openssl bufferevent, TLS 1.2 with a pre-shared key or TLS
 * with certificates (their verification is dm/tls.c's).
 *
 * evhttp's ownership rules shape this file:
 *  - evhttp frees the evhttp_request itself once its callbacks have run.  A
 *    failure calls the error callback and then the request callback with
 *    NULL; a refused connection calls only the request callback, with a
 *    request that has no status.  The first callback to arrive settles the
 *    request (req_live goes false) and the rest are ignored.
 *  - Nothing reaches the caller from inside libevent's callbacks: the
 *    outcome is stored in h->res and handed over from our own event (done),
 *    which first moves it out of h.  The caller may then post again, or
 *    free h, from its callback while still using the response; and a
 *    failure noticed while dm_http_post runs is never reported from it.
 *  - A connection that failed, timed out or was closed by the server is
 *    freed, with its bufferevent and SSL, before the next request: evhttp
 *    would reconnect the same bufferevent, and an SSL object that has been
 *    through a close cannot do a second handshake.  The connection is only
 *    freed from our own code (the timer, dm_http_post, dm_http_free), never
 *    from under evhttp's callbacks.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>	/* the answer's HTTP version */

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "dm/http.h"
#include "dm/tls.h"
#include "log.h"
#include "util/errbuf.h"
#include "util/hostport.h"

#define DEFAULT_TIMEOUT		30
#define MAX_TIMEOUT		86400
#define MAX_BODY		(4u << 20)	/* 4 MiB */
#define MAX_HEADERS		(64u << 10)
#define MAX_URL			2048

/* spec/OMA-TS-DM_SC-V1_0 5.2; OpenSSL 3 builds often lack 3DES. */
#define PSK_CIPHERS		"PSK-AES128-CBC-SHA:PSK-3DES-EDE-CBC-SHA"
#define PSK_CIPHERS_AES		"PSK-AES128-CBC-SHA"

/* One finished request, waiting to be handed to the caller. */
struct result {
	int err;
	char msg[256];
	int status;
	char *content_type;
	char *hmac;
	struct evbuffer *body;
};

struct dm_http {
	struct event_base *base;
	char *url;			/* for the log */
	bool tls;
	char *addr;			/* for connect(): no [] around v6 */
	char *hostport;			/* Host header: no default port */
	char *peer;			/* HOST:PORT, for messages */
	uint16_t port;
	char *path;			/* path and query */
	char *user_agent;
	unsigned timeout;
	void (*local)(void *arg, const struct sockaddr *sa, unsigned len);
	void *local_arg;
	int (*resolve)(void *arg, const char *host, char *addr, size_t cap,
		       char *why, size_t whylen);
	void *resolve_arg;
	char identity[DM_HTTP_IDENTITY_MAX + 1];
	uint8_t psk[DM_HTTP_PSK_MAX];
	size_t psk_len;
	bool cert;			/* https without a PSK: certificates */
	struct dm_tls_trust trust;
	SSL_CTX *ctx;
	/* a host name is looked up without blocking the loop; NULL: none yet */
	struct evdns_base *dns;

	/* the connection; bev (and its SSL) belongs to evcon */
	struct evhttp_connection *evcon;
	struct bufferevent *bev;
	bool dead;			/* closed: open another one */
	bool was_up;			/* connected during this request */

	/* the request */
	struct event *timer;		/* the whole request's time-out */
	struct event *done;		/* hands res over from the loop */
	bool busy;			/* posted, not yet handed over */
	bool req_live;			/* evhttp still holds our request */
	size_t sent;
	struct result res;
	dm_http_cb *cb;
	void *arg;
};

static void result_clear(struct result *r)
{
	free(r->content_type);
	free(r->hmac);
	if (r->body)
		evbuffer_free(r->body);
	memset(r, 0, sizeof(*r));
}

/* ---- URLs ---- */

static bool host_char_ok(int c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_';
}

static bool path_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
			return false;
	return true;
}

/*
 * http[s]://HOST[:PORT][/PATH][?QUERY][#FRAGMENT], HOST a name, an IPv4
 * address or a [v6] literal.  Fills tls, addr, port, hostport, peer, path.
 */
static int parse_url(struct dm_http *h, const char *url, const char **why)
{
	const char *p, *end, *hend, *frag;
	struct hostport hp;
	struct in6_addr a6;
	size_t n;

	h->port = 80;
	if (!strncasecmp(url, "https://", 8)) {
		h->tls = true;
		h->port = 443;
		p = url + 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		p = url + 7;
	} else {
		*why = "not an http:// or https:// URL";
		return -EINVAL;
	}
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p))) {
		*why = "user information in the URL is not supported";
		return -EINVAL;
	}
	switch (hostport_parse(p, (size_t)(end - p), HOSTPORT_EMPTY_PORT, &hp)) {
	case HOSTPORT_OK:
		break;
	case HOSTPORT_NO_HOST:
		*why = *p == '[' ? "bad IPv6 literal" : "no host";
		return -EINVAL;
	case HOSTPORT_NO_CLOSE_BRACKET:
	case HOSTPORT_AFTER_BRACKET:
		*why = "bad IPv6 literal";
		return -EINVAL;
	case HOSTPORT_HOST_TOO_LONG:
		*why = *p == '[' ? "bad IPv6 literal" : "host name too long";
		return -EINVAL;
	case HOSTPORT_V6_UNBRACKETED:
	case HOSTPORT_BAD_PORT:
		*why = "bad port";
		return -EINVAL;
	}
	if (hp.bracketed) {
		if (inet_pton(AF_INET6, hp.host, &a6) != 1) {
			*why = "bad IPv6 literal";
			return -EINVAL;
		}
	} else {
		for (const char *c = hp.host; *c != '\0'; c++)
			if (!host_char_ok((unsigned char)*c)) {
				*why = "bad character in the host name";
				return -EINVAL;
			}
	}
	if (hp.has_port)
		h->port = hp.port;
	hend = p + hp.host_span;
	frag = end + strcspn(end, "#");
	if (!path_ok(end, (size_t)(frag - end))) {
		*why = "bad character in the path";
		return -EINVAL;
	}
	h->addr = strdup(hp.host);
	h->hostport = malloc((size_t)(hend - p) + 8);
	h->peer = malloc((size_t)(hend - p) + 8);
	/* "?q" alone has an empty path, which HTTP spells "/" */
	h->path = malloc((size_t)(frag - end) + 2);
	if (!h->addr || !h->hostport || !h->peer || !h->path) {
		*why = "out of memory";
		return -ENOMEM;
	}
	n = (size_t)(hend - p);
	sprintf(h->peer, "%.*s:%u", (int)n, p, (unsigned)h->port);
	if (h->port == (h->tls ? 443 : 80))
		sprintf(h->hostport, "%.*s", (int)n, p);
	else
		strcpy(h->hostport, h->peer);
	sprintf(h->path, "%s%.*s", *end == '/' ? "" : "/",
		(int)(frag - end), end);
	return 0;
}

int dm_http_url_check(const char *url, const char **why)
{
	struct dm_http h;
	int r;

	memset(&h, 0, sizeof(h));
	r = parse_url(&h, url, why);
	free(h.addr);
	free(h.hostport);
	free(h.peer);
	free(h.path);
	return r;
}

/* ---- TLS ---- */

static unsigned int psk_cb(SSL *ssl, const char *hint, char *identity,
			   unsigned int max_identity_len, unsigned char *psk,
			   unsigned int max_psk_len)
{
	struct dm_http *h = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	size_t n = strlen(h->identity);

	if (n + 1 > max_identity_len || h->psk_len > max_psk_len)
		return 0;
	memcpy(identity, h->identity, n + 1);
	memcpy(psk, h->psk, h->psk_len);
	return (unsigned int)h->psk_len;
}

static int tls_setup(struct dm_http *h, char *err, size_t errlen)
{
	char why[160];

	ERR_clear_error();
	h->ctx = SSL_CTX_new(TLS_client_method());
	if (!h->ctx)
		goto fail;
	if (h->cert && dm_tls_trust_ctx(h->ctx, &h->trust, err, errlen) < 0)
		return -EPROTO;
	if (h->cert)
		goto options;
	if (!SSL_CTX_set_min_proto_version(h->ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(h->ctx, TLS1_2_VERSION))
		goto fail;
	/* accepted when at least one suite is known; the fallback is for
	 * libraries that refuse the list outright */
	if (!SSL_CTX_set_cipher_list(h->ctx, PSK_CIPHERS)) {
		ERR_clear_error();
		if (!SSL_CTX_set_cipher_list(h->ctx, PSK_CIPHERS_AES))
			goto fail;
	}
	/* the key authenticates both ends (DM_SC 5.2) */
	SSL_CTX_set_verify(h->ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_app_data(h->ctx, h);
	SSL_CTX_set_psk_client_callback(h->ctx, psk_cb);
options:
	/*
	 * A server that closes without close_notify after a body delimited
	 * by the close (HTTP/1.0, s_server -www) is not an error here:
	 * evhttp still catches a short Content-Length or chunked body.
	 */
	SSL_CTX_set_options(h->ctx, SSL_OP_NO_COMPRESSION |
			    SSL_OP_NO_RENEGOTIATION
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
			    | SSL_OP_IGNORE_UNEXPECTED_EOF
#endif
			    );
	return 0;
fail:
	errbuf_set(err, errlen, "cannot set up TLS: %s",
		   dm_tls_error(why, sizeof(why)));
	return -EPROTO;
}

static bool is_ip_literal(const char *s)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* ---- the connection ---- */

static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct dm_http *h = arg;

	/* evhttp only says so for a connection that was up */
	h->dead = true;
	h->was_up = true;
}

static void conn_free(struct dm_http *h)
{
	if (!h->evcon)
		return;
	/* the close callback would run from inside the free */
	evhttp_connection_set_closecb(h->evcon, NULL, NULL);
	evhttp_connection_free(h->evcon);	/* bev, its fd and ssl too */
	h->evcon = NULL;
	h->bev = NULL;
	h->dead = false;
}

static struct bufferevent *tls_bev(struct dm_http *h)
{
	struct bufferevent *bev;
	SSL *ssl = SSL_new(h->ctx);

	if (!ssl)
		return NULL;
	if ((!is_ip_literal(h->addr) &&
	     !SSL_set_tlsext_host_name(ssl, h->addr)) ||
	    (h->cert && dm_tls_trust_host(ssl, h->addr) < 0)) {
		SSL_free(ssl);
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(h->base, -1, ssl,
					     BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE |
					     BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		SSL_free(ssl);	/* not taken over on failure */
		return NULL;
	}
	return bev;
}

/* 128: an IPv6 literal with its %interface, and room to spare */
#define RESOLVED_MAX	128

/*
 * Where to connect: the URL's host, or what the resolver hook says for it.
 * 1 when the hook gave an address, 0 for the host as it is, or a negative
 * errno with why.
 */
static int conn_dest(struct dm_http *h, char *dest, size_t cap, char *why,
		     size_t whylen)
{
	int r = h->resolve ? h->resolve(h->resolve_arg, h->addr, dest, cap,
					why, whylen) : 0;

	if (r == 0)
		snprintf(dest, cap, "%s", h->addr);
	return r < 0 ? r : r > 0;
}

/*
 * A connection to dest.  A host name the hook did not resolve goes to
 * evdns, made at its first need (it reads resolv.conf and /etc/hosts); an
 * address, the hook's included (an IPv6 one may carry its %interface), is
 * connected to as it is, without a resolver.
 */
static int conn_open(struct dm_http *h, const char *dest, bool resolved)
{
	struct evdns_base *dns = NULL;
	struct bufferevent *bev;

	if (!resolved && !is_ip_literal(dest)) {
		/* evdns reads resolv.conf and /etc/hosts (evdns_base_new) */
		if (!h->dns &&
		    (h->dns = evdns_base_new(h->base,
					     EVDNS_BASE_INITIALIZE_NAMESERVERS |
					     EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL)
			return -ENOMEM;
		dns = h->dns;
	}

	if (h->tls)
		bev = tls_bev(h);
	else
		bev = bufferevent_socket_new(h->base, -1,
					     BEV_OPT_CLOSE_ON_FREE |
					     BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		ERR_clear_error();
		return -ENOMEM;
	}
	h->evcon = evhttp_connection_base_bufferevent_new(h->base, dns, bev,
							  dest, h->port);
	if (!h->evcon) {
		bufferevent_free(bev);
		return -ENOMEM;
	}
	h->bev = bev;
	/*
	 * Our own timer bounds the whole request; evhttp's per-operation
	 * time-out is a backstop that must not fire first, because a
	 * connect time-out would look like a refused connection.
	 */
	evhttp_connection_set_timeout(h->evcon, (int)h->timeout + 5);
	evhttp_connection_set_retries(h->evcon, 0);
	evhttp_connection_set_max_body_size(h->evcon, MAX_BODY);
	evhttp_connection_set_max_headers_size(h->evcon, MAX_HEADERS);
	evhttp_connection_set_closecb(h->evcon, conn_closed, h);
	return 0;
}

/* ---- outcomes ---- */

/* Settle the request: from here on evhttp's callbacks are ignored. */
static void settle(struct dm_http *h)
{
	h->req_live = false;
	evtimer_del(h->timer);
	event_active(h->done, EV_TIMEOUT, 1);
}

static void failed(struct dm_http *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void failed(struct dm_http *h, int err, const char *fmt, ...)
{
	va_list ap;

	result_clear(&h->res);
	h->res.err = err;
	va_start(ap, fmt);
	vsnprintf(h->res.msg, sizeof(h->res.msg), fmt, ap);
	va_end(ap);
	h->dead = true;
	settle(h);
}

/*
 * The first OpenSSL library error libevent kept for the connection.  It
 * also keeps SSL_get_error() codes, which are no library's errors.
 */
static bool tls_error(struct dm_http *h, char *buf, size_t cap)
{
	unsigned long e, found = 0;
	const char *r;

	if (!h->bev || !h->tls)
		return false;
	while ((e = bufferevent_get_openssl_error(h->bev)) != 0)
		if (!found && ERR_GET_LIB(e) != 0)
			found = e;
	if (!found)
		return false;
	if ((r = ERR_reason_error_string(found)) != NULL)
		snprintf(buf, cap, "%s", r);
	else
		ERR_error_string_n(found, buf, cap);
	return true;
}

static bool connect_errno(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH ||
	       e == EADDRNOTAVAIL || e == ENETDOWN || e == EACCES ||
	       e == EPERM || e == EAFNOSUPPORT;
}

/* The connection went away; say at which stage, in words. */
static void fail_closed(struct dm_http *h, int sys)
{
	char why[160];
	bool tls;

	if (!h->was_up && h->bev && bufferevent_socket_get_dns_error(h->bev)) {
		failed(h, -EHOSTUNREACH, "cannot resolve %s: %s", h->addr,
		       evutil_gai_strerror(bufferevent_socket_get_dns_error(h->bev)));
		return;
	}
	/* the handshake was over: what follows is no handshake failure */
	if (!h->was_up && h->tls && h->bev &&
	    SSL_is_init_finished(bufferevent_openssl_get_ssl(h->bev)))
		h->was_up = true;
	/* the server's certificate refused: say why, by its class */
	if (!h->was_up && h->cert && h->bev &&
	    dm_tls_verify_failure(bufferevent_openssl_get_ssl(h->bev), why,
				  sizeof(why))) {
		failed(h, -EPROTO, "certificate of %s refused: %s", h->peer,
		       why);
		return;
	}
	tls = tls_error(h, why, sizeof(why));
	if (!h->was_up && !tls && sys == ECONNREFUSED)
		failed(h, -ECONNREFUSED, "connection refused by %s", h->peer);
	else if (!h->was_up && !tls && connect_errno(sys))
		failed(h, -sys, "cannot connect to %s: %s", h->peer,
		       strerror(sys));
	else if (!h->was_up && h->tls)
		failed(h, -EPROTO, "TLS handshake with %s failed: %s",
		       h->peer, tls ? why :
		       sys && sys != EAGAIN ? strerror(sys) :
		       "the server closed the connection");
	else if (tls)
		failed(h, -EPROTO, "TLS error: %s", why);
	else
		failed(h, -ECONNRESET, "connection closed before an answer");
}

static void req_error(enum evhttp_request_error e, void *arg)
{
	struct dm_http *h = arg;
	int sys = errno;	/* evhttp restores the socket error for us */

	if (!h->req_live)
		return;
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		failed(h, -ETIMEDOUT, "timed out after %u s", h->timeout);
		break;
	case EVREQ_HTTP_EOF:
		fail_closed(h, sys);
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		failed(h, -EBADMSG, "malformed answer from %s", h->peer);
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		failed(h, -EMSGSIZE, "answer larger than %u MiB",
		       MAX_BODY >> 20);
		break;
	case EVREQ_HTTP_REQUEST_CANCEL:
		failed(h, -ECANCELED, "request cancelled");
		break;
	case EVREQ_HTTP_BUFFER_ERROR:
	default:
		failed(h, -EIO, "I/O error talking to %s", h->peer);
		break;
	}
}

/* Keep the answer: evhttp frees the request when we return. */
static int keep_answer(struct dm_http *h, struct evhttp_request *req)
{
	struct evkeyvalq *hdrs = evhttp_request_get_input_headers(req);
	const char *ct = evhttp_find_header(hdrs, "Content-Type");
	const char *hmac = evhttp_find_header(hdrs, "x-syncml-hmac");
	struct result *r = &h->res;

	result_clear(r);
	r->status = evhttp_request_get_response_code(req);
	r->content_type = strdup(ct ? ct : "");
	r->hmac = hmac ? strdup(hmac) : NULL;
	r->body = evbuffer_new();
	if (!r->content_type || (hmac && !r->hmac) || !r->body ||
	    evbuffer_add_buffer(r->body,
				evhttp_request_get_input_buffer(req)) < 0)
		return -ENOMEM;
	return 0;
}

/* token, case aside, in a comma-separated header value */
static bool has_token(const char *v, const char *token)
{
	size_t n = strlen(token);

	while (v && *v) {
		v += strspn(v, " \t,");
		if (!strncasecmp(v, token, n) && strchr(" \t,", v[n]))
			return true;
		v += strcspn(v, ",");
	}
	return false;
}

/*
 * Whether the server keeps the connection after this answer (RFC 9112
 * 9.3).  evhttp only looks at "Connection: close", and would send the next
 * request down a connection an HTTP/1.0 server is closing.
 */
static bool keeps_alive(struct evhttp_request *req)
{
	struct evkeyvalq *hdrs = evhttp_request_get_input_headers(req);
	const char *conn = evhttp_find_header(hdrs, "Connection");
	const char *te = evhttp_find_header(hdrs, "Transfer-Encoding");

	if (has_token(conn, "close"))
		return false;
	if (req->major == 1 && req->minor == 0 && !has_token(conn, "keep-alive"))
		return false;
	/* a body that ended with the connection */
	return evhttp_find_header(hdrs, "Content-Length") ||
	       has_token(te, "chunked");
}

static void req_done(struct evhttp_request *req, void *arg)
{
	struct dm_http *h = arg;

	if (!h->req_live)
		return;		/* settled by req_error or the timer */
	if (!req || evhttp_request_get_response_code(req) == 0) {
		/*
		 * No error callback before this: evhttp's connect failure
		 * path, taken for ECONNREFUSED (its connect time-out cannot
		 * come before our timer).
		 */
		fail_closed(h, ECONNREFUSED);
		return;
	}
	if (!keeps_alive(req))
		h->dead = true;
	if (keep_answer(h, req) < 0) {
		failed(h, -ENOMEM, "out of memory");
		return;
	}
	settle(h);
}

static void timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct dm_http *h = arg;

	if (!h->req_live)
		return;
	/* freeing the connection drops the request without callbacks */
	h->req_live = false;
	conn_free(h);
	failed(h, -ETIMEDOUT, "timed out after %u s", h->timeout);
}

/* From the loop: move the outcome out of h, then tell the caller. */
static void deliver(evutil_socket_t fd, short what, void *arg)
{
	struct dm_http *h = arg;
	struct result r = h->res;
	struct dm_http_response resp;
	dm_http_cb *cb = h->cb;
	void *cb_arg = h->arg;

	memset(&h->res, 0, sizeof(h->res));
	h->busy = false;
	h->cb = NULL;
	if (r.err) {
		log_debug(LOG_DM, "POST %s: %s", h->url, r.msg);
		cb(cb_arg, r.err, r.msg, NULL);
	} else {
		memset(&resp, 0, sizeof(resp));
		resp.status = r.status;
		resp.content_type = r.content_type;
		resp.hmac = r.hmac;
		resp.len = evbuffer_get_length(r.body);
		resp.body = resp.len ? evbuffer_pullup(r.body, -1) :
				       (const uint8_t *)"";
		log_debug(LOG_DM, "HTTP %d, %zu bytes%s%s", resp.status,
			  resp.len, *resp.content_type ? ", " : "",
			  resp.content_type);
		if (!resp.body)
			cb(cb_arg, -ENOMEM, "out of memory", NULL);
		else
			cb(cb_arg, 0, "", &resp);
	}
	/* h may be gone now */
	result_clear(&r);
}

/* ---- the API ---- */

static int copy_opts(struct dm_http *h, const struct dm_http_opts *o,
		     char *err, size_t errlen)
{
	h->timeout = o && o->timeout ? o->timeout : DEFAULT_TIMEOUT;
	h->local = o ? o->local : NULL;
	h->local_arg = o ? o->local_arg : NULL;
	h->resolve = o ? o->resolve : NULL;
	h->resolve_arg = o ? o->resolve_arg : NULL;
	if (h->timeout > MAX_TIMEOUT)
		h->timeout = MAX_TIMEOUT;
	h->user_agent = strdup(o && o->user_agent ? o->user_agent : "dmscgw");
	if (!h->user_agent) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!h->tls)
		return 0;
	if (!o || !o->psk_len) {
		h->cert = true;
		if (o && o->trust)
			h->trust = *o->trust;
		return 0;
	}
	if (!o->psk_identity || !*o->psk_identity || !o->psk) {
		errbuf_set(err, errlen, "https with a PSK needs its identity");
		return -EINVAL;
	}
	if (strlen(o->psk_identity) > DM_HTTP_IDENTITY_MAX ||
	    o->psk_len > DM_HTTP_PSK_MAX) {
		errbuf_set(err, errlen, "PSK identity or key too long");
		return -EINVAL;
	}
	snprintf(h->identity, sizeof(h->identity), "%s", o->psk_identity);
	memcpy(h->psk, o->psk, o->psk_len);
	h->psk_len = o->psk_len;
	return 0;
}

struct dm_http *dm_http_new(struct event_base *base, const char *url,
			    const struct dm_http_opts *o, char *err,
			    size_t errlen)
{
	struct dm_http *h;
	const char *why = NULL;

	if (!url || strlen(url) > MAX_URL) {
		errbuf_set(err, errlen, "bad URL: %s", url ? "too long" : "none");
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	h->base = base;
	if (parse_url(h, url, &why) < 0) {
		errbuf_set(err, errlen, "bad URL '%.100s': %s", url, why);
		goto fail;
	}
	if (copy_opts(h, o, err, errlen) < 0)
		goto fail;
	if (h->tls && tls_setup(h, err, errlen) < 0)
		goto fail;
	h->url = strdup(url);
	h->timer = evtimer_new(base, timed_out, h);
	h->done = event_new(base, -1, 0, deliver, h);
	if (!h->url || !h->timer || !h->done) {
		errbuf_set(err, errlen, "out of memory");
		goto fail;
	}
	return h;
fail:
	dm_http_free(h);
	return NULL;
}

static int add_headers(struct dm_http *h, struct evhttp_request *req,
		       const char *content_type, const char *hmac, size_t len)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	char n[24];

	snprintf(n, sizeof(n), "%zu", len);
	/* evhttp refuses values with CR or LF in them */
	if (evhttp_add_header(out, "Host", h->hostport) < 0 ||
	    evhttp_add_header(out, "User-Agent", h->user_agent) < 0 ||
	    evhttp_add_header(out, "Content-Type", content_type) < 0 ||
	    evhttp_add_header(out, "Accept", content_type) < 0 ||
	    evhttp_add_header(out, "Cache-Control", "no-store") < 0 ||
	    evhttp_add_header(out, "Content-Length", n) < 0 ||
	    (hmac && evhttp_add_header(out, "x-syncml-hmac", hmac) < 0))
		return -EINVAL;
	return 0;
}

int dm_http_post(struct dm_http *h, const char *content_type,
		 const char *hmac, const uint8_t *body, size_t len,
		 dm_http_cb *cb, void *arg)
{
	struct evhttp_request *req;
	char dest[RESOLVED_MAX], why[160] = "";
	int r;

	if (h->busy)
		return -EBUSY;
	if (!content_type || !cb || (len && !body))
		return -EINVAL;
	if (h->evcon && h->dead)
		conn_free(h);
	h->was_up = h->evcon != NULL;
	if (!h->evcon) {
		r = conn_dest(h, dest, sizeof(dest), why, sizeof(why));
		if (r < 0) {
			/* no address for the name: the callback says why */
			h->busy = true;
			h->cb = cb;
			h->arg = arg;
			failed(h, r, "%s: %s", h->addr,
			       *why ? why : strerror(-r));
			return 0;
		}
		if ((r = conn_open(h, dest, r > 0)) < 0)
			return r;
	}
	if ((req = evhttp_request_new(req_done, h)) == NULL)
		return -ENOMEM;
	evhttp_request_set_error_cb(req, req_error);
	if ((r = add_headers(h, req, content_type, hmac, len)) < 0 ||
	    evbuffer_add(evhttp_request_get_output_buffer(req), body, len) < 0) {
		evhttp_request_free(req);
		return r < 0 ? r : -ENOMEM;
	}
	log_debug(LOG_DM, "POST %s: %zu bytes%s", h->url, len,
		  h->was_up ? "" : ", new connection");
	result_clear(&h->res);
	h->busy = true;
	h->req_live = true;
	h->cb = cb;
	h->arg = arg;
	/* evhttp may already call back from in here: settle() defers */
	if (evhttp_make_request(h->evcon, req, EVHTTP_REQ_POST, h->path) < 0) {
		/* the request is evhttp's to free here */
		event_del(h->done);
		result_clear(&h->res);
		h->req_live = false;
		h->busy = false;
		h->cb = NULL;
		h->dead = true;
		return -ENOMEM;
	}
	{
		/* one request goes out in several writes (headers, TLS records) */
		struct bufferevent *bev = evhttp_connection_get_bufferevent(h->evcon);
		evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
		int one = 1;

		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (fd >= 0)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
					 sizeof(one));
		if (fd >= 0 && !h->was_up && h->local &&
		    getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			h->local(h->local_arg, (struct sockaddr *)&ss, sl);
	}
	if (h->req_live) {
		struct timeval tv = { .tv_sec = h->timeout };

		evtimer_add(h->timer, &tv);
	}
	return 0;
}

void dm_http_free(struct dm_http *h)
{
	if (!h)
		return;
	h->req_live = false;
	conn_free(h);
	if (h->dns)
		evdns_base_free(h->dns, 0);	/* after the connection using it */
	if (h->timer)
		event_free(h->timer);
	if (h->done)
		event_free(h->done);	/* no delivery after this */
	result_clear(&h->res);
	SSL_CTX_free(h->ctx);
	OPENSSL_cleanse(h->psk, sizeof(h->psk));
	free(h->url);
	free(h->addr);
	free(h->hostport);
	free(h->peer);
	free(h->path);
	free(h->user_agent);
	free(h);
}

bool dm_http_transient(int err)
{
	switch (-err) {
	case ECONNREFUSED:
	case ECONNRESET:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
	case EADDRNOTAVAIL:
		return true;
	default:
		return false;
	}
}

const char *dm_http_content_type(enum syncml_format fmt)
{
	return fmt == SYNCML_WBXML ? DM_HTTP_CT_WBXML : DM_HTTP_CT_XML;
}

int dm_http_syncml(const struct dm_http_response *resp,
		   struct syncml_msg **out, char *why, size_t whylen)
{
	struct syncml_error perr;
	enum syncml_format fmt;

	*out = NULL;
	if (resp->status != 200) {
		snprintf(why, whylen, "HTTP status %d", resp->status);
		return -EIO;
	}
	if (!strncasecmp(resp->content_type, DM_HTTP_CT_WBXML,
			 strlen(DM_HTTP_CT_WBXML)))
		fmt = SYNCML_WBXML;
	else if (!strncasecmp(resp->content_type, DM_HTTP_CT_XML,
			      strlen(DM_HTTP_CT_XML)))
		fmt = SYNCML_XML;
	else {
		snprintf(why, whylen, "unexpected content type '%.60s'",
			 resp->content_type);
		return -EBADMSG;
	}
	if (syncml_parse(fmt, resp->body, resp->len, out, &perr) < 0) {
		snprintf(why, whylen, "bad message (%d): %s", perr.status,
			 perr.text);
		return -EBADMSG;
	}
	return 0;
}
