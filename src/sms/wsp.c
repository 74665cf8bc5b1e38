/* SPDX-License-Identifier: MIT */
/*
 * WAP push over SMS: the WSP push PDU (WAP-230-WSP 8.2.4.1 and the header
 * encodings of 8.4), the SMS user data header (3GPP TS 23.040 9.2.3.24)
 * and the reassembly of concatenated segments.  See wsp.h.
 *
 * Every WSP value starts with an octet that says how it goes on
 * (WAP-230-WSP 8.4.1.2):
 *
 *     0 - 30     that many data octets follow (Short-length)
 *     31         a uintvar length follows, then that many octets
 *     32 - 127    a text string up to and including a NUL
 *     128 - 255   a 7-bit value in the octet itself (Short-integer)
 *
 * so any header we do not act upon can be skipped without knowing it.  The
 * decoder reads through a cursor bounded by the innermost length that
 * applies (the PDU, HeadersLen, a Value-length): a value can never reach
 * past the construct that holds it.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sms/wsp.h"
#include "util/cursor.h"

#define WSP_PDU_CONFIRMED_PUSH	0x07
#define WSP_SHORT_LENGTH_MAX	30	/* 0-30: Short-length */
#define WSP_LENGTH_QUOTE	31	/* a uintvar length follows */
#define WSP_TEXT_MIN		32	/* 32-127: text */
#define WSP_SHORT_INT		0x80	/* 128-255: Short-integer */
#define WSP_QUOTE		127	/* Text-string: text >= 128 follows */

/* 8.4.2.1: Shift-delimiter, then the page; 1-31 shift to that page. */
#define WSP_SHIFT_DELIMITER	127
#define WSP_SHORTCUT_SHIFT_MAX	31
#define WSP_PAGE_DEFAULT	1

/* Table 39, "X-Wap-Application-Id" on the default code page. */
#define WSP_HDR_APP_ID		0x2F
#define WSP_HDR_APP_ID_TEXT	"X-Wap-Application-Id"

/* TS 23.040 9.2.3.24: information element identifiers. */
#define UDH_IE_CONCAT8		0x00
#define UDH_IE_PORTS8		0x04
#define UDH_IE_PORTS16		0x05
#define UDH_IE_CONCAT16		0x08

/* 140 octets of 8-bit user data fill one SMS, UDH included. */
#define WSP_SEG_MAX		(WSP_REASM_MAX / 255)

/*
 * Every read goes through util/cursor.  8.1.2 uintvar is its
 * cursor_get_uintvar: five octets or 32 bits at most, as nothing in a PDU
 * that fits an SMS needs more.
 */

/*
 * A NUL-terminated text, into buf (NULL: only skipped).  A text that does
 * not fit is refused rather than cut: a cut name could be taken for
 * another.
 */
static int
cur_text(struct cursor *c, char *buf, size_t cap)
{
	const char *s;
	size_t n;

	if (!cursor_get_cstr(c, &s, &n))
		return -EBADMSG;
	if (buf != NULL) {
		if (n >= cap)
			return -EBADMSG;
		memcpy(buf, s, n + 1);
	}
	return 0;
}

/* Multi-octet-integer of n (1-30) octets; over 32 bits is refused. */
static int
cur_multi_octet(struct cursor *c, size_t n, unsigned *out)
{
	const uint8_t *p;
	uint64_t v = 0;

	if (n == 0 || !cursor_get_bytes(c, n, &p))
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		v = v << 8 | p[i];
		if (v > UINT_MAX)
			return -EBADMSG;
	}
	*out = (unsigned)v;
	return 0;
}

/*
 * The length announced by the first octet b (0-31) of a value: a
 * Short-length, or Length-quote and a uintvar.  It must fit in c.
 */
static int
cur_value_length(struct cursor *c, uint8_t b, size_t *n)
{
	uint32_t v = b;

	if (b == WSP_LENGTH_QUOTE && !cursor_get_uintvar(c, &v))
		return -EBADMSG;
	if (v > cursor_left(c))
		return -EBADMSG;
	*n = v;
	return 0;
}

/*
 * Integer-value (Short-integer or Long-integer) or text: the forms of the
 * media type (8.4.2.24) and of the application id (8.4.2.54).  A text
 * Uri-value may start with a Quote, which is not part of it.
 */
static int
cur_code_or_text(struct cursor *c, unsigned *code, char *text, size_t cap,
		 bool quoted)
{
	uint8_t b;

	*code = 0;
	text[0] = '\0';
	if (!cursor_peek_u8(c, &b))
		return -EBADMSG;
	if (b >= WSP_TEXT_MIN && b < WSP_SHORT_INT) {
		if (quoted && b == WSP_QUOTE)
			cursor_skip(c, 1);
		return cur_text(c, text, cap);
	}
	cursor_skip(c, 1);
	if (b >= WSP_SHORT_INT) {
		*code = b & 0x7Fu;
		return 0;
	}
	if (b > WSP_SHORT_LENGTH_MAX)
		return -EBADMSG;	/* Length-quote: no integer form */
	return cur_multi_octet(c, b, code);
}

/* Any value, of any header, in any of the four forms. */
static int
cur_skip_value(struct cursor *c)
{
	size_t n;
	uint8_t b;

	if (!cursor_peek_u8(c, &b))
		return -EBADMSG;
	if (b >= WSP_TEXT_MIN && b < WSP_SHORT_INT)
		return cur_text(c, NULL, 0);
	cursor_skip(c, 1);
	if (b >= WSP_SHORT_INT)
		return 0;
	if (cur_value_length(c, b, &n) < 0 || !cursor_skip(c, n))
		return -EBADMSG;
	return 0;
}

/*
 * 8.4.2.24 Content-type-value: a Short-integer, an Extension-media text, or
 * Content-general-form: Value-length, the media type (integer or text),
 * then parameters, which are skipped with the rest of the value.
 */
static int
wsp_content_type(struct cursor *c, struct wsp_push *w)
{
	struct cursor sub;
	size_t n;
	uint8_t b;

	if (!cursor_peek_u8(c, &b))
		return -EBADMSG;
	if (b >= WSP_TEXT_MIN && b < WSP_SHORT_INT)
		return cur_text(c, w->content_type_text,
				sizeof(w->content_type_text));
	cursor_skip(c, 1);
	if (b >= WSP_SHORT_INT) {
		w->content_type = b & 0x7Fu;
		return 0;
	}
	if (cur_value_length(c, b, &n) < 0 || !cursor_sub(c, n, &sub))
		return -EBADMSG;
	return cur_code_or_text(&sub, &w->content_type, w->content_type_text,
				sizeof(w->content_type_text), false);
}

/* Of several application ids the first counts; the others are skipped. */
static int
wsp_app_id(struct cursor *c, struct wsp_push *w)
{
	if (w->has_app_id)
		return cur_skip_value(c);
	w->has_app_id = true;
	return cur_code_or_text(c, &w->app_id, w->app_id_text,
				sizeof(w->app_id_text), true);
}

/*
 * 8.4.2.6 Application-header: Token-text then a Text-string.  The
 * application id may come this way too, header name in letters.
 */
static int
wsp_app_header(struct cursor *c, struct wsp_push *w)
{
	const char *name;
	size_t len;
	uint8_t b;

	if (!cursor_get_cstr(c, &name, &len))
		return -EBADMSG;
	if (strcasecmp(name, WSP_HDR_APP_ID_TEXT) == 0 && !w->has_app_id) {
		w->has_app_id = true;
		w->app_id = 0;
		if (cursor_peek_u8(c, &b) && b == WSP_QUOTE)
			cursor_skip(c, 1);
		return cur_text(c, w->app_id_text, sizeof(w->app_id_text));
	}
	return cur_text(c, NULL, 0);
}

/*
 * 8.4.2.1 Headers until the end of c.  Codes name header fields of the
 * current code page; only the default page's 0x2F is the application id.
 * Token-text (32-126) starts an Application-header; 127 is the Shift.
 */
static int
wsp_headers(struct cursor *c, struct wsp_push *w)
{
	unsigned page = WSP_PAGE_DEFAULT;
	uint8_t b = 0;
	int r;

	while (cursor_peek_u8(c, &b)) {
		if (b >= WSP_TEXT_MIN && b < WSP_SHIFT_DELIMITER) {
			r = wsp_app_header(c, w);
			if (r < 0)
				return r;
			continue;
		}
		cursor_skip(c, 1);
		if (b == WSP_SHIFT_DELIMITER) {
			if (!cursor_get_u8(c, &b) || b == 0)
				return -EBADMSG;
			page = b;
			continue;
		}
		if (b >= 1 && b <= WSP_SHORTCUT_SHIFT_MAX) {
			page = b;
			continue;
		}
		if (b == 0)
			return -EBADMSG;	/* no header starts so */
		if (page == WSP_PAGE_DEFAULT && (b & 0x7Fu) == WSP_HDR_APP_ID)
			r = wsp_app_id(c, w);
		else
			r = cur_skip_value(c);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * 8.2.4.1 Push PDU, connectionless (8.2.1: the TID first): TID, PDU type,
 * HeadersLen (uintvar), then HeadersLen octets of content type and
 * headers, then the body.
 */
int
wsp_push_decode(const uint8_t *p, size_t len, struct wsp_push *out)
{
	struct cursor c, hdr;
	uint32_t hlen;

	memset(out, 0, sizeof(*out));
	if (p == NULL || len < 2)
		return -EBADMSG;
	out->tid = p[0];
	out->pdu_type = p[1];
	if (out->pdu_type != WSP_PDU_PUSH &&
	    out->pdu_type != WSP_PDU_CONFIRMED_PUSH)
		return -EPROTO;
	cursor_init(&c, p + 2, len - 2);
	if (!cursor_get_uintvar(&c, &hlen) || !cursor_sub(&c, hlen, &hdr))
		return -EBADMSG;
	if (wsp_content_type(&hdr, out) < 0 || wsp_headers(&hdr, out) < 0)
		return -EBADMSG;
	out->body = c.pos;
	out->body_len = cursor_left(&c);
	return 0;
}

bool
wsp_push_is_dm(const struct wsp_push *w)
{
	bool ct, app;

	if (w->content_type_text[0] != '\0')
		ct = strcasecmp(w->content_type_text, WSP_CT_DM_NOTI_TEXT) == 0;
	else
		ct = w->content_type == WSP_CT_DM_NOTI;
	if (!w->has_app_id)
		app = true;
	else if (w->app_id_text[0] != '\0')
		app = strcasecmp(w->app_id_text, WSP_APP_ID_DM_TEXT) == 0;
	else
		app = w->app_id == WSP_APP_ID_DM;
	return ct && app;
}

/* ------------------------------------------------------------------------ */
/* User data header                                                         */

/*
 * One information element we act upon, its length already checked against
 * the header.  An element of the wrong length is a malformed header.  Of
 * repeated or mutually exclusive elements (8- and 16-bit forms) the last
 * one counts, as 9.2.3.24 asks.
 */
static int
udh_ie(uint8_t iei, const uint8_t *v, size_t n, struct sms_udh *h)
{
	switch (iei) {
	case UDH_IE_CONCAT8:
	case UDH_IE_CONCAT16:
		if (n != (iei == UDH_IE_CONCAT8 ? 3u : 4u))
			return -EBADMSG;
		h->concat = true;
		h->ref = iei == UDH_IE_CONCAT8 ? v[0] :
			 (uint16_t)(v[0] << 8 | v[1]);
		h->total = v[n - 2];
		h->seq = v[n - 1];
		return 0;
	case UDH_IE_PORTS8:
		if (n != 2)
			return -EBADMSG;
		h->has_ports = true;
		h->dst_port = v[0];
		h->src_port = v[1];
		return 0;
	case UDH_IE_PORTS16:
		if (n != 4)
			return -EBADMSG;
		h->has_ports = true;
		h->dst_port = (uint16_t)(v[0] << 8 | v[1]);
		h->src_port = (uint16_t)(v[2] << 8 | v[3]);
		return 0;
	default:
		return 0;	/* not ours: skipped by its length */
	}
}

/* 9.2.3.24: UDHL, then IEI, IEDL, IED... filling exactly UDHL octets. */
int
sms_udh_decode(const uint8_t *ud, size_t len, struct sms_udh *out)
{
	size_t udhl, i, n;

	memset(out, 0, sizeof(*out));
	if (ud == NULL || len < 1)
		return -EBADMSG;
	udhl = ud[0];
	if (udhl > len - 1)
		return -EBADMSG;
	for (i = 1; i < 1 + udhl; i += 2 + n) {
		if (1 + udhl - i < 2)
			return -EBADMSG;
		n = ud[i + 1];
		if (n > 1 + udhl - i - 2)
			return -EBADMSG;
		if (udh_ie(ud[i], ud + i + 2, n, out) < 0)
			return -EBADMSG;
	}
	out->payload = ud + 1 + udhl;
	out->payload_len = len - 1 - udhl;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Reassembly                                                               */

struct reasm_msg {
	char *sender;			/* NULL: the slot is free */
	uint16_t ref;
	uint8_t total, have;
	unsigned long born;		/* the reassembler's clock */
	uint8_t *seg[255];		/* by seq - 1; NULL until received */
	size_t seg_len[255];
};

struct wsp_reasm {
	struct reasm_msg m[WSP_REASM_SLOTS];
	unsigned long clock;
};

struct wsp_reasm *
wsp_reasm_new(void)
{
	return calloc(1, sizeof(struct wsp_reasm));
}

static void
reasm_drop(struct reasm_msg *m)
{
	unsigned i;

	for (i = 0; i < 255; i++)
		free(m->seg[i]);
	free(m->sender);
	memset(m, 0, sizeof(*m));
}

void
wsp_reasm_free(struct wsp_reasm *r)
{
	unsigned i;

	if (r == NULL)
		return;
	for (i = 0; i < WSP_REASM_SLOTS; i++)
		reasm_drop(&r->m[i]);
	free(r);
}

/* A copy that the caller owns; malloc(0) may be NULL, so never 0. */
static uint8_t *
dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n > 0 ? n : 1);

	if (d != NULL && n > 0)
		memcpy(d, p, n);
	return d;
}

static struct reasm_msg *
reasm_find(struct wsp_reasm *r, const char *sender,
	   const struct sms_udh *h)
{
	struct reasm_msg *m;
	unsigned i;

	for (i = 0; i < WSP_REASM_SLOTS; i++) {
		m = &r->m[i];
		if (m->sender != NULL && m->ref == h->ref &&
		    m->total == h->total && strcmp(m->sender, sender) == 0)
			return m;
	}
	return NULL;
}

/* A free slot, or the one started first, emptied. */
static struct reasm_msg *
reasm_slot(struct wsp_reasm *r)
{
	struct reasm_msg *old = &r->m[0];
	unsigned i;

	for (i = 0; i < WSP_REASM_SLOTS; i++) {
		if (r->m[i].sender == NULL)
			return &r->m[i];
		if (r->m[i].born < old->born)
			old = &r->m[i];
	}
	reasm_drop(old);
	return old;
}

static int
reasm_start(struct wsp_reasm *r, const char *sender,
	    const struct sms_udh *h, struct reasm_msg **out)
{
	struct reasm_msg *m = reasm_slot(r);

	if ((m->sender = strdup(sender)) == NULL)
		return -ENOMEM;
	m->ref = h->ref;
	m->total = h->total;
	m->born = r->clock++;
	*out = m;
	return 0;
}

/* The segments in order, in one buffer; the slot is freed. */
static int
reasm_join(struct reasm_msg *m, uint8_t **out, size_t *out_len)
{
	size_t len = 0, i;
	uint8_t *p;

	for (i = 0; i < m->total; i++)
		len += m->seg_len[i];
	if ((p = malloc(len > 0 ? len : 1)) == NULL)
		return -ENOMEM;
	*out = p;
	*out_len = len;
	for (i = 0; i < m->total; i++) {
		memcpy(p, m->seg[i], m->seg_len[i]);
		p += m->seg_len[i];
	}
	reasm_drop(m);
	return 1;
}

static bool
reasm_same(const struct reasm_msg *m, unsigned k, const struct sms_udh *h)
{
	return m->seg_len[k] == h->payload_len &&
	       (h->payload_len == 0 ||
		memcmp(m->seg[k], h->payload, h->payload_len) == 0);
}

int
wsp_reasm_add(struct wsp_reasm *r, const char *sender,
	      const struct sms_udh *h, uint8_t **out, size_t *out_len)
{
	struct reasm_msg *m;
	unsigned k;
	int e;

	*out = NULL;
	*out_len = 0;
	if (h->payload_len > WSP_SEG_MAX ||
	    (h->payload == NULL && h->payload_len > 0))
		return -EBADMSG;
	if (h->concat && (h->seq == 0 || h->seq > h->total))
		return -EBADMSG;
	if (!h->concat || h->total == 1) {
		if ((*out = dup_bytes(h->payload, h->payload_len)) == NULL)
			return -ENOMEM;
		*out_len = h->payload_len;
		return 1;
	}
	if (sender == NULL)
		sender = "";
	k = h->seq - 1u;
	m = reasm_find(r, sender, h);
	/*
	 * The same segment again is a repetition by the network; other
	 * bytes under the same number mean the sender reused the reference
	 * for a new message, the old one having lost a segment: start again.
	 */
	if (m != NULL && m->seg[k] != NULL) {
		if (reasm_same(m, k, h))
			return 0;
		reasm_drop(m);
		m = NULL;
	}
	if (m == NULL && (e = reasm_start(r, sender, h, &m)) < 0)
		return e;
	if ((m->seg[k] = dup_bytes(h->payload, h->payload_len)) == NULL)
		return -ENOMEM;
	m->seg_len[k] = h->payload_len;
	if (++m->have < m->total)
		return 0;
	return reasm_join(m, out, out_len);
}
