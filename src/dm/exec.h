/* SPDX-License-Identifier: MIT */
/*
 * The server's commands on the management tree (DM Protocol 1.2 clause 6,
 * DM RepPro 1.2 6.6): Add, Replace (and ?prop=), Delete, Get, Copy, Exec,
 * Sequence in order, Atomic all or nothing, and large objects received in
 * chunks (clause 7).  Each command is answered with its Status (one per
 * item) and, for Get, Results, built into the client's message being made.
 */
#ifndef DMSCGW_DM_EXEC_H
#define DMSCGW_DM_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "syncml/syncml.h"

struct dm_tree;
struct dm_exec;

/* DM RepPro 1.2 clause 10 codes the client produces itself. */
enum {
	DM_ST_OK = 200,
	DM_ST_ACCEPTED = 202,
	DM_ST_AUTH_ACCEPTED = 212,
	DM_ST_CHUNK_OK = 213,
	DM_ST_CANCELLED = 214,
	DM_ST_NOT_EXECUTED = 215,
	DM_ST_ROLLED_BACK = 216,
	DM_ST_NOT_MODIFIED = 304,
	DM_ST_BAD_REQUEST = 400,
	DM_ST_INVALID_CRED = 401,
	DM_ST_NOT_ALLOWED = 405,
	DM_ST_OPTIONAL = 406,
	DM_ST_MISSING_CRED = 407,
	DM_ST_TOO_LARGE = 413,
	DM_ST_SIZE_MISMATCH = 424,
	DM_ST_FAILED = 500,
	DM_ST_ATOMIC_FAILED = 507,
};

static inline bool dm_status_ok(unsigned st)
{
	return st >= 200 && st < 300;
}

/*
 * For the session with server_id (strings copied); log_id names it in the
 * log.  fmt is the client's message format (WBXML carries Get values as
 * opaque data).
 */
struct dm_exec *dm_exec_new(struct dm_tree *tree, const char *server_id,
			    const char *log_id, enum syncml_format fmt,
			    uint32_t max_obj_size);
void dm_exec_free(struct dm_exec *ex);

/*
 * Where the answers go: the client message out, answering the server's
 * message msg_ref.  CmdIDs count on over the whole session, so commands
 * carried over to a later message never share an ID with new ones.
 */
void dm_exec_target(struct dm_exec *ex, struct syncml_msg *out,
		    const char *msg_ref);

/* A new command of ours in the target message; NULL when out of memory. */
struct syncml_cmd *dm_exec_cmd(struct dm_exec *ex, enum syncml_cmd_type type);
/* A Status for the server's command cmd_ref; NULL when out of memory. */
struct syncml_cmd *dm_exec_status(struct dm_exec *ex, const char *cmd_ref,
				  const char *cmd, const char *target,
				  const char *source, unsigned code);

/* An item with text in Status st (UI alert answers): 0 or -ENOMEM. */
int dm_exec_status_text(struct dm_exec *ex, struct syncml_cmd *st,
			const char *text);

/*
 * An Exec on a node that an agent serves (dm/agents.h), as the server
 * sent it (DM RepPro 1.2 6.6.6).  Pointers into the server's message.
 */
struct dm_exec_request {
	const char *server;		/* the ServerID */
	const char *uri;		/* the node */
	const char *format;		/* the item's Meta Format, "chr" if none */
	const char *correlator;		/* the Exec's Correlator, "" if none */
	const uint8_t *data;		/* the item's Data */
	size_t len;
};

/*
 * Hand r to whoever serves the node: its Status now (200, 202, 500...), or
 * 0 when the answer comes later through dm_exec_resume().  Without one,
 * Exec goes to the tree's own handlers (dm_tree_set_exec).
 */
typedef unsigned dm_exec_agent_fn(void *arg, const struct dm_exec_request *r);
void dm_exec_set_agent(struct dm_exec *ex, dm_exec_agent_fn *fn, void *arg);

/*
 * Execute c (not Alert, Status or Results) and answer it.  0; 1 when an
 * Exec waits for its agent (the rest of c, such as the rest of a Sequence,
 * waits for dm_exec_resume()); or -ENOMEM (the tree is then consistent: an
 * Atomic is rolled back).  An Atomic never waits: it is done within one
 * call, so the tree is never left inside one while the loop runs.
 */
int dm_exec_run(struct dm_exec *ex, const struct syncml_cmd *c);
/*
 * The agent's Status for the waiting Exec (data, when not "", goes in the
 * Status's item), then the rest of the command: as dm_exec_run.
 */
int dm_exec_resume(struct dm_exec *ex, unsigned code, const char *data);

/*
 * Package#1's commands into the target message: Alert 1200 (server
 * initiated) or 1201, the DevInfo Replace, and report as a Generic Alert
 * 1226 when not NULL.  0 or -ENOMEM.
 */
struct dm_generic_alert;
int dm_exec_package1(struct dm_exec *ex, bool server_initiated,
		     const struct dm_generic_alert *report);

/* The session's name in the log, and its ServerID. */
const char *dm_exec_log_id(const struct dm_exec *ex);
const char *dm_exec_server(const struct dm_exec *ex);

/* Did a command change the tree since the last call?  Clears the flag. */
bool dm_exec_changed(struct dm_exec *ex);
/* Server commands executed so far (Alerts excluded). */
unsigned dm_exec_count(const struct dm_exec *ex);

#endif
