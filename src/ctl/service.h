/* SPDX-License-Identifier: MIT */
/*
 * Inside the org.dmscgw1 service (ctl/ only): the state every interface
 * file reads and the helpers they share.  control.h is the outside view.
 */
#ifndef DMSCGW_CTL_SERVICE_H
#define DMSCGW_CTL_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "dm/client.h"

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

struct sdbus;
struct cat;
struct cat_engine;
struct wakeup;
struct bip;
struct agent;
struct uicc_link;

/* The object of one card: CARD_PREFIX/<id>. */
struct ctl_card {
	struct ctl_card *next;
	struct control *ctl;
	struct cat *cat;
	unsigned id;
	char path[64];
};

/* The vtables and objects the service exports (control_new). */
enum { CTL_SLOT_MANAGER, CTL_SLOT_SESSION, CTL_SLOT_TREE, CTL_SLOT_EXEC,
       CTL_SLOT_CARD, CTL_SLOT_CARDS, CTL_SLOT_OBJECTS, CTL_SLOTS };

struct control {
	struct sdbus *bus;
	sd_bus *sd;
	struct cat_engine *cat;
	struct wakeup *wakeup;
	const struct control_ops *ops;
	void *arg;
	sd_bus_slot *slots[CTL_SLOTS];
	bool have_group;
	gid_t group;
	struct ctl_card *cards;
	unsigned next_id;
	struct bip *bip;
	struct uicc_link *link;		/* the card's TCP/IP link, or NULL */
	struct dm_client *dm;
	struct dm_client_observer dm_observer;
	struct agent *agent;		/* the UI agent registry */
	struct exec_agents *exec;	/* the Exec agents (exec_agent.c) */
};

/* A privileged method's body: it replies now (or later) or sets e. */
typedef int (*ctl_priv_fn)(struct control *ctl, sd_bus_message *m,
			   sd_bus_error *e);
/*
 * Run fn once the bus driver says the caller is root or in ADMIN_GROUP;
 * refuse with ERR_DENIED otherwise.  Asynchronous: returns 1 (the reply
 * comes later) or < 0.
 */
int ctl_privileged(struct control *ctl, sd_bus_message *m, ctl_priv_fn fn,
		   sd_bus_error *e);
/* method_NAME: do_NAME(ctl, m, e) for an authorized caller. */
#define CTL_PRIVILEGED(name)						\
	static int method_##name(sd_bus_message *m, void *userdata,	\
				 sd_bus_error *e)			\
	{								\
		return ctl_privileged(userdata, m, do_##name, e);	\
	}

/* PropertiesChanged for one property, sent now. */
void ctl_emit(struct control *ctl, const char *path, const char *iface,
	      const char *prop);
int ctl_append_bytes(sd_bus_message *reply, const uint8_t *p, size_t n);
/*
 * D-Bus strings must be UTF-8, and a ServerID or an error text comes from
 * outside: s when it is valid, else a copy in buf with '?' for each byte
 * that belongs to no well-formed sequence.
 */
const char *ctl_utf8_text(const char *s, char *buf, size_t cap);
/*
 * fn for the NameOwnerChanged signals of the unique name owner (an
 * agent): it leaves the bus when the new owner is "".  0 or < 0.
 */
int ctl_watch_owner(sd_bus *sd, sd_bus_slot **slot, const char *owner,
		    sd_bus_message_handler_t fn, void *userdata);
/* ERR_FAILED "DM client not running". */
int ctl_dm_missing(sd_bus_error *e);

/*
 * The parts of org.dmscgw1.Manager (manager.c, session.c, tree.c, and
 * exec_agent.c's ctl_exec_vtable).
 */
extern const sd_bus_vtable ctl_manager_vtable[];
extern const sd_bus_vtable ctl_session_vtable[];
extern const sd_bus_vtable ctl_tree_vtable[];

/* org.dmscgw1.Card (card.c): a fallback vtable under CARD_PREFIX. */
extern const sd_bus_vtable ctl_card_vtable[];
int ctl_card_find(sd_bus *bus, const char *path, const char *iface,
		  void *userdata, void **found, sd_bus_error *e);
int ctl_card_enumerate(sd_bus *bus, const char *prefix, void *userdata,
		       char ***nodes, sd_bus_error *e);
extern const struct cat_observer ctl_card_observer;

#endif
