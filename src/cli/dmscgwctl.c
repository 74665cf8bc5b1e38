/* SPDX-License-Identifier: MIT */
/*
 * dmscgwctl: the command-line client of dmscgw's D-Bus API
 * (man/org.dmscgw1.5).  A table of verbs, each one or a few method calls
 * and one way to print the result; this file holds the table, the options,
 * the connection and the error reporting that every verb shares.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ctl.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

struct verb {
	const char *name;
	const char *args;	/* synopsis for --help and usage errors */
	const char *help;
	int min_args, max_args;	/* not counting the verb */
	bool takes_card;	/* --card applies */
	int (*run)(struct ctl *c, int argc, char **argv);
};

static const struct verb verbs[] = {
	{ "status", "", "Show the daemon's state (the default verb)",
	  0, 0, false, manager_verb_status },
	{ "cards", "", "List the cards, one per line",
	  0, 0, false, card_verb_list },
	{ "card", "NAME", "Show the properties of a card",
	  1, 1, false, card_verb_show },
	{ "channels", "", "List a card's BIP channels, one per line",
	  0, 0, true, card_verb_channels },
	{ "location", "STATUS [MCC MNC LAC CELL [RAT]]",
	  "Feed the terminal's location",
	  1, 6, false, manager_verb_location },
	{ "call", "NUMBER", "Ask a card's call control about a call",
	  1, 1, true, manager_verb_call },
	{ "envelope", "HEX", "Send an ENVELOPE to a card",
	  1, 1, true, card_verb_envelope },
	{ "trace", "start FILE | stop", "Start or stop the APDU trace",
	  1, 2, false, manager_verb_trace },
	{ "reload", "", "Reload the daemon's configuration",
	  0, 0, false, manager_verb_reload },
	{ "sessions", "", "List the DM sessions, one per line",
	  0, 0, false, manager_verb_sessions },
	{ "session", "start SERVERID | cancel ID",
	  "Start a DM session with a server, or cancel one",
	  2, 2, false, manager_verb_session },
	{ "report", "SERVERID SOURCE TYPE FORMAT DATA [MARK]",
	  "Report to a server in a Generic Alert session",
	  5, 6, false, manager_verb_report },
	{ "accounts", "",
	  "Show the DM accounts in use (passwords masked)",
	  0, 0, false, manager_verb_accounts },
	{ "tree", "get URI | ls URI",
	  "Read a node of the DM management tree",
	  2, 2, false, manager_verb_tree },
	{ "notify", "package0|wap-push HEX | --file FILE",
	  "Hand a DM Notification to the DM client",
	  1, 2, false, manager_verb_notify },
	{ "monitor", "", "Print the daemon's signals as they come",
	  0, 0, false, monitor_verb },
	{ "exec-agent", "PREFIX -- COMMAND [ARG]...",
	  "Serve the Execs at and below PREFIX with COMMAND",
	  2, INT_MAX, false, exec_agent_verb },
	{ "exec-result", "CORRELATOR CODE [DATA]",
	  "Report the result of an Exec accepted with 202",
	  2, 3, false, exec_result_verb },
};

static void ctl_help(void)
{
	char left[64];

	printf("Usage: dmscgwctl [OPTION]... [VERB [ARG]...]\n"
	       "Query and drive dmscgw, the SIM toolkit gateway, over D-Bus.\n"
	       "\nVerbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		snprintf(left, sizeof(left), "%s%s%s", verbs[i].name,
			 *verbs[i].args ? " " : "", verbs[i].args);
		if (strlen(left) > 24)
			printf("  %s\n  %-24s  %s\n", left, "", verbs[i].help);
		else
			printf("  %-24s  %s\n", left, verbs[i].help);
	}
	printf("\nOptions:\n"
	       "      --json            Print JSON instead of text\n"
	       "      --bus=BUS         system (the default), session, or a D-Bus\n"
	       "                        address such as unix:path=/run/x\n"
	       "      --card=NAME       The card for call and envelope: its reader\n"
	       "                        name, object path or number\n"
	       "      --file=FILE       notify: the notification's bytes from FILE\n"
	       "  -h, --help            Show this help and exit\n"
	       "      --version         Show the version and exit\n"
	       "\nExit status: 0 done, 1 the daemon reported a failure,\n"
	       "2 usage error, 3 dmscgw is not running.\n"
	       "See dmscgwctl(1).\n");
}

int ctl_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("dmscgwctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'dmscgwctl --help' for more information.\n", stderr);
	return CTL_USAGE;
}

int ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("dmscgwctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_FAILED;
}

int ctl_connect(struct ctl *c)
{
	int r;

	if (c->bus)
		return CTL_OK;
	if (!strcmp(c->bus_spec, "system")) {
		r = sd_bus_open_system(&c->bus);
	} else if (!strcmp(c->bus_spec, "session")) {
		r = sd_bus_open_user(&c->bus);
	} else {
		r = sd_bus_new(&c->bus);
		if (r >= 0)
			r = sd_bus_set_address(c->bus, c->bus_spec);
		if (r >= 0)
			r = sd_bus_set_bus_client(c->bus, 1);
		if (r >= 0)
			r = sd_bus_start(c->bus);
		if (r < 0)
			c->bus = sd_bus_unref(c->bus);
		if (r == -EINVAL)
			return ctl_usage("'%s' is not a valid D-Bus address",
					 c->bus_spec);
	}
	if (r < 0) {
		c->bus = NULL;
		fprintf(stderr,
			"dmscgwctl: dmscgw is not running (cannot connect to the %s: %s)\n",
			c->bus_desc, strerror(-r));
		return CTL_NOT_RUNNING;
	}
	return CTL_OK;
}

int ctl_bus_error(const struct ctl *c, const sd_bus_error *e, int r)
{
	if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN,
				   SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
		fprintf(stderr,
			"dmscgwctl: dmscgw is not running (no owner of %s on the %s)\n",
			DMSCGW_SERVICE, c->bus_desc);
		return CTL_NOT_RUNNING;
	}
	if (r >= 0)
		r = -EIO;
	/*
	 * sd-bus connects lazily: a refused authentication, like a bus that
	 * went away later, shows up at a call, as a closed connection.
	 */
	if (c->bus && sd_bus_is_open(c->bus) <= 0) {
		fprintf(stderr,
			"dmscgwctl: dmscgw is not running (%s the %s: %s)\n",
			c->answered ? "lost the connection to" : "cannot connect to",
			c->bus_desc, strerror(-r));
		return CTL_NOT_RUNNING;
	}
	if (sd_bus_error_is_set(e)) {
		const char *msg = e->message ? e->message : strerror(-r);
		size_t n = strlen(msg);

		/* some services end their messages with a newline */
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			n--;
		fprintf(stderr, "dmscgwctl: %.*s (%s)\n", (int)n, msg, e->name);
	} else {
		fprintf(stderr, "dmscgwctl: %s\n", strerror(-r));
	}
	return CTL_FAILED;
}

static int ctl_try_callv(struct ctl *c, sd_bus_error *e,
			 sd_bus_message **reply, const char *path,
			 const char *iface, const char *member,
			 const char *types, va_list ap)
{
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(c->bus, &m, DMSCGW_SERVICE, path,
					   iface, member);
	if (r >= 0 && types)
		r = sd_bus_message_appendv(m, types, ap);
	if (r < 0) {
		sd_bus_message_unref(m);
		return sd_bus_error_set_errno(e, r);
	}
	r = sd_bus_call(c->bus, m, 0, e, reply);
	sd_bus_message_unref(m);
	if (r >= 0)
		c->answered = true;
	return r;
}

static int ctl_try_call(struct ctl *c, sd_bus_error *e,
			sd_bus_message **reply, const char *path,
			const char *iface, const char *member,
			const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = ctl_try_callv(c, e, reply, path, iface, member, types, ap);
	va_end(ap);
	return r;
}

int ctl_call(struct ctl *c, sd_bus_message **reply, const char *path,
	     const char *iface, const char *member, const char *types, ...)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	va_list ap;
	int r;

	va_start(ap, types);
	r = ctl_try_callv(c, &e, reply, path, iface, member, types, ap);
	va_end(ap);
	if (r >= 0)
		return CTL_OK;
	r = ctl_bus_error(c, &e, r);
	sd_bus_error_free(&e);
	return r;
}

/* The one value of reply into *v. */
static int ctl_read_reply(sd_bus_message *reply, sd_bus_error *e,
			  struct value *v, const char *what)
{
	int r = value_read(reply, v);

	if (r < 0)
		return sd_bus_error_setf(e, SD_BUS_ERROR_INCONSISTENT_MESSAGE,
					 "cannot read the reply to %s: %s",
					 what, strerror(-r));
	return 0;
}

int ctl_try_get_all(struct ctl *c, sd_bus_error *e, const char *path,
		    const char *iface, struct value *props)
{
	sd_bus_message *reply = NULL;
	int r;

	memset(props, 0, sizeof(*props));
	r = ctl_try_call(c, e, &reply, path, DBUS_PROPERTIES_IFACE, "GetAll",
			 "s", iface);
	if (r >= 0)
		r = ctl_read_reply(reply, e, props, "GetAll");
	if (r >= 0 && props->kind != VALUE_DICT) {
		value_clear(props);
		r = sd_bus_error_setf(e, SD_BUS_ERROR_INCONSISTENT_MESSAGE,
				      "GetAll of %s did not answer a{sv}", path);
	}
	sd_bus_message_unref(reply);
	return r;
}

int ctl_get_all(struct ctl *c, const char *path, const char *iface,
		struct value *props)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = ctl_try_get_all(c, &e, path, iface, props);

	if (r >= 0)
		return CTL_OK;
	r = ctl_bus_error(c, &e, r);
	sd_bus_error_free(&e);
	return r;
}

int ctl_get(struct ctl *c, const char *path, const char *iface,
	    const char *name, struct value *v)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r;

	memset(v, 0, sizeof(*v));
	r = ctl_try_call(c, &e, &reply, path, DBUS_PROPERTIES_IFACE, "Get",
			 "ss", iface, name);
	if (r >= 0)
		r = ctl_read_reply(reply, &e, v, "Get");
	sd_bus_message_unref(reply);
	if (r >= 0)
		return CTL_OK;
	r = ctl_bus_error(c, &e, r);
	sd_bus_error_free(&e);
	return r;
}

/* Strings bare, bytes contiguous, arrays by spaces, structs by '='. */
static void ctl_text(FILE *f, const struct value *v)
{
	switch (v->kind) {
	case VALUE_STRING:
	case VALUE_PATH:
		fputs(v->str, f);
		break;
	case VALUE_BYTES:
		if (v->bytes.len)
			hex_print(f, v->bytes.p, v->bytes.len, NULL);
		else
			fputs("none", f);
		break;
	case VALUE_ARRAY:
	case VALUE_DICT:
		if (!v->n)
			fputs("none", f);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputc(' ', f);
			ctl_text(f, &v->items[i]);
		}
		break;
	case VALUE_STRUCT:
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputc('=', f);
			ctl_text(f, &v->items[i]);
		}
		break;
	default:
		value_brief(f, v);
	}
}

void ctl_print_text(FILE *f, const struct value *v, enum ctl_style style)
{
	switch (style) {
	case CTL_COUNT:
		if (v->kind == VALUE_ARRAY)
			fprintf(f, "%zu", v->n);
		else if (v->kind == VALUE_BYTES)
			fprintf(f, "%zu", v->bytes.len);
		else
			ctl_text(f, v);
		return;
	case CTL_BYTE_LIST:
		if (v->kind == VALUE_BYTES && v->bytes.len)
			hex_print(f, v->bytes.p, v->bytes.len, " ");
		else
			ctl_text(f, v);
		return;
	case CTL_OFF_IF_EMPTY:
		if (v->kind == VALUE_STRING && !*v->str)
			fputs("off", f);
		else
			ctl_text(f, v);
		return;
	case CTL_UICC_LINK:
		card_link_text(f, v);
		return;
	case CTL_TEXT:
		ctl_text(f, v);
		return;
	}
}

/*
 * Whether key is one of fields, printed in their place; true also for a key
 * that is not a string, which cannot be printed as one.
 */
static bool ctl_known(const struct value *key, const struct ctl_field *fields,
		      size_t nfields)
{
	if (key->kind != VALUE_STRING)
		return true;
	for (size_t i = 0; i < nfields; i++)
		if (!strcmp(key->str, fields[i].name))
			return true;
	return false;
}

void ctl_json_props(const char *path, const struct value *props,
		    const struct ctl_field *fields, size_t nfields)
{
	bool first = true;

	fputc('{', stdout);
	if (path) {
		fputs("\"Path\":", stdout);
		json_string(stdout, path);
		first = false;
	}
	for (size_t i = 0; i < nfields; i++) {
		const struct value *v = value_get(props, fields[i].name);

		if (!v)
			continue;
		if (!first)
			fputc(',', stdout);
		json_string(stdout, fields[i].name);
		fputc(':', stdout);
		if (fields[i].style == CTL_UICC_LINK)
			card_link_json(stdout, v);
		else
			value_json(stdout, v);
		first = false;
	}
	for (size_t i = 0; i + 1 < props->n; i += 2) {
		if (ctl_known(&props->items[i], fields, nfields))
			continue;
		if (!first)
			fputc(',', stdout);
		value_json(stdout, &props->items[i]);
		fputc(':', stdout);
		value_json(stdout, &props->items[i + 1]);
		first = false;
	}
	fputc('}', stdout);
}

void ctl_print_props(const struct ctl *c, const char *path,
		     const struct value *props, const struct ctl_field *fields,
		     size_t nfields)
{
	if (c->json) {
		ctl_json_props(path, props, fields, nfields);
		fputc('\n', stdout);
		return;
	}
	if (path)
		printf("Path: %s\n", path);
	for (size_t i = 0; i < nfields; i++) {
		const struct value *v = value_get(props, fields[i].name);

		if (!v)
			continue;
		printf("%s: ", fields[i].name);
		ctl_print_text(stdout, v, fields[i].style);
		fputc('\n', stdout);
	}
	for (size_t i = 0; i + 1 < props->n; i += 2) {
		if (ctl_known(&props->items[i], fields, nfields))
			continue;
		printf("%s: ", props->items[i].str);
		ctl_print_text(stdout, &props->items[i + 1], CTL_TEXT);
		fputc('\n', stdout);
	}
}

void ctl_print_empty(const struct ctl *c)
{
	if (c->json)
		puts("{}");
}

bool ctl_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return true;
}

static const struct verb *ctl_find_verb(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

static int ctl_set_bus(struct ctl *c, const char *spec)
{
	if (!strcmp(spec, "system") || !strcmp(spec, "session")) {
		snprintf(c->bus_desc, sizeof(c->bus_desc), "%s bus", spec);
	} else if (strchr(spec, ':')) {
		snprintf(c->bus_desc, sizeof(c->bus_desc), "bus %s", spec);
	} else {
		return ctl_usage("--bus takes system, session or a D-Bus address such as unix:path=/run/x, not '%s'",
				 spec);
	}
	c->bus_spec = spec;
	return CTL_OK;
}

enum {
	OPT_JSON = 0x100,
	OPT_BUS,
	OPT_CARD,
	OPT_FILE,
	OPT_VERSION,
};

static const struct option options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "bus", required_argument, NULL, OPT_BUS },
	{ "card", required_argument, NULL, OPT_CARD },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	static char default_verb[] = "status";
	static char *default_argv[] = { default_verb, NULL };
	struct ctl c;
	const struct verb *v;
	int opt, r, nargs;
	char **args;

	memset(&c, 0, sizeof(c));
	ctl_set_bus(&c, "system");
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			c.json = true;
			break;
		case OPT_BUS:
			r = ctl_set_bus(&c, optarg);
			if (r)
				return r;
			break;
		case OPT_CARD:
			if (!*optarg)
				return ctl_usage("--card needs a reader name, object path or number");
			c.card = optarg;
			break;
		case OPT_FILE:
			c.file = optarg;
			break;
		case 'h':
			ctl_help();
			return CTL_OK;
		case OPT_VERSION:
			printf("dmscgwctl %s\n", PACKAGE_VERSION);
			return CTL_OK;
		case ':':
			return ctl_usage("option '%s' needs an argument",
					 argv[optind - 1]);
		default:
			if (optopt >= OPT_JSON)
				return ctl_usage("option '%s' takes no argument",
						 argv[optind - 1]);
			if (optopt)
				return ctl_usage("unknown option '-%c'", optopt);
			return ctl_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	args = optind < argc ? argv + optind : default_argv;
	nargs = optind < argc ? argc - optind : 1;
	v = ctl_find_verb(args[0]);
	if (!v)
		return ctl_usage("unknown verb '%s'", args[0]);
	if (nargs - 1 < v->min_args || nargs - 1 > v->max_args)
		return ctl_usage("%s takes %s", v->name,
				 *v->args ? v->args : "no arguments");
	if (c.file && strcmp(v->name, "notify"))
		return ctl_usage("--file is for notify, not %s", v->name);
	if (c.card && !v->takes_card)
		return ctl_usage("--card is for call and envelope, not %s",
				 v->name);
	r = v->run(&c, nargs, args);
	c.bus = sd_bus_flush_close_unref(c.bus);
	if (fflush(stdout) != 0 && r == CTL_OK)
		r = ctl_fail("cannot write the output: %s", strerror(errno));
	return r;
}
