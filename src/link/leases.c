/* SPDX-License-Identifier: MIT */
/* networkd's Leases property (leases.h). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "link/leases.h"

/* One entry, the structure already entered: 1 an IPv4 lease, 0 another family. */
static int read_lease(sd_bus_message *m, struct in_addr *a, uint64_t *expires)
{
	const void *client, *addr, *gw, *chaddr;
	size_t nc, na, ng, nh;
	uint32_t family;

	if (sd_bus_message_read(m, "u", &family) < 0 ||
	    sd_bus_message_read_array(m, 'y', &client, &nc) < 0 ||
	    sd_bus_message_read_array(m, 'y', &addr, &na) < 0 ||
	    sd_bus_message_read_array(m, 'y', &gw, &ng) < 0 ||
	    sd_bus_message_read_array(m, 'y', &chaddr, &nh) < 0 ||
	    sd_bus_message_read(m, "t", expires) < 0)
		return -EBADMSG;
	if (family != AF_INET)
		return 0;
	if (na != sizeof(a->s_addr))
		return -EBADMSG;
	memcpy(&a->s_addr, addr, sizeof(a->s_addr));
	return a->s_addr != 0;
}

int link_leases_read(sd_bus_message *m, struct in_addr *addr)
{
	uint64_t best = 0, exp;
	struct in_addr a;
	int found = 0, r;

	if (sd_bus_message_enter_container(m, 'v', LINK_LEASES_SIGNATURE) <= 0 ||
	    sd_bus_message_enter_container(m, 'a', "(uayayayayt)") <= 0)
		return -EBADMSG;
	while ((r = sd_bus_message_enter_container(m, 'r', "uayayayayt")) > 0) {
		r = read_lease(m, &a, &exp);
		if (r < 0 || sd_bus_message_exit_container(m) < 0)
			return -EBADMSG;
		if (r > 0 && (!found || exp >= best)) {
			*addr = a;
			best = exp;
			found = 1;
		}
	}
	if (r < 0 || sd_bus_message_exit_container(m) < 0 ||
	    sd_bus_message_exit_container(m) < 0)
		return -EBADMSG;
	return found;
}
