/* SPDX-License-Identifier: MIT */
/*
 * systemd-networkd's DHCP server leases, as it publishes them on D-Bus:
 * property Leases of org.freedesktop.network1.DHCPServer on the link's
 * object, signature a(uayayayayt).  Each entry, in the order networkd
 * appends it (src/network/networkd-dhcp-server-bus.c, property_get_leases,
 * systemd 246 and later): the address family (AF_INET), the client
 * identifier, the leased address (4 bytes, network order), the gateway
 * (giaddr, 4 bytes), the client hardware address (chaddr, 16 bytes) and
 * the expiration time (µs).
 */
#ifndef DMSCGW_LINK_LEASES_H
#define DMSCGW_LINK_LEASES_H

#include <netinet/in.h>

#include <systemd/sd-bus.h>

#define LINK_LEASES_SIGNATURE	"a(uayayayayt)"

/*
 * m is positioned at the property's variant (the reply of Properties.Get,
 * or a value of PropertiesChanged).  1 with *addr the address of the
 * lease that expires last (the card that renewed most recently: the
 * .network file's pool holds one address), 0 when there is no IPv4 lease,
 * -EBADMSG when the value is not a(uayayayayt) or an address is not 4
 * bytes.  The variant is read whole.
 */
int link_leases_read(sd_bus_message *m, struct in_addr *addr);

#endif
