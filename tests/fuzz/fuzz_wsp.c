/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what anyone who can send an SMS to the device feeds
 * the daemon (sms/wsp.h): the WSP push PDU, the user data header, and
 * concatenated segments to reassemble.  Besides the sanitizers, invariants
 * are checked with abort(): only the documented errors, the body and the
 * payload are the tail of the input, the texts are NUL-terminated inside
 * their fields, and what reassembles is at most WSP_REASM_MAX octets.
 *
 * The same input is read three ways: as a push PDU, as user data starting
 * with a UDH, and as a series of SMS, each
 *
 *     sender (1 octet, low 2 bits pick one of 4)  length  user data
 *
 * given to one reassembler, whose complete messages are decoded as pushes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sms/wsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static const char *const fuzz_senders[4] = {
	"+33600000001", "+33600000002", "", "DMServer",
};

static void
fuzz_push(const uint8_t *data, size_t size)
{
	struct wsp_push w, again;
	size_t hdr;
	int r;

	r = wsp_push_decode(data, size, &w);
	CHECK(r == 0 || r == -EBADMSG || r == -EPROTO);
	if (r == -EPROTO)
		CHECK(size >= 2 && data[1] != 0x06 && data[1] != 0x07);
	if (r < 0)
		return;

	CHECK(size >= 4 && w.tid == data[0] && w.pdu_type == data[1]);
	CHECK(w.body >= data && w.body <= data + size);
	CHECK(w.body + w.body_len == data + size);
	CHECK(memchr(w.content_type_text, '\0',
		     sizeof(w.content_type_text)) != NULL);
	CHECK(memchr(w.app_id_text, '\0', sizeof(w.app_id_text)) != NULL);
	CHECK(w.content_type == 0 || w.content_type_text[0] == '\0');
	CHECK(w.app_id == 0 || w.app_id_text[0] == '\0');
	if (!w.has_app_id)
		CHECK(w.app_id == 0 && w.app_id_text[0] == '\0');
	if (wsp_push_is_dm(&w))
		CHECK(w.content_type_text[0] != '\0' ?
		      strcasecmp(w.content_type_text, WSP_CT_DM_NOTI_TEXT) == 0 :
		      w.content_type == WSP_CT_DM_NOTI);

	/* without its body: the same headers, an empty body */
	hdr = (size_t)(w.body - data);
	CHECK(wsp_push_decode(data, hdr, &again) == 0);
	CHECK(again.body_len == 0 && again.content_type == w.content_type);
	CHECK(again.has_app_id == w.has_app_id && again.app_id == w.app_id);
	CHECK(strcmp(again.content_type_text, w.content_type_text) == 0);
	CHECK(strcmp(again.app_id_text, w.app_id_text) == 0);
}

static void
fuzz_udh(const uint8_t *data, size_t size)
{
	struct sms_udh h;
	int r;

	r = sms_udh_decode(data, size, &h);
	CHECK(r == 0 || r == -EBADMSG);
	if (r < 0)
		return;
	CHECK(size >= 1u + data[0]);
	CHECK(h.payload == data + 1 + data[0]);
	CHECK(h.payload_len == size - 1 - data[0]);
	if (!h.has_ports)
		CHECK(h.dst_port == 0 && h.src_port == 0);
	if (!h.concat)
		CHECK(h.ref == 0 && h.total == 0 && h.seq == 0);
}

/* One SMS to the reassembler, in a buffer of exactly its size. */
static void
fuzz_segment(struct wsp_reasm *r, const char *sender, const uint8_t *ud,
	     size_t len)
{
	struct sms_udh h;
	uint8_t *copy, *out;
	size_t out_len;
	int n;

	copy = malloc(len > 0 ? len : 1);
	CHECK(copy != NULL);
	if (len > 0)
		memcpy(copy, ud, len);
	if (sms_udh_decode(copy, len, &h) == 0) {
		n = wsp_reasm_add(r, sender, &h, &out, &out_len);
		CHECK(n == 1 || n == 0 || n == -EBADMSG || n == -ENOMEM);
		if (n == -EBADMSG)
			CHECK(h.payload_len > 140 ||
			      (h.concat && (h.seq == 0 || h.seq > h.total)));
		if (n != 1)
			CHECK(out == NULL && out_len == 0);
		if (n == 1) {
			CHECK(out != NULL && out_len <= WSP_REASM_MAX);
			CHECK(out_len >= h.payload_len);
			if (!h.concat || h.total == 1)
				CHECK(out_len == h.payload_len &&
				      (out_len == 0 ||
				       memcmp(out, h.payload, out_len) == 0));
			fuzz_push(out, out_len);
			free(out);
		}
	}
	free(copy);
}

static void
fuzz_reasm(const uint8_t *data, size_t size)
{
	struct wsp_reasm *r = wsp_reasm_new();
	size_t i = 0, len;
	const char *sender;

	CHECK(r != NULL);
	while (size - i >= 2) {
		sender = fuzz_senders[data[i] & 3];
		len = data[i + 1];
		i += 2;
		if (len > size - i)
			len = size - i;
		fuzz_segment(r, sender, data + i, len);
		i += len;
	}
	wsp_reasm_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_push(data, size);
	fuzz_udh(data, size);
	fuzz_reasm(data, size);
	return 0;
}
