/* SPDX-License-Identifier: MIT */
/*
 * SEND SHORT MESSAGE (ETSI TS 102 223 6.4.10, 3GPP TS 31.111 6.4.10): the
 * SMS-SUBMIT TPDU (3GPP TS 23.040 9.2.2.2), the address object (TS 102 223
 * 8.1), and the GSM 7-bit default alphabet (3GPP TS 23.038 6.1.2.1 packing,
 * 6.2.1 the table) that the terminal packs when the qualifier asks for it.
 * Pure functions; every length checked.
 */
#ifndef DMSCGW_SMS_TPDU_H
#define DMSCGW_SMS_TPDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMS_ADDR_MAX	20		/* digits */
#define SMS_UD_MAX	160		/* septets (7-bit) or 140 octets */

/* TS 23.038 4; groups 01xx read as 00xx. */
enum sms_alphabet {
	SMS_GSM7,		/* DCS group 00xx with bits 3-2 = 00;
				 * 1100, 1101; 1111 with bit 2 = 0 */
	SMS_8BIT,		/* 00xx with 01; 1111 with bit 2 = 1 */
	SMS_UCS2,		/* 00xx with 10; 1110 */
};

struct sms_submit {
	uint8_t first;			/* TP-MTI (01), RD, VPF, SRR, UDHI, RP */
	uint8_t mr;			/* TP-MR */
	char da[SMS_ADDR_MAX + 2];	/* TP-DA digits, "+" first when
					 * international; alphanumeric: UTF-8 */
	uint8_t da_toa;			/* type of address octet */
	uint8_t pid, dcs;
	uint8_t vp[7];
	size_t vp_len;			/* 0, 1 (relative) or 7 */
	enum sms_alphabet alphabet;	/* from the DCS */
	bool udhi;
	uint8_t udl;			/* TP-UDL as coded: septets or
					 * octets; encode computes it */
	/* user data: one septet per byte for GSM7 (unpacked), else octets;
	 * the UDH, when udhi, included at the front (UDHL first, as octets,
	 * without the fill bits) */
	uint8_t ud[SMS_UD_MAX];
	size_t ud_len;
};

/*
 * Decode an SMS-SUBMIT TPDU.  0; -EPROTO when TP-MTI is not SMS-SUBMIT or
 * the DCS is one we cannot send as meant (compressed text, reserved coding
 * groups 1000-1011, alphabet 11 of groups 00xx/01xx); -EBADMSG when
 * truncated, when TP-UDL does not match the bytes that follow exactly
 * (short or with bytes after it), when TP-DA is longer than 20 digits, holds
 * an F among its digits, has no F filler after an odd number of digits, or
 * (alphanumeric) its UTF-8 does not fit in da[].
 *
 * 8-bit user data may be up to 160 octets (SMS_UD_MAX), not 140: with
 * "packing required" they are the unpacked characters of a 160-character
 * text.  A caller that sends them unpacked must refuse more than 140 (the
 * encoder does, -EINVAL).  Fill bits and the padding bits of an
 * alphanumeric TP-DA are not checked.
 */
int sms_submit_decode(const uint8_t *p, size_t len, struct sms_submit *out);

/*
 * Encode it again: TP-UDL is computed from ud_len, the TP-DA from da[] and
 * da_toa (alphanumeric: da[] coded in the default alphabet, at most 11
 * septets), fill bits and the address filler are written as 0 and F.
 *
 * pack is the "packing required" bit of the SEND SHORT MESSAGE qualifier
 * (TS 102 223 8.6, bit 1).  The rule followed (TS 102 223 / TS 31.111
 * 6.4.10: the card gives unpacked 7-bit characters, one per octet, with
 * the DCS saying 8-bit data; the terminal packs them per TS 23.038 and
 * sends the DCS of the default alphabet; TS 31.124 27.22.4.10.1 seq. 1.1
 * sends DCS F4 and expects F0 on the network):
 *   - only when the DCS says 8-bit (group 00xx/01xx bits 3-2 = 01, or
 *     group 1111 bit 2 = 1) is anything packed.  The octets after the UDH
 *     must then each be < 0x80 (-EINVAL otherwise); they are packed after
 *     the UDH with its fill bits, TP-UDL becomes the septet count of UDH,
 *     fill and text, and DCS bit 2 is cleared, which gives the default
 *     alphabet in both groups and keeps the class and other bits;
 *   - a DCS of the default alphabet means the card packed the text itself
 *     (the decoder read it as packed), and UCS2 is never packed: both are
 *     written as without pack.  A TPDU whose DCS says default alphabet but
 *     whose user data are unpacked septets is not recognised: its TP-UDL
 *     does not match its length and sms_submit_decode() refuses it.
 * Returns the length, -ENOSPC when cap is too small, or -EINVAL when the
 * struct is inconsistent (first vs udhi, vp_len, alphabet vs dcs), a UDH
 * overruns ud_len, a septet is >= 0x80, the 7-bit TP-UDL would exceed 160,
 * unpacked octets exceed 140, or da[] cannot be coded.
 */
int sms_submit_encode(const struct sms_submit *s, bool pack, uint8_t *out,
		      size_t cap);

/*
 * Pack n septets (each < 0x80) after fill_bits (0-6) zero bits, LSB first
 * (TS 23.038 6.1.2.1.1; the fill bits are the low bits of the first octet,
 * as after a UDH, TS 23.040 9.2.3.24): ceil((fill_bits + 7 n) / 8) bytes,
 * or -ENOSPC/-EINVAL.  Unpack: n septets from p (len bytes): n, -EBADMSG
 * when len is short of ceil((fill_bits + 7 n) / 8), -ENOSPC, -EINVAL.
 */
int gsm7_pack(const uint8_t *septets, size_t n, unsigned fill_bits,
	      uint8_t *out, size_t cap);
int gsm7_unpack(const uint8_t *p, size_t len, size_t n, unsigned fill_bits,
		uint8_t *septets, size_t cap);
/*
 * GSM default alphabet (with the escape table) to UTF-8, NUL-terminated.
 * Returns the length or -ENOSPC/-EILSEQ (a septet >= 0x80).  As TS 23.038
 * 6.2.1.1 says a receiver shows them: 1B followed by a code the extension
 * table lacks gives the main table's character, 1B 1B and a final 1B a
 * space.
 */
int gsm7_to_utf8(const uint8_t *septets, size_t n, char *out, size_t cap);

/*
 * The address object's value (TON/NPI then BCD digits, F filler) or TP-DA
 * (length in digits, TOA, BCD): as text, "+" first when international and
 * there are digits, semi-octets A-E as "*#abc".  The address object's
 * digits end at the first F; only F may follow (FF padding).  A TP-DA of
 * TON alphanumeric (101) is GSM 7-bit text, given as UTF-8.  Return 0,
 * -EBADMSG, or -ENOSPC when out (cap bytes, NUL included) is too small.
 * *used: octets of the TP-DA.
 */
int sms_address_decode(const uint8_t *p, size_t len, char *out, size_t cap);
int sms_tp_address_decode(const uint8_t *p, size_t len, size_t *used,
			  uint8_t *toa, char *out, size_t cap);

#endif
