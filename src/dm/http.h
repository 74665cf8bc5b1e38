/* SPDX-License-Identifier: MIT */
/*
 * The DM client's HTTP(S) transport: the SyncML HTTP binding
 * (OMA-TS-SyncML_HTTPBinding-V1_2) over evhttp, with TLS through
 * bufferevent_openssl for https://: TLS 1.2 PSK when a key is given
 * (spec/OMA-TS-DM_SC-V1_0 5.2: TLS_PSK_WITH_AES_128_CBC_SHA,
 * TLS_PSK_WITH_3DES_EDE_CBC_SHA where the TLS library still has it), TLS
 * 1.2 or 1.3 with the server's certificate verified otherwise (dm/tls.h).
 * One request at a time on one kept-alive
 * connection, opened again when the server closed it.  Non-blocking: every
 * result comes back through the callback, from the event loop.
 */
#ifndef DMSCGW_DM_HTTP_H
#define DMSCGW_DM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "syncml/syncml.h"

struct event_base;
struct dm_http;
struct dm_tls_trust;
struct sockaddr;

#define DM_HTTP_PSK_MAX		64	/* bytes of pre-shared key */
#define DM_HTTP_IDENTITY_MAX	128	/* PSK identity, text */

struct dm_http_opts {
	/* https with a PSK: psk_len 1..DM_HTTP_PSK_MAX, an identity */
	const char *psk_identity;
	const uint8_t *psk;
	size_t psk_len;			/* 0: certificates */
	/* https without a PSK: whom to trust; NULL: the system store */
	const struct dm_tls_trust *trust;
	unsigned timeout;		/* seconds per request, all included; 0: 30 */
	const char *user_agent;		/* NULL: "dmscgw" */
	/*
	 * Told the local address of every new connection, before it can
	 * be accepted (a loopback server in this process may give it
	 * priority); NULL none.
	 */
	void (*local)(void *arg, const struct sockaddr *sa, unsigned len);
	void *local_arg;
};

struct dm_http_response {
	int status;			/* HTTP status code */
	const char *content_type;	/* "" when absent */
	const char *hmac;		/* x-syncml-hmac header, NULL when absent */
	const uint8_t *body;		/* valid during the callback only */
	size_t len;
};

/*
 * err 0: resp is the server's answer, whatever its status code (the caller
 * judges non-200).  Otherwise a negative errno (-ECONNREFUSED, -ETIMEDOUT,
 * -EPROTO for a TLS failure, -EBADMSG for a malformed answer, -ECANCELED...)
 * with msg saying why in words fit for the log ("connection refused",
 * "TLS handshake failed: ...", "timed out after 30 s"); resp is NULL.
 * dm_http_transient() tells the network errors worth trying again.
 */
typedef void dm_http_cb(void *arg, int err, const char *msg,
			const struct dm_http_response *resp);

/*
 * url: http://HOST[:PORT]/PATH or https://...; HOST may be a [v6] literal,
 * and a name is resolved without blocking (evdns: resolv.conf, /etc/hosts;
 * -EHOSTUNREACH "cannot resolve NAME: ..." when it does not).
 * NULL with a reason in err for a bad URL, a bad PSK, or when TLS cannot
 * be set up (a CA file or client certificate that does not load).  The
 * options are copied.  A certificate the server's does not satisfy fails
 * the request with -EPROTO and "certificate of HOST:PORT refused: unknown
 * CA (...)", "name mismatch (...)", "expired (...)"...
 */
struct dm_http *dm_http_new(struct event_base *base, const char *url,
			    const struct dm_http_opts *o, char *err,
			    size_t errlen);
/*
 * The URL checks of dm_http_new alone, for the configuration: 0, or a
 * negative errno with a reason ("not an http:// or https:// URL", "no
 * host", "bad port", "bad IPv6 literal"...) in *why.
 */
int dm_http_url_check(const char *url, const char **why);
/*
 * POST body with Content-Type content_type ("application/vnd.syncml.dm+xml"
 * or "+wbxml"), Accept the same, Cache-Control: no-store, Content-Length,
 * and x-syncml-hmac: hmac when hmac is not NULL.  -EBUSY while a request is
 * outstanding, -ENOMEM; otherwise 0 and cb is called exactly once (never
 * from inside dm_http_post).
 */
int dm_http_post(struct dm_http *h, const char *content_type,
		 const char *hmac, const uint8_t *body, size_t len,
		 dm_http_cb *cb, void *arg);
/* Close the connection; an outstanding request's callback is not called. */
void dm_http_free(struct dm_http *h);

/*
 * Whether err (a callback's) is a network failure that may pass (refused,
 * reset, timed out, unreachable), not a refusal by the peer (TLS, HTTP).
 */
bool dm_http_transient(int err);

/* The SyncML DM media types (SyncML HTTP binding 1.2). */
#define DM_HTTP_CT_XML		"application/vnd.syncml.dm+xml"
#define DM_HTTP_CT_WBXML	"application/vnd.syncml.dm+wbxml"

const char *dm_http_content_type(enum syncml_format fmt);
/*
 * The server's answer as a SyncML DM message: HTTP 200, a DM media type
 * (in either format, whatever ours), a message that decodes.  0 with *out
 * (the caller frees it); -EIO for an HTTP status other than 200, -EBADMSG
 * for the rest, with why filled.
 */
int dm_http_syncml(const struct dm_http_response *resp,
		   struct syncml_msg **out, char *why, size_t whylen);

#endif
