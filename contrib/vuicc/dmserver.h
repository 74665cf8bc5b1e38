/* SPDX-License-Identifier: MIT */
/*
 * The DM_SC server of dmsc-vuicc (OMA-TS-DM_SC-V1_0): the server side of an
 * OMA DM 1.2 session (DM Protocol, DM Representation Protocol, DM
 * Security), written from the specifications and independently of the
 * daemon's client.  It knows nothing of channels or APDUs: it builds the
 * DM Notification (Package#0) that the scenario sends over BIP, and it
 * answers the SyncML messages that the SCWS hands it (POST /OMA/DM).
 *
 * What it sends comes from a script: per session, packages of commands
 * (Add, Replace, Delete, Get, Exec, Copy, Alert, Atomic, Sequence, and a
 * session abort), each with an optional Status code the client must
 * answer.  The scenario fills the scripts while it is parsed and moves on
 * to the next session's script when an `expect dm-end` is met.
 */
#ifndef DMSC_VUICC_DMSERVER_H
#define DMSC_VUICC_DMSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scws.h"

enum dms_auth {
	DMS_AUTH_NONE,
	DMS_AUTH_BASIC,
	DMS_AUTH_DIGEST,
	DMS_AUTH_HMAC,		/* x-syncml-hmac on every message, both ways */
};

enum dms_format {
	DMS_FORMAT_AUTO,	/* the format of the client's request */
	DMS_FORMAT_XML,
	DMS_FORMAT_WBXML,
};

/* How a session ended. */
enum dms_end {
	DMS_END_NONE,
	DMS_END_COMPLETED,	/* last package answered, Status + Final sent */
	DMS_END_ABORTED,	/* the server sent Alert 1223 */
	DMS_END_CLIENT_ABORT,	/* the client sent Alert 1223 */
	DMS_END_AUTH_FAILED,	/* client credentials refused 3 times */
};

enum dms_op {
	DMS_OP_ADD,
	DMS_OP_REPLACE,
	DMS_OP_DELETE,
	DMS_OP_GET,
	DMS_OP_EXEC,
	DMS_OP_COPY,
	DMS_OP_ALERT,
	DMS_OP_ATOMIC,		/* the commands up to DMS_OP_END go inside */
	DMS_OP_SEQUENCE,
	DMS_OP_END,		/* closes the innermost Atomic/Sequence */
	DMS_OP_ABORT,		/* Alert 1223 after the package's commands */
	DMS_OP_PACKAGE,		/* starts the next package */
};

/* One scripted command; strings and data owned by the server. */
struct dms_cmd {
	enum dms_op op;
	unsigned line;		/* scenario line, for messages */
	char *uri;		/* Target LocURI */
	char *source;		/* Copy: Source LocURI */
	char *format;		/* Meta Format (Add, Replace) */
	char *type;		/* Meta Type */
	uint8_t *data;		/* Data; NULL: no Data element */
	size_t len;
	bool opaque;		/* bin: WBXML opaque */
	unsigned alert;		/* Alert code */
	unsigned expect;	/* Status the client must return; 0 none */
	char *value;		/* Get: expected Results Data; NULL none */
	size_t value_len;
	/* what happened in the session */
	unsigned got;		/* last Status code (213 chunks aside) */
	uint8_t *result;	/* Results data, MoreData chunks joined */
	size_t result_len;
	bool result_more;	/* a chunk with MoreData came last */
	bool result_seen;
};

/* Facts of the last session whose Package#1 was accepted. */
struct dms_session_info {
	unsigned alert;			/* 1200, 1201, 0 none */
	bool wbxml;			/* format of the client's requests */
	bool devinfo;			/* Replace of ./DevInfo/... */
	char session_id[64];
	bool noti_sent;			/* after a dm-notify */
	char noti_session_id[8];	/* what the notification said */
};

struct dms;

struct dms *dms_new(void);
void dms_free(struct dms *d);

/* --- settings (strings copied) ----------------------------------------- */

int dms_set_server(struct dms *d, const char *id, const char *password);
int dms_set_client(struct dms *d, const char *name, const char *password);
void dms_set_auth(struct dms *d, enum dms_auth auth);
/* The server nonce (server == true) or the client nonce: raw bytes. */
int dms_set_nonce(struct dms *d, bool server, const uint8_t *p, size_t len);
void dms_set_format(struct dms *d, enum dms_format fmt);
void dms_set_max_msg_size(struct dms *d, uint32_t n);

/* --- scripts ------------------------------------------------------------ */

/*
 * Append a copy of cmd (its pointers are taken over: allocate them with
 * malloc) to the script of session number session (0, 1, ...).  Returns
 * the stored command (for `expect dm-status`), NULL when out of memory.
 */
struct dms_cmd *dms_script_add(struct dms *d, size_t session,
			       const struct dms_cmd *cmd);
/* The next session uses the next script. */
void dms_next_script(struct dms *d);

/* --- notification ------------------------------------------------------- */

struct dms_notify_opts {
	unsigned ui_mode;	/* enum dm_ui_mode */
	int session_id;		/* -1: random */
	bool zero_nonce;
	bool bad_digest;
	const char *server_id;	/* NULL: the configured one */
	unsigned version;	/* 12 or 11 */
};

/*
 * Build Package#0 into out (cap bytes), and expect the session it
 * announces.  Returns the length, -EINVAL without a server id
 * (dms_set_server), -ENOSPC, -EIO.
 */
int dms_notify(struct dms *d, const struct dms_notify_opts *o, uint8_t *out,
	       size_t cap);

/* --- HTTP ---------------------------------------------------------------- */

/* The SCWS route (scws_set_dm_handler(dms_http, d)). */
void dms_http(void *ctx, const struct scws_dm_request *rq,
	      struct scws_dm_response *resp);

/* --- what the scenario checks ------------------------------------------- */

/* Sessions accepted so far, and the facts of the last one. */
unsigned dms_sessions_accepted(const struct dms *d,
			       struct dms_session_info *info);
/* Sessions ended so far, and how the last one ended. */
unsigned dms_sessions_ended(const struct dms *d, enum dms_end *how);
const char *dms_end_name(enum dms_end how);
/*
 * The first hard failure (message too big, a Status or Results that
 * differs from an `expect`), NULL if none; cleared by reading it.
 */
const char *dms_take_failure(struct dms *d);
/*
 * Check that every command of the current script with an expect got its
 * Status.  Returns NULL, or what is missing (in a static buffer).
 */
const char *dms_check_expects(struct dms *d);
/* The last Status for uri in the current script: 0 if none yet. */
unsigned dms_status_of(const struct dms *d, const char *uri);
const char *dms_op_name(enum dms_op op);

#endif
