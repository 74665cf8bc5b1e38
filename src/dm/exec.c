/* SPDX-License-Identifier: MIT */
/*
 * Executing the server's commands.  Every modifying command goes through
 * the tree's ACL checks with the server's ServerID; Atomic uses the tree's
 * own rollback, so a failed Atomic leaves no trace (DM Protocol 1.2 6.6.3:
 * 507 for the Atomic, 216 for what was rolled back, 215 for what was not
 * executed).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/exec.h"
#include "dm/inbox.h"
#include "dm/session.h"
#include "dm/tree.h"
#include "log.h"

/* A large object arriving in chunks (DM Protocol 1.2 clause 7). */
struct large_object {
	char uri[DM_TREE_MAX_URI + 1];
	enum syncml_cmd_type type;
	char format[16];
	char type_str[DM_TREE_MAX_TYPE + 1];
	uint8_t *buf;
	size_t len, size;	/* received so far, announced */
};

/* Sequences within Sequences an Exec may wait in (deeper: 406 there). */
#define WAIT_DEPTH	8

struct dm_exec {
	struct dm_tree *tree;
	char server_id[128];
	char log_id[64];
	enum syncml_format fmt;
	uint32_t max_obj_size;
	struct syncml_msg *out;
	char msg_ref[32];
	unsigned cmd_id;
	unsigned commands;
	bool changed;
	struct large_object lo;
	dm_exec_agent_fn *agent;
	void *agent_arg;
	/* an Exec waiting for its agent: its item, the Sequences around it */
	const struct syncml_cmd *wait_cmd;
	const struct syncml_item *wait_item;
	const struct syncml_cmd *seq_next[WAIT_DEPTH];	/* of each Sequence */
	size_t depth;
	struct dm_inbox *inbox;		/* what the session's Adds placed */
};

struct dm_exec *dm_exec_new(struct dm_tree *tree, const char *server_id,
			    const char *log_id, enum syncml_format fmt,
			    uint32_t max_obj_size)
{
	struct dm_exec *ex = calloc(1, sizeof(*ex));

	if (!ex)
		return NULL;
	ex->tree = tree;
	snprintf(ex->server_id, sizeof(ex->server_id), "%s", server_id);
	snprintf(ex->log_id, sizeof(ex->log_id), "%s", log_id);
	ex->fmt = fmt;
	ex->max_obj_size = max_obj_size;
	if ((ex->inbox = dm_inbox_new()) == NULL) {
		free(ex);
		return NULL;
	}
	return ex;
}

void dm_exec_free(struct dm_exec *ex)
{
	if (!ex)
		return;
	free(ex->lo.buf);
	dm_inbox_free(ex->inbox);
	free(ex);
}

void dm_exec_set_agent(struct dm_exec *ex, dm_exec_agent_fn *fn, void *arg)
{
	ex->agent = fn;
	ex->agent_arg = arg;
}

void dm_exec_target(struct dm_exec *ex, struct syncml_msg *out,
		    const char *msg_ref)
{
	ex->out = out;
	snprintf(ex->msg_ref, sizeof(ex->msg_ref), "%s", msg_ref ? msg_ref : "");
}

struct syncml_cmd *dm_exec_cmd(struct dm_exec *ex, enum syncml_cmd_type type)
{
	char id[16];

	snprintf(id, sizeof(id), "%u", ++ex->cmd_id);
	return syncml_cmd_add(ex->out, NULL, type, id);
}

struct syncml_cmd *dm_exec_status(struct dm_exec *ex, const char *cmd_ref,
				  const char *cmd, const char *target,
				  const char *source, unsigned code)
{
	struct syncml_msg *m = ex->out;
	struct syncml_cmd *st = dm_exec_cmd(ex, SYNCML_STATUS);

	if (!st || syncml_set_str(m, &st->msg_ref, ex->msg_ref) < 0 ||
	    syncml_set_str(m, &st->cmd_ref, cmd_ref) < 0 ||
	    syncml_set_str(m, &st->cmd, cmd) < 0 ||
	    (target && syncml_set_str(m, &st->target_ref, target) < 0) ||
	    (source && syncml_set_str(m, &st->source_ref, source) < 0))
		return NULL;
	st->code = code;
	return st;
}

int dm_exec_status_text(struct dm_exec *ex, struct syncml_cmd *st,
			const char *text)
{
	struct syncml_item *it = syncml_item_add(ex->out, st);

	return it ? syncml_set_data(ex->out, &it->data, text, strlen(text),
				    false) : -ENOMEM;
}

const char *dm_exec_log_id(const struct dm_exec *ex)
{
	return ex->log_id;
}

const char *dm_exec_server(const struct dm_exec *ex)
{
	return ex->server_id;
}

bool dm_exec_changed(struct dm_exec *ex)
{
	bool c = ex->changed;

	ex->changed = false;
	return c;
}

unsigned dm_exec_count(const struct dm_exec *ex)
{
	return ex->commands;
}

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

static void lo_drop(struct dm_exec *ex, const char *why)
{
	if (!ex->lo.buf)
		return;
	log_notice(LOG_DM, "session %s: large object %s dropped: %s", ex->log_id,
		   ex->lo.uri, why);
	free(ex->lo.buf);
	memset(&ex->lo, 0, sizeof(ex->lo));
}

static unsigned put_value(struct dm_exec *ex, enum syncml_cmd_type type,
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
				return DM_ST_TOO_LARGE;
			if (len)	/* no <Data>: p is NULL */
				memcpy(v, p, len);
			v[len] = 0;
			return (unsigned)dm_tree_prop_replace(ex->tree,
							      ex->server_id,
							      base, prop, v);
		}
		return (unsigned)dm_tree_replace(ex->tree, ex->server_id,
						 uri, f, mime, p, len);
	}
	/* an Add below ./Inbox is placed where its object belongs */
	return (unsigned)dm_inbox_add(ex->inbox, ex->tree, ex->server_id,
				      ex->log_id, uri, f, mime, p, len);
}

/*
 * Add or Replace of one item, chunked or not (DM Protocol 1.2 clause 7,
 * large objects: 213 for every chunk but the last, 424 on a size mismatch).
 */
static unsigned put_item(struct dm_exec *ex, const struct syncml_cmd *c,
			 const struct syncml_item *it)
{
	const char *uri = it->target.uri;
	struct large_object *lo = &ex->lo;
	uint32_t size;
	unsigned st;

	if (!uri)
		return DM_ST_BAD_REQUEST;
	if (lo->buf && strcmp(lo->uri, uri))
		lo_drop(ex, "another command came first");
	if (!it->more_data && !lo->buf)
		return put_value(ex, c->type, uri, item_format(c, it),
				 item_type(c, it), it->data.p, it->data.len);
	if (!lo->buf) {
		/* the first chunk announces the size */
		size = (it->meta.has & SYNCML_META_SIZE) ? it->meta.size :
		       (c->meta.has & SYNCML_META_SIZE) ? c->meta.size : 0;
		if (!size)
			return DM_ST_BAD_REQUEST;
		if (size > ex->max_obj_size)
			return DM_ST_TOO_LARGE;
		if ((lo->buf = malloc(size)) == NULL)
			return DM_ST_FAILED;
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
		lo_drop(ex, "more data than its Size");
		return DM_ST_SIZE_MISMATCH;
	}
	if (it->data.len)	/* no <Data>: p is NULL */
		memcpy(lo->buf + lo->len, it->data.p, it->data.len);
	lo->len += it->data.len;
	if (it->more_data)
		return DM_ST_CHUNK_OK;
	if (lo->len != lo->size) {
		log_notice(LOG_DM, "session %s: large object %s: %zu bytes, "
			   "Size said %zu", ex->log_id, lo->uri, lo->len, lo->size);
		lo_drop(ex, "size mismatch");
		return DM_ST_SIZE_MISMATCH;
	}
	st = put_value(ex, lo->type, lo->uri, lo->format,
		       *lo->type_str ? lo->type_str : NULL, lo->buf, lo->len);
	free(lo->buf);
	memset(lo, 0, sizeof(*lo));
	return st;
}

/* Results of a Get: one Results command per Get, one item per node. */
static unsigned get_item(struct dm_exec *ex, const struct syncml_cmd *c,
			 const struct syncml_item *it,
			 struct syncml_cmd **results)
{
	char base[DM_TREE_MAX_URI + 1], *pv = NULL;
	const char *uri = it->target.uri, *prop;
	struct dm_tree_value v;
	struct syncml_item *ri;
	struct syncml_msg *m = ex->out;
	int st;

	if (!uri)
		return DM_ST_BAD_REQUEST;
	st = dm_tree_split_prop(uri, base, sizeof(base), &prop);
	if (st != 200)
		return (unsigned)st;
	if (prop) {
		st = dm_tree_prop_get(ex->tree, ex->server_id, base, prop,
				      &pv);
		if (st != 200)
			return (unsigned)st;
		v.format = DM_TREE_FMT_CHR;
		v.type = "text/plain";
		v.data = (const uint8_t *)pv;
		v.len = strlen(pv);
	} else {
		st = dm_tree_get(ex->tree, ex->server_id, uri, &v);
		if (st != 200)
			return (unsigned)st;
	}
	if (!*results) {
		*results = dm_exec_cmd(ex, SYNCML_RESULTS);
		if (!*results ||
		    syncml_set_str(m, &(*results)->msg_ref, ex->msg_ref) < 0 ||
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
				     ex->fmt == SYNCML_WBXML) < 0)
		goto nomem;
	free(pv);
	return DM_ST_OK;
nomem:
	free(pv);
	return DM_ST_FAILED;
}

/*
 * Exec (DM RepPro 1.2 6.6.6): the tree checks the node and its ACL, the
 * agent that serves it executes.  0: the agent answers later (only where
 * the walk can wait: not inside an Atomic).
 */
static unsigned exec_exec(struct dm_exec *ex, const struct syncml_cmd *c,
			  const struct syncml_item *it, bool can_wait)
{
	struct dm_exec_request r = {
		.server = ex->server_id, .uri = it->target.uri,
		.format = item_format(c, it),
		.correlator = c->correlator ? c->correlator : "",
		.data = it->data.p, .len = it->data.len,
	};
	int st;

	if (!r.uri)
		return DM_ST_BAD_REQUEST;
	if (!ex->agent)
		return (unsigned)dm_tree_exec(ex->tree, ex->server_id, r.uri,
					      r.data, r.len);
	st = dm_tree_exec_check(ex->tree, ex->server_id, r.uri);
	if (st != 200)
		return (unsigned)st;
	if (!can_wait) {
		/*
		 * DM RepPro 1.2 6.6.3: an Atomic is all or nothing, and what
		 * an agent did cannot be rolled back; nor may the tree stay
		 * inside an Atomic while an agent works.
		 */
		log_notice(LOG_DM, "session %s: Exec %s inside an Atomic: not "
			   "supported", ex->log_id, r.uri);
		return DM_ST_OPTIONAL;
	}
	return ex->agent(ex->agent_arg, &r);
}

static bool modifies(enum syncml_cmd_type t)
{
	return t == SYNCML_ADD || t == SYNCML_REPLACE || t == SYNCML_DELETE ||
	       t == SYNCML_COPY || t == SYNCML_EXEC;
}

static unsigned exec_one(struct dm_exec *ex, const struct syncml_cmd *c,
			 const struct syncml_item *it,
			 struct syncml_cmd **results)
{
	const char *uri = it->target.uri;

	switch (c->type) {
	case SYNCML_ADD:
	case SYNCML_REPLACE:
		return put_item(ex, c, it);
	case SYNCML_DELETE:
		return uri ? (unsigned)dm_tree_delete(ex->tree,
						      ex->server_id, uri) :
			     DM_ST_BAD_REQUEST;
	case SYNCML_GET:
		return get_item(ex, c, it, results);
	case SYNCML_COPY:
		return uri && it->source.uri ?
		       (unsigned)dm_tree_copy(ex->tree, ex->server_id,
					      uri, it->source.uri) :
		       DM_ST_BAD_REQUEST;
	case SYNCML_EXEC:
		return exec_exec(ex, c, it, false);
	default:
		return DM_ST_OPTIONAL;
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

static int exec_cmd(struct dm_exec *ex, const struct syncml_cmd *c,
		    struct atomic_log *alog);

/* One item of c done with code: logged and answered; NULL: no memory. */
static struct syncml_cmd *item_done(struct dm_exec *ex,
				    const struct syncml_cmd *c,
				    const struct syncml_item *it, unsigned code)
{
	const char *name = syncml_cmd_name(c->type);

	if (dm_status_ok(code) && modifies(c->type))
		ex->changed = true;
	if (!dm_status_ok(code))
		log_info(LOG_DM, "session %s: %s %s: %u", ex->log_id, name,
			 it->target.uri ? it->target.uri : "?", code);
	else
		log_debug(LOG_DM, "session %s: %s %s: %u", ex->log_id, name,
			  it->target.uri ? it->target.uri : "?", code);
	return dm_exec_status(ex, c->cmd_id, name, it->target.uri,
			      it->source.uri, code);
}

/* Execute a list; in an Atomic, the first failure skips the rest. */
static int exec_list(struct dm_exec *ex, const struct syncml_cmd *c,
		     struct atomic_log *alog, bool *failed)
{
	const struct syncml_cmd *k;
	size_t mark;

	for (k = c; k; k = k->next) {
		mark = alog ? alog->n : 0;
		if (alog && *failed) {
			if (alog_add(alog, dm_exec_status(ex, k->cmd_id,
					syncml_cmd_name(k->type), NULL, NULL,
					DM_ST_NOT_EXECUTED)) < 0)
				return -ENOMEM;
			continue;
		}
		if (exec_cmd(ex, k, alog) < 0)
			return -ENOMEM;
		for (size_t i = mark; alog && i < alog->n; i++)
			if (!dm_status_ok(alog->st[i]->code))
				*failed = true;
	}
	return 0;
}

static int exec_atomic(struct dm_exec *ex, const struct syncml_cmd *c)
{
	struct atomic_log *alog = calloc(1, sizeof(*alog));
	struct syncml_cmd *st;
	bool failed = false;
	int r;

	if (!alog)
		return -ENOMEM;
	st = dm_exec_status(ex, c->cmd_id, "Atomic", NULL, NULL, DM_ST_OK);
	if (!st) {
		free(alog);
		return -ENOMEM;
	}
	if (dm_tree_atomic_begin(ex->tree) != 200) {
		st->code = DM_ST_FAILED;	/* nested: the tree refuses */
		free(alog);
		return 0;
	}
	r = exec_list(ex, c->children, alog, &failed);
	if (r < 0 || failed) {
		dm_tree_atomic_rollback(ex->tree);
		st->code = DM_ST_ATOMIC_FAILED;
		for (size_t i = 0; i < alog->n; i++)
			if (dm_status_ok(alog->st[i]->code) &&
			    alog->st[i]->code != DM_ST_NOT_EXECUTED &&
			    strcmp(alog->st[i]->cmd, "Get"))
				alog->st[i]->code = DM_ST_ROLLED_BACK;
		log_notice(LOG_DM, "session %s: Atomic %s failed, rolled back",
			   ex->log_id, c->cmd_id);
	} else {
		dm_tree_atomic_commit(ex->tree);
	}
	free(alog);
	return r;
}

static int exec_cmd(struct dm_exec *ex, const struct syncml_cmd *c,
		    struct atomic_log *alog)
{
	const char *name = syncml_cmd_name(c->type);
	struct syncml_cmd *results = NULL, *st;
	const struct syncml_item *it;
	bool failed = false;
	unsigned code;

	if (c->type != SYNCML_ALERT)
		ex->commands++;
	if (c->type == SYNCML_ATOMIC && !alog)
		return exec_atomic(ex, c);
	if (c->type == SYNCML_ATOMIC) {
		/* DM Protocol 1.2: Atomic does not nest */
		return alog_add(alog, dm_exec_status(ex, c->cmd_id, name, NULL,
						 NULL, DM_ST_FAILED));
	}
	if (c->type == SYNCML_SEQUENCE) {
		st = dm_exec_status(ex, c->cmd_id, name, NULL, NULL, DM_ST_OK);
		if (!st || (alog && alog_add(alog, st) < 0))
			return -ENOMEM;
		return exec_list(ex, c->children, alog, &failed);
	}
	if (!c->items) {
		st = dm_exec_status(ex, c->cmd_id, name, NULL, NULL, DM_ST_BAD_REQUEST);
		if (!st || (alog && alog_add(alog, st) < 0))
			return -ENOMEM;
		return 0;
	}
	for (it = c->items; it; it = it->next) {
		code = exec_one(ex, c, it, &results);
		st = item_done(ex, c, it, code);
		if (!st || (alog && alog_add(alog, st) < 0))
			return -ENOMEM;
	}
	return 0;
}

/* ---- the walk that an Exec may stop, for its agent ---- */

/* The Execs of c from it on; 1 when one waits for its agent. */
static int exec_items(struct dm_exec *ex, const struct syncml_cmd *c,
		      const struct syncml_item *it)
{
	unsigned code;

	for (; it; it = it->next) {
		code = exec_exec(ex, c, it, true);
		if (!code) {
			ex->wait_cmd = c;
			ex->wait_item = it;
			log_info(LOG_DM, "session %s: Exec %s handed to its agent",
				 ex->log_id, it->target.uri);
			return 1;
		}
		if (!item_done(ex, c, it, code))
			return -ENOMEM;
	}
	return 0;
}

/* One command; a Sequence opens (its children follow in walk()). */
static int step(struct dm_exec *ex, const struct syncml_cmd *c)
{
	if (c->type == SYNCML_SEQUENCE && ex->depth < WAIT_DEPTH) {
		ex->commands++;
		if (!dm_exec_status(ex, c->cmd_id, "Sequence", NULL, NULL,
				    DM_ST_OK))
			return -ENOMEM;
		ex->seq_next[ex->depth++] = c->children;
		return 0;
	}
	if (c->type == SYNCML_EXEC && c->items) {
		ex->commands++;
		return exec_items(ex, c, c->items);
	}
	return exec_cmd(ex, c, NULL);
}

/* The open Sequences, in order (DM RepPro 1.2 6.6.11), innermost first. */
static int walk(struct dm_exec *ex)
{
	const struct syncml_cmd *k;
	int r;

	while (ex->depth) {
		if (!(k = ex->seq_next[ex->depth - 1])) {
			ex->depth--;
			continue;
		}
		ex->seq_next[ex->depth - 1] = k->next;
		if ((r = step(ex, k)) != 0)
			return r;
	}
	return 0;
}

int dm_exec_run(struct dm_exec *ex, const struct syncml_cmd *c)
{
	int r;

	ex->depth = 0;
	r = step(ex, c);
	return r ? r : walk(ex);
}

int dm_exec_resume(struct dm_exec *ex, unsigned code, const char *data)
{
	const struct syncml_cmd *c = ex->wait_cmd;
	const struct syncml_item *it = ex->wait_item;
	struct syncml_cmd *st;
	int r;

	if (!c)
		return 0;
	ex->wait_cmd = NULL;
	st = item_done(ex, c, it, code);
	if (!st || (data && *data && dm_exec_status_text(ex, st, data) < 0))
		return -ENOMEM;
	r = exec_items(ex, c, it->next);
	return r ? r : walk(ex);
}

/* ---- Package#1 (DM Protocol 1.2 8.2.1) ---- */

static int devinfo_item(struct dm_exec *ex, struct syncml_cmd *rep,
			const char *uri)
{
	struct dm_tree_value v;
	struct syncml_item *it;

	if (dm_tree_get(ex->tree, NULL, uri, &v) != 200)
		return 0;	/* not in this tree: left out */
	it = syncml_item_add(ex->out, rep);
	if (!it || syncml_set_str(ex->out, &it->source.uri, uri) < 0)
		return -ENOMEM;
	it->meta.format = syncml_strdup(ex->out, "chr");
	return syncml_set_data(ex->out, &it->data, v.data, v.len, false);
}

/* One item of a Generic Alert: Source, Meta Type, Format and Mark, Data. */
static int alert_item(struct dm_exec *ex, struct syncml_cmd *al,
		      const struct dm_generic_alert *g, const char *format,
		      const char *data)
{
	struct syncml_msg *m = ex->out;
	struct syncml_item *it = syncml_item_add(m, al);

	if (!it ||
	    (*g->source && syncml_set_str(m, &it->source.uri, g->source) < 0) ||
	    (*g->type && syncml_set_str(m, &it->meta.type, g->type) < 0) ||
	    (*format && syncml_set_str(m, &it->meta.format, format) < 0) ||
	    (*g->mark && syncml_set_str(m, &it->meta.mark, g->mark) < 0))
		return -ENOMEM;
	return syncml_set_data(m, &it->data, data, strlen(data), false);
}

/*
 * Generic Alert 1226 (DM Protocol 1.2 8.7): the Correlator of the Exec it
 * answers (DM RepPro 1.2 6.6.6), then its item(s).
 */
static int generic_alert(struct dm_exec *ex, const struct dm_generic_alert *g)
{
	struct syncml_cmd *al = dm_exec_cmd(ex, SYNCML_ALERT);

	if (!al || (*g->correlator &&
		    syncml_set_str(ex->out, &al->correlator, g->correlator) < 0))
		return -ENOMEM;
	al->code = SYNCML_ALERT_GENERIC;
	if (alert_item(ex, al, g, g->format, g->data) < 0 ||
	    (*g->text && alert_item(ex, al, g, "chr", g->text) < 0))
		return -ENOMEM;
	return 0;
}

int dm_exec_package1(struct dm_exec *ex, bool server_initiated,
		     const struct dm_generic_alert *report)
{
	static const char *const devinfo[] = {
		"./DevInfo/DevId", "./DevInfo/Man", "./DevInfo/Mod",
		"./DevInfo/DmV", "./DevInfo/Lang",
	};
	struct syncml_cmd *al, *rep;
	size_t i;

	if ((al = dm_exec_cmd(ex, SYNCML_ALERT)) == NULL)
		return -ENOMEM;
	al->code = server_initiated ? SYNCML_ALERT_SERVER_INIT :
				      SYNCML_ALERT_CLIENT_INIT;
	if ((rep = dm_exec_cmd(ex, SYNCML_REPLACE)) == NULL)
		return -ENOMEM;
	if (report && generic_alert(ex, report) < 0)
		return -ENOMEM;
	for (i = 0; i < sizeof(devinfo) / sizeof(devinfo[0]); i++)
		if (devinfo_item(ex, rep, devinfo[i]) < 0)
			return -ENOMEM;
	return 0;
}
