/* SPDX-License-Identifier: MIT */
/*
 * Internal to the DM session: what session.c (the messages, the state
 * machine) and session_wait.c (the states in which the session waits for
 * its owner: the UI agent, an Exec agent, the disk) share.  Nothing else
 * includes this; everyone else goes through dm/session.h.
 */
#ifndef DMSCGW_DM_SESSION_INT_H
#define DMSCGW_DM_SESSION_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/creds.h"
#include "dm/session.h"
#include "dm/tls.h"
#include "syncml/notification.h"
#include "util/buf.h"

struct event;

/* The states, described at the top of session.c. */
enum state {
	S_CONNECTING,
	S_SENDING,
	S_AWAITING_ANSWER,
	S_CHALLENGED,
	S_AWAITING_UI,
	S_AWAITING_AGENT,
	S_SAVING,
	S_ABORTING,
	S_DONE,
};

struct dm_session {
	struct dm_session_cfg cfg;
	struct dm_account acc;
	char devid[128];
	char sid[DM_NOTI_SESSION_ID_STRLEN];
	uint8_t *psk;
	struct dm_tls_trust trust;	/* https without a PSK */
	const struct dm_session_transport *tr;
	struct dm_http *http;
	char url[256];
	enum state state;
	enum dm_session_result result;
	char error[160];
	int transport_err;		/* the failure that ended it, or 0 */
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
	struct dm_creds cr;
	bool package1;			/* our last message is Package#1 */
	bool resync_chal_due;		/* resync: the server gets a new nonce */
	unsigned client_fails, server_fails;
	bool server_closed;		/* the server's package ended (Final) */
	bool cancel;			/* dm_session_cancel: abort when we can */
	char cancel_why[80];
	struct dm_generic_alert report;
	/* a message that waits for the tree to be on disk */
	struct buf held;
	char held_hmac[512];
	bool held_has_hmac;
	bool finish_when_saved;		/* nothing to send: the end, if saved */
	enum state saving_from;
	bool save_failed;
	struct event *kick;
	dm_session_done_fn *done;
	dm_session_changed_fn *changed_cb;
	void *arg;
};

/* ---- session.c ---- */
/* The one place the state changes. */
void session_enter(struct dm_session *s, enum state st);
/* End the session; the owner hears of it from the loop, not from here. */
void session_finish(struct dm_session *s, enum dm_session_result r,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void session_nomem(struct dm_session *s);
/* Execute (the rest of) the server's message, then answer it. */
void session_go_on(struct dm_session *s);
/* POST the message that waited for the disk. */
void session_post_held(struct dm_session *s);
/* The tree could not be saved: the session ends with Alert 1223. */
void session_save_failed(struct dm_session *s, const char *why);

/* ---- session_wait.c ---- */
/* Hand a UI alert to the agent: true when its answer will come later. */
bool session_ui_ask(struct dm_session *s, const struct syncml_cmd *c);
/* dm_exec's agent callback: the owner's dm_session_cfg.exec. */
unsigned session_exec_agent(void *arg, const struct dm_exec_request *r);
/*
 * Whatever acknowledges a change of the tree waits until it is on disk:
 * true when the session waits for dm_session_saved().
 */
bool session_wait_for_save(struct dm_session *s);

#endif
