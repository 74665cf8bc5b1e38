/* SPDX-License-Identifier: MIT */
/*
 * ModemManager's Messaging, for the selected modem: received SMS are
 * followed (Messaging.Added/Deleted, the Sms object's State) until they are
 * complete, then reported; SMS are sent with Messaging.Create and
 * Sms.Send, then deleted.
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

static const char OP_READ_SMS[] = "reading the SMS";

static struct sms *sms_find(struct mm *m, const char *path)
{
	for (struct sms *s = m->sms; s; s = s->next)
		if (!strcmp(s->path, path))
			return s;
	return NULL;
}

void mm_sms_forget(struct mm *m, const char *path)
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
		return mm_read_variant(msg, "u", &p->state);
	if (!strcmp(k, "Number"))
		return mm_read_variant(msg, "s", &p->number);
	if (strcmp(k, "Data"))
		return sd_bus_message_skip(msg, "v");
	r = mm_enter_variant(msg, "ay");
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
	mm_op_free(o);
	s = sms_find(m, path);
	if (!s || s->reported)
		goto out;
	if (e) {
		log_warn(LOG_SMS, "ModemManager: cannot read SMS %s: %s", path,
			 mm_err_text(e));
		mm_sms_forget(m, path);
		goto out;
	}
	r = mm_each_prop(msg, sms_prop, &p);
	if (r < 0) {
		log_warn(LOG_SMS, "ModemManager: bad properties of SMS %s: %s",
			 path, strerror(-r));
		mm_sms_forget(m, path);
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
		mm_sms_forget(m, path);
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
			mm_op_free(o);
			break;
		}
	if (!(o = mm_op_new(m, OP_MODEM, path)))
		return;
	o->what = OP_READ_SMS;
	mm_op_call(o, path, IF_PROPS, "GetAll", on_sms_props, "s", IF_SMS);
}

void mm_sms_track(struct mm *m, const char *path)
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
	mm_op_free(o);
	if (e) {
		log_warn(LOG_SMS, "ModemManager: cannot list the SMS: %s",
			 mm_err_text(e));
		return 0;
	}
	r = sd_bus_message_enter_container(msg, 'a', "o");
	while (r >= 0 && (r = sd_bus_message_read(msg, "o", &path)) > 0)
		mm_sms_track(m, path);
	if (r < 0)
		log_warn(LOG_SMS, "ModemManager: bad SMS list: %s",
			 strerror(-r));
	return 0;
}

void mm_list_sms(struct mm *m)
{
	struct op *o;

	if (m->listed || !m->sel || !(m->sel->ifaces & HAS_MESSAGING))
		return;
	m->listed = true;
	if ((o = mm_op_new(m, OP_MODEM, NULL)))
		mm_op_call(o, m->sel->path, IF_MESSAGING, "List", on_list, NULL);
}

/* Sets *(bool *)arg if State says the SMS is received. */
static int sms_state_prop(sd_bus_message *msg, const char *k, void *arg)
{
	uint32_t state = 0;
	int r;

	if (strcmp(k, "State"))
		return sd_bus_message_skip(msg, "v");
	r = mm_read_variant(msg, "u", &state);
	if (r >= 0 && state == SMS_STATE_RECEIVED)
		*(bool *)arg = true;
	return r;
}

int mm_sms_delete(struct mm *m, const char *sms_path)
{
	struct op *o;

	if (!m->sel)
		return -ENODEV;
	if (!(o = mm_op_new(m, OP_USER, sms_path)))
		return -ENOMEM;
	o->what = "deleting the SMS";
	return mm_op_call(o, m->sel->path, IF_MESSAGING, "Delete", mm_on_done, "o",
			  sms_path);
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
	mm_op_free(o);
	cb(arg, r, e ? e->name : NULL,
	   e ? mm_err_text(e) : r ? strerror(-r) : NULL);
}

static int on_sent(sd_bus_message *msg, void *userdata, sd_bus_error *ret)
{
	struct op *o = userdata;
	struct mm *m = o->m;
	struct op *d;

	(void)ret;
	/* the SMS object has done its work, sent or not: drop it */
	if (m->sel && (d = mm_op_new(m, OP_USER, o->path))) {
		d->what = "deleting the sent SMS";
		mm_op_call(d, m->sel->path, IF_MESSAGING, "Delete",
			   mm_on_done, "o", o->path);
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
	if (!(o = mm_op_new(m, OP_USER, NULL)))
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
		mm_op_free(o);
	}
	return r < 0 ? r : 0;
}

void mm_sms_changed(struct mm *m, sd_bus_message *msg, const char *path)
{
	struct sms *s = sms_find(m, path);
	bool received = false;

	if (!s || s->reported)
		return;
	/* whatever changed: read it whole once it is received */
	(void)mm_each_prop(msg, sms_state_prop, &received);
	if (received)
		sms_read(m, path);
}
