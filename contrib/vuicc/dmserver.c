/* SPDX-License-Identifier: MIT */
/*
 * The DM_SC server (see dmserver.h): OMA DM 1.2 from the server's side.
 *
 * One session at a time, an explicit state machine:
 *   IDLE    no session; the next message must be a Package#1 (Alert
 *           1200/1201 in message 1);
 *   AUTH    a Package#1 came with missing or wrong credentials: 401/407
 *           with a Chal was sent, the client is to send it again;
 *   ACTIVE  the client is authenticated: the packages of the script are
 *           sent, one per round trip, split into messages to fit the
 *           client's MaxMsgSize (DM Protocol 1.2 clause 8.1, RepPro 6.4).
 * A session ends (back to IDLE) when the server sends a message with only
 * Status + Final after the last package was answered, when either side
 * sends Alert 1223, or after the third refused credential.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "syncml/auth.h"
#include "syncml/notification.h"
#include "syncml/syncml.h"
#include "dmserver.h"
#include "vuicc.h"

#define DMS_NONCE_MAX		64
#define DMS_NONCE_FRESH		16	/* bytes of a generated nonce */
#define DMS_AUTH_TRIES		3	/* refused credentials before giving up */
#define DMS_RESENDS		3	/* server credentials refused by the client */
#define DMS_MAX_MSG_DEFAULT	65536
#define DMS_OUT_MAX		(16u << 20)	/* no client MaxMsgSize */

#define CT_XML		"application/vnd.syncml.dm+xml"
#define CT_WBXML	"application/vnd.syncml.dm+wbxml"

enum dms_state {
	DMS_IDLE,
	DMS_AUTH,
	DMS_ACTIVE,
};

struct dms_script {
	struct dms_cmd **cmds;
	size_t n, cap;
};

/*
 * A command and the CmdID it has: once sent, "at" is the MsgID of its
 * message (struct dms refs); while a message is built, before we know how
 * much of it fits, its position among the package units sent (struct
 * reply pr).
 */
struct cmd_ref {
	size_t at;
	unsigned cmd_id;
	struct dms_cmd *c;
};

struct cmd_refs {
	struct cmd_ref *v;
	size_t n, cap;
};

struct dms {
	/* settings */
	char *server_id, *server_pw;
	char *client_name, *client_pw;
	enum dms_auth auth;
	const struct scws_dm_request *rq;	/* in dms_http: its request */
	uint8_t snonce[DMS_NONCE_MAX];
	size_t snonce_len;
	uint8_t cnonce[DMS_NONCE_MAX];
	size_t cnonce_len;
	enum dms_format format;
	uint32_t max_msg;

	struct dms_script *scripts;
	size_t n_scripts;
	size_t script;

	/* the notification that announced the next session */
	bool noti;
	uint16_t noti_sid;

	/* the session */
	enum dms_state state;
	char *sid;
	char *client_uri;
	char *client_name_loc;
	enum syncml_format in_fmt;
	size_t client_max;
	unsigned msg_id;		/* the server's last MsgID */
	unsigned client_msg;		/* the client's last MsgID */
	unsigned auth_fails;
	unsigned resends;
	size_t pkg_pos;			/* script index of the current package */
	size_t pkg_end;
	size_t *units;			/* top-level commands of the package */
	size_t n_units;
	bool pkg_abort;
	bool pkg_started;
	size_t next_unit;
	size_t data_off;		/* of units[next_unit], partly sent */
	bool sent_all;			/* the package's last message is out */
	struct cmd_refs refs;		/* at = MsgID */

	/* for the scenario */
	struct dms_session_info info;
	unsigned accepted, ended;
	enum dms_end last_end;
	bool failed;
	char failure[512];
};

static struct dms_cmd *const *cur_cmds(const struct dms *d, size_t *n);

/* --- helpers ----------------------------------------------------------- */

static void dms_fail(struct dms *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
dms_fail(struct dms *d, const char *fmt, ...)
{
	va_list ap;

	if (d->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(d->failure, sizeof(d->failure), fmt, ap);
	va_end(ap);
	d->failed = true;
	vuicc_verbose("dm: %s", d->failure);
}

static int
set_string(char **field, const char *s)
{
	char *c = s ? strdup(s) : NULL;

	if (s && c == NULL)
		return -ENOMEM;
	free(*field);
	*field = c;
	return 0;
}

const char *
dms_op_name(enum dms_op op)
{
	switch (op) {
	case DMS_OP_ADD: return "Add";
	case DMS_OP_REPLACE: return "Replace";
	case DMS_OP_DELETE: return "Delete";
	case DMS_OP_GET: return "Get";
	case DMS_OP_EXEC: return "Exec";
	case DMS_OP_COPY: return "Copy";
	case DMS_OP_ALERT: return "Alert";
	case DMS_OP_ATOMIC: return "Atomic";
	case DMS_OP_SEQUENCE: return "Sequence";
	case DMS_OP_END: return "end";
	case DMS_OP_ABORT: return "abort";
	case DMS_OP_PACKAGE: return "package";
	}
	return "?";
}

const char *
dms_end_name(enum dms_end how)
{
	switch (how) {
	case DMS_END_NONE: return "none";
	case DMS_END_COMPLETED: return "completed";
	case DMS_END_ABORTED: return "aborted";
	case DMS_END_CLIENT_ABORT: return "client-abort";
	case DMS_END_AUTH_FAILED: return "auth-failed";
	}
	return "?";
}

static const char *
state_name(enum dms_state st)
{
	switch (st) {
	case DMS_IDLE: return "IDLE";
	case DMS_AUTH: return "AUTH";
	case DMS_ACTIVE: return "ACTIVE";
	}
	return "?";
}

static void
dms_enter(struct dms *d, enum dms_state st)
{
	if (d->state != st)
		vuicc_verbose("dm: %s -> %s", state_name(d->state),
			      state_name(st));
	d->state = st;
}

/* "Get ./a (line 7)" for messages. */
static const char *
cmd_label(const struct dms_cmd *c, char *buf, size_t cap)
{
	if (c->op == DMS_OP_ALERT)
		snprintf(buf, cap, "Alert %u (line %u)", c->alert, c->line);
	else
		snprintf(buf, cap, "%s %s (line %u)", dms_op_name(c->op),
			 c->uri ? c->uri : "", c->line);
	return buf;
}

/* --- life cycle ----------------------------------------------------------- */

struct dms *
dms_new(void)
{
	struct dms *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->auth = DMS_AUTH_DIGEST;
	d->format = DMS_FORMAT_AUTO;
	d->max_msg = DMS_MAX_MSG_DEFAULT;
	return d;
}

static void
cmd_free(struct dms_cmd *c)
{
	if (c == NULL)
		return;
	free(c->uri);
	free(c->source);
	free(c->format);
	free(c->type);
	free(c->data);
	free(c->value);
	free(c->result);
	free(c);
}

static void
session_clear(struct dms *d)
{
	free(d->sid);
	free(d->client_uri);
	free(d->client_name_loc);
	free(d->units);
	free(d->refs.v);
	d->sid = d->client_uri = d->client_name_loc = NULL;
	d->units = NULL;
	memset(&d->refs, 0, sizeof(d->refs));
	d->n_units = 0;
	d->client_max = 0;
	d->msg_id = 0;
	d->client_msg = 0;
	d->auth_fails = 0;
	d->resends = 0;
	d->pkg_pos = d->pkg_end = 0;
	d->pkg_abort = false;
	d->pkg_started = false;
	d->next_unit = 0;
	d->data_off = 0;
	d->sent_all = false;
}

void
dms_free(struct dms *d)
{
	size_t i, j;

	if (d == NULL)
		return;
	session_clear(d);
	for (i = 0; i < d->n_scripts; i++) {
		for (j = 0; j < d->scripts[i].n; j++)
			cmd_free(d->scripts[i].cmds[j]);
		free(d->scripts[i].cmds);
	}
	free(d->scripts);
	free(d->server_id);
	free(d->server_pw);
	free(d->client_name);
	free(d->client_pw);
	free(d);
}

/* --- settings ------------------------------------------------------------- */

int
dms_set_server(struct dms *d, const char *id, const char *password)
{
	if (set_string(&d->server_id, id) < 0 ||
	    set_string(&d->server_pw, password) < 0)
		return -ENOMEM;
	return 0;
}

int
dms_set_client(struct dms *d, const char *name, const char *password)
{
	if (set_string(&d->client_name, name) < 0 ||
	    set_string(&d->client_pw, password) < 0)
		return -ENOMEM;
	return 0;
}

void
dms_set_auth(struct dms *d, enum dms_auth auth)
{
	d->auth = auth;
}

int
dms_set_nonce(struct dms *d, bool server, const uint8_t *p, size_t len)
{
	if (len > DMS_NONCE_MAX)
		return -ENOSPC;
	if (server) {
		if (len)
			memcpy(d->snonce, p, len);
		d->snonce_len = len;
	} else {
		if (len)
			memcpy(d->cnonce, p, len);
		d->cnonce_len = len;
	}
	return 0;
}

void
dms_set_format(struct dms *d, enum dms_format fmt)
{
	d->format = fmt;
}

void
dms_set_max_msg_size(struct dms *d, uint32_t n)
{
	d->max_msg = n;
}

/* --- scripts ---------------------------------------------------------------- */

struct dms_cmd *
dms_script_add(struct dms *d, size_t session, const struct dms_cmd *cmd)
{
	struct dms_script *s, *grown;
	struct dms_cmd **cg, *c;

	if (session >= d->n_scripts) {
		grown = realloc(d->scripts, (session + 1) * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		memset(grown + d->n_scripts, 0,
		       (session + 1 - d->n_scripts) * sizeof(*grown));
		d->scripts = grown;
		d->n_scripts = session + 1;
	}
	s = &d->scripts[session];
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;

		cg = realloc(s->cmds, cap * sizeof(*cg));
		if (cg == NULL)
			return NULL;
		s->cmds = cg;
		s->cap = cap;
	}
	c = malloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	*c = *cmd;
	s->cmds[s->n++] = c;
	return c;
}

void
dms_next_script(struct dms *d)
{
	d->script++;
}

static struct dms_cmd *const *
cur_cmds(const struct dms *d, size_t *n)
{
	if (d->script >= d->n_scripts) {
		*n = 0;
		return NULL;
	}
	*n = d->scripts[d->script].n;
	return d->scripts[d->script].cmds;
}

/* --- notification (OMA-TS-DM_Notification-V1_2) ------------------------- */

int
dms_notify(struct dms *d, const struct dms_notify_opts *o, uint8_t *out,
	   size_t cap)
{
	static const uint8_t zero[DM_NONCE_ZERO_LEN];
	struct dm_notification n;
	const char *id = o->server_id ? o->server_id : d->server_id;
	uint8_t rnd[2];
	int len;

	if (id == NULL || d->server_pw == NULL)
		return -EINVAL;
	memset(&n, 0, sizeof(n));
	n.version = o->version;
	n.ui_mode = o->ui_mode;
	n.server_initiated = true;
	if (o->session_id >= 0) {
		n.session_id = (uint16_t)o->session_id;
	} else {
		if (dm_nonce_generate(rnd, sizeof(rnd)) < 0)
			return -EIO;
		n.session_id = (uint16_t)(rnd[0] << 8 | rnd[1]);
	}
	if (strlen(id) > DM_NOTI_SERVER_ID_MAX)
		return -EINVAL;
	memcpy(n.server_id, id, strlen(id) + 1);
	len = dm_notification_encode(&n, out, cap);
	if (len < 0)
		return len;
	/* The digest covers the trigger: everything after the digest. */
	if (dm_notification_digest(id, d->server_pw,
				   o->zero_nonce ? zero : d->snonce,
				   o->zero_nonce ? sizeof(zero) : d->snonce_len,
				   out + DM_NOTI_DIGEST_LEN,
				   (size_t)len - DM_NOTI_DIGEST_LEN, out) < 0)
		return -EIO;
	if (o->bad_digest)
		out[0] ^= 0xFF;
	d->noti = true;
	d->noti_sid = n.session_id;
	vuicc_verbose("dm: Package#0, %d bytes, server %s, session %04X, ui %u%s%s",
		      len, id, n.session_id, n.ui_mode,
		      o->zero_nonce ? ", zero nonce" : "",
		      o->bad_digest ? ", bad digest" : "");
	return len;
}

/* --- reading the client's message ---------------------------------------- */

static unsigned
parse_uint(const char *s)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	v = strtoul(s, &end, 10);
	return *end == '\0' && v < 0xFFFFFFFFul ? (unsigned)v : 0;
}

/* One line per message under -v: its commands and statuses. */
static void
summarise(const char *dir, const struct syncml_msg *m, size_t bytes,
	  enum syncml_format fmt)
{
	char buf[1024];
	size_t len = 0;
	const struct syncml_cmd *c;

	if (!m)
		return;
	buf[0] = '\0';
	for (c = m->cmds; c != NULL && len < sizeof(buf) - 64; c = c->next) {
		int r;

		if (c->type == SYNCML_STATUS)
			r = snprintf(buf + len, sizeof(buf) - len,
				     " Status(%s %s/%s)=%u%s", c->cmd ? c->cmd : "?",
				     c->msg_ref ? c->msg_ref : "-",
				     c->cmd_ref ? c->cmd_ref : "?", c->code,
				     c->has_chal ? "+Chal" : "");
		else if (c->type == SYNCML_ALERT)
			r = snprintf(buf + len, sizeof(buf) - len, " Alert(%u)",
				     c->code);
		else
			r = snprintf(buf + len, sizeof(buf) - len, " %s%s%s",
				     syncml_cmd_name(c->type),
				     c->items && c->items->target.uri ? " " : "",
				     c->items && c->items->target.uri ?
				     c->items->target.uri : "");
		if (r < 0)
			break;
		len += (size_t)r;
		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
	}
	vuicc_verbose("dm: %s msg %s (%s, %zu bytes)%s%s%s", dir,
		      m->hdr.msg_id ? m->hdr.msg_id : "?",
		      fmt == SYNCML_XML ? "xml" : "wbxml", bytes,
		      m->hdr.has_cred ? " Cred" : "", buf,
		      m->final ? " Final" : "");
	/* a Generic Alert's items, as the server would file them */
	for (c = m->cmds; c != NULL; c = c->next) {
		const struct syncml_item *it;

		if (c->type != SYNCML_ALERT || c->code != 1226)
			continue;
		for (it = c->items; it != NULL; it = it->next)
			vuicc_verbose("dm: generic alert: source %s type %s "
				      "format %s mark %s data %.*s",
				      it->source.uri ? it->source.uri : "-",
				      it->meta.type ? it->meta.type : "-",
				      it->meta.format ? it->meta.format : "-",
				      it->meta.mark ? it->meta.mark : "-",
				      it->data.p ? (int)(it->data.len < 200 ?
				      it->data.len : 200) : 1,
				      it->data.p ? (const char *)it->data.p : "-");
	}
}

/* The NextNonce of a client's Chal becomes the server nonce. */
static void
take_chal(struct dms *d, const struct syncml_cmd *st)
{
	uint8_t n[DMS_NONCE_MAX];
	int r;

	if (!st->has_chal || st->chal.next_nonce == NULL)
		return;
	r = dm_b64_decode(n, sizeof(n), st->chal.next_nonce,
			  strlen(st->chal.next_nonce));
	if (r < 0) {
		vuicc_verbose("dm: NextNonce '%s' is not base64: ignored",
			      st->chal.next_nonce);
		return;
	}
	dms_set_nonce(d, true, n, (size_t)r);
	vuicc_verbose("dm: server nonce now %s", st->chal.next_nonce);
}

static struct dms_cmd *
find_ref(struct dms *d, unsigned msg, unsigned cmd_id)
{
	size_t i;

	for (i = d->refs.n; i-- > 0; )
		if (d->refs.v[i].cmd_id == cmd_id &&
		    (msg == 0 || d->refs.v[i].at == msg))
			return d->refs.v[i].c;
	return NULL;
}

static void
got_status(struct dms *d, const struct syncml_cmd *st)
{
	unsigned msg = parse_uint(st->msg_ref), ref = parse_uint(st->cmd_ref);
	struct dms_cmd *c = find_ref(d, msg, ref);
	char label[160];

	if (c == NULL)
		return;
	if (st->code == 213)		/* a chunk accepted, more to come */
		return;
	c->got = st->code;
	if (c->expect && c->expect != st->code)
		dms_fail(d, "%s: expected status %u, got %u",
			 cmd_label(c, label, sizeof(label)), c->expect,
			 st->code);
}

static void
got_results(struct dms *d, const struct syncml_cmd *rs)
{
	unsigned msg = parse_uint(rs->msg_ref), ref = parse_uint(rs->cmd_ref);
	struct dms_cmd *c = find_ref(d, msg, ref);
	const struct syncml_item *it;
	char label[160];
	uint8_t *grown;

	if (c == NULL)
		return;
	if (!c->result_more) {
		free(c->result);
		c->result = NULL;
		c->result_len = 0;
	}
	c->result_seen = true;
	c->result_more = false;
	for (it = rs->items; it != NULL; it = it->next) {
		if (it->data.p == NULL)
			continue;
		if (it->data.len > SYNCML_MAX_DATA * 64 - c->result_len)
			continue;
		grown = realloc(c->result, c->result_len + it->data.len + 1);
		if (grown == NULL)
			continue;
		c->result = grown;
		memcpy(c->result + c->result_len, it->data.p, it->data.len);
		c->result_len += it->data.len;
		c->result[c->result_len] = '\0';
		c->result_more = it->more_data;
	}
	if (c->result_more || c->value == NULL)
		return;
	if (c->result_len != c->value_len ||
	    (c->value_len && memcmp(c->result, c->value, c->value_len) != 0))
		dms_fail(d, "%s: expected value '%s', got '%.*s'%s",
			 cmd_label(c, label, sizeof(label)), c->value,
			 c->result_len > 200 ? 200 : (int)c->result_len,
			 c->result ? (const char *)c->result : "",
			 c->result_len > 200 ? "..." : "");
}

/* --- writing ---------------------------------------------------------------- */

/* The reply being built: the header, statuses and commands. */
struct reply {
	struct syncml_msg *m;
	unsigned next_id;
	size_t n_status;
	struct cmd_refs pr;		/* at = package unit */
};

static int
next_cmd_id(struct reply *r, char buf[16])
{
	snprintf(buf, 16, "%u", r->next_id++);
	return 0;
}

static struct syncml_cmd *
reply_cmd(struct reply *r, struct syncml_cmd *parent,
	  enum syncml_cmd_type type)
{
	char id[16];

	next_cmd_id(r, id);
	return syncml_cmd_add(r->m, parent, type, id);
}

static int
refs_add(struct cmd_refs *l, size_t at, unsigned cmd_id, struct dms_cmd *c)
{
	struct cmd_ref *g;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;

		g = realloc(l->v, cap * sizeof(*g));
		if (g == NULL)
			return -ENOMEM;
		l->v = g;
		l->cap = cap;
	}
	l->v[l->n].at = at;
	l->v[l->n].cmd_id = cmd_id;
	l->v[l->n].c = c;
	l->n++;
	return 0;
}

/*
 * The server's SyncHdr (DM Protocol 1.2 clause 9.1 / RepPro 6.1): VerDTD
 * 1.2, VerProto DM/1.2 (syncml_msg_new), the client's SessionID, a fresh
 * MsgID, Target = the client's Source, Source = ServerID, Cred per dm-auth
 * (DM Security 5.3: auth-basic or auth-md5 with the server nonce), Meta
 * MaxMsgSize.
 */
static int
reply_new(struct dms *d, const struct syncml_msg *in, struct reply *r)
{
	struct syncml_msg *m;
	char buf[64], cred[DM_AUTH_BASIC_MAX * 2];
	int n = 0;

	memset(r, 0, sizeof(*r));
	r->next_id = 1;
	if ((m = syncml_msg_new()) == NULL)
		return -ENOMEM;
	r->m = m;
	d->msg_id++;
	snprintf(buf, sizeof(buf), "%u", d->msg_id);
	if (syncml_set_str(m, &m->hdr.session_id, in->hdr.session_id ?
			   in->hdr.session_id : "0") < 0 ||
	    syncml_set_str(m, &m->hdr.msg_id, buf) < 0 ||
	    syncml_set_str(m, &m->hdr.target.uri, in->hdr.source.uri ?
			   in->hdr.source.uri : "unknown") < 0 ||
	    syncml_set_str(m, &m->hdr.source.uri, d->server_id ?
			   d->server_id : "dmsc-vuicc") < 0)
		return -ENOMEM;
	if (d->auth != DMS_AUTH_NONE && d->auth != DMS_AUTH_HMAC &&
	    d->server_id && d->server_pw) {
		const char *type;

		if (d->auth == DMS_AUTH_BASIC) {
			n = dm_auth_basic(cred, sizeof(cred), d->server_id,
					  d->server_pw);
			type = "syncml:auth-basic";
		} else {
			n = dm_auth_md5(cred, sizeof(cred), d->server_id,
					d->server_pw, d->snonce, d->snonce_len);
			type = "syncml:auth-md5";
		}
		if (n < 0)
			return n;
		m->hdr.has_cred = true;
		if (syncml_set_str(m, &m->hdr.cred.meta.type, type) < 0 ||
		    syncml_set_str(m, &m->hdr.cred.meta.format, "b64") < 0 ||
		    syncml_set_data(m, &m->hdr.cred.data, cred, (size_t)n,
				    false) < 0)
			return -ENOMEM;
	}
	m->hdr.meta.has |= SYNCML_META_MAXMSG;
	m->hdr.meta.max_msg_size = d->max_msg;
	return 0;
}

static void
reply_free(struct reply *r)
{
	syncml_msg_free(r->m);
	free(r->pr.v);
	memset(r, 0, sizeof(*r));
}

/* Chal with a fresh client nonce (DM Security 5.3), or for auth-basic. */
static int
add_chal(struct dms *d, struct syncml_msg *m, struct syncml_cmd *st)
{
	uint8_t n[DMS_NONCE_FRESH];
	char b64[DM_B64_CAP(DMS_NONCE_FRESH)];

	st->has_chal = true;
	if (syncml_set_str(m, &st->chal.format, "b64") < 0)
		return -ENOMEM;
	if (d->auth == DMS_AUTH_BASIC)
		return syncml_set_str(m, &st->chal.type, "syncml:auth-basic");
	if (dm_nonce_generate(n, sizeof(n)) < 0 ||
	    dm_b64_encode(b64, sizeof(b64), n, sizeof(n)) < 0)
		return -EIO;
	dms_set_nonce(d, false, n, sizeof(n));
	if (syncml_set_str(m, &st->chal.type, d->auth == DMS_AUTH_HMAC ?
			   "syncml:auth-MAC" : "syncml:auth-md5") < 0 ||
	    syncml_set_str(m, &st->chal.next_nonce, b64) < 0)
		return -ENOMEM;
	return 0;
}

/* Status for the client's SyncHdr (CmdRef 0). */
static struct syncml_cmd *
status_hdr(struct dms *d, struct reply *r, const struct syncml_msg *in,
	   unsigned code)
{
	struct syncml_msg *m = r->m;
	struct syncml_cmd *st = reply_cmd(r, NULL, SYNCML_STATUS);

	if (st == NULL ||
	    syncml_set_str(m, &st->msg_ref, in->hdr.msg_id) < 0 ||
	    syncml_set_str(m, &st->cmd_ref, "0") < 0 ||
	    syncml_set_str(m, &st->cmd, "SyncHdr") < 0 ||
	    (in->hdr.target.uri &&
	     syncml_set_str(m, &st->target_ref, in->hdr.target.uri) < 0) ||
	    (in->hdr.source.uri &&
	     syncml_set_str(m, &st->source_ref, in->hdr.source.uri) < 0))
		return NULL;
	st->code = code;
	r->n_status++;
	(void)d;
	return st;
}

/*
 * Statuses for the client's commands: 200 for each (Results and Status get
 * none, RepPro 6.3); 213 for a Results chunk with MoreData.
 */
static int
status_cmds(struct reply *r, const struct syncml_msg *in)
{
	const struct syncml_cmd *c;
	struct syncml_cmd *st;
	struct syncml_msg *m = r->m;
	unsigned code;

	for (c = in->cmds; c != NULL; c = c->next) {
		if (c->type == SYNCML_STATUS || c->no_resp)
			continue;
		code = 200;
		if (c->type == SYNCML_RESULTS) {
			if (!(c->items && c->items->more_data))
				continue;
			code = 213;
		}
		st = reply_cmd(r, NULL, SYNCML_STATUS);
		if (st == NULL ||
		    syncml_set_str(m, &st->msg_ref, in->hdr.msg_id) < 0 ||
		    syncml_set_str(m, &st->cmd_ref, c->cmd_id) < 0 ||
		    syncml_set_str(m, &st->cmd, syncml_cmd_name(c->type)) < 0 ||
		    (c->items && c->items->target.uri &&
		     syncml_set_str(m, &st->target_ref,
				    c->items->target.uri) < 0))
			return -ENOMEM;
		st->code = code;
		r->n_status++;
	}
	return 0;
}

static int
add_alert(struct reply *r, unsigned code)
{
	struct syncml_cmd *a = reply_cmd(r, NULL, SYNCML_ALERT);

	if (a == NULL)
		return -ENOMEM;
	a->code = code;
	return 0;
}

/* One scripted command (and what an Atomic/Sequence holds) into r. */
static int
build_cmd(struct dms *d, struct reply *r, struct syncml_cmd *parent,
	  struct dms_cmd *const *cmds, size_t n, size_t *i, size_t unit,
	  size_t data_off)
{
	static const enum syncml_cmd_type types[] = {
		[DMS_OP_ADD] = SYNCML_ADD, [DMS_OP_REPLACE] = SYNCML_REPLACE,
		[DMS_OP_DELETE] = SYNCML_DELETE, [DMS_OP_GET] = SYNCML_GET,
		[DMS_OP_EXEC] = SYNCML_EXEC, [DMS_OP_COPY] = SYNCML_COPY,
		[DMS_OP_ALERT] = SYNCML_ALERT, [DMS_OP_ATOMIC] = SYNCML_ATOMIC,
		[DMS_OP_SEQUENCE] = SYNCML_SEQUENCE,
	};
	struct dms_cmd *c = cmds[*i];
	struct syncml_msg *m = r->m;
	struct syncml_cmd *sc;
	struct syncml_item *it;
	unsigned id = r->next_id;

	(void)d;
	if (c->op > DMS_OP_SEQUENCE)
		return -EINVAL;
	sc = reply_cmd(r, parent, types[c->op]);
	if (sc == NULL || refs_add(&r->pr, unit, id, c) < 0)
		return -ENOMEM;
	(*i)++;
	if (c->op == DMS_OP_ATOMIC || c->op == DMS_OP_SEQUENCE) {
		while (*i < n && cmds[*i]->op != DMS_OP_END &&
		       cmds[*i]->op != DMS_OP_PACKAGE &&
		       cmds[*i]->op != DMS_OP_ABORT) {
			int e = build_cmd(d, r, sc, cmds, n, i, unit, 0);

			if (e < 0)
				return e;
		}
		if (*i < n && cmds[*i]->op == DMS_OP_END)
			(*i)++;
		return 0;
	}
	if (c->op == DMS_OP_ALERT) {
		sc->code = c->alert;
		/* RepPro 6.6.2: first the options item, then the text. */
		if (c->alert >= 1100 && c->alert <= 1104) {
			if ((it = syncml_item_add(m, sc)) == NULL ||
			    syncml_set_data(m, &it->data, "", 0, false) < 0)
				return -ENOMEM;
		}
		if (c->data) {
			if ((it = syncml_item_add(m, sc)) == NULL ||
			    syncml_set_data(m, &it->data, c->data, c->len,
					    false) < 0)
				return -ENOMEM;
		}
		return 0;
	}
	if ((it = syncml_item_add(m, sc)) == NULL ||
	    syncml_set_str(m, &it->target.uri, c->uri) < 0)
		return -ENOMEM;
	if (c->source && syncml_set_str(m, &it->source.uri, c->source) < 0)
		return -ENOMEM;
	if ((c->format && syncml_set_str(m, &it->meta.format, c->format) < 0) ||
	    (c->type && syncml_set_str(m, &it->meta.type, c->type) < 0))
		return -ENOMEM;
	if (c->data) {
		if (data_off > c->len)
			data_off = c->len;
		if (syncml_set_data(m, &it->data, c->data + data_off,
				    c->len - data_off, c->opaque) < 0)
			return -ENOMEM;
		it->continued = data_off > 0;
	}
	return 0;
}

/* The current package's top-level commands, from d->pkg_pos. */
static int
package_load(struct dms *d)
{
	struct dms_cmd *const *cmds;
	size_t n, i, depth = 0;

	cmds = cur_cmds(d, &n);
	free(d->units);
	d->units = NULL;
	d->n_units = 0;
	d->pkg_abort = false;
	d->next_unit = 0;
	d->data_off = 0;
	d->sent_all = false;
	if (d->pkg_pos >= n) {
		d->pkg_end = n;
		return 0;
	}
	d->units = calloc(n - d->pkg_pos + 1, sizeof(*d->units));
	if (d->units == NULL)
		return -ENOMEM;
	for (i = d->pkg_pos; i < n && cmds[i]->op != DMS_OP_PACKAGE; i++) {
		switch (cmds[i]->op) {
		case DMS_OP_ABORT:
			d->pkg_abort = true;
			break;
		case DMS_OP_END:
			if (depth > 0)
				depth--;
			break;
		case DMS_OP_ATOMIC:
		case DMS_OP_SEQUENCE:
			if (depth++ == 0)
				d->units[d->n_units++] = i;
			break;
		default:
			if (depth == 0)
				d->units[d->n_units++] = i;
			break;
		}
	}
	d->pkg_end = i;
	return 0;
}

/* Move to the next package with something in it; false when none is left. */
static bool
package_next(struct dms *d)
{
	size_t n;

	cur_cmds(d, &n);
	for (;;) {
		if (d->pkg_started) {
			if (d->pkg_end >= n)
				return false;
			d->pkg_pos = d->pkg_end + 1;	/* skip dm-package */
		}
		d->pkg_started = true;
		if (package_load(d) < 0)
			return false;
		if (d->n_units > 0 || d->pkg_abort)
			return true;
		if (d->pkg_end >= n)
			return false;
	}
}

/* Add the package's commands from next_unit on; returns the first unit. */
static int
add_package(struct dms *d, struct reply *r)
{
	struct dms_cmd *const *cmds;
	size_t n, u, i;
	int e;

	cmds = cur_cmds(d, &n);
	for (u = d->next_unit; u < d->n_units; u++) {
		i = d->units[u];
		e = build_cmd(d, r, NULL, cmds, n, &i, u - d->next_unit,
			      u == d->next_unit ? d->data_off : 0);
		if (e < 0)
			return e;
	}
	if (d->pkg_abort)
		return add_alert(r, SYNCML_ALERT_SESSION_ABORT);
	return 0;
}

static void
session_end(struct dms *d, enum dms_end how)
{
	vuicc_verbose("dm: session %s ended: %s", d->sid ? d->sid : "?",
		      dms_end_name(how));
	d->ended++;
	d->last_end = how;
	session_clear(d);
	d->noti = false;
	dms_enter(d, DMS_IDLE);
}

/*
 * Encode r into the HTTP answer.  With package (the statuses come first,
 * then the package's commands from next_unit), as much as fits into the
 * client's MaxMsgSize; the rest goes in the next message.
 */
static int
reply_send(struct dms *d, struct reply *r, bool package, bool final,
	   struct scws_dm_response *resp)
{
	enum syncml_format fmt = d->format == DMS_FORMAT_XML ? SYNCML_XML :
				 d->format == DMS_FORMAT_WBXML ? SYNCML_WBXML :
				 d->in_fmt;
	struct buf out = { 0 };
	struct syncml_cursor cur = { 0, 0 };
	size_t max = d->client_max ? d->client_max : DMS_OUT_MAX;
	size_t sent_units, i, n_pkg;
	bool done = true;
	int e;

	r->m->final = final;
	e = syncml_encode_split(r->m, fmt, max, &cur, &out, &done);
	if (e == -E2BIG) {
		dms_fail(d, "the client's MaxMsgSize %zu is too small for a "
			 "message", max);
		buf_free(&out);
		out = (struct buf){ 0 };
		cur = (struct syncml_cursor){ 0, 0 };
		e = syncml_encode_split(r->m, fmt, DMS_OUT_MAX, &cur, &out,
					&done);
	}
	if (e < 0) {
		buf_free(&out);
		return e;
	}
	if (cur.cmd < r->n_status && !done)
		dms_fail(d, "the statuses do not fit into the client's "
			 "MaxMsgSize %zu", max);
	if (package) {
		n_pkg = syncml_cmd_count(r->m) - r->n_status;
		sent_units = done ? n_pkg : cur.cmd - r->n_status;
		for (i = 0; i < r->pr.n; i++)
			if (r->pr.v[i].at < sent_units ||
			    (r->pr.v[i].at == sent_units && cur.data_off > 0))
				refs_add(&d->refs, d->msg_id,
					 r->pr.v[i].cmd_id, r->pr.v[i].c);
		if (done) {
			d->next_unit = d->n_units;
			d->data_off = 0;
			d->sent_all = true;
		} else {
			if (sent_units == 0)
				d->data_off += cur.data_off;
			else
				d->data_off = cur.data_off;
			d->next_unit += sent_units;
		}
	}
	{
		struct syncml_msg *shown = NULL;
		struct syncml_error err;

		if (syncml_parse(fmt, out.p, out.len, &shown, &err) == 0)
			summarise("->", shown, out.len, fmt);
		syncml_msg_free(shown);
	}
	resp->status = 200;
	snprintf(resp->content_type, sizeof(resp->content_type), "%s",
		 fmt == SYNCML_XML ? CT_XML : CT_WBXML);
	resp->body = out.p;
	resp->len = out.len;
	/* DM Security 5.5: the server's MAC, keyed with the nonce it got */
	if (d->auth == DMS_AUTH_HMAC && d->server_id && d->server_pw &&
	    dm_hmac_header(resp->hmac, sizeof(resp->hmac), d->server_id,
			   d->server_pw, d->snonce, d->snonce_len, out.p,
			   out.len) < 0)
		resp->hmac[0] = '\0';
	return 0;
}

/* --- the session ------------------------------------------------------------ */

/* The package, as much of it as fits; an aborted one ends the session. */
static int
send_package(struct dms *d, struct reply *r, struct scws_dm_response *resp)
{
	int e;

	if ((e = add_package(d, r)) < 0 ||
	    (e = reply_send(d, r, true, true, resp)) < 0)
		return e;
	if (d->sent_all && d->pkg_abort)
		session_end(d, DMS_END_ABORTED);
	return 0;
}

/* The statuses (and what else r holds) with Final, and the session ends. */
static int
send_last(struct dms *d, struct reply *r, struct scws_dm_response *resp,
	  enum dms_end how)
{
	int e;

	if ((e = reply_send(d, r, false, true, resp)) < 0)
		return e;
	session_end(d, how);
	return 0;
}

static const struct syncml_cmd *
find_alert(const struct syncml_msg *m, unsigned lo, unsigned hi)
{
	const struct syncml_cmd *c;

	for (c = m->cmds; c != NULL; c = c->next)
		if (c->type == SYNCML_ALERT && c->code >= lo && c->code <= hi)
			return c;
	return NULL;
}

static bool
has_devinfo(const struct syncml_msg *m)
{
	const struct syncml_cmd *c;
	const struct syncml_item *it;

	for (c = m->cmds; c != NULL; c = c->next)
		if (c->type == SYNCML_REPLACE)
			for (it = c->items; it; it = it->next) {
				const char *u = it->source.uri ? it->source.uri :
						it->target.uri;

				if (u && (strncmp(u, "./DevInfo/", 10) == 0 ||
					  strncmp(u, "DevInfo/", 8) == 0))
					return true;
			}
	return false;
}

/*
 * The client's Cred (DM Security 5.3): 0 accepted, 407 missing, 401
 * wrong.
 */
static unsigned
check_cred(struct dms *d, const struct syncml_msg *in)
{
	const char *type, *want;
	struct dm_hmac mac;
	int r;

	if (d->auth == DMS_AUTH_HMAC) {
		/* DM Security 5.5: the MAC of the body, keyed with our nonce */
		if (d->rq == NULL || d->rq->hmac == NULL)
			return 407;
		if (d->client_name == NULL || d->client_pw == NULL ||
		    dm_hmac_parse(d->rq->hmac, &mac) < 0)
			return 401;
		r = dm_hmac_verify(&mac, d->client_name, d->client_pw,
				   d->cnonce, d->cnonce_len, d->rq->body,
				   d->rq->len);
		return r == 0 ? 0 : 401;
	}
	if (!in->hdr.has_cred || in->hdr.cred.data.p == NULL)
		return 407;
	type = in->hdr.cred.meta.type ? in->hdr.cred.meta.type :
	       "syncml:auth-basic";
	want = d->auth == DMS_AUTH_BASIC ? "syncml:auth-basic" :
	       "syncml:auth-md5";
	if (strcmp(type, want) != 0 || d->client_name == NULL ||
	    d->client_pw == NULL)
		return 401;
	r = dm_cred_check(type, (const char *)in->hdr.cred.data.p,
			  d->client_name, d->client_pw, d->cnonce,
			  d->cnonce_len);
	return r == 0 ? 0 : 401;
}

/* A Package#1 (DM Protocol 1.2 clause 8.3): authenticate, then answer. */
static int
package1(struct dms *d, const struct syncml_msg *in, struct reply *r,
	 struct scws_dm_response *resp)
{
	const struct syncml_cmd *alert = find_alert(in, 1200, 1201);
	struct syncml_cmd *st;
	unsigned code = 0;
	int e;

	if (set_string(&d->sid, in->hdr.session_id) < 0 ||
	    set_string(&d->client_uri, in->hdr.source.uri) < 0)
		return -ENOMEM;
	if (in->hdr.meta.has & SYNCML_META_MAXMSG)
		d->client_max = in->hdr.meta.max_msg_size;
	if (d->auth != DMS_AUTH_NONE)
		code = check_cred(d, in);
	if ((e = reply_new(d, in, r)) < 0)
		return e;
	if (code != 0) {
		d->auth_fails++;
		vuicc_verbose("dm: client credentials %s (%u of %u)",
			      code == 407 ? "missing" : "refused",
			      d->auth_fails, DMS_AUTH_TRIES);
		if ((st = status_hdr(d, r, in, code)) == NULL)
			return -ENOMEM;
		if (d->auth_fails < DMS_AUTH_TRIES && add_chal(d, r->m, st) < 0)
			return -ENOMEM;
		if ((e = reply_send(d, r, false, true, resp)) < 0)
			return e;
		if (d->auth_fails >= DMS_AUTH_TRIES)
			session_end(d, DMS_END_AUTH_FAILED);
		else
			dms_enter(d, DMS_AUTH);
		return 0;
	}
	/* Accepted. */
	dms_enter(d, DMS_ACTIVE);
	d->accepted++;
	memset(&d->info, 0, sizeof(d->info));
	d->info.alert = alert ? alert->code : 0;
	d->info.wbxml = d->in_fmt == SYNCML_WBXML;
	d->info.devinfo = has_devinfo(in);
	snprintf(d->info.session_id, sizeof(d->info.session_id), "%s",
		 in->hdr.session_id ? in->hdr.session_id : "");
	d->info.noti_sent = d->noti;
	if (d->noti)
		dm_notification_session_id_str(d->noti_sid,
					       d->info.noti_session_id);
	if ((st = status_hdr(d, r, in, d->auth == DMS_AUTH_NONE ? 200 : 212))
	    == NULL)
		return -ENOMEM;
	if ((d->auth == DMS_AUTH_DIGEST || d->auth == DMS_AUTH_HMAC) &&
	    add_chal(d, r->m, st) < 0)
		return -ENOMEM;
	if (status_cmds(r, in) < 0)
		return -ENOMEM;
	d->pkg_started = false;
	d->pkg_pos = 0;
	if (!package_next(d)) {
		/* Nothing to do: Status + Final ends the session. */
		return send_last(d, r, resp, DMS_END_COMPLETED);
	}
	return send_package(d, r, resp);
}

/* A later message of an ACTIVE session. */
static int
next_message(struct dms *d, const struct syncml_msg *in, struct reply *r,
	     struct scws_dm_response *resp)
{
	const struct syncml_cmd *c, *hdr_st = NULL;
	int e;

	if (in->hdr.meta.has & SYNCML_META_MAXMSG)
		d->client_max = in->hdr.meta.max_msg_size;
	for (c = in->cmds; c != NULL; c = c->next) {
		if (c->type == SYNCML_STATUS && c->cmd_ref &&
		    strcmp(c->cmd_ref, "0") == 0) {
			hdr_st = c;
			take_chal(d, c);
		} else if (c->type == SYNCML_STATUS) {
			got_status(d, c);
		} else if (c->type == SYNCML_RESULTS) {
			got_results(d, c);
		}
	}
	if ((e = reply_new(d, in, r)) < 0)
		return e;
	if (status_hdr(d, r, in, 200) == NULL || status_cmds(r, in) < 0)
		return -ENOMEM;
	if (find_alert(in, SYNCML_ALERT_SESSION_ABORT,
		       SYNCML_ALERT_SESSION_ABORT))
		return send_last(d, r, resp, DMS_END_CLIENT_ABORT);
	if (hdr_st && (hdr_st->code == 401 || hdr_st->code == 407)) {
		/* The client refused our credentials: again, new Cred. */
		if (++d->resends > DMS_RESENDS) {
			if ((e = add_alert(r, SYNCML_ALERT_SESSION_ABORT)) < 0)
				return e;
			return send_last(d, r, resp, DMS_END_ABORTED);
		}
		vuicc_verbose("dm: the client refused the server's "
			      "credentials (%u): the package again", d->resends);
		/* The Cred was built with the old nonce: build anew. */
		syncml_msg_free(r->m);
		free(r->pr.v);
		d->msg_id--;
		if ((e = reply_new(d, in, r)) < 0)
			return e;
		if (status_hdr(d, r, in, 200) == NULL ||
		    status_cmds(r, in) < 0)
			return -ENOMEM;
		d->next_unit = 0;
		d->data_off = 0;
		d->sent_all = false;
		return send_package(d, r, resp);
	}
	if (!in->final && !find_alert(in, SYNCML_ALERT_NEXT_MESSAGE,
				      SYNCML_ALERT_NEXT_MESSAGE)) {
		/*
		 * The client has more in this package: ask for it.  Its
		 * answer to a message of ours without Final has no Final
		 * either (DM Protocol 1.2 6.2: the client MUST NOT close its
		 * package before the server closed its own) but asks for
		 * our next message with Alert 1222.
		 */
		if ((e = add_alert(r, SYNCML_ALERT_NEXT_MESSAGE)) < 0 ||
		    (e = reply_send(d, r, false, false, resp)) < 0)
			return e;
		return 0;
	}
	if (!d->sent_all) {
		/* The rest of a package that did not fit. */
		return send_package(d, r, resp);
	}
	if (!package_next(d))
		return send_last(d, r, resp, DMS_END_COMPLETED);
	return send_package(d, r, resp);
}

static void
http_error(struct scws_dm_response *resp, int status, const char *text)
{
	size_t l = strlen(text);

	resp->status = status;
	snprintf(resp->content_type, sizeof(resp->content_type),
		 "text/plain; charset=utf-8");
	resp->body = malloc(l + 1);
	if (resp->body) {
		memcpy(resp->body, text, l);
		resp->body[l] = '\n';
		resp->len = l + 1;
	}
}

void
dms_http(void *ctx, const struct scws_dm_request *rq,
	 struct scws_dm_response *resp)
{
	struct dms *d = ctx;
	struct syncml_msg *in = NULL;
	struct syncml_error err;
	struct reply r;
	enum syncml_format fmt;
	unsigned msg_id;
	int e;

	memset(&r, 0, sizeof(r));
	fmt = strncasecmp(rq->content_type, CT_WBXML, strlen(CT_WBXML)) == 0 ?
	      SYNCML_WBXML : SYNCML_XML;
	if (rq->len > d->max_msg)
		dms_fail(d, "a client message of %zu bytes is above the "
			 "server's MaxMsgSize %u", rq->len, d->max_msg);
	d->rq = rq;
	if (d->auth != DMS_AUTH_HMAC && rq->hmac)
		vuicc_verbose("dm: x-syncml-hmac present, not checked");
	memset(&err, 0, sizeof(err));
	if (syncml_parse(fmt, rq->body, rq->len, &in, &err) < 0) {
		vuicc_verbose("dm: <- undecodable %s message (%zu bytes): %s "
			      "(status %d)", fmt == SYNCML_XML ? "xml" : "wbxml",
			      rq->len, err.text, err.status);
		http_error(resp, 400, "undecodable SyncML message");
		return;
	}
	summarise("<-", in, rq->len, fmt);
	msg_id = parse_uint(in->hdr.msg_id);
	if (d->state != DMS_ACTIVE || (msg_id == 1 && find_alert(in, 1200, 1201))) {
		if (d->state == DMS_ACTIVE) {
			/* A new Package#1: the old session is abandoned. */
			vuicc_verbose("dm: session %s abandoned", d->sid);
			session_clear(d);
			dms_enter(d, DMS_IDLE);
		}
		if (!find_alert(in, 1200, 1201)) {
			vuicc_verbose("dm: a message outside a session: 403");
			d->in_fmt = fmt;
			if ((e = reply_new(d, in, &r)) < 0 ||
			    status_hdr(d, &r, in, 403) == NULL ||
			    (e = reply_send(d, &r, false, true, resp)) < 0)
				http_error(resp, 500, "out of memory");
			d->msg_id = 0;
			goto out;
		}
		if (d->state == DMS_IDLE)
			session_clear(d);
		d->in_fmt = fmt;
		e = package1(d, in, &r, resp);
	} else {
		d->in_fmt = fmt;
		/* with HMAC every message carries the client's MAC */
		if (d->auth == DMS_AUTH_HMAC && check_cred(d, in) != 0)
			dms_fail(d, "client message %u: x-syncml-hmac %s",
				 msg_id, rq->hmac ? "does not verify" : "missing");
		e = next_message(d, in, &r, resp);
	}
	if (e < 0) {
		vuicc_verbose("dm: cannot answer: %s", strerror(-e));
		free(resp->body);
		resp->body = NULL;
		resp->len = 0;
		http_error(resp, 500, "server error");
	}
out:
	d->client_msg = msg_id;
	d->rq = NULL;
	reply_free(&r);
	syncml_msg_free(in);
}

/* --- checks ------------------------------------------------------------------- */

unsigned
dms_sessions_accepted(const struct dms *d, struct dms_session_info *info)
{
	if (info)
		*info = d->info;
	return d->accepted;
}

unsigned
dms_sessions_ended(const struct dms *d, enum dms_end *how)
{
	if (how)
		*how = d->last_end;
	return d->ended;
}

const char *
dms_take_failure(struct dms *d)
{
	static char buf[sizeof(((struct dms *)0)->failure)];

	if (!d->failed)
		return NULL;
	memcpy(buf, d->failure, sizeof(buf));
	d->failed = false;
	d->failure[0] = '\0';
	return buf;
}

const char *
dms_check_expects(struct dms *d)
{
	static char buf[256];
	struct dms_cmd *const *cmds;
	char label[160];
	size_t n, i;

	cmds = cur_cmds(d, &n);
	for (i = 0; i < n; i++) {
		const struct dms_cmd *c = cmds[i];

		if (c->expect && c->got != c->expect) {
			if (c->got)
				snprintf(buf, sizeof(buf), "%s: expected status "
					 "%u, got %u", cmd_label(c, label,
					 sizeof(label)), c->expect, c->got);
			else
				snprintf(buf, sizeof(buf), "%s: expected status "
					 "%u, got none", cmd_label(c, label,
					 sizeof(label)), c->expect);
			return buf;
		}
		if (c->value && (!c->result_seen || c->result_more)) {
			snprintf(buf, sizeof(buf), "%s: expected value '%.60s', "
				 "got no Results", cmd_label(c, label,
				 sizeof(label)), c->value);
			return buf;
		}
	}
	return NULL;
}

unsigned
dms_status_of(const struct dms *d, const char *uri)
{
	struct dms_cmd *const *cmds;
	size_t n, i;
	unsigned got = 0;

	cmds = cur_cmds(d, &n);
	for (i = 0; i < n; i++)
		if (cmds[i]->uri && strcmp(cmds[i]->uri, uri) == 0 &&
		    cmds[i]->got)
			got = cmds[i]->got;
	return got;
}
