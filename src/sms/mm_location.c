/* SPDX-License-Identifier: MIT */
/*
 * ModemManager's Location and Voice, for the selected modem: registration,
 * operator and cell (3GPP LAC/CI, signalled once Setup asked for it, else
 * asked on registration changes) become one network report; outgoing
 * calls are reported, and hung up when the card says so.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "log.h"
#include "sms/mm.h"
#include "sms/mm_internal.h"

/* "MCC,MNC,LAC,CI[,TAC]" (LAC, CI and TAC in hex) */
static void parse_lac_ci(struct modem *md, const char *s)
{
	char buf[96], *save = NULL, *f;
	unsigned long v[5] = { 0 };
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (f = strtok_r(buf, ",", &save); f && n < 5;
	     f = strtok_r(NULL, ",", &save), n++)
		v[n] = strtoul(f, NULL, n < 2 ? 10 : 16);
	if (n < 4) {
		log_debug(LOG_SMS, "ModemManager: 3GPP location '%s' not "
			  "understood", s);
		return;
	}
	md->lac = (uint32_t)v[2];
	md->cell = (uint32_t)v[3];
	md->tac = (uint32_t)v[4];
}

static int location_entry(sd_bus_message *msg, void *arg)
{
	struct modem *md = arg;
	uint32_t src;
	const char *s = NULL;
	int r;

	r = sd_bus_message_read(msg, "u", &src);
	if (r < 0)
		return r;
	if (src != LOC_3GPP_LAC_CI)
		return sd_bus_message_skip(msg, "v");
	r = mm_read_variant(msg, "s", &s);
	if (r >= 0 && s)
		parse_lac_ci(md, s);
	return r;
}

/* The a{uv} of Location or GetLocation(): picks 3GPP LAC/CI. */
static int read_location(sd_bus_message *msg, struct modem *md)
{
	return mm_each_entry(msg, "uv", location_entry, md);
}

int mm_read_location_variant(sd_bus_message *msg, struct modem *md)
{
	int r;

	r = mm_enter_variant(msg, "a{uv}");
	if (r <= 0)
		return r;
	r = read_location(msg, md);
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

static enum mm_reg reg_of(uint32_t r)
{
	switch (r) {
	case 0: return MM_REG_IDLE;
	case 1: case 6: case 9: return MM_REG_HOME;	/* HOME, SMS only, CSFB */
	case 2: return MM_REG_SEARCHING;
	case 3: case 8: return MM_REG_DENIED;	/* emergency only: limited */
	case 5: case 7: case 10: return MM_REG_ROAMING;
	default: return MM_REG_UNKNOWN;
	}
}

static int rat_of(uint32_t access)
{
	/* LTE, 5GNR, LTE Cat-M, NB-IoT */
	if (access & (1u << 14 | 1u << 15 | 1u << 16 | 1u << 17))
		return 2;
	/* UMTS, HSDPA, HSUPA, HSPA, HSPA+ */
	if (access & (1u << 5 | 1u << 6 | 1u << 7 | 1u << 8 | 1u << 9))
		return 1;
	return 0;
}

void mm_report_network(struct mm *m)
{
	struct modem *md = m->sel;
	struct mm_network n;
	size_t len;

	if (!md || !(md->ifaces & HAS_3GPP))
		return;
	memset(&n, 0, sizeof(n));
	n.reg = reg_of(md->reg);
	len = strlen(md->opcode);
	if ((len == 5 || len == 6) &&
	    strspn(md->opcode, "0123456789") == len) {
		memcpy(n.mcc, md->opcode, 3);
		memcpy(n.mnc, md->opcode + 3, len - 3);
	}
	n.lac = md->lac ? md->lac : md->tac;
	n.cell = md->cell;
	n.rat = rat_of(md->access);
	if (m->net_valid && !memcmp(&n, &m->net, sizeof(n)))
		return;
	m->net = n;
	m->net_valid = true;
	log_debug(LOG_SMS, "ModemManager: registration %u, operator %s, "
		  "LAC %X, cell %X, rat %d", md->reg, md->opcode, n.lac,
		  n.cell, n.rat);
	if (m->ops.network)
		m->ops.network(m->arg, &n);
}

static int on_get_location(sd_bus_message *msg, void *userdata,
			   sd_bus_error *ret)
{
	struct op *o = userdata;
	struct mm *m = o->m;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	int r;

	(void)ret;
	mm_op_free(o);
	m->loc_polling = false;
	if (!m->sel)
		return 0;
	if (e) {
		log_debug(LOG_SMS, "ModemManager: no location: %s",
			  mm_err_text(e));
		return 0;
	}
	r = read_location(msg, m->sel);
	if (r < 0)
		log_warn(LOG_SMS, "ModemManager: bad location: %s",
			 strerror(-r));
	mm_report_network(m);
	return 0;
}

static void poll_location(struct mm *m)
{
	struct op *o;

	if (m->loc_polling || !(o = mm_op_new(m, OP_MODEM, NULL)))
		return;
	if (mm_op_call(o, m->sel->path, IF_LOCATION, "GetLocation",
		       on_get_location, NULL) >= 0)
		m->loc_polling = true;
}

static int on_setup(sd_bus_message *msg, void *userdata, sd_bus_error *ret)
{
	struct op *o = userdata;
	struct mm *m = o->m;
	const sd_bus_error *e = sd_bus_message_get_error(msg);

	(void)ret;
	mm_op_free(o);
	if (e)
		log_notice(LOG_SMS, "ModemManager: cannot have the 3GPP "
			   "location signalled (%s); it is asked for on "
			   "registration changes", mm_err_text(e));
	if (m->sel)
		poll_location(m);
	return 0;
}

/*
 * The location comes with PropertiesChanged once 3GPP LAC/CI is enabled and
 * signalled; Setup asks for that once (the modem enabled).  Until then, or
 * if it fails, GetLocation is asked on every registration change.
 */
void mm_follow_location(struct mm *m, bool changed)
{
	struct modem *md = m->sel;
	struct op *o;

	if (!md || !(md->ifaces & HAS_LOCATION) ||
	    md->state < MODEM_STATE_ENABLED)
		return;
	if ((md->loc_enabled & LOC_3GPP_LAC_CI) && md->loc_signals)
		return;
	if (!m->setup_tried) {
		m->setup_tried = true;
		if (!(o = mm_op_new(m, OP_MODEM, NULL)))
			return;
		mm_op_call(o, md->path, IF_LOCATION, "Setup", on_setup, "ub",
			   md->loc_enabled | LOC_3GPP_LAC_CI, 1);
		return;
	}
	if (changed)
		poll_location(m);
}

/* What on_call_props wants of a call's properties. */
struct call_props {
	int32_t dir;		/* MMCallDirection, type i */
	const char *number;
};

static int call_prop(sd_bus_message *msg, const char *k, void *arg)
{
	struct call_props *p = arg;

	if (!strcmp(k, "Direction"))
		return mm_read_variant(msg, "i", &p->dir);
	if (!strcmp(k, "Number"))
		return mm_read_variant(msg, "s", &p->number);
	return sd_bus_message_skip(msg, "v");
}

static int on_call_props(sd_bus_message *msg, void *userdata,
			 sd_bus_error *ret)
{
	struct op *o = userdata;
	struct mm *m = o->m;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	struct call_props p = { .number = "" };
	char *path = o->path;
	int r;

	(void)ret;
	o->path = NULL;
	mm_op_free(o);
	if (e) {
		log_warn(LOG_SMS, "ModemManager: cannot read call %s: %s", path,
			 mm_err_text(e));
		goto out;
	}
	r = mm_each_prop(msg, call_prop, &p);
	if (r < 0) {
		log_warn(LOG_SMS, "ModemManager: bad properties of call %s: %s",
			 path, strerror(-r));
		goto out;
	}
	log_debug(LOG_SMS, "ModemManager: call %s, direction %d, number %s",
		  path, p.dir, p.number ? p.number : "");
	if (p.dir == CALL_OUTGOING && m->ops.call)
		m->ops.call(m->arg, path, p.number ? p.number : "");
out:
	free(path);
	return 0;
}

int mm_call_hangup(struct mm *m, const char *call_path)
{
	struct op *o;

	if (!m->owner)
		return -ENODEV;
	if (!(o = mm_op_new(m, OP_USER, call_path)))
		return -ENOMEM;
	o->what = "hanging up";
	return mm_op_call(o, call_path, IF_CALL, "Hangup", mm_on_done, NULL);
}

void mm_call_added(struct mm *m, const char *path)
{
	struct op *o = mm_op_new(m, OP_MODEM, path);

	if (o)
		mm_op_call(o, path, IF_PROPS, "GetAll", on_call_props, "s",
			   IF_CALL);
}
