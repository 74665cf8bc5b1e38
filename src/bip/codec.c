/* SPDX-License-Identifier: MIT */
/*
 * Bearer Independent Protocol codings: the data of OPEN CHANNEL, SEND DATA
 * and RECEIVE DATA (ETSI TS 102 223 clauses 6.6.27-30, 3GPP TS 31.111
 * 6.6.27), the objects the terminal returns for the five BIP commands
 * (8.52-8.56) and the Terminal Applications envelope (8.88).
 *
 * The decoders get the whole D0 object that cat_cmd_decode() has already
 * accepted (command details first, device identities, no unknown
 * comprehension-required object) and walk its C-TLVs again with the bounded
 * reader of card/tlv.h.  They answer in the order of TS 102 223 6.10, as
 * cat_cmd_decode() does: a malformed list is 32, a missing mandatory object
 * 36, then a present object whose value cannot be used is 32; last, the
 * objects mandatory only in some modes of OPEN CHANNEL, which the values
 * read tell apart, are 36 when missing.  Of a
 * duplicated object the first is used (the other address excepted, which
 * legitimately appears twice).  Objects the terminal does not act upon
 * (alpha identifier, icon, text strings, durations, text attribute...) are
 * skipped.
 *
 * Comprehension-required flags of the returned objects follow the TS 31.124
 * expected sequences object by object, because they differ between
 * commands (the same choice as in oFono's collection of those sequences):
 *
 *   OPEN CHANNEL 27.22.4.27 2.1.1, 2.7.1   38 channel status, 35 bearer
 *                                          description, 39 buffer size:
 *                                          CR clear
 *   RECEIVE DATA 27.22.4.29 1.1.1          B6 channel data, B7 channel
 *                                          data length: CR set
 *   SEND DATA 27.22.4.30 1.1.1, 1.2.1      B7 channel data length
 *   GET CHANNEL STATUS 27.22.4.31 1.x.1    B8 channel status: CR set
 *
 * so the channel status has two writers: bip_put_channel_status() for
 * OPEN CHANNEL, bip_put_channel_status_list() for GET CHANNEL STATUS.  The
 * event envelopes (cat/envelope.c) set CR on channel status and data length
 * as TS 102 223 7.5.10.2 / 7.5.11.2 and 27.22.7.10 / 27.22.7.11 do.
 */
#include <errno.h>
#include <string.h>

#include "bip/codec.h"
#include "card/tlv.h"
#include "cat/envelope.h"
#include "cat/proactive.h"

#define CR	0x80

/* TS 101 220 table 7.23: C-TLV tags of the Terminal Applications envelope. */
#define BIP_TAG_LAST_ENVELOPE		0x70
#define BIP_TAG_REGISTRY_APP_DATA	0x71

/* TS 102 223 8.58: type of address of the other address. */
#define BIP_ADDR_IPV4	0x21
#define BIP_ADDR_IPV6	0x57

/* TS 102 223 8.88: data coding scheme of the application name (TS 23.038). */
#define BIP_DCS_GSM_UNPACKED	0x04

/* The ENVELOPE command carries at most 255 bytes (TS 102 221 10.1.1). */
#define BIP_ENVELOPE_MAX	255

/*
 * The C-TLV list inside the D0 object.  Bytes after the D0 object are
 * padding (as in cat_cmd_decode()); a D0 object that does not fit is 32.
 */
static int
bip_body(const uint8_t *p, size_t len, struct tlv_iter *it)
{
	struct tlv_iter outer;
	struct tlv t = { 0 };

	tlv_iter_init(&outer, p, len);
	if (p == NULL || tlv_ber_next(&outer, &t) != 1 ||
	    t.tag != CAT_BER_PROACTIVE)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	tlv_iter_init(it, t.val, t.len);
	return 0;
}

/* 8.6: every command table of clause 6.6 starts with them. */
static bool
bip_is_command_details(const struct tlv *t)
{
	return t->tag == CAT_TAG_COMMAND_DETAILS && t->len == 3;
}

/*
 * Hand every object of the command to visit(): 0, or 32 when the list is
 * malformed anywhere or does not start with the command details.
 */
static int
bip_walk(const uint8_t *p, size_t len,
	 void (*visit)(const struct tlv *t, void *arg), void *arg)
{
	struct tlv_iter it;
	struct tlv t = { 0 };
	bool first = true;
	int r;

	r = bip_body(p, len, &it);
	if (r != 0)
		return r;
	while ((r = tlv_ctlv_next(&it, &t)) == 1) {
		if (first && !bip_is_command_details(&t))
			return CAT_RES_DATA_NOT_UNDERSTOOD;
		first = false;
		visit(&t, arg);
	}
	if (r < 0 || first)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	return 0;
}

/* Keep the first occurrence of an object: val stays NULL until then. */
static void
bip_keep(struct tlv *slot, const struct tlv *t)
{
	if (slot->val == NULL)
		*slot = *t;
}

struct bip_find_arg {
	unsigned tag;
	struct tlv found;
};

static void
bip_find_visit(const struct tlv *t, void *arg)
{
	struct bip_find_arg *a = arg;

	if (t->tag == a->tag)
		bip_keep(&a->found, t);
}

/* The first object with tag: 1 found, 0 not found, or 32. */
static int
bip_find(const uint8_t *p, size_t len, unsigned tag, struct tlv *out)
{
	struct bip_find_arg a;
	int r;

	memset(&a, 0, sizeof(a));
	a.tag = tag;
	r = bip_walk(p, len, bip_find_visit, &a);
	if (r != 0)
		return r;
	*out = a.found;
	return a.found.val != NULL ? 1 : 0;
}

/*
 * Other address, TS 102 223 8.58: empty (the terminal allocates the
 * address dynamically), or the type of address then 4 (IPv4) or 16 (IPv6)
 * bytes.  Anything else is 32.
 */
static int
bip_address_decode(const struct tlv *t, struct bip_address *a)
{
	memset(a, 0, sizeof(*a));
	if (t->len == 0)
		return 0;
	if (t->val[0] == BIP_ADDR_IPV4 && t->len == 1 + 4) {
		a->family = 4;
		memcpy(a->addr, t->val + 1, 4);
		return 0;
	}
	if (t->val[0] == BIP_ADDR_IPV6 && t->len == 1 + 16) {
		a->family = 6;
		memcpy(a->addr, t->val + 1, 16);
		return 0;
	}
	return CAT_RES_DATA_NOT_UNDERSTOOD;
}

/*
 * Network access name, TS 102 223 8.70: an APN as in TS 23.003 9.1, a
 * sequence of labels each preceded by its length, rendered with dots.  A
 * label of length 0 or running past the object, a character that is not
 * printable ASCII or a dot inside a label (the dotted form would no longer
 * say where labels end), or a name longer than cap - 1 is 32.  An empty
 * object is no name.
 */
static int
bip_apn_decode(const uint8_t *v, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0, n, k;
	uint8_t c;

	while (i < len) {
		n = v[i++];
		if (n == 0 || n > len - i)
			return CAT_RES_DATA_NOT_UNDERSTOOD;
		if (o > 0)
			out[o++] = '.';
		if (n >= cap - o)
			return CAT_RES_DATA_NOT_UNDERSTOOD;
		for (k = 0; k < n; k++) {
			c = v[i + k];
			if (c <= 0x20 || c >= 0x7F || c == '.')
				return CAT_RES_DATA_NOT_UNDERSTOOD;
			out[o++] = (char)c;
		}
		i += n;
	}
	out[o] = '\0';
	return 0;
}

/* The first occurrence of each object OPEN CHANNEL uses; val NULL if none. */
struct bip_open_objs {
	struct tlv cd, bearer, buffer, transport, apn;
	struct tlv addr[2];
	size_t naddr;
};

static void
bip_open_visit(const struct tlv *t, void *arg)
{
	struct bip_open_objs *ob = arg;

	switch (t->tag) {
	case CAT_TAG_COMMAND_DETAILS:
		bip_keep(&ob->cd, t);
		break;
	case CAT_TAG_BEARER_DESC:
		bip_keep(&ob->bearer, t);
		break;
	case CAT_TAG_BUFFER_SIZE:
		bip_keep(&ob->buffer, t);
		break;
	case CAT_TAG_TRANSPORT_LEVEL:
		bip_keep(&ob->transport, t);
		break;
	case CAT_TAG_NETWORK_ACCESS_NAME:
		bip_keep(&ob->apn, t);
		break;
	case CAT_TAG_OTHER_ADDRESS:
		/*
		 * 6.6.27: "other address (local address)" comes before the
		 * transport level, "data destination address" after it; a
		 * third one has no meaning.
		 */
		if (ob->naddr < 2)
			ob->addr[ob->naddr++] = *t;
		break;
	default:
		break;
	}
}

static bool
bip_transport_local(uint8_t tr)
{
	return tr == BIP_TCP_SERVER || tr == BIP_UDP_LOCAL ||
	       tr == BIP_TCP_LOCAL || tr == BIP_DIRECT;
}

/*
 * OPEN CHANNEL, TS 102 223 6.6.27 and TS 31.111 6.6.27.  Buffer size is
 * mandatory in every variant.  The bearer description is mandatory except
 * where no network bearer is involved: UICC server mode (6.6.27.5,
 * transport 03, which carries none), and - leniently - the local transports
 * of terminal server mode and direct communication (04, 05, 06).  The data
 * destination address is required with the remote client transports 01/02,
 * whose peer it names.  A bearer without a transport level (a raw CS or
 * packet bearer) decodes; whether it can be served is the engine's
 * question (30).
 */
int
bip_open_decode(const uint8_t *p, size_t len, struct bip_open *o)
{
	struct bip_open_objs ob;
	int r;

	memset(o, 0, sizeof(*o));
	memset(&ob, 0, sizeof(ob));
	r = bip_walk(p, len, bip_open_visit, &ob);
	if (r != 0)
		return r;
	if (ob.buffer.val == NULL)
		return CAT_RES_VALUES_MISSING;

	/* 8.6, checked by bip_walk() */
	o->qualifier = ob.cd.val[2];
	/* 8.52: bearer type, then its parameters */
	if (ob.bearer.val != NULL) {
		if (ob.bearer.len == 0 || ob.bearer.len > sizeof(o->bearer))
			return CAT_RES_DATA_NOT_UNDERSTOOD;
		o->has_bearer = true;
		memcpy(o->bearer, ob.bearer.val, ob.bearer.len);
		o->bearer_len = ob.bearer.len;
	}
	/* 8.55 */
	if (ob.buffer.len != 2)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	o->buffer_size = (uint16_t)(ob.buffer.val[0] << 8 | ob.buffer.val[1]);
	/* 8.59: transport protocol type, port number */
	if (ob.transport.val != NULL) {
		if (ob.transport.len != 3 ||
		    ob.transport.val[0] < BIP_UDP_REMOTE ||
		    ob.transport.val[0] > BIP_DIRECT)
			return CAT_RES_DATA_NOT_UNDERSTOOD;
		o->has_transport = true;
		o->transport = ob.transport.val[0];
		o->port = (uint16_t)(ob.transport.val[1] << 8 |
				     ob.transport.val[2]);
	}
	/* 8.58: with two, local address then data destination address */
	if (ob.naddr == 2) {
		r = bip_address_decode(&ob.addr[0], &o->local);
		if (r == 0)
			r = bip_address_decode(&ob.addr[1], &o->dest);
	} else if (ob.naddr == 1) {
		r = bip_address_decode(&ob.addr[0], &o->dest);
	}
	if (r != 0)
		return r;
	/* 8.70 */
	if (ob.apn.val != NULL) {
		r = bip_apn_decode(ob.apn.val, ob.apn.len, o->apn,
				   sizeof(o->apn));
		if (r != 0)
			return r;
	}

	if (!o->has_bearer &&
	    !(o->has_transport && bip_transport_local(o->transport)))
		return CAT_RES_VALUES_MISSING;
	if (o->has_transport && (o->transport == BIP_UDP_REMOTE ||
				 o->transport == BIP_TCP_REMOTE) &&
	    o->dest.family == 0)
		return CAT_RES_VALUES_MISSING;
	return 0;
}

/*
 * SEND DATA, 6.6.30: channel data (8.53) mandatory, possibly empty.  A
 * TERMINAL RESPONSE-sized APDU cannot carry more than 255 bytes of it, so
 * more is 32.
 */
int
bip_send_decode(const uint8_t *p, size_t len, const uint8_t **data,
		size_t *dlen)
{
	struct tlv t = { 0 };
	int r;

	*data = NULL;
	*dlen = 0;
	r = bip_find(p, len, CAT_TAG_CHANNEL_DATA, &t);
	if (r == 0)
		return CAT_RES_VALUES_MISSING;
	if (r != 1)
		return r;
	if (t.len > 0xFF)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	*data = t.val;
	*dlen = t.len;
	return 0;
}

/* RECEIVE DATA, 6.6.29: channel data length (8.54), one byte, mandatory. */
int
bip_receive_decode(const uint8_t *p, size_t len, uint8_t *want)
{
	struct tlv t = { 0 };
	int r;

	*want = 0;
	r = bip_find(p, len, CAT_TAG_CHANNEL_DATA_LEN, &t);
	if (r == 0)
		return CAT_RES_VALUES_MISSING;
	if (r != 1)
		return r;
	if (t.len != 1)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	*want = t.val[0];
	return 0;
}

/* One C-TLV into out; the length or -ENOSPC. */
static int
bip_put(uint8_t *out, size_t cap, uint8_t tag, const uint8_t *v, size_t n)
{
	struct tlv_buf b;

	tlv_buf_init(&b, out, cap);
	tlv_put_ctlv(&b, tag, v, n);
	return tlv_buf_ok(&b) ? (int)b.len : -ENOSPC;
}

/* 8.56, OPEN CHANNEL response: 38, CR clear (27.22.4.27 2.1.1). */
int
bip_put_channel_status(uint8_t *out, size_t cap, uint8_t s1, uint8_t s2)
{
	const uint8_t v[2] = { s1, s2 };

	return bip_put(out, cap, CAT_TAG_CHANNEL_STATUS, v, sizeof(v));
}

/*
 * 8.56, GET CHANNEL STATUS response (6.6.31): one B8 object per channel,
 * CR set (27.22.4.31 1.2.1, 1.3.1); with no channel, the single status
 * "00 00" of 27.22.4.31 1.1.1.
 */
int
bip_put_channel_status_list(uint8_t *out, size_t cap,
			    const uint8_t (*status)[2], size_t n)
{
	static const uint8_t none[2] = { 0x00, 0x00 };
	struct tlv_buf b;
	size_t i;

	if (n > 0 && status == NULL)
		return -EINVAL;
	tlv_buf_init(&b, out, cap);
	if (n == 0)
		tlv_put_ctlv(&b, CR | CAT_TAG_CHANNEL_STATUS, none, 2);
	for (i = 0; i < n; i++)
		tlv_put_ctlv(&b, CR | CAT_TAG_CHANNEL_STATUS, status[i], 2);
	return tlv_buf_ok(&b) && b.len <= 0x7FFFFFFF ? (int)b.len : -ENOSPC;
}

/* 8.55: 39, CR clear (27.22.4.27 2.1.1). */
int
bip_put_buffer_size(uint8_t *out, size_t cap, uint16_t size)
{
	const uint8_t v[2] = { (uint8_t)(size >> 8), (uint8_t)size };

	return bip_put(out, cap, CAT_TAG_BUFFER_SIZE, v, sizeof(v));
}

/* 8.52: 35, CR clear (27.22.4.27 2.1.1); at least the bearer type. */
int
bip_put_bearer(uint8_t *out, size_t cap, const uint8_t *bearer, size_t len)
{
	if (bearer == NULL || len == 0 || len > 0xFF)
		return -EINVAL;
	return bip_put(out, cap, CAT_TAG_BEARER_DESC, bearer, len);
}

/* 8.54: B7 (27.22.4.29 1.1.1, 27.22.4.30 1.1.1); FF means "more than 255". */
int
bip_put_data_length(uint8_t *out, size_t cap, size_t n)
{
	const uint8_t v = n > 0xFF ? 0xFF : (uint8_t)n;

	return bip_put(out, cap, CR | CAT_TAG_CHANNEL_DATA_LEN, &v, 1);
}

/*
 * 8.53: B6 (27.22.4.29 1.1.1).  More than BIP_MAX_CHUNK bytes would not
 * leave room in a 255-byte TERMINAL RESPONSE for the rest: a caller bug.
 */
int
bip_put_channel_data(uint8_t *out, size_t cap, const uint8_t *p, size_t n)
{
	if ((p == NULL && n > 0) || n > BIP_MAX_CHUNK)
		return -EINVAL;
	return bip_put(out, cap, CR | CAT_TAG_CHANNEL_DATA, p, n);
}

/*
 * Characters of the GSM 7-bit default alphabet (TS 23.038 6.2.1) whose
 * code is the ASCII one, so that the name can be written byte for byte
 * with DCS 04: letters, digits, space and the punctuation at the same
 * positions.  '@', '$', '_', the brackets, '\\', '^', '`', '|' and '~'
 * are elsewhere in the GSM table or only in its extension.
 */
static bool
bip_gsm_char_ok(char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr(" !\"#%&'()*+,-./:;<=>?", c) != NULL;
}

/* strlen, stopping past max (no strnlen in C11). */
static size_t
bip_name_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n <= max && s[n] != '\0')
		n++;
	return n;
}

/*
 * Terminal Applications envelope, TS 102 223 7.x with 8.88: DC { 82 02 82
 * 81, 71 registry application data per application [, 70 00 last
 * envelope] }.  Registry application data: port (2 bytes), data coding
 * scheme of the name (04, unpacked GSM 7-bit), type of application, name
 * - the order of PROTOCOL.md.  Registry application data and last envelope
 * are written with CR clear, as PROTOCOL.md writes them (71, 70).
 */
int
bip_env_terminal_apps(uint8_t *out, size_t cap, const struct bip_app *apps,
		      size_t n, bool last)
{
	static const uint8_t dev[2] = { CAT_DEV_TERMINAL, CAT_DEV_UICC };
	struct tlv_buf b;
	size_t i, k, nlen, mark;

	if (n > 0 && apps == NULL)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (apps[i].name == NULL)
			return -EINVAL;
		/* a name that long cannot fit anyway: stop counting */
		nlen = bip_name_len(apps[i].name, BIP_ENVELOPE_MAX);
		if (nlen == 0)
			return -EINVAL;
		for (k = 0; k < nlen; k++)
			if (!bip_gsm_char_ok(apps[i].name[k]))
				return -EINVAL;
	}
	tlv_buf_init(&b, out, cap < BIP_ENVELOPE_MAX ? cap : BIP_ENVELOPE_MAX);
	mark = tlv_begin(&b, CAT_BER_TERMINAL_APPS);
	tlv_put_ctlv(&b, CR | CAT_TAG_DEVICE_IDS, dev, sizeof(dev));
	for (i = 0; i < n; i++) {
		nlen = bip_name_len(apps[i].name, BIP_ENVELOPE_MAX);
		tlv_put_u8(&b, BIP_TAG_REGISTRY_APP_DATA);
		tlv_put_len(&b, 4 + nlen);
		tlv_put_u8(&b, (uint8_t)(apps[i].port >> 8));
		tlv_put_u8(&b, (uint8_t)apps[i].port);
		tlv_put_u8(&b, BIP_DCS_GSM_UNPACKED);
		tlv_put_u8(&b, apps[i].type);
		tlv_put_raw(&b, apps[i].name, nlen);
	}
	if (last)
		tlv_put_ctlv(&b, BIP_TAG_LAST_ENVELOPE, NULL, 0);
	tlv_end(&b, mark);
	return tlv_buf_ok(&b) ? (int)b.len : -ENOSPC;
}
