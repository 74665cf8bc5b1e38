/* SPDX-License-Identifier: MIT */
/*
 * monitor: one line per signal of org.dmscgw1, flushed as it comes, until
 * SIGINT or SIGTERM.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/ctl.h"

static volatile sig_atomic_t monitor_quit;
static int monitor_fd = -1;

/*
 * A signal between the check of monitor_quit and the poll in sd_bus_wait()
 * would otherwise wait for the next message: shutting the read side of the
 * bus socket (async-signal-safe) makes that poll return at once.
 */
static void monitor_on_signal(int sig)
{
	monitor_quit = 1;
	if (monitor_fd >= 0)
		shutdown(monitor_fd, SHUT_RD);
}

static void monitor_begin(const struct ctl *c, const char *signal,
			  const char *path)
{
	if (c->json) {
		fputs("{\"signal\":", stdout);
		json_string(stdout, signal);
		fputs(",\"path\":", stdout);
		json_string(stdout, path);
	} else {
		printf("%s %s", signal, path);
	}
}

static void monitor_end(const struct ctl *c)
{
	fputs(c->json ? "}\n" : "\n", stdout);
	fflush(stdout);
}

/* A byte-coded field (command type, general result, tag): hex. */
static void monitor_hex(const struct ctl *c, const char *key, unsigned v,
			int width)
{
	if (c->json)
		printf(",\"%s\":\"%0*X\"", key, width, v);
	else
		printf(" %s=%0*X", key, width, v);
}

static int monitor_bad(sd_bus_message *m, int r)
{
	fprintf(stderr, "dmscgwctl: cannot read the %s signal: %s\n",
		sd_bus_message_get_member(m), strerror(-r));
	return 0;
}

/* CardInserted(o card, s reader), CardRemoved(o card, s reader) */
static int monitor_on_card(sd_bus_message *m, void *userdata,
			   sd_bus_error *e)
{
	const struct ctl *c = userdata;
	const char *card, *reader;
	int r = sd_bus_message_read(m, "os", &card, &reader);

	if (r < 0)
		return monitor_bad(m, r);
	monitor_begin(c, sd_bus_message_get_member(m), card);
	if (c->json) {
		fputs(",\"reader\":", stdout);
		json_string(stdout, reader);
	} else {
		fputc(' ', stdout);
		quoted_string(stdout, reader);
	}
	monitor_end(c);
	return 0;
}

/* ProactiveCommand(y type, y result) */
static int monitor_on_command(sd_bus_message *m, void *userdata,
			      sd_bus_error *e)
{
	const struct ctl *c = userdata;
	uint8_t type, result;
	int r = sd_bus_message_read(m, "yy", &type, &result);

	if (r < 0)
		return monitor_bad(m, r);
	monitor_begin(c, "ProactiveCommand", sd_bus_message_get_path(m));
	monitor_hex(c, "type", type, 2);
	monitor_hex(c, "result", result, 2);
	monitor_end(c);
	return 0;
}

/* EnvelopeSent(y tag, q sw) */
static int monitor_on_envelope(sd_bus_message *m, void *userdata,
			       sd_bus_error *e)
{
	const struct ctl *c = userdata;
	uint8_t tag;
	uint16_t sw;
	int r = sd_bus_message_read(m, "yq", &tag, &sw);

	if (r < 0)
		return monitor_bad(m, r);
	monitor_begin(c, "EnvelopeSent", sd_bus_message_get_path(m));
	monitor_hex(c, "tag", tag, 2);
	monitor_hex(c, "sw", sw, 4);
	monitor_end(c);
	return 0;
}

/* ChannelChanged(y id, s what) */
static int monitor_on_channel(sd_bus_message *m, void *userdata,
			      sd_bus_error *e)
{
	const struct ctl *c = userdata;
	const char *what;
	uint8_t id;
	int r = sd_bus_message_read(m, "ys", &id, &what);

	if (r < 0)
		return monitor_bad(m, r);
	monitor_begin(c, "ChannelChanged", sd_bus_message_get_path(m));
	if (c->json)
		printf(",\"id\":%u,\"what\":", id);
	else
		printf(" channel=%u ", id);
	if (c->json)
		json_string(stdout, what);
	else
		fputs(what, stdout);
	monitor_end(c);
	return 0;
}

/* A string field: quoted with C escapes in text, as JSON. */
static void monitor_string(const struct ctl *c, const char *key,
			   const char *v)
{
	if (c->json) {
		printf(",\"%s\":", key);
		json_string(stdout, v);
	} else {
		printf(" %s=", key);
		quoted_string(stdout, v);
	}
}

/* A word of a fixed vocabulary (trigger, result): bare in text. */
static void monitor_word(const struct ctl *c, const char *key, const char *v)
{
	if (c->json)
		monitor_string(c, key, v);
	else
		printf(" %s=%s", key, v);
}

static void monitor_uint(const struct ctl *c, const char *key, unsigned v)
{
	printf(c->json ? ",\"%s\":%u" : " %s=%u", key, v);
}

/* SessionStarted(u id, s server, s trigger) */
static int monitor_on_session_started(sd_bus_message *m, void *userdata,
				      sd_bus_error *e)
{
	const struct ctl *c = userdata;
	const char *server, *trigger;
	uint32_t id;
	int r = sd_bus_message_read(m, "uss", &id, &server, &trigger);

	if (r < 0)
		return monitor_bad(m, r);
	monitor_begin(c, "SessionStarted", sd_bus_message_get_path(m));
	monitor_uint(c, "id", id);
	monitor_string(c, "server", server);
	monitor_word(c, "trigger", trigger);
	monitor_end(c);
	return 0;
}

/* SessionFinished(u id, s server, s result, s error, u commands) */
static int monitor_on_session_finished(sd_bus_message *m, void *userdata,
				       sd_bus_error *e)
{
	const struct ctl *c = userdata;
	const char *server, *result, *error;
	uint32_t id, commands;
	int r = sd_bus_message_read(m, "usssu", &id, &server, &result, &error,
				    &commands);

	if (r < 0)
		return monitor_bad(m, r);
	monitor_begin(c, "SessionFinished", sd_bus_message_get_path(m));
	monitor_uint(c, "id", id);
	monitor_string(c, "server", server);
	monitor_word(c, "result", result);
	monitor_string(c, "error", error);
	monitor_uint(c, "commands", commands);
	monitor_end(c);
	return 0;
}

/* SessionNotice(u id, s server) */
static int monitor_on_session_notice(sd_bus_message *m, void *userdata,
				     sd_bus_error *e)
{
	const struct ctl *c = userdata;
	const char *server;
	uint32_t id;
	int r = sd_bus_message_read(m, "us", &id, &server);

	if (r < 0)
		return monitor_bad(m, r);
	monitor_begin(c, "SessionNotice", sd_bus_message_get_path(m));
	monitor_uint(c, "id", id);
	monitor_string(c, "server", server);
	monitor_end(c);
	return 0;
}

/* PropertiesChanged(s interface, a{sv} changed, as invalidated) */
static int monitor_on_properties(sd_bus_message *m, void *userdata,
				 sd_bus_error *e)
{
	const struct ctl *c = userdata;
	struct value changed, invalidated;
	const char *iface;
	int r;

	memset(&changed, 0, sizeof(changed));
	memset(&invalidated, 0, sizeof(invalidated));
	if (!sd_bus_message_has_signature(m, "sa{sv}as"))
		return monitor_bad(m, -EBADMSG);
	r = sd_bus_message_read(m, "s", &iface);
	if (r < 0)
		return monitor_bad(m, r);
	r = value_read(m, &changed);
	if (r >= 0 && changed.kind != VALUE_DICT)
		r = -EBADMSG;
	if (r >= 0)
		r = value_read(m, &invalidated);
	if (r >= 0 && invalidated.kind != VALUE_ARRAY)
		r = -EBADMSG;
	if (r < 0) {
		value_clear(&changed);
		value_clear(&invalidated);
		return monitor_bad(m, r);
	}
	monitor_begin(c, "PropertiesChanged", sd_bus_message_get_path(m));
	if (c->json) {
		fputs(",\"interface\":", stdout);
		json_string(stdout, iface);
		fputs(",\"changed\":", stdout);
		value_json(stdout, &changed);
		fputs(",\"invalidated\":", stdout);
		value_json(stdout, &invalidated);
	} else {
		printf(" %s", iface);
		for (size_t i = 0; i + 1 < changed.n; i += 2) {
			printf(" %s=", changed.items[i].str);
			value_brief(stdout, &changed.items[i + 1]);
		}
		/* no value sent: the name alone */
		for (size_t i = 0; i < invalidated.n; i++)
			printf(" %s", invalidated.items[i].str);
	}
	monitor_end(c);
	value_clear(&changed);
	value_clear(&invalidated);
	return 0;
}

int monitor_verb(struct ctl *c, int argc, char **argv)
{
	static const struct {
		const char *path, *iface, *member;
		sd_bus_message_handler_t fn;
	} matches[] = {
		{ DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE, "CardInserted",
		  monitor_on_card },
		{ DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE, "CardRemoved",
		  monitor_on_card },
		{ DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE, "SessionStarted",
		  monitor_on_session_started },
		{ DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE, "SessionFinished",
		  monitor_on_session_finished },
		{ DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE, "SessionNotice",
		  monitor_on_session_notice },
		{ NULL, DMSCGW_CARD_IFACE, "ProactiveCommand",
		  monitor_on_command },
		{ NULL, DMSCGW_CARD_IFACE, "EnvelopeSent", monitor_on_envelope },
		{ NULL, DMSCGW_CARD_IFACE, "ChannelChanged", monitor_on_channel },
		{ NULL, DBUS_PROPERTIES_IFACE, "PropertiesChanged",
		  monitor_on_properties },
	};
	struct sigaction sa;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = ctl_connect(c);
	if (r)
		return r;
	/*
	 * Matches first, then the check that dmscgw runs: nothing it sends
	 * after the check is missed.  The matches are on the well-known name,
	 * which the bus resolves to whoever owns it, also after a restart.
	 */
	for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
		r = sd_bus_match_signal(c->bus, NULL, DMSCGW_SERVICE,
					matches[i].path, matches[i].iface,
					matches[i].member, matches[i].fn, c);
		if (r < 0) {
			sd_bus_error_set_errno(&e, r);
			break;
		}
	}
	if (r >= 0)
		r = sd_bus_call_method(c->bus, "org.freedesktop.DBus",
				       "/org/freedesktop/DBus",
				       "org.freedesktop.DBus", "GetNameOwner",
				       &e, NULL, "s", DMSCGW_SERVICE);
	if (r < 0) {
		r = ctl_bus_error(c, &e, r);
		sd_bus_error_free(&e);
		return r;
	}
	c->answered = true;
	/*
	 * Ready: every signal the daemon sends from now on is printed.  On
	 * stderr, so stdout stays one line per signal; scripts wait for it
	 * instead of guessing how long the match rules take.
	 */
	fprintf(stderr, "monitoring %s\n", DMSCGW_SERVICE);
	fflush(stderr);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = monitor_on_signal;
	sigemptyset(&sa.sa_mask);
	monitor_fd = sd_bus_get_fd(c->bus);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!monitor_quit) {
		r = sd_bus_process(c->bus, NULL);
		if (r > 0)
			continue;
		if (r == 0)
			r = sd_bus_wait(c->bus, UINT64_MAX);
		if (r < 0 && r != -EINTR && !monitor_quit) {
			r = ctl_bus_error(c, &e, r);
			sd_bus_error_free(&e);
			return r;
		}
	}
	monitor_fd = -1;
	return CTL_OK;
}
