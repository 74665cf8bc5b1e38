/* SPDX-License-Identifier: MIT */
/*
 * The card's TCP/IP link (src/link/): the [link] match rule against
 * recorded sd-device properties, networkd's Leases property as networkd
 * builds it, and the rtnetlink reader against datagrams the kernel sent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "link/leases.h"
#include "link/rtnl.h"
#include "link/rule.h"

/* ---- recorded sd-device properties ---- */

/*
 * A USB UICC's EEM function as udev describes its network interface: the
 * kernel's uevent (INTERFACE, IFINDEX), net_setup_link (80-net-setup-link.
 * rules: ID_NET_DRIVER, ID_NET_LINK_FILE, ID_NET_NAME), usb_id
 * (75-net-description.rules, SUBSYSTEMS=="usb": ID_USB_DRIVER,
 * ID_USB_INTERFACES, ":CCSSPP:" per interface of the device: the ICCD
 * interface, class 0B, and the EEM one, class 02 subclass 0C protocol 07,
 * CDC ECM120 / EEM 1.0 table 1).
 */
static const char *const uicc_props[] = {
	"DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3:1.1/net/uicc0",
	"SUBSYSTEM=net",
	"INTERFACE=uicc0",
	"IFINDEX=5",
	"DEVTYPE=",
	"ID_BUS=usb",
	"ID_USB_DRIVER=cdc_eem",
	"ID_USB_INTERFACES=:0b0000:020c07:",
	"ID_USB_INTERFACE_NUM=01",
	"ID_NET_DRIVER=cdc_eem",
	"ID_NET_LINK_FILE=/usr/lib/systemd/network/60-dmscgw-uicc.link",
	"ID_NET_NAME=uicc0",
	NULL,
};

/*
 * A veth end as sd-device read it on the test machine, without udevd (as
 * in the integration test's container): the kernel's uevent alone, no
 * ID_NET_DRIVER (link.c then asks ethtool).
 */
static const char *const veth_props[] = {
	"DEVPATH=/devices/virtual/net/dmsc7a",
	"INTERFACE=dmsc7a",
	"IFINDEX=15",
	"SUBSYSTEM=net",
	NULL,
};

static const char *prop_get(void *arg, const char *key)
{
	const char *const *p = arg;
	size_t n = strlen(key);

	for (; *p; p++)
		if (!strncmp(*p, key, n) && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

static bool matches(const char *rule, const char *ifname,
		    const char *const *props)
{
	struct link_rule r;
	struct link_props p = { .ifname = ifname, .get = prop_get,
				.arg = (void *)props };
	const char *why = NULL;

	assert_int_equal(link_rule_parse(&r, rule, &why), 0);
	return link_rule_match(&r, &p);
}

static void test_rule_match(void **state)
{
	(void)state;
	/* the default finds the card by driver, whatever its name */
	assert_true(matches(LINK_RULE_DEFAULT, "uicc0", uicc_props));
	assert_true(matches(LINK_RULE_DEFAULT, "usb0", uicc_props));
	assert_true(matches("driver=cdc_eem", "eth3", uicc_props));
	assert_true(matches("ID_USB_INTERFACES=*:020c07:*", "x", uicc_props));
	assert_true(matches("ID_USB_DRIVER=cdc_* ID_BUS=usb", "x", uicc_props));
	assert_true(matches("name=uicc? driver=cdc_eem", "uicc0", uicc_props));
	assert_false(matches("name=uicc? driver=cdc_eem", "usb0", uicc_props));
	assert_false(matches("driver=veth", "uicc0", uicc_props));
	/* a property the device lacks, or an empty one, matches nothing */
	assert_false(matches("ID_MODEL=*", "uicc0", uicc_props));
	assert_false(matches("DEVTYPE=?*", "uicc0", uicc_props));
	assert_true(matches("DEVTYPE=*", "uicc0", uicc_props));
	/* without udev: no ID_NET_DRIVER, only the name decides */
	assert_false(matches(LINK_RULE_DEFAULT, "dmsc7a", veth_props));
	assert_true(matches("name=dmsc*a", "dmsc7a", veth_props));
	assert_false(matches("name=dmsc*b", "dmsc7a", veth_props));
	assert_true(matches("SUBSYSTEM=net name=dmsc7a", "dmsc7a", veth_props));
}

static void test_rule_parse(void **state)
{
	static const struct {
		const char *text;
		int r;
		size_t n;
		const char *key0, *glob0;
	} vec[] = {
		{ "ID_NET_DRIVER=cdc_eem", 0, 1, "ID_NET_DRIVER", "cdc_eem" },
		{ "driver=veth", 0, 1, "ID_NET_DRIVER", "veth" },
		{ " \tname=usb*  driver=cdc_eem ", 0, 2, "name", "usb*" },
		{ "ID_USB_INTERFACES=*:020c07:*", 0, 1, "ID_USB_INTERFACES",
		  "*:020c07:*" },
		{ "A=1 B=2 C=3 D=4", 0, 4, "A", "1" },
		{ "glob=a=b", -EINVAL, 0, NULL, NULL },	/* lower case: no property */
		{ "X1=a=b", 0, 1, "X1", "a=b" },	/* the first '=' splits */
		{ "", -EINVAL, 0, NULL, NULL },
		{ "   ", -EINVAL, 0, NULL, NULL },
		{ "cdc_eem", -EINVAL, 0, NULL, NULL },
		{ "=cdc_eem", -EINVAL, 0, NULL, NULL },
		{ "driver=", -EINVAL, 0, NULL, NULL },
		{ "1D=x", -EINVAL, 0, NULL, NULL },
		{ "ID-NET=x", -EINVAL, 0, NULL, NULL },
		{ "A=1 B=2 C=3 D=4 E=5", -EINVAL, 0, NULL, NULL },
	};
	struct link_rule r;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		why = NULL;
		assert_int_equal(link_rule_parse(&r, vec[i].text, &why), vec[i].r);
		if (vec[i].r) {
			assert_non_null(why);
			continue;
		}
		assert_int_equal(r.n, vec[i].n);
		assert_string_equal(r.c[0].key, vec[i].key0);
		assert_string_equal(r.c[0].glob, vec[i].glob0);
	}
	{
		char big[LINK_RULE_GLOB_MAX + 16];

		memset(big, 'x', sizeof(big));
		memcpy(big, "name=", 5);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(link_rule_parse(&r, big, &why), -EINVAL);
	}
	assert_true(link_rule_needs_props(&(struct link_rule){
		.c = { { "ID_NET_DRIVER", "x" } }, .n = 1 }));
	assert_false(link_rule_needs_props(&(struct link_rule){
		.c = { { "name", "x" } }, .n = 1 }));
}

/* ---- networkd's Leases ---- */

/*
 * A bus to build messages on: sd-bus makes messages only for a bus that
 * was started, so one end of a socket pair stands in for a peer.
 */
static sd_bus *test_bus(void)
{
	sd_bus *bus = NULL;
	int fds[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    fds), 0);
	assert_true(sd_bus_new(&bus) >= 0);
	assert_true(sd_bus_set_fd(bus, fds[0], fds[0]) >= 0);
	assert_true(sd_bus_start(bus) >= 0);
	close(fds[1]);
	return bus;
}

struct lease {
	uint32_t family;
	const uint8_t *client;
	size_t nclient;
	const uint8_t *addr;
	size_t naddr;
	uint64_t expires;
	const uint8_t *chaddr;		/* 16 bytes; NULL: a made-up one */
};

/*
 * The reply of Properties.Get(org.freedesktop.network1.DHCPServer,
 * Leases) as networkd builds it (property_get_leases): a variant of
 * a(uayayayayt), each entry family, client id, address, gateway, chaddr
 * (16 bytes), expiration; read back from its start.
 */
static sd_bus_message *leases_msg(sd_bus *bus, const char *sig,
				  const struct lease *v, size_t n)
{
	static const uint8_t gw[4], chaddr[16] = {
		0x02, 0x00, 0x5e, 0x10, 0x00, 0x01,
	};
	sd_bus_message *m = NULL;

	assert_true(sd_bus_message_new_method_call(bus, &m, "org.example",
		"/", "org.example", "Get") >= 0);
	assert_true(sd_bus_message_open_container(m, 'v', sig) >= 0);
	if (!strcmp(sig, LINK_LEASES_SIGNATURE)) {
		assert_true(sd_bus_message_open_container(m, 'a',
			"(uayayayayt)") >= 0);
		for (size_t i = 0; i < n; i++) {
			assert_true(sd_bus_message_open_container(m, 'r',
				"uayayayayt") >= 0);
			assert_true(sd_bus_message_append(m, "u", v[i].family) >= 0);
			assert_true(sd_bus_message_append_array(m, 'y', v[i].client,
				v[i].nclient) >= 0);
			assert_true(sd_bus_message_append_array(m, 'y', v[i].addr,
				v[i].naddr) >= 0);
			assert_true(sd_bus_message_append_array(m, 'y', gw,
				sizeof(gw)) >= 0);
			assert_true(sd_bus_message_append_array(m, 'y',
				v[i].chaddr ? v[i].chaddr : chaddr,
				sizeof(chaddr)) >= 0);
			assert_true(sd_bus_message_append(m, "t", v[i].expires) >= 0);
			assert_true(sd_bus_message_close_container(m) >= 0);
		}
		assert_true(sd_bus_message_close_container(m) >= 0);
	} else {
		assert_true(sd_bus_message_append(m, "as", 1, "x") >= 0);
	}
	assert_true(sd_bus_message_close_container(m) >= 0);
	assert_true(sd_bus_message_seal(m, 1, 0) >= 0);
	assert_true(sd_bus_message_rewind(m, true) >= 0);
	return m;
}

static int read_leases(sd_bus *bus, const char *sig, const struct lease *v,
		       size_t n, char *out)
{
	sd_bus_message *m = leases_msg(bus, sig, v, n);
	struct in_addr a = { 0 };
	int r = link_leases_read(m, &a);

	inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
	sd_bus_message_unref(m);
	return r;
}

static void test_leases(void **state)
{
	/* the client id networkd keeps: type 01 (Ethernet) and the MAC */
	static const uint8_t cid[] = { 0x01, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
	static const uint8_t card[] = { 192, 168, 225, 2 };
	static const uint8_t older[] = { 192, 168, 225, 6 };
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	static const uint8_t short3[] = { 192, 168, 225 };
	static const uint8_t v6[16] = { 0xfd, 0, 0x0d, 0x5c };
	char out[INET_ADDRSTRLEN];
	sd_bus *bus = test_bus();

	(void)state;
	{
		/*
		 * Recorded: systemd-networkd 252 serving a veth with the
		 * shipped 60-dmscgw-uicc.network (Driver=veth), a DHCP client
		 * bound on the other end; busctl get-property ... Leases:
		 * a(uayayayayt) 1 2 7 1 114 129 85 69 92 132 4 192 168 225 2
		 * 4 0 0 0 0 16 114 129 85 69 92 132 0 0 0 0 0 0 0 0 0 0
		 * 15730420370 (tests/integration/uicc_networkd.sh reads it
		 * from networkd itself)
		 */
		static const uint8_t rec_cid[] = { 1, 114, 129, 85, 69, 92, 132 };
		static const uint8_t rec_chaddr[16] = { 114, 129, 85, 69, 92, 132 };
		const struct lease l[] = {
			{ AF_INET, rec_cid, sizeof(rec_cid), card, 4, 15730420370ull,
			  rec_chaddr },
		};

		assert_int_equal(read_leases(bus, LINK_LEASES_SIGNATURE, l, 1,
					     out), 1);
		assert_string_equal(out, "192.168.225.2");
	}
	{	/* the one that expires last wins, whatever the order */
		const struct lease l[] = {
			{ AF_INET, cid, sizeof(cid), card, 4, 2000, NULL },
			{ AF_INET, cid, sizeof(cid), older, 4, 1000, NULL },
		};

		assert_int_equal(read_leases(bus, LINK_LEASES_SIGNATURE, l, 2,
					     out), 1);
		assert_string_equal(out, "192.168.225.2");
	}
	{	/* other families and 0.0.0.0 are no lease */
		const struct lease l[] = {
			{ AF_INET6, cid, sizeof(cid), v6, 16, 3000, NULL },
			{ AF_INET, NULL, 0, zero, 4, 3000, NULL },
		};

		assert_int_equal(read_leases(bus, LINK_LEASES_SIGNATURE, l, 2,
					     out), 0);
		assert_int_equal(read_leases(bus, LINK_LEASES_SIGNATURE, NULL, 0,
					     out), 0);
	}
	{	/* an address that is not 4 bytes, another signature */
		const struct lease l[] = {
			{ AF_INET, cid, sizeof(cid), short3, 3, 3000, NULL },
		};

		assert_int_equal(read_leases(bus, LINK_LEASES_SIGNATURE, l, 1,
					     out), -EBADMSG);
		assert_int_equal(read_leases(bus, "as", NULL, 0, out), -EBADMSG);
	}
	sd_bus_flush_close_unref(bus);
}

/* ---- rtnetlink ---- */

/* A datagram of the seed corpus (tests/fuzz/corpus/rtnl), kernel-made. */
static uint8_t *corpus(const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	uint8_t *p = malloc(65536);
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/rtnl/%s",
		 top ? top : ".", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_non_null(p);
	*len = fread(p, 1, 65536, f);
	fclose(f);
	assert_true(*len > 0);
	return p;
}

/* The only message of a datagram. */
static void one(const char *name, struct rtnl_msg *m)
{
	struct rtnl_iter it;
	size_t len;
	uint8_t *p = corpus(name, &len);

	rtnl_iter_init(&it, p, len);
	assert_int_equal(rtnl_next(&it, m), 1);
	assert_int_equal(rtnl_next(&it, &(struct rtnl_msg){ 0 }), 0);
	free(p);
}

static void addr_is(const struct rtnl_msg *m, const char *text)
{
	char t[INET6_ADDRSTRLEN];

	inet_ntop(m->family, m->addr, t, sizeof(t));
	assert_string_equal(t, text);
}

static void test_rtnl_recorded(void **state)
{
	struct rtnl_msg m;

	(void)state;
	/* ip link add rec0a type veth peer name rec0b: created, down */
	one("link-new", &m);
	assert_int_equal(m.kind, RTNL_LINK);
	assert_string_equal(m.ifname, "rec0a");
	assert_int_equal(m.ifindex, 13);
	assert_false(m.flags & IFF_UP);
	/* both ends up: up and running (carrier) */
	one("link-up", &m);
	assert_int_equal(m.kind, RTNL_LINK);
	assert_int_equal(m.ifindex, 13);
	assert_true(m.flags & IFF_UP);
	assert_true(m.flags & IFF_RUNNING);
	/* the peer down: still up, no longer running */
	one("link-nocarrier", &m);
	assert_true(m.flags & IFF_UP);
	assert_false(m.flags & IFF_RUNNING);
	/* ip addr add 198.18.200.1/24, fd00:d5c:0:ff::1/64 nodad */
	one("addr4", &m);
	assert_int_equal(m.kind, RTNL_ADDR);
	assert_int_equal(m.family, AF_INET);
	assert_int_equal(m.ifindex, 13);
	assert_int_equal(m.prefixlen, 24);
	assert_int_equal(m.scope, 0);	/* RT_SCOPE_UNIVERSE */
	addr_is(&m, "198.18.200.1");
	one("addr6", &m);
	assert_int_equal(m.kind, RTNL_ADDR);
	assert_int_equal(m.family, AF_INET6);
	assert_int_equal(m.prefixlen, 64);
	addr_is(&m, "fd00:d5c:0:ff::1");
	/* the link-local address goes with the link */
	one("deladdr6-ll", &m);
	assert_int_equal(m.kind, RTNL_ADDR_GONE);
	assert_int_equal(m.scope, 253);	/* RT_SCOPE_LINK */
	addr_is(&m, "fe80::4434:e4ff:fe54:e67c");
	one("dellink", &m);
	assert_int_equal(m.kind, RTNL_LINK_GONE);
	assert_string_equal(m.ifname, "rec0a");
	assert_int_equal(m.ifindex, 13);
	/* the end of a dump, sequence 7 as asked */
	one("dump-done", &m);
	assert_int_equal(m.kind, RTNL_DONE);
	assert_int_equal(m.seq, 7);
}

static void test_rtnl_dump(void **state)
{
	struct rtnl_iter it;
	struct rtnl_msg m;
	size_t len, n = 0;
	uint8_t *p = corpus("dump-links", &len);
	bool lo = false;
	int r;

	(void)state;
	rtnl_iter_init(&it, p, len);
	while ((r = rtnl_next(&it, &m)) > 0) {
		assert_int_equal(m.kind, RTNL_LINK);
		assert_int_equal(m.seq, 7);
		lo |= m.ifindex == 1 && !strcmp(m.ifname, "lo") &&
		      (m.flags & IFF_LOOPBACK);
		n++;
	}
	assert_int_equal(r, 0);
	assert_true(n >= 2);
	assert_true(lo);
	free(p);
	p = corpus("dump-addrs", &len);
	rtnl_iter_init(&it, p, len);
	n = 0;
	while ((r = rtnl_next(&it, &m)) > 0) {
		assert_int_equal(m.kind, RTNL_ADDR);
		n++;
	}
	assert_int_equal(r, 0);
	assert_true(n >= 2);	/* 127.0.0.1 and ::1 at least */
	free(p);
}

/* Whatever is cut or inflated, the reader stops with -EBADMSG, then 0. */
static void bad(const uint8_t *p, size_t len)
{
	struct rtnl_iter it;
	struct rtnl_msg m;
	int r;

	rtnl_iter_init(&it, p, len);
	while ((r = rtnl_next(&it, &m)) > 0)
		;
	assert_int_equal(r, -EBADMSG);
	assert_int_equal(rtnl_next(&it, &m), 0);
}

static void test_rtnl_malformed(void **state)
{
	size_t len;
	uint8_t *p = corpus("link-up", &len), *q;
	uint32_t v;

	(void)state;
	/* every cut inside the message */
	for (size_t cut = 1; cut < len; cut++) {
		q = malloc(cut);
		memcpy(q, p, cut);
		bad(q, cut);
		free(q);
	}
	/* nlmsg_len below the header, and past the datagram */
	q = malloc(len);
	memcpy(q, p, len);
	v = 15;
	memcpy(q, &v, 4);
	bad(q, len);
	v = (uint32_t)len + 4;
	memcpy(q, &v, 4);
	bad(q, len);
	/* the first attribute's rta_len past the message, then below 4 */
	memcpy(q, p, len);
	q[32] = 0xff;
	q[33] = 0x7f;
	bad(q, len);
	q[32] = 2;
	q[33] = 0;
	bad(q, len);
	free(q);
	free(p);
	{	/* IFLA_IFNAME without its NUL */
		uint8_t m[16 + 16 + 8] = { 0 };
		uint32_t l = sizeof(m), idx = 3;
		uint16_t t = 16 /* RTM_NEWLINK */, al = 8, at = 3 /* IFLA_IFNAME */;

		memcpy(m, &l, 4);
		memcpy(m + 4, &t, 2);
		memcpy(m + 20, &idx, 4);
		memcpy(m + 32, &al, 2);
		memcpy(m + 34, &at, 2);
		memcpy(m + 36, "eth0", 4);
		bad(m, sizeof(m));
		m[39] = '\0';
		{
			struct rtnl_iter it;
			struct rtnl_msg msg;

			rtnl_iter_init(&it, m, sizeof(m));
			assert_int_equal(rtnl_next(&it, &msg), 1);
			assert_string_equal(msg.ifname, "eth");
		}
	}
}

static void test_rtnl_request(void **state)
{
	uint8_t b[64];
	uint32_t len, seq;
	uint16_t type, flags;

	(void)state;
	assert_int_equal(rtnl_dump_request(b, 8, 18, 1), 0);
	/* RTM_GETLINK: header and an ifinfomsg; RTM_GETADDR: an ifaddrmsg */
	assert_int_equal(rtnl_dump_request(b, sizeof(b), 18, 42), 32);
	memcpy(&len, b, 4);
	memcpy(&type, b + 4, 2);
	memcpy(&flags, b + 6, 2);
	memcpy(&seq, b + 8, 4);
	assert_int_equal(len, 32);
	assert_int_equal(type, 18);
	assert_int_equal(flags, 0x301);	/* NLM_F_REQUEST | NLM_F_DUMP */
	assert_int_equal(seq, 42);
	assert_int_equal(rtnl_dump_request(b, sizeof(b), 22, 43), 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_parse),
		cmocka_unit_test(test_rule_match),
		cmocka_unit_test(test_leases),
		cmocka_unit_test(test_rtnl_recorded),
		cmocka_unit_test(test_rtnl_dump),
		cmocka_unit_test(test_rtnl_malformed),
		cmocka_unit_test(test_rtnl_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
