/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "card/apdu.h"
#include "card/pcsc.h"
#include "card/tlv.h"
#include "cat/cat.h"
#include "cat/profile.h"
#include "log.h"
#include "util/hex.h"

#define CAT_PROFILE_MAX 64

struct cat {
	struct pcsc_reader *reader;
	const struct cat_ops *ops;
	void *arg;
	enum cat_state state;
	uint8_t profile[CAT_PROFILE_MAX];
	size_t profile_len;
	uint8_t pending;		/* XX of the last 91 XX */
	uint8_t cmd_details[3];		/* of the command being answered */
};

static const char *const state_names[CAT_STATE_MAX] = {
	[CAT_OFF] = "off",
	[CAT_SELECT] = "select-mf",
	[CAT_PROFILE] = "terminal-profile",
	[CAT_IDLE] = "idle",
	[CAT_FETCH] = "fetch",
	[CAT_RESPONSE] = "terminal-response",
	[CAT_FAILED] = "failed",
};

const char *cat_state_name(enum cat_state s)
{
	return s < CAT_STATE_MAX ? state_names[s] : "?";
}

static void cat_enter(struct cat *c, enum cat_state s)
{
	log_debug(LOG_CAT, "%s: %s -> %s", pcsc_reader_name(c->reader),
		  state_names[c->state], state_names[s]);
	c->state = s;
}

static void cat_apdu_done(void *arg, int err, const struct apdu_result *res);

static int cat_send(struct cat *c, enum cat_state next, uint8_t cla,
		    uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
		    size_t lc, int le)
{
	uint8_t apdu[APDU_MAX_CMD];
	int n = apdu_build(apdu, sizeof(apdu), cla, ins, p1, p2, data, lc, le);

	if (n < 0)
		return n;
	log_hex(LOG_CAT, "C-APDU", apdu, (size_t)n);
	n = pcsc_transmit(c->reader, apdu, (size_t)n, cat_apdu_done, c);
	if (n < 0) {
		log_err(LOG_CAT, "%s: cannot send APDU: %s",
			pcsc_reader_name(c->reader), strerror(-n));
		return n;
	}
	cat_enter(c, next);
	return 0;
}

static void cat_fetch(struct cat *c)
{
	cat_send(c, CAT_FETCH, APDU_CLA_UICC, INS_FETCH, 0, 0, NULL, 0,
		 c->pending ? c->pending : 256);
}

/*
 * A command the terminal does not implement: TS 102 223 clause 6.8.3,
 * result '31' (command type not understood).
 */
static void cat_answer_unknown(struct cat *c, const uint8_t *cmd, size_t len)
{
	struct tlv_iter it;
	struct tlv t, d;
	uint8_t tr[32];
	struct tlv_buf b;
	char hex[2 * 64 + 1];

	tlv_iter_init(&it, cmd, len);
	if (tlv_ber_next(&it, &t) != 1 || t.tag != 0xD0 ||
	    tlv_ctlv_find(t.val, t.len, 0x01, &d) != 1 || d.len != 3) {
		hex_encode(hex, cmd, len < 64 ? len : 64);
		log_warn(LOG_CAT, "%s: malformed proactive command %s",
			 pcsc_reader_name(c->reader), hex);
		cat_enter(c, CAT_IDLE);
		return;
	}
	hex_encode(hex, cmd, len < 64 ? len : 64);
	log_notice(LOG_CAT, "%s: proactive command type %02X not supported: %s",
		   pcsc_reader_name(c->reader), d.val[1], hex);
	tlv_buf_init(&b, tr, sizeof(tr));
	tlv_put_ctlv(&b, 0x81, d.val, 3);
	tlv_put_ctlv(&b, 0x82, (const uint8_t[]){ 0x82, 0x81 }, 2);
	tlv_put_ctlv(&b, 0x83, (const uint8_t[]){ 0x31 }, 1);
	cat_send(c, CAT_RESPONSE, APDU_CLA_UICC, INS_TERMINAL_RESPONSE, 0, 0,
		 tr, b.len, -1);
}

static void cat_apdu_done(void *arg, int err, const struct apdu_result *res)
{
	struct cat *c = arg;
	enum cat_state was = c->state;
	uint16_t sw;

	if (err) {
		/* pcsc has logged it; the card is likely going away */
		cat_enter(c, CAT_IDLE);
		return;
	}
	sw = res->sw;
	log_hex(LOG_CAT, "R-APDU", res->data, res->len);
	log_debug(LOG_CAT, "%s: SW %04X (%s)", pcsc_reader_name(c->reader), sw,
		  apdu_sw_str(sw));

	switch (was) {
	case CAT_SELECT:
		/* A card without an MF FCP still may run a toolkit: go on. */
		if (sw != SW_OK)
			log_info(LOG_CAT, "%s: SELECT MF answered %04X",
				 pcsc_reader_name(c->reader), sw);
		cat_send(c, CAT_PROFILE, APDU_CLA_UICC, INS_TERMINAL_PROFILE,
			 0, 0, c->profile, c->profile_len, -1);
		return;
	case CAT_PROFILE:
		if (sw != SW_OK && !apdu_sw_proactive(sw)) {
			log_err(LOG_CAT, "%s: TERMINAL PROFILE refused: %04X (%s)",
				pcsc_reader_name(c->reader), sw, apdu_sw_str(sw));
			cat_enter(c, CAT_FAILED);
			return;
		}
		log_info(LOG_CAT, "%s: terminal profile sent (%zu bytes), card answered %04X",
			 pcsc_reader_name(c->reader), c->profile_len, sw);
		if (c->ops && c->ops->profile_done)
			c->ops->profile_done(c->arg, c, sw);
		break;
	case CAT_FETCH:
		if (sw == SW_OK && res->len) {
			cat_answer_unknown(c, res->data, res->len);
			return;
		}
		log_warn(LOG_CAT, "%s: FETCH answered %04X (%s)",
			 pcsc_reader_name(c->reader), sw, apdu_sw_str(sw));
		break;
	case CAT_RESPONSE:
		if (sw != SW_OK && !apdu_sw_proactive(sw))
			log_warn(LOG_CAT, "%s: TERMINAL RESPONSE answered %04X (%s)",
				 pcsc_reader_name(c->reader), sw, apdu_sw_str(sw));
		break;
	default:
		break;
	}
	if (apdu_sw_proactive(sw)) {
		c->pending = SW2(sw);
		cat_fetch(c);
		return;
	}
	cat_enter(c, CAT_IDLE);
}

struct cat *cat_new(struct pcsc_reader *r, const struct cat_ops *ops, void *arg)
{
	static const uint8_t mf[] = { 0x3F, 0x00 };
	struct cat *c = calloc(1, sizeof(*c));
	int n;

	if (!c)
		return NULL;
	c->reader = r;
	c->ops = ops;
	c->arg = arg;
	c->state = CAT_OFF;
	n = cat_profile_build(c->profile, sizeof(c->profile), CAT_FEAT_NONE);
	if (n < 0) {
		free(c);
		return NULL;
	}
	c->profile_len = (size_t)n;
	/*
	 * UICC activation (TS 102 221 clause 14.5.1): select the MF, then
	 * TERMINAL PROFILE before any other toolkit exchange.
	 */
	if (cat_send(c, CAT_SELECT, 0x00, INS_SELECT, 0x00, 0x04, mf,
		     sizeof(mf), 256) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

void cat_free(struct cat *c)
{
	free(c);
}

enum cat_state cat_state(const struct cat *c)
{
	return c->state;
}

const uint8_t *cat_profile(const struct cat *c, size_t *len)
{
	*len = c->profile_len;
	return c->profile;
}
