/* SPDX-License-Identifier: MIT */
/*
 * The ModemManager client.  One signal match (everything ModemManager's
 * well-known name emits) and one for its NameOwnerChanged; everything else
 * is an asynchronous call whose slot is kept in a list, so that mm_free()
 * (or the modem or ModemManager going away) cancels it and no reply comes
 * in afterwards.
 *
 * Modems are learnt from GetManagedObjects, InterfacesAdded/Removed and
 * PropertiesChanged; SMS and calls are not in the ObjectManager, they are
 * followed from the selected modem's Messaging.Added/Deleted and
 * Voice.CallAdded and read with Properties.GetAll.
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

#define MM_NAME		"org.freedesktop.ModemManager1"
#define MM_PATH		"/org/freedesktop/ModemManager1"
#define MM_MODEM_PREFIX	MM_PATH "/Modem/"
#define IF_MODEM	MM_NAME ".Modem"
#define IF_3GPP		MM_NAME ".Modem.Modem3gpp"
#define IF_LOCATION	MM_NAME ".Modem.Location"
#define IF_MESSAGING	MM_NAME ".Modem.Messaging"
#define IF_VOICE	MM_NAME ".Modem.Voice"
#define IF_SMS		MM_NAME ".Sms"
#define IF_CALL		MM_NAME ".Call"
#define IF_PROPS	"org.freedesktop.DBus.Properties"
#define IF_OM		"org.freedesktop.DBus.ObjectManager"

#define SEND_TIMEOUT	(180ULL * 1000000ULL)	/* Sms.Send: the network may be slow */

/* ModemManager's values */
#define MODEM_STATE_ENABLED	6
#define SMS_STATE_STORED	1
#define SMS_STATE_RECEIVED	3	/* MM_SMS_STATE_RECEIVING is 2 */
#define SMS_STATE_SENDING	4
#define SMS_STATE_SENT		5
#define CALL_OUTGOING		2
#define LOC_3GPP_LAC_CI		1u

enum {
	HAS_MODEM = 1 << 0, HAS_3GPP = 1 << 1, HAS_LOCATION = 1 << 2,
	HAS_MESSAGING = 1 << 3, HAS_VOICE = 1 << 4,
};

struct modem {
	char *path;
	char *id;			/* EquipmentIdentifier; NULL unknown */
	unsigned ifaces;		/* HAS_* */
	int state;
	uint32_t access;
	uint32_t reg;
	char opcode[8];
	uint32_t loc_enabled;
	bool loc_signals;
	uint32_t lac, tac, cell;	/* from Location 3GPP LAC/CI */
	struct modem *next;
};

/* A received SMS being followed until it is complete. */
struct sms {
	char *path;
	bool reported;
	struct sms *next;
};

enum op_kind {
	OP_SERVICE,		/* about ModemManager itself: ends when it goes */
	OP_MODEM,		/* about the selected modem: ends with it */
	OP_USER,		/* asked by the user: ends with mm_free only */
};

struct op {
	struct mm *m;
	enum op_kind kind;
	sd_bus_slot *slot;
	char *path;		/* the object concerned, if any */
	const char *what;	/* for the log; OP_READ_SMS for sms_read */
	mm_send_fn *cb;		/* mm_sms_send */
	void *arg;
	struct op *next;
};

struct mm {
	sd_bus *bus;
	char *want;			/* "first" or an EquipmentIdentifier */
	struct mm_ops ops;
	void *arg;
	sd_bus_slot *owner_match, *signal_match;
	char *owner;			/* ModemManager's unique name; NULL absent */
	bool told_absent;
	struct modem *modems;
	struct modem *sel;		/* the selected modem, reported present */
	/* about the selected modem */
	struct sms *sms;
	bool listed, setup_tried, loc_polling;
	bool net_valid;
	struct mm_network net;		/* last reported */
	struct op *ops_list;
};

/* ------------------------------------------------------------------------ */
/* Pending calls                                                            */

static const char OP_READ_SMS[] = "reading the SMS";

static struct op *op_new(struct mm *m, enum op_kind kind, const char *path)
{
	struct op *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	if (path && !(o->path = strdup(path))) {
		free(o);
		return NULL;
	}
	o->m = m;
	o->kind = kind;
	o->next = m->ops_list;
	m->ops_list = o;
	return o;
}

/* Unlinks and frees o, cancelling its call if still pending. */
static void op_free(struct op *o)
{
	struct op **pp;

	for (pp = &o->m->ops_list; *pp && *pp != o; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = o->next;
	sd_bus_slot_unref(o->slot);
	free(o->path);
	free(o);
}

static void ops_cancel(struct mm *m, enum op_kind kind)
{
	struct op **pp = &m->ops_list;

	while (*pp) {
		struct op *o = *pp;

		if (o->kind == kind) {
			*pp = o->next;
			sd_bus_slot_unref(o->slot);
			free(o->path);
			free(o);
		} else {
			pp = &o->next;
		}
	}
}

/*
 * An asynchronous method call to ModemManager; the reply goes to cb with the
 * op as userdata.  On failure the op is freed and a negative errno returned.
 */
static int op_call(struct op *o, const char *path, const char *iface,
		   const char *member, sd_bus_message_handler_t cb,
		   const char *types, ...)
{
	sd_bus_message *msg = NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(o->m->bus, &msg, MM_NAME, path,
					   iface, member);
	if (r >= 0 && types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(msg, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call_async(o->m->bus, &o->slot, msg, cb, o, 0);
	sd_bus_message_unref(msg);
	if (r < 0) {
		log_warn(LOG_SMS, "ModemManager: cannot call %s.%s on %s: %s",
			 iface, member, path, strerror(-r));
		op_free(o);
	}
	return r < 0 ? r : 0;
}

static const char *err_text(const sd_bus_error *e)
{
	return e->message ? e->message : e->name ? e->name : "error";
}

/* ------------------------------------------------------------------------ */
/* Properties                                                               */

/*
 * Enters the variant at msg if it holds the type sig (returns 1), else skips
 * it (returns 0); <0 on error.
 */
static int enter_variant(sd_bus_message *msg, const char *sig)
{
	const char *contents = NULL;
	char t;
	int r;

	r = sd_bus_message_peek_type(msg, &t, &contents);
	if (r < 0)
		return r;
	if (t != 'v' || !contents || strcmp(contents, sig)) {
		r = sd_bus_message_skip(msg, "v");
		return r < 0 ? r : 0;
	}
	r = sd_bus_message_enter_container(msg, 'v', sig);
	return r < 0 ? r : 1;
}

/* Reads the variant at msg into *out if it has the type sig, else skips it. */
static int read_variant(sd_bus_message *msg, const char *sig, void *out)
{
	int r;

	r = enter_variant(msg, sig);
	if (r <= 0)
		return r;
	r = sd_bus_message_read_basic(msg, sig[0], out);
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

/* Reads one whole dict entry (key and value) at msg; <0 on error. */
typedef int entry_fn(sd_bus_message *msg, void *arg);
/* Reads (or skips) the variant of the entry whose key is key; <0 on error. */
typedef int prop_fn(sd_bus_message *msg, const char *key, void *arg);

/*
 * Walks the dictionary at msg, an array of entries of the signature entry
 * ("sv", "uv", ...): enters each entry, has fn read it and exits it; then
 * exits the array.  Returns <0 on the first error, fn's included.
 */
static int each_entry(sd_bus_message *msg, const char *entry, entry_fn *fn,
		      void *arg)
{
	char dict[32];
	int r;

	snprintf(dict, sizeof(dict), "{%s}", entry);
	r = sd_bus_message_enter_container(msg, 'a', dict);
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(msg, 'e', entry)) > 0) {
		r = fn(msg, arg);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(msg);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

struct prop_walk {
	prop_fn *fn;
	void *arg;
};

static int prop_entry(sd_bus_message *msg, void *arg)
{
	const struct prop_walk *w = arg;
	const char *key;
	int r;

	r = sd_bus_message_read(msg, "s", &key);
	if (r < 0)
		return r;
	return w->fn(msg, key, w->arg);
}

/*
 * Walks the a{sv} at msg: fn is called with each key and must consume its
 * variant (read it, or sd_bus_message_skip(msg, "v")).  <0 on error.
 */
static int each_prop(sd_bus_message *msg, prop_fn *fn, void *arg)
{
	struct prop_walk w = { fn, arg };

	return each_entry(msg, "sv", prop_entry, &w);
}

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
	r = read_variant(msg, "s", &s);
	if (r >= 0 && s)
		parse_lac_ci(md, s);
	return r;
}

/* The a{uv} of Location or GetLocation(): picks 3GPP LAC/CI. */
static int read_location(sd_bus_message *msg, struct modem *md)
{
	return each_entry(msg, "uv", location_entry, md);
}

static int read_location_variant(sd_bus_message *msg, struct modem *md)
{
	int r;

	r = enter_variant(msg, "a{uv}");
	if (r <= 0)
		return r;
	r = read_location(msg, md);
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

static unsigned iface_bit(const char *iface)
{
	if (!strcmp(iface, IF_MODEM))
		return HAS_MODEM;
	if (!strcmp(iface, IF_3GPP))
		return HAS_3GPP;
	if (!strcmp(iface, IF_LOCATION))
		return HAS_LOCATION;
	if (!strcmp(iface, IF_MESSAGING))
		return HAS_MESSAGING;
	if (!strcmp(iface, IF_VOICE))
		return HAS_VOICE;
	return 0;
}

struct modem_props {
	struct modem *md;
	unsigned bit;		/* the interface's HAS_* */
};

static int modem_prop(sd_bus_message *msg, const char *k, void *arg)
{
	const struct modem_props *p = arg;
	struct modem *md = p->md;
	unsigned bit = p->bit;
	const char *s = NULL;
	int b = 0, r;

	if (bit == HAS_MODEM && !strcmp(k, "EquipmentIdentifier")) {
		r = read_variant(msg, "s", &s);
		if (r >= 0 && s) {
			char *id = strdup(s);

			if (!id)
				return -ENOMEM;
			free(md->id);
			md->id = id;
		}
	} else if (bit == HAS_MODEM && !strcmp(k, "State")) {
		r = read_variant(msg, "i", &md->state);
	} else if (bit == HAS_MODEM && !strcmp(k, "AccessTechnologies")) {
		r = read_variant(msg, "u", &md->access);
	} else if (bit == HAS_3GPP && !strcmp(k, "RegistrationState")) {
		r = read_variant(msg, "u", &md->reg);
	} else if (bit == HAS_3GPP && !strcmp(k, "OperatorCode")) {
		r = read_variant(msg, "s", &s);
		if (r >= 0 && s)
			snprintf(md->opcode, sizeof(md->opcode), "%s", s);
	} else if (bit == HAS_LOCATION && !strcmp(k, "Enabled")) {
		r = read_variant(msg, "u", &md->loc_enabled);
	} else if (bit == HAS_LOCATION && !strcmp(k, "SignalsLocation")) {
		r = read_variant(msg, "b", &b);
		if (r >= 0)
			md->loc_signals = b;
	} else if (bit == HAS_LOCATION && !strcmp(k, "Location")) {
		r = read_location_variant(msg, md);
	} else {
		r = sd_bus_message_skip(msg, "v");
	}
	return r;
}

/* An a{sv} of the interface bit of md into md. */
static int read_props(sd_bus_message *msg, struct modem *md, unsigned bit)
{
	struct modem_props p = { md, bit };

	return each_prop(msg, modem_prop, &p);
}

/* ------------------------------------------------------------------------ */
/* Modems                                                                   */

static struct modem *modem_find(struct mm *m, const char *path)
{
	for (struct modem *md = m->modems; md; md = md->next)
		if (!strcmp(md->path, path))
			return md;
	return NULL;
}

static struct modem *modem_get(struct mm *m, const char *path)
{
	struct modem *md = modem_find(m, path);

	if (md)
		return md;
	if (strncmp(path, MM_MODEM_PREFIX, strlen(MM_MODEM_PREFIX)))
		return NULL;
	if (!(md = calloc(1, sizeof(*md))) || !(md->path = strdup(path))) {
		free(md);
		return NULL;
	}
	md->reg = MM_REG_UNKNOWN;
	md->next = m->modems;
	m->modems = md;
	return md;
}

static void modem_free(struct modem *md)
{
	free(md->path);
	free(md->id);
	free(md);
}

static void modem_remove(struct mm *m, struct modem *md)
{
	struct modem **pp;

	for (pp = &m->modems; *pp != md; pp = &(*pp)->next)
		;
	*pp = md->next;
	modem_free(md);
}

/* Paths compare by their number: .../Modem/2 before .../Modem/10. */
static int path_cmp(const char *a, const char *b)
{
	size_t n = strlen(MM_MODEM_PREFIX);
	unsigned long x = strtoul(a + n, NULL, 10), y = strtoul(b + n, NULL, 10);

	if (x != y)
		return x < y ? -1 : 1;
	return strcmp(a, b);
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

static void report_network(struct mm *m)
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

/* ------------------------------------------------------------------------ */
/* SMS                                                                      */

static struct sms *sms_find(struct mm *m, const char *path)
{
	for (struct sms *s = m->sms; s; s = s->next)
		if (!strcmp(s->path, path))
			return s;
	return NULL;
}

static void sms_forget(struct mm *m, const char *path)
{
	for (struct sms **pp = &m->sms; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->path, path)) {
			struct sms *s = *pp;

			*pp = s->next;
			free(s->path);
			free(s);
			return;
		}
}

/* What on_sms_props wants of an SMS's properties. */
struct sms_props {
	uint32_t state;
	const char *number;
	const void *data;
	size_t len;
};

static int sms_prop(sd_bus_message *msg, const char *k, void *arg)
{
	struct sms_props *p = arg;
	int r;

	if (!strcmp(k, "State"))
		return read_variant(msg, "u", &p->state);
	if (!strcmp(k, "Number"))
		return read_variant(msg, "s", &p->number);
	if (strcmp(k, "Data"))
		return sd_bus_message_skip(msg, "v");
	r = enter_variant(msg, "ay");
	if (r <= 0)
		return r;
	r = sd_bus_message_read_array(msg, 'y', &p->data, &p->len);
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

static int on_sms_props(sd_bus_message *msg, void *userdata,
			sd_bus_error *ret)
{
	struct op *o = userdata;
	struct mm *m = o->m;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	struct sms_props p = { .number = "" };
	struct sms *s;
	char *path = o->path;
	int r;

	(void)ret;
	o->path = NULL;
	op_free(o);
	s = sms_find(m, path);
	if (!s || s->reported)
		goto out;
	if (e) {
		log_warn(LOG_SMS, "ModemManager: cannot read SMS %s: %s", path,
			 err_text(e));
		sms_forget(m, path);
		goto out;
	}
	r = each_prop(msg, sms_prop, &p);
	if (r < 0) {
		log_warn(LOG_SMS, "ModemManager: bad properties of SMS %s: %s",
			 path, strerror(-r));
		sms_forget(m, path);
		goto out;
	}
	if (p.state == SMS_STATE_RECEIVED) {
		log_debug(LOG_SMS, "ModemManager: SMS %s from %s received, "
			  "%zu bytes of data", path, p.number ? p.number : "",
			  p.len);
		s->reported = true;
		if (m->ops.sms)
			m->ops.sms(m->arg, path, p.data, p.len,
				   p.number ? p.number : "");
	} else if (p.state == SMS_STATE_STORED ||
		   p.state == SMS_STATE_SENDING ||
		   p.state == SMS_STATE_SENT) {
		/* one of ours (or somebody's) to send: not for us */
		sms_forget(m, path);
	} else {
		log_debug(LOG_SMS, "ModemManager: SMS %s in state %u, waiting",
			  path, p.state);
	}
out:
	free(path);
	return 0;
}

/* (Re)reads the SMS at path, reporting it when it is received. */
static void sms_read(struct mm *m, const char *path)
{
	struct op *o;

	/* one read at a time: a newer one replaces an older one */
	for (o = m->ops_list; o; o = o->next)
		if (o->what == OP_READ_SMS && !strcmp(o->path, path)) {
			op_free(o);
			break;
		}
	if (!(o = op_new(m, OP_MODEM, path)))
		return;
	o->what = OP_READ_SMS;
	op_call(o, path, IF_PROPS, "GetAll", on_sms_props, "s", IF_SMS);
}

static void sms_track(struct mm *m, const char *path)
{
	struct sms *s;

	if (sms_find(m, path))
		return;
	if (!(s = calloc(1, sizeof(*s))) || !(s->path = strdup(path))) {
		free(s);
		log_err(LOG_SMS, "ModemManager: SMS %s: out of memory", path);
		return;
	}
	s->next = m->sms;
	m->sms = s;
	sms_read(m, path);
}

static int on_list(sd_bus_message *msg, void *userdata, sd_bus_error *ret)
{
	struct op *o = userdata;
	struct mm *m = o->m;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	const char *path;
	int r;

	(void)ret;
	op_free(o);
	if (e) {
		log_warn(LOG_SMS, "ModemManager: cannot list the SMS: %s",
			 err_text(e));
		return 0;
	}
	r = sd_bus_message_enter_container(msg, 'a', "o");
	while (r >= 0 && (r = sd_bus_message_read(msg, "o", &path)) > 0)
		sms_track(m, path);
	if (r < 0)
		log_warn(LOG_SMS, "ModemManager: bad SMS list: %s",
			 strerror(-r));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */

/* What on_call_props wants of a call's properties. */
struct call_props {
	int32_t dir;		/* MMCallDirection, type i */
	const char *number;
};

static int call_prop(sd_bus_message *msg, const char *k, void *arg)
{
	struct call_props *p = arg;

	if (!strcmp(k, "Direction"))
		return read_variant(msg, "i", &p->dir);
	if (!strcmp(k, "Number"))
		return read_variant(msg, "s", &p->number);
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
	op_free(o);
	if (e) {
		log_warn(LOG_SMS, "ModemManager: cannot read call %s: %s", path,
			 err_text(e));
		goto out;
	}
	r = each_prop(msg, call_prop, &p);
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

/* ------------------------------------------------------------------------ */
/* Location                                                                 */

static int on_get_location(sd_bus_message *msg, void *userdata,
			   sd_bus_error *ret)
{
	struct op *o = userdata;
	struct mm *m = o->m;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	int r;

	(void)ret;
	op_free(o);
	m->loc_polling = false;
	if (!m->sel)
		return 0;
	if (e) {
		log_debug(LOG_SMS, "ModemManager: no location: %s",
			  err_text(e));
		return 0;
	}
	r = read_location(msg, m->sel);
	if (r < 0)
		log_warn(LOG_SMS, "ModemManager: bad location: %s",
			 strerror(-r));
	report_network(m);
	return 0;
}

static void poll_location(struct mm *m)
{
	struct op *o;

	if (m->loc_polling || !(o = op_new(m, OP_MODEM, NULL)))
		return;
	if (op_call(o, m->sel->path, IF_LOCATION, "GetLocation",
		    on_get_location, NULL) >= 0)
		m->loc_polling = true;
}

static int on_setup(sd_bus_message *msg, void *userdata, sd_bus_error *ret)
{
	struct op *o = userdata;
	struct mm *m = o->m;
	const sd_bus_error *e = sd_bus_message_get_error(msg);

	(void)ret;
	op_free(o);
	if (e)
		log_notice(LOG_SMS, "ModemManager: cannot have the 3GPP "
			   "location signalled (%s); it is asked for on "
			   "registration changes", err_text(e));
	if (m->sel)
		poll_location(m);
	return 0;
}

/*
 * The location comes with PropertiesChanged once 3GPP LAC/CI is enabled and
 * signalled; Setup asks for that once (the modem enabled).  Until then, or
 * if it fails, GetLocation is asked on every registration change.
 */
static void follow_location(struct mm *m, bool changed)
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
		if (!(o = op_new(m, OP_MODEM, NULL)))
			return;
		op_call(o, md->path, IF_LOCATION, "Setup", on_setup, "ub",
			md->loc_enabled | LOC_3GPP_LAC_CI, 1);
		return;
	}
	if (changed)
		poll_location(m);
}

/* ------------------------------------------------------------------------ */
/* Selection                                                                */

static void list_sms(struct mm *m)
{
	struct op *o;

	if (m->listed || !m->sel || !(m->sel->ifaces & HAS_MESSAGING))
		return;
	m->listed = true;
	if ((o = op_new(m, OP_MODEM, NULL)))
		op_call(o, m->sel->path, IF_MESSAGING, "List", on_list, NULL);
}

static void deselect(struct mm *m)
{
	if (!m->sel)
		return;
	log_notice(LOG_SMS, "ModemManager: modem %s (%s) gone", m->sel->path,
		   m->sel->id);
	m->sel = NULL;
	ops_cancel(m, OP_MODEM);
	while (m->sms)
		sms_forget(m, m->sms->path);
	m->listed = m->setup_tried = m->loc_polling = m->net_valid = false;
	if (m->ops.modem)
		m->ops.modem(m->arg, false, NULL);
}

static bool candidate(const struct mm *m, const struct modem *md)
{
	if (!(md->ifaces & HAS_MODEM) || !md->id || !*md->id)
		return false;
	return !strcmp(m->want, "first") || !strcmp(m->want, md->id);
}

/* Keeps the selected modem while it is fit, else picks one. */
static void reselect(struct mm *m)
{
	struct modem *best = NULL;

	if (m->sel && !candidate(m, m->sel))
		deselect(m);
	if (m->sel)
		return;
	for (struct modem *md = m->modems; md; md = md->next)
		if (candidate(m, md) &&
		    (!best || path_cmp(md->path, best->path) < 0))
			best = md;
	if (!best)
		return;
	m->sel = best;
	log_notice(LOG_SMS, "ModemManager: using modem %s (%s)", best->path,
		   best->id);
	if (m->ops.modem)
		m->ops.modem(m->arg, true, best->id);
	list_sms(m);
	follow_location(m, true);
	report_network(m);
}

/* After md's properties or interfaces changed. */
static void modem_changed(struct mm *m, struct modem *md, bool reg_changed)
{
	if (md != m->sel) {
		reselect(m);
		return;
	}
	reselect(m);
	if (m->sel != md)
		return;
	list_sms(m);
	follow_location(m, reg_changed);
	report_network(m);
}

/* ------------------------------------------------------------------------ */
/* ModemManager's objects and signals                                       */

/* s a{sv}: an interface of md and its properties. */
static int iface_entry(sd_bus_message *msg, void *arg)
{
	struct modem *md = arg;
	const char *iface;
	unsigned bit;
	int r;

	r = sd_bus_message_read(msg, "s", &iface);
	if (r < 0)
		return r;
	bit = iface_bit(iface);
	md->ifaces |= bit;
	return bit ? read_props(msg, md, bit)
		   : sd_bus_message_skip(msg, "a{sv}");
}

/* o a{sa{sv}}, from InterfacesAdded or an entry of GetManagedObjects. */
static int read_object(struct mm *m, sd_bus_message *msg, const char **pathp)
{
	struct modem *md;
	const char *path;
	int r;

	r = sd_bus_message_read(msg, "o", &path);
	if (r < 0)
		return r;
	*pathp = path;
	md = modem_get(m, path);
	if (!md)
		return sd_bus_message_skip(msg, "a{sa{sv}}");
	r = each_entry(msg, "sa{sv}", iface_entry, md);
	if (r >= 0 && !md->ifaces)
		modem_remove(m, md);
	return r;
}

struct object_walk {
	struct mm *m;
	const char *path;	/* the object being read, for the log */
};

static int object_entry(sd_bus_message *msg, void *arg)
{
	struct object_walk *w = arg;

	return read_object(w->m, msg, &w->path);
}

static int on_managed_objects(sd_bus_message *msg, void *userdata,
			      sd_bus_error *ret)
{
	struct op *o = userdata;
	struct mm *m = o->m;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	struct object_walk w = { m, "" };
	int r;

	(void)ret;
	op_free(o);
	if (e) {
		log_warn(LOG_SMS, "ModemManager: cannot get its modems: %s",
			 err_text(e));
		return 0;
	}
	r = each_entry(msg, "oa{sa{sv}}", object_entry, &w);
	if (r < 0)
		log_warn(LOG_SMS, "ModemManager: bad object %s: %s", w.path,
			 strerror(-r));
	if (!m->modems)
		log_notice(LOG_SMS, "ModemManager has no modem yet");
	reselect(m);
	if (m->sel)
		modem_changed(m, m->sel, true);
	return 0;
}

static void appeared(struct mm *m, const char *owner)
{
	struct op *o;

	if (m->owner && !strcmp(m->owner, owner))
		return;
	free(m->owner);
	m->owner = strdup(owner);
	if (!m->owner) {
		log_err(LOG_SMS, "ModemManager: out of memory");
		return;
	}
	log_notice(LOG_SMS, "ModemManager is on the bus (%s)", owner);
	m->told_absent = false;
	if ((o = op_new(m, OP_SERVICE, NULL)))
		op_call(o, MM_PATH, IF_OM, "GetManagedObjects",
			on_managed_objects, NULL);
}

static void gone(struct mm *m)
{
	deselect(m);
	ops_cancel(m, OP_SERVICE);
	while (m->modems)
		modem_remove(m, m->modems);
	free(m->owner);
	m->owner = NULL;
}

/* Sets *(bool *)arg if State says the SMS is received. */
static int sms_state_prop(sd_bus_message *msg, const char *k, void *arg)
{
	uint32_t state = 0;
	int r;

	if (strcmp(k, "State"))
		return sd_bus_message_skip(msg, "v");
	r = read_variant(msg, "u", &state);
	if (r >= 0 && state == SMS_STATE_RECEIVED)
		*(bool *)arg = true;
	return r;
}

static void props_changed(struct mm *m, sd_bus_message *msg, const char *path)
{
	const char *iface;
	struct modem *md;
	int r;

	if (sd_bus_message_read(msg, "s", &iface) < 0)
		return;
	if ((md = modem_find(m, path))) {
		unsigned bit = iface_bit(iface);
		uint32_t reg = md->reg, access = md->access;
		char opcode[sizeof(md->opcode)];
		int state = md->state;

		if (!bit)
			return;
		memcpy(opcode, md->opcode, sizeof(opcode));
		r = read_props(msg, md, bit);
		if (r < 0) {
			log_warn(LOG_SMS, "ModemManager: bad properties of %s: "
				 "%s", path, strerror(-r));
			return;
		}
		modem_changed(m, md, reg != md->reg || access != md->access ||
			      state != md->state || strcmp(opcode, md->opcode));
		return;
	}
	if (!strcmp(iface, IF_SMS) && sms_find(m, path) &&
	    !sms_find(m, path)->reported) {
		bool received = false;

		/* whatever changed: read it whole once it is received */
		(void)each_prop(msg, sms_state_prop, &received);
		if (received)
			sms_read(m, path);
	}
}

static int on_signal(sd_bus_message *msg, void *userdata, sd_bus_error *ret)
{
	struct mm *m = userdata;
	const char *path = sd_bus_message_get_path(msg);
	const char *sender = sd_bus_message_get_sender(msg);
	const char *obj = NULL;
	int received = 0, r;

	(void)ret;
	/* sd-bus cannot tell a well-known sender: check the owner */
	if (!m->owner || !path || !sender || strcmp(sender, m->owner))
		return 0;
	if (sd_bus_message_is_signal(msg, IF_PROPS, "PropertiesChanged")) {
		props_changed(m, msg, path);
	} else if (sd_bus_message_is_signal(msg, IF_OM, "InterfacesAdded")) {
		struct modem *md;

		r = read_object(m, msg, &obj);
		if (r < 0) {
			log_warn(LOG_SMS, "ModemManager: bad InterfacesAdded: "
				 "%s", strerror(-r));
			return 0;
		}
		if ((md = modem_find(m, obj)))
			modem_changed(m, md, true);
	} else if (sd_bus_message_is_signal(msg, IF_OM, "InterfacesRemoved")) {
		struct modem *md;
		const char *iface;

		if (sd_bus_message_read(msg, "o", &obj) < 0 ||
		    !(md = modem_find(m, obj)) ||
		    sd_bus_message_enter_container(msg, 'a', "s") < 0)
			return 0;
		while (sd_bus_message_read(msg, "s", &iface) > 0) {
			unsigned bit = iface_bit(iface);

			md->ifaces &= ~bit;
			if (md == m->sel && bit == HAS_MESSAGING)
				m->listed = false;	/* List again when back */
		}
		if (!(md->ifaces & HAS_MODEM)) {
			if (md == m->sel)
				deselect(m);
			modem_remove(m, md);
			reselect(m);
		} else {
			modem_changed(m, md, false);
		}
	} else if (!m->sel || strcmp(path, m->sel->path)) {
		return 0;
	} else if (sd_bus_message_is_signal(msg, IF_MESSAGING, "Added")) {
		if (sd_bus_message_read(msg, "ob", &obj, &received) >= 0 &&
		    received)
			sms_track(m, obj);
	} else if (sd_bus_message_is_signal(msg, IF_MESSAGING, "Deleted")) {
		if (sd_bus_message_read(msg, "o", &obj) >= 0)
			sms_forget(m, obj);
	} else if (sd_bus_message_is_signal(msg, IF_VOICE, "CallAdded")) {
		struct op *o;

		if (sd_bus_message_read(msg, "o", &obj) >= 0 &&
		    (o = op_new(m, OP_MODEM, obj)))
			op_call(o, obj, IF_PROPS, "GetAll", on_call_props,
				"s", IF_CALL);
	}
	return 0;
}

static int on_owner_changed(sd_bus_message *msg, void *userdata,
			    sd_bus_error *ret)
{
	struct mm *m = userdata;
	const char *name = NULL, *old = NULL, *new = NULL;

	(void)ret;
	if (sd_bus_message_read(msg, "sss", &name, &old, &new) < 0 ||
	    strcmp(name, MM_NAME))
		return 0;
	if (new && *new) {
		if (m->owner && strcmp(m->owner, new))
			gone(m);
		appeared(m, new);
	} else if (m->owner) {
		log_notice(LOG_SMS, "ModemManager left the bus; waiting for it");
		gone(m);
	}
	return 0;
}

static int on_name_owner(sd_bus_message *msg, void *userdata,
			 sd_bus_error *ret)
{
	struct op *o = userdata;
	struct mm *m = o->m;
	const char *owner = NULL;

	(void)ret;
	op_free(o);
	if (!sd_bus_message_is_method_error(msg, NULL) &&
	    sd_bus_message_read(msg, "s", &owner) > 0 && owner) {
		appeared(m, owner);
	} else if (!m->owner && !m->told_absent) {
		m->told_absent = true;
		log_notice(LOG_SMS, "ModemManager not on the bus; waiting for it");
	}
	return 0;
}

static int on_match_installed(sd_bus_message *msg, void *userdata,
			      sd_bus_error *ret)
{
	const sd_bus_error *e = sd_bus_message_get_error(msg);

	(void)userdata;
	(void)ret;
	if (e)
		log_err(LOG_SMS, "ModemManager: cannot follow its signals: %s",
			err_text(e));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* API                                                                      */

struct mm *mm_new(sd_bus *bus, const char *modem, const struct mm_ops *ops,
		  void *arg)
{
	struct mm *m = calloc(1, sizeof(*m));
	struct op *o;
	int r;

	if (!m)
		return NULL;
	m->bus = sd_bus_ref(bus);
	m->want = strdup(modem && *modem ? modem : "first");
	if (ops)
		m->ops = *ops;
	m->arg = arg;
	if (!m->want) {
		mm_free(m);
		return NULL;
	}
	if (!bus)
		return m;
	r = sd_bus_add_match_async(bus, &m->owner_match,
				   "type='signal',sender='org.freedesktop.DBus',"
				   "path='/org/freedesktop/DBus',"
				   "interface='org.freedesktop.DBus',"
				   "member='NameOwnerChanged',arg0='" MM_NAME "'",
				   on_owner_changed, on_match_installed, m);
	if (r >= 0)
		r = sd_bus_add_match_async(bus, &m->signal_match,
					   "type='signal',sender='" MM_NAME "'",
					   on_signal, on_match_installed, m);
	if (r >= 0 && (o = op_new(m, OP_SERVICE, NULL))) {
		r = sd_bus_call_method_async(bus, &o->slot, "org.freedesktop.DBus",
					     "/org/freedesktop/DBus",
					     "org.freedesktop.DBus",
					     "GetNameOwner", on_name_owner, o,
					     "s", MM_NAME);
		if (r < 0)
			op_free(o);
	}
	if (r < 0)
		log_err(LOG_SMS, "ModemManager: cannot follow it: %s",
			strerror(-r));
	return m;
}

void mm_free(struct mm *m)
{
	if (!m)
		return;
	while (m->ops_list)
		op_free(m->ops_list);
	sd_bus_slot_unref(m->owner_match);
	sd_bus_slot_unref(m->signal_match);
	while (m->sms)
		sms_forget(m, m->sms->path);
	while (m->modems)
		modem_remove(m, m->modems);
	free(m->owner);
	free(m->want);
	sd_bus_unref(m->bus);
	free(m);
}

bool mm_usable(const struct mm *m)
{
	return m && m->sel;
}

/* Replies of fire-and-forget calls: logged. */
static int on_done(sd_bus_message *msg, void *userdata, sd_bus_error *ret)
{
	struct op *o = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(msg);

	(void)ret;
	if (e)
		log_warn(LOG_SMS, "ModemManager: %s on %s failed: %s",
			 o->what, o->path, err_text(e));
	else
		log_debug(LOG_SMS, "ModemManager: %s on %s done",
			  o->what, o->path);
	op_free(o);
	return 0;
}

int mm_sms_delete(struct mm *m, const char *sms_path)
{
	struct op *o;

	if (!m->sel)
		return -ENODEV;
	if (!(o = op_new(m, OP_USER, sms_path)))
		return -ENOMEM;
	o->what = "deleting the SMS";
	return op_call(o, m->sel->path, IF_MESSAGING, "Delete", on_done, "o",
		       sms_path);
}

int mm_call_hangup(struct mm *m, const char *call_path)
{
	struct op *o;

	if (!m->owner)
		return -ENODEV;
	if (!(o = op_new(m, OP_USER, call_path)))
		return -ENOMEM;
	o->what = "hanging up";
	return op_call(o, call_path, IF_CALL, "Hangup", on_done, NULL);
}

static void send_done(struct op *o, const sd_bus_error *e, int err)
{
	mm_send_fn *cb = o->cb;
	void *arg = o->arg;
	int r = 0;

	if (e) {
		r = -sd_bus_error_get_errno(e);
		if (!r)
			r = -EIO;
	} else if (err < 0) {
		r = err;
	}
	op_free(o);
	cb(arg, r, e ? e->name : NULL,
	   e ? err_text(e) : r ? strerror(-r) : NULL);
}

static int on_sent(sd_bus_message *msg, void *userdata, sd_bus_error *ret)
{
	struct op *o = userdata;
	struct mm *m = o->m;
	struct op *d;

	(void)ret;
	/* the SMS object has done its work, sent or not: drop it */
	if (m->sel && (d = op_new(m, OP_USER, o->path))) {
		d->what = "deleting the sent SMS";
		op_call(d, m->sel->path, IF_MESSAGING, "Delete", on_done, "o",
			o->path);
	}
	send_done(o, sd_bus_message_get_error(msg), 0);
	return 0;
}

static int on_created(sd_bus_message *msg, void *userdata, sd_bus_error *ret)
{
	struct op *o = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	sd_bus_message *call = NULL;
	const char *path = NULL;
	int r;

	(void)ret;
	o->slot = sd_bus_slot_unref(o->slot);
	if (e) {
		send_done(o, e, 0);
		return 0;
	}
	r = sd_bus_message_read(msg, "o", &path);
	if (r >= 0 && !(o->path = strdup(path)))
		r = -ENOMEM;
	if (r >= 0)
		r = sd_bus_message_new_method_call(o->m->bus, &call, MM_NAME,
						   path, IF_SMS, "Send");
	if (r >= 0)
		r = sd_bus_call_async(o->m->bus, &o->slot, call, on_sent, o,
				      SEND_TIMEOUT);
	sd_bus_message_unref(call);
	if (r < 0)
		send_done(o, NULL, r);
	else
		log_debug(LOG_SMS, "ModemManager: sending SMS %s", path);
	return 0;
}

int mm_sms_send(struct mm *m, const char *number, const uint8_t *data,
		size_t len, const char *text, mm_send_fn *cb, void *arg)
{
	sd_bus_message *msg = NULL;
	struct op *o;
	int r;

	if (!m->sel)
		return -ENODEV;
	if (!number || (!data && !text))
		return -EINVAL;
	if (!(o = op_new(m, OP_USER, NULL)))
		return -ENOMEM;
	o->cb = cb;
	o->arg = arg;
	r = sd_bus_message_new_method_call(m->bus, &msg, MM_NAME, m->sel->path,
					   IF_MESSAGING, "Create");
	if (r >= 0)
		r = sd_bus_message_open_container(msg, 'a', "{sv}");
	if (r >= 0)
		r = sd_bus_message_append(msg, "{sv}", "number", "s", number);
	if (r >= 0 && data) {
		r = sd_bus_message_open_container(msg, 'e', "sv");
		if (r >= 0)
			r = sd_bus_message_append(msg, "s", "data");
		if (r >= 0)
			r = sd_bus_message_open_container(msg, 'v', "ay");
		if (r >= 0)
			r = sd_bus_message_append_array(msg, 'y', data, len);
		if (r >= 0)
			r = sd_bus_message_close_container(msg);
		if (r >= 0)
			r = sd_bus_message_close_container(msg);
	} else if (r >= 0) {
		r = sd_bus_message_append(msg, "{sv}", "text", "s", text);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(msg);
	if (r >= 0)
		r = sd_bus_call_async(m->bus, &o->slot, msg, on_created, o, 0);
	sd_bus_message_unref(msg);
	if (r < 0) {
		log_warn(LOG_SMS, "ModemManager: cannot create an SMS: %s",
			 strerror(-r));
		op_free(o);
	}
	return r < 0 ? r : 0;
}
