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
 *
 * This file: the pending calls, reading properties, ModemManager and its
 * modems, the selection, the signals; Messaging is in mm_sms.c, Location
 * and Voice in mm_location.c (mm_internal.h).
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

struct op *mm_op_new(struct mm *m, enum op_kind kind, const char *path)
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
void mm_op_free(struct op *o)
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
int mm_op_call(struct op *o, const char *path, const char *iface,
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
		mm_op_free(o);
	}
	return r < 0 ? r : 0;
}

const char *mm_err_text(const sd_bus_error *e)
{
	return e->message ? e->message : e->name ? e->name : "error";
}

/*
 * Enters the variant at msg if it holds the type sig (returns 1), else skips
 * it (returns 0); <0 on error.
 */
int mm_enter_variant(sd_bus_message *msg, const char *sig)
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
int mm_read_variant(sd_bus_message *msg, const char *sig, void *out)
{
	int r;

	r = mm_enter_variant(msg, sig);
	if (r <= 0)
		return r;
	r = sd_bus_message_read_basic(msg, sig[0], out);
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

/*
 * Walks the dictionary at msg, an array of entries of the signature entry
 * ("sv", "uv", ...): enters each entry, has fn read it and exits it; then
 * exits the array.  Returns <0 on the first error, fn's included.
 */
int mm_each_entry(sd_bus_message *msg, const char *entry, entry_fn *fn,
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
int mm_each_prop(sd_bus_message *msg, prop_fn *fn, void *arg)
{
	struct prop_walk w = { fn, arg };

	return mm_each_entry(msg, "sv", prop_entry, &w);
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
		r = mm_read_variant(msg, "s", &s);
		if (r >= 0 && s) {
			char *id = strdup(s);

			if (!id)
				return -ENOMEM;
			free(md->id);
			md->id = id;
		}
	} else if (bit == HAS_MODEM && !strcmp(k, "State")) {
		r = mm_read_variant(msg, "i", &md->state);
	} else if (bit == HAS_MODEM && !strcmp(k, "AccessTechnologies")) {
		r = mm_read_variant(msg, "u", &md->access);
	} else if (bit == HAS_3GPP && !strcmp(k, "RegistrationState")) {
		r = mm_read_variant(msg, "u", &md->reg);
	} else if (bit == HAS_3GPP && !strcmp(k, "OperatorCode")) {
		r = mm_read_variant(msg, "s", &s);
		if (r >= 0 && s)
			snprintf(md->opcode, sizeof(md->opcode), "%s", s);
	} else if (bit == HAS_LOCATION && !strcmp(k, "Enabled")) {
		r = mm_read_variant(msg, "u", &md->loc_enabled);
	} else if (bit == HAS_LOCATION && !strcmp(k, "SignalsLocation")) {
		r = mm_read_variant(msg, "b", &b);
		if (r >= 0)
			md->loc_signals = b;
	} else if (bit == HAS_LOCATION && !strcmp(k, "Location")) {
		r = mm_read_location_variant(msg, md);
	} else {
		r = sd_bus_message_skip(msg, "v");
	}
	return r;
}

/* An a{sv} of the interface bit of md into md. */
static int read_props(sd_bus_message *msg, struct modem *md, unsigned bit)
{
	struct modem_props p = { md, bit };

	return mm_each_prop(msg, modem_prop, &p);
}

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

static void deselect(struct mm *m)
{
	if (!m->sel)
		return;
	log_notice(LOG_SMS, "ModemManager: modem %s (%s) gone", m->sel->path,
		   m->sel->id);
	m->sel = NULL;
	ops_cancel(m, OP_MODEM);
	while (m->sms)
		mm_sms_forget(m, m->sms->path);
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
	mm_list_sms(m);
	mm_follow_location(m, true);
	mm_report_network(m);
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
	mm_list_sms(m);
	mm_follow_location(m, reg_changed);
	mm_report_network(m);
}

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
	r = mm_each_entry(msg, "sa{sv}", iface_entry, md);
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
	mm_op_free(o);
	if (e) {
		log_warn(LOG_SMS, "ModemManager: cannot get its modems: %s",
			 mm_err_text(e));
		return 0;
	}
	r = mm_each_entry(msg, "oa{sa{sv}}", object_entry, &w);
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
	if ((o = mm_op_new(m, OP_SERVICE, NULL)))
		mm_op_call(o, MM_PATH, IF_OM, "GetManagedObjects",
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
	if (!strcmp(iface, IF_SMS))
		mm_sms_changed(m, msg, path);
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
			mm_sms_track(m, obj);
	} else if (sd_bus_message_is_signal(msg, IF_MESSAGING, "Deleted")) {
		if (sd_bus_message_read(msg, "o", &obj) >= 0)
			mm_sms_forget(m, obj);
	} else if (sd_bus_message_is_signal(msg, IF_VOICE, "CallAdded")) {
		if (sd_bus_message_read(msg, "o", &obj) >= 0)
			mm_call_added(m, obj);
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
	mm_op_free(o);
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
			mm_err_text(e));
	return 0;
}

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
	if (r >= 0 && (o = mm_op_new(m, OP_SERVICE, NULL))) {
		r = sd_bus_call_method_async(bus, &o->slot, "org.freedesktop.DBus",
					     "/org/freedesktop/DBus",
					     "org.freedesktop.DBus",
					     "GetNameOwner", on_name_owner, o,
					     "s", MM_NAME);
		if (r < 0)
			mm_op_free(o);
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
		mm_op_free(m->ops_list);
	sd_bus_slot_unref(m->owner_match);
	sd_bus_slot_unref(m->signal_match);
	while (m->sms)
		mm_sms_forget(m, m->sms->path);
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
int mm_on_done(sd_bus_message *msg, void *userdata, sd_bus_error *ret)
{
	struct op *o = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(msg);

	(void)ret;
	if (e)
		log_warn(LOG_SMS, "ModemManager: %s on %s failed: %s",
			 o->what, o->path, mm_err_text(e));
	else
		log_debug(LOG_SMS, "ModemManager: %s on %s done",
			  o->what, o->path);
	mm_op_free(o);
	return 0;
}
