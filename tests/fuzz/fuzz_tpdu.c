/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the SMS TPDU that a card hands over in SEND SHORT
 * MESSAGE (sms/tpdu.h): a card, or whoever wrote its applet, chooses every
 * byte.  Besides the sanitizers, invariants are checked with abort(): only
 * the documented errors, what decodes re-encodes (with and without
 * packing) to something that decodes to the same message, and the
 * encoder's output is a fixed point.  The same bytes also go through the
 * 7-bit packing, the alphabet and both address decoders.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sms/tpdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

#define FUZZ_TPDU_MAX	256
/* 4 octets of UTF-8 at most per septet, and the NUL */
#define FUZZ_UTF8_MAX	(4 * FUZZ_TPDU_MAX * 8 / 7 + 8)

/* The fields both decodes must agree on (all but dcs, alphabet, udl). */
static void
check_same_message(const struct sms_submit *a, const struct sms_submit *b)
{
	CHECK(a->first == b->first && a->mr == b->mr && a->pid == b->pid);
	CHECK(a->da_toa == b->da_toa && strcmp(a->da, b->da) == 0);
	CHECK(a->vp_len == b->vp_len &&
	      memcmp(a->vp, b->vp, a->vp_len) == 0);
	CHECK(a->udhi == b->udhi && a->ud_len == b->ud_len &&
	      memcmp(a->ud, b->ud, a->ud_len) == 0);
}

/* encode(s) decodes to s, and encoding that again gives the same bytes */
static void
fuzz_reencode(const struct sms_submit *s, bool pack)
{
	uint8_t out[FUZZ_TPDU_MAX], again[FUZZ_TPDU_MAX];
	struct sms_submit t;
	bool packs = pack && s->alphabet == SMS_8BIT;
	int n, m;

	n = sms_submit_encode(s, pack, out, sizeof(out));
	CHECK(n > 0 || n == -EINVAL);
	if (n == -EINVAL) {
		/* only 8-bit data: over 140 octets unpacked, an octet that
		 * is no septet, or over 160 septets with the UDH packed */
		CHECK(s->alphabet == SMS_8BIT);
		return;
	}
	CHECK(sms_submit_decode(out, (size_t)n, &t) == 0);
	check_same_message(s, &t);
	CHECK(t.alphabet == (packs ? SMS_GSM7 : s->alphabet));
	CHECK(t.dcs == (packs ? (s->dcs & ~0x04) : s->dcs));
	if (!packs)
		CHECK(t.udl == s->udl);

	m = sms_submit_encode(&t, false, again, sizeof(again));
	CHECK(m == n && memcmp(out, again, (size_t)n) == 0);
	CHECK(sms_submit_encode(&t, false, again, (size_t)n - 1) == -ENOSPC);
}

static void
fuzz_submit(const uint8_t *data, size_t size)
{
	struct sms_submit s;
	char text[4 * SMS_UD_MAX + 1];
	int r;

	r = sms_submit_decode(data, size, &s);
	CHECK(r == 0 || r == -EBADMSG || r == -EPROTO);
	if (r < 0)
		return;
	CHECK((s.first & 0x03) == 0x01 && s.ud_len <= SMS_UD_MAX);
	CHECK(s.vp_len == 0 || s.vp_len == 1 || s.vp_len == 7);
	CHECK(memchr(s.da, '\0', sizeof(s.da)) != NULL);
	fuzz_reencode(&s, false);
	fuzz_reencode(&s, true);
	if (s.alphabet == SMS_GSM7 && !s.udhi)
		CHECK(gsm7_to_utf8(s.ud, s.ud_len, text, sizeof(text)) >= 0);
}

/* unpack at every fill, pack back: the same septets */
static void
fuzz_gsm7(const uint8_t *data, size_t size)
{
	uint8_t sept[FUZZ_TPDU_MAX * 8 / 7 + 1], back[FUZZ_TPDU_MAX];
	static char text[FUZZ_UTF8_MAX];
	size_t n;
	int r, k;

	for (unsigned fill = 0; fill <= 6; fill++) {
		/* fill bits alone take an octet (gsm7_pack of 0 septets) */
		if (size == 0 && fill > 0)
			break;
		n = (size * 8 - fill) / 7;
		r = gsm7_unpack(data, size, n, fill, sept, sizeof(sept));
		CHECK(r == (int)n);
		CHECK(gsm7_unpack(data, size, n + 1, fill, sept,
				  sizeof(sept)) == -EBADMSG);
		k = gsm7_pack(sept, n, fill, back, sizeof(back));
		CHECK(k >= 0 && (size_t)k <= size);
		r = gsm7_unpack(back, (size_t)k, n, fill, sept, sizeof(sept));
		CHECK(r == (int)n);
		r = gsm7_to_utf8(sept, n, text, sizeof(text));
		CHECK(r >= 0 && (size_t)r == strlen(text));
	}
	/* the raw bytes as septets: -EILSEQ exactly when one is >= 0x80 */
	r = gsm7_to_utf8(data, size, text, sizeof(text));
	CHECK(r >= 0 || r == -EILSEQ);
	k = gsm7_pack(data, size, 0, back, sizeof(back));
	CHECK((r == -EILSEQ) == (k == -EINVAL));
}

static void
fuzz_address(const uint8_t *data, size_t size)
{
	char a[2 * FUZZ_TPDU_MAX + 2];
	uint8_t toa;
	size_t used;
	int r;

	r = sms_address_decode(data, size, a, sizeof(a));
	CHECK(r == 0 || r == -EBADMSG);
	r = sms_address_decode(data, size, a, 4);
	CHECK(r == 0 || r == -EBADMSG || r == -ENOSPC);
	r = sms_tp_address_decode(data, size, &used, &toa, a, sizeof(a));
	CHECK(r == 0 || r == -EBADMSG);
	if (r == 0)
		CHECK(used >= 2 && used <= size && used <= 12 &&
		      toa == data[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_submit(data, size);
	/* a proactive command holds at most 255 octets: more only slows */
	if (size > FUZZ_TPDU_MAX)
		size = FUZZ_TPDU_MAX;
	fuzz_gsm7(data, size);
	fuzz_address(data, size);
	return 0;
}
