/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the reader of networkd's Leases property
 * (src/link/leases.c).  sd-bus has no public call that unmarshals raw
 * bytes, so the input drives the building of the message the reader gets:
 * the variant's signature (the right one or a wrong one), and entry by
 * entry the family, the four byte arrays with their lengths and contents,
 * and the expiry.  An oracle computed here from the same choices, sharing
 * nothing with the reader, says what it must return:
 *  - -EBADMSG for a wrong signature, or an IPv4 entry whose address is not
 *    4 bytes;
 *  - else 1 with the non-zero IPv4 address that expires last (the later
 *    entry on a tie), or 0 when there is none.
 * Anything else, or a sanitizer report, aborts.
 *
 * Input: byte 0 picks the signature (even: a(uayayayayt); else one of the
 * wrong ones), then entries until the input ends: 1 byte family choice,
 * 4 length bytes (each taken modulo 24) and that many bytes for each
 * array, 8 bytes expiry (little-endian; what is missing is zero).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "link/leases.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)
#define MAX_ENTRIES	64

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct in *in)
{
	uint8_t b = 0;

	if (in->n) {
		b = *in->p++;
		in->n--;
	}
	return b;
}

/* Up to len bytes of the input (fewer at its end): *got of them at *p. */
static const uint8_t *take_bytes(struct in *in, size_t len, size_t *got)
{
	const uint8_t *p = in->p;

	*got = len < in->n ? len : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

/*
 * sd-bus makes messages only for a bus that was started: one end of a
 * socket pair stands in for the peer (as in tests/unit/test_link.c).
 * Made once; the messages are never sent.
 */
static sd_bus *fuzz_bus(void)
{
	static sd_bus *bus;
	int fds[2];

	if (bus)
		return bus;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
	CHECK(sd_bus_new(&bus) >= 0);
	CHECK(sd_bus_set_fd(bus, fds[0], fds[0]) >= 0);
	CHECK(sd_bus_start(bus) >= 0);
	close(fds[1]);
	return bus;
}

static const char *const wrong[] = {
	"s", "a(uayayayay)", "a(uayayayays)", "a(sayayayayt)", "au", "aay",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	sd_bus *bus = fuzz_bus();
	sd_bus_message *m = NULL;
	struct in_addr got = { 0 }, want = { 0 };
	uint64_t best = 0;
	int expect = 0, r, n = 0;
	uint8_t pick = take(&in);
	bool bad = false;

	CHECK(sd_bus_message_new_method_call(bus, &m, "org.dmscgw1.Fuzz", "/",
					     "org.dmscgw1.Fuzz", "F") >= 0);
	if (pick & 1) {
		const char *sig = wrong[(pick >> 1) % (sizeof(wrong) / sizeof(*wrong))];

		/* a value of another type: the simplest of each shape */
		CHECK(sd_bus_message_open_container(m, 'v', sig) >= 0);
		if (!strcmp(sig, "s"))
			CHECK(sd_bus_message_append(m, "s", "x") >= 0);
		else if (!strcmp(sig, "au"))
			CHECK(sd_bus_message_append(m, "au", 1, 2u) >= 0);
		else if (!strcmp(sig, "a(uayayayay)"))
			CHECK(sd_bus_message_append(m, "a(uayayayay)", 0) >= 0);
		else if (!strcmp(sig, "a(uayayayays)"))
			CHECK(sd_bus_message_append(m, "a(uayayayays)", 0) >= 0);
		else if (!strcmp(sig, "a(sayayayayt)"))
			CHECK(sd_bus_message_append(m, "a(sayayayayt)", 0) >= 0);
		else
			CHECK(sd_bus_message_append(m, "aay", 0) >= 0);
		CHECK(sd_bus_message_close_container(m) >= 0);
		expect = -EBADMSG;
	} else {
		CHECK(sd_bus_message_open_container(m, 'v', LINK_LEASES_SIGNATURE) >= 0);
		CHECK(sd_bus_message_open_container(m, 'a', "(uayayayayt)") >= 0);
		while (in.n && n++ < MAX_ENTRIES) {
			uint8_t fam = take(&in), len[4];
			const uint8_t *arr[4];
			size_t alen[4];
			uint32_t family;
			uint64_t exp = 0;

			family = fam % 3 == 0 ? AF_INET :
				 fam % 3 == 1 ? AF_INET6 : fam;
			for (int i = 0; i < 4; i++)
				len[i] = take(&in) % 24;
			for (int i = 0; i < 4; i++)
				arr[i] = take_bytes(&in, len[i], &alen[i]);
			for (int i = 0; i < 8; i++)
				exp |= (uint64_t)take(&in) << (8 * i);
			CHECK(sd_bus_message_open_container(m, 'r', "uayayayayt") >= 0);
			CHECK(sd_bus_message_append(m, "u", family) >= 0);
			for (int i = 0; i < 4; i++)
				CHECK(sd_bus_message_append_array(m, 'y', arr[i],
								  alen[i]) >= 0);
			CHECK(sd_bus_message_append(m, "t", exp) >= 0);
			CHECK(sd_bus_message_close_container(m) >= 0);
			/* the oracle */
			if (family != AF_INET)
				continue;
			if (alen[1] != 4) {
				bad = true;
				continue;
			}
			if (!memcmp(arr[1], "\0\0\0\0", 4))
				continue;
			if (expect == 0 || exp >= best) {
				memcpy(&want.s_addr, arr[1], 4);
				best = exp;
				expect = 1;
			}
		}
		CHECK(sd_bus_message_close_container(m) >= 0);
		CHECK(sd_bus_message_close_container(m) >= 0);
		if (bad)
			expect = -EBADMSG;
	}
	CHECK(sd_bus_message_seal(m, 1, 0) >= 0);
	CHECK(sd_bus_message_rewind(m, true) >= 0);
	r = link_leases_read(m, &got);
	CHECK(r == expect);
	if (r == 1)
		CHECK(got.s_addr == want.s_addr && got.s_addr != 0);
	sd_bus_message_unref(m);
	return 0;
}
