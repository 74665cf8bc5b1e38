/* SPDX-License-Identifier: MIT */
/*
 * OMA DM 1.2 session, client side.
 *
 * States: CONNECTING (Package#1 on its way), RUNNING (server packages),
 * ABORTING (our Alert 1223 on its way), DONE.  Each server message is
 * parsed, authenticated, executed and answered in one go; what does not fit
 * into the server's MaxMsgSize waits in the pending list (commands moved
 * from earlier messages, whose arenas stay alive until the session ends) and
 * goes out in the following messages.
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
#include "dm/http.h"
#include "dm/notification.h"
#include "dm/session.h"
#include "log.h"
#include "util/errbuf.h"

#define CT_XML		"application/vnd.syncml.dm+xml"
#define CT_WBXML	"application/vnd.syncml.dm+wbxml"
#define AUTH_BASIC	"syncml:auth-basic"
#define AUTH_MD5	"syncml:auth-md5"
#define NONCE_LEN	16
#define MIN_MSG_SIZE	512	/* a smaller MaxMsgSize cannot carry a Status */

/* DM RepPro 1.2 clause 10 codes the session produces itself. */
enum {
	ST_OK = 200,
	ST_AUTH_ACCEPTED = 212,
	ST_CHUNK_OK = 213,
	ST_CANCELLED = 214,
	ST_NOT_EXECUTED = 215,
	ST_ROLLED_BACK = 216,
	ST_NOT_MODIFIED = 304,
	ST_BAD_REQUEST = 400,
	ST_INVALID_CRED = 401,
	ST_NOT_ALLOWED = 405,
	ST_OPTIONAL = 406,
	ST_MISSING_CRED = 407,
	ST_TOO_LARGE = 413,
	ST_SIZE_MISMATCH = 424,
	ST_FAILED = 500,
	ST_ATOMIC_FAILED = 507,
};

enum state { S_CONNECTING, S_RUNNING, S_ABORTING, S_DONE };

static const char *const state_names[] = {
	[S_CONNECTING] = "connecting",
	[S_RUNNING] = "running",
	[S_ABORTING] = "aborting",
	[S_DONE] = "finished",
};

struct large_object {
	char uri[DM_TREE_MAX_URI + 1];
	enum syncml_cmd_type type;
	char format[16];
	char type_str[DM_TREE_MAX_TYPE + 1];
	uint8_t *buf;
	size_t len, size;	/* received so far, announced */
};

struct dm_session {
	struct dm_session_cfg cfg;
	struct dm_account acc;
	char devid[128];
	char sid[DM_NOTI_SESSION_ID_STRLEN];
	uint8_t *psk;
	struct dm_http *http;
	char url[256];
	enum state state;
	enum dm_session_result result;
	char error[160];
	unsigned msg_id;		/* of our last message */
	char server_msg_id[32];		/* of the server's last message */
	unsigned commands;
	bool client_authed;		/* the server accepted our Cred */
	bool server_authed;
	bool resync_pending;		/* tell the server a new nonce */
	unsigned client_fails, server_fails;
	uint32_t server_max_msg;	/* the server's MaxMsgSize, 0 none */
	enum syncml_format server_fmt;	/* of its last message */
	bool changed;			/* tree modified by this message */
	/* what is still to be sent, in order (Status first) */
	struct syncml_cmd **pending;
	struct syncml_msg **owner;	/* the arena each pending one lives in */
	size_t npending, pending_cap;
	bool pending_final;		/* our package ends with them */
	struct syncml_msg **msgs;	/* arenas still in use */
	size_t nmsgs, msgs_cap;
	/* the rest of a large object being sent (its data stays in its owner) */
	struct syncml_cmd lo_rest;
	struct syncml_item lo_rest_item;
	struct syncml_msg *out;		/* the message being built */
	unsigned cmd_id;
	struct large_object lo;
	/* the server message being executed; it waits for a UI agent */
	struct syncml_msg *in;
	const struct syncml_cmd *next_cmd;
	const struct syncml_cmd *ui_cmd;	/* the alert the agent has */
	bool authed, more, resend, abort;
	bool cancel;			/* dm_session_cancel: abort when we can */
	char cancel_why[80];
	struct dm_generic_alert report;
	struct event *kick;
	dm_session_done_fn *done;
	dm_session_changed_fn *changed_cb;
	void *arg;
};

static void send_message(struct dm_session *s);

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
	return s->commands;
}

static void set_state(struct dm_session *s, enum state st)
{
	if (s->state == st)
		return;
	log_debug(LOG_DM, "session %s with %s: %s -> %s", s->sid,
		  s->acc.server_id, state_names[s->state], state_names[st]);
	s->state = st;
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
	set_state(s, S_DONE);
	if (s->changed && s->changed_cb)
		s->changed_cb(s->arg, s);	/* e.g. a nonce, then an abort */
	s->changed = false;
	if (r == DM_RESULT_OK)
		log_info(LOG_DM, "session %s with %s finished: %u commands",
			 s->sid, s->acc.server_id, s->commands);
	else
		log_notice(LOG_DM, "session %s with %s failed (%s): %s", s->sid,
			   s->acc.server_id, dm_session_result_name(r),
			   s->error);
	event_active(s->kick, EV_TIMEOUT, 0);
}

/* ------------------------------------------------------------------------ */
/* Nonces and credentials                                                   */

static size_t nonce_bytes(const char *b64, uint8_t *out, size_t cap)
{
	int n = dm_b64_decode(out, cap, b64, strlen(b64));

	return n > 0 ? (size_t)n : 0;
}

/* A fresh nonce stored for level ("CLCRED"/"SRVCRED"); its base64 in out. */
static int new_nonce(struct dm_session *s, char *out, size_t cap)
{
	uint8_t n[NONCE_LEN];

	if (dm_nonce_generate(n, sizeof(n)) < 0 ||
	    dm_b64_encode(out, cap, n, sizeof(n)) < 0)
		return -EIO;
	if (dm_tree_account_set_nonce(s->cfg.tree, s->acc.server_id,
				      "SRVCRED", out) != 200)
		return -EIO;
	snprintf(s->acc.server.data, sizeof(s->acc.server.data), "%s", out);
	s->changed = true;
	return 0;
}

static bool is_type(const char *a, const char *b)
{
	return a && !strcasecmp(a, b);
}

/* Our <Cred>, until the server has accepted it (HMAC goes in a header). */
static int put_cred(struct dm_session *s, struct syncml_hdr *h)
{
	struct syncml_msg *m = s->out;
	const struct dm_account_auth *a = &s->acc.client;
	char buf[DM_B64_CAP(DM_AUTH_BASIC_MAX)];
	uint8_t nonce[128];
	int r;

	if (s->client_authed || !*a->type || is_type(a->type, "HMAC"))
		return 0;
	if (is_type(a->type, "BASIC")) {
		r = dm_auth_basic(buf, sizeof(buf), a->name, a->secret);
		h->cred.meta.type = syncml_strdup(m, AUTH_BASIC);
	} else {
		r = dm_auth_md5(buf, sizeof(buf), a->name, a->secret, nonce,
				nonce_bytes(a->data, nonce, sizeof(nonce)));
		h->cred.meta.type = syncml_strdup(m, AUTH_MD5);
	}
	if (r < 0)
		return r;
	h->has_cred = true;
	h->cred.meta.format = syncml_strdup(m, "b64");
	return syncml_set_data(m, &h->cred.data, buf, (size_t)r, false);
}

/* ------------------------------------------------------------------------ */
/* Building our messages                                                    */

static int new_out(struct dm_session *s)
{
	struct syncml_msg *m;
	struct syncml_hdr *h;
	char id[16];

	if (s->nmsgs == s->msgs_cap) {
		size_t cap = s->msgs_cap * 2 + 4;
		void *p = realloc(s->msgs, cap * sizeof(*s->msgs));

		if (!p)
			return -ENOMEM;
		s->msgs = p;
		s->msgs_cap = cap;
	}
	if ((m = syncml_msg_new()) == NULL)
		return -ENOMEM;
	s->msgs[s->nmsgs++] = m;
	s->out = m;
	s->cmd_id = 0;
	h = &m->hdr;
	snprintf(id, sizeof(id), "%u", ++s->msg_id);
	if (syncml_set_str(m, &h->session_id, s->sid) < 0 ||
	    syncml_set_str(m, &h->msg_id, id) < 0 ||
	    syncml_set_str(m, &h->target.uri, s->url) < 0 ||
	    syncml_set_str(m, &h->source.uri, s->devid) < 0)
		return -ENOMEM;
	if (*s->acc.client.name &&
	    syncml_set_str(m, &h->source.name, s->acc.client.name) < 0)
		return -ENOMEM;
	h->meta.has = SYNCML_META_MAXMSG | SYNCML_META_MAXOBJ;
	h->meta.max_msg_size = s->cfg.max_msg_size;
	h->meta.max_obj_size = s->cfg.max_obj_size;
	return put_cred(s, h);
}

static struct syncml_cmd *out_cmd(struct dm_session *s,
				  enum syncml_cmd_type type)
{
	char id[16];

	snprintf(id, sizeof(id), "%u", ++s->cmd_id);
	return syncml_cmd_add(s->out, NULL, type, id);
}

static struct syncml_cmd *add_status(struct dm_session *s, const char *cmd_ref,
				     const char *cmd, const char *target,
				     const char *source, unsigned code)
{
	struct syncml_msg *m = s->out;
	struct syncml_cmd *st = out_cmd(s, SYNCML_STATUS);

	if (!st || syncml_set_str(m, &st->msg_ref, s->server_msg_id) < 0 ||
	    syncml_set_str(m, &st->cmd_ref, cmd_ref) < 0 ||
	    syncml_set_str(m, &st->cmd, cmd) < 0 ||
	    (target && syncml_set_str(m, &st->target_ref, target) < 0) ||
	    (source && syncml_set_str(m, &st->source_ref, source) < 0))
		return NULL;
	st->code = code;
	return st;
}

/* A Status item carrying text (UI alert answers). */
static int status_item(struct dm_session *s, struct syncml_cmd *st,
		       const char *text)
{
	struct syncml_item *it = syncml_item_add(s->out, st);

	return it ? syncml_set_data(s->out, &it->data, text, strlen(text),
				    false) : -ENOMEM;
}

static int add_chal(struct dm_session *s, struct syncml_cmd *st)
{
	char b64[DM_B64_CAP(NONCE_LEN)];
	const char *type = s->acc.server.type;

	st->has_chal = true;
	if (is_type(type, "BASIC")) {
		st->chal.type = syncml_strdup(s->out, AUTH_BASIC);
		st->chal.format = syncml_strdup(s->out, "b64");
		return 0;
	}
	if (new_nonce(s, b64, sizeof(b64)) < 0)
		return -EIO;
	st->chal.type = syncml_strdup(s->out, AUTH_MD5);
	st->chal.format = syncml_strdup(s->out, "b64");
	st->chal.next_nonce = syncml_strdup(s->out, b64);
	return st->chal.next_nonce ? 0 : -ENOMEM;
}

/*
 * Move the commands of the message being built into the pending list,
 * which is kept in send order (DM Protocol 8.1: Status first): the new
 * Status commands after the pending ones, the others at the end.
 */
static int queue_out(struct dm_session *s)
{
	struct syncml_cmd *c, *next;
	size_t n = 0, nst = 0, i;

	for (c = s->out->cmds; c; c = c->next)
		n++;
	if (s->npending + n > s->pending_cap) {
		size_t cap = (s->npending + n) * 2 + 8;
		void *p = realloc(s->pending, cap * sizeof(*s->pending));

		if (!p)
			return -ENOMEM;
		s->pending = p;
		p = realloc(s->owner, cap * sizeof(*s->owner));
		if (!p)
			return -ENOMEM;
		s->owner = p;
		s->pending_cap = cap;
	}
	for (c = s->out->cmds; c; c = c->next)
		nst += c->type == SYNCML_STATUS;
	for (i = 0; i < s->npending && s->pending[i]->type == SYNCML_STATUS;)
		i++;
	memmove(s->pending + i + nst, s->pending + i,
		(s->npending - i) * sizeof(*s->pending));
	memmove(s->owner + i + nst, s->owner + i,
		(s->npending - i) * sizeof(*s->owner));
	s->npending += nst;
	for (c = s->out->cmds; c; c = next) {
		next = c->next;
		c->next = NULL;
		if (c->type == SYNCML_STATUS) {
			s->owner[i] = s->out;
			s->pending[i++] = c;
		} else {
			s->owner[s->npending] = s->out;
			s->pending[s->npending++] = c;
		}
	}
	s->out->cmds = NULL;
	return 0;
}

/* Free the arenas nothing pending lives in any more (s->out included). */
static void release_msgs(struct dm_session *s)
{
	size_t i, j, k = 0;

	for (i = 0; i < s->nmsgs; i++) {
		for (j = 0; j < s->npending && s->owner[j] != s->msgs[i]; j++)
			;
		if (j < s->npending) {
			s->msgs[k++] = s->msgs[i];
			continue;
		}
		if (s->msgs[i] == s->out)
			s->out = NULL;
		syncml_msg_free(s->msgs[i]);
	}
	s->nmsgs = k;
}

/*
 * Encode a message of the header of s->out and as much of the pending
 * commands as the server takes; what is left stays pending.
 */
static int encode_out(struct dm_session *s, struct syncml_buf *buf)
{
	struct syncml_msg *m = s->out;
	struct syncml_cursor cur = { 0, 0 };
	struct syncml_cmd **tail = &m->cmds;
	size_t max = s->server_max_msg ? s->server_max_msg : SIZE_MAX;
	size_t i, sent;
	bool done;
	int r;

	if (queue_out(s) < 0)
		return -ENOMEM;
	for (i = 0; i < s->npending; i++) {
		*tail = s->pending[i];
		tail = &s->pending[i]->next;
	}
	m->final = s->pending_final;
	r = syncml_encode_split(m, s->cfg.format, max, &cur, buf, &done);
	/* the list is rebuilt next time: commands may move again */
	for (i = 0; i < s->npending; i++)
		s->pending[i]->next = NULL;
	m->cmds = NULL;
	if (r < 0)
		return r;
	sent = cur.cmd;
	if (cur.data_off > 0) {
		/* the rest of a large object: a copy without Meta Size */
		struct syncml_cmd *c = s->pending[sent];
		struct syncml_item it = *c->items;

		s->lo_rest = *c;
		s->lo_rest_item = it;
		s->lo_rest.items = &s->lo_rest_item;
		s->lo_rest_item.next = NULL;
		s->lo_rest_item.data.p += cur.data_off;
		s->lo_rest_item.data.len -= cur.data_off;
		s->lo_rest_item.continued = true;
		s->lo_rest_item.meta.has &= ~SYNCML_META_SIZE;
		s->pending[sent] = &s->lo_rest;
	}
	memmove(s->pending, s->pending + sent,
		(s->npending - sent) * sizeof(*s->pending));
	memmove(s->owner, s->owner + sent,
		(s->npending - sent) * sizeof(*s->owner));
	s->npending -= sent;
	release_msgs(s);
	return 0;
}

static void post_done(void *arg, int err, const char *msg,
		      const struct dm_http_response *resp);

/* Build and POST our next message. */
static void send_message(struct dm_session *s)
{
	struct syncml_buf buf = { 0 };
	char hmac[512];
	const char *ct = s->cfg.format == SYNCML_WBXML ? CT_WBXML : CT_XML;
	const char *hdr = NULL;
	const struct dm_account_auth *a = &s->acc.client;
	uint8_t nonce[128];
	int r;

	r = encode_out(s, &buf);
	if (r < 0) {
		syncml_buf_free(&buf);
		finish(s, DM_RESULT_PROTOCOL, "cannot encode message %u: %s",
		       s->msg_id, strerror(-r));
		return;
	}
	if (is_type(a->type, "HMAC")) {
		r = dm_hmac_header(hmac, sizeof(hmac), a->name, a->secret,
				   nonce, nonce_bytes(a->data, nonce,
						      sizeof(nonce)),
				   buf.p, buf.len);
		if (r < 0) {
			syncml_buf_free(&buf);
			finish(s, DM_RESULT_AUTH, "cannot make the HMAC: %s",
			       strerror(-r));
			return;
		}
		hdr = hmac;
	}
	log_debug(LOG_DM, "session %s: message %u, %zu bytes%s", s->sid,
		  s->msg_id, buf.len, s->npending ? " (more to come)" : "");
	if (log_hexdump_enabled(LOG_DM))
		log_hex(LOG_DM, "DM out", buf.p, buf.len);
	r = dm_http_post(s->http, ct, hdr, buf.p, buf.len, post_done, s);
	syncml_buf_free(&buf);
	if (r < 0)
		finish(s, DM_RESULT_TRANSPORT, "cannot post: %s", strerror(-r));
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
	struct syncml_cmd *al = out_cmd(s, SYNCML_ALERT);
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

static int package1(struct dm_session *s)
{
	static const char *const devinfo[] = {
		"./DevInfo/DevId", "./DevInfo/Man", "./DevInfo/Mod",
		"./DevInfo/DmV", "./DevInfo/Lang",
	};
	struct syncml_cmd *al, *rep;
	size_t i;

	if (new_out(s) < 0 || (al = out_cmd(s, SYNCML_ALERT)) == NULL)
		return -ENOMEM;
	al->code = s->cfg.server_initiated ? SYNCML_ALERT_SERVER_INIT :
					     SYNCML_ALERT_CLIENT_INIT;
	if ((rep = out_cmd(s, SYNCML_REPLACE)) == NULL)
		return -ENOMEM;
	if (s->cfg.report && generic_alert(s, s->cfg.report) < 0)
		return -ENOMEM;
	for (i = 0; i < sizeof(devinfo) / sizeof(devinfo[0]); i++)
		if (devinfo_item(s, rep, devinfo[i]) < 0)
			return -ENOMEM;
	s->pending_final = true;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Executing the server's commands                                          */

static const char *item_format(const struct syncml_cmd *c,
			       const struct syncml_item *it)
{
	return it->meta.format ? it->meta.format :
	       c->meta.format ? c->meta.format : "chr";
}

static const char *item_type(const struct syncml_cmd *c,
			     const struct syncml_item *it)
{
	return it->meta.type ? it->meta.type : c->meta.type;
}

static void lo_drop(struct dm_session *s, const char *why)
{
	if (!s->lo.buf)
		return;
	log_notice(LOG_DM, "session %s: large object %s dropped: %s", s->sid,
		   s->lo.uri, why);
	free(s->lo.buf);
	memset(&s->lo, 0, sizeof(s->lo));
}

static unsigned put_value(struct dm_session *s, enum syncml_cmd_type type,
			  const char *uri, const char *format,
			  const char *mime, const uint8_t *p, size_t len)
{
	enum dm_tree_format f;
	char base[DM_TREE_MAX_URI + 1];
	const char *prop;
	int st;

	if (dm_tree_format_parse(format, &f) < 0)
		return DM_TREE_BAD_FORMAT;
	if (type == SYNCML_REPLACE) {
		st = dm_tree_split_prop(uri, base, sizeof(base), &prop);
		if (st != 200)
			return (unsigned)st;
		if (prop) {
			char v[DM_TREE_MAX_ACL + 1];

			if (len >= sizeof(v))
				return ST_TOO_LARGE;
			memcpy(v, p, len);
			v[len] = 0;
			return (unsigned)dm_tree_prop_replace(s->cfg.tree,
							      s->acc.server_id,
							      base, prop, v);
		}
		return (unsigned)dm_tree_replace(s->cfg.tree, s->acc.server_id,
						 uri, f, mime, p, len);
	}
	return (unsigned)dm_tree_add(s->cfg.tree, s->acc.server_id, uri, f,
				     mime, p, len);
}

/*
 * Add or Replace of one item, chunked or not (DM Protocol 1.2 clause 7,
 * large objects: 213 for every chunk but the last, 424 on a size mismatch).
 */
static unsigned put_item(struct dm_session *s, const struct syncml_cmd *c,
			 const struct syncml_item *it)
{
	const char *uri = it->target.uri;
	struct large_object *lo = &s->lo;
	uint32_t size;
	unsigned st;

	if (!uri)
		return ST_BAD_REQUEST;
	if (lo->buf && strcmp(lo->uri, uri))
		lo_drop(s, "another command came first");
	if (!it->more_data && !lo->buf)
		return put_value(s, c->type, uri, item_format(c, it),
				 item_type(c, it), it->data.p, it->data.len);
	if (!lo->buf) {
		/* the first chunk announces the size */
		size = (it->meta.has & SYNCML_META_SIZE) ? it->meta.size :
		       (c->meta.has & SYNCML_META_SIZE) ? c->meta.size : 0;
		if (!size)
			return ST_BAD_REQUEST;
		if (size > s->cfg.max_obj_size)
			return ST_TOO_LARGE;
		if ((lo->buf = malloc(size)) == NULL)
			return ST_FAILED;
		snprintf(lo->uri, sizeof(lo->uri), "%s", uri);
		snprintf(lo->format, sizeof(lo->format), "%s",
			 item_format(c, it));
		snprintf(lo->type_str, sizeof(lo->type_str), "%s",
			 item_type(c, it) ? item_type(c, it) : "");
		lo->type = c->type;
		lo->size = size;
		lo->len = 0;
	}
	if (it->data.len > lo->size - lo->len) {
		lo_drop(s, "more data than its Size");
		return ST_SIZE_MISMATCH;
	}
	memcpy(lo->buf + lo->len, it->data.p, it->data.len);
	lo->len += it->data.len;
	if (it->more_data)
		return ST_CHUNK_OK;
	if (lo->len != lo->size) {
		log_notice(LOG_DM, "session %s: large object %s: %zu bytes, "
			   "Size said %zu", s->sid, lo->uri, lo->len, lo->size);
		lo_drop(s, "size mismatch");
		return ST_SIZE_MISMATCH;
	}
	st = put_value(s, lo->type, lo->uri, lo->format,
		       *lo->type_str ? lo->type_str : NULL, lo->buf, lo->len);
	free(lo->buf);
	memset(lo, 0, sizeof(*lo));
	return st;
}

/* Results of a Get: one Results command per Get, one item per node. */
static unsigned get_item(struct dm_session *s, const struct syncml_cmd *c,
			 const struct syncml_item *it,
			 struct syncml_cmd **results)
{
	char base[DM_TREE_MAX_URI + 1], *pv = NULL;
	const char *uri = it->target.uri, *prop;
	struct dm_tree_value v;
	struct syncml_item *ri;
	struct syncml_msg *m = s->out;
	int st;

	if (!uri)
		return ST_BAD_REQUEST;
	st = dm_tree_split_prop(uri, base, sizeof(base), &prop);
	if (st != 200)
		return (unsigned)st;
	if (prop) {
		st = dm_tree_prop_get(s->cfg.tree, s->acc.server_id, base, prop,
				      &pv);
		if (st != 200)
			return (unsigned)st;
		v.format = DM_TREE_FMT_CHR;
		v.type = "text/plain";
		v.data = (const uint8_t *)pv;
		v.len = strlen(pv);
	} else {
		st = dm_tree_get(s->cfg.tree, s->acc.server_id, uri, &v);
		if (st != 200)
			return (unsigned)st;
	}
	if (!*results) {
		*results = out_cmd(s, SYNCML_RESULTS);
		if (!*results ||
		    syncml_set_str(m, &(*results)->msg_ref, s->server_msg_id) < 0 ||
		    syncml_set_str(m, &(*results)->cmd_ref, c->cmd_id) < 0)
			goto nomem;
	}
	ri = syncml_item_add(m, *results);
	if (!ri || syncml_set_str(m, &ri->source.uri, uri) < 0)
		goto nomem;
	ri->meta.format = syncml_strdup(m, dm_tree_format_name(v.format));
	if (v.type && *v.type)
		ri->meta.type = syncml_strdup(m, v.type);
	if (v.len && syncml_set_data(m, &ri->data, v.data, v.len,
				     s->cfg.format == SYNCML_WBXML) < 0)
		goto nomem;
	free(pv);
	return ST_OK;
nomem:
	free(pv);
	return ST_FAILED;
}

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
 * The answer to a user-interaction alert (DM Protocol 1.2 clause 10): from
 * the agent, or by policy.  A confirmation refused is 304, the other
 * questions cancelled are 214.
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
	char dr[64];

	log_notice(LOG_DM, "session %s: %s alert %u \"%.80s\" %s%s", s->sid,
		   s->acc.server_id, c->code, text,
		   yes ? "accepted" : "refused",
		   v == DM_UI_POLICY ? " by policy" : " by the UI agent");
	switch (c->code) {
	case SYNCML_ALERT_DISPLAY:
		return add_status(s, c->cmd_id, "Alert", NULL, NULL, ST_OK);
	case SYNCML_ALERT_CONFIRM:
		return add_status(s, c->cmd_id, "Alert", NULL, NULL,
				  yes ? ST_OK : ST_NOT_MODIFIED);
	default:
		if (!yes)
			return add_status(s, c->cmd_id, "Alert", NULL, NULL,
					  ST_CANCELLED);
		st = add_status(s, c->cmd_id, "Alert", NULL, NULL, ST_OK);
		if (answer) {
			snprintf(dr, sizeof(dr), "%s", answer);
		} else {
			alert_option(c, "DR", dr, sizeof(dr));
			if (!*dr && c->code != SYNCML_ALERT_TEXT_INPUT)
				snprintf(dr, sizeof(dr), "1");
		}
		if (st && status_item(s, st, dr) < 0)
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

static bool ok_code(unsigned st)
{
	return st >= 200 && st < 300;
}

static bool modifies(enum syncml_cmd_type t)
{
	return t == SYNCML_ADD || t == SYNCML_REPLACE || t == SYNCML_DELETE ||
	       t == SYNCML_COPY || t == SYNCML_EXEC;
}

static unsigned exec_one(struct dm_session *s, const struct syncml_cmd *c,
			 const struct syncml_item *it,
			 struct syncml_cmd **results)
{
	const char *uri = it->target.uri;

	switch (c->type) {
	case SYNCML_ADD:
	case SYNCML_REPLACE:
		return put_item(s, c, it);
	case SYNCML_DELETE:
		return uri ? (unsigned)dm_tree_delete(s->cfg.tree,
						      s->acc.server_id, uri) :
			     ST_BAD_REQUEST;
	case SYNCML_GET:
		return get_item(s, c, it, results);
	case SYNCML_COPY:
		return uri && it->source.uri ?
		       (unsigned)dm_tree_copy(s->cfg.tree, s->acc.server_id,
					      uri, it->source.uri) :
		       ST_BAD_REQUEST;
	case SYNCML_EXEC:
		return uri ? (unsigned)dm_tree_exec(s->cfg.tree,
						    s->acc.server_id, uri,
						    it->data.p, it->data.len) :
			     ST_BAD_REQUEST;
	default:
		return ST_OPTIONAL;
	}
}

/* Statuses made for the commands of one Atomic, to rewrite on rollback. */
struct atomic_log {
	struct syncml_cmd *st[SYNCML_MAX_CMDS];
	size_t n;
};

/* Remember st (NULL: out of memory) for a rollback; the bound is explicit. */
static int alog_add(struct atomic_log *alog, struct syncml_cmd *st)
{
	if (!st || alog->n == SYNCML_MAX_CMDS)
		return -ENOMEM;
	alog->st[alog->n++] = st;
	return 0;
}

static int exec_cmd(struct dm_session *s, const struct syncml_cmd *c,
		    struct atomic_log *alog);

/* Execute a list; in an Atomic, the first failure skips the rest. */
static int exec_list(struct dm_session *s, const struct syncml_cmd *c,
		     struct atomic_log *alog, bool *failed)
{
	const struct syncml_cmd *k;
	size_t mark;

	for (k = c; k; k = k->next) {
		mark = alog ? alog->n : 0;
		if (alog && *failed) {
			if (alog_add(alog, add_status(s, k->cmd_id,
					syncml_cmd_name(k->type), NULL, NULL,
					ST_NOT_EXECUTED)) < 0)
				return -ENOMEM;
			continue;
		}
		if (exec_cmd(s, k, alog) < 0)
			return -ENOMEM;
		for (size_t i = mark; alog && i < alog->n; i++)
			if (!ok_code(alog->st[i]->code))
				*failed = true;
	}
	return 0;
}

static int exec_atomic(struct dm_session *s, const struct syncml_cmd *c)
{
	struct atomic_log *alog = calloc(1, sizeof(*alog));
	struct syncml_cmd *st;
	bool failed = false;
	int r;

	if (!alog)
		return -ENOMEM;
	st = add_status(s, c->cmd_id, "Atomic", NULL, NULL, ST_OK);
	if (!st) {
		free(alog);
		return -ENOMEM;
	}
	if (dm_tree_atomic_begin(s->cfg.tree) != 200) {
		st->code = ST_FAILED;	/* nested: the tree refuses */
		free(alog);
		return 0;
	}
	r = exec_list(s, c->children, alog, &failed);
	if (r < 0 || failed) {
		dm_tree_atomic_rollback(s->cfg.tree);
		st->code = ST_ATOMIC_FAILED;
		for (size_t i = 0; i < alog->n; i++)
			if (ok_code(alog->st[i]->code) &&
			    alog->st[i]->code != ST_NOT_EXECUTED &&
			    strcmp(alog->st[i]->cmd, "Get"))
				alog->st[i]->code = ST_ROLLED_BACK;
		log_notice(LOG_DM, "session %s: Atomic %s failed, rolled back",
			   s->sid, c->cmd_id);
	} else {
		dm_tree_atomic_commit(s->cfg.tree);
	}
	free(alog);
	return r;
}

static int exec_cmd(struct dm_session *s, const struct syncml_cmd *c,
		    struct atomic_log *alog)
{
	const char *name = syncml_cmd_name(c->type);
	struct syncml_cmd *results = NULL, *st;
	const struct syncml_item *it;
	bool failed = false;
	unsigned code;

	if (c->type != SYNCML_ALERT)
		s->commands++;
	if (c->type == SYNCML_ATOMIC && !alog)
		return exec_atomic(s, c);
	if (c->type == SYNCML_ATOMIC) {
		/* DM Protocol 1.2: Atomic does not nest */
		return alog_add(alog, add_status(s, c->cmd_id, name, NULL,
						 NULL, ST_FAILED));
	}
	if (c->type == SYNCML_SEQUENCE) {
		st = add_status(s, c->cmd_id, name, NULL, NULL, ST_OK);
		if (!st || (alog && alog_add(alog, st) < 0))
			return -ENOMEM;
		return exec_list(s, c->children, alog, &failed);
	}
	if (!c->items) {
		st = add_status(s, c->cmd_id, name, NULL, NULL, ST_BAD_REQUEST);
		if (!st || (alog && alog_add(alog, st) < 0))
			return -ENOMEM;
		return 0;
	}
	for (it = c->items; it; it = it->next) {
		code = exec_one(s, c, it, &results);
		if (ok_code(code) && modifies(c->type))
			s->changed = true;
		if (!ok_code(code))
			log_info(LOG_DM, "session %s: %s %s: %u", s->sid, name,
				 it->target.uri ? it->target.uri : "?", code);
		else
			log_debug(LOG_DM, "session %s: %s %s: %u", s->sid, name,
				  it->target.uri ? it->target.uri : "?", code);
		st = add_status(s, c->cmd_id, name, it->target.uri,
				it->source.uri, code);
		if (!st || (alog && alog_add(alog, st) < 0))
			return -ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The server's messages                                                    */

/* Is the server who it says?  The Status code for its SyncHdr. */
static unsigned check_server(struct dm_session *s, const struct syncml_msg *in,
			     const struct dm_http_response *resp)
{
	const struct dm_account_auth *a = &s->acc.server;
	const struct syncml_hdr *h = &in->hdr;
	uint8_t nonce[128];
	size_t nl = nonce_bytes(a->data, nonce, sizeof(nonce));
	struct dm_hmac mac;
	int r;

	if (s->server_authed)
		return ST_OK;
	if (!*a->type) {
		s->server_authed = true;
		return ST_OK;
	}
	if (is_type(a->type, "HMAC")) {
		if (!resp->hmac)
			return ST_MISSING_CRED;
		r = dm_hmac_parse(resp->hmac, &mac);
		if (!r)
			r = dm_hmac_verify(&mac, a->name, a->secret, nonce, nl,
					   resp->body, resp->len);
	} else {
		if (!h->has_cred || !h->cred.data.p)
			return ST_MISSING_CRED;
		r = dm_cred_check(h->cred.meta.type,
				  (const char *)h->cred.data.p, a->name,
				  a->secret, nonce, nl);
		if (r == -EACCES && s->cfg.resync)
			r = dm_cred_check(h->cred.meta.type,
					  (const char *)h->cred.data.p, a->name,
					  a->secret,
					  (const uint8_t[DM_NONCE_ZERO_LEN]){ 0 },
					  DM_NONCE_ZERO_LEN);
	}
	if (r < 0)
		return ST_INVALID_CRED;
	s->server_authed = true;
	return ST_AUTH_ACCEPTED;
}

/* The server's Status for our SyncHdr: are we in? */
static bool hdr_status(struct dm_session *s, const struct syncml_cmd *c,
		       bool *resend)
{
	const char *nn = c->has_chal ? c->chal.next_nonce : NULL;

	if (nn) {
		dm_tree_account_set_nonce(s->cfg.tree, s->acc.server_id,
					  "CLCRED", nn);
		snprintf(s->acc.client.data, sizeof(s->acc.client.data), "%s",
			 nn);
		s->changed = true;
	}
	if (c->code == ST_AUTH_ACCEPTED || c->code == ST_OK) {
		s->client_authed = true;
		return true;
	}
	if (c->code == ST_INVALID_CRED || c->code == ST_MISSING_CRED) {
		s->client_authed = false;
		if (++s->client_fails > s->cfg.auth_retries) {
			finish(s, DM_RESULT_AUTH,
			       "the server refused our credentials (%u)",
			       c->code);
			return false;
		}
		log_info(LOG_DM, "session %s: server asks for credentials "
			 "again (%u)", s->sid, c->code);
		*resend = true;
		return true;
	}
	finish(s, DM_RESULT_PROTOCOL, "the server answered our header with %u",
	       c->code);
	return false;
}

/*
 * Execute the server's commands from s->next_cmd on.  Returns 1 when a UI
 * alert went to the agent (the rest waits for its answer), 0 when done.
 */
static int handle_commands(struct dm_session *s)
{
	const struct syncml_cmd *c;

	for (c = s->next_cmd; c && s->state != S_DONE; c = c->next) {
		if (c->type == SYNCML_STATUS) {
			if (c->cmd_ref && !strcmp(c->cmd_ref, "0")) {
				if (!hdr_status(s, c, &s->resend))
					return 0;
			} else if (!ok_code(c->code)) {
				log_info(LOG_DM, "session %s: server: %s %s: %u",
					 s->sid, c->cmd ? c->cmd : "?",
					 c->target_ref ? c->target_ref : "",
					 c->code);
			}
			continue;
		}
		if (c->type == SYNCML_RESULTS)
			continue;
		s->more = true;
		if (!s->authed) {
			/* not executed until the server is authenticated */
			if (!add_status(s, c->cmd_id, syncml_cmd_name(c->type),
					NULL, NULL, ST_MISSING_CRED))
				return -ENOMEM;
			continue;
		}
		if (c->type == SYNCML_ALERT) {
			struct syncml_cmd *st;

			switch (c->code) {
			case SYNCML_ALERT_SESSION_ABORT:
				s->abort = true;
				return 0;
			case SYNCML_ALERT_NEXT_MESSAGE:
				st = add_status(s, c->cmd_id, "Alert", NULL,
						NULL, ST_OK);
				break;
			case SYNCML_ALERT_DISPLAY:
			case SYNCML_ALERT_CONFIRM:
			case SYNCML_ALERT_TEXT_INPUT:
			case SYNCML_ALERT_SINGLE_CHOICE:
			case SYNCML_ALERT_MULTI_CHOICE:
				if (ui_ask(s, c)) {
					s->next_cmd = c->next;
					return 1;
				}
				st = ui_alert(s, c, DM_UI_POLICY, NULL);
				break;
			default:
				st = add_status(s, c->cmd_id, "Alert", NULL,
						NULL, ST_OPTIONAL);
			}
			if (!st)
				return -ENOMEM;
			continue;
		}
		if (exec_cmd(s, c, NULL) < 0)
			return -ENOMEM;
	}
	s->next_cmd = NULL;
	return 0;
}

/* Our answer to the server's SyncHdr, with a challenge when needed. */
static int answer_hdr(struct dm_session *s, const struct syncml_msg *in,
		      unsigned code)
{
	struct syncml_cmd *st;

	st = add_status(s, "0", "SyncHdr", in->hdr.target.uri,
			in->hdr.source.uri, code);
	if (!st)
		return -ENOMEM;
	if (code == ST_INVALID_CRED || code == ST_MISSING_CRED ||
	    (s->resync_pending && s->server_authed)) {
		/* nonce resynchronisation: the server learns a new nonce */
		if (s->resync_pending && s->server_authed)
			log_info(LOG_DM, "session %s: new server nonce sent "
				 "(resynchronisation)", s->sid);
		s->resync_pending = false;
		return add_chal(s, st);
	}
	return 0;
}

static void abort_session(struct dm_session *s, const char *why)
{
	struct syncml_cmd *al = out_cmd(s, SYNCML_ALERT);

	if (!al) {
		finish(s, DM_RESULT_PROTOCOL, "out of memory");
		return;
	}
	al->code = SYNCML_ALERT_SESSION_ABORT;
	snprintf(s->error, sizeof(s->error), "%s", why);
	s->pending_final = true;
	set_state(s, S_ABORTING);
	send_message(s);
}

static bool next_message_pending(const struct dm_session *s)
{
	for (size_t i = 0; i < s->npending; i++)
		if (s->pending[i]->type == SYNCML_ALERT &&
		    s->pending[i]->code == SYNCML_ALERT_NEXT_MESSAGE)
			return true;
	return false;
}

static void go_on(struct dm_session *s);

static void handle_message(struct dm_session *s, const struct syncml_msg *in,
			   const struct dm_http_response *resp)
{
	bool authed;
	unsigned code;

	snprintf(s->server_msg_id, sizeof(s->server_msg_id), "%s",
		 in->hdr.msg_id);
	if (in->hdr.meta.has & SYNCML_META_MAXMSG)
		s->server_max_msg = in->hdr.meta.max_msg_size < MIN_MSG_SIZE ?
				    MIN_MSG_SIZE : in->hdr.meta.max_msg_size;
	if (in->hdr.resp_uri && strcmp(in->hdr.resp_uri, s->url)) {
		/* later messages go where the server says */
		char err[160];
		struct dm_http_opts o = {
			.psk_identity = s->cfg.psk_identity, .psk = s->psk,
			.psk_len = s->cfg.psk_len, .timeout = s->cfg.timeout,
		};
		struct dm_http *h = dm_http_new(s->cfg.base, in->hdr.resp_uri,
						&o, err, sizeof(err));

		if (!h) {
			finish(s, DM_RESULT_PROTOCOL, "RespURI %s: %s",
			       in->hdr.resp_uri, err);
			return;
		}
		dm_http_free(s->http);
		s->http = h;
		snprintf(s->url, sizeof(s->url), "%s", in->hdr.resp_uri);
	}
	code = check_server(s, in, resp);
	authed = ok_code(code);
	if (!authed && ++s->server_fails > s->cfg.auth_retries) {
		if (new_out(s) < 0 || answer_hdr(s, in, code) < 0) {
			finish(s, DM_RESULT_PROTOCOL, "out of memory");
			return;
		}
		s->result = DM_RESULT_AUTH;
		abort_session(s, "the server's credentials were refused");
		return;
	}
	if (!authed)
		log_notice(LOG_DM, "session %s: %s credentials refused (%u)",
			   s->sid, s->acc.server_id, code);
	if (new_out(s) < 0 || answer_hdr(s, in, code) < 0) {
		finish(s, DM_RESULT_PROTOCOL, "out of memory");
		return;
	}
	s->authed = authed;
	s->more = s->resend = s->abort = false;
	s->next_cmd = in->cmds;
	go_on(s);
}

/* Execute (the rest of) s->in, then answer it. */
static void go_on(struct dm_session *s)
{
	const struct syncml_msg *in = s->in;
	int r = handle_commands(s);

	if (r < 0) {
		finish(s, DM_RESULT_PROTOCOL, "out of memory");
		return;
	}
	if (r > 0)
		return;		/* the UI agent answers later */
	if (s->changed && s->changed_cb)
		s->changed_cb(s->arg, s);
	s->changed = false;
	if (s->state == S_DONE)
		return;
	if (s->abort) {
		finish(s, DM_RESULT_ABORTED, "aborted by the server");
		return;
	}
	if (s->cancel) {
		/*
		 * Our Alert 1223 goes with the Status and Results of what this
		 * message executed, so the server knows what was done.
		 */
		s->result = DM_RESULT_ABORTED;
		abort_session(s, s->cancel_why);
		return;
	}
	if (s->resend) {
		/* our Package#1 again, with fresh credentials */
		s->npending = 0;
		s->out->cmds = NULL;
		if (package1(s) < 0) {
			finish(s, DM_RESULT_PROTOCOL, "out of memory");
			return;
		}
		send_message(s);
		return;
	}
	if (!in->final) {
		/*
		 * The server's package goes on: ask for its next message
		 * (once: an Alert 1222 may still be waiting to go out).  Our
		 * message itself is complete, so it carries Final unless what
		 * is pending does not fit.
		 */
		if (!next_message_pending(s)) {
			struct syncml_cmd *al = out_cmd(s, SYNCML_ALERT);

			if (!al) {
				finish(s, DM_RESULT_PROTOCOL, "out of memory");
				return;
			}
			al->code = SYNCML_ALERT_NEXT_MESSAGE;
		}
		s->pending_final = true;
		send_message(s);
		return;
	}
	if (!s->more && !s->npending && s->authed) {
		finish(s, DM_RESULT_OK, NULL);
		return;
	}
	s->pending_final = true;
	send_message(s);
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
		finish(s, DM_RESULT_PROTOCOL, "unexpected content type '%s'",
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
	s->server_fmt = fmt;
	if (!in->hdr.session_id || strcmp(in->hdr.session_id, s->sid)) {
		finish(s, DM_RESULT_PROTOCOL, "the server's SessionID is %s, "
		       "not %s", in->hdr.session_id ? in->hdr.session_id : "-",
		       s->sid);
		syncml_msg_free(in);
		return;
	}
	set_state(s, S_RUNNING);
	log_debug(LOG_DM, "session %s: server message %s, %zu bytes%s", s->sid,
		  in->hdr.msg_id, resp->len, in->final ? ", final" : "");
	/* kept while its commands run: a UI alert may make them wait */
	syncml_msg_free(s->in);
	s->in = in;
	handle_message(s, in, resp);
}

void dm_session_ui_answer(struct dm_session *s, enum dm_ui_verdict v,
			  const char *answer)
{
	if (!s->ui_cmd || s->state == S_DONE)
		return;
	if (!ui_alert(s, s->ui_cmd, v, answer)) {
		finish(s, DM_RESULT_PROTOCOL, "out of memory");
		return;
	}
	s->ui_cmd = NULL;
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
	send_message(s);
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
	snprintf(s->devid, sizeof(s->devid), "%s", cfg->devid);
	s->cfg.devid = s->devid;
	dm_notification_session_id_str(cfg->session_id, s->sid);
	snprintf(s->url, sizeof(s->url), "%s", s->acc.addr);
	s->resync_pending = cfg->resync;
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
	memset(&o, 0, sizeof(o));
	o.psk_identity = cfg->psk_identity;
	o.psk = s->psk;
	o.psk_len = cfg->psk_len;
	o.timeout = cfg->timeout;
	s->http = dm_http_new(cfg->base, s->url, &o, err, errlen);
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
	dm_http_free(s->http);
	if (s->kick)
		event_free(s->kick);
	for (size_t i = 0; i < s->nmsgs; i++)
		syncml_msg_free(s->msgs[i]);
	free(s->msgs);
	free(s->owner);
	free(s->lo.buf);
	syncml_msg_free(s->in);
	free(s->pending);
	if (s->psk) {
		OPENSSL_cleanse(s->psk, s->cfg.psk_len);
		free(s->psk);
	}
	free(s);
}
