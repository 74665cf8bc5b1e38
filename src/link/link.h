/* SPDX-License-Identifier: MIT */
/*
 * The card's TCP/IP link (OMA-TS-DM_SC 5.1: a device with a USB UICC
 * interface supports EEM, ETSI TS 102 600; the card then runs its own
 * TCP/IP stack, TS 102 483).  On Linux the card is a network interface
 * bound to the cdc_eem driver.  This module follows it inside the event
 * loop, and never configures anything: addressing is systemd-networkd's
 * job (contrib/systemd/).
 *
 *  - which interface: the [link] match rule (rule.h) over the udev
 *    properties sd-device reads (an enumeration at start, the udev monitor
 *    afterwards, and the interfaces rtnetlink announces);
 *  - its state and its addresses: rtnetlink (RTMGRP_LINK and the address
 *    groups), since a link going up or down is no udev event;
 *  - the card's address: the lease networkd's DHCP server gave it
 *    (org.freedesktop.network1.DHCPServer Leases on the link's object) when
 *    networkd serves the link, else [link] card_address.
 *
 * "localuicc" (spec 8.1 table 2) resolves to that address, inside the
 * daemon (uicc_link_resolve); the DM client prefers this transport to BIP
 * while the link is ready (spec 5.1: USB first, ISO second).
 */
#ifndef DMSCGW_LINK_LINK_H
#define DMSCGW_LINK_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include <net/if.h>
#include <netinet/in.h>

struct conf;
struct event_base;
struct sdbus;
struct uicc_link;

enum uicc_link_state {
	UICC_LINK_OFF,		/* [link] enable = no */
	UICC_LINK_ABSENT,	/* no interface matches the rule */
	UICC_LINK_DOWN,		/* the interface is not up, or has no carrier */
	UICC_LINK_UP,		/* up; the card's address is not known, or the
				 * link has no address of its family */
	UICC_LINK_READY,	/* up and the card reachable: TCP/IP first */
	UICC_LINK_STATES
};

#define UICC_LINK_ADDRS		8	/* the link's own addresses shown */
#define UICC_LINK_ADDR_TEXT	(INET6_ADDRSTRLEN + IF_NAMESIZE + 5)

struct uicc_link_info {
	enum uicc_link_state state;
	const char *state_name;		/* "off", "absent", "down", "up", "ready" */
	char ifname[IF_NAMESIZE];	/* "" when absent */
	int ifindex;			/* 0 when absent */
	char card_addr[INET6_ADDRSTRLEN];	/* "" when not known */
	const char *source;		/* "networkd", "config" or "" */
	size_t naddrs;
	char addrs[UICC_LINK_ADDRS][UICC_LINK_ADDR_TEXT];	/* "a/prefix" */
};

const char *uicc_link_state_name(enum uicc_link_state s);

/*
 * Follow the link as c says ([link]).  bus may be NULL (no networkd
 * leases: the configured address only).  NULL on failure (logged).
 */
struct uicc_link *uicc_link_new(struct event_base *base, const struct conf *c,
				struct sdbus *bus);
void uicc_link_free(struct uicc_link *l);
/* A reload: the rule and the configured address may have changed. */
void uicc_link_reconfigure(struct uicc_link *l, const struct conf *c);

void uicc_link_get_info(const struct uicc_link *l, struct uicc_link_info *out);

/*
 * The card's address now, as an IP literal for connect() (a link-local
 * IPv6 one with %interface): 0, or -ENETDOWN (no link, or not up) or
 * -EADDRNOTAVAIL (its address is not known) with why in words.
 */
int uicc_link_resolve(const struct uicc_link *l, char *addr, size_t cap,
		      const char **why);

/*
 * Told after every change of the state, the interface or an address, with
 * what changed in words ("veth0 went down", "card address 10.0.0.2 from
 * the configuration").  Up to 4 observers.
 */
typedef void uicc_link_observer_fn(void *arg, const struct uicc_link_info *now,
				   const char *why);
int uicc_link_add_observer(struct uicc_link *l, uicc_link_observer_fn *fn,
			   void *arg);

/* [link] match and card_address: 0, or -1 with "file:line: link.KEY: why". */
int link_conf_check(const struct conf *c, char *err, size_t errlen);

#endif
