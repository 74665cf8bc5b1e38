/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "cat/profile.h"

/*
 * Position of every capability (byte 1-based, bit mask), TS 102 223 clause
 * 5.2 / TS 31.111 clause 5.2.  The profile is as long as the highest byte
 * listed, so enabling later capabilities does not change its length.
 */
static const struct {
	unsigned char byte;
	unsigned char mask;
	const char *name;
} caps[CAP_MAX] = {
#define B(n) (1u << ((n) - 1))
	[CAP_PROFILE_DOWNLOAD] = { 1, B(1), "profile download" },
	[CAP_TIMER_EXPIRATION] = { 1, B(6), "timer expiration" },
	[CAP_CALL_CONTROL] = { 1, B(8), "call control by NAA" },
	[CAP_MORE_TIME] = { 3, B(4), "MORE TIME" },
	[CAP_POLL_INTERVAL] = { 3, B(6), "POLL INTERVAL" },
	[CAP_POLLING_OFF] = { 3, B(7), "POLLING OFF" },
	[CAP_SEND_SMS] = { 4, B(2), "SEND SHORT MESSAGE" },
	[CAP_LOCAL_INFO_LOCATION] = { 4, B(7), "PROVIDE LOCAL INFORMATION (MCC, MNC, LAC, cell id, IMEI)" },
	[CAP_SET_UP_EVENT_LIST] = { 5, B(1), "SET UP EVENT LIST" },
	[CAP_EVENT_LOCATION_STATUS] = { 5, B(5), "event: location status" },
	[CAP_EVENT_DATA_AVAILABLE] = { 6, B(3), "event: data available" },
	[CAP_EVENT_CHANNEL_STATUS] = { 6, B(4), "event: channel status" },
	[CAP_EVENT_LOCAL_CONNECTION] = { 6, B(7), "event: local connection" },
	[CAP_TIMER_START_STOP] = { 8, B(1), "TIMER MANAGEMENT (start, stop)" },
	[CAP_TIMER_GET] = { 8, B(2), "TIMER MANAGEMENT (get current value)" },
	[CAP_LOCAL_INFO_DATE_TIME] = { 8, B(3), "PROVIDE LOCAL INFORMATION (date, time, time zone)" },
	[CAP_LOCAL_INFO_ACCESS_TECH] = { 9, B(8), "PROVIDE LOCAL INFORMATION (access technology)" },
	[CAP_OPEN_CHANNEL] = { 12, B(1), "OPEN CHANNEL" },
	[CAP_CLOSE_CHANNEL] = { 12, B(2), "CLOSE CHANNEL" },
	[CAP_RECEIVE_DATA] = { 12, B(3), "RECEIVE DATA" },
	[CAP_SEND_DATA] = { 12, B(4), "SEND DATA" },
	[CAP_GET_CHANNEL_STATUS] = { 12, B(5), "GET CHANNEL STATUS" },
	/* bits 6-8: number of channels, 7 */
	[CAP_BIP_CHANNELS] = { 13, B(6) | B(7) | B(8), "7 BIP channels" },
	[CAP_TCP_CLIENT_REMOTE] = { 17, B(1), "TCP, UICC in client mode, remote connection" },
	[CAP_UDP_CLIENT_REMOTE] = { 17, B(2), "UDP, UICC in client mode, remote connection" },
	[CAP_TCP_SERVER] = { 17, B(3), "TCP, UICC in server mode" },
	[CAP_TCP_CLIENT_LOCAL] = { 17, B(4), "TCP, UICC in client mode, local connection" },
	[CAP_UDP_CLIENT_LOCAL] = { 17, B(5), "UDP, UICC in client mode, local connection" },
	[CAP_TERMINAL_APPLICATIONS] = { 30, B(3), "Terminal Applications" },
#undef B
};

int cat_profile_build(uint8_t *out, size_t cap, uint64_t enabled)
{
	size_t len = 0;

	for (int i = 0; i < CAP_MAX; i++)
		if (caps[i].byte > len)
			len = caps[i].byte;
	if (len > cap)
		return -ENOSPC;
	memset(out, 0, len);
	for (int i = 0; i < CAP_MAX; i++)
		if (enabled & CAP_BIT(i))
			out[caps[i].byte - 1] |= caps[i].mask;
	return (int)len;
}

const char *cat_cap_name(enum cat_cap c)
{
	return c < CAP_MAX ? caps[c].name : "?";
}
