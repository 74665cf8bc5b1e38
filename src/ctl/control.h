/* SPDX-License-Identifier: MIT */
/*
 * The org.dmscgw1 service (man/org.dmscgw1.5): a manager object, which also
 * shows the DM sessions and reads the management tree, and one object per
 * card.  Reads are open; privileged methods are checked against
 * the caller's credentials, fetched asynchronously from the bus driver.
 */
#ifndef DMSCGW_CONTROL_H
#define DMSCGW_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

struct sdbus;
struct cat;
struct cat_engine;
struct wakeup;
struct control;

/* What the service asks of the daemon. */
struct control_ops {
	/* Reload the configuration; 0, or -1 with the reason in err. */
	int (*reload)(void *arg, char *err, size_t errlen);
	int (*trace_start)(void *arg, const char *file, char *err, size_t errlen);
	void (*trace_stop)(void *arg);
	const char *(*trace_file)(void *arg);
	bool (*pcscd_running)(void *arg);
	const char *(*state)(void *arg);
};

/*
 * Export the objects and take the name.  Returns NULL with err set when the
 * name cannot be owned (another daemon, or the bus policy says no).
 */
struct control *control_new(struct sdbus *bus, struct cat_engine *cat,
			    struct wakeup *wakeup, const struct control_ops *ops,
			    void *arg, char *err, size_t errlen);
void control_free(struct control *ctl);

struct bip;
/* Expose the BIP channels of the cards. */
void control_set_bip(struct control *ctl, struct bip *b);

struct dm_client;
/*
 * Expose the DM sessions and the management tree of dc (NULL: none, the
 * DM methods then fail).  The service becomes dc's session observer; the
 * client must outlive ctl, or be detached first with NULL.
 */
void control_set_dm(struct control *ctl, struct dm_client *dc);

struct uicc_link;
/*
 * Show the card's TCP/IP link (the UiccLink property of every card
 * object, with PropertiesChanged); the service becomes l's observer, and
 * l must outlive ctl.
 */
void control_set_link(struct control *ctl, struct uicc_link *l);

void control_card_added(struct control *ctl, struct cat *c);
void control_card_removed(struct control *ctl, struct cat *c);
/* Manager properties changed (state, pcscd, sources, trace). */
void control_manager_changed(struct control *ctl, const char *prop);

#endif
