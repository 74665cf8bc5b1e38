/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the rtnetlink reader (src/link/rtnl.c), which reads
 * every datagram the kernel sends the card's link tracker.  Besides the
 * sanitizers, with abort():
 *  - rtnl_next() ends: each message takes at least a header, so a datagram
 *    of n bytes gives at most n / 16 of them before 0 or -EBADMSG, and
 *    after -EBADMSG nothing more;
 *  - what it returns is sound: an interface name is NUL-terminated within
 *    its buffer, a link or address has a positive index, an address is
 *    IPv4 or IPv6 with a prefix that fits it.
 * The seed corpus (corpus/rtnl) is what the kernel sent on this project's
 * test machine: link and address notifications for a veth pair, and dump
 * answers; tests/unit/test_link.c reads the same files.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "link/rtnl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtnl_iter it;
	struct rtnl_msg m;
	size_t n = 0;
	int r;

	rtnl_iter_init(&it, data, size);
	while ((r = rtnl_next(&it, &m)) > 0) {
		CHECK(++n <= size / 16);
		CHECK(memchr(m.ifname, '\0', sizeof(m.ifname)) != NULL);
		switch (m.kind) {
		case RTNL_LINK:
		case RTNL_LINK_GONE:
			CHECK(m.ifindex > 0);
			break;
		case RTNL_ADDR:
		case RTNL_ADDR_GONE:
			CHECK(m.ifindex > 0);
			CHECK(m.family == AF_INET || m.family == AF_INET6);
			CHECK(m.prefixlen <= (m.family == AF_INET ? 32 : 128));
			break;
		case RTNL_ERROR:
			CHECK(m.error <= 0 && m.error >= -4095);
			break;
		default:
			break;
		}
	}
	CHECK(r == 0 || r == -EBADMSG);
	if (r < 0)
		CHECK(rtnl_next(&it, &m) == 0);
	return 0;
}
