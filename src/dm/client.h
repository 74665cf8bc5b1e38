/* SPDX-License-Identifier: MIT */
/*
 * The DM client: the one entry point for DM Notifications (Package#0) from
 * any source (the card over BIP, SMS, D-Bus), the DM accounts they are
 * checked against, and the sessions they start: one at a time per server,
 * later notifications for a busy server queued, not lost.  Registers itself
 * as the terminal application of type 07 (spec 7.1) with the BIP module.
 */
#ifndef DMSCGW_DM_CLIENT_H
#define DMSCGW_DM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/session.h"

struct bip;
struct conf;
struct dm_tree;
struct event_base;
struct dm_client;


#define DM_CLIENT_HISTORY	16	/* finished sessions kept for display */

struct dm_session_info {
	unsigned id;			/* 1, 2, ... since start-up */
	char server_id[128];
	const char *trigger;		/* "bip", "sms", "dbus", "client" */
	/*
	 * How it reached its server: "tcpip" (the card's IP link), "bip"
	 * (the card's SCWS through BIP), "network" (a server elsewhere);
	 * "" while queued.
	 */
	const char *transport;
	const char *state;		/* "awaiting-user", "queued",
					 * "retry-wait", the session's states
					 * ("connecting", "running",
					 * "awaiting-agent", ...), "finished" */
	unsigned commands;		/* server commands executed */
	enum dm_session_result result;
	char error[160];		/* why, when result is not OK; "" */
	uint64_t started_usec;		/* CLOCK_REALTIME */
	uint64_t finished_usec;		/* 0 while not finished */
};

struct dm_client_observer {
	/* started: every try of a session that is tried again */
	void (*started)(void *arg, const struct dm_session_info *s);
	void (*finished)(void *arg, const struct dm_session_info *s);
	/* a notification of UI mode informative: the user may be told */
	void (*notice)(void *arg, const struct dm_session_info *s);
	/* a session waits to be tried again (state "retry-wait"); may be NULL */
	void (*changed)(void *arg, const struct dm_session_info *s);
	void *arg;
};

/*
 * A UI agent for the alerts 1100-1104 (D-Bus).  ask() returns 0 when it
 * will answer through dm_client_ui_answer(), < 0 to let the policy answer;
 * confirm() is the same for a notification of UI mode user interaction,
 * before its session starts (the answer's text is ignored); cancel()
 * drops a question whose session is gone.
 */
struct dm_client_ui {
	int (*ask)(void *arg, unsigned id, const char *server,
		   const struct dm_ui_request *r);
	int (*confirm)(void *arg, unsigned id, const char *server);
	void (*cancel)(void *arg, unsigned id);
	void *arg;
};

struct dm_client *dm_client_new(struct event_base *base,
				const struct conf *c, struct dm_tree *t,
				struct bip *bip);
void dm_client_free(struct dm_client *dc);
void dm_client_reconfigure(struct dm_client *dc, const struct conf *c);
void dm_client_set_observer(struct dm_client *dc,
			    const struct dm_client_observer *o);
/*
 * The management tree; NULL while the client is off and none was loaded
 * ([dm] enable = no at start-up: the state directory is not touched).
 * set_tree gives it the tree loaded when it is turned on by a reload.
 */
struct dm_tree *dm_client_tree(struct dm_client *dc);
void dm_client_set_tree(struct dm_client *dc, struct dm_tree *t);
/* NULL: no agent, the policy answers. */
void dm_client_set_ui(struct dm_client *dc, const struct dm_client_ui *ui);
/* The agent's answer for session id; ignored when it is gone. */
void dm_client_ui_answer(struct dm_client *dc, unsigned id,
			 enum dm_ui_verdict v, const char *answer);

/*
 * Take a Package#0 from source ("bip", "sms", "dbus").  Returns 0 when it
 * was taken (a session starts, or is queued behind the running one of the
 * same server); otherwise a negative errno with why filled:
 * -EBADMSG malformed, -EPROTONOSUPPORT version, -ENOENT no account with
 * that ServerID, -EPERM digest wrong, -EAGAIN the client is disabled or
 * its queue full.
 */
int dm_client_notify(struct dm_client *dc, const uint8_t *p, size_t len,
		     const char *source, char *why, size_t whylen);

/* A client-initiated session (Alert 1201).  Returns the id, or as above. */
int dm_client_start(struct dm_client *dc, const char *server_id,
		    const char *source, char *why, size_t whylen);

/*
 * A client-initiated session that reports r with Generic Alert 1226.
 * Returns the id, or as above.
 */
int dm_client_report(struct dm_client *dc, const char *server_id,
		     const struct dm_generic_alert *r, const char *source,
		     char *why, size_t whylen);

/*
 * Cancel session id: a queued one is dropped (result cancelled), a running
 * one aborts (dm_session_cancel).  0, or -ENOENT when no session with that
 * id is queued or running.
 */
int dm_client_cancel(struct dm_client *dc, unsigned id, const char *why);

/*
 * The card's TCP/IP link (OMA-TS-DM_SC 5.1: USB first, ISO second): while
 * resolve() gives the card's address, sessions with the DM_SC server go
 * to its TCP/IP AppAddr (https://localuicc:443/OMA/DM, 8.1 table 2), the
 * name "localuicc" resolved through it; otherwise through BIP.
 */
struct dm_client_link {
	/* The card's address now: 0, or < 0 with why. */
	int (*resolve)(void *arg, char *addr, size_t cap, const char **why);
	void *arg;
};

/* NULL: no link, BIP only. */
void dm_client_set_link(struct dm_client *dc, const struct dm_client_link *l);

/*
 * The card's IP link is lost: running sessions over it fail now
 * (transport-failed, "the card's IP link was lost: why"); the next ones
 * take the transport that is there.
 */
void dm_client_link_lost(struct dm_client *dc, const char *why);

/*
 * The card is gone (removed, reset, not answering): running sessions with
 * the DM_SC server, which lived on it, fail now with "card removed"
 * instead of waiting for their transport to time out; queued ones start
 * when the card is back.
 */
void dm_client_card_gone(struct dm_client *dc);

/* The Exec agents' side of the client (dm/agents.h); NULL if none. */
struct dm_agents *dm_client_agents(struct dm_client *dc);
/*
 * An agent serves uri: the node (interior when it is to be made) is made
 * executable and the tree saved (dm_tree_make_executable).  A DM tree
 * status: 200, or 405 also for ./DMAcc and ./Inbox, the client's own.
 */
int dm_client_make_executable(struct dm_client *dc, const char *uri,
			      bool interior);

/* Running and queued sessions, then the last finished ones, newest first. */
size_t dm_client_sessions(struct dm_client *dc, struct dm_session_info *out,
			  size_t cap);

#endif
