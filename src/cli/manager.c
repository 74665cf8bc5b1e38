/* SPDX-License-Identifier: MIT */
/*
 * The verbs of org.dmscgw1.Manager: status, location, call, trace, reload,
 * and those of the DM client: sessions, session start, tree get and ls.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/ctl.h"
#include "util/hex.h"

int manager_verb_status(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_field fields[] = {
		{ "Version", CTL_TEXT },
		{ "State", CTL_TEXT },
		{ "PcscdRunning", CTL_TEXT },
		{ "Cards", CTL_COUNT },
		{ "Sources", CTL_TEXT },
		{ "Tracing", CTL_OFF_IF_EMPTY },
		{ "Sessions", CTL_COUNT },
	};
	struct value props;
	int r;

	r = ctl_connect(c);
	if (r)
		return r;
	r = ctl_get_all(c, DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE, &props);
	if (r)
		return r;
	ctl_print_props(c, NULL, &props, fields, sizeof(fields) / sizeof(fields[0]));
	value_clear(&props);
	return CTL_OK;
}

static bool manager_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	return n >= min && n <= max && strspn(s, "0123456789") == n;
}

/*
 * location STATUS [MCC MNC LAC CELL [RAT]].  The daemon ignores the rest
 * unless STATUS is normal, so it may be left out then; what is given is
 * checked here all the same.  STATUS and RAT are the daemon's to check.
 */
int manager_verb_location(struct ctl *c, int argc, char **argv)
{
	const char *status = argv[1], *mcc = "", *mnc = "", *rat = "eutran";
	unsigned long lac = 0, cell = 0;
	int r;

	if (argc == 2) {
		if (!strcmp(status, "normal"))
			return ctl_usage("location normal needs MCC MNC LAC CELL [RAT]");
	} else if (argc == 6 || argc == 7) {
		mcc = argv[2];
		mnc = argv[3];
		if (!manager_digits(mcc, 3, 3))
			return ctl_usage("MCC must be 3 digits, not '%s'", mcc);
		if (!manager_digits(mnc, 2, 3))
			return ctl_usage("MNC must be 2 or 3 digits, not '%s'", mnc);
		if (!ctl_parse_uint(argv[4], 65535, &lac))
			return ctl_usage("LAC must be a number from 0 to 65535, not '%s'",
					 argv[4]);
		if (!ctl_parse_uint(argv[5], 268435455, &cell))
			return ctl_usage("CELL must be a number from 0 to 268435455, not '%s'",
					 argv[5]);
		if (argc == 7)
			rat = argv[6];
	} else {
		return ctl_usage("location takes STATUS [MCC MNC LAC CELL [RAT]]");
	}
	r = ctl_connect(c);
	if (r)
		return r;
	r = ctl_call(c, NULL, DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE,
		     "SetLocation", "sssuus", status, mcc, mnc, (uint32_t)lac,
		     (uint32_t)cell, rat);
	if (r)
		return r;
	ctl_print_empty(c);
	return CTL_OK;
}

int manager_verb_call(struct ctl *c, int argc, char **argv)
{
	sd_bus_message *reply = NULL;
	const char *verdict, *number;
	char *reader;
	int r;

	if (!*argv[1])
		return ctl_usage("call needs a NUMBER");
	if (c->card) {
		r = card_check_name(c->card);
		if (r)
			return r;
	}
	r = ctl_connect(c);
	if (r)
		return r;
	/* CallControl names the card by its reader ("" for the first) */
	r = card_reader_name(c, c->card, &reader);
	if (r)
		return r;
	r = ctl_call(c, &reply, DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE,
		     "CallControl", "ss", reader, argv[1]);
	free(reader);
	if (r)
		return r;
	r = sd_bus_message_read(reply, "ss", &verdict, &number);
	if (r < 0) {
		sd_bus_message_unref(reply);
		return ctl_fail("cannot read the reply to CallControl: %s",
				strerror(-r));
	}
	if (c->json) {
		fputs("{\"verdict\":", stdout);
		json_string(stdout, verdict);
		fputs(",\"number\":", stdout);
		json_string(stdout, number);
		fputs("}\n", stdout);
	} else {
		printf("Verdict: %s\nNumber: %s\n", verdict, number);
	}
	sd_bus_message_unref(reply);
	return CTL_OK;
}

/* The daemon wants an absolute path; a relative one is the caller's cwd's. */
static int manager_absolute(const char *file, char **out)
{
	char *cwd;
	size_t n;

	if (file[0] == '/') {
		*out = strdup(file);
		return *out ? CTL_OK : ctl_fail("out of memory");
	}
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return ctl_fail("cannot get the current directory: %s",
				strerror(errno));
	n = strlen(cwd) + 1 + strlen(file) + 1;
	*out = malloc(n);
	if (*out)
		snprintf(*out, n, "%s%s%s", cwd,
			 cwd[strlen(cwd) - 1] == '/' ? "" : "/", file);
	free(cwd);
	return *out ? CTL_OK : ctl_fail("out of memory");
}

int manager_verb_trace(struct ctl *c, int argc, char **argv)
{
	char *file;
	int r;

	if (!strcmp(argv[1], "start") && argc == 3) {
		if (!*argv[2])
			return ctl_usage("trace start needs a FILE");
		r = manager_absolute(argv[2], &file);
		if (r)
			return r;
		r = ctl_connect(c);
		if (!r)
			r = ctl_call(c, NULL, DMSCGW_MANAGER_PATH,
				     DMSCGW_MANAGER_IFACE, "StartTrace", "s",
				     file);
		free(file);
	} else if (!strcmp(argv[1], "stop") && argc == 2) {
		r = ctl_connect(c);
		if (!r)
			r = ctl_call(c, NULL, DMSCGW_MANAGER_PATH,
				     DMSCGW_MANAGER_IFACE, "StopTrace", NULL);
	} else {
		return ctl_usage("trace takes start FILE | stop");
	}
	if (r)
		return r;
	ctl_print_empty(c);
	return CTL_OK;
}

int manager_verb_reload(struct ctl *c, int argc, char **argv)
{
	int r;

	r = ctl_connect(c);
	if (!r)
		r = ctl_call(c, NULL, DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE,
			     "Reload", NULL);
	if (r)
		return r;
	ctl_print_empty(c);
	return CTL_OK;
}

/* man/org.dmscgw1.5: the fields of a Sessions entry, in order. */
static const char *const manager_session_keys[] = {
	"id", "server", "trigger", "state", "commands", "result", "error",
	"started", "finished", "transport",
};

#define MANAGER_SESSION_KEYS \
	(sizeof(manager_session_keys) / sizeof(manager_session_keys[0]))
/* The table shows all but the times, the transport after the trigger. */
static const size_t manager_session_columns[] = { 0, 1, 2, 9, 3, 4, 5, 6 };

/* A table cell: "-" when empty, tabs and line breaks as spaces. */
static void manager_cell(const struct value *v)
{
	if (v->kind != VALUE_STRING) {
		ctl_print_text(stdout, v, CTL_TEXT);
		return;
	}
	if (!*v->str)
		fputc('-', stdout);
	for (const char *p = v->str; *p; p++)
		fputc(*p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p, stdout);
}

/*
 * sessions: the DM sessions as the daemon lists them (running and queued,
 * then the last finished, newest first), a header then one tab-separated
 * line each.
 */
int manager_verb_sessions(struct ctl *c, int argc, char **argv)
{
	struct value list;
	int r;

	r = ctl_connect(c);
	if (!r)
		r = ctl_get(c, DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE,
			    "Sessions", &list);
	if (r)
		return r;
	if (list.kind != VALUE_ARRAY) {
		value_clear(&list);
		return ctl_fail("the Sessions property is not an array");
	}
	if (c->json)
		fputs("{\"Sessions\":[", stdout);
	else
		puts("ID\tSERVER\tTRIGGER\tTRANSPORT\tSTATE\tCOMMANDS\tRESULT\tERROR");
	for (size_t i = 0; i < list.n; i++) {
		const struct value *s = &list.items[i];

		if (s->kind != VALUE_STRUCT)
			continue;
		if (c->json) {
			if (i)
				fputc(',', stdout);
			value_json_fields(stdout, s, manager_session_keys,
					  MANAGER_SESSION_KEYS);
			continue;
		}
		for (size_t k = 0; k < sizeof(manager_session_columns) /
				   sizeof(manager_session_columns[0]); k++) {
			size_t col = manager_session_columns[k];

			if (k)
				fputc('\t', stdout);
			if (col < s->n)
				manager_cell(&s->items[col]);
			else
				fputc('-', stdout);
		}
		fputc('\n', stdout);
	}
	if (c->json)
		fputs("]}\n", stdout);
	value_clear(&list);
	return CTL_OK;
}

/* man/org.dmscgw1.5: a ServerID is 1 to 127 bytes */
#define MANAGER_SERVER_ID_MAX 127

/* The session number a method returned (u), printed; takes the reply. */
static int print_session_id(struct ctl *c, sd_bus_message *reply,
			    const char *method)
{
	uint32_t id;
	int r = sd_bus_message_read(reply, "u", &id);

	sd_bus_message_unref(reply);
	if (r < 0)
		return ctl_fail("cannot read the reply to %s: %s", method,
				strerror(-r));
	if (c->json)
		printf("{\"id\":%u}\n", id);
	else
		printf("%u\n", id);
	return CTL_OK;
}

/*
 * session start SERVERID: a client-initiated session; prints its id.
 * session cancel ID: drop a queued session, abort a running one.
 */
int manager_verb_session(struct ctl *c, int argc, char **argv)
{
	sd_bus_message *reply = NULL;
	int r;

	if (!strcmp(argv[1], "cancel")) {
		char *end;
		unsigned long id = strtoul(argv[2], &end, 10);

		if (!*argv[2] || *end || id > UINT32_MAX)
			return ctl_usage("session cancel takes a session number");
		r = ctl_connect(c);
		if (!r)
			r = ctl_call(c, &reply, DMSCGW_MANAGER_PATH,
				     DMSCGW_MANAGER_IFACE, "CancelSession", "u",
				     (uint32_t)id);
		sd_bus_message_unref(reply);
		if (!r && c->json)
			printf("{}\n");
		return r ? r : CTL_OK;
	}
	if (strcmp(argv[1], "start"))
		return ctl_usage("session takes start SERVERID or cancel ID");
	if (!*argv[2] || strlen(argv[2]) > MANAGER_SERVER_ID_MAX)
		return ctl_usage("a SERVERID is 1 to %d bytes",
				 MANAGER_SERVER_ID_MAX);
	r = ctl_connect(c);
	if (!r)
		r = ctl_call(c, &reply, DMSCGW_MANAGER_PATH,
			     DMSCGW_MANAGER_IFACE, "StartSession", "s", argv[2]);
	return r ? r : print_session_id(c, reply, "StartSession");
}

/*
 * report SERVERID SOURCE TYPE FORMAT DATA [MARK]: a session whose Package#1
 * carries a Generic Alert; prints its id.  The daemon checks the rest.
 */
int manager_verb_report(struct ctl *c, int argc, char **argv)
{
	sd_bus_message *reply = NULL;
	int r;

	if (!*argv[1] || strlen(argv[1]) > MANAGER_SERVER_ID_MAX)
		return ctl_usage("a SERVERID is 1 to %d bytes",
				 MANAGER_SERVER_ID_MAX);
	r = ctl_connect(c);
	if (!r)
		r = ctl_call(c, &reply, DMSCGW_MANAGER_PATH,
			     DMSCGW_MANAGER_IFACE, "ReportMark", "ssssss",
			     argv[1], argv[2], argv[3], argv[4],
			     argc > 6 ? argv[6] : "", argv[5]);
	return r ? r : print_session_id(c, reply, "ReportMark");
}

bool ctl_utf8(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t b = p[i];
		size_t n = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 :
			b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
		uint8_t lo = 0x80, hi = 0xBF;

		if (!n || !b || i + n > len)
			return false;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
		else if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
		for (size_t k = 1; k < n; k++, lo = 0x80, hi = 0xBF)
			if (p[i + k] < lo || p[i + k] > hi)
				return false;
		i += n;
	}
	return true;
}

/*
 * tree get URI: the value as text, except bin values (and any value that
 * is not UTF-8 text) in upper-case hex.  b64 values are the base64 text
 * the tree holds; an interior node's value is its children joined by '/'.
 */
static int manager_tree_get(struct ctl *c, const char *uri)
{
	sd_bus_message *reply = NULL;
	const char *format, *type;
	const void *p;
	size_t len;
	bool hex;
	char *text;
	int r;

	r = ctl_call(c, &reply, DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE,
		     "GetNode", "s", uri);
	if (r)
		return r;
	r = sd_bus_message_read(reply, "ss", &format, &type);
	if (r >= 0)
		r = sd_bus_message_read_array(reply, 'y', &p, &len);
	if (r < 0) {
		sd_bus_message_unref(reply);
		return ctl_fail("cannot read the reply to GetNode: %s",
				strerror(-r));
	}
	hex = !strcmp(format, "bin") || !ctl_utf8(p, len);
	if (!c->json) {
		if (hex)
			hex_print(stdout, p, len, NULL);
		else
			fwrite(p, 1, len, stdout);
		fputc('\n', stdout);
		sd_bus_message_unref(reply);
		return CTL_OK;
	}
	fputs("{\"format\":", stdout);
	json_string(stdout, format);
	fputs(",\"type\":", stdout);
	json_string(stdout, type);
	fputs(",\"encoding\":", stdout);
	json_string(stdout, hex ? "hex" : "text");
	fputs(",\"value\":", stdout);
	if (hex) {
		fputc('"', stdout);
		hex_print(stdout, p, len, NULL);
		fputc('"', stdout);
	} else {
		text = strndup(p, len);
		if (!text) {
			sd_bus_message_unref(reply);
			fputs("null}\n", stdout);
			return ctl_fail("out of memory");
		}
		json_string(stdout, text);
		free(text);
	}
	fputs("}\n", stdout);
	sd_bus_message_unref(reply);
	return CTL_OK;
}

/* tree ls URI: the children of an interior node, one per line. */
static int manager_tree_ls(struct ctl *c, const char *uri)
{
	sd_bus_message *reply = NULL;
	const char *name;
	bool first = true;
	int r;

	r = ctl_call(c, &reply, DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE,
		     "ListNode", "s", uri);
	if (r)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "s");
	if (r < 0) {
		sd_bus_message_unref(reply);
		return ctl_fail("cannot read the reply to ListNode: %s",
				strerror(-r));
	}
	if (c->json)
		fputs("{\"children\":[", stdout);
	while ((r = sd_bus_message_read(reply, "s", &name)) > 0) {
		if (c->json) {
			if (!first)
				fputc(',', stdout);
			json_string(stdout, name);
		} else {
			puts(name);
		}
		first = false;
	}
	if (c->json)
		fputs("]}\n", stdout);
	sd_bus_message_unref(reply);
	if (r < 0)
		return ctl_fail("cannot read the reply to ListNode: %s",
				strerror(-r));
	return CTL_OK;
}

int manager_verb_tree(struct ctl *c, int argc, char **argv)
{
	bool get = !strcmp(argv[1], "get");
	int r;

	if (!get && strcmp(argv[1], "ls"))
		return ctl_usage("tree takes get URI | ls URI");
	if (!*argv[2])
		return ctl_usage("tree %s needs a URI such as ./DevInfo", argv[1]);
	r = ctl_connect(c);
	if (r)
		return r;
	return get ? manager_tree_get(c, argv[2]) : manager_tree_ls(c, argv[2]);
}

/* man/org.dmscgw1.5: the fields of a GetAccounts entry, in order. */
static const struct ctl_field manager_account_fields[] = {
	{ "ServerID", CTL_TEXT }, { "Name", CTL_TEXT },
	{ "ConfiguredBy", CTL_TEXT },
	{ "AppAddr", CTL_TEXT }, { "AddrType", CTL_TEXT },
	{ "Port", CTL_TEXT }, { "AAuthPref", CTL_TEXT },
	{ "ClientAuthType", CTL_TEXT }, { "ClientAuthName", CTL_TEXT },
	{ "ClientAuthSecret", CTL_TEXT }, { "ClientNonce", CTL_TEXT },
	{ "ServerAuthType", CTL_TEXT }, { "ServerAuthName", CTL_TEXT },
	{ "ServerAuthSecret", CTL_TEXT }, { "ServerNonce", CTL_TEXT },
};

/* One account: "Account: ID" then its "Key: value" lines, or JSON. */
static void manager_account(const struct ctl *c, const struct value *a,
			    bool first)
{
	const size_t nf = sizeof(manager_account_fields) /
			  sizeof(manager_account_fields[0]);

	if (c->json) {
		fputs(first ? "{\"Account\":" : ",{\"Account\":", stdout);
		value_json(stdout, &a->items[0]);
		fputs(",\"Fields\":", stdout);
		ctl_json_props(NULL, &a->items[1], manager_account_fields, nf);
		fputc('}', stdout);
		return;
	}
	if (!first)
		fputc('\n', stdout);
	printf("Account: %s\n", a->items[0].str);
	ctl_print_props(c, NULL, &a->items[1], manager_account_fields, nf);
}

/*
 * accounts: each DM account of the tree as the daemon uses it (passwords
 * only as "(set)" or "(empty)"), a block of lines per account.
 */
int manager_verb_accounts(struct ctl *c, int argc, char **argv)
{
	sd_bus_message *reply = NULL;
	struct value list;
	bool first = true;
	int r;

	(void)argc;
	(void)argv;
	r = ctl_connect(c);
	if (!r)
		r = ctl_call(c, &reply, DMSCGW_MANAGER_PATH,
			     DMSCGW_MANAGER_IFACE, "GetAccounts", NULL);
	if (r)
		return r;
	r = value_read(reply, &list);
	sd_bus_message_unref(reply);
	if (r < 0 || list.kind != VALUE_ARRAY) {
		value_clear(&list);
		return ctl_fail("cannot read the reply to GetAccounts");
	}
	if (c->json)
		fputs("{\"Accounts\":[", stdout);
	for (size_t i = 0; i < list.n; i++) {
		const struct value *a = &list.items[i];

		if (a->kind != VALUE_STRUCT || a->n != 2 ||
		    a->items[0].kind != VALUE_STRING ||
		    a->items[1].kind != VALUE_DICT)
			continue;
		manager_account(c, a, first);
		first = false;
	}
	if (c->json)
		fputs("]}\n", stdout);
	value_clear(&list);
	return CTL_OK;
}

#define MANAGER_NOTIFY_MAX 4096

#define MANAGER_NOTIFY_USAGE "notify takes package0|wap-push HEX | --file FILE"

/* The bytes of notify: HEX after the kind, or --file FILE. */
static int manager_notify_bytes(struct ctl *c, int argc, char **argv,
				uint8_t *p, size_t cap, size_t *len)
{
	FILE *f;
	size_t n;
	int r;

	if (c->file && argc > 2)
		return ctl_usage("notify takes HEX or --file FILE, not both");
	if (!c->file && argc < 3)
		return ctl_usage(MANAGER_NOTIFY_USAGE);
	if (!c->file) {
		r = hex_decode(p, cap, argv[2]);
		if (r == -ENOSPC)
			return ctl_usage("a notification is at most %d bytes",
					 MANAGER_NOTIFY_MAX);
		if (r <= 0)
			return ctl_usage("'%s' is not hex (pairs of 0-9 A-F, "
					 "spaces allowed between bytes)",
					 argv[2]);
		*len = (size_t)r;
		return CTL_OK;
	}
	f = fopen(c->file, "rb");
	if (!f)
		return ctl_usage("cannot open %s: %s", c->file,
				 strerror(errno));
	n = fread(p, 1, cap, f);
	r = ferror(f) ? -EIO : fgetc(f) != EOF ? -ENOSPC : 0;
	fclose(f);
	if (r == -ENOSPC)
		return ctl_usage("%s: a notification is at most %d bytes",
				 c->file, MANAGER_NOTIFY_MAX);
	if (r < 0 || n == 0)
		return ctl_usage("%s: %s", c->file, r < 0 ? "read error" :
				 "empty");
	*len = n;
	return CTL_OK;
}

/*
 * notify package0|wap-push HEX | --file FILE: a Package#0 or a WAP push to
 * the DM client, decoded as the kind says.
 */
int manager_verb_notify(struct ctl *c, int argc, char **argv)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	uint8_t data[MANAGER_NOTIFY_MAX];
	size_t len = 0;
	int r;

	if (strcmp(argv[1], "package0") && strcmp(argv[1], "wap-push"))
		return ctl_usage("notify: '%s' is not package0 or wap-push; "
				 MANAGER_NOTIFY_USAGE, argv[1]);
	r = manager_notify_bytes(c, argc, argv, data, sizeof(data), &len);
	if (r)
		return r;
	r = ctl_connect(c);
	if (r)
		return r;
	r = sd_bus_message_new_method_call(c->bus, &m, DMSCGW_SERVICE,
					   DMSCGW_MANAGER_PATH,
					   DMSCGW_MANAGER_IFACE, "Notify");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", argv[1]);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', data, len);
	if (r >= 0)
		r = sd_bus_call(c->bus, m, 0, &e, &reply);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	if (r < 0) {
		r = ctl_bus_error(c, &e, r);
		sd_bus_error_free(&e);
		return r;
	}
	c->answered = true;
	if (c->json)
		printf("{\"taken\":true}\n");
	else
		printf("notification taken (%zu bytes)\n", len);
	return CTL_OK;
}
