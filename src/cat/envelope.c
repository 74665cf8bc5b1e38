/* SPDX-License-Identifier: MIT */
/*
 * ENVELOPE contents sent by the terminal (ETSI TS 102 223 clause 7,
 * 3GPP TS 31.111 clause 7) and the card's answer to call control.
 *
 * Comprehension-required flags follow the "Min" column of the envelope
 * tables: set on the objects a card must understand (event list, device
 * identities, location status, timer identifier and value, the address of
 * a call, channel status and data length), clear on the others (location
 * information, capability configuration parameters).  The TS 31.124
 * expected sequences agree on the objects that matter here: location
 * information is 13, not 93, in 27.22.7.4 (location status) and in 27.22.6
 * (call control, where the capability configuration parameters are 07).
 * Some printed sequences also clear CR on the event list and location
 * status; the table in TS 102 223 7.5.4.2 wins, as in PROTOCOL.md.
 */
#include <errno.h>
#include <string.h>

#include "card/tlv.h"
#include "cat/envelope.h"
#include "cat/proactive.h"

#define CR	0x80

/* Device identities terminal -> UICC, in every envelope here (8.7). */
static const uint8_t dev_terminal_uicc[2] = { CAT_DEV_TERMINAL, CAT_DEV_UICC };

static int
digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : -1;
}

/*
 * Up to three decimal digits, NUL-terminated within the max bytes of the
 * array; returns the count, or -1.
 */
static int
mcc_mnc_digits(const char *s, size_t max, uint8_t d[3])
{
	size_t i;

	for (i = 0; i < max && s[i] != '\0'; i++) {
		if (i >= 3 || digit(s[i]) < 0)
			return -1;
		d[i] = (uint8_t)digit(s[i]);
	}
	if (i == max)
		return -1;	/* no NUL */
	return (int)i;
}

/*
 * Value of a location information object, TS 31.111 clause 8.19:
 *
 *   MCC/MNC   3 bytes as in TS 24.008 10.5.1.3: MCC2|MCC1, MNC3|MCC3
 *             (MNC3 = F for a two-digit MNC), MNC2|MNC1;
 *   LAC/TAC   2 bytes, big-endian;
 *   cell      GERAN: cell identity, 2 bytes (7 bytes in all);
 *             UTRAN: cell identity (the low 16 bits of the 28-bit UTRAN
 *             cell id, C-id), then the extended cell identity (the RNC-id,
 *             the 12 bits above), 2 bytes each - so l->cell holds the
 *             28-bit "RNC-id << 16 | C-id" value (9 bytes in all);
 *             E-UTRAN: the 28-bit E-UTRAN cell identity in 4 bytes,
 *             left-aligned, the last nibble F (9 bytes in all).
 */
int
cat_location_encode(uint8_t *out, size_t cap, const struct cat_location *l)
{
	uint8_t mcc[3], mnc[3], v[CAT_LOCATION_MAX];
	int nmcc, nmnc;
	size_t n;

	nmcc = mcc_mnc_digits(l->mcc, sizeof(l->mcc), mcc);
	nmnc = mcc_mnc_digits(l->mnc, sizeof(l->mnc), mnc);
	if (nmcc != 3 || (nmnc != 2 && nmnc != 3))
		return -EINVAL;
	v[0] = (uint8_t)(mcc[1] << 4 | mcc[0]);
	v[1] = (uint8_t)((nmnc == 3 ? mnc[2] : 0x0F) << 4 | mcc[2]);
	v[2] = (uint8_t)(mnc[1] << 4 | mnc[0]);
	v[3] = (uint8_t)(l->lac >> 8);
	v[4] = (uint8_t)l->lac;
	switch (l->rat) {
	case CAT_RAT_GSM:
		if (l->cell > 0xFFFF)
			return -EINVAL;
		v[5] = (uint8_t)(l->cell >> 8);
		v[6] = (uint8_t)l->cell;
		n = 7;
		break;
	case CAT_RAT_UTRAN:
		if (l->cell > 0x0FFFFFFF)
			return -EINVAL;
		v[5] = (uint8_t)(l->cell >> 8);
		v[6] = (uint8_t)l->cell;
		v[7] = (uint8_t)(l->cell >> 24);
		v[8] = (uint8_t)(l->cell >> 16);
		n = 9;
		break;
	case CAT_RAT_EUTRAN:
		if (l->cell > 0x0FFFFFFF)
			return -EINVAL;
		v[5] = (uint8_t)(l->cell >> 20);
		v[6] = (uint8_t)(l->cell >> 12);
		v[7] = (uint8_t)(l->cell >> 4);
		v[8] = (uint8_t)(l->cell << 4 | 0x0F);
		n = 9;
		break;
	default:
		return -EINVAL;
	}
	if (n > cap)
		return -ENOSPC;
	memcpy(out, v, n);
	return (int)n;
}

static int
finish(const struct tlv_buf *b)
{
	return tlv_buf_ok(b) ? (int)b->len : -ENOSPC;
}

/*
 * Event download, location status (TS 102 223 7.5.4.2; location
 * information as TS 31.111 8.19):
 * D6 { 99 01 03, 82 02 82 81, 9B 01 status [, 13 LL location] }.  The
 * location information is there if and only if the status is normal
 * service, so it is then required (-EINVAL without it) and otherwise left
 * out even when given.
 */
int
cat_env_location_status(uint8_t *out, size_t cap, uint8_t status,
			const struct cat_location *loc)
{
	const uint8_t ev = CAT_EV_LOCATION_STATUS;
	uint8_t li[CAT_LOCATION_MAX];
	struct tlv_buf b;
	size_t mark;
	int n = 0;

	if (status > CAT_LOC_NO_SERVICE)
		return -EINVAL;
	if (status == CAT_LOC_NORMAL) {
		if (loc == NULL)
			return -EINVAL;
		n = cat_location_encode(li, sizeof(li), loc);
		if (n < 0)
			return n;
	}
	tlv_buf_init(&b, out, cap);
	mark = tlv_begin(&b, CAT_BER_EVENT);
	tlv_put_ctlv(&b, CR | CAT_TAG_EVENT_LIST, &ev, 1);
	tlv_put_ctlv(&b, CR | CAT_TAG_DEVICE_IDS, dev_terminal_uicc, 2);
	tlv_put_ctlv(&b, CR | CAT_TAG_LOCATION_STATUS, &status, 1);
	if (n > 0)
		tlv_put_ctlv(&b, CAT_TAG_LOCATION_INFO, li, (size_t)n);
	tlv_end(&b, mark);
	return finish(&b);
}

/* TS 102 223 7.5.10.2: the channel data length says FF for "more than 255". */
int
cat_env_data_available(uint8_t *out, size_t cap, const uint8_t status[2],
		       size_t avail)
{
	const uint8_t ev = CAT_EV_DATA_AVAILABLE;
	const uint8_t dl = avail > 0xFF ? 0xFF : (uint8_t)avail;
	struct tlv_buf b;
	size_t mark;

	tlv_buf_init(&b, out, cap);
	mark = tlv_begin(&b, CAT_BER_EVENT);
	tlv_put_ctlv(&b, CR | CAT_TAG_EVENT_LIST, &ev, 1);
	tlv_put_ctlv(&b, CR | CAT_TAG_DEVICE_IDS, dev_terminal_uicc, 2);
	tlv_put_ctlv(&b, CR | CAT_TAG_CHANNEL_STATUS, status, 2);
	tlv_put_ctlv(&b, CR | CAT_TAG_CHANNEL_DATA_LEN, &dl, 1);
	tlv_end(&b, mark);
	return finish(&b);
}

/* TS 102 223 7.5.11.2 */
int
cat_env_channel_status(uint8_t *out, size_t cap, const uint8_t status[2])
{
	const uint8_t ev = CAT_EV_CHANNEL_STATUS;
	struct tlv_buf b;
	size_t mark;

	tlv_buf_init(&b, out, cap);
	mark = tlv_begin(&b, CAT_BER_EVENT);
	tlv_put_ctlv(&b, CR | CAT_TAG_EVENT_LIST, &ev, 1);
	tlv_put_ctlv(&b, CR | CAT_TAG_DEVICE_IDS, dev_terminal_uicc, 2);
	tlv_put_ctlv(&b, CR | CAT_TAG_CHANNEL_STATUS, status, 2);
	tlv_end(&b, mark);
	return finish(&b);
}

/*
 * Timer expiration, TS 102 223 7.4.2 (TS 31.111 7.4):
 * D7 { 82 02 82 81, A4 01 id, A5 03 value }.
 */
int
cat_env_timer_expiration(uint8_t *out, size_t cap, uint8_t id,
			 uint32_t seconds)
{
	struct tlv_buf b;
	uint8_t tv[3];
	size_t mark;

	if (id < 1 || id > CAT_MAX_TIMERS || seconds > CAT_TIMER_VALUE_MAX)
		return -EINVAL;
	cat_timer_value_encode(tv, seconds);
	tlv_buf_init(&b, out, cap);
	mark = tlv_begin(&b, CAT_BER_TIMER);
	tlv_put_ctlv(&b, CR | CAT_TAG_DEVICE_IDS, dev_terminal_uicc, 2);
	tlv_put_ctlv(&b, CR | CAT_TAG_TIMER_ID, &id, 1);
	tlv_put_ctlv(&b, CR | CAT_TAG_TIMER_VALUE, tv, sizeof(tv));
	tlv_end(&b, mark);
	return finish(&b);
}

/*
 * Call control for a call set-up, TS 102 223 7.3.1.6 with TS 31.111
 * 7.3.1.6: D4 { 82 02 82 81, 86 address, [07 capability configuration
 * parameters 1], 13 location information }.  Subaddress, the second
 * capability configuration parameters and the BC repeat indicator are
 * never sent.  TS 31.111 makes the location information mandatory for the
 * 3GPP terminal, so loc is required.
 */
int
cat_env_call_control(uint8_t *out, size_t cap, const char *number,
		     const uint8_t *ccp, size_t ccp_len,
		     const struct cat_location *loc)
{
	uint8_t addr[CAT_ADDRESS_MAX], li[CAT_LOCATION_MAX];
	struct tlv_buf b;
	size_t mark;
	int na, nl;

	if (number == NULL || loc == NULL || (ccp == NULL && ccp_len > 0))
		return -EINVAL;
	na = cat_address_encode(addr, sizeof(addr), number);
	if (na < 0)
		return na;
	nl = cat_location_encode(li, sizeof(li), loc);
	if (nl < 0)
		return nl;
	tlv_buf_init(&b, out, cap);
	mark = tlv_begin(&b, CAT_BER_CALL_CONTROL);
	tlv_put_ctlv(&b, CR | CAT_TAG_DEVICE_IDS, dev_terminal_uicc, 2);
	tlv_put_ctlv(&b, CR | CAT_TAG_ADDRESS, addr, (size_t)na);
	if (ccp_len > 0)
		tlv_put_ctlv(&b, CAT_TAG_CAPABILITY_CONFIG, ccp, ccp_len);
	tlv_put_ctlv(&b, CAT_TAG_LOCATION_INFO, li, (size_t)nl);
	tlv_end(&b, mark);
	return finish(&b);
}

/*
 * Response data of the call control envelope, TS 102 223 7.3.1.6 /
 * TS 31.111 7.3.1.6: call control result (00 allowed, 01 not allowed,
 * 02 allowed with modifications), a length in BER-TLV coding, then
 * C-TLVs (the modified address, alpha identifier, ...).  The length must
 * cover exactly the bytes that follow, as in any R-APDU.  Only the
 * address is extracted; the other objects are checked for form only.
 */
int
cat_cc_answer_decode(const uint8_t *p, size_t len, struct cat_cc_answer *a)
{
	struct tlv_iter it;
	struct tlv t;
	size_t olen;
	int n, r;
	bool have_addr = false;

	memset(a, 0, sizeof(*a));
	if (len == 0)
		return 0;	/* 90 00 without data: allowed, unchanged */
	if (p[0] > CAT_CC_ALLOWED_MODIFIED)
		return -EBADMSG;
	a->verdict = p[0];
	n = tlv_len_decode(p + 1, len - 1, &olen);
	if (n < 0 || olen != len - 1 - (size_t)n)
		return -EBADMSG;
	tlv_iter_init(&it, p + 1 + n, olen);
	while ((r = tlv_ctlv_next(&it, &t)) == 1) {
		if (t.tag != CAT_TAG_ADDRESS || have_addr)
			continue;
		have_addr = true;
		if (cat_address_decode(t.val, t.len, a->number,
				       sizeof(a->number)) < 0)
			return -EBADMSG;
	}
	if (r < 0)
		return -EBADMSG;
	return 0;
}

/* Address (TS 102 223 8.1): TON/NPI (TS 24.008 10.5.4.7), BCD digits. */
#define TON_NPI_INTERNATIONAL	0x91	/* ext, international, ISDN */
#define TON_NPI_UNKNOWN		0x81	/* ext, unknown, ISDN */

/* Dialling digit -> BCD nibble (TS 31.102 4.4.2.3): '*' A, '#' B. */
static int
dial_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c == '*')
		return 0x0A;
	if (c == '#')
		return 0x0B;
	return -1;
}

int
cat_address_encode(uint8_t *out, size_t cap, const char *number)
{
	const char *s = number;
	size_t nd, i, need;
	uint8_t ton_npi = TON_NPI_UNKNOWN;
	int v;

	if (s == NULL)
		return -EINVAL;
	if (*s == '+') {
		ton_npi = TON_NPI_INTERNATIONAL;
		s++;
	}
	nd = strlen(s);
	if (nd == 0 || nd > CAT_ADDRESS_MAX_DIGITS)
		return -EINVAL;
	for (i = 0; i < nd; i++)
		if (dial_nibble(s[i]) < 0)
			return -EINVAL;
	need = 1 + (nd + 1) / 2;
	if (need > cap)
		return -ENOSPC;
	out[0] = ton_npi;
	for (i = 0; i < nd; i++) {
		v = dial_nibble(s[i]);
		if (i % 2 == 0)
			out[1 + i / 2] = (uint8_t)(0xF0 | v);
		else
			out[1 + i / 2] = (uint8_t)((out[1 + i / 2] & 0x0F) |
						   v << 4);
	}
	return (int)need;
}

/*
 * The number ends at the first F nibble, after which only F may follow.
 * C (DTMF separator), D (wild) and E (expansion) have no place in a
 * number to dial and make the address malformed.
 */
int
cat_address_decode(const uint8_t *p, size_t len, char *out, size_t cap)
{
	static const char digits[] = "0123456789*#";
	size_t i, o = 0;
	bool end = false;
	uint8_t nib;

	if (len < 2 || cap == 0)
		return len < 2 ? -EBADMSG : -ENOSPC;
	/* TS 24.008 10.5.4.7: type of number in bits 7-5; 001 international */
	if ((p[0] & 0x70) == 0x10)
		out[o++] = '+';
	for (i = 0; i < 2 * (len - 1); i++) {
		nib = i % 2 == 0 ? p[1 + i / 2] & 0x0F : p[1 + i / 2] >> 4;
		if (nib == 0x0F) {
			end = true;
			continue;
		}
		if (end || nib > 0x0B)
			return -EBADMSG;
		if (o + 1 >= cap)
			return -ENOSPC;
		out[o++] = digits[nib];
	}
	if (o == 0 || (o == 1 && out[0] == '+'))
		return -EBADMSG;	/* no digits */
	if (o >= cap)
		return -ENOSPC;
	out[o] = '\0';
	return (int)o;
}
