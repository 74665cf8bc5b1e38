/* SPDX-License-Identifier: MIT */
/*
 * org.dmscgw1.Manager, the DM client's part: the sessions (started,
 * reported, cancelled, listed), DM notifications handed in, and the UI
 * agent's registration (agent.c calls the agent).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/agent.h"
#include "ctl/control.h"
#include "ctl/exec_agent.h"
#include "ctl/service.h"
#include "dm/client.h"
#include "log.h"
#include "sms/sms.h"
#include "util/sdbus.h"

/* Sessions read per try; the buffer grows while the client fills it. */
#define SESSIONS_FIRST	(DM_CLIENT_HISTORY + 16)
#define SESSIONS_MAX	4096
/* The longest ServerID dm_client_start takes. */
#define SERVER_ID_MAX	(sizeof(((struct dm_session_info *)NULL)->server_id) - 1)

/* DM client observer: a session started or finished. */
static void dm_started(void *arg, const struct dm_session_info *s)
{
	struct control *ctl = arg;
	char server[sizeof(s->server_id)];

	sdbus_emit_signal(ctl->bus, MANAGER_PATH, MANAGER_IFACE,
			  "SessionStarted", "uss", s->id,
			  ctl_utf8_text(s->server_id, server, sizeof(server)),
			  s->trigger ? s->trigger : "");
	ctl_emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Sessions");
}

static void dm_finished(void *arg, const struct dm_session_info *s)
{
	struct control *ctl = arg;
	char server[sizeof(s->server_id)], error[sizeof(s->error)];
	const char *result = dm_session_result_name(s->result);

	sdbus_emit_signal(ctl->bus, MANAGER_PATH, MANAGER_IFACE,
			  "SessionFinished", "usssu", s->id,
			  ctl_utf8_text(s->server_id, server, sizeof(server)),
			  result ? result : "",
			  ctl_utf8_text(s->error, error, sizeof(error)),
			  s->commands);
	ctl_emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Sessions");
}

/* A notification of UI mode informative (DM_Notification 1.2 6.2.7). */
static void dm_notice(void *arg, const struct dm_session_info *s)
{
	struct control *ctl = arg;
	char server[sizeof(s->server_id)];

	sdbus_emit_signal(ctl->bus, MANAGER_PATH, MANAGER_IFACE,
			  "SessionNotice", "us", s->id,
			  ctl_utf8_text(s->server_id, server, sizeof(server)));
}

/* DM client observer: a session waits to be tried again. */
static void dm_changed(void *arg, const struct dm_session_info *s)
{
	(void)s;
	ctl_emit(arg, MANAGER_PATH, MANAGER_IFACE, "Sessions");
}

void control_set_dm(struct control *ctl, struct dm_client *dc)
{
	if (!ctl)
		return;
	if (ctl->dm && ctl->dm != dc)
		dm_client_set_observer(ctl->dm, NULL);
	ctl->dm = dc;
	agent_free(ctl->agent);
	ctl->agent = dc ? agent_new(ctl->sd, dc) : NULL;
	exec_agents_free(ctl->exec);
	ctl->exec = dc ? exec_agents_new(ctl, dc) : NULL;
	ctl->dm_observer.started = dm_started;
	ctl->dm_observer.finished = dm_finished;
	ctl->dm_observer.notice = dm_notice;
	ctl->dm_observer.changed = dm_changed;
	ctl->dm_observer.arg = ctl;
	if (dc)
		dm_client_set_observer(dc, &ctl->dm_observer);
}

static int do_start_session(struct control *ctl, sd_bus_message *m,
			    sd_bus_error *e)
{
	const char *server;
	char why[256] = "";
	size_t n;
	int r;

	r = sd_bus_message_read(m, "s", &server);
	if (r < 0)
		return r;
	if (!ctl->dm)
		return ctl_dm_missing(e);
	n = strlen(server);
	if (!n || n > SERVER_ID_MAX)
		return sd_bus_error_setf(e, ERR_INVALID,
					 "server_id must be 1 to %zu bytes",
					 SERVER_ID_MAX);
	r = dm_client_start(ctl->dm, server, "dbus", why, sizeof(why));
	if (r == -ENOENT)
		return sd_bus_error_setf(e, ERR_NOTFOUND, "%s", *why ? why :
					 "no account with that ServerID");
	if (r < 0)
		return sd_bus_error_setf(e, ERR_FAILED, "%s", *why ? why :
					 strerror(-r));
	log_info(LOG_CTL, "DM session %d with %s asked for over D-Bus", r,
		 server);
	/* queued now: the observer tells only when it starts */
	ctl_emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Sessions");
	return sd_bus_reply_method_return(m, "u", (uint32_t)r);
}

/* The importance levels of a Generic Alert's Meta Mark (DM Protocol 1.2). */
static bool mark_valid(const char *mark)
{
	static const char *const marks[] = {
		"", "fatal", "critical", "minor", "warning", "informational",
		"harmless", "indeterminate",
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (!strcmp(mark, marks[i]))
			return true;
	return false;
}

/*
 * Report(server, source, type, format, data) and ReportMark(server, source,
 * type, format, mark, data): a Generic Alert session.
 */
static int do_report(struct control *ctl, sd_bus_message *m, sd_bus_error *e)
{
	struct dm_generic_alert g;
	const char *server, *source, *type, *format, *mark = "", *data;
	char why[200] = "";
	int r = sd_bus_message_has_signature(m, "ssssss") ?
		sd_bus_message_read(m, "ssssss", &server, &source, &type,
				    &format, &mark, &data) :
		sd_bus_message_read(m, "sssss", &server, &source, &type,
				    &format, &data);

	if (r < 0)
		return r;
	if (!mark_valid(mark))
		return sd_bus_error_setf(e, ERR_INVALID, "mark '%.32s' is not "
					 "one of fatal, critical, minor, warning, "
					 "informational, harmless, indeterminate",
					 mark);
	if (!ctl->dm)
		return ctl_dm_missing(e);
	memset(&g, 0, sizeof(g));
	if (!*server || strlen(server) > SERVER_ID_MAX ||
	    strlen(source) >= sizeof(g.source) || strlen(type) >= sizeof(g.type) ||
	    strlen(format) >= sizeof(g.format) || strlen(data) >= sizeof(g.data))
		return sd_bus_error_setf(e, ERR_INVALID, "an argument is empty "
					 "or too long (data: at most %zu bytes)",
					 sizeof(g.data) - 1);
	snprintf(g.source, sizeof(g.source), "%s", source);
	snprintf(g.type, sizeof(g.type), "%s", type);
	snprintf(g.format, sizeof(g.format), "%s", format);
	snprintf(g.data, sizeof(g.data), "%s", data);
	snprintf(g.mark, sizeof(g.mark), "%s", mark);
	r = dm_client_report(ctl->dm, server, &g, "dbus", why, sizeof(why));
	if (r == -ENOENT)
		return sd_bus_error_setf(e, ERR_NOTFOUND, "%s", why);
	if (r < 0)
		return sd_bus_error_setf(e, ERR_FAILED, "%s", *why ? why :
					 strerror(-r));
	ctl_emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Sessions");
	return sd_bus_reply_method_return(m, "u", (uint32_t)r);
}

/* CancelSession(id): a queued session is dropped, a running one aborts. */
static int do_cancel_session(struct control *ctl, sd_bus_message *m,
			     sd_bus_error *e)
{
	uint32_t id;
	int r = sd_bus_message_read(m, "u", &id);

	if (r < 0)
		return r;
	if (!ctl->dm)
		return ctl_dm_missing(e);
	log_info(LOG_CTL, "DM session %u: cancel asked for over D-Bus", id);
	if (dm_client_cancel(ctl->dm, id, "cancelled over D-Bus") < 0)
		return sd_bus_error_setf(e, ERR_NOTFOUND, "no queued or running "
					 "session %u", id);
	ctl_emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Sessions");
	return sd_bus_reply_method_return(m, "");
}

CTL_PRIVILEGED(cancel_session)

CTL_PRIVILEGED(report)

CTL_PRIVILEGED(start_session)

/* man/org.dmscgw1.5: the kinds Notify takes. */
static int notify_kind(const char *s, enum sms_notify_kind *k)
{
	if (!strcmp(s, "package0"))
		*k = SMS_NOTIFY_PACKAGE0;
	else if (!strcmp(s, "wap-push"))
		*k = SMS_NOTIFY_WAP_PUSH;
	else
		return -EINVAL;
	return 0;
}

/*
 * Notify(kind, data): a Package#0 or a WAP push, decoded as the kind says
 * (a Package#0 whose digest starts with 06 is no push).
 */
static int do_notify(struct control *ctl, sd_bus_message *m, sd_bus_error *e)
{
	enum sms_notify_kind kind;
	const char *ks;
	const void *p;
	size_t len;
	char why[200] = "", buf[64];
	int r = sd_bus_message_read(m, "s", &ks);

	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &p, &len);
	if (r < 0)
		return r;
	if (notify_kind(ks, &kind) < 0) {
		snprintf(buf, sizeof(buf), "%s", ks);
		ks = ctl_utf8_text(buf, why, sizeof(why));
		log_notice(LOG_CTL, "notification by dbus refused: kind '%s' is "
			   "not package0 or wap-push", ks);
		return sd_bus_error_setf(e, ERR_INVALID, "kind '%s' is not "
					 "package0 or wap-push", ks);
	}
	if (!ctl->dm)
		return ctl_dm_missing(e);
	r = sms_notify(ctl->dm, kind, p, len, "dbus", why, sizeof(why));
	switch (r) {
	case 0:
		log_info(LOG_CTL, "DM notification (%s, %zu bytes) taken over "
			 "D-Bus", ks, len);
		return sd_bus_reply_method_return(m, "");
	case -ENOENT:
		return sd_bus_error_setf(e, ERR_NOTFOUND, "%s", why);
	case -EBADMSG:
	case -EPROTO:
	case -EPROTONOSUPPORT:
		return sd_bus_error_setf(e, ERR_INVALID, "%s", why);
	default:
		return sd_bus_error_setf(e, ERR_FAILED, "%s", *why ? why :
					 strerror(-r));
	}
}

CTL_PRIVILEGED(notify)

static int do_agent(struct control *ctl, sd_bus_message *m, sd_bus_error *e,
		    bool reg)
{
	const char *path;
	int r = sd_bus_message_read(m, "o", &path);

	if (r < 0)
		return r;
	if (!ctl->agent)
		return ctl_dm_missing(e);
	r = reg ? agent_register(ctl->agent, sd_bus_message_get_sender(m),
				 path, e) :
		  agent_unregister(ctl->agent, sd_bus_message_get_sender(m),
				   path, e);
	return r < 0 ? r : sd_bus_reply_method_return(m, "");
}

static int do_register_agent(struct control *ctl, sd_bus_message *m,
			     sd_bus_error *e)
{
	return do_agent(ctl, m, e, true);
}

static int do_unregister_agent(struct control *ctl, sd_bus_message *m,
			       sd_bus_error *e)
{
	return do_agent(ctl, m, e, false);
}

CTL_PRIVILEGED(register_agent)

CTL_PRIVILEGED(unregister_agent)

/* The client's sessions into *out (malloc'd); their number, or -ENOMEM. */
static int dm_sessions(struct dm_client *dc, struct dm_session_info **out)
{
	size_t cap = SESSIONS_FIRST, n;

	for (;;) {
		struct dm_session_info *v = calloc(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		n = dm_client_sessions(dc, v, cap);
		if (n < cap || cap >= SESSIONS_MAX) {
			*out = v;
			return (int)(n < cap ? n : cap);
		}
		free(v);
		cap *= 4;
	}
}

static int prop_sessions(sd_bus *bus, const char *path, const char *iface,
			 const char *prop, sd_bus_message *reply,
			 void *userdata, sd_bus_error *e)
{
	struct control *ctl = userdata;
	struct dm_session_info *s = NULL;
	int n = 0, r;

	if (ctl->dm && (n = dm_sessions(ctl->dm, &s)) < 0)
		return n;
	r = sd_bus_message_open_container(reply, 'a', "(usssusstts)");
	for (int i = 0; r >= 0 && i < n; i++) {
		char server[sizeof(s[i].server_id)], error[sizeof(s[i].error)];
		const char *result = dm_session_result_name(s[i].result);

		r = sd_bus_message_append(reply, "(usssusstts)", s[i].id,
			ctl_utf8_text(s[i].server_id, server, sizeof(server)),
			s[i].trigger ? s[i].trigger : "",
			s[i].state ? s[i].state : "", s[i].commands,
			result ? result : "",
			ctl_utf8_text(s[i].error, error, sizeof(error)),
			s[i].started_usec, s[i].finished_usec,
			s[i].transport ? s[i].transport : "");
	}
	free(s);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

const sd_bus_vtable ctl_session_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Sessions", "a(usssusstts)", prop_sessions, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD_WITH_ARGS("StartSession", SD_BUS_ARGS("s", server_id),
		SD_BUS_RESULT("u", id), method_start_session,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Report",
		SD_BUS_ARGS("s", server_id, "s", source, "s", type, "s", format,
			    "s", data),
		SD_BUS_RESULT("u", id), method_report,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("CancelSession", SD_BUS_ARGS("u", id),
		SD_BUS_NO_RESULT, method_cancel_session,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ReportMark",
		SD_BUS_ARGS("s", server_id, "s", source, "s", type, "s", format,
			    "s", mark, "s", data),
		SD_BUS_RESULT("u", id), method_report,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Notify", SD_BUS_ARGS("s", kind, "ay", data),
		SD_BUS_NO_RESULT, method_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("RegisterAgent", SD_BUS_ARGS("o", path),
		SD_BUS_NO_RESULT, method_register_agent,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("UnregisterAgent", SD_BUS_ARGS("o", path),
		SD_BUS_NO_RESULT, method_unregister_agent,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_ARGS("SessionStarted",
		SD_BUS_ARGS("u", id, "s", server, "s", trigger), 0),
	SD_BUS_SIGNAL_WITH_ARGS("SessionFinished",
		SD_BUS_ARGS("u", id, "s", server, "s", result, "s", error,
			    "u", commands), 0),
	SD_BUS_SIGNAL_WITH_ARGS("SessionNotice",
		SD_BUS_ARGS("u", id, "s", server), 0),
	SD_BUS_VTABLE_END
};
