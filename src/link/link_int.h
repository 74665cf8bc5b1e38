/* SPDX-License-Identifier: MIT */
/*
 * Inside the link module (link/ only): the udev side (udev.c) and the
 * networkd side (networkd.c) that link.c drives.  link.h is the outside
 * view.
 */
#ifndef DMSCGW_LINK_INT_H
#define DMSCGW_LINK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <netinet/in.h>

#include "link/rule.h"

struct event_base;
struct sdbus;

/* ---- udev.c: which interfaces match the rule ---- */

struct link_udev;

/*
 * Follow udev's events for network devices (sd_device_monitor, its
 * sd_event's fd in the libevent loop): changed() is called with the
 * interface index of each device udev added, changed or renamed.  NULL
 * when the monitor cannot be had (no udev events then: rtnetlink still
 * announces every interface).
 */
struct link_udev *link_udev_new(struct event_base *base,
				void (*changed)(void *arg, int ifindex),
				void *arg);
void link_udev_free(struct link_udev *u);

/*
 * The rule applied to interface ifindex (named ifname): its udev
 * properties through sd-device; ID_NET_DRIVER, when udev has not set it
 * (no udevd, or not processed yet), is the driver the kernel reports
 * through ethtool, where udev itself reads it (net_setup_link).
 */
bool link_udev_match(const struct link_rule *r, int ifindex,
		     const char *ifname);

/*
 * Every network device sd-device enumerates (subsystem "net"), the rule
 * applied to each: each(arg, ifindex, name, matched).  0 or a negative
 * errno.
 */
int link_udev_enumerate(const struct link_rule *r,
			void (*each)(void *arg, int ifindex, const char *name,
				     bool matched),
			void *arg);

/* ---- networkd.c: the lease networkd's DHCP server gave the card ---- */

struct link_networkd;

/*
 * lease(arg, ifindex, r, addr): r 1 with the leased address, 0 networkd
 * serves the link and no lease is bound, < 0 networkd does not serve it
 * (not running, no DHCP server on the link, or an answer we cannot read).
 */
typedef void link_lease_fn(void *arg, int ifindex, int r, struct in_addr addr);

struct link_networkd *link_networkd_new(struct sdbus *bus, link_lease_fn *fn,
					void *arg);
void link_networkd_free(struct link_networkd *n);
/* Follow the leases of ifindex (0: none); a query goes out at once. */
void link_networkd_watch(struct link_networkd *n, int ifindex);
/* Ask again (the link came up). */
void link_networkd_refresh(struct link_networkd *n);

#endif
