/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bip/bip.h"
#include "card/pcsc.h"
#include "card/tlv.h"
#include "cat/cat.h"
#include "conf.h"
#include "ctl/bus.h"
#include "ctl/agent.h"
#include "ctl/control.h"
#include "sms/sms.h"
#include "dm/account.h"
#include "dm/client.h"
#include "dm/tree.h"
#include "log.h"
#include "wakeup/wakeup.h"

#define BUS_NAME	"org.dmscgw1"
#define MANAGER_PATH	"/org/dmscgw1"
#define CARD_PREFIX	"/org/dmscgw1/card"
#define MANAGER_IFACE	"org.dmscgw1.Manager"
#define CARD_IFACE	"org.dmscgw1.Card"
#define ADMIN_GROUP	"dmscgw"

#define ERR_INVALID	"org.dmscgw1.Error.InvalidArgs"
#define ERR_DENIED	"org.dmscgw1.Error.AccessDenied"
#define ERR_NOCARD	"org.dmscgw1.Error.NoCard"
#define ERR_NOTSUP	"org.dmscgw1.Error.NotSupported"
#define ERR_BUSY	"org.dmscgw1.Error.CardBusy"
#define ERR_CARD	"org.dmscgw1.Error.CardError"
#define ERR_CONFIG	"org.dmscgw1.Error.ConfigError"
#define ERR_FAILED	"org.dmscgw1.Error.Failed"
#define ERR_NOTFOUND	"org.dmscgw1.Error.NotFound"

/* Sessions read per try; the buffer grows while the client fills it. */
#define SESSIONS_FIRST	(DM_CLIENT_HISTORY + 16)
#define SESSIONS_MAX	4096
/* The longest ServerID dm_client_start takes. */
#define SERVER_ID_MAX	(sizeof(((struct dm_session_info *)NULL)->server_id) - 1)

struct ctl_card {
	struct ctl_card *next;
	struct control *ctl;
	struct cat *cat;
	unsigned id;
	char path[64];
};

struct control {
	struct bus *bus;
	sd_bus *sd;
	struct cat_engine *cat;
	struct wakeup *wakeup;
	const struct control_ops *ops;
	void *arg;
	sd_bus_slot *slots[4];
	bool have_group;
	gid_t group;
	struct ctl_card *cards;
	unsigned next_id;
	struct bip *bip;
	struct dm_client *dm;
	struct dm_client_observer dm_observer;
	struct agent *agent;		/* the UI agent registry */
};

/* ------------------------------------------------------------------ */
/* Cards                                                               */

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

static void emit(struct control *ctl, const char *path, const char *iface,
		 const char *prop)
{
	sd_bus_emit_properties_changed(ctl->sd, path, iface, prop, NULL);
	bus_kick(ctl->bus);
}

static int append_bytes(sd_bus_message *reply, const uint8_t *p, size_t n)
{
	return sd_bus_message_append_array(reply, 'y', p, n);
}

/*
 * D-Bus strings must be UTF-8, and a ServerID or an error text comes from
 * outside: s itself when it is valid, else a copy in buf with '?' for each
 * byte that does not belong to a well-formed sequence.
 */
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

static const char *utf8_text(const char *s, char *buf, size_t cap)
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
	sd_bus_emit_object_added(ctl->sd, k->path);
	sd_bus_emit_signal(ctl->sd, MANAGER_PATH, MANAGER_IFACE, "CardInserted",
			   "os", k->path, cat_name(c));
	emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Cards");
}

void control_card_removed(struct control *ctl, struct cat *c)
{
	struct ctl_card *k = ctl ? card_by_cat(ctl, c) : NULL;

	if (!k)
		return;
	sd_bus_emit_signal(ctl->sd, MANAGER_PATH, MANAGER_IFACE, "CardRemoved",
			   "os", k->path, cat_name(c));
	sd_bus_emit_object_removed(ctl->sd, k->path);
	for (struct ctl_card **pp = &ctl->cards; *pp; pp = &(*pp)->next) {
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	}
	free(k);
	emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Cards");
}

void control_manager_changed(struct control *ctl, const char *prop)
{
	if (ctl)
		emit(ctl, MANAGER_PATH, MANAGER_IFACE, prop);
}

/* Engine observer: signals and property changes of the card objects. */
static void obs_command(void *arg, struct cat *c, uint8_t type, uint8_t result)
{
	struct control *ctl = arg;
	struct ctl_card *k = card_by_cat(ctl, c);

	if (!k)
		return;
	sd_bus_emit_signal(ctl->sd, k->path, CARD_IFACE, "ProactiveCommand",
			   "yy", type, result);
	bus_kick(ctl->bus);
}

static void obs_envelope(void *arg, struct cat *c, uint8_t tag, uint16_t sw)
{
	struct control *ctl = arg;
	struct ctl_card *k = card_by_cat(ctl, c);

	if (!k)
		return;
	sd_bus_emit_signal(ctl->sd, k->path, CARD_IFACE, "EnvelopeSent",
			   "yq", tag, sw);
	bus_kick(ctl->bus);
}

static void obs_changed(void *arg, struct cat *c)
{
	struct control *ctl = arg;
	struct ctl_card *k = card_by_cat(ctl, c);

	if (!k)
		return;
	sd_bus_emit_properties_changed(ctl->sd, k->path, CARD_IFACE, "Events",
				       "Timers", "PollInterval", NULL);
	bus_kick(ctl->bus);
}

static void obs_card_up(void *arg, struct cat *c)
{
	struct control *ctl = arg;
	struct ctl_card *k = card_by_cat(ctl, c);

	if (k)
		emit(ctl, k->path, CARD_IFACE, "TerminalProfile");
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
	sd_bus_emit_signal(ctl->sd, k->path, CARD_IFACE, "ChannelChanged",
			   "ys", id, what);
	sd_bus_emit_properties_changed(ctl->sd, k->path, CARD_IFACE, "Channels",
				       NULL);
	bus_kick(ctl->bus);
}

void control_set_bip(struct control *ctl, struct bip *b)
{
	if (!ctl)
		return;
	ctl->bip = b;
	bip_set_observer(b, channel_changed, ctl);
}

/* DM client observer: a session started or finished. */
static void dm_started(void *arg, const struct dm_session_info *s)
{
	struct control *ctl = arg;
	char server[sizeof(s->server_id)];

	sd_bus_emit_signal(ctl->sd, MANAGER_PATH, MANAGER_IFACE,
			   "SessionStarted", "uss", s->id,
			   utf8_text(s->server_id, server, sizeof(server)),
			   s->trigger ? s->trigger : "");
	emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Sessions");
}

static void dm_finished(void *arg, const struct dm_session_info *s)
{
	struct control *ctl = arg;
	char server[sizeof(s->server_id)], error[sizeof(s->error)];
	const char *result = dm_session_result_name(s->result);

	sd_bus_emit_signal(ctl->sd, MANAGER_PATH, MANAGER_IFACE,
			   "SessionFinished", "usssu", s->id,
			   utf8_text(s->server_id, server, sizeof(server)),
			   result ? result : "",
			   utf8_text(s->error, error, sizeof(error)),
			   s->commands);
	emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Sessions");
}

void control_set_dm(struct control *ctl, struct dm_client *dc)
{
	if (!ctl)
		return;
	if (ctl->dm && ctl->dm != dc)
		dm_client_set_observer(ctl->dm, NULL);
	ctl->dm = dc;
	agent_free(ctl->agent);
	ctl->agent = dc ? agent_new(ctl->sd, dc) : NULL;
	ctl->dm_observer.started = dm_started;
	ctl->dm_observer.finished = dm_finished;
	ctl->dm_observer.arg = ctl;
	if (dc)
		dm_client_set_observer(dc, &ctl->dm_observer);
}

static const struct cat_observer observer = {
	.card_up = obs_card_up,
	.command = obs_command,
	.envelope = obs_envelope,
	.changed = obs_changed,
};

/* ------------------------------------------------------------------ */
/* Authorization: root or the dmscgw group, asked of the bus driver     */

typedef int (*priv_fn)(struct control *ctl, sd_bus_message *m,
		       sd_bus_error *e);

struct auth {
	struct control *ctl;
	sd_bus_message *m;
	priv_fn fn;
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
		log_notice(LOG_CTL, "%s.%s refused to uid %d",
			   sd_bus_message_get_interface(a->m),
			   sd_bus_message_get_member(a->m), (int)uid);
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
static int privileged(struct control *ctl, sd_bus_message *m, priv_fn fn,
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

/* ------------------------------------------------------------------ */
/* Manager methods                                                     */

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

static int method_set_location(sd_bus_message *m, void *userdata,
			       sd_bus_error *e)
{
	return privileged(userdata, m, do_set_location, e);
}

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

static int method_call_control(sd_bus_message *m, void *userdata,
			       sd_bus_error *e)
{
	return privileged(userdata, m, do_call_control, e);
}

static int do_reload(struct control *ctl, sd_bus_message *m, sd_bus_error *e)
{
	char err[512];

	if (ctl->ops->reload(ctl->arg, err, sizeof(err)) < 0)
		return sd_bus_error_setf(e, ERR_CONFIG, "%s", err);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	return privileged(userdata, m, do_reload, e);
}

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
	emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Tracing");
	return sd_bus_reply_method_return(m, NULL);
}

static int method_start_trace(sd_bus_message *m, void *userdata,
			      sd_bus_error *e)
{
	return privileged(userdata, m, do_start_trace, e);
}

static int do_stop_trace(struct control *ctl, sd_bus_message *m,
			 sd_bus_error *e)
{
	ctl->ops->trace_stop(ctl->arg);
	emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Tracing");
	return sd_bus_reply_method_return(m, NULL);
}

static int method_stop_trace(sd_bus_message *m, void *userdata,
			     sd_bus_error *e)
{
	return privileged(userdata, m, do_stop_trace, e);
}

/* DM sessions and the management tree (read-only, as the device) */

static struct dm_tree *dm_tree_of(struct control *ctl)
{
	return ctl->dm ? dm_client_tree(ctl->dm) : NULL;
}

static int dm_missing(sd_bus_error *e)
{
	return sd_bus_error_set(e, ERR_FAILED, "DM client not running");
}

/* The URI argument of a tree method and the tree: 0, or what to return */
static int tree_request(struct control *ctl, sd_bus_message *m,
			sd_bus_error *e, struct dm_tree **t, const char **uri)
{
	int r = sd_bus_message_read(m, "s", uri);

	if (r < 0)
		return r;
	if (!(*t = dm_tree_of(ctl)))
		return dm_missing(e);
	return 0;
}

static int do_start_session(struct control *ctl, sd_bus_message *m,
			    sd_bus_error *e)
{
	const char *server;
	char why[256] = "";
	size_t n;
	int r;

	r = sd_bus_message_read(m, "s", &server);
	if (r < 0)
		return r;
	if (!ctl->dm)
		return dm_missing(e);
	n = strlen(server);
	if (!n || n > SERVER_ID_MAX)
		return sd_bus_error_setf(e, ERR_INVALID,
					 "server_id must be 1 to %zu bytes",
					 SERVER_ID_MAX);
	r = dm_client_start(ctl->dm, server, "dbus", why, sizeof(why));
	if (r == -ENOENT)
		return sd_bus_error_setf(e, ERR_NOTFOUND, "%s", *why ? why :
					 "no account with that ServerID");
	if (r < 0)
		return sd_bus_error_setf(e, ERR_FAILED, "%s", *why ? why :
					 strerror(-r));
	log_info(LOG_CTL, "DM session %d with %s asked for over D-Bus", r,
		 server);
	/* queued now: the observer tells only when it starts */
	emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Sessions");
	return sd_bus_reply_method_return(m, "u", (uint32_t)r);
}

/* The importance levels of a Generic Alert's Meta Mark (DM Protocol 1.2). */
static bool mark_valid(const char *mark)
{
	static const char *const marks[] = {
		"", "fatal", "critical", "minor", "warning", "informational",
		"harmless", "indeterminate",
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (!strcmp(mark, marks[i]))
			return true;
	return false;
}

/*
 * Report(server, source, type, format, data) and ReportMark(server, source,
 * type, format, mark, data): a Generic Alert session.
 */
static int do_report(struct control *ctl, sd_bus_message *m, sd_bus_error *e)
{
	struct dm_generic_alert g;
	const char *server, *source, *type, *format, *mark = "", *data;
	char why[200] = "";
	int r = sd_bus_message_has_signature(m, "ssssss") ?
		sd_bus_message_read(m, "ssssss", &server, &source, &type,
				    &format, &mark, &data) :
		sd_bus_message_read(m, "sssss", &server, &source, &type,
				    &format, &data);

	if (r < 0)
		return r;
	if (!mark_valid(mark))
		return sd_bus_error_setf(e, ERR_INVALID, "mark '%.32s' is not "
					 "one of fatal, critical, minor, warning, "
					 "informational, harmless, indeterminate",
					 mark);
	if (!ctl->dm)
		return dm_missing(e);
	memset(&g, 0, sizeof(g));
	if (!*server || strlen(server) > SERVER_ID_MAX ||
	    strlen(source) >= sizeof(g.source) || strlen(type) >= sizeof(g.type) ||
	    strlen(format) >= sizeof(g.format) || strlen(data) >= sizeof(g.data))
		return sd_bus_error_setf(e, ERR_INVALID, "an argument is empty "
					 "or too long (data: at most %zu bytes)",
					 sizeof(g.data) - 1);
	snprintf(g.source, sizeof(g.source), "%s", source);
	snprintf(g.type, sizeof(g.type), "%s", type);
	snprintf(g.format, sizeof(g.format), "%s", format);
	snprintf(g.data, sizeof(g.data), "%s", data);
	snprintf(g.mark, sizeof(g.mark), "%s", mark);
	r = dm_client_report(ctl->dm, server, &g, "dbus", why, sizeof(why));
	if (r == -ENOENT)
		return sd_bus_error_setf(e, ERR_NOTFOUND, "%s", why);
	if (r < 0)
		return sd_bus_error_setf(e, ERR_FAILED, "%s", *why ? why :
					 strerror(-r));
	emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Sessions");
	return sd_bus_reply_method_return(m, "u", (uint32_t)r);
}

/* CancelSession(id): a queued session is dropped, a running one aborts. */
static int do_cancel_session(struct control *ctl, sd_bus_message *m,
			     sd_bus_error *e)
{
	uint32_t id;
	int r = sd_bus_message_read(m, "u", &id);

	if (r < 0)
		return r;
	if (!ctl->dm)
		return dm_missing(e);
	log_info(LOG_CTL, "DM session %u: cancel asked for over D-Bus", id);
	if (dm_client_cancel(ctl->dm, id, "cancelled over D-Bus") < 0)
		return sd_bus_error_setf(e, ERR_NOTFOUND, "no queued or running "
					 "session %u", id);
	emit(ctl, MANAGER_PATH, MANAGER_IFACE, "Sessions");
	return sd_bus_reply_method_return(m, "");
}

static int method_cancel_session(sd_bus_message *m, void *userdata,
				 sd_bus_error *e)
{
	return privileged(userdata, m, do_cancel_session, e);
}

static int method_report(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	return privileged(userdata, m, do_report, e);
}

static int method_start_session(sd_bus_message *m, void *userdata,
				sd_bus_error *e)
{
	return privileged(userdata, m, do_start_session, e);
}

/* man/org.dmscgw1.5: the kinds Notify takes. */
static int notify_kind(const char *s, enum sms_notify_kind *k)
{
	if (!strcmp(s, "package0"))
		*k = SMS_NOTIFY_PACKAGE0;
	else if (!strcmp(s, "wap-push"))
		*k = SMS_NOTIFY_WAP_PUSH;
	else
		return -EINVAL;
	return 0;
}

/*
 * Notify(kind, data): a Package#0 or a WAP push, decoded as the kind says
 * (a Package#0 whose digest starts with 06 is no push).
 */
static int do_notify(struct control *ctl, sd_bus_message *m, sd_bus_error *e)
{
	enum sms_notify_kind kind;
	const char *ks;
	const void *p;
	size_t len;
	char why[200] = "", buf[64];
	int r = sd_bus_message_read(m, "s", &ks);

	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &p, &len);
	if (r < 0)
		return r;
	if (notify_kind(ks, &kind) < 0) {
		snprintf(buf, sizeof(buf), "%s", ks);
		ks = utf8_text(buf, why, sizeof(why));
		log_notice(LOG_CTL, "notification by dbus refused: kind '%s' is "
			   "not package0 or wap-push", ks);
		return sd_bus_error_setf(e, ERR_INVALID, "kind '%s' is not "
					 "package0 or wap-push", ks);
	}
	if (!ctl->dm)
		return dm_missing(e);
	r = sms_notify(ctl->dm, kind, p, len, "dbus", why, sizeof(why));
	switch (r) {
	case 0:
		log_info(LOG_CTL, "DM notification (%s, %zu bytes) taken over "
			 "D-Bus", ks, len);
		return sd_bus_reply_method_return(m, "");
	case -ENOENT:
		return sd_bus_error_setf(e, ERR_NOTFOUND, "%s", why);
	case -EBADMSG:
	case -EPROTO:
	case -EPROTONOSUPPORT:
		return sd_bus_error_setf(e, ERR_INVALID, "%s", why);
	default:
		return sd_bus_error_setf(e, ERR_FAILED, "%s", *why ? why :
					 strerror(-r));
	}
}

static int method_notify(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	return privileged(userdata, m, do_notify, e);
}

static int do_agent(struct control *ctl, sd_bus_message *m, sd_bus_error *e,
		    bool reg)
{
	const char *path;
	int r = sd_bus_message_read(m, "o", &path);

	if (r < 0)
		return r;
	if (!ctl->agent)
		return dm_missing(e);
	r = reg ? agent_register(ctl->agent, sd_bus_message_get_sender(m),
				 path, e) :
		  agent_unregister(ctl->agent, sd_bus_message_get_sender(m),
				   path, e);
	return r < 0 ? r : sd_bus_reply_method_return(m, "");
}

static int do_register_agent(struct control *ctl, sd_bus_message *m,
			     sd_bus_error *e)
{
	return do_agent(ctl, m, e, true);
}

static int do_unregister_agent(struct control *ctl, sd_bus_message *m,
			       sd_bus_error *e)
{
	return do_agent(ctl, m, e, false);
}

static int method_register_agent(sd_bus_message *m, void *userdata,
				 sd_bus_error *e)
{
	return privileged(userdata, m, do_register_agent, e);
}

static int method_unregister_agent(sd_bus_message *m, void *userdata,
				   sd_bus_error *e)
{
	return privileged(userdata, m, do_unregister_agent, e);
}

/* A tree status other than 200 as a D-Bus error. */
static int tree_error(sd_bus_error *e, int st, const char *whole)
{
	char cut[DM_TREE_MAX_URI + 1], buf[DM_TREE_MAX_URI + 1];
	const char *uri;

	/* at most MaxTotLen of it, and still UTF-8 where that cut */
	snprintf(cut, sizeof(cut), "%s", whole);
	uri = utf8_text(cut, buf, sizeof(buf));
	switch (st) {
	case DM_TREE_NOT_FOUND:
		return sd_bus_error_setf(e, ERR_NOTFOUND, "no node %s", uri);
	case DM_TREE_BAD_REQUEST:
		return sd_bus_error_setf(e, SD_BUS_ERROR_INVALID_ARGS,
					 "'%s' is not a valid URI", uri);
	case DM_TREE_URI_TOO_LONG:
		return sd_bus_error_setf(e, SD_BUS_ERROR_INVALID_ARGS,
					 "the URI is too long (at most %d bytes, %d deep, segments of %d)",
					 DM_TREE_MAX_URI, DM_TREE_MAX_DEPTH,
					 DM_TREE_MAX_SEG);
	case DM_TREE_NOT_ALLOWED:
		return sd_bus_error_setf(e, ERR_FAILED, "%s is a leaf", uri);
	}
	return sd_bus_error_setf(e, ERR_FAILED, "cannot read %s (status %d)",
				 uri, st);
}

static int do_get_node(struct control *ctl, sd_bus_message *m,
		       sd_bus_error *e)
{
	struct dm_tree *t;
	sd_bus_message *reply = NULL;
	struct dm_tree_value v;
	const char *uri, *format;
	int r, st;

	r = tree_request(ctl, m, e, &t, &uri);
	if (r < 0)
		return r;
	/* the device's own view: no ACL, and AAuthSecret masked */
	st = dm_tree_get_for_display(t, NULL, uri, &v);
	if (st != DM_TREE_OK)
		return tree_error(e, st, uri);
	format = dm_tree_format_name(v.format);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append(reply, "ss", format ? format : "",
					  v.type ? v.type : "");
	if (r >= 0)
		r = append_bytes(reply, v.data, v.len);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int method_get_node(sd_bus_message *m, void *userdata,
			   sd_bus_error *e)
{
	return privileged(userdata, m, do_get_node, e);
}

static int do_list_node(struct control *ctl, sd_bus_message *m,
			sd_bus_error *e)
{
	struct dm_tree *t;
	sd_bus_message *reply = NULL;
	char *kids = NULL, *p, *name, buf[DM_TREE_MAX_SEG + 1];
	const char *uri;
	int r, st;

	r = tree_request(ctl, m, e, &t, &uri);
	if (r < 0)
		return r;
	st = dm_tree_children(t, NULL, uri, &kids);
	if (st != DM_TREE_OK)
		return tree_error(e, st, uri);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "s");
	for (p = kids; r >= 0 && p && (name = strsep(&p, "/")); )
		if (*name)
			r = sd_bus_message_append(reply, "s",
						  utf8_text(name, buf, sizeof(buf)));
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	free(kids);
	return r;
}

static int method_list_node(sd_bus_message *m, void *userdata,
			    sd_bus_error *e)
{
	return privileged(userdata, m, do_list_node, e);
}

/* GetAccounts(): each ./DMAcc/<x> as (id, fields); secrets masked. */

static int dict_s(sd_bus_message *r, const char *key, const char *v)
{
	char buf[512];

	return sd_bus_message_append(r, "{sv}", key, "s",
				     utf8_text(v, buf, sizeof(buf)));
}

/* A password is shown only as whether it is set. */
static const char *masked(const char *secret)
{
	return *secret ? "(set)" : "(empty)";
}

static int append_auth(sd_bus_message *r, const char *who,
		       const struct dm_account_auth *au)
{
	char key[32];
	int k = 0;

	snprintf(key, sizeof(key), "%sAuthType", who);
	k = dict_s(r, key, au->type);
	snprintf(key, sizeof(key), "%sAuthName", who);
	if (k >= 0)
		k = dict_s(r, key, au->name);
	snprintf(key, sizeof(key), "%sAuthSecret", who);
	if (k >= 0)
		k = dict_s(r, key, masked(au->secret));
	/* AAuthData: nonces are not secret (DM Security 5.3) */
	snprintf(key, sizeof(key), "%sNonce", who);
	if (k >= 0)
		k = dict_s(r, key, au->data);
	return k;
}

static int append_account(sd_bus_message *r, const struct dm_account *a)
{
	char buf[DM_TREE_MAX_SEG + 8];
	bool dmsc = !strcmp(a->id, DM_ACCOUNT_DMSC);
	int k = sd_bus_message_open_container(r, 'r', "sa{sv}");

	if (k >= 0)
		k = sd_bus_message_append(r, "s", utf8_text(a->id, buf, sizeof(buf)));
	if (k >= 0)
		k = sd_bus_message_open_container(r, 'a', "{sv}");
	if (k >= 0)
		k = dict_s(r, "ServerID", a->server_id);
	if (k >= 0)
		k = dict_s(r, "Name", a->name);
	if (k >= 0)
		k = dict_s(r, "AppAddr", a->addr);
	if (k >= 0)
		k = dict_s(r, "AddrType", a->addr_type);
	if (k >= 0)
		k = sd_bus_message_append(r, "{sv}", "Port", "u", a->port);
	if (k >= 0)
		k = dict_s(r, "AAuthPref", a->aauth_pref);
	if (k >= 0)
		k = append_auth(r, "Client", &a->client);
	if (k >= 0)
		k = append_auth(r, "Server", &a->server);
	/* [dm_sc] is authoritative for the DM_SC account only (account.h) */
	if (k >= 0)
		k = dict_s(r, "ConfiguredBy", dmsc ? "dm_sc" : "server");
	if (k >= 0)
		k = sd_bus_message_close_container(r);
	if (k >= 0)
		k = sd_bus_message_close_container(r);
	return k;
}

static int do_get_accounts(struct control *ctl, sd_bus_message *m,
			   sd_bus_error *e)
{
	struct dm_tree *t = dm_tree_of(ctl);
	sd_bus_message *reply = NULL;
	struct dm_account *a = NULL;
	size_t n = 0;
	int r;

	if (!t)
		return dm_missing(e);
	r = dm_account_list(t, &a, &n);
	if (r >= 0)
		r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(sa{sv})");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = append_account(reply, &a[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	OPENSSL_cleanse(a, n * sizeof(*a));
	free(a);
	return r;
}

static int method_get_accounts(sd_bus_message *m, void *userdata,
			       sd_bus_error *e)
{
	return privileged(userdata, m, do_get_accounts, e);
}

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

/* The client's sessions into *out (malloc'd); their number, or -ENOMEM. */
static int dm_sessions(struct dm_client *dc, struct dm_session_info **out)
{
	size_t cap = SESSIONS_FIRST, n;

	for (;;) {
		struct dm_session_info *v = calloc(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		n = dm_client_sessions(dc, v, cap);
		if (n < cap || cap >= SESSIONS_MAX) {
			*out = v;
			return (int)(n < cap ? n : cap);
		}
		free(v);
		cap *= 4;
	}
}

static int prop_sessions(sd_bus *bus, const char *path, const char *iface,
			 const char *prop, sd_bus_message *reply,
			 void *userdata, sd_bus_error *e)
{
	struct control *ctl = userdata;
	struct dm_session_info *s = NULL;
	int n = 0, r;

	if (ctl->dm && (n = dm_sessions(ctl->dm, &s)) < 0)
		return n;
	r = sd_bus_message_open_container(reply, 'a', "(usssusstt)");
	for (int i = 0; r >= 0 && i < n; i++) {
		char server[sizeof(s[i].server_id)], error[sizeof(s[i].error)];
		const char *result = dm_session_result_name(s[i].result);

		r = sd_bus_message_append(reply, "(usssusstt)", s[i].id,
			utf8_text(s[i].server_id, server, sizeof(server)),
			s[i].trigger ? s[i].trigger : "",
			s[i].state ? s[i].state : "", s[i].commands,
			result ? result : "",
			utf8_text(s[i].error, error, sizeof(error)),
			s[i].started_usec, s[i].finished_usec);
	}
	free(s);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static const sd_bus_vtable manager_vtable[] = {
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
	SD_BUS_PROPERTY("Sessions", "a(usssusstt)", prop_sessions, 0,
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
	SD_BUS_METHOD("Reload", "", "", method_reload,
		      SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("StartTrace", SD_BUS_ARGS("s", file),
		SD_BUS_NO_RESULT, method_start_trace,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("StopTrace", "", "", method_stop_trace,
		      SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("StartSession", SD_BUS_ARGS("s", server_id),
		SD_BUS_RESULT("u", id), method_start_session,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetNode", SD_BUS_ARGS("s", uri),
		SD_BUS_RESULT("s", format, "s", type, "ay", value),
		method_get_node, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetAccounts", SD_BUS_NO_ARGS,
		SD_BUS_RESULT("a(sa{sv})", accounts), method_get_accounts,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ListNode", SD_BUS_ARGS("s", uri),
		SD_BUS_RESULT("as", children), method_list_node,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Report",
		SD_BUS_ARGS("s", server_id, "s", source, "s", type, "s", format,
			    "s", data),
		SD_BUS_RESULT("u", id), method_report,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("CancelSession", SD_BUS_ARGS("u", id),
		SD_BUS_NO_RESULT, method_cancel_session,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ReportMark",
		SD_BUS_ARGS("s", server_id, "s", source, "s", type, "s", format,
			    "s", mark, "s", data),
		SD_BUS_RESULT("u", id), method_report,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Notify", SD_BUS_ARGS("s", kind, "ay", data),
		SD_BUS_NO_RESULT, method_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("RegisterAgent", SD_BUS_ARGS("o", path),
		SD_BUS_NO_RESULT, method_register_agent,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("UnregisterAgent", SD_BUS_ARGS("o", path),
		SD_BUS_NO_RESULT, method_unregister_agent,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_ARGS("CardInserted",
		SD_BUS_ARGS("o", card, "s", reader), 0),
	SD_BUS_SIGNAL_WITH_ARGS("CardRemoved",
		SD_BUS_ARGS("o", card, "s", reader), 0),
	SD_BUS_SIGNAL_WITH_ARGS("SessionStarted",
		SD_BUS_ARGS("u", id, "s", server, "s", trigger), 0),
	SD_BUS_SIGNAL_WITH_ARGS("SessionFinished",
		SD_BUS_ARGS("u", id, "s", server, "s", result, "s", error,
			    "u", commands), 0),
	SD_BUS_VTABLE_END
};

/* ------------------------------------------------------------------ */
/* Card objects                                                        */

static int card_find(sd_bus *bus, const char *path, const char *iface,
		     void *userdata, void **found, sd_bus_error *e)
{
	struct ctl_card *k = card_by_path(userdata, path);

	if (!k)
		return 0;
	*found = k;
	return 1;
}

static int card_enumerate(sd_bus *bus, const char *prefix, void *userdata,
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
		return append_bytes(reply, p, n);
	}
	if (!strcmp(prop, "Protocol"))
		return sd_bus_message_append(reply, "s",
					     pcsc_reader_protocol(cat_reader(c)));
	if (!strcmp(prop, "State"))
		return sd_bus_message_append(reply, "s",
					     cat_state_name(cat_state(c)));
	if (!strcmp(prop, "TerminalProfile")) {
		p = cat_profile(c, &n);
		return append_bytes(reply, p, n);
	}
	if (!strcmp(prop, "Events")) {
		uint8_t ev[CAT_MAX_EVENTS];

		n = cat_events(c, ev, sizeof(ev));
		return append_bytes(reply, ev, n);
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
		 append_bytes(reply, data, len) >= 0)
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

	return privileged(k->ctl, m, do_envelope, e);
}

static const sd_bus_vtable card_vtable[] = {
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

/* ------------------------------------------------------------------ */

struct control *control_new(struct bus *bus, struct cat_engine *cat,
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
	ctl->sd = bus_sd(bus);
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
	r = sd_bus_add_object_vtable(ctl->sd, &ctl->slots[0], MANAGER_PATH,
				     MANAGER_IFACE, manager_vtable, ctl);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(ctl->sd, &ctl->slots[1], CARD_PREFIX,
					       CARD_IFACE, card_vtable, card_find,
					       ctl);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(ctl->sd, &ctl->slots[2], CARD_PREFIX,
					       card_enumerate, ctl);
	if (r >= 0)
		r = sd_bus_add_object_manager(ctl->sd, &ctl->slots[3], MANAGER_PATH);
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
	cat_engine_set_observer(cat, &observer, ctl);
	bus_kick(bus);
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
	for (int i = 0; i < 4; i++)
		sd_bus_slot_unref(ctl->slots[i]);
	while (ctl->cards) {
		struct ctl_card *k = ctl->cards;

		ctl->cards = k->next;
		free(k);
	}
	free(ctl);
}
