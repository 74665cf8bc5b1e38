/* SPDX-License-Identifier: MIT */
/*
 * The Smartcard Web Server of dmsc-vuicc: one HTTP/1.1 server connection
 * (RFC 9112) per UICC-server-mode channel, fed with the bytes that RECEIVE
 * DATA brings and answering through a callback that bip.c turns into SEND
 * DATA.  It knows nothing of channels or APDUs.
 *
 *   GET/HEAD PATH   a file under the --www directory, or the built-in page
 *                   at "/" when there is none; 404 otherwise;
 *   POST /echo      the body echoed back as it arrives (Content-Length up to
 *                   SCWS_MAX_BODY), never held whole;
 *   POST /OMA/DM... SyncML DM (Content-Type application/vnd.syncml.dm+xml or
 *                   +wbxml) to the handler of scws_set_dm_handler(), the
 *                   body held whole (up to SCWS_MAX_DM_BODY); 404 without
 *                   a handler;
 * keep-alive by default for HTTP/1.1, "Connection: close" honoured.
 */
#ifndef DMSC_VUICC_SCWS_H
#define DMSC_VUICC_SCWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCWS_MAX_HEAD		8192		/* request line + headers */
#define SCWS_MAX_BODY		(16u << 20)	/* POST /echo, and files */

#define SCWS_MAX_DM_BODY	((1u << 20) + (64u << 10))	/* POST /OMA/DM */

/* Response bytes to send to the client, in order. */
typedef void (*scws_out_fn)(void *ctx, const uint8_t *p, size_t len);

struct scws;

/* www_dir may be NULL (built-in page only); it is not copied. */
struct scws *scws_new(const char *www_dir, scws_out_fn out, void *ctx);
void scws_free(struct scws *s);
/* Forget the connection: a new client, or the old one is gone. */
void scws_reset(struct scws *s);
/*
 * Bytes from the client.  Returns true once the connection is to be closed
 * when the output produced so far has been sent (Connection: close, or an
 * error after which the stream cannot be followed); input after that point
 * is ignored.
 */
bool scws_input(struct scws *s, const uint8_t *p, size_t len);
bool scws_closing(const struct scws *s);

/* A SyncML DM request (OMA-TS-SyncML_HTTPBinding), body complete. */
struct scws_dm_request {
	const char *path;		/* /OMA/DM... */
	const char *content_type;	/* as sent, parameters included */
	const char *hmac;		/* x-syncml-hmac value, NULL if absent */
	const uint8_t *body;
	size_t len;
};

/* The handler's answer; body is malloc()ed and freed by the server. */
struct scws_dm_response {
	int status;			/* HTTP status code */
	char content_type[96];
	char hmac[512];			/* x-syncml-hmac value, "" for none */
	uint8_t *body;
	size_t len;
};

typedef void (*scws_dm_fn)(void *ctx, const struct scws_dm_request *rq,
			   struct scws_dm_response *resp);

/*
 * Route POST /OMA/DM (and any path below or after it) with a SyncML DM
 * content type to fn, for every channel's server.  fn NULL: no route (404).
 */
void scws_set_dm_handler(scws_dm_fn fn, void *ctx);

#endif
