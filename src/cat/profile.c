/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "cat/profile.h"

/*
 * Every capability dmscgw knows of, with its position (TS 102 223 clause
 * 5.2; 3GPP TS 31.111 clause 5.2 for the NAA-specific ones).  `value` is
 * what is sent: zero until the capability is implemented and tested.  The
 * profile is as long as the highest byte listed, so later capabilities do
 * not change its length.
 */
struct cat_cap {
	unsigned char byte;	/* 1-based */
	unsigned char mask;
	unsigned char value;
	unsigned needs;		/* enum cat_feature bits required */
	const char *name;
};

#define B(n) (1u << ((n) - 1))

static const struct cat_cap caps[] = {
	{ 1, B(1), B(1), 0, "profile download" },
	{ 1, B(6), 0, 0, "timer expiration" },
	{ 1, B(8), 0, 0, "call control by NAA" },
	{ 3, B(4), 0, 0, "MORE TIME" },
	{ 3, B(6), 0, 0, "POLL INTERVAL" },
	{ 3, B(7), 0, 0, "POLLING OFF" },
	{ 4, B(2), 0, 0, "SEND SHORT MESSAGE" },
	{ 4, B(7), 0, 0, "PROVIDE LOCAL INFORMATION (location)" },
	{ 5, B(1), 0, 0, "SET UP EVENT LIST" },
	{ 5, B(5), 0, 0, "event: location status" },
	{ 6, B(3), 0, 0, "event: data available" },
	{ 6, B(4), 0, 0, "event: channel status" },
	{ 6, B(7), 0, 0, "event: local connection" },
	{ 8, B(1) | B(2), 0, 0, "TIMER MANAGEMENT" },
	{ 12, B(1), 0, 0, "OPEN CHANNEL" },
	{ 12, B(2), 0, 0, "CLOSE CHANNEL" },
	{ 12, B(3), 0, 0, "RECEIVE DATA" },
	{ 12, B(4), 0, 0, "SEND DATA" },
	{ 12, B(5), 0, 0, "GET CHANNEL STATUS" },
	{ 13, B(6) | B(7) | B(8), 0, 0, "number of channels" },
	{ 17, B(1), 0, 0, "TCP, UICC in client mode, remote connection" },
	{ 17, B(2), 0, 0, "UDP, UICC in client mode, remote connection" },
	{ 17, B(3), 0, 0, "TCP, UICC in server mode" },
	{ 17, B(4), 0, 0, "TCP, UICC in client mode, local connection" },
	{ 17, B(5), 0, 0, "UDP, UICC in client mode, local connection" },
	{ 30, B(3), 0, 0, "Terminal Applications" },
};

#define NCAPS (sizeof(caps) / sizeof(caps[0]))

int cat_profile_build(uint8_t *out, size_t cap, unsigned features)
{
	size_t len = 0;

	for (size_t i = 0; i < NCAPS; i++)
		if (caps[i].byte > len)
			len = caps[i].byte;
	if (len > cap)
		return -ENOSPC;
	memset(out, 0, len);
	for (size_t i = 0; i < NCAPS; i++) {
		if ((caps[i].needs & features) != caps[i].needs)
			continue;
		out[caps[i].byte - 1] |= caps[i].value & caps[i].mask;
	}
	return (int)len;
}

const char *cat_profile_name(unsigned byte, unsigned bit)
{
	for (size_t i = 0; i < NCAPS; i++)
		if (caps[i].byte == byte && (caps[i].mask & B(bit)))
			return caps[i].name;
	return NULL;
}
