/* SPDX-License-Identifier: MIT */
/*
 * The DM client's HTTP transport (src/dm/http.c) through its public API:
 * URL checks, and plain-HTTP requests against an evhttp server in the same
 * event loop (headers, keep-alive, reconnection, errors, the callback
 * rules), and over TLS-PSK against an evhttp server of our own, for what
 * only a TLS connection shows: a fresh SSL for every connection.  Interop
 * with another TLS stack is tests/integration/tls_interop.sh's job.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "dm/http.h"
#include "dm/tls.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define XML		"application/vnd.syncml.dm+xml"
#define WBXML		"application/vnd.syncml.dm+wbxml"

static const uint8_t psk[16] = "0123456789abcdef";

struct fix {
	struct event_base *base;
	struct evhttp *srv;
	SSL_CTX *srv_ctx;
	const uint8_t *srv_psk;
	uint16_t port;
	char url[64];
	struct dm_http *h;

	/* what the server saw last */
	char hdr[7][128];
	size_t body_len;
	unsigned requests;
	uint16_t peers[8];

	/* what the client got */
	bool in_post;
	unsigned calls;
	int err;
	char msg[256];
	int status;
	char ctype[64];
	char hmac[64];
	uint8_t body[64];
	size_t len;

	/* what to do from the callback */
	bool post_again;
	bool free_in_cb;
};

static const char *const hdr_names[] = {
	"Host", "User-Agent", "Content-Type", "Accept", "Cache-Control",
	"Content-Length", "x-syncml-hmac",
};

static void keep_request(struct fix *f, struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	char *addr;
	uint16_t port;

	for (size_t i = 0; i < ARRAY_SIZE(hdr_names); i++) {
		const char *v = evhttp_find_header(in, hdr_names[i]);

		snprintf(f->hdr[i], sizeof(f->hdr[i]), "%s", v ? v : "(none)");
	}
	f->body_len = evbuffer_get_length(evhttp_request_get_input_buffer(req));
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr,
				   &port);
	if (f->requests < ARRAY_SIZE(f->peers))
		f->peers[f->requests] = port;
	f->requests++;
}

static void serve(struct evhttp_request *req, void *arg)
{
	struct fix *f = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evbuffer_new();
	const char *ct;

	keep_request(f, req);
	ct = evhttp_find_header(evhttp_request_get_input_headers(req),
				"Content-Type");
	if (!strcmp(uri, "/hang")) {
		evbuffer_free(body);
		return;		/* never answered; evhttp_free drops it */
	}
	if (!strcmp(uri, "/big")) {
		void *p = calloc(1, (4u << 20) + 1);

		evbuffer_add(body, p, (4u << 20) + 1);
		free(p);
	} else {
		evbuffer_add_buffer(body, evhttp_request_get_input_buffer(req));
	}
	evhttp_add_header(out, "Content-Type", ct ? ct : "text/plain");
	evhttp_add_header(out, "x-syncml-hmac", "algorithm=MD5, mac=srv");
	if (!strcmp(uri, "/close"))
		evhttp_add_header(out, "Connection", "close");
	evhttp_send_reply(req, strcmp(uri, "/missing") ? 200 : 404,
			  "whatever", body);
	evbuffer_free(body);
}

static uint16_t bound_port(evutil_socket_t fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct evhttp_bound_socket *bs;

	assert_non_null(f);
	f->base = event_base_new();
	f->srv = evhttp_new(f->base);
	assert_non_null(f->srv);
	bs = evhttp_bind_socket_with_handle(f->srv, "127.0.0.1", 0);
	assert_non_null(bs);
	f->port = bound_port(evhttp_bound_socket_get_fd(bs));
	evhttp_set_gencb(f->srv, serve, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	dm_http_free(f->h);
	evhttp_free(f->srv);
	SSL_CTX_free(f->srv_ctx);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void answered(void *arg, int err, const char *msg,
		     const struct dm_http_response *resp)
{
	struct fix *f = arg;

	assert_false(f->in_post);	/* never from inside dm_http_post */
	f->calls++;
	f->err = err;
	snprintf(f->msg, sizeof(f->msg), "%s", msg);
	if (f->free_in_cb) {
		/* as dm_session does on a new RespURI: resp must outlive h */
		dm_http_free(f->h);
		f->h = NULL;
	}
	if (resp) {
		f->status = resp->status;
		snprintf(f->ctype, sizeof(f->ctype), "%s", resp->content_type);
		snprintf(f->hmac, sizeof(f->hmac), "%s",
			 resp->hmac ? resp->hmac : "(none)");
		f->len = resp->len;
		memcpy(f->body, resp->body,
		       resp->len < sizeof(f->body) ? resp->len : sizeof(f->body));
	}
	if (f->post_again) {
		f->post_again = false;
		assert_int_equal(dm_http_post(f->h, XML, NULL,
					      (const uint8_t *)"two", 3,
					      answered, f), 0);
	}
}

static unsigned int server_psk(SSL *ssl, const char *identity,
			       unsigned char *key, unsigned int max)
{
	struct fix *f = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (strcmp(identity, "dmsc") || max < sizeof(psk))
		return 0;
	memcpy(key, f->srv_psk, sizeof(psk));
	return sizeof(psk);
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	struct fix *f = arg;

	return bufferevent_openssl_socket_new(base, -1, SSL_new(f->srv_ctx),
					      BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

/* Make the server speak TLS 1.2 with PSK key. */
static void tls_server(struct fix *f, const uint8_t *key)
{
	f->srv_ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(f->srv_ctx);
	assert_true(SSL_CTX_set_min_proto_version(f->srv_ctx, TLS1_2_VERSION));
	assert_true(SSL_CTX_set_max_proto_version(f->srv_ctx, TLS1_2_VERSION));
	assert_true(SSL_CTX_set_cipher_list(f->srv_ctx, "PSK-AES128-CBC-SHA"));
	SSL_CTX_set_app_data(f->srv_ctx, f);
	SSL_CTX_set_psk_server_callback(f->srv_ctx, server_psk);
	f->srv_psk = key;
	evhttp_set_bevcb(f->srv, tls_bev, f);
}

static void new_client(struct fix *f, const char *path, unsigned timeout)
{
	struct dm_http_opts o = {
		.timeout = timeout, .psk_identity = "dmsc", .psk = psk,
		.psk_len = sizeof(psk),
	};
	char err[160] = "";

	snprintf(f->url, sizeof(f->url), "%s://127.0.0.1:%u%s",
		 f->srv_ctx ? "https" : "http", (unsigned)f->port, path);
	f->h = dm_http_new(f->base, f->url, &o, err, sizeof(err));
	assert_non_null(f->h);
}

static int post(struct fix *f, const char *ct, const char *hmac,
		const char *body)
{
	int r;

	f->in_post = true;
	r = dm_http_post(f->h, ct, hmac, (const uint8_t *)body, strlen(body),
			 answered, f);
	f->in_post = false;
	return r;
}

static void expired(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

/* Run the loop until the callback came max_calls times, 10 s at most. */
static void run(struct fix *f, unsigned max_calls)
{
	struct timeval tv = { .tv_sec = 10 };
	bool late = false;
	struct event *guard = evtimer_new(f->base, expired, &late);

	assert_non_null(guard);
	evtimer_add(guard, &tv);
	while (f->calls < max_calls && !late)
		event_base_loop(f->base, EVLOOP_ONCE);
	event_free(guard);
	assert_false(late);
}

/* Run the loop for ms milliseconds. */
static void idle(struct fix *f, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };
	bool done = false;
	struct event *t = evtimer_new(f->base, expired, &done);

	assert_non_null(t);
	evtimer_add(t, &tv);
	while (!done)
		event_base_loop(f->base, EVLOOP_ONCE);
	event_free(t);
}

static void test_bad_urls(void **state)
{
	static const char *const bad[] = {
		"", "ftp://127.0.0.1/", "http://", "http:///x", "http://:80/",
		"http://h:0/", "http://h:65536/", "http://h:8a/",
		"http://user@h/", "http://[::1/", "http://[zz]/",
		"http://[::1]x/", "http://h/a b", "http://h/a\r\nX: y",
		"http://h_%/", "//h/",
	};
	struct fix *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char err[160] = "";
		struct dm_http *h = dm_http_new(f->base, bad[i], NULL, err,
						sizeof(err));

		if (h)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(err, "bad URL"));
	}
}

static void test_good_urls(void **state)
{
	static const char *const good[] = {
		"http://127.0.0.1", "HTTP://127.0.0.1:8080/OMA/DM?a=1#frag",
		"http://[::1]:4116/", "http://dm.example.org:/x", "http://h?q",
		"https://127.0.0.1:4116/OMA/DM", "https://[::1]/",
	};
	static const uint8_t key[16] = { 1, 2, 3 };
	struct dm_http_opts o = {
		.psk_identity = "id", .psk = key, .psk_len = sizeof(key),
	};
	struct fix *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		char err[160] = "";
		struct dm_http *h = dm_http_new(f->base, good[i], &o, err,
						sizeof(err));

		if (!h)
			fail_msg("'%s' refused: %s", good[i], err);
		dm_http_free(h);
	}
}

/*
 * https with a PSK (the DM_SC server) or with certificates (the others):
 * a PSK needs its identity and bounded sizes; without one the trust is set
 * up at once, so a CA file that does not load fails here, not later.
 */
static void test_https_psk_or_certificates(void **state)
{
	static const uint8_t key[DM_HTTP_PSK_MAX + 1];
	char ident[DM_HTTP_IDENTITY_MAX + 2];
	struct dm_http_opts o = { .psk_identity = "id", .psk = key };
	struct dm_tls_trust tr;
	struct fix *f = *state;
	char err[160] = "";
	struct dm_http *h;

	/* no PSK: the system store */
	h = dm_http_new(f->base, "https://127.0.0.1/", NULL, err, sizeof(err));
	assert_non_null(h);
	dm_http_free(h);
	memset(&tr, 0, sizeof(tr));
	snprintf(tr.ca_file, sizeof(tr.ca_file), "/nonexistent/ca.pem");
	o.trust = &tr;
	assert_null(dm_http_new(f->base, "https://localhost/", &o, err,
				sizeof(err)));
	assert_non_null(strstr(err, "cannot read CA file /nonexistent/ca.pem"));
	o.trust = NULL;
	o.psk_len = DM_HTTP_PSK_MAX + 1;
	assert_null(dm_http_new(f->base, "https://127.0.0.1/", &o, err,
				sizeof(err)));
	memset(ident, 'i', sizeof(ident) - 1);
	ident[sizeof(ident) - 1] = '\0';
	o.psk_identity = ident;
	o.psk_len = 16;
	assert_null(dm_http_new(f->base, "https://127.0.0.1/", &o, err,
				sizeof(err)));
	o.psk_identity = NULL;
	assert_null(dm_http_new(f->base, "https://127.0.0.1/", &o, err,
				sizeof(err)));
	assert_non_null(strstr(err, "PSK"));
	/* plain http ignores the PSK */
	f->h = dm_http_new(f->base, "http://127.0.0.1/", NULL, err,
			   sizeof(err));
	assert_non_null(f->h);
}

/* Network failures pass; refusals by the peer do not. */
static void test_transient(void **state)
{
	static const int yes[] = { -ECONNREFUSED, -ECONNRESET, -ETIMEDOUT,
				   -EHOSTUNREACH, -ENETUNREACH };
	static const int no[] = { 0, -EPROTO, -EBADMSG, -EMSGSIZE, -EIO,
				  -ECANCELED, -ENOMEM };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		assert_true(dm_http_transient(yes[i]));
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		assert_false(dm_http_transient(no[i]));
}

static void test_post(void **state)
{
	struct fix *f = *state;
	char host[32];

	new_client(f, "/echo", 5);
	assert_int_equal(post(f, WBXML, "algorithm=MD5, mac=cli", "hello"), 0);
	assert_int_equal(post(f, WBXML, NULL, "x"), -EBUSY);
	run(f, 1);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->status, 200);
	assert_string_equal(f->ctype, WBXML);
	assert_string_equal(f->hmac, "algorithm=MD5, mac=srv");
	assert_int_equal(f->len, 5);
	assert_memory_equal(f->body, "hello", 5);

	snprintf(host, sizeof(host), "127.0.0.1:%u", (unsigned)f->port);
	assert_string_equal(f->hdr[0], host);
	assert_string_equal(f->hdr[1], "dmscgw");
	assert_string_equal(f->hdr[2], WBXML);
	assert_string_equal(f->hdr[3], WBXML);
	assert_string_equal(f->hdr[4], "no-store");
	assert_string_equal(f->hdr[5], "5");
	assert_string_equal(f->hdr[6], "algorithm=MD5, mac=cli");
	assert_int_equal(f->body_len, 5);
}

/* A second post from the callback goes down the same connection. */
static void test_keep_alive(void **state)
{
	struct fix *f = *state;

	new_client(f, "/echo", 5);
	f->post_again = true;
	assert_int_equal(post(f, XML, NULL, "one"), 0);
	run(f, 2);
	assert_int_equal(f->calls, 2);
	assert_int_equal(f->err, 0);
	assert_memory_equal(f->body, "two", 3);
	assert_string_equal(f->hdr[6], "(none)");
	assert_int_equal(f->requests, 2);
	assert_int_equal(f->peers[0], f->peers[1]);
}

/* After "Connection: close" the next post opens a new connection. */
static void test_reconnect(void **state)
{
	struct fix *f = *state;

	new_client(f, "/close", 5);
	f->post_again = true;
	assert_int_equal(post(f, XML, NULL, "one"), 0);
	run(f, 2);
	assert_int_equal(f->calls, 2);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->status, 200);
	assert_int_equal(f->requests, 2);
	assert_int_not_equal(f->peers[0], f->peers[1]);
}

/* The server drops the idle connection: the next post opens another. */
static void test_idle_close(void **state)
{
	struct fix *f = *state;

	evhttp_set_timeout(f->srv, 1);
	new_client(f, "/echo", 5);
	assert_int_equal(post(f, XML, NULL, "one"), 0);
	run(f, 1);
	assert_int_equal(f->err, 0);
	idle(f, 1500);
	assert_int_equal(post(f, XML, NULL, "two"), 0);
	run(f, 2);
	assert_int_equal(f->calls, 2);
	assert_int_equal(f->err, 0);
	assert_memory_equal(f->body, "two", 3);
	assert_int_equal(f->requests, 2);
	assert_int_not_equal(f->peers[0], f->peers[1]);
}

static void test_not_found(void **state)
{
	struct fix *f = *state;

	new_client(f, "/missing", 5);
	assert_int_equal(post(f, XML, NULL, "x"), 0);
	run(f, 1);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->status, 404);
}

static void test_refused(void **state)
{
	struct fix *f = *state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct dm_http_opts o = { .timeout = 5 };
	char url[64], err[160];

	/* a port that was just free: nobody listens there */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", bound_port(fd));
	close(fd);
	f->h = dm_http_new(f->base, url, &o, err, sizeof(err));
	assert_non_null(f->h);
	assert_int_equal(post(f, XML, NULL, "x"), 0);
	run(f, 1);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->err, -ECONNREFUSED);
	assert_non_null(strstr(f->msg, "connection refused by 127.0.0.1:"));
}

static void test_timeout(void **state)
{
	struct fix *f = *state;

	new_client(f, "/hang", 1);
	assert_int_equal(post(f, XML, NULL, "x"), 0);
	run(f, 1);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->err, -ETIMEDOUT);
	assert_string_equal(f->msg, "timed out after 1 s");
}

static void test_too_big(void **state)
{
	struct fix *f = *state;

	new_client(f, "/big", 5);
	assert_int_equal(post(f, XML, NULL, "x"), 0);
	run(f, 1);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->err, -EMSGSIZE);
}

/* Freed with a request outstanding: the callback never comes. */
static void test_free_pending(void **state)
{
	struct fix *f = *state;

	new_client(f, "/hang", 5);
	assert_int_equal(post(f, XML, NULL, "x"), 0);
	idle(f, 200);
	assert_int_equal(f->requests, 1);	/* it did reach the server */
	dm_http_free(f->h);
	f->h = NULL;
	idle(f, 200);
	assert_int_equal(f->calls, 0);
}

/* Freed right after posting, before the loop ran at all. */
static void test_free_at_once(void **state)
{
	struct fix *f = *state;

	new_client(f, "/echo", 5);
	assert_int_equal(post(f, XML, NULL, "x"), 0);
	dm_http_free(f->h);
	f->h = NULL;
	idle(f, 100);
	assert_int_equal(f->calls, 0);
}

static void test_free_in_callback(void **state)
{
	struct fix *f = *state;

	new_client(f, "/echo", 5);
	f->free_in_cb = true;
	assert_int_equal(post(f, XML, NULL, "still here"), 0);
	run(f, 1);
	assert_int_equal(f->err, 0);
	assert_null(f->h);
	assert_int_equal(f->len, 10);
	assert_memory_equal(f->body, "still here", 10);
}

static void test_bad_header(void **state)
{
	struct fix *f = *state;

	new_client(f, "/echo", 5);
	assert_int_equal(post(f, XML, "a\r\nX-Evil: 1", "x"), -EINVAL);
	/* nothing outstanding: a good post goes through */
	assert_int_equal(post(f, XML, NULL, "x"), 0);
	run(f, 1);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->calls, 1);
}

/* Over TLS: one connection for two posts, then a new one (and a new SSL)
 * after the server dropped it. */
static void test_tls(void **state)
{
	struct fix *f = *state;

	tls_server(f, psk);
	evhttp_set_timeout(f->srv, 1);
	new_client(f, "/echo", 5);
	f->post_again = true;
	assert_int_equal(post(f, XML, NULL, "one"), 0);
	run(f, 2);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->requests, 2);
	assert_int_equal(f->peers[0], f->peers[1]);
	idle(f, 1500);
	assert_int_equal(post(f, XML, NULL, "three"), 0);
	run(f, 3);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->status, 200);
	assert_memory_equal(f->body, "three", 5);
	assert_int_equal(f->requests, 3);
	assert_int_not_equal(f->peers[1], f->peers[2]);
}

static void test_tls_bad_psk(void **state)
{
	static const uint8_t other[16] = "0123456789abcdeX";
	struct fix *f = *state;

	tls_server(f, other);
	new_client(f, "/echo", 5);
	assert_int_equal(post(f, XML, NULL, "x"), 0);
	run(f, 1);
	assert_int_equal(f->err, -EPROTO);
	assert_non_null(strstr(f->msg, "TLS handshake with 127.0.0.1:"));
	assert_null(strstr(f->msg, "0123456789"));
	assert_int_equal(f->requests, 0);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bad_urls),
		T(test_good_urls),
		T(test_https_psk_or_certificates),
		T(test_transient),
		T(test_post),
		T(test_keep_alive),
		T(test_reconnect),
		T(test_idle_close),
		T(test_not_found),
		T(test_refused),
		T(test_timeout),
		T(test_too_big),
		T(test_free_pending),
		T(test_free_at_once),
		T(test_free_in_callback),
		T(test_bad_header),
		T(test_tls),
		T(test_tls_bad_psk),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("dm_http", tests, NULL, NULL);
}
