/* SPDX-License-Identifier: MIT */
/*
 * Proactive commands the terminal answers by itself: MORE TIME, SET UP EVENT
 * LIST and PROVIDE LOCAL INFORMATION (TS 102 223 clauses 6.4.4, 6.4.16,
 * 6.4.15; TS 31.111 for the 3GPP local information).
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "card/tlv.h"
#include "cat/cat.h"
#include "cat/profile.h"
#include "cat/terminal.h"
#include "log.h"

/* Events this terminal can report, each with the capability that enables it. */
static const struct {
	uint8_t event;
	enum cat_cap cap;
} event_caps[] = {
	{ CAT_EV_LOCATION_STATUS, CAP_EVENT_LOCATION_STATUS },
	{ CAT_EV_DATA_AVAILABLE, CAP_EVENT_DATA_AVAILABLE },
	{ CAT_EV_CHANNEL_STATUS, CAP_EVENT_CHANNEL_STATUS },
	{ CAT_EV_LOCAL_CONNECTION, CAP_EVENT_LOCAL_CONNECTION },
};

bool cat_terminal_event_supported(const struct cat_engine *e, uint8_t ev)
{
	for (size_t i = 0; i < sizeof(event_caps) / sizeof(event_caps[0]); i++)
		if (event_caps[i].event == ev)
			return cat_engine_caps(e) & CAP_BIT(event_caps[i].cap);
	return false;
}

static void more_time(void *arg, struct cat *c, const struct cat_cmd *cmd,
		      const uint8_t *raw, size_t len)
{
	cat_respond(c, CAT_RES_OK, NULL, 0, NULL, 0);
}

static void set_up_event_list(void *arg, struct cat *c,
			      const struct cat_cmd *cmd, const uint8_t *raw,
			      size_t len)
{
	for (unsigned i = 0; i < cmd->u.events.n; i++) {
		if (!cat_terminal_event_supported(cat_engine(c),
						  cmd->u.events.ev[i])) {
			/* clause 6.4.16: the list is not changed */
			log_notice(LOG_CAT, "%s: event %02X not supported, event list unchanged",
				   cat_name(c), cmd->u.events.ev[i]);
			cat_respond(c, CAT_RES_BEYOND_CAPABILITIES, NULL, 0,
				    NULL, 0);
			return;
		}
	}
	cat_set_events(c, cmd->u.events.ev, cmd->u.events.n);
	log_info(LOG_CAT, "%s: event list set, %u event%s", cat_name(c),
		 cmd->u.events.n, cmd->u.events.n == 1 ? "" : "s");
	cat_respond(c, CAT_RES_OK, NULL, 0, NULL, 0);
}

static uint8_t bcd_swapped(unsigned v)
{
	return (uint8_t)(((v % 10) << 4) | ((v / 10) % 10));
}

/*
 * Date, time and time zone (TS 102 223 clause 8.39): semi-octets as in
 * TS 23.040 TP-Service-Centre-Time-Stamp; the zone in quarters of an hour,
 * bit 4 of the first semi-octet set when negative.
 */
void cat_terminal_date_time(uint8_t out[7], time_t now)
{
	struct tm tm;
	long q;

	localtime_r(&now, &tm);
	out[0] = bcd_swapped((unsigned)tm.tm_year % 100);
	out[1] = bcd_swapped((unsigned)tm.tm_mon + 1);
	out[2] = bcd_swapped((unsigned)tm.tm_mday);
	out[3] = bcd_swapped((unsigned)tm.tm_hour);
	out[4] = bcd_swapped((unsigned)tm.tm_min);
	out[5] = bcd_swapped((unsigned)tm.tm_sec);
	q = tm.tm_gmtoff / 900;
	out[6] = bcd_swapped((unsigned)(q < 0 ? -q : q));
	if (q < 0)
		out[6] |= 0x08;
}

/*
 * IMEI (TS 102 223 clause 8.20): TS 24.008 mobile identity, type IMEI,
 * odd count, check digit sent as the spare digit 0.
 */
int cat_terminal_imei(uint8_t out[8], const char *imei)
{
	uint8_t d[16];

	if (strlen(imei) != 15 || strspn(imei, "0123456789") != 15)
		return -1;
	for (int i = 0; i < 15; i++)
		d[i] = (uint8_t)(imei[i] - '0');
	d[14] = 0;
	out[0] = (uint8_t)(d[0] << 4 | 0x08 | 0x02);
	for (int i = 1; i < 8; i++)
		out[i] = (uint8_t)(d[2 * i] << 4 | d[2 * i - 1]);
	return 0;
}

/* Access technology (TS 102 223 clause 8.62). */
static uint8_t access_tech(enum cat_rat rat)
{
	switch (rat) {
	case CAT_RAT_GSM:
		return 0x00;
	case CAT_RAT_UTRAN:
		return 0x03;
	case CAT_RAT_EUTRAN:
		return 0x08;
	}
	return 0x00;
}

static void provide_local_info(void *arg, struct cat *c,
			       const struct cat_cmd *cmd, const uint8_t *raw,
			       size_t len)
{
	const struct cat_terminal_info *info = cat_engine_info(cat_engine(c));
	uint8_t val[16], extra[32];
	struct tlv_buf b;
	int n;

	tlv_buf_init(&b, extra, sizeof(extra));
	switch (cmd->det.qualifier) {
	case 0x00:	/* location information */
	case 0x06:	/* access technology */
		if (info->loc_status != CAT_LOC_NORMAL) {
			/* clause 8.12.2: terminal currently unable, no service */
			cat_respond(c, CAT_RES_TERMINAL_UNABLE,
				    (const uint8_t[]){ CAT_UNABLE_NO_SERVICE },
				    1, NULL, 0);
			return;
		}
		if (cmd->det.qualifier == 0x06) {
			val[0] = access_tech(info->loc.rat);
			tlv_put_ctlv(&b, CAT_TAG_ACCESS_TECH, val, 1);
			break;
		}
		n = cat_location_encode(val, sizeof(val), &info->loc);
		if (n < 0) {
			cat_respond(c, CAT_RES_TERMINAL_UNABLE,
				    (const uint8_t[]){ CAT_UNABLE_NO_CAUSE },
				    1, NULL, 0);
			return;
		}
		tlv_put_ctlv(&b, CAT_TAG_LOCATION_INFO, val, (size_t)n);
		break;
	case 0x01:	/* IMEI */
		if (cat_terminal_imei(val, info->imei) < 0) {
			cat_respond(c, CAT_RES_TERMINAL_UNABLE,
				    (const uint8_t[]){ CAT_UNABLE_NO_CAUSE },
				    1, NULL, 0);
			return;
		}
		tlv_put_ctlv(&b, CAT_TAG_IMEI, val, 8);
		break;
	case 0x03:	/* date, time and time zone */
		cat_terminal_date_time(val, time(NULL));
		tlv_put_ctlv(&b, CAT_TAG_DATE_TIME_TZ, val, 7);
		break;
	default:
		log_notice(LOG_CAT, "%s: local information %02X not supported",
			   cat_name(c), cmd->det.qualifier);
		cat_respond(c, CAT_RES_BEYOND_CAPABILITIES, NULL, 0, NULL, 0);
		return;
	}
	cat_respond(c, CAT_RES_OK, NULL, 0, extra, b.len);
}

void cat_terminal_register(struct cat_engine *e)
{
	cat_engine_handle(e, CAT_MORE_TIME, more_time, NULL);
	cat_engine_handle(e, CAT_SET_UP_EVENT_LIST, set_up_event_list, NULL);
	cat_engine_handle(e, CAT_PROVIDE_LOCAL_INFO, provide_local_info, NULL);
	cat_engine_enable(e, CAP_BIT(CAP_MORE_TIME) |
			  CAP_BIT(CAP_SET_UP_EVENT_LIST) |
			  CAP_BIT(CAP_LOCAL_INFO_LOCATION) |
			  CAP_BIT(CAP_LOCAL_INFO_DATE_TIME) |
			  CAP_BIT(CAP_LOCAL_INFO_ACCESS_TECH));
}
