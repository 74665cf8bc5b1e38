/* SPDX-License-Identifier: MIT */
/*
 * One OMA DM 1.2 session, client side (OMA-TS-DM_Protocol-V1_2): Package#1
 * (Alert 1200 or 1201, DevInfo, credentials), then the server's packages
 * executed against the management tree and answered with Status and
 * Results until the server sends only Status with Final.
 *
 * Authentication both ways (Cred, Chal, NextNonce), multiple messages
 * (MaxMsgSize, Alert 1222), large objects (MoreData), Atomic and Sequence,
 * the user-interaction alerts 1100-1104, session abort (1223).  Every
 * message is handled as a whole, synchronously (but for a UI alert the
 * agent answers later), so the tree is consistent whenever the loop runs;
 * a transport failure just ends the session.
 *
 * A session is "ok" only when the server closed it normally after taking
 * every Status and Results we owed it.
 */
#ifndef DMSCGW_DM_SESSION_H
#define DMSCGW_DM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "syncml/syncml.h"
#include "dm/tree.h"

struct event_base;
struct dm_session;
struct dm_http;
struct dm_http_opts;
struct dm_http_response;
struct dm_tls_trust;
struct sockaddr;

/* Session outcome, as shown on D-Bus and by dmscgwctl. */
enum dm_session_result {
	DM_RESULT_NONE = 0,	/* still queued or running */
	DM_RESULT_OK,		/* the server ended it normally */
	DM_RESULT_ABORTED,	/* Alert 1223 from either side */
	DM_RESULT_AUTH,		/* credentials refused, either way */
	DM_RESULT_TRANSPORT,	/* connection, TLS, HTTP failure or time-out */
	DM_RESULT_PROTOCOL,	/* malformed or unexpected message */
	DM_RESULT_CANCELLED,	/* daemon stopping, card gone */
	DM_RESULT_SAVE,		/* the tree could not be made durable */
};

const char *dm_session_result_name(enum dm_session_result r);

enum dm_alert_policy {
	DM_ALERTS_ACCEPT,	/* confirm yes, default answers */
	DM_ALERTS_REJECT,	/* confirm no, cancel the others */
};

/* An asynchronous report: Generic Alert 1226 (DM Protocol 1.2 8.7). */
struct dm_generic_alert {
	char correlator[129];			/* the Exec's Correlator, "" none */
	char source[DM_TREE_MAX_URI + 1];	/* LocURI of the reporting node */
	char type[DM_TREE_MAX_TYPE + 1];	/* Meta Type, e.g. a reverse domain */
	char format[16];			/* Meta Format: chr, int, b64... */
	char mark[16];				/* Meta Mark: "" or critical, ... */
	char data[1024];
	char text[1024];	/* "" or a second item: the same Source, Type
				 * and Mark, Format chr, this Data */
};

/* A user-interaction alert (1100-1104) for a UI agent. */
struct dm_ui_request {
	unsigned code;
	const char *options;		/* "MINDT=..&MAXDT=..&DR=..", "" none */
	const char *text;		/* what to show */
	const char *const *choices;	/* 1103, 1104: the choices, in order */
	size_t nchoices;
	unsigned timeout;		/* seconds: MAXDT, else 0 */
};

enum dm_ui_verdict {
	DM_UI_POLICY,			/* no answer: as [dm] alerts says */
	DM_UI_ACCEPT,
	DM_UI_REJECT,
};

/*
 * Ask a UI agent: returns 0 when the answer will come through
 * dm_session_ui_answer() (the session waits, the loop runs on), or < 0 to
 * answer by policy at once.
 */
typedef int dm_session_ui_fn(void *arg, struct dm_session *s,
			     const struct dm_ui_request *r);

/*
 * An Exec on a node an agent serves (dm/exec.h): its Status now, or 0 when
 * the answer comes through dm_session_exec_answer() (the session waits in
 * "awaiting-agent", the loop runs on).
 */
struct dm_exec_request;
typedef unsigned dm_session_exec_fn(void *arg, struct dm_session *s,
				    const struct dm_exec_request *r);

/*
 * How messages travel: dm_http (dm/http.h) unless a test or a fuzzer puts
 * its own in the configuration.  Same contracts as dm_http_new,
 * dm_http_post and dm_http_free.
 */
struct dm_session_transport {
	struct dm_http *(*open)(struct event_base *base, const char *url,
				const struct dm_http_opts *o, char *err,
				size_t errlen);
	int (*post)(struct dm_http *h, const char *content_type,
		    const char *hmac, const uint8_t *body, size_t len,
		    void (*cb)(void *arg, int err, const char *msg,
			       const struct dm_http_response *resp),
		    void *arg);
	void (*close)(struct dm_http *h);
};

struct dm_session_cfg {
	struct event_base *base;
	struct dm_tree *tree;
	const struct dm_account *acc;	/* copied */
	const char *devid;		/* copied */
	uint16_t session_id;
	bool server_initiated;		/* Alert 1200, else 1201 */
	bool resync;			/* Package#0 verified with the zero nonce */
	const struct dm_generic_alert *report;	/* in Package#1; NULL none */
	enum syncml_format format;	/* of the client's messages */
	uint32_t max_msg_size;		/* what the client accepts */
	uint32_t max_obj_size;
	unsigned timeout;		/* seconds per HTTP exchange */
	unsigned auth_retries;		/* challenges taken, each way */
	enum dm_alert_policy alerts;
	dm_session_ui_fn *ui;		/* NULL: policy only; arg is the owner's */
	dm_session_exec_fn *exec;	/* NULL: the tree's Exec handlers */
	const char *psk_identity;	/* https with a PSK (the DM_SC server) */
	const uint8_t *psk;
	size_t psk_len;
	/* https without a PSK: whom to trust (copied); NULL the system store */
	const struct dm_tls_trust *trust;
	const struct dm_session_transport *transport;	/* NULL: HTTP */
	/* the local address of each connection (dm_http_opts.local) */
	void (*local)(void *arg, const struct sockaddr *sa, unsigned len);
	/* names the owner resolves (dm_http_opts.resolve); NULL none */
	int (*resolve)(void *arg, const char *host, char *addr, size_t cap,
		       char *why, size_t whylen);
};

/* Called once, when the session has ended (it may be freed from there). */
typedef void dm_session_done_fn(void *arg, struct dm_session *s);
/*
 * Called when the tree changed (a server message's commands, a nonce),
 * before anything that acknowledges the change goes to the server: 0 when
 * it is durable already (or the owner does not keep it), 1 when a save is
 * under way and dm_session_saved() will say how it went (the session
 * waits, state "saving"), or a negative errno when it cannot be saved.
 */
typedef int dm_session_changed_fn(void *arg, struct dm_session *s);

/* Start: Package#1 goes out from the loop.  NULL with why in err. */
struct dm_session *dm_session_start(const struct dm_session_cfg *cfg,
				    dm_session_done_fn *done,
				    dm_session_changed_fn *changed, void *arg,
				    char *err, size_t errlen);
/*
 * The agent's answer to the pending UI alert: accepted or not, and for
 * 1102-1104 the text or the chosen numbers ("2", "1-3").  The session goes
 * on with the rest of the server's message.
 */
void dm_session_ui_answer(struct dm_session *s, enum dm_ui_verdict v,
			  const char *answer);
bool dm_session_ui_waiting(const struct dm_session *s);

/*
 * The agent's Status for the waiting Exec (data, "" none, goes in the
 * Status's item); the session goes on.  Ignored when it does not wait.
 */
void dm_session_exec_answer(struct dm_session *s, unsigned code,
			    const char *data);

/*
 * The save the session waits for is done: err 0, it is on disk; otherwise
 * why says what failed.  A failed save aborts the session (Alert 1223,
 * without the Status of what could not be made durable) and it ends as
 * DM_RESULT_SAVE.  Ignored when the session does not wait.
 */
void dm_session_saved(struct dm_session *s, int err, const char *why);
bool dm_session_saving(const struct dm_session *s);

/*
 * Abort the session as soon as the protocol allows: the Status and
 * Results of the server's current message go out with our Alert 1223 (a
 * pending UI question is answered "no").  The session ends as aborted,
 * with why as its error.
 */
void dm_session_cancel(struct dm_session *s, const char *why);

/*
 * End now, sending nothing more: the server is gone with the card it
 * lives on.  The session finishes with r and why (the done callback
 * follows from the loop).
 */
void dm_session_stop(struct dm_session *s, enum dm_session_result r,
		     const char *why);

/* Stop (no callback); a running Atomic cannot exist between messages. */
void dm_session_free(struct dm_session *s);

const char *dm_session_state(const struct dm_session *s);
enum dm_session_result dm_session_result(const struct dm_session *s);
const char *dm_session_error(const struct dm_session *s);
/*
 * The transport's negative errno when that is what ended the session
 * (DM_RESULT_TRANSPORT), else 0: dm_http_transient() judges it.
 */
int dm_session_transport_err(const struct dm_session *s);
unsigned dm_session_commands(const struct dm_session *s);

#endif
