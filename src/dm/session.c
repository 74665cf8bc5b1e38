/* SPDX-License-Identifier: MIT */
/*
 * OMA DM 1.2 session, client side: one explicit state machine.
 *
 *   CONNECTING       Package#1 posted, no answer yet
 *   SENDING          our next message is being built and posted
 *   AWAITING_ANSWER  a message posted, waiting for the server's answer
 *   CHALLENGED       the server refused our credentials: sending again
 *   AWAITING_UI      a user-interaction alert waits for the UI agent
 *   ABORTING         our Alert 1223 posted
 *   DONE             finished, with a result
 *
 * Each server message is authenticated, its Status for our SyncHdr read
 * first (it decides what our reply carries), its commands executed
 * (dm/exec.c) and answered through the outbox (dm/outbox.c), which cuts
 * our package into messages of the server's MaxMsgSize and keeps what the
 * server has not acknowledged, so a challenge never loses it.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "dm/auth.h"
#include "dm/exec.h"
#include "dm/http.h"
#include "dm/notification.h"
#include "dm/outbox.h"
#include "dm/session.h"
#include "log.h"
#include "util/errbuf.h"

#define CT_XML		"application/vnd.syncml.dm+xml"
#define CT_WBXML	"application/vnd.syncml.dm+wbxml"
#define AUTH_BASIC	"syncml:auth-basic"
#define AUTH_MD5	"syncml:auth-md5"
#define AUTH_MAC	"syncml:auth-MAC"	/* DM_Security 5.4 */
#define NONCE_LEN	16
#define MIN_MSG_SIZE	512	/* a smaller MaxMsgSize cannot carry a Status */

enum state {
	S_CONNECTING,
	S_SENDING,
	S_AWAITING_ANSWER,
	S_CHALLENGED,
	S_AWAITING_UI,
	S_ABORTING,
	S_DONE,
};

static const char *const state_names[] = {
	[S_CONNECTING] = "connecting",
	[S_SENDING] = "sending",
	[S_AWAITING_ANSWER] = "awaiting-answer",
	[S_CHALLENGED] = "challenged",
	[S_AWAITING_UI] = "awaiting-ui",
	[S_ABORTING] = "aborting",
	[S_DONE] = "finished",
};

/* How the server answered our SyncHdr (DM Protocol 1.2 clause 9.1). */
enum hdr_verdict {
	HDR_ACCEPTED,		/* 200 or 212: the last message is taken */
	HDR_CHALLENGED,		/* 401 or 407: send it again */
	HDR_FATAL,		/* the session has ended */
};

struct dm_session {
	struct dm_session_cfg cfg;
	struct dm_account acc;
	char devid[128];
	char sid[DM_NOTI_SESSION_ID_STRLEN];
	uint8_t *psk;
	const struct dm_session_transport *tr;
	struct dm_http *http;
	char url[256];
	enum state state;
	enum dm_session_result result;
	char error[160];
	unsigned msg_id;		/* of our last message */
	char server_msg_id[32];		/* of the server's last message */
	uint32_t server_max_msg;	/* the server's MaxMsgSize, 0 none */
	struct dm_exec *ex;
	struct dm_outbox *ob;
	struct syncml_msg *out;		/* the message being built */
	struct syncml_cmd *hdr_st;	/* its Status for the server's SyncHdr */
	bool want_chal;			/* that Status gets a Chal when sent */
	/* the server message being executed (a UI alert may hold it) */
	struct syncml_msg *in;
	const struct syncml_cmd *next_cmd;
	const struct syncml_cmd *ui_cmd;
	bool in_answer;			/* it asked for an answer */
	/* authentication, DM Protocol 1.2 clause 9 and DM_Security 5 */
	bool package1;			/* our last message is Package#1 */
	bool client_done;		/* 212: no more Cred this session */
	bool zero_nonce;		/* resync: Cred on 0x00000000 */
	bool client_nonce_unsaved;	/* from an unauthenticated server */
	bool server_authed;
	bool resync_chal_due;		/* resync: the server gets a new nonce */
	unsigned client_fails, server_fails;
	bool server_closed;		/* the server's package ended (Final) */
	bool cancel;			/* dm_session_cancel: abort when we can */
	char cancel_why[80];
	struct dm_generic_alert report;
	struct event *kick;
	dm_session_done_fn *done;
	dm_session_changed_fn *changed_cb;
	void *arg;
	bool changed;			/* a nonce changed in the tree */
};

static void send_message(struct dm_session *s);

static const struct dm_session_transport http_transport = {
	.open = dm_http_new,
	.post = dm_http_post,
	.close = dm_http_free,
};

const char *dm_session_result_name(enum dm_session_result r)
{
	static const char *const names[] = {
		[DM_RESULT_NONE] = "none",
		[DM_RESULT_OK] = "ok",
		[DM_RESULT_ABORTED] = "aborted",
		[DM_RESULT_AUTH] = "auth-failed",
		[DM_RESULT_TRANSPORT] = "transport-failed",
		[DM_RESULT_PROTOCOL] = "protocol-error",
		[DM_RESULT_CANCELLED] = "cancelled",
	};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

const char *dm_session_state(const struct dm_session *s)
{
	return state_names[s->state];
}

enum dm_session_result dm_session_result(const struct dm_session *s)
{
	return s->result;
}

const char *dm_session_error(const struct dm_session *s)
{
	return s->error;
}

unsigned dm_session_commands(const struct dm_session *s)
{
	return dm_exec_count(s->ex);
}

/* The one place the state changes. */
static void enter(struct dm_session *s, enum state st)
{
	if (s->state == st)
		return;
	log_debug(LOG_DM, "session %s with %s: %s -> %s", s->sid,
		  s->acc.server_id, state_names[s->state], state_names[st]);
	s->state = st;
}

static void note_changed(struct dm_session *s)
{
	if ((s->changed | dm_exec_changed(s->ex)) && s->changed_cb)
		s->changed_cb(s->arg, s);
	s->changed = false;
}

/* End the session; the owner hears of it from the loop, not from here. */
static void finish(struct dm_session *s, enum dm_session_result r,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void finish(struct dm_session *s, enum dm_session_result r,
		   const char *fmt, ...)
{
	va_list ap;

	if (s->state == S_DONE)
		return;
	s->result = r;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(s->error, sizeof(s->error), fmt, ap);
		va_end(ap);
	}
	enter(s, S_DONE);
	note_changed(s);	/* e.g. a nonce, then an abort */
	if (r == DM_RESULT_OK)
		log_info(LOG_DM, "session %s with %s finished: %u commands",
			 s->sid, s->acc.server_id, dm_exec_count(s->ex));
	else
		log_notice(LOG_DM, "session %s with %s failed (%s): %s", s->sid,
			   s->acc.server_id, dm_session_result_name(r),
			   s->error);
	event_active(s->kick, EV_TIMEOUT, 0);
}

static void nomem(struct dm_session *s)
{
	finish(s, DM_RESULT_PROTOCOL, "out of memory");
}

/* ------------------------------------------------------------------------ */
/* Nonces and credentials                                                   */

static bool is_type(const char *a, const char *b)
{
	return a && !strcasecmp(a, b);
}

static bool hmac_account(const struct dm_account_auth *a)
{
	return is_type(a->type, "HMAC");
}

static size_t nonce_bytes(const char *b64, uint8_t *out, size_t cap)
{
	int n = dm_b64_decode(out, cap, b64, strlen(b64));

	return n > 0 ? (size_t)n : 0;
}

/* The nonce our credentials use now: 0x00000000 after a resync. */
static size_t client_nonce(const struct dm_session *s, uint8_t *out,
			   size_t cap)
{
	if (s->zero_nonce) {
		/* DM_Notification 1.2 5.1: Package#1 "based on nonce
		 * value 0x00000000" until the server gives a new one */
		memset(out, 0, DM_NONCE_ZERO_LEN);
		return DM_NONCE_ZERO_LEN;
	}
	return nonce_bytes(s->acc.client.data, out, cap);
}

static void store_nonce(struct dm_session *s, const char *level,
			const char *b64)
{
	dm_tree_account_set_nonce(s->cfg.tree, s->acc.server_id, level, b64);
	s->changed = true;
}

/*
 * A NextNonce for our credentials.  DM_Security 1.2 5.3.4: the latest
 * nonce is used for the next Cred even when the server has not proven who
 * it is, but it is stored only once the server has.
 */
static void client_nonce_from(struct dm_session *s, const char *b64,
			      bool trusted)
{
	snprintf(s->acc.client.data, sizeof(s->acc.client.data), "%s", b64);
	s->zero_nonce = false;
	s->client_nonce_unsaved = !trusted;
	if (trusted)
		store_nonce(s, "CLCRED", b64);
}

/* Our <Cred> (DM Protocol 1.2 9.1: in every request until 212). */
static int put_cred(struct dm_session *s, struct syncml_hdr *h)
{
	struct syncml_msg *m = s->out;
	const struct dm_account_auth *a = &s->acc.client;
	char buf[DM_B64_CAP(DM_AUTH_BASIC_MAX)];
	uint8_t nonce[128];
	int r;

	if (s->client_done || !*a->type || hmac_account(a))
		return 0;	/* HMAC travels in a transport header */
	if (is_type(a->type, "BASIC")) {
		r = dm_auth_basic(buf, sizeof(buf), a->name, a->secret);
		h->cred.meta.type = syncml_strdup(m, AUTH_BASIC);
	} else {
		r = dm_auth_md5(buf, sizeof(buf), a->name, a->secret, nonce,
				client_nonce(s, nonce, sizeof(nonce)));
		h->cred.meta.type = syncml_strdup(m, AUTH_MD5);
	}
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (r < 0)
		return r;
	h->has_cred = true;
	h->cred.meta.format = syncml_strdup(m, "b64");
	return syncml_set_data(m, &h->cred.data, buf, (size_t)r, false);
}

/*
 * Our Chal in the Status for the server's SyncHdr, with a fresh nonce for
 * the server's next credentials (stored now: it is being sent).  The type
 * is the account's: syncml:auth-MAC for HMAC (DM_Security 5.4).
 */
static int add_chal(struct dm_session *s, struct syncml_cmd *st)
{
	const char *type = s->acc.server.type;
	struct syncml_msg *m = s->out;
	char b64[DM_B64_CAP(NONCE_LEN)];
	uint8_t n[NONCE_LEN];

	st->has_chal = true;
	st->chal.format = syncml_strdup(m, "b64");
	if (is_type(type, "BASIC")) {
		st->chal.type = syncml_strdup(m, AUTH_BASIC);
		return st->chal.type ? 0 : -ENOMEM;
	}
	st->chal.type = syncml_strdup(m, is_type(type, "HMAC") ? AUTH_MAC :
					 AUTH_MD5);
	if (dm_nonce_generate(n, sizeof(n)) < 0 ||
	    dm_b64_encode(b64, sizeof(b64), n, sizeof(n)) < 0)
		return -EIO;
	st->chal.next_nonce = syncml_strdup(m, b64);
	if (!st->chal.next_nonce || !st->chal.type)
		return -ENOMEM;
	snprintf(s->acc.server.data, sizeof(s->acc.server.data), "%s", b64);
	store_nonce(s, "SRVCRED", b64);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Building and sending our messages                                        */

static int new_out(struct dm_session *s)
{
	struct syncml_msg *m;
	struct syncml_hdr *h;

	if (s->out)
		return 0;
	if ((m = syncml_msg_new()) == NULL)
		return -ENOMEM;
	s->out = m;
	s->hdr_st = NULL;
	s->want_chal = false;
	h = &m->hdr;
	if (syncml_set_str(m, &h->session_id, s->sid) < 0 ||
	    syncml_set_str(m, &h->target.uri, s->url) < 0 ||
	    syncml_set_str(m, &h->source.uri, s->devid) < 0)
		return -ENOMEM;
	if (*s->acc.client.name &&
	    syncml_set_str(m, &h->source.name, s->acc.client.name) < 0)
		return -ENOMEM;
	h->meta.has = SYNCML_META_MAXMSG | SYNCML_META_MAXOBJ;
	h->meta.max_msg_size = s->cfg.max_msg_size;
	h->meta.max_obj_size = s->cfg.max_obj_size;
	dm_exec_target(s->ex, m, s->server_msg_id);
	return 0;
}

/*
 * The header's numbers and credentials are filled in only now, when the
 * message goes: MsgIDs stay consecutive (DM Protocol 1.2 8.3 only asks
 * them to be unambiguous; servers expect 1, 2, 3) and the Cred uses the
 * newest nonce.
 */
static int seal_out(struct dm_session *s)
{
	char id[16];
	int r;

	snprintf(id, sizeof(id), "%u", ++s->msg_id);
	if (syncml_set_str(s->out, &s->out->hdr.msg_id, id) < 0)
		return -ENOMEM;
	if (s->want_chal && s->hdr_st && (r = add_chal(s, s->hdr_st)) < 0)
		return r;
	return put_cred(s, &s->out->hdr);
}

static void post_done(void *arg, int err, const char *msg,
		      const struct dm_http_response *resp);

/* Encode and POST our next message: s->out and what the outbox holds. */
static void send_message(struct dm_session *s)
{
	struct syncml_buf buf = { 0 };
	const char *ct = s->cfg.format == SYNCML_WBXML ? CT_WBXML : CT_XML;
	const struct dm_account_auth *a = &s->acc.client;
	size_t max = s->server_max_msg ? s->server_max_msg : SIZE_MAX;
	char hmac[512];
	const char *hdr = NULL;
	uint8_t nonce[128];
	bool final;
	int r;

	if (s->state != S_ABORTING && s->state != S_CONNECTING)
		enter(s, S_SENDING);
	if ((r = new_out(s)) < 0 || (r = seal_out(s)) < 0) {
		finish(s, DM_RESULT_PROTOCOL, "cannot build message %u: %s",
		       s->msg_id, strerror(-r));
		return;
	}
	/*
	 * DM Protocol 1.2 6.2: no Final before the server closed its
	 * package; the outbox adds it only when nothing is left.  The
	 * sender of Alert 1223 includes Final (clause 8).
	 */
	final = s->server_closed || s->state == S_ABORTING;
	r = dm_outbox_encode(s->ob, s->out, s->cfg.format, max, final, &buf);
	s->out = NULL;		/* the outbox's now */
	s->hdr_st = NULL;
	note_changed(s);	/* a nonce we just gave the server */
	if (r < 0) {
		syncml_buf_free(&buf);
		finish(s, DM_RESULT_PROTOCOL, "cannot encode message %u: %s",
		       s->msg_id, strerror(-r));
		return;
	}
	if (hmac_account(a)) {
		/* DM_Security 5.4: on every message once in use */
		r = dm_hmac_header(hmac, sizeof(hmac), a->name, a->secret,
				   nonce, client_nonce(s, nonce, sizeof(nonce)),
				   buf.p, buf.len);
		OPENSSL_cleanse(nonce, sizeof(nonce));
		if (r < 0) {
			syncml_buf_free(&buf);
			finish(s, DM_RESULT_AUTH, "cannot make the HMAC: %s",
			       strerror(-r));
			return;
		}
		hdr = hmac;
	}
	log_debug(LOG_DM, "session %s: message %u, %zu bytes%s", s->sid,
		  s->msg_id, buf.len,
		  dm_outbox_empty(s->ob) ? "" : " (more to come)");
	if (log_hexdump_enabled(LOG_DM))
		log_hex(LOG_DM, "DM out", buf.p, buf.len);
	r = s->tr->post(s->http, ct, hdr, buf.p, buf.len, post_done, s);
	syncml_buf_free(&buf);
	if (r < 0) {
		finish(s, DM_RESULT_TRANSPORT, "cannot post: %s", strerror(-r));
		return;
	}
	if (s->state == S_SENDING || s->state == S_CHALLENGED)
		enter(s, S_AWAITING_ANSWER);
}

/* ------------------------------------------------------------------------ */
/* Package#1                                                                */

static int devinfo_item(struct dm_session *s, struct syncml_cmd *rep,
			const char *uri)
{
	struct dm_tree_value v;
	struct syncml_item *it;

	if (dm_tree_get(s->cfg.tree, NULL, uri, &v) != 200)
		return 0;	/* not in this tree: left out */
	it = syncml_item_add(s->out, rep);
	if (!it || syncml_set_str(s->out, &it->source.uri, uri) < 0)
		return -ENOMEM;
	it->meta.format = syncml_strdup(s->out, "chr");
	return syncml_set_data(s->out, &it->data, v.data, v.len, false);
}

static int generic_alert(struct dm_session *s, const struct dm_generic_alert *g)
{
	struct syncml_msg *m = s->out;
	struct syncml_cmd *al = dm_exec_cmd(s->ex, SYNCML_ALERT);
	struct syncml_item *it = al ? syncml_item_add(m, al) : NULL;

	if (!it)
		return -ENOMEM;
	al->code = SYNCML_ALERT_GENERIC;
	if ((*g->source && syncml_set_str(m, &it->source.uri, g->source) < 0) ||
	    (*g->type && syncml_set_str(m, &it->meta.type, g->type) < 0) ||
	    (*g->format && syncml_set_str(m, &it->meta.format, g->format) < 0) ||
	    (*g->mark && syncml_set_str(m, &it->meta.mark, g->mark) < 0))
		return -ENOMEM;
	return syncml_set_data(m, &it->data, g->data, strlen(g->data), false);
}

/* Alert 1200/1201, DevInfo and a report, into s->out (clause 8.2.1). */
static int package1(struct dm_session *s)
{
	static const char *const devinfo[] = {
		"./DevInfo/DevId", "./DevInfo/Man", "./DevInfo/Mod",
		"./DevInfo/DmV", "./DevInfo/Lang",
	};
	struct syncml_cmd *al, *rep;
	size_t i;

	if (new_out(s) < 0 || (al = dm_exec_cmd(s->ex, SYNCML_ALERT)) == NULL)
		return -ENOMEM;
	al->code = s->cfg.server_initiated ? SYNCML_ALERT_SERVER_INIT :
					     SYNCML_ALERT_CLIENT_INIT;
	if ((rep = dm_exec_cmd(s->ex, SYNCML_REPLACE)) == NULL)
		return -ENOMEM;
	if (s->cfg.report && generic_alert(s, s->cfg.report) < 0)
		return -ENOMEM;
	for (i = 0; i < sizeof(devinfo) / sizeof(devinfo[0]); i++)
		if (devinfo_item(s, rep, devinfo[i]) < 0)
			return -ENOMEM;
	s->package1 = true;
	s->server_closed = true;	/* no server package yet to wait for */
	return 0;
}

/* ------------------------------------------------------------------------ */
/* User-interaction alerts (DM Protocol 1.2 clause 10, RepPro 6.6.2)        */

/* Look up option key=value in the first item of a UI alert ("DR=1&..."). */
static void alert_option(const struct syncml_cmd *c, const char *key,
			 char *out, size_t cap)
{
	const struct syncml_item *it = c->items;
	const char *p, *e;
	size_t kl = strlen(key);

	*out = 0;
	if (!it || !it->data.p)
		return;
	for (p = (const char *)it->data.p; p && *p; p = e ? e + 1 : NULL) {
		e = strchr(p, '&');
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			size_t n = e ? (size_t)(e - p) - kl - 1 : strlen(p + kl + 1);

			snprintf(out, cap, "%.*s", (int)n, p + kl + 1);
			return;
		}
	}
}

/*
 * The answer to a user-interaction alert, from the agent or by policy.
 * A confirmation refused is 304, the other questions cancelled are 214.
 */
static struct syncml_cmd *ui_alert(struct dm_session *s,
				   const struct syncml_cmd *c,
				   enum dm_ui_verdict v, const char *answer)
{
	bool yes = v == DM_UI_POLICY ? s->cfg.alerts == DM_ALERTS_ACCEPT :
		   v == DM_UI_ACCEPT;
	const char *text = c->items && c->items->next && c->items->next->data.p ?
			   (const char *)c->items->next->data.p : "";
	struct syncml_cmd *st;
	struct syncml_item *it;
	char dr[64];

	log_notice(LOG_DM, "session %s: %s alert %u \"%.80s\" %s%s", s->sid,
		   s->acc.server_id, c->code, text,
		   yes ? "accepted" : "refused",
		   v == DM_UI_POLICY ? " by policy" : " by the UI agent");
	switch (c->code) {
	case SYNCML_ALERT_DISPLAY:
		return dm_exec_status(s->ex, c->cmd_id, "Alert", NULL, NULL,
				      DM_ST_OK);
	case SYNCML_ALERT_CONFIRM:
		return dm_exec_status(s->ex, c->cmd_id, "Alert", NULL, NULL,
				      yes ? DM_ST_OK : DM_ST_NOT_MODIFIED);
	default:
		if (!yes)
			return dm_exec_status(s->ex, c->cmd_id, "Alert", NULL,
					      NULL, DM_ST_CANCELLED);
		st = dm_exec_status(s->ex, c->cmd_id, "Alert", NULL, NULL,
				    DM_ST_OK);
		if (answer) {
			snprintf(dr, sizeof(dr), "%s", answer);
		} else {
			alert_option(c, "DR", dr, sizeof(dr));
			if (!*dr && c->code != SYNCML_ALERT_TEXT_INPUT)
				snprintf(dr, sizeof(dr), "1");
		}
		it = st ? syncml_item_add(s->out, st) : NULL;
		if (!it || syncml_set_data(s->out, &it->data, dr, strlen(dr),
					   false) < 0)
			return NULL;
		return st;
	}
}

/* Hand a UI alert to the agent: true when its answer will come later. */
static bool ui_ask(struct dm_session *s, const struct syncml_cmd *c)
{
	const char *choices[32];
	const struct syncml_item *it;
	struct dm_ui_request r;
	char maxdt[16];
	size_t n = 0;

	if (!s->cfg.ui)
		return false;
	memset(&r, 0, sizeof(r));
	r.code = c->code;
	it = c->items;
	r.options = it && it->data.p ? (const char *)it->data.p : "";
	it = it ? it->next : NULL;
	r.text = it && it->data.p ? (const char *)it->data.p : "";
	for (it = it ? it->next : NULL; it && n < 32; it = it->next)
		choices[n++] = it->data.p ? (const char *)it->data.p : "";
	r.choices = choices;
	r.nchoices = n;
	alert_option(c, "MAXDT", maxdt, sizeof(maxdt));
	r.timeout = (unsigned)strtoul(maxdt, NULL, 10);
	if (s->cfg.ui(s->arg, s, &r) < 0)
		return false;
	s->ui_cmd = c;
	log_info(LOG_DM, "session %s: alert %u handed to the UI agent", s->sid,
		 c->code);
	return true;
}

/* ------------------------------------------------------------------------ */
/* The server's messages                                                    */

/*
 * Is the server who it says?  The Status code for its SyncHdr: 212 the
 * first time, 200 after, 401 wrong, 407 missing.  HMAC is checked on every
 * message (DM_Security 5.4: "it MUST be used for all subsequent messages"),
 * with the nonce we gave it last; Cred once.  After a resync the zero
 * nonce is also accepted until the server has proven itself
 * (DM_Notification 5.1).
 */
static unsigned check_server(struct dm_session *s, const struct syncml_msg *in,
			     const struct dm_http_response *resp)
{
	const struct dm_account_auth *a = &s->acc.server;
	const struct syncml_hdr *h = &in->hdr;
	static const uint8_t zero[DM_NONCE_ZERO_LEN];
	uint8_t nonce[128];
	size_t nl = nonce_bytes(a->data, nonce, sizeof(nonce));
	bool retry_zero = s->cfg.resync && !s->server_authed;
	struct dm_hmac mac;
	int r;

	if (!*a->type) {
		s->server_authed = true;	/* nothing to prove */
		return DM_ST_OK;
	}
	if (s->server_authed && !hmac_account(a))
		r = 0;
	else if (hmac_account(a)) {
		if (!resp->hmac || dm_hmac_parse(resp->hmac, &mac) < 0)
			return DM_ST_MISSING_CRED;
		r = dm_hmac_verify(&mac, a->name, a->secret, nonce, nl,
				   resp->body, resp->len);
		if (r == -EACCES && retry_zero)
			r = dm_hmac_verify(&mac, a->name, a->secret, zero,
					   sizeof(zero), resp->body, resp->len);
	} else {
		if (!h->has_cred || !h->cred.data.p)
			return DM_ST_MISSING_CRED;
		r = dm_cred_check(h->cred.meta.type,
				  (const char *)h->cred.data.p, a->name,
				  a->secret, nonce, nl);
		if (r == -EACCES && retry_zero)
			r = dm_cred_check(h->cred.meta.type,
					  (const char *)h->cred.data.p, a->name,
					  a->secret, zero, sizeof(zero));
	}
	if (r < 0)
		return DM_ST_INVALID_CRED;
	if (s->server_authed)
		return DM_ST_OK;
	s->server_authed = true;
	return DM_ST_AUTH_ACCEPTED;
}

static const struct syncml_cmd *find_hdr_status(const struct syncml_msg *in)
{
	for (const struct syncml_cmd *c = in->cmds; c; c = c->next)
		if (c->type == SYNCML_STATUS && c->cmd_ref &&
		    !strcmp(c->cmd_ref, "0"))
			return c;
	return NULL;
}

/*
 * The server's Status for our SyncHdr, read before anything is built:
 * it decides our credentials (DM Protocol 1.2 9.1) and what our message
 * carries.  trusted: the server proved itself in this message.
 */
static enum hdr_verdict hdr_status(struct dm_session *s,
				   const struct syncml_cmd *c, bool trusted)
{
	const char *nn = c && c->has_chal ? c->chal.next_nonce : NULL;

	if (!c) {
		/* nothing said about our message: taken as accepted */
		s->package1 = false;
		dm_outbox_ack(s->ob);
		return HDR_ACCEPTED;
	}
	if (nn && *nn)
		client_nonce_from(s, nn, trusted);
	switch (c->code) {
	case DM_ST_AUTH_ACCEPTED:
		/* "no further authentication is needed for the remainder
		 * of the DM session"; a NextNonce is for the next one */
		s->client_done = true;
		/* fall through */
	case DM_ST_OK:
		/* 200: "the same credentials MUST be sent within the next
		 * request", with the next nonce */
		s->package1 = false;
		dm_outbox_ack(s->ob);
		return HDR_ACCEPTED;
	case DM_ST_INVALID_CRED:
	case DM_ST_MISSING_CRED:
		s->client_done = false;
		if (++s->client_fails > s->cfg.auth_retries) {
			finish(s, DM_RESULT_AUTH,
			       "the server refused our credentials (%u)",
			       c->code);
			return HDR_FATAL;
		}
		log_info(LOG_DM, "session %s: the server asks for credentials "
			 "again (%u)%s", s->sid, c->code,
			 s->package1 ? ": Package#1 again" :
				       ": the message again");
		return HDR_CHALLENGED;
	default:
		finish(s, DM_RESULT_PROTOCOL,
		       "the server answered our header with %u", c->code);
		return HDR_FATAL;
	}
}

/* Our Status for the server's SyncHdr, first in the message. */
static int answer_hdr(struct dm_session *s, const struct syncml_msg *in,
		      unsigned code)
{
	s->hdr_st = dm_exec_status(s->ex, "0", "SyncHdr", in->hdr.target.uri,
				   in->hdr.source.uri, code);
	if (!s->hdr_st)
		return -ENOMEM;
	if (!dm_status_ok(code)) {
		s->want_chal = true;
	} else if (s->resync_chal_due && !s->package1) {
		/* DM_Notification 5.1: in Package#3, a success Status with
		 * a Chal that updates the server nonce */
		log_info(LOG_DM, "session %s: new server nonce sent "
			 "(resynchronisation)", s->sid);
		s->resync_chal_due = false;
		s->want_chal = true;
	} else if (hmac_account(&s->acc.server) && !s->package1) {
		/*
		 * DM_Security 5.4.4: a new nonce for every message.  Only
		 * once our own credentials were accepted: a server that is
		 * still challenging us may, by 5.3.4, use it without
		 * storing it, and would then sign with the old one.
		 */
		s->want_chal = true;
	}
	return 0;
}

/* Send Alert 1223 (with Final) after what s->out holds; then finish. */
static void abort_session(struct dm_session *s, enum dm_session_result r,
			  const char *why)
{
	struct syncml_cmd *al = dm_exec_cmd(s->ex, SYNCML_ALERT);

	if (!al) {
		nomem(s);
		return;
	}
	al->code = SYNCML_ALERT_SESSION_ABORT;
	s->result = r;
	snprintf(s->error, sizeof(s->error), "%s", why);
	enter(s, S_ABORTING);
	send_message(s);
}

/*
 * Execute the server's commands from s->next_cmd on.  Returns 1 when a UI
 * alert went to the agent (the rest waits for its answer), 0 when done,
 * -ENOMEM.
 */
static int run_commands(struct dm_session *s)
{
	const struct syncml_cmd *c;
	struct syncml_cmd *st;

	for (c = s->next_cmd; c; c = c->next) {
		if (c->type == SYNCML_STATUS) {
			if ((!c->cmd_ref || strcmp(c->cmd_ref, "0")) &&
			    !dm_status_ok(c->code))
				log_info(LOG_DM, "session %s: server: %s %s: %u",
					 s->sid, c->cmd ? c->cmd : "?",
					 c->target_ref ? c->target_ref : "",
					 c->code);
			continue;
		}
		if (c->type == SYNCML_RESULTS)
			continue;
		if (c->type != SYNCML_ALERT) {
			if (dm_exec_run(s->ex, c) < 0)
				return -ENOMEM;
			continue;
		}
		switch (c->code) {
		case SYNCML_ALERT_SESSION_ABORT:
			s->next_cmd = c;
			return 0;
		case SYNCML_ALERT_DISPLAY:
		case SYNCML_ALERT_CONFIRM:
		case SYNCML_ALERT_TEXT_INPUT:
		case SYNCML_ALERT_SINGLE_CHOICE:
		case SYNCML_ALERT_MULTI_CHOICE:
			/* once cancelled, no more questions: each is "no",
			 * as the one pending at dm_session_cancel() was */
			if (!s->cancel && ui_ask(s, c)) {
				s->next_cmd = c->next;
				enter(s, S_AWAITING_UI);
				return 1;
			}
			st = ui_alert(s, c, s->cancel ? DM_UI_REJECT :
					    DM_UI_POLICY, NULL);
			break;
		case SYNCML_ALERT_NEXT_MESSAGE:
			st = dm_exec_status(s->ex, c->cmd_id, "Alert", NULL,
					    NULL, DM_ST_OK);
			break;
		default:
			st = dm_exec_status(s->ex, c->cmd_id, "Alert", NULL,
					    NULL, DM_ST_OPTIONAL);
		}
		if (!st)
			return -ENOMEM;
	}
	s->next_cmd = NULL;
	return 0;
}

/* Commands that need an answer (all but Status and Results). */
static bool wants_answer(const struct syncml_msg *in)
{
	for (const struct syncml_cmd *c = in->cmds; c; c = c->next)
		if (c->type != SYNCML_STATUS && c->type != SYNCML_RESULTS)
			return true;
	return false;
}

/* Only Status and Alert 1222: the server asks for our next message. */
static bool next_message_request(const struct syncml_msg *in)
{
	bool alert = false;

	for (const struct syncml_cmd *c = in->cmds; c; c = c->next) {
		if (c->type == SYNCML_ALERT &&
		    c->code == SYNCML_ALERT_NEXT_MESSAGE)
			alert = true;
		else if (c->type != SYNCML_STATUS)
			return false;
	}
	return alert && !in->final;
}

static bool aborted_by_server(const struct syncml_cmd *c)
{
	return c && c->type == SYNCML_ALERT &&
	       c->code == SYNCML_ALERT_SESSION_ABORT;
}

/* The server's message is executed: answer it, or end. */
static void answer(struct dm_session *s)
{
	const struct syncml_msg *in = s->in;
	struct syncml_cmd *al;

	note_changed(s);
	if (aborted_by_server(s->next_cmd)) {
		/* clause 8: a client receiving 1223 SHOULD NOT respond */
		finish(s, DM_RESULT_ABORTED, "aborted by the server");
		return;
	}
	if (s->cancel) {
		/* our 1223 goes with the Status and Results of what this
		 * message executed, so the server knows what was done */
		abort_session(s, DM_RESULT_ABORTED, s->cancel_why);
		return;
	}
	if (!next_message_request(in))
		s->server_closed = in->final;
	if (s->server_closed && !s->in_answer && dm_outbox_empty(s->ob) &&
	    !s->package1) {
		/*
		 * Clause 8: when our answer would be only the Status for
		 * the server's SyncHdr, "the entire response package MUST
		 * NOT be sent and the protocol ends".
		 */
		syncml_msg_free(s->out);
		s->out = NULL;
		finish(s, DM_RESULT_OK, NULL);
		return;
	}
	if (!s->server_closed && !next_message_request(in) &&
	    !dm_outbox_has_alert(s->ob, SYNCML_ALERT_NEXT_MESSAGE)) {
		/* clause 6.2: the server's package goes on; ask for more */
		if ((al = dm_exec_cmd(s->ex, SYNCML_ALERT)) == NULL) {
			nomem(s);
			return;
		}
		al->code = SYNCML_ALERT_NEXT_MESSAGE;
	}
	send_message(s);
}

/* Execute (the rest of) s->in, then answer it. */
static void go_on(struct dm_session *s)
{
	int r = run_commands(s);

	if (r < 0) {
		nomem(s);
		return;
	}
	if (r > 0)
		return;		/* the UI agent answers later */
	answer(s);
}

/* A later message goes where the server says (RespURI). */
static bool follow_resp_uri(struct dm_session *s, const char *uri)
{
	char err[160];
	struct dm_http_opts o = {
		.psk_identity = s->cfg.psk_identity, .psk = s->psk,
		.psk_len = s->cfg.psk_len, .timeout = s->cfg.timeout,
	};
	struct dm_http *h;

	if (!uri || !strcmp(uri, s->url))
		return true;
	if (strlen(uri) >= sizeof(s->url) ||
	    (h = s->tr->open(s->cfg.base, uri, &o, err, sizeof(err))) == NULL) {
		finish(s, DM_RESULT_PROTOCOL, "RespURI %.100s: %s", uri,
		       strlen(uri) >= sizeof(s->url) ? "too long" : err);
		return false;
	}
	s->tr->close(s->http);
	s->http = h;
	snprintf(s->url, sizeof(s->url), "%s", uri);
	return true;
}

static void handle_message(struct dm_session *s, const struct syncml_msg *in,
			   const struct dm_http_response *resp)
{
	unsigned code;
	bool trusted, was_authed = s->server_authed;
	enum hdr_verdict v;

	snprintf(s->server_msg_id, sizeof(s->server_msg_id), "%s",
		 in->hdr.msg_id);
	if (in->hdr.meta.has & SYNCML_META_MAXMSG)
		s->server_max_msg = in->hdr.meta.max_msg_size < MIN_MSG_SIZE ?
				    MIN_MSG_SIZE : in->hdr.meta.max_msg_size;
	if (!follow_resp_uri(s, in->hdr.resp_uri))
		return;
	code = check_server(s, in, resp);
	trusted = dm_status_ok(code);
	if (trusted && s->client_nonce_unsaved) {
		/* the nonce a stranger gave: stored now it is no stranger */
		store_nonce(s, "CLCRED", s->acc.client.data);
		s->client_nonce_unsaved = false;
	}
	if (code == DM_ST_AUTH_ACCEPTED && s->cfg.resync)
		s->resync_chal_due = true;
	v = hdr_status(s, find_hdr_status(in), trusted);
	if (v == HDR_FATAL)
		return;
	if (v == HDR_CHALLENGED && s->package1) {
		/* clause 9: "revert to pkg 1 and resend the Alert and
		 * DevInfo along with the credentials requested" */
		enter(s, S_CHALLENGED);
		dm_outbox_clear(s->ob);
	} else if (v == HDR_CHALLENGED) {
		/* clause 9.1: the same request again, with a Status for
		 * the new SyncHdr and credentials */
		enter(s, S_CHALLENGED);
		dm_outbox_requeue(s->ob);
	}
	if (new_out(s) < 0 || answer_hdr(s, in, code) < 0) {
		nomem(s);
		return;
	}
	if (!trusted) {
		log_notice(LOG_DM, "session %s: %s credentials refused (%u)",
			   s->sid, s->acc.server_id, code);
		/*
		 * DM_Security 5.4: once HMAC is in use a failure ends the
		 * session; otherwise the server may try again, a bounded
		 * number of times.  Its commands are not executed.
		 */
		if ((hmac_account(&s->acc.server) && was_authed) ||
		    ++s->server_fails > s->cfg.auth_retries) {
			abort_session(s, DM_RESULT_AUTH,
				      "the server's credentials were refused");
			return;
		}
	}
	if (v == HDR_CHALLENGED && s->package1) {
		if (package1(s) < 0) {
			nomem(s);
			return;
		}
		send_message(s);
		return;
	}
	s->in_answer = trusted && wants_answer(in);
	if (!trusted) {
		/* not executed: 407 each, the server sends them again */
		for (const struct syncml_cmd *c = in->cmds; c; c = c->next)
			if (c->type != SYNCML_STATUS &&
			    c->type != SYNCML_RESULTS &&
			    !dm_exec_status(s->ex, c->cmd_id,
					    syncml_cmd_name(c->type), NULL,
					    NULL, DM_ST_MISSING_CRED)) {
				nomem(s);
				return;
			}
		s->in_answer = true;	/* our Chal must reach it */
		s->next_cmd = NULL;
		answer(s);
		return;
	}
	s->next_cmd = in->cmds;
	go_on(s);
}

static void post_done(void *arg, int err, const char *msg,
		      const struct dm_http_response *resp)
{
	struct dm_session *s = arg;
	struct syncml_msg *in = NULL;
	struct syncml_error perr;
	enum syncml_format fmt;

	if (err) {
		finish(s, DM_RESULT_TRANSPORT, "%s", msg);
		return;
	}
	if (s->state == S_ABORTING) {
		finish(s, s->result ? s->result : DM_RESULT_ABORTED, NULL);
		return;
	}
	if (resp->status != 200) {
		finish(s, DM_RESULT_TRANSPORT, "HTTP status %d from %s",
		       resp->status, s->url);
		return;
	}
	if (!strncasecmp(resp->content_type, CT_WBXML, strlen(CT_WBXML)))
		fmt = SYNCML_WBXML;
	else if (!strncasecmp(resp->content_type, CT_XML, strlen(CT_XML)))
		fmt = SYNCML_XML;
	else {
		finish(s, DM_RESULT_PROTOCOL, "unexpected content type '%.60s'",
		       resp->content_type);
		return;
	}
	if (log_hexdump_enabled(LOG_DM))
		log_hex(LOG_DM, "DM in", resp->body, resp->len);
	if (syncml_parse(fmt, resp->body, resp->len, &in, &perr) < 0) {
		finish(s, DM_RESULT_PROTOCOL, "bad message from the server "
		       "(%d): %s", perr.status, perr.text);
		return;
	}
	if (!in->hdr.session_id || strcmp(in->hdr.session_id, s->sid)) {
		finish(s, DM_RESULT_PROTOCOL, "the server's SessionID is %.32s, "
		       "not %s", in->hdr.session_id ? in->hdr.session_id : "-",
		       s->sid);
		syncml_msg_free(in);
		return;
	}
	log_debug(LOG_DM, "session %s: server message %s, %zu bytes%s", s->sid,
		  in->hdr.msg_id, resp->len, in->final ? ", final" : "");
	/* kept while its commands run: a UI alert may make them wait */
	syncml_msg_free(s->in);
	s->in = in;
	handle_message(s, in, resp);
}

void dm_session_ui_answer(struct dm_session *s, enum dm_ui_verdict v,
			  const char *answer_text)
{
	if (!s->ui_cmd || s->state == S_DONE)
		return;
	if (!ui_alert(s, s->ui_cmd, v, answer_text)) {
		nomem(s);
		return;
	}
	s->ui_cmd = NULL;
	enter(s, S_SENDING);
	go_on(s);
}

bool dm_session_ui_waiting(const struct dm_session *s)
{
	return s->ui_cmd != NULL;
}

static void kicked(evutil_socket_t fd, short what, void *arg)
{
	struct dm_session *s = arg;

	(void)fd;
	(void)what;
	if (s->state == S_DONE) {
		if (s->done)
			s->done(s->arg, s);
		return;
	}
	send_message(s);	/* Package#1 */
}

struct dm_session *dm_session_start(const struct dm_session_cfg *cfg,
				    dm_session_done_fn *done,
				    dm_session_changed_fn *changed, void *arg,
				    char *err, size_t errlen)
{
	struct dm_session *s = calloc(1, sizeof(*s));
	struct dm_http_opts o;

	if (!s) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->acc = *cfg->acc;
	s->cfg.acc = &s->acc;
	s->tr = cfg->transport ? cfg->transport : &http_transport;
	snprintf(s->devid, sizeof(s->devid), "%s", cfg->devid);
	s->cfg.devid = s->devid;
	dm_notification_session_id_str(cfg->session_id, s->sid);
	snprintf(s->url, sizeof(s->url), "%s", s->acc.addr);
	s->zero_nonce = cfg->resync;
	if (cfg->report) {
		s->report = *cfg->report;
		s->cfg.report = &s->report;
	}
	s->done = done;
	s->changed_cb = changed;
	s->arg = arg;
	if (cfg->psk_len) {
		if ((s->psk = malloc(cfg->psk_len)) == NULL)
			goto nomem;
		memcpy(s->psk, cfg->psk, cfg->psk_len);
		s->cfg.psk = s->psk;
	}
	s->ex = dm_exec_new(cfg->tree, s->acc.server_id, s->sid, cfg->format,
			    cfg->max_obj_size);
	s->ob = dm_outbox_new();
	if (!s->ex || !s->ob)
		goto nomem;
	memset(&o, 0, sizeof(o));
	o.psk_identity = cfg->psk_identity;
	o.psk = s->psk;
	o.psk_len = cfg->psk_len;
	o.timeout = cfg->timeout;
	s->http = s->tr->open(cfg->base, s->url, &o, err, errlen);
	if (!s->http) {
		dm_session_free(s);
		return NULL;
	}
	s->kick = event_new(cfg->base, -1, 0, kicked, s);
	if (!s->kick || package1(s) < 0)
		goto nomem;
	log_info(LOG_DM, "session %s with %s (%s): %s-initiated%s", s->sid,
		 s->acc.server_id, s->url,
		 cfg->server_initiated ? "server" : "client",
		 cfg->resync ? ", nonce resynchronisation" : "");
	event_active(s->kick, EV_TIMEOUT, 0);
	return s;
nomem:
	errbuf_set(err, errlen, "out of memory");
	dm_session_free(s);
	return NULL;
}

void dm_session_cancel(struct dm_session *s, const char *why)
{
	if (s->state == S_DONE || s->state == S_ABORTING || s->cancel)
		return;
	s->cancel = true;
	snprintf(s->cancel_why, sizeof(s->cancel_why), "%s", why);
	log_notice(LOG_DM, "session %s with %s: %s; it aborts after the "
		   "server's current message", s->sid, s->acc.server_id, why);
	if (dm_session_ui_waiting(s))
		dm_session_ui_answer(s, DM_UI_REJECT, NULL);
}

void dm_session_free(struct dm_session *s)
{
	if (!s)
		return;
	if (s->http)
		s->tr->close(s->http);
	if (s->kick)
		event_free(s->kick);
	syncml_msg_free(s->out);
	dm_outbox_free(s->ob);
	dm_exec_free(s->ex);
	syncml_msg_free(s->in);
	if (s->psk) {
		OPENSSL_cleanse(s->psk, s->cfg.psk_len);
		free(s->psk);
	}
	OPENSSL_cleanse(&s->acc, sizeof(s->acc));
	free(s);
}
