/* SPDX-License-Identifier: MIT */
/*
 * ENVELOPE contents (ETSI TS 102 223 clause 7, 3GPP TS 31.111 clause 7),
 * encoded into caller buffers.  Each returns the length or -ENOSPC/-EINVAL.
 */
#ifndef DMSCGW_CAT_ENVELOPE_H
#define DMSCGW_CAT_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* BER-TLV templates. */
#define CAT_BER_PROACTIVE	0xD0
#define CAT_BER_CALL_CONTROL	0xD4
#define CAT_BER_EVENT		0xD6
#define CAT_BER_TIMER		0xD7
#define CAT_BER_TERMINAL_APPS	0xDC

/* Location status (TS 102 223 clause 8.27). */
enum cat_loc_status {
	CAT_LOC_NORMAL = 0x00,
	CAT_LOC_LIMITED = 0x01,
	CAT_LOC_NO_SERVICE = 0x02,
};

/*
 * Location information (3GPP TS 31.111 clause 8.19): MCC/MNC as in TS 24.008
 * (3 bytes BCD), LAC or TAC, cell identity.  GERAN/UTRAN: 2-byte LAC, 16-bit
 * cell id (+ 16-bit extended RNC id for UTRAN), E-UTRAN: 2-byte TAC, 28-bit
 * cell id.
 */
enum cat_rat {
	CAT_RAT_GSM,
	CAT_RAT_UTRAN,
	CAT_RAT_EUTRAN,
};

struct cat_location {
	char mcc[4];		/* "001" */
	char mnc[4];		/* "01" or "001" */
	uint16_t lac;		/* LAC, or TAC for E-UTRAN */
	uint32_t cell;		/* cell id: 16 bits GSM, 28 bits UTRAN/E-UTRAN */
	enum cat_rat rat;
};

/*
 * Encoded value: MCC/MNC (3), LAC/TAC (2, big-endian), then the cell:
 * GERAN 2 bytes (7 in all); UTRAN cell = RNC-id << 16 | C-id, sent as C-id
 * then RNC-id, 2 bytes each, big-endian - the "cell identity" and
 * "extended cell identity" of 8.19 (9 in all); E-UTRAN the 28 bits
 * left-aligned in 4 bytes, last nibble F (9 in all).
 */
#define CAT_LOCATION_MAX	9

/*
 * Encode the value of a location information object (no tag/len).  Returns
 * the length, -ENOSPC, or -EINVAL for an MCC that is not 3 digits, an MNC
 * that is not 2 or 3 digits, or a cell too wide for the RAT.
 */
int cat_location_encode(uint8_t *out, size_t cap, const struct cat_location *l);

/*
 * Event download, location status: D6 {99 01 03, 82 02 82 81, 9B 01 status
 * [, 13 LL loc]}; loc is required for normal service and ignored otherwise.
 */
int cat_env_location_status(uint8_t *out, size_t cap, uint8_t status,
			    const struct cat_location *loc);

/*
 * Event download, data available (TS 102 223 7.5.10): D6 {99 01 09,
 * 82 02 82 81, B8 02 channel status, B7 01 channel data length}; the
 * length byte is FF for more than 255 bytes.
 */
int cat_env_data_available(uint8_t *out, size_t cap, const uint8_t status[2],
			   size_t avail);

/*
 * Event download, channel status (7.5.11):
 * D6 {99 01 0A, 82 02 82 81, B8 02 status}
 */
int cat_env_channel_status(uint8_t *out, size_t cap, const uint8_t status[2]);

/* Timer expiration: D7 {82 02 82 81, A4 01 id, A5 03 value} */
int cat_env_timer_expiration(uint8_t *out, size_t cap, uint8_t id,
			     uint32_t seconds);

/*
 * Call control (TS 31.111 clause 7.3.1.6): D4 {82 02 82 81, 86 address,
 * [07 capability configuration], 13 location information} - CR clear on
 * the last two, as in the TS 102 223 table and TS 31.124 27.22.6.
 * number is "+33123..." or "0123..." (digits, *, #); international when it
 * starts with '+'.  ccp is the value of the object (the bearer capability
 * from its length octet, TS 102 223 8.4); loc is required.
 */
int cat_env_call_control(uint8_t *out, size_t cap, const char *number,
			 const uint8_t *ccp, size_t ccp_len,
			 const struct cat_location *loc);

/* Card's answer to call control (TS 31.111 clause 7.3.1.6). */
enum cat_cc_verdict {
	CAT_CC_ALLOWED = 0x00,
	CAT_CC_NOT_ALLOWED = 0x01,
	CAT_CC_ALLOWED_MODIFIED = 0x02,
};

struct cat_cc_answer {
	uint8_t verdict;	/* enum cat_cc_verdict */
	char number[41];	/* modified address, when given */
};

/*
 * Decode the response data of a call control envelope.  An empty response
 * (90 00 without data) means allowed, no modification.  Returns 0, or
 * -EBADMSG when the answer is malformed: unknown result, length not
 * covering exactly the rest, bad objects or address (also an address too
 * long for number[]).  The first address object is the one used.
 */
int cat_cc_answer_decode(const uint8_t *p, size_t len, struct cat_cc_answer *a);

/*
 * Address (clause 8.1) <-> dialling string: '+' then digits, '*' and '#'
 * (BCD A and B, TS 31.102 4.4.2.3); TON/NPI 91 with '+', else 81.
 * Encode returns the value length (TON/NPI + BCD), -EINVAL for an empty
 * number, more than CAT_ADDRESS_MAX_DIGITS digits or another character,
 * -ENOSPC when it does not fit.  Decode returns the string length, -EBADMSG
 * for a malformed address (no digits, C/D/E nibbles, digits after the F
 * filler), -ENOSPC when the string and its NUL do not fit in cap.
 */
#define CAT_ADDRESS_MAX_DIGITS	40
#define CAT_ADDRESS_MAX		(1 + CAT_ADDRESS_MAX_DIGITS / 2)
int cat_address_encode(uint8_t *out, size_t cap, const char *number);
int cat_address_decode(const uint8_t *p, size_t len, char *out, size_t cap);

#endif
