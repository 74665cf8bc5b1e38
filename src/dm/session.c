/* SPDX-License-Identifier: MIT */
/*
 * OMA DM 1.2 session, client side: one explicit state machine.
 *
 *   CONNECTING       Package#1 posted, no answer yet
 *   SENDING          a server message is executed, our answer built and posted
 *   AWAITING_ANSWER  a message posted, waiting for the server's answer
 *   CHALLENGED       the server refused our credentials: sending again
 *   AWAITING_UI      a user-interaction alert waits for the UI agent
 *   AWAITING_AGENT   an Exec waits for the agent that serves its node
 *   SAVING           the tree is being made durable before our message
 *                    (or the end of the session) acknowledges it
 *   ABORTING         our Alert 1223 posted
 *   DONE             finished, with a result
 *
 * Each server message is authenticated, its Status for our SyncHdr read
 * first (it decides what our reply carries), its commands executed
 * (dm/exec.c) and answered through the outbox (dm/outbox.c), which cuts
 * our package into messages of the server's MaxMsgSize and keeps what the
 * server has not acknowledged, so a challenge never loses it.  The
 * states in which the session waits for its owner (the UI agent, an Exec
 * agent, the disk) and the answers that resume it are in session_wait.c.
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

#include "dm/creds.h"
#include "dm/exec.h"
#include "dm/http.h"
#include "syncml/notification.h"
#include "dm/outbox.h"
#include "dm/session_int.h"
#include "dm/ui.h"
#include "log.h"
#include "util/errbuf.h"

#define MIN_MSG_SIZE	512	/* a smaller MaxMsgSize cannot carry a Status */

static const char *const state_names[] = {
	[S_CONNECTING] = "connecting",
	[S_SENDING] = "sending",
	[S_AWAITING_ANSWER] = "awaiting-answer",
	[S_CHALLENGED] = "challenged",
	[S_AWAITING_UI] = "awaiting-ui",
	[S_AWAITING_AGENT] = "awaiting-agent",
	[S_SAVING] = "saving",
	[S_ABORTING] = "aborting",
	[S_DONE] = "finished",
};

/* How the server answered our SyncHdr (DM Protocol 1.2 clause 9.1). */
enum hdr_verdict {
	HDR_ACCEPTED,		/* 200 or 212: the last message is taken */
	HDR_CHALLENGED,		/* 401 or 407: send it again */
	HDR_FATAL,		/* the session has ended */
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
		[DM_RESULT_SAVE] = "save-failed",
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

int dm_session_transport_err(const struct dm_session *s)
{
	return s->transport_err;
}

unsigned dm_session_commands(const struct dm_session *s)
{
	return dm_exec_count(s->ex);
}

/* The one place the state changes. */
void session_enter(struct dm_session *s, enum state st)
{
	if (s->state == st)
		return;
	log_debug(LOG_DM, "session %s with %s: %s -> %s", s->sid,
		  s->acc.server_id, state_names[s->state], state_names[st]);
	s->state = st;
}

/* The tree changed: have it saved, not waiting (the session ends). */
static void note_changed(struct dm_session *s)
{
	bool changed = dm_creds_stored(&s->cr);

	if ((dm_exec_changed(s->ex) || changed) && s->changed_cb)
		(void)s->changed_cb(s->arg, s);
}

void session_finish(struct dm_session *s, enum dm_session_result r,
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
	session_enter(s, S_DONE);
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

void session_nomem(struct dm_session *s)
{
	session_finish(s, DM_RESULT_PROTOCOL, "out of memory");
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
	if (s->want_chal && s->hdr_st &&
	    (r = dm_creds_chal(&s->cr, s->out, s->hdr_st)) < 0)
		return r;
	return dm_creds_put(&s->cr, s->out);
}

static void post_done(void *arg, int err, const char *msg,
		      const struct dm_http_response *resp);

/* POST the held message. */
void session_post_held(struct dm_session *s)
{
	const char *ct = dm_http_content_type(s->cfg.format);
	int r;

	log_debug(LOG_DM, "session %s: message %u, %zu bytes%s", s->sid,
		  s->msg_id, s->held.len,
		  dm_outbox_empty(s->ob) ? "" : " (more to come)");
	if (log_hexdump_enabled(LOG_DM))
		log_hex(LOG_DM, "DM out", s->held.p, s->held.len);
	r = s->tr->post(s->http, ct, s->held_has_hmac ? s->held_hmac : NULL,
			s->held.p, s->held.len, post_done, s);
	buf_free(&s->held);
	memset(&s->held, 0, sizeof(s->held));
	if (r < 0) {
		session_finish(s, DM_RESULT_TRANSPORT, "cannot post: %s",
			       strerror(-r));
		return;
	}
	if (s->state != S_ABORTING && s->state != S_CONNECTING)
		session_enter(s, S_AWAITING_ANSWER);
}

/* Encode our next message, s->out and what the outbox holds; POST it. */
static void send_message(struct dm_session *s)
{
	size_t max = s->server_max_msg ? s->server_max_msg : SIZE_MAX;
	bool final;
	int r;

	if ((r = new_out(s)) < 0 || (r = seal_out(s)) < 0) {
		session_finish(s, DM_RESULT_PROTOCOL,
			       "cannot build message %u: %s", s->msg_id,
			       strerror(-r));
		return;
	}
	/*
	 * DM Protocol 1.2 6.2: no Final before the server closed its
	 * package; the outbox adds it only when nothing is left.  The
	 * sender of Alert 1223 includes Final (clause 8).
	 */
	final = s->server_closed || s->state == S_ABORTING;
	buf_free(&s->held);
	memset(&s->held, 0, sizeof(s->held));
	r = dm_outbox_encode(s->ob, s->out, s->cfg.format, max, final,
			     &s->held);
	s->out = NULL;		/* the outbox's now */
	s->hdr_st = NULL;
	if (r < 0) {
		session_finish(s, DM_RESULT_PROTOCOL,
			       "cannot encode message %u: %s", s->msg_id,
			       strerror(-r));
		return;
	}
	s->held_has_hmac = dm_creds_hmac(&s->cr, false);
	if (s->held_has_hmac &&
	    (r = dm_creds_hmac_header(&s->cr, s->held.p, s->held.len,
				      s->held_hmac, sizeof(s->held_hmac))) < 0) {
		session_finish(s, DM_RESULT_AUTH, "cannot make the HMAC: %s",
			       strerror(-r));
		return;
	}
	s->finish_when_saved = false;
	if (!session_wait_for_save(s))
		session_post_held(s);
}

/* ------------------------------------------------------------------------ */
/* Package#1                                                                */

/* Alert 1200/1201, DevInfo and a report, into s->out (clause 8.2.1). */
static int package1(struct dm_session *s)
{
	if (new_out(s) < 0 ||
	    dm_exec_package1(s->ex, s->cfg.server_initiated, s->cfg.report) < 0)
		return -ENOMEM;
	s->package1 = true;
	s->server_closed = true;	/* no server package yet to wait for */
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The server's messages                                                    */

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
		dm_creds_next_nonce(&s->cr, nn, trusted);
	switch (c->code) {
	case DM_ST_AUTH_ACCEPTED:
		/* "no further authentication is needed for the remainder
		 * of the DM session"; a NextNonce is for the next one */
		s->cr.done = true;
		/* fall through */
	case DM_ST_OK:
		/* 200: "the same credentials MUST be sent within the next
		 * request", with the next nonce */
		s->package1 = false;
		dm_outbox_ack(s->ob);
		return HDR_ACCEPTED;
	case DM_ST_INVALID_CRED:
	case DM_ST_MISSING_CRED:
		s->cr.done = false;
		if (++s->client_fails > s->cfg.auth_retries) {
			session_finish(s, DM_RESULT_AUTH, "the server refused "
				       "our credentials (%u)", c->code);
			return HDR_FATAL;
		}
		log_info(LOG_DM, "session %s: the server asks for credentials "
			 "again (%u)%s", s->sid, c->code,
			 s->package1 ? ": Package#1 again" :
				       ": the message again");
		return HDR_CHALLENGED;
	default:
		session_finish(s, DM_RESULT_PROTOCOL,
			       "the server answered our header with %u",
			       c->code);
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
	} else if (dm_creds_hmac(&s->cr, true) && !s->package1) {
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
		session_nomem(s);
		return;
	}
	al->code = SYNCML_ALERT_SESSION_ABORT;
	s->result = r;
	snprintf(s->error, sizeof(s->error), "%s", why);
	session_enter(s, S_ABORTING);
	send_message(s);
}

/*
 * The tree could not be made durable.  The message that would have
 * acknowledged it is dropped; instead the session ends with Alert 1223
 * (DM Protocol 1.2 clause 8) and a Status for the server's SyncHdr only,
 * so the server gets no Status for commands whose effect may be lost: it
 * must treat them as not done.  Nothing else is saved meanwhile: the
 * owner retries the save on its own.
 */
void session_save_failed(struct dm_session *s, const char *why)
{
	char err[120];

	snprintf(err, sizeof(err), "the tree could not be saved: %s", why);
	log_err(LOG_DM, "session %s with %s: %s", s->sid, s->acc.server_id,
		err);
	s->save_failed = true;
	buf_free(&s->held);
	memset(&s->held, 0, sizeof(s->held));
	if (s->finish_when_saved || !s->in || s->state == S_ABORTING) {
		session_finish(s, DM_RESULT_SAVE, "%s", err);
		return;
	}
	s->msg_id--;		/* the dropped message never went */
	dm_outbox_clear(s->ob);
	syncml_msg_free(s->out);
	s->out = NULL;
	if (new_out(s) < 0 || answer_hdr(s, s->in, DM_ST_OK) < 0) {
		session_nomem(s);
		return;
	}
	s->want_chal = false;	/* no new nonce that could not be kept */
	abort_session(s, DM_RESULT_SAVE, err);
}

/*
 * Execute the server's commands from s->next_cmd on.  Returns 1 when a UI
 * alert went to the UI agent or an Exec to its Exec agent (the rest waits
 * for the answer), 0 when done, -ENOMEM.
 */
static int run_commands(struct dm_session *s)
{
	const struct syncml_cmd *c;
	struct syncml_cmd *st;
	int r;

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
			if ((r = dm_exec_run(s->ex, c)) > 0) {
				/* its agent answers dm_session_exec_answer() */
				s->next_cmd = c->next;
				session_enter(s, S_AWAITING_AGENT);
			}
			if (r)
				return r;
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
			if (!s->cancel && session_ui_ask(s, c)) {
				s->next_cmd = c->next;
				session_enter(s, S_AWAITING_UI);
				return 1;
			}
			st = dm_ui_answer(s->ex, c, s->cancel ? DM_UI_REJECT :
					  DM_UI_POLICY, s->cfg.alerts, NULL);
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

	if (aborted_by_server(s->next_cmd)) {
		/* clause 8: a client receiving 1223 SHOULD NOT respond */
		session_finish(s, DM_RESULT_ABORTED, "aborted by the server");
		return;
	}
	if (s->cancel) {
		/* our 1223 goes with the Status and Results of what this
		 * message executed, so the server knows what was done */
		abort_session(s, DM_RESULT_ABORTED, s->cancel_why);
		return;
	}
	if (!syncml_next_message_request(in))
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
		s->finish_when_saved = true;
		if (!session_wait_for_save(s))
			session_finish(s, DM_RESULT_OK, NULL);
		return;
	}
	if (!s->server_closed && !syncml_next_message_request(in) &&
	    !dm_outbox_has_alert(s->ob, SYNCML_ALERT_NEXT_MESSAGE)) {
		/* clause 6.2: the server's package goes on; ask for more */
		if ((al = dm_exec_cmd(s->ex, SYNCML_ALERT)) == NULL) {
			session_nomem(s);
			return;
		}
		al->code = SYNCML_ALERT_NEXT_MESSAGE;
	}
	send_message(s);
}

/* Execute (the rest of) s->in, then answer it. */
void session_go_on(struct dm_session *s)
{
	int r = run_commands(s);

	if (r < 0) {
		session_nomem(s);
		return;
	}
	if (r > 0)
		return;		/* an agent answers later */
	answer(s);
}

/* The transport's options: the PSK, or the certificates to trust. */
static void http_opts(const struct dm_session *s, struct dm_http_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->psk_identity = s->cfg.psk_identity;
	o->psk = s->psk;
	o->psk_len = s->cfg.psk_len;
	o->trust = &s->trust;
	o->timeout = s->cfg.timeout;
	o->local = s->cfg.local;
	o->local_arg = s->arg;
	o->resolve = s->cfg.resolve;
	o->resolve_arg = s->arg;
}

/* A later message goes where the server says (RespURI). */
static bool follow_resp_uri(struct dm_session *s, const char *uri)
{
	char err[160];
	struct dm_http_opts o;
	struct dm_http *h;

	if (!uri || !strcmp(uri, s->url))
		return true;
	http_opts(s, &o);
	if (strlen(uri) >= sizeof(s->url) ||
	    (h = s->tr->open(s->cfg.base, uri, &o, err, sizeof(err))) == NULL) {
		session_finish(s, DM_RESULT_PROTOCOL, "RespURI %.100s: %s", uri,
			       strlen(uri) >= sizeof(s->url) ? "too long" :
			       err);
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
	bool trusted;
	enum hdr_verdict v;

	snprintf(s->server_msg_id, sizeof(s->server_msg_id), "%s",
		 in->hdr.msg_id);
	if (in->hdr.meta.has & SYNCML_META_MAXMSG)
		s->server_max_msg = in->hdr.meta.max_msg_size < MIN_MSG_SIZE ?
				    MIN_MSG_SIZE : in->hdr.meta.max_msg_size;
	if (!follow_resp_uri(s, in->hdr.resp_uri))
		return;
	code = dm_creds_check_server(&s->cr, in, resp->hmac, resp->body,
				     resp->len);
	trusted = dm_status_ok(code);
	if (code == DM_ST_AUTH_ACCEPTED && s->cfg.resync)
		s->resync_chal_due = true;
	v = hdr_status(s, syncml_hdr_status(in), trusted);
	if (v == HDR_FATAL)
		return;
	if (v == HDR_CHALLENGED && s->package1) {
		/* clause 9: "revert to pkg 1 and resend the Alert and
		 * DevInfo along with the credentials requested" */
		session_enter(s, S_CHALLENGED);
		dm_outbox_clear(s->ob);
	} else if (v == HDR_CHALLENGED) {
		/* clause 9.1: the same request again, with a Status for
		 * the new SyncHdr and credentials */
		session_enter(s, S_CHALLENGED);
		dm_outbox_requeue(s->ob);
	}
	if (new_out(s) < 0 || answer_hdr(s, in, code) < 0) {
		session_nomem(s);
		return;
	}
	if (!trusted) {
		log_notice(LOG_DM, "session %s: %s credentials refused (%u)",
			   s->sid, s->acc.server_id, code);
		/*
		 * DM_Security 5.4: with HMAC, "failures terminate the
		 * session", from the first message on; otherwise the server
		 * may try again, a bounded number of times.  Its commands
		 * are not executed either way.
		 */
		if (dm_creds_hmac(&s->cr, true) ||
		    ++s->server_fails > s->cfg.auth_retries) {
			abort_session(s, DM_RESULT_AUTH,
				      "the server's credentials were refused");
			return;
		}
	}
	if (v == HDR_CHALLENGED && s->package1) {
		if (package1(s) < 0) {
			session_nomem(s);
			return;
		}
		send_message(s);
		return;
	}
	s->in_answer = trusted && syncml_wants_answer(in);
	if (!trusted) {
		/* not executed: 407 each, the server sends them again */
		for (const struct syncml_cmd *c = in->cmds; c; c = c->next)
			if (c->type != SYNCML_STATUS &&
			    c->type != SYNCML_RESULTS &&
			    !dm_exec_status(s->ex, c->cmd_id,
					    syncml_cmd_name(c->type), NULL,
					    NULL, DM_ST_MISSING_CRED)) {
				session_nomem(s);
				return;
			}
		s->in_answer = true;	/* our Chal must reach it */
		s->next_cmd = NULL;
		answer(s);
		return;
	}
	s->next_cmd = in->cmds;
	session_go_on(s);
}

static void post_done(void *arg, int err, const char *msg,
		      const struct dm_http_response *resp)
{
	struct dm_session *s = arg;
	struct syncml_msg *in = NULL;
	char why[200];
	int r;

	if (err) {
		s->transport_err = err;
		session_finish(s, DM_RESULT_TRANSPORT, "%s", msg);
		return;
	}
	if (s->state == S_ABORTING) {
		session_finish(s, s->result ? s->result : DM_RESULT_ABORTED,
			       NULL);
		return;
	}
	if (log_hexdump_enabled(LOG_DM))
		log_hex(LOG_DM, "DM in", resp->body, resp->len);
	r = dm_http_syncml(resp, &in, why, sizeof(why));
	if (r < 0) {
		session_finish(s, r == -EIO ? DM_RESULT_TRANSPORT :
			       DM_RESULT_PROTOCOL, "%s from %s", why, s->url);
		return;
	}
	if (!in->hdr.session_id || strcmp(in->hdr.session_id, s->sid)) {
		session_finish(s, DM_RESULT_PROTOCOL, "the server's SessionID "
			       "is %.32s, not %s", in->hdr.session_id ?
			       in->hdr.session_id : "-", s->sid);
		syncml_msg_free(in);
		return;
	}
	log_debug(LOG_DM, "session %s: server message %s, %zu bytes%s", s->sid,
		  in->hdr.msg_id, resp->len, in->final ? ", final" : "");
	/* kept while its commands run: a UI alert may make them wait */
	syncml_msg_free(s->in);
	s->in = in;
	/* executing it is building our answer */
	session_enter(s, S_SENDING);
	handle_message(s, in, resp);
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
	dm_creds_init(&s->cr, cfg->tree, &s->acc, cfg->resync);
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
	if (cfg->trust)
		s->trust = *cfg->trust;
	s->cfg.trust = &s->trust;
	s->ex = dm_exec_new(cfg->tree, s->acc.server_id, s->sid, cfg->format,
			    cfg->max_obj_size);
	s->ob = dm_outbox_new();
	if (!s->ex || !s->ob)
		goto nomem;
	if (cfg->exec)
		dm_exec_set_agent(s->ex, session_exec_agent, s);
	http_opts(s, &o);
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

void dm_session_stop(struct dm_session *s, enum dm_session_result r,
		     const char *why)
{
	session_finish(s, r, "%s", why);
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
	buf_free(&s->held);
	syncml_msg_free(s->in);
	if (s->psk) {
		OPENSSL_cleanse(s->psk, s->cfg.psk_len);
		free(s->psk);
	}
	OPENSSL_cleanse(&s->acc, sizeof(s->acc));
	free(s);
}
