/* SPDX-License-Identifier: MIT */
/*
 * The org.dmscgw1 service: the objects are exported here, one file per
 * interface (or part of one) does the rest: manager.c, session.c, tree.c,
 * exec_agent.c (org.dmscgw1.Manager), card.c (org.dmscgw1.Card), agent.c
 * (org.dmscgw1.Agent) and exec_agent.c (org.dmscgw1.ExecAgent), both
 * called by the service.  This file holds what they
 * share: the caller's authorization, UTF-8 for outside text, emitting.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bip/bip.h"
#include "cat/cat.h"
#include "ctl/agent.h"
#include "ctl/control.h"
#include "ctl/exec_agent.h"
#include "ctl/service.h"
#include "dm/client.h"
#include "log.h"
#include "util/ratelimit.h"
#include "util/sdbus.h"

void ctl_emit(struct control *ctl, const char *path, const char *iface,
	      const char *prop)
{
	sdbus_emit_properties_changed(ctl->bus, path, iface, prop, NULL);
}

int ctl_append_bytes(sd_bus_message *reply, const uint8_t *p, size_t n)
{
	return sd_bus_message_append_array(reply, 'y', p, n);
}

/* The length of the well-formed UTF-8 sequence at p, 0 when none. */
static size_t utf8_seq(const unsigned char *p)
{
	size_t n;
	unsigned lo = 0x80, hi = 0xBF;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	/* no overlong forms, surrogates or code points above U+10FFFF */
	if (p[0] == 0xE0)
		lo = 0xA0;
	else if (p[0] == 0xED)
		hi = 0x9F;
	else if (p[0] == 0xF0)
		lo = 0x90;
	else if (p[0] == 0xF4)
		hi = 0x8F;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

const char *ctl_utf8_text(const char *s, char *buf, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, n;

	if (!s)
		return "";
	while (*p && (n = utf8_seq(p)) > 0)
		p += n;
	if (!*p)
		return s;
	for (p = (const unsigned char *)s; *p && o + 1 < cap; p += n) {
		n = utf8_seq(p);
		if (!n) {
			buf[o++] = '?';
			n = 1;
		} else if (o + n < cap) {
			memcpy(buf + o, p, n);
			o += n;
		} else {
			break;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* Authorization: root or the dmscgw group, asked of the bus driver     */

struct auth {
	struct control *ctl;
	sd_bus_message *m;
	ctl_priv_fn fn;
};

static bool creds_allowed(struct control *ctl, sd_bus_message *reply,
			  uint32_t *uid_out)
{
	bool have_uid = false, in_group = false;
	uint32_t uid = (uint32_t)-1;

	if (sd_bus_message_enter_container(reply, 'a', "{sv}") < 0)
		return false;
	while (sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
		const char *key;

		if (sd_bus_message_read(reply, "s", &key) < 0)
			return false;
		if (!strcmp(key, "UnixUserID")) {
			if (sd_bus_message_read(reply, "v", "u", &uid) < 0)
				return false;
			have_uid = true;
		} else if (!strcmp(key, "UnixGroupIDs") && ctl->have_group) {
			const uint32_t *gids;
			size_t n;

			if (sd_bus_message_enter_container(reply, 'v', "au") < 0 ||
			    sd_bus_message_read_array(reply, 'u',
						      (const void **)&gids, &n) < 0 ||
			    sd_bus_message_exit_container(reply) < 0)
				return false;
			for (size_t i = 0; i < n / sizeof(uint32_t); i++)
				if (gids[i] == ctl->group)
					in_group = true;
		} else if (sd_bus_message_skip(reply, "v") < 0) {
			return false;
		}
		if (sd_bus_message_exit_container(reply) < 0)
			return false;
	}
	*uid_out = uid;
	return have_uid && (uid == 0 || in_group);
}

static int auth_reply(sd_bus_message *reply, void *userdata,
		      sd_bus_error *ret_error)
{
	struct auth *a = userdata;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	uint32_t uid = (uint32_t)-1;
	int r;

	if (sd_bus_message_is_method_error(reply, NULL)) {
		sd_bus_reply_method_errorf(a->m, ERR_DENIED,
					   "cannot identify the caller");
		return 0;
	}
	if (!creds_allowed(a->ctl, reply, &uid)) {
		/* any local user can call: the log must not be theirs to fill */
		static struct ratelimit rl = RATELIMIT_INIT(60, 10);
		char more[64] = "";
		unsigned held;

		if (ratelimit_pass(&rl, ratelimit_now(), &held)) {
			if (held)
				snprintf(more, sizeof(more), " (and %u refusals "
					 "not logged before it)", held);
			log_notice(LOG_CTL, "%s.%s refused to uid %d%s",
				   sd_bus_message_get_interface(a->m),
				   sd_bus_message_get_member(a->m), (int)uid,
				   more);
		}
		sd_bus_reply_method_errorf(a->m, ERR_DENIED,
					   "%s needs root or the group %s",
					   sd_bus_message_get_member(a->m),
					   ADMIN_GROUP);
		return 0;
	}
	r = a->fn(a->ctl, a->m, &e);
	if (sd_bus_error_is_set(&e))
		sd_bus_reply_method_error(a->m, &e);
	else if (r < 0)
		sd_bus_reply_method_errorf(a->m, ERR_FAILED, "%s", strerror(-r));
	sd_bus_error_free(&e);
	return 0;
}

static void auth_free(void *userdata)
{
	struct auth *a = userdata;

	sd_bus_message_unref(a->m);
	free(a);
}

/* Check the caller, then run fn (which replies now or later). */
int ctl_privileged(struct control *ctl, sd_bus_message *m, ctl_priv_fn fn,
		   sd_bus_error *e)
{
	struct auth *a = calloc(1, sizeof(*a));
	sd_bus_slot *slot = NULL;
	int r;

	if (!a)
		return -ENOMEM;
	a->ctl = ctl;
	a->m = sd_bus_message_ref(m);
	a->fn = fn;
	/* asynchronous: the loop never waits for the bus driver */
	r = sd_bus_call_method_async(ctl->sd, &slot, "org.freedesktop.DBus",
				     "/org/freedesktop/DBus",
				     "org.freedesktop.DBus",
				     "GetConnectionCredentials", auth_reply, a,
				     "s", sd_bus_message_get_sender(m));
	if (r < 0) {
		auth_free(a);
		return r;
	}
	sd_bus_slot_set_destroy_callback(slot, auth_free);
	sd_bus_slot_set_floating(slot, 1);
	sd_bus_slot_unref(slot);
	return 1;
}

int ctl_watch_owner(sd_bus *sd, sd_bus_slot **slot, const char *owner,
		    sd_bus_message_handler_t fn, void *userdata)
{
	char match[256];

	snprintf(match, sizeof(match),
		 "type='signal',sender='org.freedesktop.DBus',"
		 "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
		 "member='NameOwnerChanged',arg0='%s'", owner);
	return sd_bus_add_match_async(sd, slot, match, fn, NULL, userdata);
}

int ctl_dm_missing(sd_bus_error *e)
{
	return sd_bus_error_set(e, ERR_FAILED, "DM client not running");
}

/* ------------------------------------------------------------------ */

struct control *control_new(struct sdbus *bus, struct cat_engine *cat,
			    struct wakeup *wakeup, const struct control_ops *ops,
			    void *arg, char *err, size_t errlen)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	struct group *gr;
	int r;

	if (!ctl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->bus = bus;
	ctl->sd = sdbus_sd(bus);
	ctl->cat = cat;
	ctl->wakeup = wakeup;
	ctl->ops = ops;
	ctl->arg = arg;
	/* resolved once at start-up: NSS lookups may block */
	gr = getgrnam(ADMIN_GROUP);
	if (gr) {
		ctl->have_group = true;
		ctl->group = gr->gr_gid;
	}
	/* one interface, four parts: sd-bus merges them (introspection too) */
	r = sd_bus_add_object_vtable(ctl->sd, &ctl->slots[CTL_SLOT_MANAGER],
				     MANAGER_PATH, MANAGER_IFACE,
				     ctl_manager_vtable, ctl);
	if (r >= 0)
		r = sd_bus_add_object_vtable(ctl->sd,
					     &ctl->slots[CTL_SLOT_SESSION],
					     MANAGER_PATH, MANAGER_IFACE,
					     ctl_session_vtable, ctl);
	if (r >= 0)
		r = sd_bus_add_object_vtable(ctl->sd, &ctl->slots[CTL_SLOT_TREE],
					     MANAGER_PATH, MANAGER_IFACE,
					     ctl_tree_vtable, ctl);
	if (r >= 0)
		r = sd_bus_add_object_vtable(ctl->sd, &ctl->slots[CTL_SLOT_EXEC],
					     MANAGER_PATH, MANAGER_IFACE,
					     ctl_exec_vtable, ctl);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(ctl->sd,
					       &ctl->slots[CTL_SLOT_CARD],
					       CARD_PREFIX, CARD_IFACE,
					       ctl_card_vtable, ctl_card_find,
					       ctl);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(ctl->sd,
					       &ctl->slots[CTL_SLOT_CARDS],
					       CARD_PREFIX, ctl_card_enumerate,
					       ctl);
	if (r >= 0)
		r = sd_bus_add_object_manager(ctl->sd,
					      &ctl->slots[CTL_SLOT_OBJECTS],
					      MANAGER_PATH);
	if (r < 0) {
		snprintf(err, errlen, "cannot export the D-Bus objects: %s",
			 strerror(-r));
		control_free(ctl);
		return NULL;
	}
	/* before the loop runs: a synchronous request is fine here */
	r = sd_bus_request_name(ctl->sd, BUS_NAME, 0);
	if (r < 0) {
		snprintf(err, errlen, "cannot own the D-Bus name %s: %s", BUS_NAME,
			 r == -EEXIST ? "another dmscgw is running" :
			 r == -EACCES || r == -EPERM ? "the bus policy does not allow it" :
			 strerror(-r));
		control_free(ctl);
		return NULL;
	}
	cat_engine_set_observer(cat, &ctl_card_observer, ctl);
	sdbus_kick(bus);
	log_info(LOG_CTL, "D-Bus service %s ready", BUS_NAME);
	return ctl;
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	cat_engine_set_observer(ctl->cat, NULL, NULL);
	if (ctl->bip)
		bip_set_observer(ctl->bip, NULL, NULL);
	if (ctl->dm)
		dm_client_set_observer(ctl->dm, NULL);
	agent_free(ctl->agent);
	exec_agents_free(ctl->exec);
	for (int i = 0; i < CTL_SLOTS; i++)
		sd_bus_slot_unref(ctl->slots[i]);
	while (ctl->cards) {
		struct ctl_card *k = ctl->cards;

		ctl->cards = k->next;
		free(k);
	}
	free(ctl);
}
