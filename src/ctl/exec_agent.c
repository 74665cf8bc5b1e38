/* SPDX-License-Identifier: MIT */
/*
 * The Exec agents on D-Bus: who serves which subtree, the Exec calls out
 * (asynchronous: the session waits, the loop does not), ExecResult in.
 * An agent that leaves the bus is dropped and its open calls answered 500.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/control.h"
#include "ctl/exec_agent.h"
#include "ctl/service.h"
#include "dm/agents.h"
#include "dm/client.h"
#include "dm/exec.h"
#include "dm/results.h"
#include "dm/tree.h"
#include "log.h"
#include "util/sdbus.h"

#define EXEC_AGENT_IFACE	"org.dmscgw1.ExecAgent"
#define AGENTS_MAX		64

/* One served subtree. */
struct reg {
	char *prefix;			/* as registered, without "./" */
	char *owner;			/* unique bus name */
	char *path;
	sd_bus_slot *watch;		/* NameOwnerChanged of owner */
	struct reg *next;
};

/* An Exec out to an agent. */
struct xcall {
	struct exec_agents *x;
	unsigned call;
	char *owner;
	sd_bus_slot *slot;
	struct xcall *next;
};

struct exec_agents {
	struct control *ctl;
	struct dm_agents *da;
	struct reg *regs;
	size_t nregs;
	struct xcall *calls;
};

/* "./A/B" and "A/B" are the same node (tree.h). */
static const char *bare(const char *uri)
{
	return !strncmp(uri, "./", 2) ? uri + 2 : uri;
}

static void changed(struct exec_agents *x)
{
	ctl_emit(x->ctl, MANAGER_PATH, MANAGER_IFACE, "ExecAgents");
}

static void xcall_free(struct xcall *c)
{
	struct xcall **pp;

	for (pp = &c->x->calls; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	sd_bus_slot_unref(c->slot);
	free(c->owner);
	free(c);
}

static void reg_free(struct exec_agents *x, struct reg *g)
{
	struct reg **pp;

	for (pp = &x->regs; *pp != g; pp = &(*pp)->next)
		;
	*pp = g->next;
	x->nregs--;
	sd_bus_slot_unref(g->watch);
	free(g->prefix);
	free(g->owner);
	free(g->path);
	free(g);
}

/* owner is gone: its subtrees are not served, its calls fail. */
static void owner_gone(struct exec_agents *x, const char *owner)
{
	struct reg *g, *gn;
	struct xcall *c, *cn;
	char who[256];

	snprintf(who, sizeof(who), "%s", owner);	/* owner may be freed */
	for (g = x->regs; g; g = gn) {
		gn = g->next;
		if (strcmp(g->owner, who))
			continue;
		log_notice(LOG_CTL, "Exec agent %s %s for %s gone from the bus",
			   who, g->path, g->prefix);
		reg_free(x, g);
	}
	for (c = x->calls; c; c = cn) {
		unsigned call = c->call;

		cn = c->next;
		if (strcmp(c->owner, who))
			continue;
		xcall_free(c);
		dm_agents_answer(x->da, call, DM_ST_FAILED, "");
		cn = x->calls;	/* the answer may have changed the list */
	}
	changed(x);
}

static int on_owner_changed(sd_bus_message *m, void *userdata,
			    sd_bus_error *ret)
{
	struct exec_agents *x = userdata;
	const char *name = NULL, *old = NULL, *new = NULL;

	(void)ret;
	if (sd_bus_message_read(m, "sss", &name, &old, &new) >= 0 &&
	    (!new || !*new))
		owner_gone(x, name);
	return 0;
}

/* The registration serving uri: the longest prefix that covers it. */
static struct reg *serving(struct exec_agents *x, const char *uri)
{
	const char *u = bare(uri);
	struct reg *best = NULL;

	for (struct reg *g = x->regs; g; g = g->next) {
		size_t n = strlen(g->prefix);

		if (!strncmp(u, g->prefix, n) && (!u[n] || u[n] == '/') &&
		    (!best || n > strlen(best->prefix)))
			best = g;
	}
	return best;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret)
{
	struct xcall *c = userdata;
	struct exec_agents *x = c->x;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	const char *data = "";
	unsigned call = c->call;
	uint32_t code = DM_ST_FAILED;
	int r;

	(void)ret;
	if (e) {
		log_notice(LOG_CTL, "Exec agent %s: no answer to call %u: %s",
			   c->owner, call, e->message ? e->message : e->name);
	} else if ((r = sd_bus_message_read(m, "us", &code, &data)) < 0) {
		log_notice(LOG_CTL, "Exec agent %s: bad answer to call %u: %s",
			   c->owner, call, strerror(-r));
		code = DM_ST_FAILED;
	} else if (strlen(data) > DM_RESULT_DATA_MAX) {
		log_notice(LOG_CTL, "Exec agent %s: %zu bytes of data, more "
			   "than %d: left out", c->owner, strlen(data),
			   DM_RESULT_DATA_MAX);
		data = "";
	}
	xcall_free(c);
	dm_agents_answer(x->da, call, code, data);
	return 0;
}

static int agent_exec(void *arg, unsigned call, const struct dm_exec_request *r,
		      const char *key, unsigned timeout)
{
	struct exec_agents *x = arg;
	struct reg *g = serving(x, r->uri);
	sd_bus_message *m = NULL;
	struct xcall *c;
	int e;

	if (!g)
		return -ENOENT;
	if (!(c = calloc(1, sizeof(*c))) || !(c->owner = strdup(g->owner))) {
		free(c);
		return -ENOMEM;
	}
	c->x = x;
	c->call = call;
	e = sd_bus_message_new_method_call(x->ctl->sd, &m, g->owner, g->path,
					   EXEC_AGENT_IFACE, "Exec");
	if (e >= 0)
		e = sd_bus_message_append(m, "s", r->uri);
	if (e >= 0)
		e = sd_bus_message_append_array(m, 'y', r->data, r->len);
	if (e >= 0)
		e = sd_bus_message_append(m, "ss", r->format, key);
	if (e >= 0)
		e = sd_bus_call_async(x->ctl->sd, &c->slot, m, on_reply, c,
				      (uint64_t)timeout * 1000000u);
	sd_bus_message_unref(m);
	if (e < 0) {
		log_notice(LOG_CTL, "Exec agent %s: cannot call it: %s",
			   g->owner, strerror(-e));
		free(c->owner);
		free(c);
		return e;
	}
	c->next = x->calls;
	x->calls = c;
	log_info(LOG_CTL, "Exec %s to agent %s %s (call %u, correlator %s)",
		 r->uri, g->owner, g->path, call, key);
	return 0;
}

static void agent_cancel(void *arg, unsigned call)
{
	struct exec_agents *x = arg;

	for (struct xcall *c = x->calls; c; c = c->next)
		if (c->call == call) {
			xcall_free(c);
			return;
		}
}

/* ---- the methods ---- */

/* The tree's refusal to make a node executable, as a D-Bus error. */
static int mark_error(sd_bus_error *e, int st, const char *prefix)
{
	char buf[DM_TREE_MAX_URI + 1];
	const char *p = ctl_utf8_text(prefix, buf, sizeof(buf));

	switch (st) {
	case DM_TREE_BAD_REQUEST:
	case DM_TREE_URI_TOO_LONG:
		return sd_bus_error_setf(e, ERR_INVALID, "'%s' is not a valid "
					 "URI of the management tree", p);
	case DM_TREE_NOT_ALLOWED:
		return sd_bus_error_setf(e, ERR_INVALID, "%s cannot be served "
					 "(the root, ./DMAcc, ./Inbox, or under "
					 "a leaf)", p);
	default:
		return sd_bus_error_setf(e, ERR_FAILED, "%s cannot be made "
					 "executable (status %d)", p, st);
	}
}

static int do_register_exec_agent(struct control *ctl, sd_bus_message *m,
				  sd_bus_error *e)
{
	struct exec_agents *x = ctl->exec;
	const char *sender = sd_bus_message_get_sender(m), *arg, *path;
	char prefix[DM_TREE_MAX_URI + 2];
	struct reg *g;
	bool interior;
	int r = sd_bus_message_read(m, "so", &arg, &path);

	if (r < 0)
		return r;
	if (!x || !ctl->dm)
		return ctl_dm_missing(e);
	if (!sender)
		return sd_bus_error_set(e, ERR_FAILED, "the caller has no bus name");
	/* "./A/B/": a subtree, its root made interior when it is missing */
	snprintf(prefix, sizeof(prefix), "%s", arg);
	interior = *prefix && prefix[strlen(prefix) - 1] == '/';
	if (interior)
		prefix[strlen(prefix) - 1] = '\0';
	if (strlen(arg) > DM_TREE_MAX_URI || !*bare(prefix) ||
	    prefix[strlen(prefix) - 1] == '/')
		return mark_error(e, DM_TREE_BAD_REQUEST, arg);
	for (g = x->regs; g; g = g->next)
		if (!strcmp(g->prefix, bare(prefix)))
			return sd_bus_error_setf(e, ERR_FAILED, "%s is served "
						 "already (%s %s)", g->prefix,
						 g->owner, g->path);
	if (x->nregs >= AGENTS_MAX)
		return sd_bus_error_setf(e, ERR_FAILED, "%d subtrees are served "
					 "already", AGENTS_MAX);
	r = dm_client_make_executable(ctl->dm, prefix, interior);
	if (r != DM_TREE_OK)
		return mark_error(e, r, prefix);
	if (!(g = calloc(1, sizeof(*g))))
		return -ENOMEM;
	g->prefix = strdup(bare(prefix));
	g->owner = strdup(sender);
	g->path = strdup(path);
	if (!g->prefix || !g->owner || !g->path ||
	    (r = ctl_watch_owner(ctl->sd, &g->watch, sender, on_owner_changed,
				 x)) < 0) {
		free(g->prefix);
		free(g->owner);
		free(g->path);
		free(g);
		return r < 0 ? r : -ENOMEM;
	}
	g->next = x->regs;
	x->regs = g;
	x->nregs++;
	log_notice(LOG_CTL, "Exec agent %s %s registered for %s", sender, path,
		   g->prefix);
	changed(x);
	return sd_bus_reply_method_return(m, "");
}

static int do_unregister_exec_agent(struct control *ctl, sd_bus_message *m,
				    sd_bus_error *e)
{
	struct exec_agents *x = ctl->exec;
	const char *sender = sd_bus_message_get_sender(m), *prefix;
	struct reg *g;
	int r = sd_bus_message_read(m, "s", &prefix);

	if (r < 0)
		return r;
	if (!x)
		return ctl_dm_missing(e);
	for (g = x->regs; g; g = g->next)
		if (!strncmp(g->prefix, bare(prefix), strlen(g->prefix)) &&
		    (!bare(prefix)[strlen(g->prefix)] ||
		     !strcmp(bare(prefix) + strlen(g->prefix), "/")) &&
		    sender && !strcmp(g->owner, sender))
			break;
	if (!g)
		return sd_bus_error_setf(e, ERR_FAILED, "the caller serves no "
					 "subtree %s", bare(prefix));
	log_notice(LOG_CTL, "Exec agent %s %s for %s unregistered", g->owner,
		   g->path, g->prefix);
	reg_free(x, g);
	changed(x);
	return sd_bus_reply_method_return(m, "");
}

static int do_exec_result(struct control *ctl, sd_bus_message *m,
			  sd_bus_error *e)
{
	struct exec_agents *x = ctl->exec;
	const char *key, *data;
	char cut[DM_RESULT_KEY_MAX + 1], buf[DM_RESULT_KEY_MAX + 1];
	uint32_t code;
	int r = sd_bus_message_read(m, "sus", &key, &code, &data);

	if (r < 0)
		return r;
	if (!x)
		return ctl_dm_missing(e);
	r = dm_agents_result(x->da, key, code, data);
	switch (r) {
	case 0:
		return sd_bus_reply_method_return(m, "");
	case -ENOENT:
		snprintf(cut, sizeof(cut), "%s", key);
		return sd_bus_error_setf(e, ERR_NOTFOUND, "no accepted Exec "
					 "with correlator '%s'",
					 ctl_utf8_text(cut, buf, sizeof(buf)));
	case -EALREADY:
		return sd_bus_error_setf(e, ERR_FAILED, "the result of %s came "
					 "already", key);	/* known: UTF-8 */
	case -EINVAL:
		return sd_bus_error_setf(e, ERR_INVALID, "result code %u is not "
					 "200 to 599", code);
	case -E2BIG:
		return sd_bus_error_setf(e, ERR_INVALID, "data: at most %d bytes",
					 DM_RESULT_DATA_MAX);
	default:
		return r;
	}
}

CTL_PRIVILEGED(register_exec_agent)

CTL_PRIVILEGED(unregister_exec_agent)

CTL_PRIVILEGED(exec_result)

static int prop_agents(sd_bus *bus, const char *path, const char *iface,
		       const char *prop, sd_bus_message *reply,
		       void *userdata, sd_bus_error *e)
{
	struct control *ctl = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "(sso)");

	(void)bus;
	(void)path;
	(void)iface;
	(void)prop;
	(void)e;
	for (struct reg *g = ctl->exec ? ctl->exec->regs : NULL; r >= 0 && g;
	     g = g->next)
		r = sd_bus_message_append(reply, "(sso)", g->prefix, g->owner,
					  g->path);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

const sd_bus_vtable ctl_exec_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("ExecAgents", "a(sso)", prop_agents, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD_WITH_ARGS("RegisterExecAgent",
		SD_BUS_ARGS("s", path_prefix, "o", path), SD_BUS_NO_RESULT,
		method_register_exec_agent, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("UnregisterExecAgent",
		SD_BUS_ARGS("s", path_prefix), SD_BUS_NO_RESULT,
		method_unregister_exec_agent, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ExecResult",
		SD_BUS_ARGS("s", correlator, "u", result_code, "s", data),
		SD_BUS_NO_RESULT, method_exec_result,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

struct exec_agents *exec_agents_new(struct control *ctl, struct dm_client *dc)
{
	struct exec_agents *x;
	struct dm_agents_ops ops = { .exec = agent_exec, .cancel = agent_cancel };

	if (!dm_client_agents(dc) || !(x = calloc(1, sizeof(*x))))
		return NULL;
	x->ctl = ctl;
	x->da = dm_client_agents(dc);
	ops.arg = x;
	dm_agents_set_ops(x->da, &ops);
	return x;
}

void exec_agents_free(struct exec_agents *x)
{
	if (!x)
		return;
	dm_agents_set_ops(x->da, NULL);
	while (x->calls)
		xcall_free(x->calls);
	while (x->regs)
		reg_free(x, x->regs);
	free(x);
}
