/* SPDX-License-Identifier: MIT */
/*
 * org.dmscgw1.Card: one object per card the toolkit runs, with its BIP
 * channels; the card's signals come from the CAT engine's and BIP's
 * observers.  The manager's Cards, CardInserted and CardRemoved follow the
 * same list.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bip/bip.h"
#include "card/pcsc.h"
#include "card/tlv.h"
#include "cat/cat.h"
#include "ctl/control.h"
#include "ctl/service.h"
#include "link/link.h"
#include "log.h"
#include "util/sdbus.h"
#include "wakeup/wakeup.h"

static struct ctl_card *card_by_cat(struct control *ctl, const struct cat *c)
{
	for (struct ctl_card *k = ctl->cards; k; k = k->next)
		if (k->cat == c)
			return k;
	return NULL;
}

static struct ctl_card *card_by_path(struct control *ctl, const char *path)
{
	for (struct ctl_card *k = ctl->cards; k; k = k->next)
		if (!strcmp(k->path, path))
			return k;
	return NULL;
}

void control_card_added(struct control *ctl, struct cat *c)
{
	struct ctl_card *k, **pp;

	if (!ctl || !(k = calloc(1, sizeof(*k))))
		return;
	k->cat = c;
	k->ctl = ctl;
	k->id = ++ctl->next_id;
	snprintf(k->path, sizeof(k->path), CARD_PREFIX "/%u", k->id);
	for (pp = &ctl->cards; *pp; pp = &(*pp)->next)
		;
	*pp = k;
	sdbus_emit_object_added(ctl->bus, k->path);
	sdbus_emit_signal(ctl->bus, MANAGER_PATH, MANAGER_IFACE, "CardInserted",
			  "os", k->path, cat_name(c));
	ctl_emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Cards");
}

void control_card_removed(struct control *ctl, struct cat *c)
{
	struct ctl_card *k = ctl ? card_by_cat(ctl, c) : NULL;

	if (!k)
		return;
	sdbus_emit_signal(ctl->bus, MANAGER_PATH, MANAGER_IFACE, "CardRemoved",
			  "os", k->path, cat_name(c));
	sdbus_emit_object_removed(ctl->bus, k->path);
	for (struct ctl_card **pp = &ctl->cards; *pp; pp = &(*pp)->next) {
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	}
	free(k);
	ctl_emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Cards");
}

/* Engine observer: signals and property changes of the card objects. */
static void obs_command(void *arg, struct cat *c, uint8_t type, uint8_t result)
{
	struct control *ctl = arg;
	struct ctl_card *k = card_by_cat(ctl, c);

	if (!k)
		return;
	sdbus_emit_signal(ctl->bus, k->path, CARD_IFACE, "ProactiveCommand",
			  "yy", type, result);
}

static void obs_envelope(void *arg, struct cat *c, uint8_t tag, uint16_t sw)
{
	struct control *ctl = arg;
	struct ctl_card *k = card_by_cat(ctl, c);

	if (!k)
		return;
	sdbus_emit_signal(ctl->bus, k->path, CARD_IFACE, "EnvelopeSent",
			  "yq", tag, sw);
}

static void obs_changed(void *arg, struct cat *c)
{
	struct control *ctl = arg;
	struct ctl_card *k = card_by_cat(ctl, c);

	if (!k)
		return;
	sdbus_emit_properties_changed(ctl->bus, k->path, CARD_IFACE, "Events",
				      "Timers", "PollInterval", NULL);
}

static void obs_card_up(void *arg, struct cat *c)
{
	struct control *ctl = arg;
	struct ctl_card *k = card_by_cat(ctl, c);

	if (k)
		ctl_emit(ctl, k->path, CARD_IFACE, "TerminalProfile");
}

/* BIP observer: a channel opened, changed state, moved data, closed. */
static void channel_changed(void *arg, struct cat *c, uint8_t id,
			    const char *what)
{
	struct control *ctl = arg;
	struct ctl_card *k = card_by_cat(ctl, c);

	if (!k)
		return;
	/*
	 * "data" comes with every chunk: the counters are read on demand,
	 * and nothing is emitted for it.
	 */
	if (!strcmp(what, "data"))
		return;
	sdbus_emit_signal(ctl->bus, k->path, CARD_IFACE, "ChannelChanged",
			  "ys", id, what);
	sdbus_emit_properties_changed(ctl->bus, k->path, CARD_IFACE, "Channels",
				      NULL);
}

void control_set_bip(struct control *ctl, struct bip *b)
{
	if (!ctl)
		return;
	ctl->bip = b;
	bip_set_observer(b, channel_changed, ctl);
}

/* The card's IP link changed: every card object shows it. */
static void link_changed(void *arg, const struct uicc_link_info *now,
			 const char *why)
{
	struct control *ctl = arg;

	for (struct ctl_card *k = ctl->cards; k; k = k->next)
		ctl_emit(ctl, k->path, CARD_IFACE, "UiccLink");
}

void control_set_link(struct control *ctl, struct uicc_link *l)
{
	if (!ctl || !l)
		return;
	ctl->link = l;
	if (uicc_link_add_observer(l, link_changed, ctl) < 0)
		log_err(LOG_CTL, "UiccLink: no room for one more observer");
}

/*
 * UiccLink (ssssas): state, interface, the card's address, where it came
 * from, the link's own addresses (man/org.dmscgw1.5).
 */
static int card_link(sd_bus *bus, const char *path, const char *iface,
		     const char *prop, sd_bus_message *reply, void *userdata,
		     sd_bus_error *e)
{
	struct ctl_card *k = userdata;
	struct uicc_link_info i;
	int r;

	uicc_link_get_info(k->ctl->link, &i);
	r = sd_bus_message_open_container(reply, 'r', "ssssas");
	if (r >= 0)
		r = sd_bus_message_append(reply, "ssss", i.state_name, i.ifname,
					  i.card_addr, i.source);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "s");
	for (size_t n = 0; r >= 0 && n < i.naddrs; n++)
		r = sd_bus_message_append(reply, "s", i.addrs[n]);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

const struct cat_observer ctl_card_observer = {
	.card_up = obs_card_up,
	.command = obs_command,
	.envelope = obs_envelope,
	.changed = obs_changed,
};

int ctl_card_find(sd_bus *bus, const char *path, const char *iface,
		  void *userdata, void **found, sd_bus_error *e)
{
	struct ctl_card *k = card_by_path(userdata, path);

	if (!k)
		return 0;
	*found = k;
	return 1;
}

int ctl_card_enumerate(sd_bus *bus, const char *prefix, void *userdata,
		       char ***nodes, sd_bus_error *e)
{
	struct control *ctl = userdata;
	size_t n = 0, i = 0;
	char **v;

	for (struct ctl_card *k = ctl->cards; k; k = k->next)
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (struct ctl_card *k = ctl->cards; k; k = k->next) {
		v[i] = strdup(k->path);
		if (!v[i]) {
			while (i)
				free(v[--i]);
			free(v);
			return -ENOMEM;
		}
		i++;
	}
	*nodes = v;
	return 0;
}

static int card_prop(sd_bus *bus, const char *path, const char *iface,
		     const char *prop, sd_bus_message *reply, void *userdata,
		     sd_bus_error *e)
{
	struct ctl_card *k = userdata;
	struct cat *c = k->cat;
	const uint8_t *p;
	size_t n;

	if (!strcmp(prop, "Reader"))
		return sd_bus_message_append(reply, "s", cat_name(c));
	if (!strcmp(prop, "Present"))
		return sd_bus_message_append(reply, "b", 1);
	if (!strcmp(prop, "Atr")) {
		p = pcsc_reader_atr(cat_reader(c), &n);
		return ctl_append_bytes(reply, p, n);
	}
	if (!strcmp(prop, "Protocol"))
		return sd_bus_message_append(reply, "s",
					     pcsc_reader_protocol(cat_reader(c)));
	if (!strcmp(prop, "State"))
		return sd_bus_message_append(reply, "s",
					     cat_state_name(cat_state(c)));
	if (!strcmp(prop, "TerminalProfile")) {
		p = cat_profile(c, &n);
		return ctl_append_bytes(reply, p, n);
	}
	if (!strcmp(prop, "Events")) {
		uint8_t ev[CAT_MAX_EVENTS];

		n = cat_events(c, ev, sizeof(ev));
		return ctl_append_bytes(reply, ev, n);
	}
	if (!strcmp(prop, "DelegatedCommands"))
		return sd_bus_message_append(reply, "t", cat_delegated(c));
	return sd_bus_error_setf(e, ERR_FAILED, "no property %s", prop);
}

static int card_timers(sd_bus *bus, const char *path, const char *iface,
		       const char *prop, sd_bus_message *reply, void *userdata,
		       sd_bus_error *e)
{
	struct ctl_card *k = userdata;
	uint32_t left[CAT_MAX_TIMERS], poll_ms = 0;
	bool have;
	int r;

	have = wakeup_timers(k->ctl->wakeup, k->cat, left, &poll_ms) == 0;
	if (!strcmp(prop, "PollInterval"))
		return sd_bus_message_append(reply, "u", have ? poll_ms : 0);
	r = sd_bus_message_open_container(reply, 'a', "(yu)");
	for (int i = 0; have && r >= 0 && i < CAT_MAX_TIMERS; i++)
		if (left[i])
			r = sd_bus_message_append(reply, "(yu)", i + 1, left[i]);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static const char *transport_name(uint8_t t)
{
	switch (t) {
	case 0x01: return "udp-remote";
	case 0x02: return "tcp-remote";
	case 0x03: return "tcp-server";
	case 0x04: return "udp-local";
	case 0x05: return "tcp-local";
	}
	return "other";
}

static int card_channels(sd_bus *bus, const char *path, const char *iface,
			 const char *prop, sd_bus_message *reply, void *userdata,
			 sd_bus_error *e)
{
	struct ctl_card *k = userdata;
	struct bip_channel_info info[7];
	size_t n = k->ctl->bip ? bip_channels(k->ctl->bip, k->cat, info, 7) : 0;
	int r = sd_bus_message_open_container(reply, 'a', "(yssqstt)");

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = sd_bus_message_append(reply, "(yssqstt)", info[i].id,
					  transport_name(info[i].transport),
					  info[i].state, info[i].port, info[i].peer,
					  info[i].bytes_in, info[i].bytes_out);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

struct env_req {
	sd_bus_message *m;
};

static void envelope_done(void *arg, struct cat *c, int err, uint16_t sw,
			  const uint8_t *data, size_t len)
{
	struct env_req *rq = arg;
	sd_bus_message *reply = NULL;

	if (err == -ENODEV)
		sd_bus_reply_method_errorf(rq->m, ERR_NOCARD, "the card went away");
	else if (err == -EBUSY)
		sd_bus_reply_method_errorf(rq->m, ERR_BUSY,
					   "the card stayed busy (93 00)");
	else if (err)
		sd_bus_reply_method_errorf(rq->m, ERR_CARD, "envelope failed: %s",
					   strerror(-err));
	else if (sd_bus_message_new_method_return(rq->m, &reply) >= 0 &&
		 sd_bus_message_append(reply, "q", sw) >= 0 &&
		 ctl_append_bytes(reply, data, len) >= 0)
		sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	sd_bus_message_unref(rq->m);
	free(rq);
}

static int do_envelope(struct control *ctl, sd_bus_message *m, sd_bus_error *e)
{
	struct ctl_card *k = card_by_path(ctl, sd_bus_message_get_path(m));
	struct tlv_iter it;
	struct env_req *rq;
	const void *p;
	struct tlv t;
	size_t n;
	int r;

	if (!k)
		return sd_bus_error_setf(e, ERR_NOCARD, "the card went away");
	r = sd_bus_message_read_array(m, 'y', &p, &n);
	if (r < 0)
		return r;
	tlv_iter_init(&it, p, n);
	if (n < 2 || n > 255 || tlv_ber_next(&it, &t) != 1 ||
	    t.hdr_len + t.len != n)
		return sd_bus_error_setf(e, ERR_INVALID,
					 "the envelope must be one BER-TLV object of 2 to 255 bytes");
	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return -ENOMEM;
	rq->m = sd_bus_message_ref(m);
	r = cat_envelope(k->cat, p, n, envelope_done, rq);
	if (r < 0) {
		sd_bus_message_unref(rq->m);
		free(rq);
		return sd_bus_error_setf(e, ERR_CARD, "cannot queue the envelope: %s",
					 strerror(-r));
	}
	log_notice(LOG_CTL, "%s: raw envelope %02X queued over D-Bus",
		   cat_name(k->cat), ((const uint8_t *)p)[0]);
	return 1;
}

static int method_envelope(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct ctl_card *k = userdata;

	return ctl_privileged(k->ctl, m, do_envelope, e);
}

const sd_bus_vtable ctl_card_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Reader", "s", card_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Present", "b", card_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Atr", "ay", card_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Protocol", "s", card_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("State", "s", card_prop, 0, 0),
	SD_BUS_PROPERTY("TerminalProfile", "ay", card_prop, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Events", "ay", card_prop, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Timers", "a(yu)", card_timers, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("PollInterval", "u", card_timers, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Channels", "a(yssqstt)", card_channels, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("UiccLink", "(ssssas)", card_link, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	/* counts thousands a second: current when read, never emitted */
	SD_BUS_PROPERTY("DelegatedCommands", "t", card_prop, 0, 0),
	SD_BUS_METHOD_WITH_ARGS("Envelope", SD_BUS_ARGS("ay", data),
		SD_BUS_RESULT("q", sw, "ay", response), method_envelope,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_ARGS("ProactiveCommand",
		SD_BUS_ARGS("y", type, "y", result), 0),
	SD_BUS_SIGNAL_WITH_ARGS("EnvelopeSent",
		SD_BUS_ARGS("y", tag, "q", sw), 0),
	SD_BUS_SIGNAL_WITH_ARGS("ChannelChanged",
		SD_BUS_ARGS("y", id, "s", what), 0),
	SD_BUS_VTABLE_END
};
