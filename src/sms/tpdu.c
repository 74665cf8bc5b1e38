/* SPDX-License-Identifier: MIT */
/*
 * SMS-SUBMIT (3GPP TS 23.040 9.2.2.2), addresses (23.040 9.1.2.5, ETSI TS
 * 102 223 8.1) and the GSM 7-bit default alphabet (3GPP TS 23.038 6.1.2.1,
 * 6.2.1) for SEND SHORT MESSAGE.
 *
 * The SMS-SUBMIT layout, octet by octet:
 *
 *     first      TP-RP TP-UDHI TP-SRR TP-VPF(2) TP-RD TP-MTI(2)  (bit 7..0)
 *     TP-MR
 *     TP-DA      length in digits, type of address, ceil(length/2) octets
 *     TP-PID
 *     TP-DCS
 *     TP-VP      0, 1 or 7 octets as TP-VPF says
 *     TP-UDL     septets (default alphabet) or octets
 *     TP-UD      [UDHL UDH [fill bits]] text
 *
 * The decoder is strict about structure (every length must match the bytes
 * there are, nothing may follow the user data, the odd-length address ends in
 * an F filler) because the card built this TPDU for the network: a length
 * that does not add up means we would send something the card did not ask
 * for.  It is lenient about bits nobody reads: the fill bits of the 7-bit
 * user data and the padding of an alphanumeric address.  The encoder always
 * writes those as zeros, so encode(decode(x)) is x for TPDUs that already
 * had them zero.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "sms/tpdu.h"

/* 23.040 9.2.3.1-9.2.3.3, 9.2.3.23: the first octet. */
#define TP_MTI_MASK		0x03
#define TP_MTI_SUBMIT		0x01
#define TP_VPF_MASK		0x18
#define TP_VPF_NONE		0x00
#define TP_VPF_ENHANCED		0x08
#define TP_VPF_RELATIVE		0x10
#define TP_VPF_ABSOLUTE		0x18
#define TP_UDHI			0x40

#define TP_VP_LONG		7	/* enhanced and absolute: 7 octets */

/* 23.040 9.1.2.5: type of address, bits 6-4. */
#define TOA_TON(toa)		(((toa) >> 4) & 0x07)
#define TON_INTERNATIONAL	1
#define TON_ALPHANUMERIC	5

/* 23.040 9.1.2.5: at most 12 octets with the length and the TOA. */
#define TP_ADDR_OCTETS_MAX	(SMS_ADDR_MAX / 2)
#define TP_ADDR_HDR		2
/* 10 octets of 7-bit characters */
#define ALNUM_SEPTETS_MAX	(TP_ADDR_OCTETS_MAX * 8 / 7)

#define BCD_END			0x0F

/* 23.040 9.2.3.16: 140 octets of user data, 160 septets. */
#define UD_OCTETS_MAX		140
#define UD_SEPTETS_MAX		160

/* 23.038 4: the data coding scheme. */
/* 8-bit in 00xx (bits 3-2 01) and in 1111 */
#define DCS_8BIT_BIT		0x04
#define DCS_COMPRESSED		0x20

#define GSM7_ESC		0x1B
#define GSM7_MAX_FILL		6

/*
 * 23.038 6.2.1, the default alphabet, as Unicode code points.  0x1B is the
 * escape to the extension table and never looked up here (0 marks it: no
 * character of the table is U+0000).
 */
static const uint16_t gsm7_basic[128] = {
	0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC,
	0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,
	0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,
	0x03A3, 0x0398, 0x039E, 0x0000, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
	0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027,
	0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
	0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
	0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
	0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
	0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
	0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
	0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
	0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
	0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
	0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
	0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/*
 * 23.038 6.2.1.1, the extension table: the characters that follow 0x1B.
 * 0x0D (CR2) and 0x1B (SS2) are controls without a character of their own.
 */
static const struct {
	uint8_t code;
	uint16_t cp;
} gsm7_ext[] = {
	{ 0x0A, 0x000C },	/* page break */
	{ 0x14, 0x005E },	/* ^ */
	{ 0x28, 0x007B },	/* { */
	{ 0x29, 0x007D },	/* } */
	{ 0x2F, 0x005C },	/* \ */
	{ 0x3C, 0x005B },	/* [ */
	{ 0x3D, 0x007E },	/* ~ */
	{ 0x3E, 0x005D },	/* ] */
	{ 0x40, 0x007C },	/* | */
	{ 0x65, 0x20AC },	/* euro sign */
};

#define GSM7_EXT_N	(sizeof(gsm7_ext) / sizeof(gsm7_ext[0]))

/* 23.040 9.1.2.3: semi-octet values 0-E; F is the end mark. */
static const char bcd_digits[] = "0123456789*#abc";

/* ------------------------------------------------------------------------
 * GSM 7-bit packing (23.038 6.1.2.1.1)
 */

/* Octets that fill_bits and n septets take; 0 when that overflows. */
static size_t
gsm7_octets(size_t n, unsigned fill_bits)
{
	if (n > (SIZE_MAX - GSM7_MAX_FILL - 7) / 7)
		return 0;
	return (fill_bits + 7 * n + 7) / 8;
}

/*
 * Septet i starts at bit fill_bits + 7 i, counted from bit 0 of the first
 * octet: the fill bits are the low bits of the first octet, which is where
 * 23.040 9.2.3.24 puts them after a user data header.
 */
int
gsm7_pack(const uint8_t *septets, size_t n, unsigned fill_bits,
	  uint8_t *out, size_t cap)
{
	size_t bytes, bit;

	if (fill_bits > GSM7_MAX_FILL || (n > 0 && septets == NULL))
		return -EINVAL;
	bytes = gsm7_octets(n, fill_bits);
	if ((n > 0 && bytes == 0) || bytes > INT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (septets[i] > 0x7F)
			return -EINVAL;
	if (bytes > cap || (bytes > 0 && out == NULL))
		return -ENOSPC;
	if (bytes > 0)
		memset(out, 0, bytes);
	for (size_t i = 0; i < n; i++) {
		bit = fill_bits + 7 * i;
		out[bit / 8] |= (uint8_t)(septets[i] << (bit % 8));
		/* a septet starting at bit 2 or later spills over */
		if (bit % 8 > 1)
			out[bit / 8 + 1] |=
				(uint8_t)(septets[i] >> (8 - bit % 8));
	}
	return (int)bytes;
}

int
gsm7_unpack(const uint8_t *p, size_t len, size_t n, unsigned fill_bits,
	    uint8_t *septets, size_t cap)
{
	size_t need, bit;
	unsigned v;

	if (fill_bits > GSM7_MAX_FILL || n > INT_MAX)
		return -EINVAL;
	need = gsm7_octets(n, fill_bits);
	if (n > 0 && need == 0)
		return -EINVAL;
	if (need > len || (need > 0 && p == NULL))
		return -EBADMSG;
	if (n > cap || (n > 0 && septets == NULL))
		return -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		bit = fill_bits + 7 * i;
		v = (unsigned)p[bit / 8] >> (bit % 8);
		if (bit % 8 > 1)
			v |= (unsigned)p[bit / 8 + 1] << (8 - bit % 8);
		septets[i] = (uint8_t)(v & 0x7F);
	}
	return (int)n;
}

/* ------------------------------------------------------------------------
 * The alphabet (23.038 6.2.1)
 */

/* Code point of the extension character, or 0 when the table has none. */
static uint16_t
gsm7_ext_cp(uint8_t code)
{
	for (size_t i = 0; i < GSM7_EXT_N; i++)
		if (gsm7_ext[i].code == code)
			return gsm7_ext[i].cp;
	return 0;
}

/*
 * The character at septets[*i], advancing *i past it.  Where 23.038 says
 * what a receiver shows, that is what we give: an escape with no
 * extension character after it shows the main table's character (6.2.1.1),
 * 1B 1B (SS2) and an escape at the very end show a space.
 */
static uint16_t
gsm7_char(const uint8_t *septets, size_t n, size_t *i)
{
	uint8_t c = septets[(*i)++];
	uint16_t cp;

	if (c != GSM7_ESC)
		return gsm7_basic[c];
	if (*i == n)
		return 0x0020;
	c = septets[(*i)++];
	if (c == GSM7_ESC)
		return 0x0020;
	cp = gsm7_ext_cp(c);
	return cp != 0 ? cp : gsm7_basic[c];
}

/* UTF-8 of a BMP code point (all the table holds): its length, 1 to 3. */
static size_t
utf8_put(uint16_t cp, char out[3])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	out[0] = (char)(0xE0 | cp >> 12);
	out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[2] = (char)(0x80 | (cp & 0x3F));
	return 3;
}

int
gsm7_to_utf8(const uint8_t *septets, size_t n, char *out, size_t cap)
{
	char u[3];
	size_t o = 0, i = 0, k;

	if (cap == 0 || out == NULL)
		return -ENOSPC;
	for (size_t j = 0; j < n; j++)
		if (septets[j] > 0x7F)
			return -EILSEQ;
	while (i < n) {
		k = utf8_put(gsm7_char(septets, n, &i), u);
		/* keep room for the NUL */
		if (k >= cap - o)
			return -ENOSPC;
		memcpy(out + o, u, k);
		o += k;
	}
	if (o > INT_MAX)
		return -ENOSPC;
	out[o] = '\0';
	return (int)o;
}

/*
 * One UTF-8 character of s (up to 3 octets: the table is in the BMP) into
 * *cp; its length, or 0 when it is not well-formed or longer.
 */
static size_t
utf8_get(const char *s, uint16_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xE0) == 0xC0 && (u[1] & 0xC0) == 0x80) {
		*cp = (uint16_t)((u[0] & 0x1F) << 6 | (u[1] & 0x3F));
		return *cp >= 0x80 ? 2 : 0;
	}
	if ((u[0] & 0xF0) == 0xE0 && (u[1] & 0xC0) == 0x80 &&
	    (u[2] & 0xC0) == 0x80) {
		*cp = (uint16_t)((u[0] & 0x0F) << 12 | (u[1] & 0x3F) << 6 |
				 (u[2] & 0x3F));
		return *cp >= 0x800 ? 3 : 0;
	}
	return 0;
}

/*
 * The septets of one code point: the main table first, so that what
 * gsm7_to_utf8() gave comes back as the shortest coding.  1 or 2, or 0 when
 * the alphabet does not have it.
 */
static size_t
gsm7_from_cp(uint16_t cp, uint8_t out[2])
{
	for (size_t c = 0; c < 128; c++)
		if (c != GSM7_ESC && gsm7_basic[c] == cp) {
			out[0] = (uint8_t)c;
			return 1;
		}
	for (size_t i = 0; i < GSM7_EXT_N; i++)
		if (gsm7_ext[i].cp == cp) {
			out[0] = GSM7_ESC;
			out[1] = gsm7_ext[i].code;
			return 2;
		}
	return 0;
}

/* UTF-8 text to septets: how many, -EINVAL or -ENOSPC. */
static int
gsm7_from_utf8(const char *s, uint8_t *septets, size_t cap)
{
	uint8_t c[2];
	uint16_t cp;
	size_t n = 0, k, m;

	while (*s != '\0') {
		if ((k = utf8_get(s, &cp)) == 0)
			return -EINVAL;
		if ((m = gsm7_from_cp(cp, c)) == 0)
			return -EINVAL;
		if (m > cap - n)
			return -ENOSPC;
		memcpy(septets + n, c, m);
		n += m;
		s += k;
	}
	return (int)n;
}

/* ------------------------------------------------------------------------
 * Addresses
 */

/* Semi-octet i of p: the low nibble comes first (23.040 9.1.2.3). */
static unsigned
nibble(const uint8_t *p, size_t i)
{
	return i % 2 == 0 ? p[i / 2] & 0x0Fu : (unsigned)p[i / 2] >> 4;
}

/* "+" when international and there is at least one digit to follow. */
static int
digits_start(uint8_t toa, size_t ndigits, char *out, size_t cap, size_t *o)
{
	*o = 0;
	if (TOA_TON(toa) == TON_INTERNATIONAL && ndigits > 0)
		out[(*o)++] = '+';
	return ndigits >= cap - *o ? -ENOSPC : 0;
}

int
sms_address_decode(const uint8_t *p, size_t len, char *out, size_t cap)
{
	size_t nd, o;
	int r;

	if (p == NULL || len < 1)
		return -EBADMSG;
	if (out == NULL || cap == 0)
		return -ENOSPC;
	/* the digits end at the first F; only F may follow (FF padding) */
	for (nd = 0; nd < 2 * (len - 1) && nibble(p + 1, nd) != BCD_END; nd++)
		;
	for (size_t i = nd; i < 2 * (len - 1); i++)
		if (nibble(p + 1, i) != BCD_END)
			return -EBADMSG;
	if ((r = digits_start(p[0], nd, out, cap, &o)) < 0)
		return r;
	for (size_t i = 0; i < nd; i++)
		out[o++] = bcd_digits[nibble(p + 1, i)];
	out[o] = '\0';
	return 0;
}

/* TP-DA of TON alphanumeric: nd semi-octets of packed 7-bit characters. */
static int
tp_address_alnum(const uint8_t *p, size_t nd, char *out, size_t cap)
{
	uint8_t sept[ALNUM_SEPTETS_MAX];
	int n, r;

	n = gsm7_unpack(p, (nd + 1) / 2, nd * 4 / 7, 0, sept, sizeof(sept));
	if (n < 0)
		return -EBADMSG;
	r = gsm7_to_utf8(sept, (size_t)n, out, cap);
	return r < 0 ? r : 0;
}

/* TP-DA of BCD digits: an F only as the filler of an odd length. */
static int
tp_address_bcd(const uint8_t *p, size_t nd, uint8_t toa, char *out,
	       size_t cap)
{
	size_t o;
	int r;

	for (size_t i = 0; i < nd; i++)
		if (nibble(p, i) == BCD_END)
			return -EBADMSG;
	if (nd % 2 == 1 && nibble(p, nd) != BCD_END)
		return -EBADMSG;
	if ((r = digits_start(toa, nd, out, cap, &o)) < 0)
		return r;
	for (size_t i = 0; i < nd; i++)
		out[o++] = bcd_digits[nibble(p, i)];
	out[o] = '\0';
	return 0;
}

int
sms_tp_address_decode(const uint8_t *p, size_t len, size_t *used,
		      uint8_t *toa, char *out, size_t cap)
{
	size_t nd, octets;
	int r;

	if (p == NULL || len < TP_ADDR_HDR)
		return -EBADMSG;
	if (out == NULL || cap == 0)
		return -ENOSPC;
	nd = p[0];
	octets = (nd + 1) / 2;
	if (nd > SMS_ADDR_MAX || octets > len - TP_ADDR_HDR)
		return -EBADMSG;
	if (TOA_TON(p[1]) == TON_ALPHANUMERIC)
		r = tp_address_alnum(p + TP_ADDR_HDR, nd, out, cap);
	else
		r = tp_address_bcd(p + TP_ADDR_HDR, nd, p[1], out, cap);
	if (r < 0)
		return r;
	*toa = p[1];
	*used = TP_ADDR_HDR + octets;
	return 0;
}

/* The semi-octet of a digit as sms_address_decode() writes it, or -1. */
static int
bcd_value(char c)
{
	const char *d;

	if (c >= 'A' && c <= 'C')
		c = (char)(c - 'A' + 'a');
	d = c != '\0' ? strchr(bcd_digits, c) : NULL;
	return d != NULL ? (int)(d - bcd_digits) : -1;
}

/* TP-DA from text: the whole field into out[12]; its length or -EINVAL. */
static int
tp_address_encode_bcd(const char *da, uint8_t toa, uint8_t *out)
{
	size_t nd = 0;
	int v;

	if (*da == '+') {
		if (TOA_TON(toa) != TON_INTERNATIONAL)
			return -EINVAL;
		da++;
	}
	memset(out + TP_ADDR_HDR, 0xFF, TP_ADDR_OCTETS_MAX);
	for (; *da != '\0'; da++, nd++) {
		if (nd == SMS_ADDR_MAX || (v = bcd_value(*da)) < 0)
			return -EINVAL;
		out[TP_ADDR_HDR + nd / 2] &= nd % 2 == 0 ?
			(uint8_t)(0xF0 | v) : (uint8_t)(v << 4 | 0x0F);
	}
	out[0] = (uint8_t)nd;
	out[1] = toa;
	return (int)(TP_ADDR_HDR + (nd + 1) / 2);
}

/* The length of an alphanumeric address counts the semi-octets in use. */
static int
tp_address_encode_alnum(const char *da, uint8_t toa, uint8_t *out)
{
	uint8_t sept[ALNUM_SEPTETS_MAX];
	int n, bytes;

	n = gsm7_from_utf8(da, sept, sizeof(sept));
	if (n < 0)
		return -EINVAL;
	bytes = gsm7_pack(sept, (size_t)n, 0, out + TP_ADDR_HDR,
			  TP_ADDR_OCTETS_MAX);
	if (bytes < 0)
		return -EINVAL;
	out[0] = (uint8_t)((7 * n + 3) / 4);
	out[1] = toa;
	return TP_ADDR_HDR + bytes;
}

static int
tp_address_encode(const struct sms_submit *s, uint8_t *out)
{
	if (memchr(s->da, '\0', sizeof(s->da)) == NULL)
		return -EINVAL;
	if (TOA_TON(s->da_toa) == TON_ALPHANUMERIC)
		return tp_address_encode_alnum(s->da, s->da_toa, out);
	return tp_address_encode_bcd(s->da, s->da_toa, out);
}

/* ------------------------------------------------------------------------
 * SMS-SUBMIT
 */

/*
 * 23.038 4: the alphabet of a DCS, or -EPROTO for what we cannot send as
 * the card meant it: compressed text and the reserved codings (a receiving
 * entity would read those as the default alphabet; we are sending and
 * would be guessing).
 */
static int
dcs_alphabet(uint8_t dcs)
{
	static const int general[4] = { SMS_GSM7, SMS_8BIT, SMS_UCS2, -EPROTO };

	/* 00xx general data coding, 01xx the same marked for deletion */
	if ((dcs & 0x80) == 0) {
		if (dcs & DCS_COMPRESSED)
			return -EPROTO;
		return general[(dcs >> 2) & 0x03];
	}
	switch (dcs >> 4) {
	case 0xC: case 0xD:			/* message waiting */
		return SMS_GSM7;
	case 0xE:				/* message waiting, UCS2 */
		return SMS_UCS2;
	case 0xF:				/* data coding/message class */
		return (dcs & DCS_8BIT_BIT) ? SMS_8BIT : SMS_GSM7;
	default:				/* 1000-1011: reserved */
		return -EPROTO;
	}
}

static size_t
vp_len(uint8_t first)
{
	switch (first & TP_VPF_MASK) {
	case TP_VPF_RELATIVE:
		return 1;
	case TP_VPF_ENHANCED:
	case TP_VPF_ABSOLUTE:
		return TP_VP_LONG;
	default:
		return 0;
	}
}

/*
 * 23.040 9.2.3.24: after a header of h octets (UDHL included) the text
 * starts at the next septet boundary; the septets the header and its fill
 * bits take, and the fill bits.
 */
static size_t
udh_septets(size_t h, unsigned *fill)
{
	size_t hs = (h * 8 + 6) / 7;

	*fill = (unsigned)(hs * 7 - h * 8);
	return hs;
}

/* TP-UD of the default alphabet: udl septets in exactly len octets. */
static int
ud_decode_gsm7(const uint8_t *p, size_t len, struct sms_submit *s)
{
	size_t h = 0, hs = 0;
	unsigned fill = 0;
	int n;

	if (s->udl > UD_SEPTETS_MAX || gsm7_octets(s->udl, 0) != len)
		return -EBADMSG;
	if (s->udhi) {
		if (len == 0)
			return -EBADMSG;
		h = (size_t)p[0] + 1;
		hs = udh_septets(h, &fill);
		if (hs > s->udl)
			return -EBADMSG;
		memcpy(s->ud, p, h);
	}
	n = gsm7_unpack(p + h, len - h, s->udl - hs, fill, s->ud + h,
			sizeof(s->ud) - h);
	if (n < 0)
		return -EBADMSG;
	s->ud_len = h + (size_t)n;
	return 0;
}

/*
 * TP-UD of octets.  8-bit user data may hold up to 160 octets: with
 * "packing required" they are the unpacked characters of a 160-character
 * text (TS 102 223 6.4.10), which only the packing makes fit.
 */
static int
ud_decode_octets(const uint8_t *p, size_t len, struct sms_submit *s)
{
	size_t max = s->alphabet == SMS_8BIT ? SMS_UD_MAX : UD_OCTETS_MAX;

	if (s->udl > max || s->udl != len)
		return -EBADMSG;
	if (s->udhi && (len == 0 || (size_t)p[0] + 1 > len))
		return -EBADMSG;
	if (len > 0)
		memcpy(s->ud, p, len);
	s->ud_len = len;
	return 0;
}

/* TP-PID, TP-DCS, TP-VP, TP-UDL: the fixed fields after TP-DA. */
static int
submit_decode_fields(const uint8_t *p, size_t len, size_t *off,
		     struct sms_submit *s)
{
	int a;

	if (len - *off < 2)
		return -EBADMSG;
	s->pid = p[(*off)++];
	s->dcs = p[(*off)++];
	if ((a = dcs_alphabet(s->dcs)) < 0)
		return a;
	s->alphabet = (enum sms_alphabet)a;
	s->vp_len = vp_len(s->first);
	if (len - *off < s->vp_len + 1)
		return -EBADMSG;
	memcpy(s->vp, p + *off, s->vp_len);
	*off += s->vp_len;
	s->udl = p[(*off)++];
	return 0;
}

int
sms_submit_decode(const uint8_t *p, size_t len, struct sms_submit *out)
{
	size_t off, used;
	int r;

	memset(out, 0, sizeof(*out));
	if (p == NULL || len < 1)
		return -EBADMSG;
	out->first = p[0];
	if ((out->first & TP_MTI_MASK) != TP_MTI_SUBMIT)
		return -EPROTO;
	out->udhi = (out->first & TP_UDHI) != 0;
	if (len < 2)
		return -EBADMSG;
	out->mr = p[1];
	r = sms_tp_address_decode(p + 2, len - 2, &used, &out->da_toa,
				  out->da, sizeof(out->da));
	/* -ENOSPC too: an address that does not fit da[] is refused */
	if (r < 0)
		return -EBADMSG;
	off = 2 + used;
	if ((r = submit_decode_fields(p, len, &off, out)) < 0)
		return r;
	if (out->alphabet == SMS_GSM7)
		return ud_decode_gsm7(p + off, len - off, out);
	return ud_decode_octets(p + off, len - off, out);
}

/* What the encoder writes as TP-UD. */
struct ud_plan {
	bool septets;		/* packed 7-bit */
	size_t h;		/* UDH octets, UDHL included; 0 without */
	size_t hs;		/* septets of UDH and fill */
	unsigned fill;
	size_t udl;		/* TP-UDL */
	size_t octets;		/* TP-UD */
};

static int
ud_plan_septets(const struct sms_submit *s, struct ud_plan *u)
{
	u->septets = true;
	if (s->udhi)
		u->hs = udh_septets(u->h, &u->fill);
	for (size_t i = u->h; i < s->ud_len; i++)
		if (s->ud[i] > 0x7F)
			return -EINVAL;
	u->udl = u->hs + (s->ud_len - u->h);
	if (u->udl > UD_SEPTETS_MAX)
		return -EINVAL;
	u->octets = gsm7_octets(u->udl, 0);
	return 0;
}

/*
 * The user data as the struct holds it: 7-bit when the alphabet is, or
 * when the 8-bit octets are to be packed.
 */
static int
ud_plan(const struct sms_submit *s, bool packed, struct ud_plan *u)
{
	memset(u, 0, sizeof(*u));
	if (s->ud_len > sizeof(s->ud))
		return -EINVAL;
	if (s->udhi) {
		if (s->ud_len == 0 || (size_t)s->ud[0] + 1 > s->ud_len)
			return -EINVAL;
		u->h = (size_t)s->ud[0] + 1;
	}
	if (s->alphabet == SMS_GSM7 || packed)
		return ud_plan_septets(s, u);
	if (s->ud_len > UD_OCTETS_MAX)
		return -EINVAL;
	u->udl = u->octets = s->ud_len;
	return 0;
}

/* The struct must say the same thing twice where it has it twice. */
static int
submit_check(const struct sms_submit *s)
{
	int a = dcs_alphabet(s->dcs);

	if ((s->first & TP_MTI_MASK) != TP_MTI_SUBMIT ||
	    s->udhi != ((s->first & TP_UDHI) != 0) ||
	    s->vp_len != vp_len(s->first) ||
	    a < 0 || (enum sms_alphabet)a != s->alphabet)
		return -EINVAL;
	return 0;
}

static void
ud_write(const struct sms_submit *s, const struct ud_plan *u, uint8_t *out)
{
	if (!u->septets) {
		memcpy(out, s->ud, s->ud_len);
		return;
	}
	memcpy(out, s->ud, u->h);
	/* cannot fail: the plan checked the septets and counted the room */
	(void)gsm7_pack(s->ud + u->h, s->ud_len - u->h, u->fill, out + u->h,
			u->octets - u->h);
}

int
sms_submit_encode(const struct sms_submit *s, bool pack, uint8_t *out,
		  size_t cap)
{
	uint8_t da[TP_ADDR_HDR + TP_ADDR_OCTETS_MAX];
	bool packed = pack && s->alphabet == SMS_8BIT;
	struct ud_plan u;
	size_t total, o = 0;
	int dalen, r;

	if ((r = submit_check(s)) < 0 || (r = ud_plan(s, packed, &u)) < 0)
		return r;
	if ((dalen = tp_address_encode(s, da)) < 0)
		return dalen;
	/* first, MR, TP-DA, PID, DCS, TP-VP, UDL, TP-UD */
	total = 2 + (size_t)dalen + 2 + s->vp_len + 1 + u.octets;
	if (out == NULL || total > cap)
		return -ENOSPC;
	out[o++] = s->first;
	out[o++] = s->mr;
	memcpy(out + o, da, (size_t)dalen);
	o += (size_t)dalen;
	out[o++] = s->pid;
	/* 8-bit (bit 2) becomes the default alphabet in 00xx and 1111 alike */
	out[o++] = packed ? (uint8_t)(s->dcs & ~DCS_8BIT_BIT) : s->dcs;
	memcpy(out + o, s->vp, s->vp_len);
	o += s->vp_len;
	out[o++] = (uint8_t)u.udl;
	ud_write(s, &u, out + o);
	return (int)total;
}
