/* SPDX-License-Identifier: MIT */
/*
 * SyncML WBXML reader and writer (WAP-192-WBXML-20010725, "WBXML 1.3"; the
 * SyncML 1.2 and MetInf 1.2 code pages of the SyncML Representation Protocol
 * 1.2 clause 8).
 *
 * The reader is a token loop over a bounded cursor that turns the body into
 * builder calls (syncml.c owns the rules); it checks every mb_u_int32 for
 * overflow, every length and string-table offset against what is left, and
 * refuses what SyncML never uses (attributes, LITERAL, EXT, PI) with 400.
 *
 * Accepted documents (status 415 otherwise):
 *   - WBXML version 1.1 to 1.3 (0x01..0x03); 1.0 has no charset field;
 *   - public id 0x1201 (SyncML 1.2), or public id 0 with the string-table
 *     form "-//SYNCML//DTD SyncML 1.2//EN", or "-//SYNCML//DTD SyncML 1.1//EN"
 *     which servers in the field send with VerDTD 1.2 (PROTOCOL.md);
 *     VerDTD then decides;
 *   - charset UTF-8 (0x6A), or 0 ("unknown", read as UTF-8).
 *
 * The writer emits WBXML 1.3, public id 0x1201, UTF-8, an empty string
 * table, STR_I strings, and OPAQUE for Data the model marks opaque (or that
 * holds a NUL byte) -- the way libwbxml encodes Item Data.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "syncml/syncml.h"
#include "util/cursor.h"

/* Global tokens, WBXML 1.3 clause 7.1. */
#define WB_SWITCH_PAGE	0x00
#define WB_END		0x01
#define WB_ENTITY	0x02
#define WB_STR_I	0x03
#define WB_STR_T	0x83
#define WB_OPAQUE	0xC3
#define WB_TAG_ATTR	0x80	/* tag has attributes */
#define WB_TAG_CONTENT	0x40	/* tag has content */

#define WB_VERSION	0x03
#define WB_PUBID_SYNCML12	0x1201
#define WB_CHARSET_UTF8	0x6A

static const char *const pubid_strings[] = {
	"-//SYNCML//DTD SyncML 1.2//EN",
	"-//SYNCML//DTD SyncML 1.1//EN",
};

struct wb_reader {
	const uint8_t *base;	/* for the error offset */
	struct cursor c;
	const uint8_t *strtbl;
	size_t strtbl_len;
	struct syncml_builder *b;
};

/* mb_u_int32 (WBXML 1.3 clause 5.1): at most 5 bytes, at most 32 bits. */
static bool
rd_mb(struct wb_reader *r, uint32_t *v)
{
	return cursor_get_uintvar(&r->c, v);
}

/* A NUL-terminated string inside [p, p + len); its length, or false. */
static bool
str_in(const uint8_t *p, size_t len, size_t *slen)
{
	const uint8_t *z = memchr(p, 0, len);

	if (z == NULL)
		return false;
	*slen = (size_t)(z - p);
	return true;
}

static size_t
utf8_put(uint8_t *s, uint32_t cp)
{
	if (cp < 0x80) {
		s[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		s[0] = (uint8_t)(0xC0 | cp >> 6);
		s[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		s[0] = (uint8_t)(0xE0 | cp >> 12);
		s[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		s[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	s[0] = (uint8_t)(0xF0 | cp >> 18);
	s[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
	s[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
	s[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

#define FAIL(r, st, ...)	syncml_builder_fail((r)->b, st, __VA_ARGS__)

static void
rd_header(struct wb_reader *r)
{
	uint32_t version, pubid, index = 0, charset, tlen;
	size_t i, slen;
	bool ok = false;
	uint8_t v8;

	if (!cursor_get_u8(&r->c, &v8)) {
		FAIL(r, 400, "empty message");
		return;
	}
	version = v8;
	if (version < 0x01 || version > 0x03) {
		FAIL(r, 415, "WBXML version 0x%02x", (unsigned)version);
		return;
	}
	if (!rd_mb(r, &pubid) || (pubid == 0 && !rd_mb(r, &index)) ||
	    !rd_mb(r, &charset) || !rd_mb(r, &tlen)) {
		FAIL(r, 400, "truncated or overlong WBXML header");
		return;
	}
	if (!cursor_get_bytes(&r->c, tlen, &r->strtbl)) {
		FAIL(r, 400, "string table of %lu bytes past the end",
		     (unsigned long)tlen);
		return;
	}
	r->strtbl_len = tlen;
	if (charset != WB_CHARSET_UTF8 && charset != 0) {
		FAIL(r, 415, "charset %lu is not UTF-8",
		     (unsigned long)charset);
		return;
	}
	if (pubid == 0) {
		if (index >= r->strtbl_len ||
		    !str_in(r->strtbl + index, r->strtbl_len - index, &slen)) {
			FAIL(r, 400, "public id string %lu outside the table",
			     (unsigned long)index);
			return;
		}
		for (i = 0; i < sizeof(pubid_strings) / sizeof(*pubid_strings);
		     i++)
			if (slen == strlen(pubid_strings[i]) &&
			    memcmp(r->strtbl + index, pubid_strings[i],
				   slen) == 0)
				ok = true;
		if (!ok)
			FAIL(r, 415, "public id \"%.*s\"",
			     (int)(slen > 60 ? 60 : slen),
			     (const char *)r->strtbl + index);
	} else if (pubid != WB_PUBID_SYNCML12) {
		FAIL(r, 415, "public id 0x%lx", (unsigned long)pubid);
	}
}

static void
rd_body(struct wb_reader *r)
{
	unsigned page = 0;
	size_t open = 0, slen;
	bool root_done = false;
	enum syncml_tag tag;
	uint8_t t, pg, u[4];
	const char *str;
	const uint8_t *op;
	uint32_t v;

	while (!syncml_builder_failed(r->b) && cursor_get_u8(&r->c, &t)) {
		switch (t) {
		case WB_SWITCH_PAGE:
			if (!cursor_get_u8(&r->c, &pg)) {
				FAIL(r, 400, "truncated SWITCH_PAGE");
				break;
			}
			page = pg;
			if (page > 1)
				FAIL(r, 400, "unknown code page %u", page);
			break;
		case WB_END:
			if (open == 0) {
				FAIL(r, 400, "END outside any element");
				break;
			}
			syncml_builder_end(r->b);
			if (--open == 0)
				root_done = true;
			break;
		case WB_ENTITY:
			if (!rd_mb(r, &v)) {
				FAIL(r, 400, "bad ENTITY");
				break;
			}
			if (v == 0 || v > 0x10FFFF || (v >= 0xD800 &&
							v <= 0xDFFF)) {
				FAIL(r, 400, "ENTITY %lu is no character",
				     (unsigned long)v);
				break;
			}
			syncml_builder_text(r->b, u, utf8_put(u, v));
			break;
		case WB_STR_I:
			if (!cursor_get_cstr(&r->c, &str, &slen)) {
				FAIL(r, 400, "unterminated STR_I");
				break;
			}
			syncml_builder_text(r->b, str, slen);
			break;
		case WB_STR_T:
			if (!rd_mb(r, &v) || v >= r->strtbl_len ||
			    !str_in(r->strtbl + v, r->strtbl_len - v, &slen)) {
				FAIL(r, 400, "bad STR_T reference");
				break;
			}
			syncml_builder_text(r->b, r->strtbl + v, slen);
			break;
		case WB_OPAQUE:
			if (!rd_mb(r, &v) || !cursor_get_bytes(&r->c, v, &op)) {
				FAIL(r, 400, "OPAQUE length past the end");
				break;
			}
			syncml_builder_opaque(r->b, op, v);
			break;
		default:
			/* LITERAL*, EXT*, PI: 0x04, 0x40-0x44, 0x80-0x84, 0xC0-0xC4 */
			if ((t & 0x3F) <= 0x04) {
				FAIL(r, 400, "unsupported token 0x%02x", t);
				break;
			}
			if (t & WB_TAG_ATTR) {
				FAIL(r, 400, "attributes (tag 0x%02x)", t);
				break;
			}
			if (root_done) {
				FAIL(r, 400, "data after the root element");
				break;
			}
			tag = syncml_tag_by_token(page, t & 0x3F);
			if (tag == SYNCML_T_NONE) {
				FAIL(r, 400, "unknown tag 0x%02x in page %u",
				     t & 0x3F, page);
				break;
			}
			syncml_builder_start(r->b, tag);
			if (t & WB_TAG_CONTENT)
				open++;
			else
				syncml_builder_end(r->b);
			break;
		}
	}
}

int
syncml_parse_wbxml(const uint8_t *p, size_t len, struct syncml_msg **out,
		   struct syncml_error *err)
{
	struct wb_reader r = { .base = p };
	char msg[sizeof(err->text)];
	size_t at = 0;

	*out = NULL;
	if ((r.b = syncml_builder_new(err)) == NULL) {
		err->status = 500;
		snprintf(err->text, sizeof(err->text), "out of memory");
		return -ENOMEM;
	}
	cursor_init(&r.c, p, len);
	rd_header(&r);
	if (!syncml_builder_failed(r.b))
		rd_body(&r);
	if (!syncml_builder_failed(r.b))
		*out = syncml_builder_finish(r.b);
	/* pos is just past the token that failed (a failed read does not move). */
	at = r.c.pos != NULL ? (size_t)(r.c.pos - r.base) : 0;
	if (*out == NULL) {
		err->line = 0;
		err->column = at;
		snprintf(msg, sizeof(msg), "%s", err->text);
		snprintf(err->text, sizeof(err->text), "offset %zu: %.120s", at,
			 msg);
	}
	syncml_builder_free(r.b);
	if (*out != NULL)
		return 0;
	return err->status == 500 ? -ENOMEM : -EBADMSG;
}

/* ---- writer ------------------------------------------------------------- */

static void
put_u8(struct syncml_writer *w, uint8_t c)
{
	buf_put(w->out, &c, 1);
}

static void
put_mb(struct syncml_writer *w, uint32_t v)
{
	uint8_t b[5];
	size_t n = 0, i;

	do {
		b[n++] = (uint8_t)(v & 0x7F);
		v >>= 7;
	} while (v != 0);
	for (i = n; i-- > 0;)
		put_u8(w, (uint8_t)(b[i] | (i > 0 ? 0x80 : 0)));
}

void
syncml_wbxml_prolog(struct syncml_writer *w)
{
	put_u8(w, WB_VERSION);
	put_mb(w, WB_PUBID_SYNCML12);
	put_mb(w, WB_CHARSET_UTF8);
	put_mb(w, 0);		/* no string table */
	w->page = 0;
}

void
syncml_wbxml_start(struct syncml_writer *w, enum syncml_tag tag, bool empty)
{
	if (syncml_tags[tag].page != w->page) {
		w->page = syncml_tags[tag].page;
		put_u8(w, WB_SWITCH_PAGE);
		put_u8(w, (uint8_t)w->page);
	}
	put_u8(w, (uint8_t)(syncml_tags[tag].token |
			    (empty ? 0 : WB_TAG_CONTENT)));
}

void
syncml_wbxml_end(struct syncml_writer *w)
{
	put_u8(w, WB_END);
}

void
syncml_wbxml_text(struct syncml_writer *w, const uint8_t *p, size_t len)
{
	if (memchr(p, 0, len) != NULL) {
		if (w->err == 0)
			w->err = -EINVAL;
		return;
	}
	put_u8(w, WB_STR_I);
	buf_put(w->out, p, len);
	put_u8(w, 0);
}

void
syncml_wbxml_opaque(struct syncml_writer *w, const uint8_t *p, size_t len)
{
	if (len > UINT32_MAX) {
		if (w->err == 0)
			w->err = -EINVAL;
		return;
	}
	put_u8(w, WB_OPAQUE);
	put_mb(w, (uint32_t)len);
	buf_put(w->out, p, len);
}
