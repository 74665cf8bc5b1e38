/* SPDX-License-Identifier: MIT */
/*
 * The modem side: SMS in (WAP push -> DM client), SEND SHORT MESSAGE out,
 * network events to the wake-up sources.  See sms.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat/cat.h"
#include "cat/envelope.h"
#include "cat/proactive.h"
#include "cat/profile.h"
#include "card/tlv.h"
#include "conf.h"
#include "dm/client.h"
#include "log.h"
#include "sms/mm.h"
#include "sms/sms.h"
#include "sms/tpdu.h"
#include "sms/wsp.h"
#include "util/errbuf.h"
#include "util/hex.h"
#include "util/sdbus.h"
#include "wakeup/wakeup.h"

struct sms_service {
	struct sdbus *bus;
	const struct conf *conf;
	struct cat_engine *e;
	struct wakeup *w;
	struct dm_client *dc;
	struct mm *mm;
	char modem[64];			/* what mm follows */
	bool said_no_bus;		/* that there is no modem without D-Bus */
	/* SEND SHORT MESSAGE waiting for the modem: one per card at most */
	struct pending_sms {
		struct sms_service *s;
		struct cat *c;
		bool live;
	} sending[4];
};

/* ------------------------------------------------------------------------ */
/* DM Notifications in                                                      */

/*
 * Find the WAP push in p: a WSP push PDU (what ModemManager gives: the user
 * data without its header), or user data that starts with its header for
 * WDP port 2948 (sources that give it whole).  Returns 1 with *w decoded,
 * 0 when p is no push at all, -EBADMSG (why filled) for a broken one.
 */
static int find_push(const uint8_t *p, size_t len, struct wsp_push *w,
		     char *why, size_t whylen)
{
	struct sms_udh h;

	if (len >= 2 && (p[1] == WSP_PDU_PUSH || p[1] == WSP_PDU_PUSH + 1) &&
	    wsp_push_decode(p, len, w) == 0)
		return 1;
	if (sms_udh_decode(p, len, &h) < 0 || !h.has_ports ||
	    h.dst_port != WDP_PORT_PUSH)
		return 0;
	if (h.concat && h.total > 1) {
		errbuf_set(why, whylen, "segment %u of %u of a concatenated "
			   "push: give the whole", h.seq, h.total);
		return -EBADMSG;
	}
	if (wsp_push_decode(h.payload, h.payload_len, w) < 0) {
		errbuf_set(why, whylen, "malformed WAP push on port %u",
			   WDP_PORT_PUSH);
		return -EBADMSG;
	}
	return 1;
}

/* A decoded push: its body to the DM client when it is a DM notification. */
static int push_to_client(struct dm_client *dc, const struct wsp_push *w,
			  const char *source, char *why, size_t whylen)
{
	if (!wsp_push_is_dm(w)) {
		errbuf_set(why, whylen, "WAP push for %s (content type %s%s)",
			   w->has_app_id && w->app_id != WSP_APP_ID_DM ?
			   "another application" : "something else",
			   w->content_type ? "code " : w->content_type_text,
			   w->content_type ? (w->content_type == WSP_CT_DM_NOTI ?
					      "0x44" : "other") : "");
		return -EPROTO;
	}
	return dm_client_notify(dc, w->body, w->body_len, source, why, whylen);
}

/* The WAP push in p, exactly: anything else is refused, never guessed. */
static int notify_push(struct dm_client *dc, const uint8_t *p, size_t len,
		       const char *source, char *why, size_t whylen)
{
	struct wsp_push w;
	int r = find_push(p, len, &w, why, whylen);

	if (r == 0) {
		errbuf_set(why, whylen, "not a WAP push (neither a WSP push PDU "
			   "nor SMS user data for port %u)", WDP_PORT_PUSH);
		r = -EBADMSG;
	}
	if (r < 0) {
		log_notice(LOG_SMS, "notification by %s refused: %s", source,
			   why);
		return r;
	}
	r = push_to_client(dc, &w, source, why, whylen);
	/* dm_client_notify logs its own refusals, and never says -EPROTO */
	if (r == -EPROTO)
		log_notice(LOG_SMS, "notification by %s refused: %s", source,
			   why);
	return r;
}

int sms_notify(struct dm_client *dc, enum sms_notify_kind kind,
	       const uint8_t *p, size_t len, const char *source, char *why,
	       size_t whylen)
{
	if (kind == SMS_NOTIFY_WAP_PUSH)
		return notify_push(dc, p, len, source, why, whylen);
	return dm_client_notify(dc, p, len, source, why, whylen);
}

static void on_sms(void *arg, const char *path, const uint8_t *data,
		   size_t len, const char *number)
{
	struct sms_service *s = arg;
	struct wsp_push w;
	char why[200];
	int r = find_push(data, len, &w, why, sizeof(why));

	if (r == 0) {
		log_debug(LOG_SMS, "SMS %s from %s: not a WAP push, left alone",
			  path, number);
		return;
	}
	if (r > 0)
		r = push_to_client(s->dc, &w, "sms", why, sizeof(why));
	if (r == -EPROTO) {
		/* a refused notification is logged at notice, whatever its source */
		log_notice(LOG_SMS, "SMS %s from %s: %s, left alone", path,
			   number, why);
		return;
	}
	if (r < 0) {
		char hex[2 * 64 + 1];

		hex_encode(hex, data, len < 64 ? len : 64);
		log_notice(LOG_SMS, "SMS %s from %s: %s; kept (%zu bytes: %s%s)",
			   path, number, why, len, hex, len > 64 ? "..." : "");
		return;
	}
	log_info(LOG_SMS, "SMS %s from %s: DM notification taken", path,
		 number);
	if (s->conf->modem.delete_sms)
		mm_sms_delete(s->mm, path);
}

/* ------------------------------------------------------------------------ */
/* Network events                                                           */

static void on_network(void *arg, const struct mm_network *n)
{
	struct sms_service *s = arg;
	struct cat_location loc;
	uint8_t status;

	memset(&loc, 0, sizeof(loc));
	switch (n->reg) {
	case MM_REG_HOME:
	case MM_REG_ROAMING:
		status = CAT_LOC_NORMAL;
		break;
	case MM_REG_DENIED:
		status = CAT_LOC_LIMITED;
		break;
	default:
		status = CAT_LOC_NO_SERVICE;
	}
	/* where we are counts only when registered there */
	if (status == CAT_LOC_NORMAL) {
		if (strlen(n->mcc) != 3 ||
		    (strlen(n->mnc) != 2 && strlen(n->mnc) != 3)) {
			log_debug(LOG_SMS, "registered, operator not known yet");
			return;
		}
		snprintf(loc.mcc, sizeof(loc.mcc), "%s", n->mcc);
		snprintf(loc.mnc, sizeof(loc.mnc), "%s", n->mnc);
		loc.lac = (uint16_t)n->lac;
		loc.cell = n->cell;
		loc.rat = n->rat == 2 ? CAT_RAT_EUTRAN :
			  n->rat == 1 ? CAT_RAT_UTRAN : CAT_RAT_GSM;
	}
	log_info(LOG_SMS, "network: status %02X, %s-%s LAC %u cell %u",
		 status, loc.mcc, loc.mnc, loc.lac, loc.cell);
	if (s->w)
		wakeup_location(s->w, status, &loc);
}

struct call_check {
	struct sms_service *s;
	char path[128];
	char number[41];
};

static void call_verdict(void *arg, int err, const struct cat_cc_answer *a)
{
	struct call_check *cc = arg;

	if (err) {
		log_info(LOG_SMS, "outgoing call to %s: call control not "
			 "asked (%s), the call goes on", cc->number,
			 strerror(-err));
	} else if (a->verdict == CAT_CC_NOT_ALLOWED) {
		log_notice(LOG_SMS, "outgoing call to %s: not allowed by the "
			   "card, hanging up", cc->number);
		if (cc->s->mm) {
			mm_call_hangup(cc->s->mm, cc->path);
			sdbus_kick(cc->s->bus);	/* from a card's answer */
		}
	} else if (a->verdict == CAT_CC_ALLOWED_MODIFIED) {
		log_notice(LOG_SMS, "outgoing call to %s: the card would have "
			   "it go to %s; ModemManager cannot change a call's "
			   "number, it goes on", cc->number, a->number);
	} else {
		log_info(LOG_SMS, "outgoing call to %s: allowed by the card",
			 cc->number);
	}
	free(cc);
}

static void on_call(void *arg, const char *path, const char *number)
{
	struct sms_service *s = arg;
	struct call_check *cc = calloc(1, sizeof(*cc));

	if (!cc || !s->w) {
		free(cc);
		return;
	}
	cc->s = s;
	snprintf(cc->path, sizeof(cc->path), "%s", path);
	snprintf(cc->number, sizeof(cc->number), "%s", number);
	log_info(LOG_SMS, "outgoing call to %s: asking call control", number);
	/* done runs once in every case, also at once on an error */
	wakeup_call(s->w, NULL, number, call_verdict, cc);
}

static void on_modem(void *arg, bool present, const char *id)
{
	struct sms_service *s = arg;

	if (present) {
		log_notice(LOG_SMS, "modem %s in use: SEND SHORT MESSAGE "
			   "offered to cards that start from now", id);
		cat_engine_enable(s->e, CAP_BIT(CAP_SEND_SMS));
	} else {
		log_notice(LOG_SMS, "no modem: SEND SHORT MESSAGE no longer "
			   "offered");
		cat_engine_disable(s->e, CAP_BIT(CAP_SEND_SMS));
	}
}

static const struct mm_ops mm_ops = {
	.modem = on_modem,
	.sms = on_sms,
	.network = on_network,
	.call = on_call,
};

/* ------------------------------------------------------------------------ */
/* SEND SHORT MESSAGE                                                       */

/* Is c still a card of the engine, waiting for its answer? */
static bool card_waits(struct sms_service *s, const struct cat *c)
{
	for (struct cat *k = cat_engine_first(s->e); k; k = cat_engine_next(k))
		if (k == c)
			return cat_state(k) == CAT_COMMAND;
	return false;
}

static void sent(void *arg, int err, const char *error_name, const char *why)
{
	struct pending_sms *p = arg;

	if (!p->live)
		return;
	p->live = false;
	if (!card_waits(p->s, p->c)) {
		log_info(LOG_SMS, "SEND SHORT MESSAGE done (%s), but the card "
			 "has gone", err ? "failed" : "sent");
		return;
	}
	if (!err) {
		log_info(LOG_SMS, "%s: SEND SHORT MESSAGE: sent", cat_name(p->c));
		cat_respond(p->c, CAT_RES_OK, NULL, 0, NULL, 0);
		return;
	}
	log_notice(LOG_SMS, "%s: SEND SHORT MESSAGE failed: %s (%s)",
		   cat_name(p->c), why ? why : "", error_name ? error_name : "");
	if (error_name && strstr(error_name, ".MessageError."))
		/* the network refused it: SMS RP-ERROR, cause not known */
		cat_respond(p->c, CAT_RES_SMS_RP_ERROR, NULL, 0, NULL, 0);
	else
		cat_respond(p->c, CAT_RES_NETWORK_UNABLE,
			    (const uint8_t[]){ 0x00 }, 1, NULL, 0);
}

/* The objects of the command: the TPDU (mandatory). */
static int sms_objects(const uint8_t *raw, size_t len, struct tlv *tpdu)
{
	struct tlv_iter it;
	struct tlv d0;
	int r;

	tlv_iter_init(&it, raw, len);
	if (tlv_ber_next(&it, &d0) != 1)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	r = tlv_ctlv_find(d0.val, d0.len, CAT_TAG_SMS_TPDU, tpdu);
	if (r < 0)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	return r == 0 ? CAT_RES_VALUES_MISSING : 0;
}

/* UCS2 (big-endian) to UTF-8; surrogates are refused. */
static int ucs2_to_utf8(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned c = (unsigned)p[i] << 8 | p[i + 1];

		if (c >= 0xD800 && c < 0xE000)
			return -EILSEQ;
		if (o + 4 >= cap)
			return -ENOSPC;
		if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xC0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3F));
		} else {
			out[o++] = (char)(0xE0 | c >> 12);
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (c & 0x3F));
		}
	}
	out[o] = 0;
	return (int)o;
}

static void send_short_message(void *arg, struct cat *c,
			       const struct cat_cmd *cmd, const uint8_t *raw,
			       size_t len)
{
	struct sms_service *s = arg;
	struct pending_sms *p = NULL;
	struct sms_submit sub;
	struct tlv tpdu;
	char text[4 * SMS_UD_MAX + 1];
	bool pack = cmd->det.qualifier & 0x01;
	const uint8_t *data = NULL;
	size_t dlen = 0;
	int r;

	if (!s->mm || !mm_usable(s->mm)) {
		log_notice(LOG_SMS, "%s: SEND SHORT MESSAGE with no modem",
			   cat_name(c));
		cat_respond(c, CAT_RES_TERMINAL_UNABLE,
			    (const uint8_t[]){ CAT_UNABLE_NO_SERVICE }, 1,
			    NULL, 0);
		return;
	}
	r = sms_objects(raw, len, &tpdu);
	if (r) {
		cat_respond(c, (uint8_t)r, NULL, 0, NULL, 0);
		return;
	}
	if (sms_submit_decode(tpdu.val, tpdu.len, &sub) < 0 || !*sub.da) {
		log_hex(LOG_SMS, "SMS TPDU refused", tpdu.val, tpdu.len);
		cat_respond(c, CAT_RES_DATA_NOT_UNDERSTOOD, NULL, 0, NULL, 0);
		return;
	}
	if (sub.udhi) {
		/* ModemManager takes user data, not a header of ours */
		log_notice(LOG_SMS, "%s: SEND SHORT MESSAGE with a user data "
			   "header: not supported", cat_name(c));
		cat_respond(c, CAT_RES_BEYOND_CAPABILITIES, NULL, 0, NULL, 0);
		return;
	}
	/* packing required: the 8-bit data are unpacked GSM characters */
	if (sub.alphabet == SMS_GSM7 || (pack && sub.alphabet == SMS_8BIT))
		r = gsm7_to_utf8(sub.ud, sub.ud_len, text, sizeof(text));
	else if (sub.alphabet == SMS_UCS2)
		r = ucs2_to_utf8(sub.ud, sub.ud_len, text, sizeof(text));
	else {
		data = sub.ud;
		dlen = sub.ud_len;
		r = dlen > 140 ? -EMSGSIZE : 0;	/* 140 octets in one SMS */
	}
	if (r < 0) {
		cat_respond(c, CAT_RES_DATA_NOT_UNDERSTOOD, NULL, 0, NULL, 0);
		return;
	}
	for (size_t i = 0; i < sizeof(s->sending) / sizeof(s->sending[0]); i++)
		if (!s->sending[i].live) {
			p = &s->sending[i];
			break;
		}
	if (!p) {
		cat_respond(c, CAT_RES_TERMINAL_UNABLE,
			    (const uint8_t[]){ CAT_UNABLE_NO_CAUSE }, 1, NULL, 0);
		return;
	}
	p->s = s;
	p->c = c;
	p->live = true;
	log_info(LOG_SMS, "%s: SEND SHORT MESSAGE to %s (%s, %zu %s)",
		 cat_name(c), sub.da, data ? "8-bit" : "text",
		 data ? dlen : strlen(text), data ? "bytes" : "bytes of UTF-8");
	r = mm_sms_send(s->mm, sub.da, data, dlen, data ? NULL : text, sent, p);
	sdbus_kick(s->bus);	/* queued from the card's side, not the bus's */
	if (r < 0) {
		p->live = false;
		cat_respond(c, CAT_RES_NETWORK_UNABLE, (const uint8_t[]){ 0 },
			    1, NULL, 0);
	}
}

/* ------------------------------------------------------------------------ */

static void follow(struct sms_service *s)
{
	const struct conf *c = s->conf;
	bool want = s->bus && c->modem.enable;

	/* ModemManager is reached on the bus: without one, say so once */
	if (!s->bus && c->modem.enable && !s->said_no_bus) {
		log_notice(LOG_SMS, "no D-Bus connection: the modem support is "
			   "off (no ModemManager, no SMS, no SEND SHORT MESSAGE)");
		s->said_no_bus = true;
	}
	if (s->mm && (!want || strcmp(s->modem, c->modem.modem))) {
		mm_free(s->mm);
		s->mm = NULL;
		cat_engine_disable(s->e, CAP_BIT(CAP_SEND_SMS));
	}
	if (want && !s->mm) {
		snprintf(s->modem, sizeof(s->modem), "%s", c->modem.modem);
		s->mm = mm_new(sdbus_sd(s->bus), s->modem, &mm_ops, s);
		if (!s->mm)
			log_err(LOG_SMS, "cannot follow ModemManager: out of memory");
		sdbus_kick(s->bus);
	}
}

struct sms_service *sms_new(struct sdbus *bus, const struct conf *c,
			    struct cat_engine *e, struct wakeup *w,
			    struct dm_client *dc)
{
	struct sms_service *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->bus = bus;
	s->conf = c;
	s->e = e;
	s->w = w;
	s->dc = dc;
	cat_engine_handle(e, CAT_SEND_SHORT_MESSAGE, send_short_message, s);
	follow(s);
	return s;
}

void sms_reconfigure(struct sms_service *s, const struct conf *c)
{
	s->conf = c;
	follow(s);
}

void sms_free(struct sms_service *s)
{
	if (!s)
		return;
	mm_free(s->mm);
	free(s);
}
