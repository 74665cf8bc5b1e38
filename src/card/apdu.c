/* SPDX-License-Identifier: MIT */
/*
 * Command APDU coding (ISO/IEC 7816-4 5.1, short length fields only) and the
 * T=0 rules for the procedure bytes 61xx / 6Cxx (ISO/IEC 7816-3, T=0; ETSI
 * TS 102 221 clause 7.3).  TS 102 221 says they must never reach the
 * application layer, but a PC/SC reader driving a T=0 card hands them over
 * unchanged, so this module is the terminal's transport layer for them.
 */
#include <errno.h>
#include <string.h>

#include "card/apdu.h"

/* Enough for a long 61xx chain, few enough to stop a card that loops. */
#define APDU_MAX_EXCHANGES	16

int
apdu_build(uint8_t *out, size_t cap, uint8_t cla, uint8_t ins, uint8_t p1,
	   uint8_t p2, const uint8_t *data, size_t lc, int le)
{
	size_t n;

	/* Short APDUs only: Nc 1..255 and Ne 1..256 (7816-4 5.1). */
	if (out == NULL || lc > 255 || le > 256 || (lc > 0 && data == NULL))
		return -EINVAL;
	n = 4 + (lc > 0 ? 1 + lc : 0) + (le >= 0 ? 1 : 0);
	if (n > cap)
		return -ENOSPC;
	out[0] = cla;
	out[1] = ins;
	out[2] = p1;
	out[3] = p2;
	n = 4;
	if (lc > 0) {
		out[n++] = (uint8_t)lc;
		memcpy(out + n, data, lc);
		n += lc;
	}
	if (le >= 0)
		out[n++] = (uint8_t)le;	/* 256 is coded 00 */
	return (int)n;
}

int
apdu_sw(const uint8_t *resp, size_t len)
{
	if (resp == NULL || len < 2)
		return -EBADMSG;
	return resp[len - 2] << 8 | resp[len - 1];
}

const char *
apdu_sw_str(uint16_t sw)
{
	/* TS 102 221 10.2.1 and ISO/IEC 7816-4 5.1.3, in their words. */
	switch (sw) {
	case 0x9000: return "normal ending";
	case 0x9300: return "toolkit busy";
	case 0x6700: return "wrong length";
	case 0x6982: return "security status not satisfied";
	case 0x6985: return "conditions of use not satisfied";
	case 0x6A82: return "file or application not found";
	case 0x6A86: return "incorrect parameters P1 to P2";
	case 0x6B00: return "wrong parameter(s) P1-P2";
	case 0x6D00: return "instruction code not supported or invalid";
	case 0x6E00: return "class not supported";
	case 0x6F00: return "technical problem, no precise diagnosis";
	}
	switch (SW1(sw)) {
	case 0x91: return "normal ending, proactive command pending";
	case 0x61: return "response bytes still available";
	case 0x6C: return "wrong length Le";
	case 0x62: return "warning, state unchanged";
	case 0x63: return "warning, state changed";
	}
	return "unknown status";
}

/*
 * Where the Le byte of a short command APDU is (7816-4 5.1, cases 1-4):
 * 1 and sets *le_at when the command has one, 0 when it has none, -EINVAL
 * when clen matches no case.  An Lc of 00 would mean an extended APDU, which
 * T=0 cannot carry.
 */
static int
apdu_le_pos(const uint8_t *cmd, size_t clen, size_t *le_at)
{
	size_t lc;

	if (clen < 4 || clen > APDU_MAX_CMD)
		return -EINVAL;
	if (clen == 4)
		return 0;			/* case 1 */
	if (clen == 5) {
		*le_at = 4;			/* case 2 */
		return 1;
	}
	lc = cmd[4];
	if (lc == 0)
		return -EINVAL;
	if (clen == 5 + lc)
		return 0;			/* case 3 */
	if (clen == 6 + lc) {
		*le_at = 5 + lc;		/* case 4 */
		return 1;
	}
	return -EINVAL;
}

/*
 * GET RESPONSE goes to the logical channel of the command it completes, or
 * the response is lost (TS 102 221 12.1.1, CLA coded as in 10.1.1): keep the
 * channel number, drop the proprietary-class bit (80 -> 00).
 */
static uint8_t
apdu_get_response_cla(uint8_t cla)
{
	if (cla & 0x40)
		return (uint8_t)(0x40 | (cla & 0x0F));	/* channels 4-19 */
	return cla & 0x03;				/* channels 0-3 */
}

static int
apdu_append(struct apdu_result *res, const uint8_t *p, size_t len)
{
	if (len > APDU_MAX_DATA - res->len)
		return -EPROTO;
	memcpy(res->data + res->len, p, len);
	res->len += len;
	return 0;
}

int
apdu_exchange(apdu_transmit_fn tx, void *ctx, const uint8_t *cmd,
	      size_t clen, struct apdu_result *res)
{
	uint8_t cur[APDU_MAX_CMD], resp[APDU_MAX_RESP];
	size_t curlen, rlen, le_at = 0;
	int r, has_le;
	uint8_t sw1, sw2;

	res->sw = 0;
	res->len = 0;
	res->exchanges = 0;
	if (tx == NULL || cmd == NULL)
		return -EINVAL;
	has_le = apdu_le_pos(cmd, clen, &le_at);
	if (has_le < 0)
		return has_le;
	memcpy(cur, cmd, clen);
	curlen = clen;

	for (;;) {
		if (res->exchanges == APDU_MAX_EXCHANGES)
			return -EPROTO;
		rlen = sizeof(resp);
		res->exchanges++;
		r = tx(ctx, cur, curlen, resp, &rlen);
		if (r < 0)
			return r;
		if (rlen < 2 || rlen > sizeof(resp))
			return -EPROTO;
		sw1 = resp[rlen - 2];
		sw2 = resp[rlen - 1];

		if (sw1 == 0x6C) {
			/*
			 * TS 102 221 7.3: re-issue the same command with
			 * Le = SW2.  Whatever data came with it belongs to
			 * the rejected attempt and is dropped.  A card that
			 * says 6C XX to a command already carrying Le = XX
			 * would loop forever: that chain is malformed.
			 */
			if (has_le && cur[le_at] == sw2)
				return -EPROTO;
			if (!has_le) {
				if (curlen >= sizeof(cur))
					return -EPROTO;
				le_at = curlen++;
				has_le = 1;
			}
			cur[le_at] = sw2;
			continue;
		}

		r = apdu_append(res, resp, rlen - 2);
		if (r < 0)
			return r;

		if (sw1 == 0x61) {
			/*
			 * TS 102 221 7.3 and 12.1.1: fetch the rest with GET
			 * RESPONSE, Le = SW2 (00 = 256), before anything else.
			 */
			cur[0] = apdu_get_response_cla(cmd[0]);
			cur[1] = INS_GET_RESPONSE;
			cur[2] = 0x00;
			cur[3] = 0x00;
			cur[4] = sw2;
			curlen = 5;
			le_at = 4;
			has_le = 1;
			continue;
		}

		/* 9000, 91xx, 9300, errors: the layer above decides. */
		res->sw = (uint16_t)(sw1 << 8 | sw2);
		return 0;
	}
}
