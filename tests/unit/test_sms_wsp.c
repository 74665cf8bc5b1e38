/* SPDX-License-Identifier: MIT */
/*
 * WAP push over SMS (sms/wsp.h): the WSP push PDU (WAP-230-WSP), the SMS
 * user data header (3GPP TS 23.040 9.2.3.24) and reassembly.
 *
 * Every vector is built by hand from the specifications; the comments say
 * where each byte comes from.  The body of the DM pushes is the Package#0
 * of ../shared/PROTOCOL.md (ServerID DMServer, session 0x1234).  Inputs are
 * copied into buffers of exactly their size, so that reading one byte too
 * far is an ASan report.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "syncml/notification.h"
#include "sms/wsp.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* PROTOCOL.md: digest b9ce..cf13, then trigger 02d8...7272 (32 bytes). */
static const uint8_t pkg0[] = {
	0xb9, 0xce, 0xfb, 0xc5, 0xea, 0x0d, 0x0c, 0x38,
	0x84, 0x54, 0xcc, 0x73, 0xd7, 0x4d, 0xcf, 0x13,
	0x02, 0xd8, 0x00, 0x00, 0x00, 0x12, 0x34, 0x08,
	'D', 'M', 'S', 'e', 'r', 'v', 'e', 'r',
};

/*
 * The push of PROTOCOL.md: content type 0x44, application id 0x07.
 *   01     TID (8.2.1: connectionless PDUs start with it)
 *   06     PDU type Push (table 34)
 *   03     HeadersLen, uintvar: content type and headers are 3 octets
 *   C4     Content-Type, Short-integer 0x80 | 0x44
 *          (application/vnd.syncml.notification, WINA content types)
 *   AF     header field 0x80 | 0x2F, X-Wap-Application-Id (table 39)
 *   87     its value, Short-integer 0x80 | 0x07 (x-wap-application:
 *          syncml.dm, WINA push application ids)
 */
static const uint8_t hdr_dm[] = { 0x01, 0x06, 0x03, 0xC4, 0xAF, 0x87 };

/*
 * The content type in letters, Extension-media (8.4.2.24): text that is
 * its own end marker, NUL.  35 letters, the NUL, AF 87: HeadersLen 38.
 */
static const uint8_t hdr_text[] = {
	0x01, 0x06, 0x26,
	'a', 'p', 'p', 'l', 'i', 'c', 'a', 't', 'i', 'o', 'n', '/',
	'v', 'n', 'd', '.', 's', 'y', 'n', 'c', 'm', 'l', '.',
	'n', 'o', 't', 'i', 'f', 'i', 'c', 'a', 't', 'i', 'o', 'n', 0x00,
	0xAF, 0x87,
};

/*
 * Content-general-form (8.4.2.24): Value-length, then the media type and
 * its parameters.
 *   06     HeadersLen: 03 C4 81 EA AF 87
 *   03     Value-length, a Short-length: 3 octets follow
 *   C4     Well-known-media 0x44
 *   81     Well-known parameter 0x01, Charset (table 38)
 *   EA     Short-integer 0x6A = 106, the MIBenum of UTF-8
 */
static const uint8_t hdr_general[] = {
	0x01, 0x06, 0x06, 0x03, 0xC4, 0x81, 0xEA, 0xAF, 0x87,
};

/*
 * The same with the media type in letters: 35 letters, NUL, 81 EA make 38
 * octets, more than a Short-length (0-30) says, so Value-length is
 * Length-quote 1F then uintvar 0x26 (a single 0x26 would be a text);
 * HeadersLen 2 + 38 + 2 = 0x2A.
 */
static const uint8_t hdr_general_text[] = {
	0x01, 0x06, 0x2A, 0x1F, 0x26,
	'a', 'p', 'p', 'l', 'i', 'c', 'a', 't', 'i', 'o', 'n', '/',
	'v', 'n', 'd', '.', 's', 'y', 'n', 'c', 'm', 'l', '.',
	'n', 'o', 't', 'i', 'f', 'i', 'c', 'a', 't', 'i', 'o', 'n', 0x00,
	0x81, 0xEA, 0xAF, 0x87,
};

/*
 * A Service Indication push, not for us:
 *   AE     content type 0x2E, application/vnd.wap.sic
 *   AF 82  application id 0x02, x-wap-application:wml.ua
 * The body is the start of an SIC document (WBXML 1.2: 02, public id 05,
 * charset 6A UTF-8, empty string table).
 */
static const uint8_t sic[] = {
	0x01, 0x06, 0x03, 0xAE, 0xAF, 0x82, 0x02, 0x05, 0x6A, 0x00,
};

/*
 * Headers of every encoding before the application id, all skipped:
 *   C4                    content type 0x44
 *   B1 "http://x" 00      X-Wap-Initiator-URI (0x31), a text
 *   B4 81                 Push-Flag (0x34), Short-integer 1
 *   8D 02 01 00           Content-Length (0x0D), Long-integer, 2 octets
 *   92 04 5F 00 00 00     Date (0x12), Long-integer, 4 octets
 *   80 1F 03 C4 81 EA     Accept (0x00), Length-quote, uintvar 3, then
 *                         the media type and a charset
 *   93 22 "abc" 00        ETag (0x13), Quoted-string (8.4.2.1)
 *   "X-Foo" 00 "bar" 00   an Application-header, token and text
 *   02 AF 83              Short-cut-shift-delimiter to page 2; there AF
 *                         is some other header, 83 its value
 *   7F 01                 Shift-delimiter back to page 1, the default
 *   AF 87                 X-Wap-Application-Id 0x07
 * 1 + 10 + 2 + 4 + 6 + 6 + 6 + 10 + 3 + 2 + 2 = 52 = 0x34 octets.
 */
static const uint8_t hdr_many[] = {
	0x01, 0x06, 0x34, 0xC4,
	0xB1, 'h', 't', 't', 'p', ':', '/', '/', 'x', 0x00,
	0xB4, 0x81,
	0x8D, 0x02, 0x01, 0x00,
	0x92, 0x04, 0x5F, 0x00, 0x00, 0x00,
	0x80, 0x1F, 0x03, 0xC4, 0x81, 0xEA,
	0x93, 0x22, 'a', 'b', 'c', 0x00,
	'X', '-', 'F', 'o', 'o', 0x00, 'b', 'a', 'r', 0x00,
	0x02, 0xAF, 0x83,
	0x7F, 0x01,
	0xAF, 0x87,
};

/* a copy of a and b end to end, in a buffer of exactly that size */
static uint8_t *
join(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
     size_t *len)
{
	uint8_t *p = malloc(alen + blen > 0 ? alen + blen : 1);

	assert_non_null(p);
	if (alen > 0)
		memcpy(p, a, alen);
	if (blen > 0)
		memcpy(p + alen, b, blen);
	*len = alen + blen;
	return p;
}

static int
decode(const uint8_t *v, size_t len, struct wsp_push *w)
{
	uint8_t *p;
	size_t n;
	int r;

	p = join(v, len, NULL, 0, &n);
	r = wsp_push_decode(p, n, w);
	free(p);
	return r;
}

/* header + Package#0 decodes, is DM, and the body is the Package#0 */
static void
check_dm_push(const uint8_t *hdr, size_t hlen, unsigned ct,
	      const char *ct_text)
{
	struct dm_notification n;
	struct wsp_push w;
	uint8_t *p;
	size_t len;

	p = join(hdr, hlen, pkg0, sizeof(pkg0), &len);
	assert_int_equal(wsp_push_decode(p, len, &w), 0);
	assert_int_equal(w.tid, 0x01);
	assert_int_equal(w.pdu_type, WSP_PDU_PUSH);
	assert_int_equal(w.content_type, ct);
	assert_string_equal(w.content_type_text, ct_text);
	assert_true(w.has_app_id);
	assert_int_equal(w.app_id, WSP_APP_ID_DM);
	assert_string_equal(w.app_id_text, "");
	assert_ptr_equal(w.body, p + hlen);
	assert_int_equal(w.body_len, sizeof(pkg0));
	assert_true(wsp_push_is_dm(&w));
	assert_int_equal(dm_notification_decode(w.body, w.body_len, &n), 0);
	assert_string_equal(n.server_id, "DMServer");
	assert_int_equal(n.session_id, 0x1234);
	free(p);
}

static void
test_push_dm(void **state)
{
	check_dm_push(hdr_dm, sizeof(hdr_dm), WSP_CT_DM_NOTI, "");
}

static void
test_push_text_content_type(void **state)
{
	check_dm_push(hdr_text, sizeof(hdr_text), 0, WSP_CT_DM_NOTI_TEXT);
}

static void
test_push_general_form(void **state)
{
	check_dm_push(hdr_general, sizeof(hdr_general), WSP_CT_DM_NOTI, "");
	check_dm_push(hdr_general_text, sizeof(hdr_general_text), 0,
		      WSP_CT_DM_NOTI_TEXT);
}

static void
test_push_skips_headers(void **state)
{
	check_dm_push(hdr_many, sizeof(hdr_many), WSP_CT_DM_NOTI, "");
}

/* 0x07 confirmed push is taken too, and the TID is kept as it is */
static void
test_confirmed_push(void **state)
{
	const uint8_t v[] = { 0xFE, 0x07, 0x03, 0xC4, 0xAF, 0x87 };
	struct wsp_push w;

	assert_int_equal(decode(v, sizeof(v), &w), 0);
	assert_int_equal(w.tid, 0xFE);
	assert_int_equal(w.pdu_type, 0x07);
	assert_int_equal(w.body_len, 0);
	assert_true(wsp_push_is_dm(&w));
}

static void
test_not_dm(void **state)
{
	struct wsp_push w;

	assert_int_equal(decode(sic, sizeof(sic), &w), 0);
	assert_int_equal(w.content_type, 0x2E);
	assert_true(w.has_app_id);
	assert_int_equal(w.app_id, 0x02);
	assert_int_equal(w.body_len, 4);
	assert_false(wsp_push_is_dm(&w));
}

struct dm_case {
	const char *name;
	uint8_t v[48];
	size_t len;
	bool dm;
	unsigned app_id;
	const char *app_text;
};

/* Variants of content type and application id; TID 01, PDU type 06. */
static const struct dm_case dm_cases[] = {
	/* no application id: the content type decides */
	{ "no app id", { 1, 6, 1, 0xC4 }, 4, true, 0, "" },
	/* DM content type for another application (0x02, wml.ua) */
	{ "other app id", { 1, 6, 3, 0xC4, 0xAF, 0x82 }, 6, false, 2, "" },
	/* the id as a Long-integer: Short-length 1, then 07 */
	{ "app id long 1", { 1, 6, 4, 0xC4, 0xAF, 0x01, 0x07 }, 7, true, 7,
	  "" },
	/* Short-length 3, 00 00 07: leading zeros are the same number */
	{ "app id long 3", { 1, 6, 6, 0xC4, 0xAF, 0x03, 0, 0, 7 }, 9, true,
	  7, "" },
	/* Long-integer 0x0107: not the DM client */
	{ "app id long 0107", { 1, 6, 5, 0xC4, 0xAF, 0x02, 0x01, 0x07 }, 8,
	  false, 0x107, "" },
	/* the id as a Uri-value text, 27 letters and NUL: HeadersLen 30 */
	{ "app id text", { 1, 6, 30, 0xC4, 0xAF,
	  'x', '-', 'w', 'a', 'p', '-', 'a', 'p', 'p', 'l', 'i', 'c', 'a',
	  't', 'i', 'o', 'n', ':', 's', 'y', 'n', 'c', 'm', 'l', '.', 'd',
	  'm', 0 }, 33, true, 0, WSP_APP_ID_DM_TEXT },
	/* the same in other case */
	{ "app id text case", { 1, 6, 30, 0xC4, 0xAF,
	  'X', '-', 'W', 'A', 'P', '-', 'A', 'p', 'p', 'l', 'i', 'c', 'a',
	  't', 'i', 'o', 'n', ':', 'S', 'y', 'n', 'c', 'M', 'L', '.', 'D',
	  'M', 0 }, 33, true, 0, "X-WAP-Application:SyncML.DM" },
	/* preceded by a Quote (7F), which is not part of it: 31 */
	{ "app id quoted text", { 1, 6, 31, 0xC4, 0xAF, 0x7F,
	  'x', '-', 'w', 'a', 'p', '-', 'a', 'p', 'p', 'l', 'i', 'c', 'a',
	  't', 'i', 'o', 'n', ':', 's', 'y', 'n', 'c', 'm', 'l', '.', 'd',
	  'm', 0 }, 34, true, 0, WSP_APP_ID_DM_TEXT },
	/* another application's text */
	{ "app id other text", { 1, 6, 8, 0xC4, 0xAF,
	  'x', '-', 'o', 't', 'h', 0 }, 11, false, 0, "x-oth" },
	/* the first of two ids counts: 87 then 82 */
	{ "two app ids", { 1, 6, 5, 0xC4, 0xAF, 0x87, 0xAF, 0x82 }, 8, true,
	  7, "" },
	/* 0xAF on code page 2 is another header: the id is missing */
	{ "app id on page 2", { 1, 6, 4, 0xC4, 0x02, 0xAF, 0x82 }, 7, true,
	  0, "" },
	/*
	 * Application-header "X-Wap-Application-Id" (20 letters, NUL),
	 * text value "x-wap-application:syncml.dm": 1 + 21 + 28 = 50.
	 */
	{ "app id header in letters", { 0 }, 0, true, 0, WSP_APP_ID_DM_TEXT },
	/*
	 * The name in capitals (header names ignore case), the value "x"
	 * behind a Quote (7F): C4, 20 letters and NUL, 7F, 'x' NUL = 25.
	 */
	{ "app id header quoted", { 1, 6, 25, 0xC4,
	  'X', '-', 'W', 'A', 'P', '-', 'A', 'P', 'P', 'L', 'I', 'C', 'A',
	  'T', 'I', 'O', 'N', '-', 'I', 'D', 0, 0x7F, 'x', 0 }, 28, false, 0,
	  "x" },
	/* content type in other case */
	{ "content type case", { 1, 6, 38,
	  'A', 'p', 'p', 'l', 'i', 'c', 'a', 't', 'i', 'o', 'n', '/',
	  'V', 'N', 'D', '.', 'S', 'y', 'n', 'c', 'M', 'L', '.',
	  'N', 'o', 't', 'i', 'f', 'i', 'c', 'a', 't', 'i', 'o', 'n', 0,
	  0xAF, 0x87 }, 41, true, 7, "" },
	/* another type in letters */
	{ "content type text/plain", { 1, 6, 11,
	  't', 'e', 'x', 't', '/', 'p', 'l', 'a', 'i', 'n', 0 }, 14, false,
	  0, "" },
	/* general form with a Long-integer media type 0x0201 */
	{ "content type long", { 1, 6, 4, 0x03, 0x02, 0x02, 0x01 }, 7, false,
	  0, "" },
	/* general form, Length-quote: 1F, uintvar 1, then C4 */
	{ "content type length-quote", { 1, 6, 5, 0x1F, 0x01, 0xC4, 0xAF,
	  0x87 }, 8, true, 7, "" },
};

/* built at run time: too long for the initialiser to stay readable */
static size_t
app_id_header_in_letters(uint8_t *v)
{
	static const char name[] = "X-Wap-Application-Id";
	size_t n = 0;

	v[n++] = 0x01;
	v[n++] = 0x06;
	v[n++] = 1 + sizeof(name) + sizeof(WSP_APP_ID_DM_TEXT);
	v[n++] = 0xC4;
	memcpy(v + n, name, sizeof(name));
	n += sizeof(name);
	memcpy(v + n, WSP_APP_ID_DM_TEXT, sizeof(WSP_APP_ID_DM_TEXT));
	n += sizeof(WSP_APP_ID_DM_TEXT);
	assert_int_equal(v[2], 50);
	return n;
}

static void
test_dm_cases(void **state)
{
	uint8_t v[64];
	struct wsp_push w;
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(dm_cases); i++) {
		const struct dm_case *c = &dm_cases[i];

		print_message("# %s\n", c->name);
		if (c->len == 0) {
			len = app_id_header_in_letters(v);
		} else {
			memcpy(v, c->v, c->len);
			len = c->len;
		}
		assert_int_equal(v[2], len - 3);	/* no body */
		assert_int_equal(decode(v, len, &w), 0);
		assert_int_equal(wsp_push_is_dm(&w), c->dm);
		if (w.has_app_id) {
			assert_int_equal(w.app_id, c->app_id);
			assert_string_equal(w.app_id_text, c->app_text);
		}
	}
	/* the content type of the long form */
	assert_string_equal(dm_cases[15].name, "content type long");
	memcpy(v, dm_cases[15].v, dm_cases[15].len);
	assert_int_equal(decode(v, dm_cases[15].len, &w), 0);
	assert_int_equal(w.content_type, 0x0201);
}

struct bad_case {
	const char *name;
	uint8_t v[24];
	size_t len;
	int err;
};

static const struct bad_case bad_cases[] = {
	{ "empty", { 0 }, 0, -EBADMSG },
	{ "TID only", { 0x01 }, 1, -EBADMSG },
	/* PDU types of table 34 that are not push */
	{ "type 04 reply", { 1, 0x04, 3, 0xC4, 0xAF, 0x87 }, 6, -EPROTO },
	{ "type 40 get", { 1, 0x40, 3, 0xC4, 0xAF, 0x87 }, 6, -EPROTO },
	{ "type 60 post", { 1, 0x60, 3, 0xC4, 0xAF, 0x87 }, 6, -EPROTO },
	{ "type 00", { 1, 0x00 }, 2, -EPROTO },
	{ "type 08 suspend", { 1, 0x08, 0 }, 3, -EPROTO },
	/* a PDU type without TID: the push read as TID 06, type 03 */
	{ "no TID", { 0x06, 0x03, 0xC4, 0xAF, 0x87 }, 5, -EPROTO },
	/* HeadersLen 4, 3 octets left */
	{ "headers past end", { 1, 6, 4, 0xC4, 0xAF, 0x87 }, 6, -EBADMSG },
	/* HeadersLen 8F FF FF FF 7F = 0xFFFFFFFF */
	{ "headers 4G", { 1, 6, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0xC4 }, 8,
	  -EBADMSG },
	/* HeadersLen 90 80 80 80 00 = 2^32: 33 bits */
	{ "uintvar 33 bits", { 1, 6, 0x90, 0x80, 0x80, 0x80, 0x00, 0xC4 }, 8,
	  -EBADMSG },
	/* 6 octets: 80 80 80 80 80 03 */
	{ "uintvar 6 octets", { 1, 6, 0x80, 0x80, 0x80, 0x80, 0x80, 0x03,
	  0xC4, 0xAF, 0x87 }, 11, -EBADMSG },
	/* the uintvar never ends */
	{ "uintvar cut", { 1, 6, 0x83 }, 3, -EBADMSG },
	/* HeadersLen 0: no content type */
	{ "no content type", { 1, 6, 0, 0xC4 }, 4, -EBADMSG },
	/* Value-length 5 within HeadersLen 3; the PDU goes on (body) */
	{ "value past headers", { 1, 6, 3, 0x05, 0xC4, 0x81, 0xEA, 0xAF,
	  0x87 }, 9, -EBADMSG },
	/* Value-length 0: no media type */
	{ "value-length 0", { 1, 6, 1, 0x00 }, 4, -EBADMSG },
	/* Length-quote whose uintvar runs past HeadersLen */
	{ "length-quote cut", { 1, 6, 2, 0x1F, 0x81, 0x01, 0xC4 }, 7,
	  -EBADMSG },
	/* Extension-media whose NUL is in the body, not the headers */
	{ "text past headers", { 1, 6, 2, 'a', 'b', 0x00 }, 6, -EBADMSG },
	/* Long-integer media type of 5 octets: over 32 bits */
	{ "media 40 bits", { 1, 6, 7, 0x06, 0x05, 1, 2, 3, 4, 5 }, 10,
	  -EBADMSG },
	/* general form whose media type is 1F (no integer form) */
	{ "media length-quote", { 1, 6, 3, 0x02, 0x1F, 0x01 }, 6, -EBADMSG },
	/* app id text without its NUL before HeadersLen ends */
	{ "app id text cut", { 1, 6, 4, 0xC4, 0xAF, 'x', 'y', 0x00 }, 8,
	  -EBADMSG },
	/* app id Long-integer of length 0 */
	{ "app id long 0", { 1, 6, 3, 0xC4, 0xAF, 0x00 }, 6, -EBADMSG },
	/* app id with a value-length form */
	{ "app id length-quote", { 1, 6, 5, 0xC4, 0xAF, 0x1F, 0x01, 0x87 }, 8,
	  -EBADMSG },
	/* a header field without a value */
	{ "header no value", { 1, 6, 2, 0xC4, 0xB4 }, 5, -EBADMSG },
	/* a header starting with NUL */
	{ "header NUL", { 1, 6, 2, 0xC4, 0x00 }, 5, -EBADMSG },
	/* Shift-delimiter to page 0, or without its page */
	{ "shift page 0", { 1, 6, 3, 0xC4, 0x7F, 0x00 }, 6, -EBADMSG },
	{ "shift cut", { 1, 6, 2, 0xC4, 0x7F }, 5, -EBADMSG },
	/* a skipped value whose Short-length runs past HeadersLen */
	{ "skipped value cut", { 1, 6, 4, 0xC4, 0x8D, 0x03, 0x01, 0x02 }, 8,
	  -EBADMSG },
	/* an application header without its value */
	{ "app header no value", { 1, 6, 3, 0xC4, 'X', 0x00 }, 6, -EBADMSG },
};

static void
test_bad(void **state)
{
	struct wsp_push w;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		print_message("# %s\n", bad_cases[i].name);
		assert_int_equal(decode(bad_cases[i].v, bad_cases[i].len, &w),
				 bad_cases[i].err);
	}
}

/* five octets is the longest uintvar: 80 80 80 80 03 is 3 */
static void
test_uintvar_5(void **state)
{
	const uint8_t v[] = { 1, 6, 0x80, 0x80, 0x80, 0x80, 0x03, 0xC4, 0xAF,
			      0x87 };
	struct wsp_push w;

	assert_int_equal(decode(v, sizeof(v), &w), 0);
	assert_true(wsp_push_is_dm(&w));
	assert_int_equal(w.body_len, 0);
}

/* Text fields: the longest that fits, and one more refused. */
static void
test_text_limits(void **state)
{
	struct wsp_push w;
	uint8_t v[4 + 129];
	size_t n;

	/*
	 * 127 letters and the NUL fill content_type_text[128]: HeadersLen
	 * 128, two uintvar octets 81 00 (1 << 7 | 0); 128 letters do not fit
	 * (HeadersLen 129, 81 01).
	 */
	for (n = 127; n <= 128; n++) {
		v[0] = 1;
		v[1] = 6;
		v[2] = 0x81;
		v[3] = (uint8_t)(n + 1 - 128);
		memset(v + 4, 'a', n);
		v[4 + n] = 0;
		assert_int_equal(decode(v, 4 + n + 1, &w),
				 n == 127 ? 0 : -EBADMSG);
		if (n == 127)
			assert_int_equal(strlen(w.content_type_text), 127);
	}

	/* the application id: 63 letters fit app_id_text[64], not 64 */
	for (n = 63; n <= 64; n++) {
		v[0] = 1;
		v[1] = 6;
		v[2] = (uint8_t)(2 + n + 1);	/* C4 AF, letters, NUL */
		v[3] = 0xC4;
		v[4] = 0xAF;
		memset(v + 5, 'x', n);
		v[5 + n] = 0;
		assert_int_equal(decode(v, 6 + n, &w),
				 n == 63 ? 0 : -EBADMSG);
	}
}

/*
 * Cut at every length: before the body ends the headers, -EBADMSG (or
 * -EPROTO never, the type being there from 2 octets); from there on, a
 * shorter body.
 */
static void
check_truncations(const uint8_t *hdr, size_t hlen)
{
	struct wsp_push w;
	uint8_t *full, *p;
	size_t len, n, m;

	full = join(hdr, hlen, pkg0, sizeof(pkg0), &len);
	for (n = 0; n <= len; n++) {
		p = join(full, n, NULL, 0, &m);
		if (n < hlen) {
			assert_int_equal(wsp_push_decode(p, n, &w), -EBADMSG);
		} else {
			assert_int_equal(wsp_push_decode(p, n, &w), 0);
			assert_int_equal(w.body_len, n - hlen);
			assert_true(wsp_push_is_dm(&w));
		}
		free(p);
	}
	free(full);
}

static void
test_truncations(void **state)
{
	check_truncations(hdr_dm, sizeof(hdr_dm));
	check_truncations(hdr_text, sizeof(hdr_text));
	check_truncations(hdr_general, sizeof(hdr_general));
	check_truncations(hdr_general_text, sizeof(hdr_general_text));
	check_truncations(hdr_many, sizeof(hdr_many));
}

/*
 * HeadersLen shorter than what the headers need, for each value: the
 * bytes after it are body, and a value cut by it is malformed, whatever
 * follows.  From the real length on it decodes.
 */
static void
test_headers_len_short(void **state)
{
	uint8_t v[sizeof(hdr_many) + sizeof(pkg0)];
	struct wsp_push w;
	size_t hl, full = sizeof(hdr_many) - 3;
	int r;

	memcpy(v, hdr_many, sizeof(hdr_many));
	memcpy(v + sizeof(hdr_many), pkg0, sizeof(pkg0));
	for (hl = 0; hl < full; hl++) {
		v[2] = (uint8_t)hl;
		r = decode(v, sizeof(v), &w);
		/* cut between two headers: decodes, without the id */
		assert_true(r == -EBADMSG || (r == 0 && !w.has_app_id));
	}
	v[2] = (uint8_t)full;
	assert_int_equal(decode(v, sizeof(v), &w), 0);
	assert_true(wsp_push_is_dm(&w));
}

/* ------------------------------------------------------------------------ */
/* User data header                                                         */

/*
 * The application port addressing 16-bit of a WAP push:
 *   06     UDHL, 6 octets of header follow
 *   05     IEI, application port addressing scheme, 16 bit address
 *   04     IEDL
 *   0B 84  destination port 2948 (WDP, connectionless WSP push)
 *   23 F0  originator port 9200 (WDP, connectionless WSP)
 */
static const uint8_t udh_ports[] = { 0x06, 0x05, 0x04, 0x0B, 0x84, 0x23,
				     0xF0 };

static void
test_udh_ports16(void **state)
{
	struct sms_udh h;
	uint8_t *p;
	size_t len;

	p = join(udh_ports, sizeof(udh_ports), hdr_dm, sizeof(hdr_dm), &len);
	assert_int_equal(sms_udh_decode(p, len, &h), 0);
	assert_true(h.has_ports);
	assert_int_equal(h.dst_port, WDP_PORT_PUSH);
	assert_int_equal(h.src_port, 9200);
	assert_false(h.concat);
	assert_ptr_equal(h.payload, p + 7);
	assert_int_equal(h.payload_len, sizeof(hdr_dm));
	free(p);
}

static void
test_udh_cases(void **state)
{
	static const struct {
		const char *name;
		uint8_t v[16];
		size_t len;
		int err;
		bool ports, concat;
		unsigned dst, src, ref, total, seq;
		size_t payload_len;
	} c[] = {
		/* 04 02: 8-bit ports, destination F5, originator F0 */
		{ "ports 8", { 4, 0x04, 0x02, 0xF5, 0xF0, 0xAA }, 6, 0, true,
		  false, 0xF5, 0xF0, 0, 0, 0, 1 },
		/* concatenation 8-bit ref: 00 03 ref 2A, 2 parts, part 1 */
		{ "concat 8", { 0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0,
		  0x00, 0x03, 0x2A, 0x02, 0x01, 0x55 }, 13, 0, true, true,
		  2948, 9200, 0x2A, 2, 1, 1 },
		/* concatenation 16-bit ref: 08 04 ref 1234, 3 parts, part 2 */
		{ "concat 16", { 0x0C, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0,
		  0x08, 0x04, 0x12, 0x34, 0x03, 0x02 }, 13, 0, true, true,
		  2948, 9200, 0x1234, 3, 2, 0 },
		/* 24 01 01: national language single shift, skipped */
		{ "unknown IE", { 0x09, 0x24, 0x01, 0x01, 0x05, 0x04, 0x0B,
		  0x84, 0x23, 0xF0 }, 10, 0, true, false, 2948, 9200, 0, 0, 0,
		  0 },
		/* 8-bit ports then 16-bit: the last counts */
		{ "ports 8 then 16", { 0x0A, 0x04, 0x02, 0xF5, 0xF0, 0x05, 0x04,
		  0x0B, 0x84, 0x23, 0xF0 }, 11, 0, true, false, 2948, 9200, 0,
		  0, 0, 0 },
		/* UDHL 0: an empty header */
		{ "empty header", { 0x00, 0x01, 0x06 }, 3, 0, false, false, 0,
		  0, 0, 0, 0, 2 },
		/* an IE with no data: 70 00 (a SIM toolkit security header) */
		{ "empty IE", { 0x02, 0x70, 0x00 }, 3, 0, false, false, 0, 0, 0,
		  0, 0, 0 },
		/* seq 0 and seq > total decode as sent */
		{ "seq 0", { 0x05, 0x00, 0x03, 0x01, 0x02, 0x00 }, 6, 0, false,
		  true, 0, 0, 1, 2, 0, 0 },
	};
	/* malformed headers */
	static const struct {
		const char *name;
		uint8_t v[16];
		size_t len;
	} bad[] = {
		{ "empty", { 0 }, 0 },
		/* UDHL 7, 6 octets left */
		{ "UDHL past end", { 0x07, 0x05, 0x04, 0x0B, 0x84, 0x23,
		  0xF0 }, 7 },
		/* IEDL 4 within UDHL 3 (the data goes on) */
		{ "IE past UDHL", { 0x03, 0x05, 0x04, 0x0B, 0x84, 0x23,
		  0xF0 }, 7 },
		/* UDHL 1: an IEI without its IEDL */
		{ "IE cut", { 0x01, 0x05, 0x04 }, 3 },
		/* known IEs of the wrong length */
		{ "concat 8 len 2", { 0x04, 0x00, 0x02, 0x2A, 0x02 }, 5 },
		{ "concat 16 len 3", { 0x05, 0x08, 0x03, 0x2A, 0x02, 0x01 }, 6 },
		{ "ports 16 len 2", { 0x04, 0x05, 0x02, 0x0B, 0x84 }, 5 },
		{ "ports 8 len 4", { 0x06, 0x04, 0x04, 0x0B, 0x84, 0x23, 0xF0 },
		  7 },
	};
	struct sms_udh h;
	uint8_t *p;
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("# %s\n", bad[i].name);
		p = join(bad[i].v, bad[i].len, NULL, 0, &n);
		assert_int_equal(sms_udh_decode(p, n, &h), -EBADMSG);
		free(p);
	}
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		print_message("# %s\n", c[i].name);
		p = join(c[i].v, c[i].len, NULL, 0, &n);
		assert_int_equal(sms_udh_decode(p, n, &h), c[i].err);
		if (c[i].err == 0) {
			assert_int_equal(h.has_ports, c[i].ports);
			assert_int_equal(h.dst_port, c[i].dst);
			assert_int_equal(h.src_port, c[i].src);
			assert_int_equal(h.concat, c[i].concat);
			assert_int_equal(h.ref, c[i].ref);
			assert_int_equal(h.total, c[i].total);
			assert_int_equal(h.seq, c[i].seq);
			assert_int_equal(h.payload_len, c[i].payload_len);
			assert_ptr_equal(h.payload, p + n - c[i].payload_len);
		}
		free(p);
	}
}

/* Every cut of the header is malformed; from UDHL + 1 on it decodes. */
static void
test_udh_truncations(void **state)
{
	const uint8_t v[] = { 0x0C, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x08,
			      0x04, 0x12, 0x34, 0x03, 0x02, 0x01, 0x06 };
	struct sms_udh h;
	uint8_t *p;
	size_t n, m;

	for (n = 0; n <= sizeof(v); n++) {
		p = join(v, n, NULL, 0, &m);
		assert_int_equal(sms_udh_decode(p, m, &h),
				 n < 13 ? -EBADMSG : 0);
		free(p);
	}
}

/* ------------------------------------------------------------------------ */
/* Reassembly                                                               */

/*
 * One SMS of a concatenated push, decoded by sms_udh_decode() as a modem
 * source would: ports 2948/9200 then 00 03 (8-bit ref) or 08 04 (16-bit).
 */
struct seg {
	uint8_t ud[1 + 6 + 6 + 140];
	size_t len;
	struct sms_udh h;
};

static void
make_seg(struct seg *s, bool ref16, unsigned ref, unsigned total,
	 unsigned seq, const uint8_t *payload, size_t len)
{
	size_t n = 1;

	assert_true(len <= 140);
	memcpy(s->ud + n, udh_ports + 1, 6);
	n += 6;
	if (ref16) {
		s->ud[n++] = 0x08;
		s->ud[n++] = 0x04;
		s->ud[n++] = (uint8_t)(ref >> 8);
	} else {
		s->ud[n++] = 0x00;
		s->ud[n++] = 0x03;
	}
	s->ud[n++] = (uint8_t)ref;
	s->ud[n++] = (uint8_t)total;
	s->ud[n++] = (uint8_t)seq;
	s->ud[0] = (uint8_t)(n - 1);
	if (len > 0)
		memcpy(s->ud + n, payload, len);
	s->len = n + len;
	assert_int_equal(sms_udh_decode(s->ud, s->len, &s->h), 0);
	assert_true(s->h.concat);
}

static int
add(struct wsp_reasm *r, const char *sender, const struct seg *s,
    uint8_t **out, size_t *out_len)
{
	return wsp_reasm_add(r, sender, &s->h, out, out_len);
}

/* the DM push, whole */
static uint8_t *
dm_push(size_t *len)
{
	return join(hdr_dm, sizeof(hdr_dm), pkg0, sizeof(pkg0), len);
}

static void
check_is_dm_push(const uint8_t *p, size_t len)
{
	struct wsp_push w;

	assert_int_equal(wsp_push_decode(p, len, &w), 0);
	assert_true(wsp_push_is_dm(&w));
	assert_int_equal(w.body_len, sizeof(pkg0));
}

/* 2 segments, 8-bit ref, the second first */
static void
test_reasm_two(void **state)
{
	struct wsp_reasm *r = wsp_reasm_new();
	struct seg s1, s2;
	uint8_t *push, *out;
	size_t len, out_len;

	assert_non_null(r);
	push = dm_push(&len);
	make_seg(&s1, false, 0x2A, 2, 1, push, 20);
	make_seg(&s2, false, 0x2A, 2, 2, push + 20, len - 20);
	assert_int_equal(add(r, "+33600000001", &s2, &out, &out_len), 0);
	assert_null(out);
	assert_int_equal(add(r, "+33600000001", &s1, &out, &out_len), 1);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, push, len);
	check_is_dm_push(out, out_len);
	free(out);
	/* the slot is free again: the same segment starts anew */
	assert_int_equal(add(r, "+33600000001", &s1, &out, &out_len), 0);
	free(push);
	wsp_reasm_free(r);	/* with a message in progress: no leak */
}

/* 3 segments, 16-bit ref, order 3 1 1 2: the repeated 1 is ignored */
static void
test_reasm_three_dup(void **state)
{
	struct wsp_reasm *r = wsp_reasm_new();
	struct seg s[3];
	uint8_t *push, *out;
	size_t len, out_len;

	push = dm_push(&len);
	make_seg(&s[0], true, 0xBEEF, 3, 1, push, 10);
	make_seg(&s[1], true, 0xBEEF, 3, 2, push + 10, 10);
	make_seg(&s[2], true, 0xBEEF, 3, 3, push + 20, len - 20);
	assert_int_equal(s[2].h.ref, 0xBEEF);
	assert_int_equal(add(r, "1234", &s[2], &out, &out_len), 0);
	assert_int_equal(add(r, "1234", &s[0], &out, &out_len), 0);
	assert_int_equal(add(r, "1234", &s[0], &out, &out_len), 0);
	assert_int_equal(add(r, "1234", &s[2], &out, &out_len), 0);
	assert_int_equal(add(r, "1234", &s[1], &out, &out_len), 1);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, push, len);
	check_is_dm_push(out, out_len);
	free(out);
	free(push);
	wsp_reasm_free(r);
}

/* The same number with other bytes: a new message under a reused ref. */
static void
test_reasm_reused_ref(void **state)
{
	struct wsp_reasm *r = wsp_reasm_new();
	struct seg a1, b1, b2;
	uint8_t *out;
	size_t out_len;

	make_seg(&a1, false, 7, 2, 1, (const uint8_t *)"old", 3);
	make_seg(&b1, false, 7, 2, 1, (const uint8_t *)"new", 3);
	make_seg(&b2, false, 7, 2, 2, (const uint8_t *)"end", 3);
	assert_int_equal(add(r, "s", &a1, &out, &out_len), 0);
	assert_int_equal(add(r, "s", &b1, &out, &out_len), 0);
	assert_int_equal(add(r, "s", &b2, &out, &out_len), 1);
	assert_int_equal(out_len, 6);
	assert_memory_equal(out, "newend", 6);
	free(out);
	wsp_reasm_free(r);
}

static void
test_reasm_bad(void **state)
{
	struct wsp_reasm *r = wsp_reasm_new();
	struct sms_udh h;
	struct seg s;
	uint8_t big[141] = { 0 };
	uint8_t *out = (uint8_t *)&h;
	size_t out_len = 1;

	make_seg(&s, false, 1, 2, 0, (const uint8_t *)"x", 1);
	assert_int_equal(add(r, "s", &s, &out, &out_len), -EBADMSG);
	assert_null(out);
	assert_int_equal(out_len, 0);
	make_seg(&s, false, 1, 2, 3, (const uint8_t *)"x", 1);
	assert_int_equal(add(r, "s", &s, &out, &out_len), -EBADMSG);
	make_seg(&s, true, 1, 0, 1, (const uint8_t *)"x", 1);
	assert_int_equal(add(r, "s", &s, &out, &out_len), -EBADMSG);
	make_seg(&s, true, 1, 255, 255, (const uint8_t *)"x", 1);
	assert_int_equal(add(r, "s", &s, &out, &out_len), 0);

	/* more than one SMS holds */
	memset(&h, 0, sizeof(h));
	h.payload = big;
	h.payload_len = sizeof(big);
	assert_int_equal(wsp_reasm_add(r, "s", &h, &out, &out_len), -EBADMSG);
	h.payload = NULL;
	h.payload_len = 1;
	assert_int_equal(wsp_reasm_add(r, "s", &h, &out, &out_len), -EBADMSG);
	wsp_reasm_free(r);
	wsp_reasm_free(NULL);
}

/* Not concatenated, or 1 of 1: complete at once, a copy. */
static void
test_reasm_single(void **state)
{
	struct wsp_reasm *r = wsp_reasm_new();
	struct sms_udh h;
	struct seg s;
	uint8_t ud[sizeof(udh_ports) + sizeof(hdr_dm)];
	uint8_t *out;
	size_t out_len;

	memcpy(ud, udh_ports, sizeof(udh_ports));
	memcpy(ud + sizeof(udh_ports), hdr_dm, sizeof(hdr_dm));
	assert_int_equal(sms_udh_decode(ud, sizeof(ud), &h), 0);
	assert_int_equal(wsp_reasm_add(r, NULL, &h, &out, &out_len), 1);
	assert_int_equal(out_len, sizeof(hdr_dm));
	assert_memory_equal(out, hdr_dm, sizeof(hdr_dm));
	assert_ptr_not_equal(out, h.payload);
	free(out);

	make_seg(&s, false, 9, 1, 1, hdr_dm, sizeof(hdr_dm));
	assert_int_equal(add(r, "s", &s, &out, &out_len), 1);
	assert_memory_equal(out, hdr_dm, sizeof(hdr_dm));
	free(out);

	/* empty payload: still a buffer */
	make_seg(&s, false, 9, 1, 1, NULL, 0);
	assert_int_equal(add(r, "s", &s, &out, &out_len), 1);
	assert_non_null(out);
	assert_int_equal(out_len, 0);
	free(out);
	wsp_reasm_free(r);
}

static void
start(struct wsp_reasm *r, unsigned ref)
{
	uint8_t a = (uint8_t)ref, *out;
	struct seg s;
	size_t out_len;

	make_seg(&s, false, ref, 2, 1, &a, 1);
	assert_int_equal(add(r, "s", &s, &out, &out_len), 0);
}

/* 1 if the second half of ref completes a message, 0 if it starts one */
static int
finish(struct wsp_reasm *r, unsigned ref)
{
	uint8_t e = 0xEE, *out;
	struct seg s;
	size_t out_len;
	int n;

	make_seg(&s, false, ref, 2, 2, &e, 1);
	n = add(r, "s", &s, &out, &out_len);
	if (n == 1) {
		assert_int_equal(out_len, 2);
		assert_int_equal(out[0], ref);
		assert_int_equal(out[1], 0xEE);
		free(out);
	}
	return n;
}

/*
 * Four slots.  1-4 fill them, 1 completes and frees its slot, which 5
 * takes; 6 finds none free and drops the message started first among
 * those in progress, 2 (not the one in the first slot, 5).
 */
static void
test_reasm_overflow(void **state)
{
	struct wsp_reasm *r = wsp_reasm_new();
	unsigned ref;

	assert_int_equal(WSP_REASM_SLOTS, 4);
	for (ref = 1; ref <= 4; ref++)
		start(r, ref);
	assert_int_equal(finish(r, 1), 1);
	start(r, 5);
	start(r, 6);
	for (ref = 6; ref >= 3; ref--)
		assert_int_equal(finish(r, ref), 1);
	/* 2 was dropped: its second half starts a message of its own */
	assert_int_equal(finish(r, 2), 0);
	wsp_reasm_free(r);
}

/* Two senders, the same ref and total: two messages. */
static void
test_reasm_two_senders(void **state)
{
	struct wsp_reasm *r = wsp_reasm_new();
	struct seg a1, a2, b1, b2, c1;
	uint8_t *out;
	size_t out_len;

	make_seg(&a1, false, 0x10, 2, 1, (const uint8_t *)"AA", 2);
	make_seg(&a2, false, 0x10, 2, 2, (const uint8_t *)"aa", 2);
	make_seg(&b1, false, 0x10, 2, 1, (const uint8_t *)"BB", 2);
	make_seg(&b2, false, 0x10, 2, 2, (const uint8_t *)"bb", 2);
	/* same ref from A but 3 parts: another message still */
	make_seg(&c1, false, 0x10, 3, 1, (const uint8_t *)"CC", 2);
	assert_int_equal(add(r, "+331", &a1, &out, &out_len), 0);
	assert_int_equal(add(r, NULL, &b1, &out, &out_len), 0);
	assert_int_equal(add(r, "", &b2, &out, &out_len), 1);
	assert_memory_equal(out, "BBbb", 4);	/* NULL is "" */
	free(out);
	assert_int_equal(add(r, "+332", &b1, &out, &out_len), 0);
	assert_int_equal(add(r, "+331", &c1, &out, &out_len), 0);
	assert_int_equal(add(r, "+332", &b2, &out, &out_len), 1);
	assert_memory_equal(out, "BBbb", 4);
	free(out);
	assert_int_equal(add(r, "+331", &a2, &out, &out_len), 1);
	assert_memory_equal(out, "AAaa", 4);
	free(out);
	wsp_reasm_free(r);
}

/* 255 full segments: WSP_REASM_MAX octets, in reverse order. */
static void
test_reasm_largest(void **state)
{
	struct wsp_reasm *r = wsp_reasm_new();
	uint8_t payload[140], *out;
	struct seg s;
	size_t out_len, i;
	unsigned seq;

	for (seq = 255; seq >= 1; seq--) {
		memset(payload, (int)seq, sizeof(payload));
		make_seg(&s, true, 0xFFFF, 255, seq, payload, 140);
		assert_int_equal(add(r, "s", &s, &out, &out_len),
				 seq == 1 ? 1 : 0);
	}
	assert_int_equal(out_len, WSP_REASM_MAX);
	for (i = 0; i < out_len; i++)
		assert_int_equal(out[i], i / 140 + 1);
	free(out);
	wsp_reasm_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_dm),
		cmocka_unit_test(test_push_text_content_type),
		cmocka_unit_test(test_push_general_form),
		cmocka_unit_test(test_push_skips_headers),
		cmocka_unit_test(test_confirmed_push),
		cmocka_unit_test(test_not_dm),
		cmocka_unit_test(test_dm_cases),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_uintvar_5),
		cmocka_unit_test(test_text_limits),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_headers_len_short),
		cmocka_unit_test(test_udh_ports16),
		cmocka_unit_test(test_udh_cases),
		cmocka_unit_test(test_udh_truncations),
		cmocka_unit_test(test_reasm_two),
		cmocka_unit_test(test_reasm_three_dup),
		cmocka_unit_test(test_reasm_reused_ref),
		cmocka_unit_test(test_reasm_bad),
		cmocka_unit_test(test_reasm_single),
		cmocka_unit_test(test_reasm_overflow),
		cmocka_unit_test(test_reasm_two_senders),
		cmocka_unit_test(test_reasm_largest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
