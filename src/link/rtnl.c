/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink messages (rtnl.h).  The layouts are the kernel's UAPI
 * (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h);
 * the structures are copied out of the datagram with memcpy, never cast
 * in place, and every length is checked before the bytes it covers are
 * read.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "link/rtnl.h"

/* netlink(7): messages and attributes start on 4-byte boundaries. */
#define ALIGN4(n)	(((n) + 3u) & ~(size_t)3u)

void rtnl_iter_init(struct rtnl_iter *it, const void *p, size_t len)
{
	cursor_init(&it->c, p, len);
}

/* Skip the padding after n bytes, as far as the input goes. */
static void skip_pad(struct cursor *c, size_t n)
{
	size_t pad = ALIGN4(n) - n, left = cursor_left(c);

	cursor_skip(c, pad < left ? pad : left);
}

/*
 * The next attribute: 1 with its type and a cursor on its payload, 0 at
 * the end, -1 when malformed (rta_len below the header or past the end).
 */
static int next_attr(struct cursor *c, uint16_t *type, struct cursor *val)
{
	struct rtattr rta;
	const uint8_t *p;

	if (cursor_left(c) == 0)
		return 0;
	if (!cursor_get_bytes(c, sizeof(rta), &p))
		return -1;
	memcpy(&rta, p, sizeof(rta));
	if (rta.rta_len < sizeof(rta) ||
	    !cursor_sub(c, rta.rta_len - sizeof(rta), val))
		return -1;
	skip_pad(c, rta.rta_len);
	*type = rta.rta_type;
	return 1;
}

/* RTM_NEWLINK / RTM_DELLINK: struct ifinfomsg, then IFLA_* attributes. */
static int parse_link(struct cursor *c, struct rtnl_msg *m)
{
	struct ifinfomsg ifi;
	struct cursor v;
	const uint8_t *p;
	uint16_t type;
	int r;

	if (!cursor_get_bytes(c, sizeof(ifi), &p))
		return -EBADMSG;
	memcpy(&ifi, p, sizeof(ifi));
	m->ifindex = ifi.ifi_index;
	m->flags = ifi.ifi_flags;
	while ((r = next_attr(c, &type, &v)) > 0) {
		size_t n = cursor_left(&v);

		if (type == IFLA_IFNAME) {
			/* a NUL-terminated string; IFNAMSIZ with its NUL */
			if (!cursor_get_bytes(&v, n, &p) || n == 0 ||
			    !memchr(p, '\0', n) || strlen((const char *)p) >=
			    sizeof(m->ifname))
				return -EBADMSG;
			strcpy(m->ifname, (const char *)p);
		}
	}
	return r < 0 || m->ifindex <= 0 ? -EBADMSG : 0;
}

/* RTM_NEWADDR / RTM_DELADDR: struct ifaddrmsg, then IFA_* attributes. */
static int parse_addr(struct cursor *c, struct rtnl_msg *m)
{
	struct ifaddrmsg ifa;
	struct cursor v;
	const uint8_t *p, *local = NULL, *address = NULL;
	size_t alen;
	uint16_t type;
	int r;

	if (!cursor_get_bytes(c, sizeof(ifa), &p))
		return -EBADMSG;
	memcpy(&ifa, p, sizeof(ifa));
	if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6) {
		m->kind = RTNL_OTHER;
		return 0;
	}
	alen = ifa.ifa_family == AF_INET ? 4 : 16;
	m->family = ifa.ifa_family;
	m->ifindex = (int)ifa.ifa_index;
	m->prefixlen = ifa.ifa_prefixlen;
	m->scope = ifa.ifa_scope;
	m->addr_flags = ifa.ifa_flags;
	while ((r = next_attr(c, &type, &v)) > 0) {
		size_t n = cursor_left(&v);

		if (type == IFA_LOCAL || type == IFA_ADDRESS) {
			if (n != alen || !cursor_get_bytes(&v, n, &p))
				return -EBADMSG;
			if (type == IFA_LOCAL)
				local = p;
			else
				address = p;
		} else if (type == IFA_FLAGS) {
			/* the 32-bit flags; ifa_flags holds only 8 of them */
			if (n != 4 || !cursor_get_bytes(&v, 4, &p))
				return -EBADMSG;
			memcpy(&m->addr_flags, p, 4);
		}
	}
	if (r < 0 || m->ifindex <= 0 || m->prefixlen > alen * 8)
		return -EBADMSG;
	/*
	 * rtnetlink(7): IFA_LOCAL is the local address, IFA_ADDRESS the
	 * peer's on a point-to-point link; IPv6 sends IFA_ADDRESS alone.
	 */
	if (!local)
		local = address;
	if (!local)
		return -EBADMSG;
	memcpy(m->addr, local, alen);
	return 0;
}

int rtnl_next(struct rtnl_iter *it, struct rtnl_msg *m)
{
	struct nlmsghdr h;
	struct nlmsgerr e;
	struct cursor body;
	const uint8_t *p;
	int r = 0;

	memset(m, 0, sizeof(*m));
	if (cursor_left(&it->c) == 0)
		return 0;
	if (!cursor_get_bytes(&it->c, sizeof(h), &p))
		goto bad;
	memcpy(&h, p, sizeof(h));
	if (h.nlmsg_len < sizeof(h) ||
	    !cursor_sub(&it->c, h.nlmsg_len - sizeof(h), &body))
		goto bad;
	skip_pad(&it->c, h.nlmsg_len);
	m->seq = h.nlmsg_seq;
	switch (h.nlmsg_type) {
	case NLMSG_DONE:
		m->kind = RTNL_DONE;
		break;
	case NLMSG_OVERRUN:
		m->kind = RTNL_OVERRUN;
		break;
	case NLMSG_ERROR:
		m->kind = RTNL_ERROR;
		if (!cursor_get_bytes(&body, sizeof(e.error), &p))
			goto bad;
		memcpy(&e.error, p, sizeof(e.error));
		/* netlink(7): a negative errno, or 0 for an acknowledgment */
		if (e.error > 0 || e.error < -4095)
			goto bad;
		m->error = e.error;
		break;
	case RTM_NEWLINK:
	case RTM_DELLINK:
		m->kind = h.nlmsg_type == RTM_NEWLINK ? RTNL_LINK :
			  RTNL_LINK_GONE;
		r = parse_link(&body, m);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		m->kind = h.nlmsg_type == RTM_NEWADDR ? RTNL_ADDR :
			  RTNL_ADDR_GONE;
		r = parse_addr(&body, m);
		break;
	default:
		m->kind = RTNL_OTHER;
		break;
	}
	if (r < 0)
		goto bad;
	return 1;
bad:
	cursor_fail(&it->c);
	memset(m, 0, sizeof(*m));
	return -EBADMSG;
}

size_t rtnl_dump_request(uint8_t *buf, size_t cap, uint16_t type,
			 uint32_t seq)
{
	struct nlmsghdr h;
	/* RTM_GETLINK takes an ifinfomsg, RTM_GETADDR an ifaddrmsg */
	size_t body = type == RTM_GETLINK ? sizeof(struct ifinfomsg) :
		      sizeof(struct ifaddrmsg);
	size_t len = NLMSG_LENGTH(body);

	if (cap < len)
		return 0;
	memset(buf, 0, len);
	memset(&h, 0, sizeof(h));
	h.nlmsg_len = (uint32_t)len;
	h.nlmsg_type = type;
	h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h.nlmsg_seq = seq;
	memcpy(buf, &h, sizeof(h));
	/* family AF_UNSPEC (0): every family */
	return len;
}
