/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the BIP codec: what the card sends (the BIP
 * proactive commands, decoded as the engine does - cat_cmd_decode(), then
 * the bip_*_decode() of the type) and what the terminal builds from it (the
 * TERMINAL RESPONSE of each command, the Terminal Applications envelope
 * with names taken from the input).  Besides the sanitizers, invariants are
 * checked with abort(): decoders answer only 0, 32 or 36 and fill what the
 * header promises; responses fit their fixed buffers or are refused whole;
 * what is built parses back to what was put in.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bip/codec.h"
#include "card/tlv.h"
#include "cat/proactive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

/* The one C-TLV in p..p+n: its tag (CR bit kept), value and length. */
static void
check_one(const uint8_t *p, int n, uint8_t tag, const uint8_t *val,
	  size_t len)
{
	struct tlv_iter it;
	struct tlv t;

	CHECK(n > 0);
	tlv_iter_init(&it, p, (size_t)n);
	CHECK(tlv_ctlv_next(&it, &t) == 1);
	CHECK(p[0] == tag);
	CHECK(t.len == len && (len == 0 || memcmp(t.val, val, len) == 0));
	CHECK(tlv_ctlv_next(&it, &t) == 0);
}

/* The response to a decoded command, in a 255-byte TERMINAL RESPONSE. */
static void
respond(const struct cat_cmd_details *det, uint8_t result,
	const uint8_t *extra, size_t n)
{
	uint8_t out[255];
	int r;

	r = cat_tr_build(out, sizeof(out), det, result, NULL, 0, extra, n);
	CHECK(r == -ENOSPC || (r == (int)(12 + n) && r <= 255));
	if (r > 0)
		CHECK(n == 0 || memcmp(out + 12, extra, n) == 0);
}

static void
fuzz_open(const uint8_t *data, size_t size, const struct cat_cmd *cmd)
{
	uint8_t extra[64];
	struct bip_open o;
	size_t k = 0;
	int r, n;

	r = bip_open_decode(data, size, &o);
	CHECK(r == 0 || r == CAT_RES_DATA_NOT_UNDERSTOOD ||
	      r == CAT_RES_VALUES_MISSING);
	if (r != 0) {
		respond(&cmd->det, (uint8_t)r, NULL, 0);
		return;
	}
	CHECK(o.qualifier == cmd->det.qualifier);
	CHECK(o.has_bearer == (o.bearer_len > 0));
	CHECK(o.bearer_len <= sizeof(o.bearer));
	CHECK(memchr(o.apn, '\0', sizeof(o.apn)) != NULL);
	CHECK(strchr(o.apn, '.') != o.apn);	/* no empty first label */
	CHECK(!o.has_transport ||
	      (o.transport >= BIP_UDP_REMOTE && o.transport <= BIP_DIRECT));
	CHECK(o.local.family == 0 || o.local.family == 4 ||
	      o.local.family == 6);
	CHECK(o.dest.family == 0 || o.dest.family == 4 || o.dest.family == 6);
	CHECK(o.has_bearer || (o.has_transport &&
			       o.transport != BIP_UDP_REMOTE &&
			       o.transport != BIP_TCP_REMOTE));
	CHECK(!o.has_transport || (o.transport != BIP_UDP_REMOTE &&
				   o.transport != BIP_TCP_REMOTE) ||
	      o.dest.family != 0);

	/* the success response: status, bearer, buffer size */
	n = bip_put_channel_status(extra, sizeof(extra), BIP_CS_LINK_UP | 1,
				   BIP_CS_NO_INFO);
	check_one(extra, n, 0x38, (const uint8_t[]){ 0x81, 0x00 }, 2);
	k += (size_t)n;
	if (o.has_bearer) {
		n = bip_put_bearer(extra + k, sizeof(extra) - k, o.bearer,
				   o.bearer_len);
		check_one(extra + k, n, 0x35, o.bearer, o.bearer_len);
		k += (size_t)n;
	}
	n = bip_put_buffer_size(extra + k, sizeof(extra) - k, o.buffer_size);
	check_one(extra + k, n, 0x39,
		  (const uint8_t[]){ (uint8_t)(o.buffer_size >> 8),
				     (uint8_t)o.buffer_size }, 2);
	k += (size_t)n;
	respond(&cmd->det, CAT_RES_OK, extra, k);
}

static void
fuzz_send(const uint8_t *data, size_t size, const struct cat_cmd *cmd)
{
	const uint8_t *p;
	uint8_t extra[8];
	size_t len;
	int r, n;

	r = bip_send_decode(data, size, &p, &len);
	CHECK(r == 0 || r == CAT_RES_DATA_NOT_UNDERSTOOD ||
	      r == CAT_RES_VALUES_MISSING);
	if (r != 0) {
		CHECK(p == NULL && len == 0);
		return;
	}
	CHECK(len <= 255);
	CHECK(len == 0 || (p >= data && p + len <= data + size));
	n = bip_put_data_length(extra, sizeof(extra), 1500 - len);
	check_one(extra, n, 0xB7, (const uint8_t[]){ 0xFF }, 1);
	respond(&cmd->det, CAT_RES_OK, extra, (size_t)n);
}

static void
fuzz_receive(const uint8_t *data, size_t size, const struct cat_cmd *cmd)
{
	uint8_t want, extra[BIP_MAX_CHUNK + 8], left;
	size_t chunk, k = 0;
	int r, n;

	r = bip_receive_decode(data, size, &want);
	CHECK(r == 0 || r == CAT_RES_DATA_NOT_UNDERSTOOD ||
	      r == CAT_RES_VALUES_MISSING);
	if (r != 0) {
		CHECK(want == 0);
		return;
	}
	/* answer with the input itself as the channel's bytes */
	chunk = want < size ? want : size;
	if (chunk > BIP_MAX_CHUNK)
		chunk = BIP_MAX_CHUNK;
	n = bip_put_channel_data(extra, sizeof(extra), data, chunk);
	check_one(extra, n, 0xB6, data, chunk);
	k += (size_t)n;
	left = (uint8_t)(size - chunk > 0xFF ? 0xFF : size - chunk);
	n = bip_put_data_length(extra + k, sizeof(extra) - k, size - chunk);
	check_one(extra + k, n, 0xB7, &left, 1);
	k += (size_t)n;
	/* any chunk allowed by the header fits a TERMINAL RESPONSE */
	respond(&cmd->det, CAT_RES_OK, extra, k);
	CHECK(12 + k <= 255);
}

/* GET CHANNEL STATUS: up to seven statuses from the input. */
static void
fuzz_status(const uint8_t *data, size_t size, const struct cat_cmd *cmd)
{
	uint8_t st[BIP_MAX_CHANNELS][2], extra[4 * BIP_MAX_CHANNELS];
	size_t n = size / 2 > BIP_MAX_CHANNELS ? BIP_MAX_CHANNELS : size / 2;
	int r;

	if (n > 0)
		memcpy(st, data, 2 * n);
	r = bip_put_channel_status_list(extra, sizeof(extra), st, n);
	CHECK(r == (int)(4 * (n > 0 ? n : 1)));
	CHECK(extra[0] == 0xB8 && extra[1] == 2);
	CHECK(bip_put_channel_status_list(extra, (size_t)r - 1, st, n) ==
	      -ENOSPC);
	respond(&cmd->det, CAT_RES_OK, extra, (size_t)r);
}

static void
fuzz_command(const uint8_t *data, size_t size)
{
	struct cat_cmd cmd;
	const uint8_t *p;
	uint8_t want;
	size_t len;
	int r;

	/* the decoders never crash, whatever cat_cmd_decode() thought */
	memset(&cmd, 0, sizeof(cmd));
	r = bip_send_decode(data, size, &p, &len);
	CHECK(r == 0 || r == 0x32 || r == 0x36);
	r = bip_receive_decode(data, size, &want);
	CHECK(r == 0 || r == 0x32 || r == 0x36);

	r = cat_cmd_decode(data, size, &cmd);
	if (r == -EBADMSG) {
		/* what cannot be addressed, the BIP decoders refuse too */
		struct bip_open o;

		CHECK(bip_open_decode(data, size, &o) != 0);
		CHECK(bip_send_decode(data, size, &p, &len) != 0);
		CHECK(bip_receive_decode(data, size, &want) != 0);
		return;
	}
	if (r != 0)
		return;
	switch (cmd.det.type) {
	case CAT_OPEN_CHANNEL:
		fuzz_open(data, size, &cmd);
		break;
	case CAT_SEND_DATA:
		fuzz_send(data, size, &cmd);
		break;
	case CAT_RECEIVE_DATA:
		fuzz_receive(data, size, &cmd);
		break;
	case CAT_CLOSE_CHANNEL:
	case CAT_GET_CHANNEL_STATUS:
		fuzz_status(data, size, &cmd);
		break;
	default:
		break;
	}
}

static bool
gsm_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr(" !\"#%&'()*+,-./:;<=>?", c) != NULL);
}

/*
 * Terminal Applications: byte 0 chooses "last" (bit 0) and the buffer size
 * (bits 1-2: 255, 512, 40, 0); the rest is up to four names separated by
 * '\n'.  The result is checked against a size computed independently and
 * parsed back object by object.
 */
static void
fuzz_apps(const uint8_t *data, size_t size)
{
	static const size_t caps[4] = { 255, 512, 40, 0 };
	char names[4][251];
	struct bip_app apps[4];
	uint8_t out[512];
	struct tlv_iter it, in;
	struct tlv t;
	size_t n = 0, i, k, len, need, body, cap;
	bool last, valid = true;
	int r;

	if (size == 0)
		return;
	last = data[0] & 1;
	cap = caps[(data[0] >> 1) & 3];
	i = 1;
	while (n < 4 && i < size) {
		for (len = 0; i < size && data[i] != '\n' && len < 250; i++)
			names[n][len++] = (char)data[i];
		names[n][len] = '\0';
		i++;	/* the separator */
		apps[n].port = (uint16_t)(0x1000 + n);
		apps[n].type = (uint8_t)(7 + n);
		apps[n].name = names[n];
		n++;
	}

	body = 4 + (last ? 2 : 0);
	for (i = 0; i < n; i++) {
		len = strlen(names[i]);
		if (len == 0)
			valid = false;
		for (k = 0; k < len; k++)
			if (!gsm_ok(names[i][k]))
				valid = false;
		body += 1 + tlv_len_size(4 + len) + 4 + len;
	}
	need = 1 + tlv_len_size(body) + body;

	r = bip_env_terminal_apps(out, cap, apps, n, last);
	if (!valid) {
		CHECK(r == -EINVAL);
		return;
	}
	if (need > 255 || need > cap) {
		CHECK(r == -ENOSPC);
		return;
	}
	CHECK(r == (int)need);

	tlv_iter_init(&it, out, (size_t)r);
	CHECK(tlv_ber_next(&it, &t) == 1 && t.tag == 0xDC);
	CHECK(tlv_ber_next(&it, &t) == 0);
	tlv_iter_init(&it, out, (size_t)r);
	(void)tlv_ber_next(&it, &t);
	tlv_iter_init(&in, t.val, t.len);
	CHECK(tlv_ctlv_next(&in, &t) == 1 && t.tag == 0x02 && t.cr &&
	      t.len == 2 && t.val[0] == 0x82 && t.val[1] == 0x81);
	for (i = 0; i < n; i++) {
		len = strlen(names[i]);
		CHECK(tlv_ctlv_next(&in, &t) == 1 && t.tag == 0x71 && !t.cr);
		CHECK(t.len == 4 + len);
		CHECK(t.val[0] == (uint8_t)(apps[i].port >> 8) &&
		      t.val[1] == (uint8_t)apps[i].port);
		CHECK(t.val[2] == 0x04 && t.val[3] == apps[i].type);
		CHECK(memcmp(t.val + 4, names[i], len) == 0);
	}
	if (last)
		CHECK(tlv_ctlv_next(&in, &t) == 1 && t.tag == 0x70 &&
		      t.len == 0);
	CHECK(tlv_ctlv_next(&in, &t) == 0);
}

/* The writers alone, with lengths from the input. */
static void
fuzz_put(const uint8_t *data, size_t size)
{
	uint8_t out[300];
	size_t n = size > 255 ? 255 : size;
	int r;

	r = bip_put_channel_data(out, sizeof(out), data, n);
	if (n > BIP_MAX_CHUNK) {
		CHECK(r == -EINVAL);
	} else {
		check_one(out, r, 0xB6, data, n);
		CHECK(bip_put_channel_data(out, (size_t)r - 1, data, n) ==
		      -ENOSPC);
	}
	if (n > 0) {
		r = bip_put_bearer(out, sizeof(out), data, n);
		check_one(out, r, 0x35, data, n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_command(data, size);
	fuzz_apps(data, size);
	fuzz_put(data, size);
	return 0;
}
