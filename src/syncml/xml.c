/* SPDX-License-Identifier: MIT */
/*
 * SyncML XML: a thin expat adapter feeding the builder of syncml.c, and the
 * XML writer.
 *
 * The adapter only resolves names: an element is looked up in the SyncML
 * code page, or, directly inside Meta, in the MetInf one (RepPro 1.2 clause
 * 5.1.14: Meta content is MetInf).  The namespaces accepted are
 * SYNCML:SYNCML1.2 and none for SyncML elements; syncml:metinf, none, or the
 * inherited SYNCML:SYNCML1.2 for MetInf ones (many servers do not redeclare
 * the namespace inside Meta).  Any other namespace is status 415: the body is
 * not the media type the session speaks.  Attributes other than namespace
 * declarations do not exist in SyncML and are 400.
 *
 * Entity declarations are refused (400) so that no internal subset can make
 * the parser expand text without bound; the five predefined entities,
 * character references and CDATA sections are of course accepted.
 *
 * The writer produces canonical XML: UTF-8, no whitespace between elements,
 * the namespace on SyncML and on every MetInf element, &amp; &lt; &gt; and
 * &#13; escaped, empty elements as <X/>.  Data that is not XML text (not
 * UTF-8, or control characters) cannot be written: -EINVAL.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <expat.h>

#include "syncml/syncml.h"

#define NS_SEP		'|'
#define NS_SYNCML	"SYNCML:SYNCML1.2"
#define NS_METINF	"syncml:metinf"

struct xml_adapter {
	XML_Parser parser;
	struct syncml_builder *b;
	struct syncml_error *err;
	bool positioned;
};

/* Record where the builder failed, once, and stop expat. */
static void
check(struct xml_adapter *a)
{
	if (!syncml_builder_failed(a->b) || a->positioned)
		return;
	a->positioned = true;
	a->err->line = XML_GetCurrentLineNumber(a->parser);
	a->err->column = XML_GetCurrentColumnNumber(a->parser) + 1;
	XML_StopParser(a->parser, XML_FALSE);
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xml_adapter *a = ud;
	const char *local = strrchr(name, NS_SEP);
	enum syncml_tag tag;
	unsigned page;
	size_t nslen = 0;

	if (syncml_builder_failed(a->b))
		return;
	if (local != NULL) {
		nslen = (size_t)(local - name);
		local++;
	} else {
		local = name;
	}
	page = syncml_builder_parent(a->b) == SYNCML_T_META ? 1 : 0;
#define NS_IS(s)	(nslen == sizeof(s) - 1 && memcmp(name, s, nslen) == 0)
	if (nslen > 0 && !NS_IS(NS_SYNCML) && !(page == 1 && NS_IS(NS_METINF))) {
		if (NS_IS(NS_METINF))
			syncml_builder_fail(a->b, 400,
					    "MetInf element %.40s outside Meta",
					    local);
		else
			syncml_builder_fail(a->b, 415,
					    "element %.40s in namespace %.*s",
					    local, (int)(nslen > 60 ? 60 : nslen),
					    name);
	} else if (atts[0] != NULL) {
		syncml_builder_fail(a->b, 400, "attribute %.40s on %.40s",
				    atts[0], local);
	} else if ((tag = syncml_tag_by_name(page, local)) == SYNCML_T_NONE) {
		syncml_builder_fail(a->b, 400, "unknown element %.40s", local);
	} else {
		syncml_builder_start(a->b, tag);
	}
#undef NS_IS
	check(a);
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct xml_adapter *a = ud;

	syncml_builder_end(a->b);
	check(a);
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct xml_adapter *a = ud;

	syncml_builder_text(a->b, s, (size_t)len);
	check(a);
}

static void XMLCALL
on_entity_decl(void *ud, const XML_Char *name, int is_param,
	       const XML_Char *value, int value_len, const XML_Char *base,
	       const XML_Char *system_id, const XML_Char *public_id,
	       const XML_Char *notation)
{
	struct xml_adapter *a = ud;

	syncml_builder_fail(a->b, 400, "entity declaration %.40s", name);
	check(a);
}

int
syncml_parse_xml(const char *p, size_t len, struct syncml_msg **out,
		 struct syncml_error *err)
{
	struct xml_adapter a = { .err = err };
	enum XML_Status st;
	char msg[sizeof(err->text)];
	int r = -EBADMSG;

	*out = NULL;
	if ((a.b = syncml_builder_new(err)) == NULL) {
		err->status = 500;
		snprintf(err->text, sizeof(err->text), "out of memory");
		return -ENOMEM;
	}
	if (len > INT_MAX) {
		syncml_builder_fail(a.b, 413, "message of %zu bytes", len);
		goto out;
	}
	if ((a.parser = XML_ParserCreateNS(NULL, NS_SEP)) == NULL) {
		syncml_builder_fail(a.b, 500, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	XML_SetUserData(a.parser, &a);
	XML_SetElementHandler(a.parser, on_start, on_end);
	XML_SetCharacterDataHandler(a.parser, on_text);
	XML_SetEntityDeclHandler(a.parser, on_entity_decl);
	st = XML_Parse(a.parser, p != NULL ? p : "", (int)len, XML_TRUE);
	if (st != XML_STATUS_OK && !syncml_builder_failed(a.b)) {
		syncml_builder_fail(a.b, 400, "%s",
			XML_ErrorString(XML_GetErrorCode(a.parser)));
		err->line = XML_GetCurrentLineNumber(a.parser);
		err->column = XML_GetCurrentColumnNumber(a.parser) + 1;
		a.positioned = true;
	}
	if (!syncml_builder_failed(a.b)) {
		*out = syncml_builder_finish(a.b);
		if (*out == NULL) {
			err->line = XML_GetCurrentLineNumber(a.parser);
			err->column = XML_GetCurrentColumnNumber(a.parser) + 1;
		}
	}
	XML_ParserFree(a.parser);
out:
	if (*out != NULL) {
		r = 0;
	} else {
		if (err->status == 500)
			r = -ENOMEM;
		snprintf(msg, sizeof(msg), "%s", err->text);
		snprintf(err->text, sizeof(err->text), "%lu:%lu: %.120s",
			 err->line, err->column, msg);
	}
	syncml_builder_free(a.b);
	return r;
}

/* ---- writer ------------------------------------------------------------- */

#define PUTS(w, s)	buf_put((w)->out, s, sizeof(s) - 1)

void
syncml_xml_prolog(struct syncml_writer *w)
{
	PUTS(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
}

void
syncml_xml_start(struct syncml_writer *w, enum syncml_tag tag, bool empty)
{
	const char *name = syncml_tags[tag].name;

	buf_put(w->out, "<", 1);
	buf_put(w->out, name, strlen(name));
	if (tag == SYNCML_T_SYNCML)
		PUTS(w, " xmlns=\"" NS_SYNCML "\"");
	else if (syncml_tags[tag].page == 1)
		PUTS(w, " xmlns=\"" NS_METINF "\"");
	if (empty)
		PUTS(w, "/>");
	else
		buf_put(w->out, ">", 1);
}

void
syncml_xml_end(struct syncml_writer *w, enum syncml_tag tag)
{
	const char *name = syncml_tags[tag].name;

	PUTS(w, "</");
	buf_put(w->out, name, strlen(name));
	buf_put(w->out, ">", 1);
}

/*
 * Length of the UTF-8 sequence at s if it is an XML 1.0 Char (clause 2.2),
 * else 0.
 */
static size_t
xml_char(const uint8_t *s, size_t left)
{
	uint32_t cp;
	size_t n, k;

	if (s[0] < 0x80)
		return s[0] >= 0x20 || s[0] == '\t' || s[0] == '\n' ||
		       s[0] == '\r' ? 1 : 0;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		n = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3F);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF) ||
			cp == 0xFFFE || cp == 0xFFFF)) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return n;
}

void
syncml_xml_text(struct syncml_writer *w, const uint8_t *p, size_t len)
{
	size_t i = 0, run = 0, n;
	const char *esc;

	while (i < len) {
		switch (p[i]) {
		case '&': esc = "&amp;"; break;
		case '<': esc = "&lt;"; break;
		case '>': esc = "&gt;"; break;
		case '\r': esc = "&#13;"; break;	/* else read as \n */
		default: esc = NULL; break;
		}
		if (esc != NULL) {
			buf_put(w->out, p + run, i - run);
			buf_put(w->out, esc, strlen(esc));
			run = ++i;
			continue;
		}
		if ((n = xml_char(p + i, len - i)) == 0) {
			if (w->err == 0)
				w->err = -EINVAL;
			return;
		}
		i += n;
	}
	buf_put(w->out, p + run, len - run);
}
