/* SPDX-License-Identifier: MIT */
/*
 * The verbs of org.dmscgw1.Manager: status, location, call, trace, reload.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/ctl.h"

int manager_verb_status(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_field fields[] = {
		{ "Version", CTL_TEXT },
		{ "State", CTL_TEXT },
		{ "PcscdRunning", CTL_TEXT },
		{ "Cards", CTL_COUNT },
		{ "Sources", CTL_TEXT },
		{ "Tracing", CTL_OFF_IF_EMPTY },
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
