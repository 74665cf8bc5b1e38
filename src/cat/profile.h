/* SPDX-License-Identifier: MIT */
/*
 * TERMINAL PROFILE (ETSI TS 102 221 clause 11.2.1, contents in TS 102 223
 * clause 5.2 and 3GPP TS 31.111 clause 5.2) built from one table of
 * capabilities.  Card applets branch on these bits, so a bit is set only
 * for what dmscgw implements, tests and has enabled.
 */
#ifndef DMSCGW_CAT_PROFILE_H
#define DMSCGW_CAT_PROFILE_H

#include <stddef.h>
#include <stdint.h>

enum cat_cap {
	CAP_PROFILE_DOWNLOAD,
	CAP_TIMER_EXPIRATION,
	CAP_CALL_CONTROL,
	CAP_MORE_TIME,
	CAP_POLL_INTERVAL,
	CAP_POLLING_OFF,
	CAP_SEND_SMS,
	CAP_LOCAL_INFO_LOCATION,
	CAP_SET_UP_EVENT_LIST,
	CAP_EVENT_LOCATION_STATUS,
	CAP_EVENT_DATA_AVAILABLE,
	CAP_EVENT_CHANNEL_STATUS,
	CAP_EVENT_LOCAL_CONNECTION,
	CAP_TIMER_START_STOP,
	CAP_TIMER_GET,
	CAP_LOCAL_INFO_DATE_TIME,
	CAP_LOCAL_INFO_ACCESS_TECH,
	CAP_OPEN_CHANNEL,
	CAP_CLOSE_CHANNEL,
	CAP_RECEIVE_DATA,
	CAP_SEND_DATA,
	CAP_GET_CHANNEL_STATUS,
	CAP_BIP_CHANNELS,
	CAP_TCP_CLIENT_REMOTE,
	CAP_UDP_CLIENT_REMOTE,
	CAP_TCP_SERVER,
	CAP_TCP_CLIENT_LOCAL,
	CAP_UDP_CLIENT_LOCAL,
	CAP_TERMINAL_APPLICATIONS,
	CAP_MAX
};

#define CAP_BIT(c) (UINT64_C(1) << (c))

/*
 * Build the profile for the capabilities in `caps` (CAP_BIT mask); its
 * length is fixed by the highest byte in the table.  Returns the length or
 * -ENOSPC.
 */
int cat_profile_build(uint8_t *out, size_t cap, uint64_t caps);
const char *cat_cap_name(enum cat_cap c);

#endif
