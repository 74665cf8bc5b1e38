/* SPDX-License-Identifier: MIT */
/*
 * The card's TCP/IP link (link.h): the interfaces rtnetlink reports, which
 * of them the rule picks (udev.c), the card's address (networkd.c or the
 * configuration), and one logged state.
 *
 * rtnetlink: one NETLINK_ROUTE socket bound to the link and address
 * groups.  At start, and again whenever the kernel says notifications
 * were lost (ENOBUFS), every link then every address is dumped; nothing
 * is published while a dump runs, so that a re-read never shows the link
 * gone for a moment.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <event2/event.h>

#include "conf.h"
#include "link/link.h"
#include "link/link_int.h"
#include "link/rtnl.h"
#include "log.h"

#define NETIF_ADDRS	16	/* addresses kept per interface */
#define NETIFS_MAX	512	/* interfaces kept */
#define RX_BUF		(32u << 10)
#define RX_ROUNDS	64	/* datagrams read per wake-up */
#define OBSERVERS	4
#define RESYNC_S	1	/* a failed dump is tried again after */

struct netif_addr {
	int family;
	uint8_t a[16];
	uint8_t prefixlen;
	uint8_t scope;
	uint32_t flags;
};

struct netif {
	struct netif *next;
	int ifindex;
	char name[IF_NAMESIZE];
	unsigned flags;			/* IFF_*; 0 until rtnetlink told */
	bool known;			/* rtnetlink reported it */
	bool stale;			/* not seen in the running dump yet */
	bool judged;			/* the rule was applied */
	bool matched;			/* by the rule */
	size_t naddr;
	struct netif_addr addr[NETIF_ADDRS];
};

enum dump { DUMP_LINKS, DUMP_ADDRS, SYNCED };

struct uicc_link {
	struct event_base *base;
	bool enabled;
	struct link_rule rule;
	int conf_family;		/* [link] card_address; 0 none */
	uint8_t conf_addr[16];

	int fd;				/* rtnetlink */
	struct event *rx;
	struct event *resync;
	uint8_t *buf;
	uint32_t seq;
	enum dump dump;
	struct netif *ifs;
	size_t nifs;
	bool full_logged;

	struct link_udev *udev;
	struct link_networkd *nd;
	int lease_ifindex;		/* the lease below is of this link */
	int lease_r;			/* as link_lease_fn says; -1 none */
	struct in_addr lease;

	int sel;			/* the interface followed; 0 none */
	struct uicc_link_info info;	/* as last published */
	struct {
		uicc_link_observer_fn *fn;
		void *arg;
	} obs[OBSERVERS];
};

static const char *const state_names[UICC_LINK_STATES] = {
	[UICC_LINK_OFF] = "off",
	[UICC_LINK_ABSENT] = "absent",
	[UICC_LINK_DOWN] = "down",
	[UICC_LINK_UP] = "up",
	[UICC_LINK_READY] = "ready",
};

const char *uicc_link_state_name(enum uicc_link_state s)
{
	return s < UICC_LINK_STATES ? state_names[s] : "?";
}

/* ---- configuration ---- */

static int parse_card_address(const char *s, int *family, uint8_t *a)
{
	if (!*s) {
		*family = 0;
		return 0;
	}
	if (inet_pton(AF_INET, s, a) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int link_conf_check(const struct conf *c, char *err, size_t errlen)
{
	struct link_rule r;
	uint8_t a[16];
	const char *why;
	int family;

	if (link_rule_parse(&r, c->link.match, &why) < 0)
		return conf_key_error(c, "link", "match", err, errlen,
				      "'%.100s': %s", c->link.match, why);
	if (parse_card_address(c->link.card_address, &family, a) < 0)
		return conf_key_error(c, "link", "card_address", err, errlen,
				      "'%.64s' is not an IPv4 or IPv6 address",
				      c->link.card_address);
	return 0;
}

static void configure(struct uicc_link *l, const struct conf *c)
{
	const char *why;

	l->enabled = c->link.enable;
	/* checked at load (link_conf_check): a failure here matches nothing */
	if (link_rule_parse(&l->rule, c->link.match, &why) < 0)
		memset(&l->rule, 0, sizeof(l->rule));
	if (parse_card_address(c->link.card_address, &l->conf_family,
			       l->conf_addr) < 0)
		l->conf_family = 0;
}

/* ---- the interface table ---- */

static struct netif *netif_find(struct uicc_link *l, int ifindex)
{
	for (struct netif *n = l->ifs; n; n = n->next)
		if (n->ifindex == ifindex)
			return n;
	return NULL;
}

static struct netif *netif_get(struct uicc_link *l, int ifindex)
{
	struct netif *n = netif_find(l, ifindex);

	if (n)
		return n;
	if (l->nifs >= NETIFS_MAX) {
		if (!l->full_logged)
			log_warn(LOG_LINK, "more than %d network interfaces: "
				 "the others are not looked at", NETIFS_MAX);
		l->full_logged = true;
		return NULL;
	}
	if (!(n = calloc(1, sizeof(*n))))
		return NULL;
	n->ifindex = ifindex;
	n->next = l->ifs;
	l->ifs = n;
	l->nifs++;
	return n;
}

static void netif_remove(struct uicc_link *l, int ifindex)
{
	for (struct netif **pp = &l->ifs; *pp; pp = &(*pp)->next) {
		struct netif *n = *pp;

		if (n->ifindex == ifindex) {
			*pp = n->next;
			free(n);
			l->nifs--;
			return;
		}
	}
}

static void judge(struct uicc_link *l, struct netif *n)
{
	bool was = n->matched;

	n->judged = true;
	n->matched = l->enabled && *n->name &&
		     link_udev_match(&l->rule, n->ifindex, n->name);
	if (n->matched != was)
		log_debug(LOG_LINK, "%s (%d) %s the rule", n->name, n->ifindex,
			  n->matched ? "matches" : "no longer matches");
}

static void addr_set(struct netif *n, const struct rtnl_msg *m, bool gone)
{
	size_t alen = m->family == AF_INET ? 4 : 16, i;

	for (i = 0; i < n->naddr; i++)
		if (n->addr[i].family == m->family &&
		    n->addr[i].prefixlen == m->prefixlen &&
		    !memcmp(n->addr[i].a, m->addr, alen))
			break;
	if (gone) {
		if (i < n->naddr)
			memmove(&n->addr[i], &n->addr[i + 1],
				(n->naddr - i - 1) * sizeof(n->addr[0]));
		n->naddr -= i < n->naddr;
		return;
	}
	if (i == n->naddr) {
		if (n->naddr == NETIF_ADDRS)
			return;		/* enough to reach the card */
		n->naddr++;
	}
	memset(&n->addr[i], 0, sizeof(n->addr[i]));
	n->addr[i].family = m->family;
	memcpy(n->addr[i].a, m->addr, alen);
	n->addr[i].prefixlen = m->prefixlen;
	n->addr[i].scope = m->scope;
	n->addr[i].flags = m->addr_flags;
}

/* ---- state ---- */

static bool is_up(const struct netif *n)
{
	/* RUNNING: the kernel's operational state is up (RFC 2863) */
	return (n->flags & IFF_UP) && (n->flags & IFF_RUNNING);
}

/* The interface to follow: a matching one that is up, else any matching. */
static struct netif *choose(struct uicc_link *l)
{
	struct netif *any = NULL, *up = NULL;

	for (struct netif *n = l->ifs; n; n = n->next) {
		if (!n->matched || !n->known)
			continue;
		/* the lowest index: the same choice every time */
		if (!any || n->ifindex < any->ifindex)
			any = n;
		if (is_up(n) && (!up || n->ifindex < up->ifindex))
			up = n;
	}
	return up ? up : any;
}

/* The card's address: the lease, else the configuration. */
static int card_address(const struct uicc_link *l, const struct netif *n,
			uint8_t *a, const char **source)
{
	if (n && l->lease_ifindex == n->ifindex && l->lease_r > 0) {
		memcpy(a, &l->lease.s_addr, 4);
		*source = "networkd";
		return AF_INET;
	}
	if (l->conf_family) {
		memcpy(a, l->conf_addr, 16);
		*source = "config";
		return l->conf_family;
	}
	*source = "";
	return 0;
}

static bool link_local6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/*
 * The link can carry a connection to the card: an address of the card's
 * family, usable (not tentative, DAD not failed), and beyond the link's
 * own scope unless the card's address is link-local itself.
 */
static bool reachable(const struct netif *n, int family, const uint8_t *card)
{
	bool ll = family == AF_INET6 && link_local6(card);

	for (size_t i = 0; i < n->naddr; i++) {
		const struct netif_addr *x = &n->addr[i];

		if (x->family != family ||
		    (x->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
			continue;
		if (x->scope == RT_SCOPE_HOST || x->scope == RT_SCOPE_NOWHERE)
			continue;
		if (family == AF_INET6 && !ll && x->scope == RT_SCOPE_LINK)
			continue;
		return true;
	}
	return false;
}

static void compute(struct uicc_link *l, struct uicc_link_info *i,
		    const char **why)
{
	struct netif *n = l->enabled ? choose(l) : NULL;
	uint8_t card[16];
	int family;

	memset(i, 0, sizeof(*i));
	*why = "";
	if (!l->enabled) {
		i->state = UICC_LINK_OFF;
		*why = "[link] enable = no";
	} else if (!n) {
		i->state = UICC_LINK_ABSENT;
		*why = "no interface matches the rule";
	} else {
		snprintf(i->ifname, sizeof(i->ifname), "%s", n->name);
		i->ifindex = n->ifindex;
		for (size_t k = 0; k < n->naddr && k < UICC_LINK_ADDRS; k++) {
			char t[INET6_ADDRSTRLEN];

			inet_ntop(n->addr[k].family, n->addr[k].a, t, sizeof(t));
			snprintf(i->addrs[k], sizeof(i->addrs[k]), "%s/%u", t,
				 n->addr[k].prefixlen);
			i->naddrs++;
		}
		family = card_address(l, n, card, &i->source);
		if (family)
			inet_ntop(family, card, i->card_addr,
				  sizeof(i->card_addr));
		if (!(n->flags & IFF_UP)) {
			i->state = UICC_LINK_DOWN;
			*why = "it went down";
		} else if (!is_up(n)) {
			i->state = UICC_LINK_DOWN;
			*why = "it has no carrier";
		} else if (!family) {
			i->state = UICC_LINK_UP;
			*why = "the card's address is not known";
		} else if (!reachable(n, family, card)) {
			i->state = UICC_LINK_UP;
			*why = family == AF_INET ? "it has no IPv4 address" :
			       "it has no IPv6 address to reach the card";
		} else {
			i->state = UICC_LINK_READY;
			*why = "the card is reachable";
		}
	}
	i->state_name = state_names[i->state];
}

static bool info_same(const struct uicc_link_info *a,
		      const struct uicc_link_info *b)
{
	if (a->state != b->state || a->ifindex != b->ifindex ||
	    strcmp(a->ifname, b->ifname) || strcmp(a->card_addr, b->card_addr) ||
	    strcmp(a->source ? a->source : "", b->source ? b->source : "") ||
	    a->naddrs != b->naddrs)
		return false;
	for (size_t k = 0; k < a->naddrs; k++)
		if (strcmp(a->addrs[k], b->addrs[k]))
			return false;
	return true;
}

/* The one place the published state changes: logged, then observed. */
static void update(struct uicc_link *l)
{
	struct uicc_link_info now;
	const char *why;
	char text[200];

	if (l->dump != SYNCED)
		return;
	compute(l, &now, &why);
	if (now.ifindex != l->sel) {
		l->sel = now.ifindex;
		if (l->lease_ifindex != l->sel) {
			l->lease_r = -1;
			l->lease_ifindex = l->sel;
		}
		if (l->nd)
			link_networkd_watch(l->nd, l->sel);
		compute(l, &now, &why);
	}
	if (info_same(&now, &l->info))
		return;
	if (now.state == UICC_LINK_ABSENT && *l->info.ifname)
		why = "it is gone";
	if (now.state != l->info.state || now.ifindex != l->info.ifindex) {
		const char *name = *now.ifname ? now.ifname : l->info.ifname;

		snprintf(text, sizeof(text), "%s%s%s", *name ? name : "",
			 *name ? ": " : "", why);
		/* no card link at start is the common case: not a notice */
		log_msg(!l->info.state_name && now.state <= UICC_LINK_ABSENT ?
			LOG_INFO : LOG_NOTICE, LOG_LINK,
			"UICC link %s -> %s: %s%s%s%s%s",
			l->info.state_name ? l->info.state_name : "start",
			now.state_name, text,
			*now.card_addr ? ", card " : "", now.card_addr,
			*now.card_addr ? " from " : "",
			*now.card_addr ? (now.source[0] == 'n' ?
					  "networkd" : "the configuration") : "");
	} else {
		snprintf(text, sizeof(text), "%s: addresses changed%s%s",
			 now.ifname, *now.card_addr ? ", card " : "",
			 now.card_addr);
		log_info(LOG_LINK, "UICC link %s", text);
	}
	if (now.state == UICC_LINK_UP && l->info.state != UICC_LINK_READY &&
	    l->info.state != UICC_LINK_UP && l->nd)
		link_networkd_refresh(l->nd);
	l->info = now;
	for (size_t k = 0; k < OBSERVERS; k++)
		if (l->obs[k].fn)
			l->obs[k].fn(l->obs[k].arg, &l->info, text);
}

/* ---- rtnetlink ---- */

static int send_dump(struct uicc_link *l, uint16_t type)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint8_t req[64];
	size_t n = rtnl_dump_request(req, sizeof(req), type, ++l->seq);

	if (sendto(l->fd, req, n, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		int e = errno;

		log_err(LOG_LINK, "rtnetlink: cannot ask for the %s: %s",
			type == RTM_GETLINK ? "links" : "addresses",
			strerror(e));
		return -e;
	}
	return 0;
}

static void resync_later(struct uicc_link *l)
{
	struct timeval tv = { .tv_sec = RESYNC_S };

	evtimer_add(l->resync, &tv);
}

/* Read every link, then every address, again. */
static void resync(struct uicc_link *l)
{
	for (struct netif *n = l->ifs; n; n = n->next)
		n->stale = true;
	l->dump = DUMP_LINKS;
	if (send_dump(l, RTM_GETLINK) < 0)
		resync_later(l);
}

static void resync_cb(evutil_socket_t fd, short what, void *arg)
{
	resync(arg);
}

static void dump_done(struct uicc_link *l)
{
	if (l->dump == DUMP_LINKS) {
		/* those the dump did not list are gone */
		for (struct netif **pp = &l->ifs; *pp; ) {
			struct netif *n = *pp;

			if (n->stale) {
				*pp = n->next;
				free(n);
				l->nifs--;
				continue;
			}
			n->naddr = 0;	/* the address dump fills them */
			pp = &n->next;
		}
		l->dump = DUMP_ADDRS;
		if (send_dump(l, RTM_GETADDR) < 0)
			resync_later(l);
		return;
	}
	l->dump = SYNCED;
	update(l);
}

static void on_link(struct uicc_link *l, const struct rtnl_msg *m)
{
	struct netif *n;
	bool renamed;

	if (m->kind == RTNL_LINK_GONE) {
		netif_remove(l, m->ifindex);
		return;
	}
	if (!(n = netif_get(l, m->ifindex)))
		return;
	renamed = *m->ifname && strcmp(n->name, m->ifname);
	if (*m->ifname)
		snprintf(n->name, sizeof(n->name), "%s", m->ifname);
	n->flags = m->flags;
	n->stale = false;
	n->known = true;
	if (!n->judged || renamed)
		judge(l, n);
}

static void handle(struct uicc_link *l, const struct rtnl_msg *m)
{
	struct netif *n;

	switch (m->kind) {
	case RTNL_LINK:
	case RTNL_LINK_GONE:
		on_link(l, m);
		break;
	case RTNL_ADDR:
	case RTNL_ADDR_GONE:
		if ((n = netif_find(l, m->ifindex)))
			addr_set(n, m, m->kind == RTNL_ADDR_GONE);
		break;
	case RTNL_DONE:
		if (l->dump != SYNCED && m->seq == l->seq)
			dump_done(l);
		break;
	case RTNL_ERROR:
		if (m->error && l->dump != SYNCED && m->seq == l->seq) {
			log_err(LOG_LINK, "rtnetlink dump refused: %s",
				strerror(-m->error));
			resync_later(l);
		}
		break;
	case RTNL_OVERRUN:
		resync(l);
		break;
	case RTNL_OTHER:
		break;
	}
}

static void on_rx(evutil_socket_t fd, short what, void *arg)
{
	struct uicc_link *l = arg;

	for (int round = 0; round < RX_ROUNDS; round++) {
		struct sockaddr_nl from;
		struct iovec iov = { l->buf, RX_BUF };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		struct rtnl_iter it;
		struct rtnl_msg m;
		ssize_t n = recvmsg(l->fd, &mh, MSG_DONTWAIT);
		int r;

		if (n < 0 && errno == ENOBUFS) {
			/* netlink(7): notifications were dropped */
			log_info(LOG_LINK, "rtnetlink: notifications lost; "
				 "reading the interfaces again");
			resync(l);
			continue;
		}
		if (n < 0)
			break;		/* EAGAIN, or nothing to do about it */
		if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0)
			continue;	/* only the kernel speaks here */
		if (mh.msg_flags & MSG_TRUNC) {
			resync(l);
			continue;
		}
		rtnl_iter_init(&it, l->buf, (size_t)n);
		while ((r = rtnl_next(&it, &m)) > 0)
			handle(l, &m);
		if (r < 0)
			log_warn(LOG_LINK, "rtnetlink: a malformed message "
				 "was ignored");
	}
	update(l);
}

static int rtnl_open(struct uicc_link *l)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
			     RTMGRP_IPV6_IFADDR,
	};
	int rcv = 1 << 20;

	l->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       NETLINK_ROUTE);
	if (l->fd < 0)
		return -errno;
	/* a burst of interfaces (a container host) fits */
	(void)setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	l->rx = event_new(l->base, l->fd, EV_READ | EV_PERSIST, on_rx, l);
	l->resync = evtimer_new(l->base, resync_cb, l);
	if (!l->rx || !l->resync || event_add(l->rx, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- udev and networkd ---- */

static void udev_changed(void *arg, int ifindex)
{
	struct uicc_link *l = arg;
	struct netif *n = netif_find(l, ifindex);

	if (!n)
		return;		/* rtnetlink tells of it, and it is judged then */
	judge(l, n);
	update(l);
}

static void enumerated(void *arg, int ifindex, const char *name, bool matched)
{
	struct uicc_link *l = arg;
	struct netif *n = netif_get(l, ifindex);

	if (!n)
		return;
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->matched = l->enabled && matched;
	n->judged = true;
	n->stale = true;	/* until the link dump lists it */
	if (matched)
		log_debug(LOG_LINK, "%s (%d) matches the rule", name, ifindex);
}

static void on_lease(void *arg, int ifindex, int r, struct in_addr a)
{
	struct uicc_link *l = arg;

	if (ifindex != l->sel)
		return;
	l->lease_ifindex = ifindex;
	l->lease_r = r;
	l->lease = a;
	update(l);
}

/* ---- the API ---- */

struct uicc_link *uicc_link_new(struct event_base *base, const struct conf *c,
				struct sdbus *bus)
{
	struct uicc_link *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return NULL;
	l->base = base;
	l->fd = -1;
	l->lease_r = -1;
	l->dump = DUMP_LINKS;
	configure(l, c);
	l->buf = malloc(RX_BUF);
	r = l->buf ? rtnl_open(l) : -ENOMEM;
	if (r < 0) {
		log_err(LOG_LINK, "cannot follow the network interfaces "
			"(rtnetlink): %s", strerror(-r));
		uicc_link_free(l);
		return NULL;
	}
	l->udev = link_udev_new(base, udev_changed, l);
	if (bus)
		l->nd = link_networkd_new(bus, on_lease, l);
	if (l->enabled && (r = link_udev_enumerate(&l->rule, enumerated, l)) < 0)
		log_warn(LOG_LINK, "cannot enumerate network devices: %s",
			 strerror(-r));
	if (send_dump(l, RTM_GETLINK) < 0)
		resync_later(l);
	return l;
}

void uicc_link_free(struct uicc_link *l)
{
	if (!l)
		return;
	link_networkd_free(l->nd);
	link_udev_free(l->udev);
	if (l->rx)
		event_free(l->rx);
	if (l->resync)
		event_free(l->resync);
	if (l->fd >= 0)
		close(l->fd);
	while (l->ifs) {
		struct netif *n = l->ifs;

		l->ifs = n->next;
		free(n);
	}
	free(l->buf);
	free(l);
}

void uicc_link_reconfigure(struct uicc_link *l, const struct conf *c)
{
	if (!l)
		return;
	configure(l, c);
	for (struct netif *n = l->ifs; n; n = n->next)
		if (n->known)
			judge(l, n);
	update(l);
}

void uicc_link_get_info(const struct uicc_link *l, struct uicc_link_info *out)
{
	if (!l || !l->info.state_name) {
		memset(out, 0, sizeof(*out));
		out->state = l ? UICC_LINK_ABSENT : UICC_LINK_OFF;
		out->state_name = state_names[out->state];
		out->source = "";
		return;
	}
	*out = l->info;
}

int uicc_link_resolve(const struct uicc_link *l, char *addr, size_t cap,
		      const char **why)
{
	const struct uicc_link_info *i = l ? &l->info : NULL;
	uint8_t a[16];
	int n;

	if (!i || i->state != UICC_LINK_READY) {
		*why = !i || i->state < UICC_LINK_UP ?
		       "the card's IP link is not up" :
		       "the card's IP address is not known";
		return !i || i->state < UICC_LINK_UP ? -ENETDOWN :
		       -EADDRNOTAVAIL;
	}
	/* a link-local IPv6 address means nothing without its link */
	if (inet_pton(AF_INET6, i->card_addr, a) == 1 && link_local6(a))
		n = snprintf(addr, cap, "%s%%%s", i->card_addr, i->ifname);
	else
		n = snprintf(addr, cap, "%s", i->card_addr);
	if (n < 0 || (size_t)n >= cap) {
		*why = "no room for the address";
		return -ENOSPC;
	}
	return 0;
}

int uicc_link_add_observer(struct uicc_link *l, uicc_link_observer_fn *fn,
			   void *arg)
{
	for (size_t k = 0; l && k < OBSERVERS; k++)
		if (!l->obs[k].fn) {
			l->obs[k].fn = fn;
			l->obs[k].arg = arg;
			return 0;
		}
	return -ENOSPC;
}
