/* SPDX-License-Identifier: MIT */
/*
 * Command and response APDUs (ISO/IEC 7816-4, ETSI TS 102 221 clause 10) and
 * the transport-level exchange rules for T=0: '61 XX' is answered with GET
 * RESPONSE, '6C XX' with the same command and Le = XX.  '91 XX' and '93 00'
 * are not handled here: they are reported to the layer above.
 */
#ifndef DMSCGW_APDU_H
#define DMSCGW_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APDU_MAX_CMD	(5 + 255 + 1)
#define APDU_MAX_RESP	(256 + 2)
/* Data gathered across 61xx chains: a few GET RESPONSEs at most. */
#define APDU_MAX_DATA	4096

/* Status words (TS 102 221 clause 10.2.1). */
#define SW_OK		0x9000
#define SW_TK_BUSY	0x9300

#define SW1(sw)		((uint8_t)((sw) >> 8))
#define SW2(sw)		((uint8_t)((sw) & 0xFF))

/* UICC class byte for toolkit and STATUS commands. */
#define APDU_CLA_UICC	0x80

/* Instruction bytes. */
#define INS_SELECT		0xA4
#define INS_STATUS		0xF2
#define INS_TERMINAL_PROFILE	0x10
#define INS_FETCH		0x12
#define INS_TERMINAL_RESPONSE	0x14
#define INS_ENVELOPE		0xC2
#define INS_GET_RESPONSE	0xC0

/*
 * Build a command APDU into out (at least APDU_MAX_CMD bytes).
 * lc = 0 means no data field; le < 0 means no Le, le 0..256 is encoded
 * short (256 as 00).  Returns the length, or -EINVAL for lc > 255 / le > 256.
 */
int apdu_build(uint8_t *out, size_t cap, uint8_t cla, uint8_t ins, uint8_t p1,
	       uint8_t p2, const uint8_t *data, size_t lc, int le);

/* Status word of a response; -EBADMSG if shorter than 2 bytes. */
int apdu_sw(const uint8_t *resp, size_t len);

/* Human text for a status word, for logs ("normal ending", "toolkit busy"...). */
const char *apdu_sw_str(uint16_t sw);

/* True for '91 XX': proactive command of XX bytes pending. */
static inline bool apdu_sw_proactive(uint16_t sw) { return SW1(sw) == 0x91; }

/*
 * One low-level transmit: send cmd, receive up to *rlen bytes into resp.
 * Returns 0 or a negative errno; *rlen is the received length.
 */
typedef int (*apdu_transmit_fn)(void *ctx, const uint8_t *cmd, size_t clen,
				uint8_t *resp, size_t *rlen);

struct apdu_result {
	uint16_t sw;
	size_t len;			/* response data, without SW */
	uint8_t data[APDU_MAX_DATA];
	unsigned exchanges;		/* low-level transmits used */
};

/*
 * Exchange one command with the T=0 rules applied: follows 61xx with GET
 * RESPONSE (data accumulated), resends on 6Cxx with the corrected Le.  At most
 * 16 low-level exchanges.  Returns 0 with *res filled, -EPROTO on a runaway
 * or malformed chain, or the transmit function's error.
 */
int apdu_exchange(apdu_transmit_fn tx, void *ctx, const uint8_t *cmd,
		  size_t clen, struct apdu_result *res);

#endif
