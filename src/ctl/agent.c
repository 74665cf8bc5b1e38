/* SPDX-License-Identifier: MIT */
/*
 * The UI agent: one D-Bus client that answers the user-interaction alerts
 * 1100-1104 of DM sessions (org.dmscgw1.Agent.Alert) and says whether a
 * session of UI mode user interaction may start (ConfirmSession; DM
 * Notification 1.2 6.2.7).  Questions go out as
 * asynchronous calls; the session waits, the loop does not.  An agent that
 * errs, is too slow or leaves the bus leaves the answer to the policy.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "ctl/agent.h"
#include "ctl/service.h"
#include "dm/client.h"
#include "log.h"

#define AGENT_IFACE	"org.dmscgw1.Agent"
#define DEFAULT_TIMEOUT	60	/* seconds, when the alert has no MAXDT */
#define MAX_TIMEOUT	600

struct question {
	struct agent *a;
	unsigned id;			/* the session's */
	sd_bus_slot *slot;
	struct question *next;
};

struct agent {
	sd_bus *sd;
	struct dm_client *dc;
	char *owner;			/* unique bus name; NULL: none */
	char *path;
	sd_bus_slot *watch;		/* NameOwnerChanged of owner */
	struct question *questions;
};

static void question_free(struct question *q)
{
	struct question **pp;

	for (pp = &q->a->questions; *pp != q; pp = &(*pp)->next)
		;
	*pp = q->next;
	sd_bus_slot_unref(q->slot);
	free(q);
}

static void drop(struct agent *a, const char *why)
{
	if (!a->owner)
		return;
	log_notice(LOG_CTL, "UI agent %s %s %s: alerts answered by policy",
		   a->owner, a->path, why);
	a->watch = sd_bus_slot_unref(a->watch);
	free(a->owner);
	free(a->path);
	a->owner = a->path = NULL;
	/* open questions: the sessions go on by policy (and ask no more) */
	while (a->questions) {
		unsigned id = a->questions->id;

		question_free(a->questions);
		dm_client_ui_answer(a->dc, id, DM_UI_POLICY, NULL);
	}
}

/* Alert answers (bs), ConfirmSession answers (b). */
static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret)
{
	struct question *q = userdata;
	struct agent *a = q->a;
	unsigned id = q->id;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	const char *answer = NULL;
	int accepted = 0, r;

	(void)ret;
	question_free(q);
	if (e) {
		log_notice(LOG_CTL, "UI agent: no answer for session %u: %s",
			   id, e->message ? e->message : e->name);
		dm_client_ui_answer(a->dc, id, DM_UI_POLICY, NULL);
		return 0;
	}
	r = sd_bus_message_has_signature(m, "b") ?
	    sd_bus_message_read(m, "b", &accepted) :
	    sd_bus_message_read(m, "bs", &accepted, &answer);
	if (r < 0) {
		log_notice(LOG_CTL, "UI agent: bad answer for session %u: %s",
			   id, strerror(-r));
		dm_client_ui_answer(a->dc, id, DM_UI_POLICY, NULL);
		return 0;
	}
	dm_client_ui_answer(a->dc, id, accepted ? DM_UI_ACCEPT : DM_UI_REJECT,
			    answer);
	return 0;
}

/* Send m (ret: how building it went) as the question for session id. */
static int send_question(struct agent *a, unsigned id, sd_bus_message *m,
			 int ret, unsigned timeout)
{
	struct question *q = ret >= 0 ? calloc(1, sizeof(*q)) : NULL;

	if (ret >= 0 && !q)
		ret = -ENOMEM;
	if (ret >= 0) {
		q->a = a;
		q->id = id;
		ret = sd_bus_call_async(a->sd, &q->slot, m, on_reply, q,
					(uint64_t)(timeout < MAX_TIMEOUT ?
						   timeout : MAX_TIMEOUT) *
					1000000u);
	}
	sd_bus_message_unref(m);
	if (ret < 0) {
		log_notice(LOG_CTL, "UI agent: cannot ask: %s", strerror(-ret));
		free(q);
		return ret;
	}
	q->next = a->questions;
	a->questions = q;
	return 0;
}

/* A call of member to the agent in *m: 0, -ENOENT without an agent. */
static int new_question(struct agent *a, const char *member,
			sd_bus_message **m)
{
	*m = NULL;
	if (!a->owner)
		return -ENOENT;
	return sd_bus_message_new_method_call(a->sd, m, a->owner, a->path,
					      AGENT_IFACE, member);
}

static int ask(void *arg, unsigned id, const char *server,
	       const struct dm_ui_request *r)
{
	struct agent *a = arg;
	sd_bus_message *m;
	int ret = new_question(a, "Alert", &m);

	if (ret == -ENOENT)
		return ret;
	if (ret >= 0)
		ret = sd_bus_message_append(m, "usqs", id, server,
					    (uint16_t)r->code, r->text);
	if (ret >= 0)
		ret = sd_bus_message_open_container(m, 'a', "s");
	for (size_t i = 0; ret >= 0 && i < r->nchoices; i++)
		ret = sd_bus_message_append(m, "s", r->choices[i]);
	if (ret >= 0)
		ret = sd_bus_message_close_container(m);
	if (ret >= 0)
		ret = sd_bus_message_append(m, "s", r->options);
	return send_question(a, id, m, ret,
			     r->timeout ? r->timeout : DEFAULT_TIMEOUT);
}

/* A session of UI mode user interaction, before it starts. */
static int confirm(void *arg, unsigned id, const char *server)
{
	struct agent *a = arg;
	sd_bus_message *m;
	int ret = new_question(a, "ConfirmSession", &m);

	if (ret == -ENOENT)
		return ret;
	if (ret >= 0)
		ret = sd_bus_message_append(m, "us", id, server);
	return send_question(a, id, m, ret, DEFAULT_TIMEOUT);
}

static void cancel(void *arg, unsigned id)
{
	struct agent *a = arg;

	for (struct question *q = a->questions; q; q = q->next)
		if (q->id == id) {
			question_free(q);
			return;
		}
}

static int on_owner_changed(sd_bus_message *m, void *userdata,
			    sd_bus_error *ret)
{
	struct agent *a = userdata;
	const char *name = NULL, *old = NULL, *new = NULL;

	(void)ret;
	if (sd_bus_message_read(m, "sss", &name, &old, &new) >= 0 &&
	    a->owner && !strcmp(name, a->owner) && (!new || !*new))
		drop(a, "gone from the bus");
	return 0;
}

int agent_register(struct agent *a, const char *sender, const char *path,
		   sd_bus_error *e)
{
	int r;

	if (!sender)
		return sd_bus_error_set(e, ERR_FAILED,
					"the caller has no bus name");
	if (a->owner)
		return sd_bus_error_setf(e, ERR_FAILED,
					 "a UI agent is already registered "
					 "(%s %s)", a->owner, a->path);
	a->owner = strdup(sender);
	a->path = strdup(path);
	if (!a->owner || !a->path) {
		drop(a, "out of memory");
		return -ENOMEM;
	}
	r = ctl_watch_owner(a->sd, &a->watch, sender, on_owner_changed, a);
	if (r < 0) {
		drop(a, "not watched");
		return sd_bus_error_set_errno(e, r);
	}
	log_notice(LOG_CTL, "UI agent %s %s registered", sender, path);
	return 0;
}

int agent_unregister(struct agent *a, const char *sender, const char *path,
		     sd_bus_error *e)
{
	if (!a->owner || !sender || strcmp(sender, a->owner) ||
	    strcmp(path, a->path))
		return sd_bus_error_setf(e, ERR_FAILED,
					 "%s is not the registered UI agent",
					 path);
	drop(a, "unregistered");
	return 0;
}

struct agent *agent_new(sd_bus *sd, struct dm_client *dc)
{
	struct agent *a = calloc(1, sizeof(*a));
	struct dm_client_ui ui = {
		.ask = ask, .confirm = confirm, .cancel = cancel,
	};

	if (!a)
		return NULL;
	a->sd = sd;
	a->dc = dc;
	ui.arg = a;
	dm_client_set_ui(dc, &ui);
	return a;
}

void agent_free(struct agent *a)
{
	if (!a)
		return;
	dm_client_set_ui(a->dc, NULL);
	while (a->questions)
		question_free(a->questions);
	a->watch = sd_bus_slot_unref(a->watch);
	free(a->owner);
	free(a->path);
	free(a);
}
