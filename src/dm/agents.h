/* SPDX-License-Identifier: MIT */
/*
 * Exec agents: the programs that execute the device-defined nodes of the
 * management tree (org.dmscgw1(5), RegisterExecAgent).  An Exec from a
 * server on a node an agent serves goes to the agent while the session
 * waits (DM RepPro 1.2 6.6.6).  The agent answers with a Status, or with
 * 202 (accepted) and later its result, which goes back to the server in a
 * client-initiated session carrying a Generic Alert 1226 (DM Protocol 1.2
 * 8.7).  Accepted Execs and undelivered results are kept on disk
 * (<state_dir>/exec-results, dm/results.h) and delivered with back-off,
 * across restarts, until the server has taken them.
 *
 * The D-Bus side (ctl/exec_agent.c) knows the agents; this side knows the
 * sessions, the results and the file.
 */
#ifndef DMSCGW_DM_AGENTS_H
#define DMSCGW_DM_AGENTS_H

#include <stddef.h>

struct conf;
struct dm_agents;
struct dm_client;
struct dm_exec_request;
struct dm_session;
struct dm_session_info;
struct event_base;

/* The Generic Alert's Meta Type for a node outside FUMO (a vendor type). */
#define DM_AGENTS_ALERT_TYPE	"org.dmscgw.exec.result"

struct dm_agents_ops {
	/*
	 * Hand the Exec call to the agent serving r->uri, which quotes key
	 * as the correlator of its result; bounded by timeout seconds.  0
	 * when the answer comes through dm_agents_answer(), -ENOENT when no
	 * agent serves the node, another negative errno when it cannot ask.
	 */
	int (*exec)(void *arg, unsigned call, const struct dm_exec_request *r,
		    const char *key, unsigned timeout);
	/* The answer to call is not wanted any more (its session is gone). */
	void (*cancel)(void *arg, unsigned call);
	void *arg;
};

/*
 * Load <state_dir>/exec-results (a corrupt file is kept aside and
 * logged) and start delivering what it holds.  NULL when out of memory.
 */
struct dm_agents *dm_agents_new(struct event_base *base, struct dm_client *dc,
				const struct conf *c);
/* What is still being written is written first. */
void dm_agents_free(struct dm_agents *a);
void dm_agents_reconfigure(struct dm_agents *a, const struct conf *c);
/* NULL: no agents (every Exec on an agent's node gets 500). */
void dm_agents_set_ops(struct dm_agents *a, const struct dm_agents_ops *ops);

/* The sessions' Exec hook (dm_session_exec_fn, with the server's r). */
unsigned dm_agents_exec(struct dm_agents *a, struct dm_session *s,
			const struct dm_exec_request *r);
/* The agent's answer to call: a status and its data ("" none). */
void dm_agents_answer(struct dm_agents *a, unsigned call, unsigned code,
		      const char *data);
/* Session s ends: what it waits for is dropped. */
void dm_agents_session_gone(struct dm_agents *a, struct dm_session *s);
/* A session ended: a Generic Alert delivered, or to try again. */
void dm_agents_session_done(struct dm_agents *a,
			    const struct dm_session_info *i);

/*
 * The result of the accepted Exec whose correlator is key (ExecResult):
 * code 200 to 599, data at most 1023 bytes.  0 (it will be delivered),
 * -ENOENT (no accepted Exec has that key), -EALREADY (its result came),
 * -EINVAL (code), -E2BIG (data).
 */
int dm_agents_result(struct dm_agents *a, const char *key, unsigned code,
		     const char *data);

#endif
