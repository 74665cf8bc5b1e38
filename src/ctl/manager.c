/* SPDX-License-Identifier: MIT */
/*
 * org.dmscgw1.Manager, the daemon's part: its state, the wake-up sources
 * the tests and the modem feed (location, call control), reload and the
 * APDU trace.  The sessions (session.c) and the management tree (tree.c)
 * add their members to the same interface.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat/cat.h"
#include "ctl/control.h"
#include "ctl/service.h"
#include "wakeup/wakeup.h"

void control_manager_changed(struct control *ctl, const char *prop)
{
	if (ctl)
		ctl_emit(ctl, MANAGER_PATH, MANAGER_IFACE, prop);
}

static int parse_enum(const char *v, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(v, names[i]))
			return i;
	return -1;
}

static bool digits(const char *s, size_t lo, size_t hi)
{
	size_t n = strlen(s);

	return n >= lo && n <= hi && strspn(s, "0123456789") == n;
}

static int do_set_location(struct control *ctl, sd_bus_message *m,
			   sd_bus_error *e)
{
	static const char *const statuses[] = { "normal", "limited", "no-service", NULL };
	static const char *const rats[] = { "gsm", "utran", "eutran", NULL };
	const char *status, *mcc, *mnc, *rat;
	struct cat_location loc;
	uint32_t lac, cell;
	int st, rt, r;

	r = sd_bus_message_read(m, "sssuus", &status, &mcc, &mnc, &lac, &cell,
				&rat);
	if (r < 0)
		return r;
	st = parse_enum(status, statuses);
	rt = parse_enum(rat, rats);
	if (st < 0)
		return sd_bus_error_setf(e, ERR_INVALID,
					 "status '%.32s' is not normal, limited or no-service",
					 status);
	if (st == CAT_LOC_NORMAL) {
		if (!digits(mcc, 3, 3) || !digits(mnc, 2, 3))
			return sd_bus_error_setf(e, ERR_INVALID,
						 "mcc must be 3 digits and mnc 2 or 3");
		if (lac > 65535 || cell > 268435455)
			return sd_bus_error_setf(e, ERR_INVALID,
						 "lac must be 0..65535 and cell 0..268435455");
		if (rt < 0)
			return sd_bus_error_setf(e, ERR_INVALID,
						 "rat '%.32s' is not gsm, utran or eutran",
						 rat);
	}
	memset(&loc, 0, sizeof(loc));
	if (st == CAT_LOC_NORMAL) {
		strcpy(loc.mcc, mcc);
		strcpy(loc.mnc, mnc);
		loc.lac = (uint16_t)lac;
		loc.cell = cell;
		loc.rat = (enum cat_rat)rt;
	}
	r = wakeup_location(ctl->wakeup, (uint8_t)st,
			    st == CAT_LOC_NORMAL ? &loc : NULL);
	if (r == -ENOTSUP)
		return sd_bus_error_setf(e, ERR_NOTSUP,
					 "the location wake-up source is not enabled");
	if (r < 0)
		return sd_bus_error_setf(e, ERR_INVALID, "location not valid");
	return sd_bus_reply_method_return(m, NULL);
}

CTL_PRIVILEGED(set_location)

struct call_req {
	sd_bus_message *m;
	char number[41];
};

static void call_done(void *arg, int err, const struct cat_cc_answer *a)
{
	struct call_req *rq = arg;

	if (err == -EBUSY)
		sd_bus_reply_method_errorf(rq->m, ERR_BUSY,
					   "the card stayed busy (93 00)");
	else if (err == -ENODEV)
		sd_bus_reply_method_errorf(rq->m, ERR_NOCARD,
					   "the card went away");
	else if (err)
		sd_bus_reply_method_errorf(rq->m, ERR_CARD,
					   "call control failed: %s", strerror(-err));
	else
		sd_bus_reply_method_return(rq->m, "ss",
			a->verdict == CAT_CC_ALLOWED ? "allowed" :
			a->verdict == CAT_CC_NOT_ALLOWED ? "not-allowed" :
			"allowed-modified",
			a->verdict == CAT_CC_ALLOWED_MODIFIED && a->number[0] ?
			a->number : rq->number);
	sd_bus_message_unref(rq->m);
	free(rq);
}

static int do_call_control(struct control *ctl, sd_bus_message *m,
			   sd_bus_error *e)
{
	const char *card, *number;
	struct call_req *rq;
	size_t n;
	int r;

	r = sd_bus_message_read(m, "ss", &card, &number);
	if (r < 0)
		return r;
	n = strlen(number);
	if (!n || n > 41 || (number[0] == '+' ? n - 1 : n) > 40 ||
	    strspn(number + (number[0] == '+'), "0123456789*#") !=
	    n - (number[0] == '+'))
		return sd_bus_error_setf(e, ERR_INVALID,
					 "number must be digits, * or # (at most 40), optionally after +");
	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return -ENOMEM;
	rq->m = sd_bus_message_ref(m);
	strcpy(rq->number, number);
	r = wakeup_call(ctl->wakeup, *card ? card : NULL, number, call_done, rq);
	if (r < 0) {
		sd_bus_message_unref(rq->m);
		free(rq);
		if (r == -ENOTSUP)
			return sd_bus_error_setf(e, ERR_NOTSUP,
						 "the call-control wake-up source is not enabled");
		if (r == -ENODEV)
			return sd_bus_error_setf(e, ERR_NOCARD, *card ?
						 "no card in reader '%.64s'" :
						 "no card%.0s", card);
		return sd_bus_error_setf(e, ERR_INVALID, "number not valid");
	}
	return 1;	/* answered by call_done */
}

CTL_PRIVILEGED(call_control)

static int do_reload(struct control *ctl, sd_bus_message *m, sd_bus_error *e)
{
	char err[512];

	if (ctl->ops->reload(ctl->arg, err, sizeof(err)) < 0)
		return sd_bus_error_setf(e, ERR_CONFIG, "%s", err);
	return sd_bus_reply_method_return(m, NULL);
}

CTL_PRIVILEGED(reload)

static int do_start_trace(struct control *ctl, sd_bus_message *m,
			  sd_bus_error *e)
{
	const char *file;
	char err[256];
	int r;

	r = sd_bus_message_read(m, "s", &file);
	if (r < 0)
		return r;
	if (file[0] != '/' || strlen(file) >= 256)
		return sd_bus_error_setf(e, ERR_INVALID,
					 "the trace file must be an absolute path shorter than 256");
	if (ctl->ops->trace_start(ctl->arg, file, err, sizeof(err)) < 0)
		return sd_bus_error_setf(e, ERR_FAILED, "%s", err);
	ctl_emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Tracing");
	return sd_bus_reply_method_return(m, NULL);
}

CTL_PRIVILEGED(start_trace)

static int do_stop_trace(struct control *ctl, sd_bus_message *m,
			 sd_bus_error *e)
{
	ctl->ops->trace_stop(ctl->arg);
	ctl_emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Tracing");
	return sd_bus_reply_method_return(m, NULL);
}

CTL_PRIVILEGED(stop_trace)

/* Manager properties */

static int prop_version(sd_bus *bus, const char *path, const char *iface,
			const char *prop, sd_bus_message *reply, void *userdata,
			sd_bus_error *e)
{
	return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int prop_state(sd_bus *bus, const char *path, const char *iface,
		      const char *prop, sd_bus_message *reply, void *userdata,
		      sd_bus_error *e)
{
	struct control *ctl = userdata;

	return sd_bus_message_append(reply, "s", ctl->ops->state(ctl->arg));
}

static int prop_pcscd(sd_bus *bus, const char *path, const char *iface,
		      const char *prop, sd_bus_message *reply, void *userdata,
		      sd_bus_error *e)
{
	struct control *ctl = userdata;

	return sd_bus_message_append(reply, "b",
				     (int)ctl->ops->pcscd_running(ctl->arg));
}

static int prop_cards(sd_bus *bus, const char *path, const char *iface,
		      const char *prop, sd_bus_message *reply, void *userdata,
		      sd_bus_error *e)
{
	struct control *ctl = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "o");

	for (struct ctl_card *k = ctl->cards; k && r >= 0; k = k->next)
		r = sd_bus_message_append(reply, "o", k->path);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int prop_sources(sd_bus *bus, const char *path, const char *iface,
			const char *prop, sd_bus_message *reply, void *userdata,
			sd_bus_error *e)
{
	struct control *ctl = userdata;
	const struct wakeup_source *s;
	int r = sd_bus_message_open_container(reply, 'a', "s");

	for (size_t i = 0; r >= 0 && (s = wakeup_source_at(i)); i++)
		if (wakeup_enabled(ctl->wakeup, s->name))
			r = sd_bus_message_append(reply, "s", s->name);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int prop_tracing(sd_bus *bus, const char *path, const char *iface,
			const char *prop, sd_bus_message *reply, void *userdata,
			sd_bus_error *e)
{
	struct control *ctl = userdata;

	return sd_bus_message_append(reply, "s", ctl->ops->trace_file(ctl->arg));
}

const sd_bus_vtable ctl_manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", prop_version, 0,
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("State", "s", prop_state, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("PcscdRunning", "b", prop_pcscd, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Cards", "ao", prop_cards, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Sources", "as", prop_sources, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Tracing", "s", prop_tracing, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD_WITH_ARGS("SetLocation",
		SD_BUS_ARGS("s", status, "s", mcc, "s", mnc, "u", lac,
			    "u", cell, "s", rat),
		SD_BUS_NO_RESULT, method_set_location,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("CallControl",
		SD_BUS_ARGS("s", card, "s", number),
		SD_BUS_RESULT("s", verdict, "s", number),
		method_call_control, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
		method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("StartTrace", SD_BUS_ARGS("s", file),
		SD_BUS_NO_RESULT, method_start_trace,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("StopTrace", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
		method_stop_trace, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_ARGS("CardInserted",
		SD_BUS_ARGS("o", card, "s", reader), 0),
	SD_BUS_SIGNAL_WITH_ARGS("CardRemoved",
		SD_BUS_ARGS("o", card, "s", reader), 0),
	SD_BUS_VTABLE_END
};
