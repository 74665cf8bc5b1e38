/* SPDX-License-Identifier: MIT */
/*
 * The card's address from systemd-networkd (link_int.h).  When networkd
 * serves the card's link with DHCPServer=yes (contrib/systemd/), the card
 * gets its address from that server, and networkd publishes the lease:
 * org.freedesktop.network1.DHCPServer, property Leases, on the link's
 * object /org/freedesktop/network1/link/<ifindex, bus-path-encoded>, with
 * PropertiesChanged when it changes.  Read with Properties.Get, again on
 * every change and whenever networkd (re)appears on the bus.  The calls
 * never start networkd (auto-start off): the daemon only listens.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/leases.h"
#include "link/link_int.h"
#include "log.h"
#include "util/sdbus.h"

#define NETWORKD	"org.freedesktop.network1"
#define LINK_PREFIX	"/org/freedesktop/network1/link"
#define DHCP_IFACE	"org.freedesktop.network1.DHCPServer"

struct link_networkd {
	struct sdbus *bus;
	link_lease_fn *fn;
	void *arg;
	int ifindex;			/* 0: none followed */
	char *path;
	sd_bus_slot *changed;		/* PropertiesChanged on path */
	sd_bus_slot *owner;		/* networkd's NameOwnerChanged */
	sd_bus_slot *call;		/* the Get in flight */
};

static void query(struct link_networkd *n);

static int on_reply(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	struct link_networkd *n = arg;
	const sd_bus_error *err = sd_bus_message_get_error(m);
	struct in_addr a = { 0 };
	int r;

	n->call = sd_bus_slot_unref(n->call);
	if (err) {
		/* not running, or no DHCP server on the link: not networkd's */
		log_debug(LOG_LINK, "networkd has no leases for link %d: %s",
			  n->ifindex, err->message ? err->message : err->name);
		n->fn(n->arg, n->ifindex, -1, a);
		return 0;
	}
	r = link_leases_read(m, &a);
	if (r < 0)
		log_warn(LOG_LINK, "networkd's DHCP leases of link %d are not "
			 "%s: ignored", n->ifindex, LINK_LEASES_SIGNATURE);
	n->fn(n->arg, n->ifindex, r, a);
	return 0;
}

static void query(struct link_networkd *n)
{
	sd_bus *bus = sdbus_sd(n->bus);
	sd_bus_message *m = NULL;
	int r;

	n->call = sd_bus_slot_unref(n->call);	/* its answer is not wanted */
	if (!n->ifindex)
		return;
	r = sd_bus_message_new_method_call(bus, &m, NETWORKD, n->path,
					   "org.freedesktop.DBus.Properties",
					   "Get");
	if (r >= 0)
		r = sd_bus_message_set_auto_start(m, 0);
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", DHCP_IFACE, "Leases");
	if (r >= 0)
		r = sd_bus_call_async(bus, &n->call, m, on_reply, n, 0);
	sd_bus_message_unref(m);
	if (r < 0)
		log_warn(LOG_LINK, "cannot ask networkd for the leases: %s",
			 strerror(-r));
	sdbus_kick(n->bus);
}

static int on_changed(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	struct link_networkd *n = arg;
	const char *iface;

	if (sd_bus_message_read(m, "s", &iface) >= 0 &&
	    !strcmp(iface, DHCP_IFACE))
		query(n);
	return 0;
}

/*
 * networkd came (back): ask.  While it is away the last lease is kept: the
 * card keeps its address until the lease expires, networkd or not.
 */
static int on_owner(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	const char *name, *old, *now;

	if (sd_bus_message_read(m, "sss", &name, &old, &now) >= 0 && *now)
		query(arg);
	return 0;
}

struct link_networkd *link_networkd_new(struct sdbus *bus, link_lease_fn *fn,
					void *arg)
{
	struct link_networkd *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return NULL;
	n->bus = bus;
	n->fn = fn;
	n->arg = arg;
	r = sd_bus_add_match_async(sdbus_sd(bus), &n->owner,
				   "type='signal',sender='org.freedesktop.DBus',"
				   "path='/org/freedesktop/DBus',"
				   "interface='org.freedesktop.DBus',"
				   "member='NameOwnerChanged',"
				   "arg0='" NETWORKD "'", on_owner, NULL, n);
	if (r < 0)
		log_warn(LOG_LINK, "cannot follow networkd on the bus: %s",
			 strerror(-r));
	sdbus_kick(bus);
	return n;
}

void link_networkd_watch(struct link_networkd *n, int ifindex)
{
	char idx[16];
	int r;

	if (!n || n->ifindex == ifindex)
		return;
	n->changed = sd_bus_slot_unref(n->changed);
	n->call = sd_bus_slot_unref(n->call);
	free(n->path);
	n->path = NULL;
	n->ifindex = 0;
	if (!ifindex)
		return;
	snprintf(idx, sizeof(idx), "%d", ifindex);
	if (sd_bus_path_encode(LINK_PREFIX, idx, &n->path) < 0)
		return;
	n->ifindex = ifindex;
	r = sd_bus_match_signal_async(sdbus_sd(n->bus), &n->changed, NETWORKD,
				      n->path, "org.freedesktop.DBus.Properties",
				      "PropertiesChanged", on_changed, NULL, n);
	if (r < 0)
		log_warn(LOG_LINK, "cannot follow networkd's leases: %s",
			 strerror(-r));
	query(n);
}

void link_networkd_refresh(struct link_networkd *n)
{
	if (n)
		query(n);
}

void link_networkd_free(struct link_networkd *n)
{
	if (!n)
		return;
	sd_bus_slot_unref(n->changed);
	sd_bus_slot_unref(n->owner);
	sd_bus_slot_unref(n->call);
	free(n->path);
	free(n);
}
