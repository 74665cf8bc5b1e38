/* SPDX-License-Identifier: MIT */
/*
 * Reading rtnetlink datagrams (rtnetlink(7), netlink(7)): the link and
 * address messages the kernel sends to a NETLINK_ROUTE socket, as dump
 * answers or as RTMGRP_LINK / RTMGRP_IPV4_IFADDR / RTMGRP_IPV6_IFADDR
 * notifications.  Pure: bytes in, one message out at a time.  Every length
 * (nlmsg_len, rta_len) is checked against what is left before it is used;
 * a malformed message ends the datagram.
 */
#ifndef DMSCGW_LINK_RTNL_H
#define DMSCGW_LINK_RTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/if.h>

#include "util/cursor.h"

enum rtnl_kind {
	RTNL_OTHER,		/* a message of no interest (NOOP, a route...) */
	RTNL_LINK,		/* RTM_NEWLINK: an interface, new or changed */
	RTNL_LINK_GONE,		/* RTM_DELLINK */
	RTNL_ADDR,		/* RTM_NEWADDR */
	RTNL_ADDR_GONE,		/* RTM_DELADDR */
	RTNL_DONE,		/* NLMSG_DONE: the end of a dump */
	RTNL_ERROR,		/* NLMSG_ERROR: error < 0, or 0 for an ack */
	RTNL_OVERRUN,		/* NLMSG_OVERRUN: data were lost */
};

struct rtnl_msg {
	enum rtnl_kind kind;
	uint32_t seq;
	int error;			/* RTNL_ERROR */
	int ifindex;			/* RTNL_LINK*, RTNL_ADDR* */
	/* RTNL_LINK */
	unsigned flags;			/* IFF_*: IFF_RUNNING is the
					 * operational state (RFC 2863) up */
	char ifname[IF_NAMESIZE];	/* "" when the message has none */
	/* RTNL_ADDR* */
	int family;			/* AF_INET or AF_INET6; other families are RTNL_OTHER */
	uint8_t addr[16];		/* 4 or 16 bytes, network order */
	uint8_t prefixlen;
	uint8_t scope;			/* RT_SCOPE_* */
	uint32_t addr_flags;		/* IFA_F_*, from IFA_FLAGS when present */
};

struct rtnl_iter {
	struct cursor c;
};

void rtnl_iter_init(struct rtnl_iter *it, const void *p, size_t len);
/*
 * The next message of the datagram: 1 with *m filled, 0 when none is left,
 * -EBADMSG when the rest is malformed (nothing more is read from it).
 */
int rtnl_next(struct rtnl_iter *it, struct rtnl_msg *m);

/*
 * A dump request (RTM_GETLINK or RTM_GETADDR, family AF_UNSPEC) into buf:
 * its length, or 0 when cap is too small.
 */
size_t rtnl_dump_request(uint8_t *buf, size_t cap, uint16_t type,
			 uint32_t seq);

#endif
