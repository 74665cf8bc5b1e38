/* SPDX-License-Identifier: MIT */
/*
 * Proactive command decoding and TERMINAL RESPONSE encoding
 * (ETSI TS 102 223 clauses 6 and 8, 3GPP TS 31.111).
 *
 * The decoder answers the question the engine has to answer for every
 * FETCHed command: "can I run this, and if not, which general result do I
 * send back?".  The error handling follows TS 102 223 clause 6.10:
 *
 *   - not even the command details can be read: nothing to address a
 *     TERMINAL RESPONSE to, -EBADMSG (the engine logs and drops it);
 *   - the D0 length disagrees with the objects inside it, or an object is
 *     malformed: 32 "command data not understood" (6.10.2);
 *   - unknown type of command: 31 (6.10.1);
 *   - an unknown object with comprehension required: 32 (6.10.3); an
 *     unknown object without it is ignored (6.10.4);
 *   - a mandatory object missing: 36 "required values missing" (6.10.5);
 *   - a qualifier or value this terminal does not support: 30.
 *
 * Checks are made in that order, so a command that is wrong in several ways
 * gets the answer for the most basic problem.
 *
 * Bytes after the end of the D0 object are ignored: some cards pad the
 * FETCH response (Le is what SW2 of 91 XX said), and the template carries
 * its own length, which is what the card means.
 *
 * Command details must be the first object, as in every command table of
 * clause 6.6; when they are not, the command cannot be addressed.  When an
 * object occurs twice the first occurrence is the one used.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "card/tlv.h"
#include "cat/proactive.h"

#define CAT_TAG_PROACTIVE	0xD0	/* proactive command BER-TLV, 9.1 */

/*
 * Objects each type of command may carry besides command details and device
 * identities (TS 102 223 clause 6.6, TS 31.111 clause 6.6).  An object
 * listed here is never "unknown", whatever its CR bit; the decoder reads
 * only those it needs today.  Lists end with 0.
 */
static const uint8_t tags_none[] = { 0 };
static const uint8_t tags_poll_interval[] = { CAT_TAG_DURATION, 0 };
static const uint8_t tags_event_list[] = { CAT_TAG_EVENT_LIST, 0 };
static const uint8_t tags_timer[] = {
	CAT_TAG_TIMER_ID, CAT_TAG_TIMER_VALUE, 0
};
/* 6.6.9 */
static const uint8_t tags_send_sms[] = {
	CAT_TAG_ALPHA_ID, CAT_TAG_ADDRESS, CAT_TAG_SMS_TPDU,
	CAT_TAG_CDMA_SMS_TPDU, CAT_TAG_ICON_ID, CAT_TAG_TEXT_ATTRIBUTE,
	CAT_TAG_FRAME_ID, 0
};
/* 6.6.27, with the packet-bearer objects of TS 31.111 6.6.27 */
static const uint8_t tags_open_channel[] = {
	CAT_TAG_ALPHA_ID, CAT_TAG_ICON_ID, CAT_TAG_ADDRESS,
	CAT_TAG_SUBADDRESS, CAT_TAG_DURATION, CAT_TAG_BEARER_DESC,
	CAT_TAG_BUFFER_SIZE, CAT_TAG_NETWORK_ACCESS_NAME,
	CAT_TAG_OTHER_ADDRESS, CAT_TAG_TEXT_STRING, CAT_TAG_TRANSPORT_LEVEL,
	CAT_TAG_REMOTE_ENTITY_ADDRESS, CAT_TAG_TEXT_ATTRIBUTE,
	CAT_TAG_FRAME_ID, 0
};
/* 6.6.28, 6.6.29, 6.6.30 */
static const uint8_t tags_close_channel[] = {
	CAT_TAG_ALPHA_ID, CAT_TAG_ICON_ID, CAT_TAG_TEXT_ATTRIBUTE,
	CAT_TAG_FRAME_ID, 0
};
static const uint8_t tags_receive_data[] = {
	CAT_TAG_ALPHA_ID, CAT_TAG_ICON_ID, CAT_TAG_CHANNEL_DATA_LEN,
	CAT_TAG_TEXT_ATTRIBUTE, CAT_TAG_FRAME_ID, 0
};
static const uint8_t tags_send_data[] = {
	CAT_TAG_ALPHA_ID, CAT_TAG_ICON_ID, CAT_TAG_CHANNEL_DATA,
	CAT_TAG_TEXT_ATTRIBUTE, CAT_TAG_FRAME_ID, 0
};

struct cat_cmd_desc {
	uint8_t type;
	const char *name;
	const uint8_t *tags;
};

static const struct cat_cmd_desc cat_cmds[] = {
	{ CAT_MORE_TIME, "MORE TIME", tags_none },
	{ CAT_POLL_INTERVAL, "POLL INTERVAL", tags_poll_interval },
	{ CAT_POLLING_OFF, "POLLING OFF", tags_none },
	{ CAT_SET_UP_EVENT_LIST, "SET UP EVENT LIST", tags_event_list },
	{ CAT_SEND_SHORT_MESSAGE, "SEND SHORT MESSAGE", tags_send_sms },
	{ CAT_PROVIDE_LOCAL_INFO, "PROVIDE LOCAL INFORMATION", tags_none },
	{ CAT_TIMER_MANAGEMENT, "TIMER MANAGEMENT", tags_timer },
	{ CAT_OPEN_CHANNEL, "OPEN CHANNEL", tags_open_channel },
	{ CAT_CLOSE_CHANNEL, "CLOSE CHANNEL", tags_close_channel },
	{ CAT_RECEIVE_DATA, "RECEIVE DATA", tags_receive_data },
	{ CAT_SEND_DATA, "SEND DATA", tags_send_data },
	{ CAT_GET_CHANNEL_STATUS, "GET CHANNEL STATUS", tags_none },
};

#define NCMDS	(sizeof(cat_cmds) / sizeof(cat_cmds[0]))

static const struct cat_cmd_desc *
cat_cmd_desc(uint8_t type)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (cat_cmds[i].type == type)
			return &cat_cmds[i];
	return NULL;
}

static bool
tag_in(const uint8_t *tags, unsigned tag)
{
	for (; *tags != 0; tags++)
		if (*tags == tag)
			return true;
	return false;
}

/* The objects the decoder reads; val == NULL when absent. */
struct cat_objs {
	struct tlv dev, duration, events, timer_id, timer_value;
};

static struct tlv *
cat_obj_slot(struct cat_objs *o, unsigned tag)
{
	switch (tag) {
	case CAT_TAG_DEVICE_IDS:
		return &o->dev;
	case CAT_TAG_DURATION:
		return &o->duration;
	case CAT_TAG_EVENT_LIST:
		return &o->events;
	case CAT_TAG_TIMER_ID:
		return &o->timer_id;
	case CAT_TAG_TIMER_VALUE:
		return &o->timer_value;
	default:
		return NULL;
	}
}

/* POLL INTERVAL, clause 6.6.6: duration mandatory (8.8). */
static int
decode_poll_interval(const struct cat_objs *o, struct cat_cmd *cmd)
{
	if (o->duration.val == NULL)
		return CAT_RES_VALUES_MISSING;
	if (o->duration.len != 2)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	cmd->u.poll.unit = o->duration.val[0];
	cmd->u.poll.interval = o->duration.val[1];
	/* 8.8: units 00..02 are defined, and an interval of 00 is reserved. */
	if (cmd->u.poll.unit > 0x02 || cmd->u.poll.interval == 0)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	return 0;
}

/* SET UP EVENT LIST, clause 6.6.16: event list mandatory, may be empty. */
static int
decode_event_list(const struct cat_objs *o, struct cat_cmd *cmd)
{
	if (o->events.val == NULL)
		return CAT_RES_VALUES_MISSING;
	/* A list longer than we can hold is beyond our capabilities. */
	if (o->events.len > CAT_MAX_EVENTS)
		return CAT_RES_BEYOND_CAPABILITIES;
	cmd->u.events.n = (uint8_t)o->events.len;
	if (o->events.len > 0)
		memcpy(cmd->u.events.ev, o->events.val, o->events.len);
	return 0;
}

/*
 * TIMER MANAGEMENT, clause 6.6.21: qualifier 00 start, 01 deactivate,
 * 02 get current value; timer identifier (8.37) mandatory, timer value
 * (8.38) mandatory for start only - for the others it is ignored.
 */
static int
decode_timer(const struct cat_objs *o, struct cat_cmd *cmd)
{
	uint32_t seconds;
	uint8_t id;

	if (cmd->det.qualifier > 0x02)
		return CAT_RES_BEYOND_CAPABILITIES;
	if (o->timer_id.val == NULL)
		return CAT_RES_VALUES_MISSING;
	if (o->timer_id.len != 1)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	id = o->timer_id.val[0];
	/* 8.37: timers 1 to 8, coded 01..08. */
	if (id < 1 || id > CAT_MAX_TIMERS)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	cmd->u.timer.id = id;
	if (cmd->det.qualifier != 0x00)
		return 0;
	if (o->timer_value.val == NULL)
		return CAT_RES_VALUES_MISSING;
	if (o->timer_value.len != 3 ||
	    cat_timer_value_decode(o->timer_value.val, &seconds) < 0)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	cmd->u.timer.seconds = seconds;
	return 0;
}

int
cat_cmd_decode(const uint8_t *p, size_t len, struct cat_cmd *cmd)
{
	const struct cat_cmd_desc *desc;
	struct cat_objs objs;
	struct tlv_iter it;
	struct tlv t, *slot;
	const uint8_t *body;
	size_t blen, avail;
	bool len_ok, unknown_cr = false;
	int n, r;

	memset(cmd, 0, sizeof(*cmd));
	memset(&objs, 0, sizeof(objs));

	/*
	 * The BER length is decoded by hand rather than with tlv_ber_next()
	 * so that a template whose length overruns the buffer can still be
	 * read far enough to address the "32" it deserves (6.10.2).
	 */
	if (p == NULL || len < 2 || p[0] != CAT_TAG_PROACTIVE)
		return -EBADMSG;
	n = tlv_len_decode(p + 1, len - 1, &blen);
	if (n < 0)
		return -EBADMSG;
	body = p + 1 + n;
	avail = len - 1 - (size_t)n;
	len_ok = blen <= avail;
	if (!len_ok)
		blen = avail;

	/* Command details (8.6): number, type, qualifier. */
	tlv_iter_init(&it, body, blen);
	if (tlv_ctlv_next(&it, &t) != 1 || t.tag != CAT_TAG_COMMAND_DETAILS ||
	    t.len < 3)
		return -EBADMSG;
	cmd->det.number = t.val[0];
	cmd->det.type = t.val[1];
	cmd->det.qualifier = t.val[2];
	if (!len_ok || t.len != 3)
		return CAT_RES_DATA_NOT_UNDERSTOOD;

	/*
	 * Walk every object to the end first: a template whose objects do not
	 * add up to its length is malformed whatever the type of command.
	 */
	desc = cat_cmd_desc(cmd->det.type);
	while ((r = tlv_ctlv_next(&it, &t)) == 1) {
		if (t.tag == CAT_TAG_COMMAND_DETAILS)
			continue;	/* the first one counts */
		if (desc == NULL)
			continue;
		slot = cat_obj_slot(&objs, t.tag);
		if (t.tag != CAT_TAG_DEVICE_IDS && !tag_in(desc->tags, t.tag)) {
			/* 6.10.3 / 6.10.4 */
			if (t.cr)
				unknown_cr = true;
			continue;
		}
		if (slot != NULL && slot->val == NULL)
			*slot = t;
	}
	if (r < 0)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	if (desc == NULL)
		return CAT_RES_TYPE_NOT_UNDERSTOOD;
	if (unknown_cr)
		return CAT_RES_DATA_NOT_UNDERSTOOD;

	/* Device identities (8.7): source, destination. */
	if (objs.dev.val == NULL)
		return CAT_RES_VALUES_MISSING;
	if (objs.dev.len != 2)
		return CAT_RES_DATA_NOT_UNDERSTOOD;
	cmd->src = objs.dev.val[0];
	cmd->dst = objs.dev.val[1];

	switch (cmd->det.type) {
	case CAT_POLL_INTERVAL:
		return decode_poll_interval(&objs, cmd);
	case CAT_SET_UP_EVENT_LIST:
		return decode_event_list(&objs, cmd);
	case CAT_TIMER_MANAGEMENT:
		return decode_timer(&objs, cmd);
	default:
		/*
		 * MORE TIME, POLLING OFF: nothing more.  PROVIDE LOCAL
		 * INFORMATION: the qualifier is the kind of information, which
		 * the engine checks against what it can provide.  SEND SHORT
		 * MESSAGE and the BIP commands: their objects are read by the
		 * modules that run them.
		 */
		return 0;
	}
}

uint32_t
cat_duration_ms(const struct cat_duration *d)
{
	if (d->interval == 0)
		return 0;
	switch (d->unit) {
	case 0x00:
		return d->interval * 60000u;
	case 0x01:
		return d->interval * 1000u;
	case 0x02:
		return d->interval * 100u;
	default:
		return 0;
	}
}

/*
 * Candidates: the smallest interval of each unit that reaches ms.  The
 * shortest duration among them wins; on a tie the coarser unit the
 * specification examples use (seconds) is preferred.  Interval 00 is
 * reserved, so 0 ms becomes one tenth of a second; beyond 255 minutes the
 * result is 255 minutes, the longest duration there is.
 */
void
cat_duration_from_ms(struct cat_duration *d, uint32_t ms)
{
	static const struct {
		uint8_t unit;
		uint32_t step;
	} units[] = {
		{ 0x01, 1000 },	/* first: wins ties */
		{ 0x02, 100 },
		{ 0x00, 60000 },
	};
	uint32_t best = 0, n, v;
	size_t i;

	d->unit = 0x00;
	d->interval = 0xFF;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		n = ms / units[i].step + (ms % units[i].step != 0);
		if (n == 0)
			n = 1;
		if (n > 0xFF)
			continue;
		v = n * units[i].step;
		if (best == 0 || v < best) {
			best = v;
			d->unit = units[i].unit;
			d->interval = (uint8_t)n;
		}
	}
}

/* One byte of TS 23.040 semi-octets: first digit low nibble. */
static int
bcd_swapped(uint8_t b)
{
	if ((b & 0x0F) > 9 || (b >> 4) > 9)
		return -1;
	return (b & 0x0F) * 10 + (b >> 4);
}

int
cat_timer_value_decode(const uint8_t v[3], uint32_t *seconds)
{
	int h, m, s;

	h = bcd_swapped(v[0]);
	m = bcd_swapped(v[1]);
	s = bcd_swapped(v[2]);
	if (h < 0 || m < 0 || m > 59 || s < 0 || s > 59)
		return -EINVAL;
	*seconds = (uint32_t)h * 3600 + (uint32_t)m * 60 + (uint32_t)s;
	return 0;
}

static uint8_t
bcd_swapped_byte(uint32_t n)
{
	return (uint8_t)((n % 10) << 4 | (n / 10));
}

void
cat_timer_value_encode(uint8_t v[3], uint32_t seconds)
{
	if (seconds > CAT_TIMER_VALUE_MAX)
		seconds = CAT_TIMER_VALUE_MAX;
	v[0] = bcd_swapped_byte(seconds / 3600);
	v[1] = bcd_swapped_byte(seconds / 60 % 60);
	v[2] = bcd_swapped_byte(seconds % 60);
}

/*
 * TS 102 223 clause 6.8: command details (echoed, CR set as in every
 * TS 31.124 response), device identities terminal -> UICC, result (8.12),
 * then the objects the command returns.
 */
int
cat_tr_build(uint8_t *out, size_t cap, const struct cat_cmd_details *det,
	     uint8_t result, const uint8_t *addl, size_t addl_len,
	     const uint8_t *extra, size_t extra_len)
{
	const uint8_t cd[3] = { det->number, det->type, det->qualifier };
	const uint8_t dev[2] = { CAT_DEV_TERMINAL, CAT_DEV_UICC };
	struct tlv_buf b;

	if (addl_len > 0 && addl == NULL)
		return -EINVAL;
	if (extra_len > 0 && extra == NULL)
		return -EINVAL;
	tlv_buf_init(&b, out, cap);
	tlv_put_ctlv(&b, 0x80 | CAT_TAG_COMMAND_DETAILS, cd, sizeof(cd));
	tlv_put_ctlv(&b, 0x80 | CAT_TAG_DEVICE_IDS, dev, sizeof(dev));
	tlv_put_u8(&b, 0x80 | CAT_TAG_RESULT);
	tlv_put_len(&b, 1 + addl_len);
	tlv_put_u8(&b, result);
	tlv_put_raw(&b, addl, addl_len);
	tlv_put_raw(&b, extra, extra_len);
	if (!tlv_buf_ok(&b) || b.len > 0x7FFFFFFF)
		return -ENOSPC;
	return (int)b.len;
}

const char *
cat_cmd_name(uint8_t type)
{
	const struct cat_cmd_desc *d = cat_cmd_desc(type);

	return d != NULL ? d->name : "unknown command";
}

const char *
cat_result_name(uint8_t result)
{
	switch (result) {
	case CAT_RES_OK:
		return "performed successfully";
	case CAT_RES_MODIFIED:
		return "performed with modification";
	case CAT_RES_TERMINAL_UNABLE:
		return "terminal currently unable to process command";
	case CAT_RES_NETWORK_UNABLE:
		return "network currently unable to process command";
	case CAT_RES_USER_REJECTED:
		return "user did not accept the proactive command";
	case CAT_RES_TIMER_CONTRADICTION:
		return "action in contradiction with the current timer state";
	case CAT_RES_BEYOND_CAPABILITIES:
		return "command beyond terminal's capabilities";
	case CAT_RES_TYPE_NOT_UNDERSTOOD:
		return "command type not understood by terminal";
	case CAT_RES_DATA_NOT_UNDERSTOOD:
		return "command data not understood by terminal";
	case CAT_RES_SMS_RP_ERROR:
		return "SMS RP-ERROR";
	case CAT_RES_VALUES_MISSING:
		return "error, required values are missing";
	case CAT_RES_BIP_ERROR:
		return "Bearer Independent Protocol error";
	default:
		return "unknown result";
	}
}
