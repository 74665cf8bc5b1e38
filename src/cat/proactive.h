/* SPDX-License-Identifier: MIT */
/*
 * Proactive commands (ETSI TS 102 223 clause 6, 3GPP TS 31.111) decoded into
 * structs, and TERMINAL RESPONSE encoding.  Pure functions: no I/O, no state.
 */
#ifndef DMSCGW_CAT_PROACTIVE_H
#define DMSCGW_CAT_PROACTIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Type of command (TS 102 223 clause 9.4). */
enum cat_cmd_type {
	CAT_MORE_TIME = 0x02,
	CAT_POLL_INTERVAL = 0x03,
	CAT_POLLING_OFF = 0x04,
	CAT_SET_UP_EVENT_LIST = 0x05,
	CAT_SEND_SHORT_MESSAGE = 0x13,
	CAT_PROVIDE_LOCAL_INFO = 0x26,
	CAT_TIMER_MANAGEMENT = 0x27,
	CAT_OPEN_CHANNEL = 0x40,
	CAT_CLOSE_CHANNEL = 0x41,
	CAT_RECEIVE_DATA = 0x42,
	CAT_SEND_DATA = 0x43,
	CAT_GET_CHANNEL_STATUS = 0x44,
};

/* General result (TS 102 223 clause 8.12). */
enum cat_result {
	CAT_RES_OK = 0x00,
	CAT_RES_MODIFIED = 0x07,
	CAT_RES_TERMINAL_UNABLE = 0x20,
	CAT_RES_NETWORK_UNABLE = 0x21,
	CAT_RES_USER_REJECTED = 0x22,
	CAT_RES_TIMER_CONTRADICTION = 0x24,
	CAT_RES_BEYOND_CAPABILITIES = 0x30,
	CAT_RES_TYPE_NOT_UNDERSTOOD = 0x31,
	CAT_RES_DATA_NOT_UNDERSTOOD = 0x32,
	CAT_RES_SMS_RP_ERROR = 0x35,
	CAT_RES_VALUES_MISSING = 0x36,
	CAT_RES_BIP_ERROR = 0x3A,
};

/* Additional information for result 20 (TS 102 223 clause 8.12.2). */
enum cat_unable_cause {
	CAT_UNABLE_NO_CAUSE = 0x00,
	CAT_UNABLE_SCREEN_BUSY = 0x01,
	CAT_UNABLE_BUSY_ON_CALL = 0x02,
	CAT_UNABLE_NO_SERVICE = 0x04,
};

/* Device identities (clause 8.7). */
#define CAT_DEV_UICC		0x81
#define CAT_DEV_TERMINAL	0x82
#define CAT_DEV_NETWORK		0x83

/* COMPREHENSION-TLV tags, without the CR bit (clause 9.3). */
enum cat_tag {
	CAT_TAG_COMMAND_DETAILS = 0x01,
	CAT_TAG_DEVICE_IDS = 0x02,
	CAT_TAG_RESULT = 0x03,
	CAT_TAG_DURATION = 0x04,
	CAT_TAG_ALPHA_ID = 0x05,
	CAT_TAG_ADDRESS = 0x06,
	CAT_TAG_CAPABILITY_CONFIG = 0x07,
	CAT_TAG_SMS_TPDU = 0x0B,
	CAT_TAG_TEXT_STRING = 0x0D,
	CAT_TAG_LOCATION_INFO = 0x13,
	CAT_TAG_IMEI = 0x14,
	CAT_TAG_EVENT_LIST = 0x19,
	CAT_TAG_LOCATION_STATUS = 0x1B,
	CAT_TAG_TIMER_ID = 0x24,
	CAT_TAG_TIMER_VALUE = 0x25,
	CAT_TAG_DATE_TIME_TZ = 0x26,
	CAT_TAG_ACCESS_TECH = 0x3F,
	/*
	 * Added with the decoder: objects that SEND SHORT MESSAGE and the
	 * BIP commands may carry (clause 9.3), so that a comprehension-
	 * required one is not mistaken for an unknown object.
	 */
	CAT_TAG_SUBADDRESS = 0x08,
	CAT_TAG_ICON_ID = 0x1E,
	CAT_TAG_BEARER_DESC = 0x35,
	CAT_TAG_CHANNEL_DATA = 0x36,
	CAT_TAG_CHANNEL_DATA_LEN = 0x37,
	CAT_TAG_CHANNEL_STATUS = 0x38,
	CAT_TAG_BUFFER_SIZE = 0x39,
	CAT_TAG_TRANSPORT_LEVEL = 0x3C,
	CAT_TAG_OTHER_ADDRESS = 0x3E,
	CAT_TAG_NETWORK_ACCESS_NAME = 0x47,
	CAT_TAG_CDMA_SMS_TPDU = 0x48,
	CAT_TAG_REMOTE_ENTITY_ADDRESS = 0x49,
	CAT_TAG_TEXT_ATTRIBUTE = 0x50,
	CAT_TAG_FRAME_ID = 0x68,
};

/* Events (clause 8.25) this terminal can report. */
enum cat_event {
	CAT_EV_LOCATION_STATUS = 0x03,
	CAT_EV_DATA_AVAILABLE = 0x09,
	CAT_EV_CHANNEL_STATUS = 0x0A,
	CAT_EV_LOCAL_CONNECTION = 0x0D,
};

#define CAT_MAX_EVENTS	32
#define CAT_MAX_TIMERS	8

struct cat_cmd_details {
	uint8_t number;
	uint8_t type;
	uint8_t qualifier;
};

/* Duration (clause 8.8): unit 00 minutes, 01 seconds, 02 tenths of seconds. */
struct cat_duration {
	uint8_t unit;
	uint8_t interval;	/* 01..FF; 00 is reserved */
};

struct cat_cmd {
	struct cat_cmd_details det;
	uint8_t src, dst;		/* device identities */
	union {
		/* POLL INTERVAL */
		struct cat_duration poll;
		/* SET UP EVENT LIST; n = 0 removes the list */
		struct {
			uint8_t n;
			uint8_t ev[CAT_MAX_EVENTS];
		} events;
		/* TIMER MANAGEMENT: qualifier 00 start (value set), 01 stop, 02 get */
		struct {
			uint8_t id;		/* 1..8 */
			uint32_t seconds;	/* start only */
		} timer;
	} u;
};

/*
 * Decode one proactive command (the whole BER-TLV "D0 LL ...").
 *
 * Returns 0 with *cmd filled; a positive enum cat_result the terminal must
 * answer with (31 unknown type, 32 malformed or unknown comprehension-
 * required object, 36 mandatory object missing, 30 qualifier or value not
 * supported) - *cmd->det is valid whenever command details could be read;
 * or -EBADMSG when not even the command details can be read, so no terminal
 * response can be addressed (TS 102 223 clause 6.10).  Command details
 * must be the first object; bytes after the D0 object are ignored (padding);
 * of a duplicated object the first is used.
 */
int cat_cmd_decode(const uint8_t *p, size_t len, struct cat_cmd *cmd);

/* Duration in milliseconds; 0 for a reserved encoding. */
uint32_t cat_duration_ms(const struct cat_duration *d);
/* Smallest encoding that is at least ms (seconds unit when it fits). */
void cat_duration_from_ms(struct cat_duration *d, uint32_t ms);

/* Timer value (clause 8.38): three BCD bytes HH MM SS, nibbles swapped. */
/* 99:59:59 */
#define CAT_TIMER_VALUE_MAX	(99u * 3600 + 59 * 60 + 59)
/* 0, or -EINVAL for a nibble above 9 or minutes/seconds above 59. */
int cat_timer_value_decode(const uint8_t v[3], uint32_t *seconds);
/* Values above CAT_TIMER_VALUE_MAX are encoded as 99:59:59. */
void cat_timer_value_encode(uint8_t v[3], uint32_t seconds);

/*
 * TERMINAL RESPONSE: command details (echoed), device identities terminal
 * -> UICC, result (general result + additional information), then `extra`,
 * already-encoded C-TLVs the command returns.  Returns the length or
 * -ENOSPC.
 */
int cat_tr_build(uint8_t *out, size_t cap, const struct cat_cmd_details *det,
		 uint8_t result, const uint8_t *addl, size_t addl_len,
		 const uint8_t *extra, size_t extra_len);

const char *cat_cmd_name(uint8_t type);
const char *cat_result_name(uint8_t result);

#endif
