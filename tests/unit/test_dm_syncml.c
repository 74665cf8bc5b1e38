/* SPDX-License-Identifier: MIT */
/*
 * SyncML DM 1.2 model and codecs: XML -> model -> WBXML -> model -> XML
 * round trips for every command kind, MaxMsgSize splitting and MoreData
 * chunking, and malformed XML and WBXML inputs with the status each one
 * must be answered with (SyncML RepPro 1.2 clause 10) and, for XML, where.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncml/syncml.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Body starts on line 4, column 1. */
#define HDR_NS(ns, dtd, proto) \
	"<SyncML xmlns=\"" ns "\">\n" \
	"<SyncHdr><VerDTD>" dtd "</VerDTD><VerProto>" proto "</VerProto>" \
	"<SessionID>1</SessionID><MsgID>2</MsgID><Target><LocURI>IMEI:1" \
	"</LocURI></Target><Source><LocURI>http://srv/dm</LocURI>" \
	"<LocName>srv</LocName></Source></SyncHdr>\n<SyncBody>\n"
#define HDR	HDR_NS("SYNCML:SYNCML1.2", "1.2", "DM/1.2")
#define TAIL	"\n</SyncBody></SyncML>\n"
#define MSG(body)	HDR body TAIL
#define TGT(u)	"<Target><LocURI>" u "</LocURI></Target>"
#define MI(e, v)	"<" e " xmlns=\"syncml:metinf\">" v "</" e ">"

/* ---- round trips ------------------------------------------------------- */

struct rt_vec {
	const char *name;
	const char *xml;
	enum syncml_cmd_type type;	/* of the first command */
	unsigned code;			/* Alert/Status code, or 0 */
};

static const struct rt_vec rt_vecs[] = {
	{ "Add", MSG("<Add><CmdID>1</CmdID><Meta>" MI("Format", "chr")
		     MI("Type", "text/plain") "</Meta><Item>" TGT("./a/b")
		     "<Data>v</Data></Item></Add>"), SYNCML_ADD, 0 },
	{ "Replace", MSG("<Replace><CmdID>2</CmdID><NoResp/><Item>"
			 TGT("./DevInfo/Lang") "<Meta>" MI("Format", "chr")
			 MI("Size", "2") "</Meta><Data>en</Data></Item>"
			 "<Item>" TGT("./x") "<Data/></Item></Replace>"),
	  SYNCML_REPLACE, 0 },
	{ "Get", MSG("<Get><CmdID>3</CmdID><Item>" TGT("./DevInfo?list=Struct")
		     "</Item></Get>"), SYNCML_GET, 0 },
	{ "Delete", MSG("<Delete><CmdID>4</CmdID><Item>" TGT("./a")
			"</Item></Delete>"), SYNCML_DELETE, 0 },
	{ "Copy", MSG("<Copy><CmdID>5</CmdID><Item>" TGT("./b")
		      "<Source><LocURI>./a</LocURI></Source></Item></Copy>"),
	  SYNCML_COPY, 0 },
	{ "Exec", MSG("<Exec><CmdID>6</CmdID><Correlator>abc</Correlator>"
		      "<Item>" TGT("./FUMO/Update") "<Data>go</Data></Item>"
		      "</Exec>"), SYNCML_EXEC, 0 },
	{ "Alert 1100 display", MSG("<Alert><CmdID>7</CmdID><Data>1100</Data>"
		"<Item><Data>MINDT=10</Data></Item><Item><Data>Hello"
		"</Data></Item></Alert>"), SYNCML_ALERT, 1100 },
	{ "Alert 1101 confirm", MSG("<Alert><CmdID>7</CmdID><Data>1101</Data>"
		"<Item><Data/></Item><Item><Data>Sure?</Data></Item></Alert>"),
	  SYNCML_ALERT, 1101 },
	{ "Alert 1102 text input", MSG("<Alert><CmdID>7</CmdID><Data>1102"
		"</Data><Item><Data>IT=A&amp;ET=T</Data></Item><Item><Data>"
		"Name?</Data></Item></Alert>"), SYNCML_ALERT, 1102 },
	{ "Alert 1103 single choice", MSG("<Alert><CmdID>7</CmdID><Data>1103"
		"</Data><Item><Data/></Item><Item><Data>Pick</Data></Item>"
		"<Item><Data>a</Data></Item><Item><Data>b</Data></Item>"
		"</Alert>"), SYNCML_ALERT, 1103 },
	{ "Alert 1104 multiple choice", MSG("<Alert><CmdID>7</CmdID><Data>1104"
		"</Data><Item><Data/></Item><Item><Data>Pick</Data></Item>"
		"<Item><Data>a</Data></Item></Alert>"), SYNCML_ALERT, 1104 },
	{ "Alert 1200 server-initiated", MSG("<Alert><CmdID>1</CmdID><Data>1200"
		"</Data></Alert>"), SYNCML_ALERT, 1200 },
	{ "Alert 1201 client-initiated", MSG("<Alert><CmdID>1</CmdID><Data>1201"
		"</Data></Alert>"), SYNCML_ALERT, 1201 },
	{ "Alert 1222 next message", MSG("<Alert><CmdID>1</CmdID><Data>1222"
		"</Data></Alert>"), SYNCML_ALERT, 1222 },
	{ "Alert 1223 session abort", MSG("<Alert><CmdID>1</CmdID><Data>1223"
		"</Data></Alert>"), SYNCML_ALERT, 1223 },
	{ "Alert 1226 generic", MSG("<Alert><CmdID>9</CmdID><Data>1226</Data>"
		"<Correlator>corr-1</Correlator><Item><Source><LocURI>"
		"./FUMO/Update</LocURI></Source><Meta>"
		MI("Format", "xml")
		MI("Type", "org.openmobilealliance.dm.firmwareupdate.devicerequest")
		MI("Mark", "critical") "</Meta><Data>&lt;r&gt;1&lt;/r&gt;"
		"</Data></Item></Alert>"), SYNCML_ALERT, 1226 },
	{ "Status with Chal and NextNonce", MSG("<Status><CmdID>1</CmdID>"
		"<MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>"
		"<TargetRef>IMEI:1</TargetRef><SourceRef>http://srv/dm"
		"</SourceRef><Chal><Meta>" MI("Format", "b64")
		MI("Type", "syncml:auth-md5") MI("NextNonce", "AAECAw==")
		"</Meta></Chal><Data>401</Data></Status>"), SYNCML_STATUS, 401 },
	{ "Status with Item", MSG("<Status><CmdID>2</CmdID><MsgRef>1</MsgRef>"
		"<CmdRef>4</CmdRef><Cmd>Alert</Cmd><Data>200</Data><Item>"
		"<Data>2</Data></Item></Status>"), SYNCML_STATUS, 200 },
	{ "Results", MSG("<Results><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>3"
		"</CmdRef><Item><Source><LocURI>./DevInfo/Mod</LocURI></Source>"
		"<Meta>" MI("Format", "chr") MI("Type", "text/plain")
		"</Meta><Data>vuicc</Data></Item></Results>"),
	  SYNCML_RESULTS, 0 },
	{ "Sequence", MSG("<Sequence><CmdID>1</CmdID><Get><CmdID>2</CmdID>"
		"<Item>" TGT("./a") "</Item></Get><Alert><CmdID>3</CmdID>"
		"<Data>1100</Data><Item><Data>x</Data></Item></Alert>"
		"</Sequence>"), SYNCML_SEQUENCE, 0 },
	{ "Atomic with nested Sequence", MSG("<Atomic><CmdID>1</CmdID><NoResp/>"
		"<Add><CmdID>2</CmdID><Item>" TGT("./n") "<Meta>"
		MI("Format", "node") "</Meta></Item></Add><Sequence><CmdID>3"
		"</CmdID><Replace><CmdID>4</CmdID><Item>" TGT("./n/v")
		"<Data>1</Data></Item></Replace><Delete><CmdID>5</CmdID><Item>"
		TGT("./n/w") "</Item></Delete></Sequence></Atomic>"),
	  SYNCML_ATOMIC, 0 },
	{ "MoreData", MSG("<Replace><CmdID>1</CmdID><Item>" TGT("./big")
		"<Meta>" MI("Size", "100000") "</Meta><Data>AAAA</Data>"
		"<MoreData/></Item></Replace>"), SYNCML_REPLACE, 0 },
	{ "Final", MSG("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>"
		"<Final/>"), SYNCML_ALERT, 1201 },
	{ "CDATA and entities", MSG("<Replace><CmdID>1</CmdID><Item>"
		TGT("./a&amp;b") "<Data><![CDATA[<x> & ]]>&#xE9;&#13;&quot;"
		"</Data></Item></Replace>"), SYNCML_REPLACE, 0 },
	{ "header Cred, Meta, RespURI", "<SyncML xmlns=\"SYNCML:SYNCML1.2\">"
		"<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
		"<SessionID>A1</SessionID><MsgID>1</MsgID>" TGT("http://s/dm")
		"<Source><LocURI>IMEI:1</LocURI></Source><RespURI>http://s/r"
		"</RespURI><Cred><Meta>" MI("Format", "b64")
		MI("Type", "syncml:auth-md5") "</Meta><Data>QUJD</Data></Cred>"
		"<Meta>" MI("MaxMsgSize", "5000") MI("MaxObjSize", "65536")
		"</Meta></SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201"
		"</Data></Alert><Final/></SyncBody></SyncML>",
	  SYNCML_ALERT, 1201 },
	{ "no namespace, MetInf inheriting SyncML's", "<SyncML><SyncHdr>"
		"<VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1"
		"</SessionID><MsgID>1</MsgID>" TGT("a") "<Source><LocURI>b"
		"</LocURI></Source></SyncHdr><SyncBody><Get><CmdID>1</CmdID>"
		"<Meta><Type>text/plain</Type></Meta><Item>" TGT("./a")
		"</Item></Get></SyncBody></SyncML>", SYNCML_GET, 0 },
};

static void
encode_ok(const struct syncml_msg *m, enum syncml_format f,
	  struct buf *b)
{
	assert_int_equal(syncml_encode(m, f, b), 0);
	assert_false(b->failed);
}

static struct syncml_msg *
parse_ok(enum syncml_format f, const void *p, size_t len)
{
	struct syncml_error err;
	struct syncml_msg *m = NULL;
	int r = syncml_parse(f, p, len, &m, &err);

	if (r != 0)
		print_error("status %d: %s\n", err.status, err.text);
	assert_int_equal(r, 0);
	assert_non_null(m);
	assert_int_equal(err.status, 0);
	return m;
}

static void
test_round_trip(void **state)
{
	const struct rt_vec *v = *state;
	struct buf x1 = { 0 }, wb = { 0 }, x2 = { 0 }, wb2 = { 0 };
	struct syncml_msg *m1, *m2, *m3;

	m1 = parse_ok(SYNCML_XML, v->xml, strlen(v->xml));
	assert_non_null(m1->cmds);
	assert_int_equal(m1->cmds->type, v->type);
	if (v->code != 0)
		assert_int_equal(m1->cmds->code, v->code);
	encode_ok(m1, SYNCML_XML, &x1);
	encode_ok(m1, SYNCML_WBXML, &wb);
	m2 = parse_ok(SYNCML_WBXML, wb.p, wb.len);
	encode_ok(m2, SYNCML_XML, &x2);
	assert_int_equal(x1.len, x2.len);
	assert_memory_equal(x1.p, x2.p, x1.len);
	/* Canonical XML is a fixed point, and so is our WBXML. */
	m3 = parse_ok(SYNCML_XML, x2.p, x2.len);
	encode_ok(m3, SYNCML_WBXML, &wb2);
	assert_int_equal(wb.len, wb2.len);
	assert_memory_equal(wb.p, wb2.p, wb.len);
	syncml_msg_free(m1);
	syncml_msg_free(m2);
	syncml_msg_free(m3);
	buf_free(&x1);
	buf_free(&x2);
	buf_free(&wb);
	buf_free(&wb2);
}

/* Field-level checks on two of the vectors. */
static void
test_model_fields(void **state)
{
	const char *g = rt_vecs[15].xml, *s = rt_vecs[16].xml;
	struct syncml_msg *m;
	struct syncml_cmd *c;

	m = parse_ok(SYNCML_XML, g, strlen(g));
	c = m->cmds;
	assert_string_equal(c->cmd_id, "9");
	assert_string_equal(c->correlator, "corr-1");
	assert_string_equal(c->items->source.uri, "./FUMO/Update");
	assert_string_equal(c->items->meta.mark, "critical");
	assert_string_equal(c->items->meta.format, "xml");
	assert_memory_equal(c->items->data.p, "<r>1</r>", 9);
	assert_string_equal(m->hdr.source.name, "srv");
	assert_false(m->final);
	syncml_msg_free(m);

	m = parse_ok(SYNCML_XML, s, strlen(s));
	c = m->cmds;
	assert_true(c->has_chal);
	assert_string_equal(c->chal.next_nonce, "AAECAw==");
	assert_string_equal(c->chal.type, "syncml:auth-md5");
	assert_string_equal(c->cmd, "SyncHdr");
	assert_string_equal(c->cmd_ref, "0");
	assert_string_equal(c->target_ref, "IMEI:1");
	syncml_msg_free(m);
}

static struct syncml_msg *
new_msg(void)
{
	struct syncml_msg *m = syncml_msg_new();

	assert_non_null(m);
	assert_int_equal(syncml_set_str(m, &m->hdr.session_id, "7"), 0);
	assert_int_equal(syncml_set_str(m, &m->hdr.msg_id, "1"), 0);
	assert_int_equal(syncml_set_str(m, &m->hdr.target.uri, "http://s"), 0);
	assert_int_equal(syncml_set_str(m, &m->hdr.source.uri, "IMEI:1"), 0);
	return m;
}

/* Binary Data survives WBXML (OPAQUE) and is refused by the XML writer. */
static void
test_binary_data(void **state)
{
	static const uint8_t bin[] = { 0x00, 0xFF, 0x01, 0x80, 0x3C, 0x00 };
	struct buf wb = { 0 }, x = { 0 };
	struct syncml_msg *m = new_msg(), *m2;
	struct syncml_cmd *c;
	struct syncml_item *it;

	c = syncml_cmd_add(m, NULL, SYNCML_REPLACE, "1");
	assert_non_null(c);
	it = syncml_item_add(m, c);
	assert_non_null(it);
	assert_int_equal(syncml_set_str(m, &it->target.uri, "./bin"), 0);
	assert_int_equal(syncml_set_str(m, &it->meta.format, "bin"), 0);
	assert_int_equal(syncml_set_data(m, &it->data, bin, sizeof(bin), true),
			 0);
	m->final = true;
	encode_ok(m, SYNCML_WBXML, &wb);
	m2 = parse_ok(SYNCML_WBXML, wb.p, wb.len);
	it = m2->cmds->items;
	assert_true(it->data.opaque);
	assert_int_equal(it->data.len, sizeof(bin));
	assert_memory_equal(it->data.p, bin, sizeof(bin));
	assert_true(m2->final);
	assert_int_equal(syncml_encode(m, SYNCML_XML, &x), -EINVAL);
	assert_int_equal(x.len, 0);
	/* A command without CmdID cannot be written. */
	c->cmd_id = NULL;
	assert_int_equal(syncml_encode(m, SYNCML_WBXML, &x), -EINVAL);
	syncml_msg_free(m);
	syncml_msg_free(m2);
	buf_free(&wb);
	buf_free(&x);
	syncml_msg_free(NULL);
}

/* The string-table public id forms (PROTOCOL.md), with STR_T content. */
static void
test_strtbl_pubid(void **state)
{
	static const char *const ids[] = {
		"-//SYNCML//DTD SyncML 1.2//EN",
		"-//SYNCML//DTD SyncML 1.1//EN",
	};
	/* min message; the Target LocURI "I" comes from the table (STR_T). */
	static const uint8_t body[] = {
		0x6d, 0x6c, 0x71, 0x03, 0x31, 0x2e, 0x32, 0x00, 0x01, 0x72,
		0x03, 0x44, 0x4d, 0x2f, 0x31, 0x2e, 0x32, 0x00, 0x01, 0x65,
		0x03, 0x31, 0x00, 0x01, 0x5b, 0x03, 0x32, 0x00, 0x01, 0x6e,
		0x57, 0x83, 0x1e, 0x01, 0x01, 0x67, 0x57, 0x03, 0x53, 0x00,
		0x01, 0x01, 0x01, 0x6b, 0x12, 0x01, 0x01,
	};
	uint8_t doc[128];
	struct syncml_msg *m;
	size_t i, n, sl;

	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		sl = strlen(ids[i]) + 1;	/* 30 */
		n = 0;
		doc[n++] = 0x02;	/* WBXML 1.2 */
		doc[n++] = 0x00;	/* public id in the string table */
		doc[n++] = 0x00;	/* at index 0 */
		doc[n++] = 0x6A;
		doc[n++] = (uint8_t)(sl + 2);
		memcpy(doc + n, ids[i], sl);
		n += sl;
		memcpy(doc + n, "I", 2);
		n += 2;
		memcpy(doc + n, body, sizeof(body));
		n += sizeof(body);
		m = parse_ok(SYNCML_WBXML, doc, n);
		assert_string_equal(m->hdr.ver_dtd, "1.2");
		assert_string_equal(m->hdr.target.uri, "I");
		assert_true(m->final);
		syncml_msg_free(m);
	}
}

/* ---- MaxMsgSize splitting ------------------------------------------- */

static struct syncml_msg *
big_msg(size_t n)
{
	struct syncml_msg *m = new_msg();
	struct syncml_cmd *c;
	struct syncml_item *it;
	char id[24], uri[64];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%zu", i + 1);
		snprintf(uri, sizeof(uri), "./Vendor/Node%zu/Value", i);
		c = syncml_cmd_add(m, NULL, i % 4 == 3 ? SYNCML_STATUS :
				   i % 4 == 0 ? SYNCML_REPLACE :
				   i % 4 == 1 ? SYNCML_ADD : SYNCML_GET, id);
		assert_non_null(c);
		if (c->type == SYNCML_STATUS) {
			c->msg_ref = syncml_strdup(m, "1");
			c->cmd_ref = syncml_strdup(m, id);
			c->cmd = syncml_strdup(m, "Replace");
			c->code = 200;
			continue;
		}
		it = syncml_item_add(m, c);
		assert_non_null(it);
		it->target.uri = syncml_strdup(m, uri);
		if (c->type != SYNCML_GET)
			assert_int_equal(syncml_set_data(m, &it->data,
					 "some value", 10, false), 0);
	}
	m->final = true;
	return m;
}

static void
split_all(enum syncml_format f, size_t max, size_t ncmds)
{
	struct syncml_msg *m = big_msg(ncmds), *p;
	struct syncml_cursor cur = { 0, 0 };
	struct buf b = { 0 };
	struct syncml_cmd *c;
	size_t got = 0, msgs = 0, status_seen = 0, nstatus = ncmds / 4;
	bool done = false, other_seen = false;

	while (!done) {
		b.len = 0;
		assert_int_equal(syncml_encode_split(m, f, max, &cur, &b,
						     &done), 0);
		assert_true(b.len <= max);
		p = parse_ok(f, b.p, b.len);
		assert_int_equal(p->final, done);
		for (c = p->cmds; c != NULL; c = c->next) {
			/* Status first, across messages. */
			if (c->type == SYNCML_STATUS) {
				assert_false(other_seen);
				status_seen++;
			} else {
				other_seen = true;
			}
			got++;
		}
		syncml_msg_free(p);
		msgs++;
		assert_true(msgs < 1000);
	}
	assert_int_equal(got, ncmds);
	assert_int_equal(status_seen, nstatus);
	assert_true(msgs > 1);
	assert_int_equal(cur.cmd, syncml_cmd_count(m));
	buf_free(&b);
	syncml_msg_free(m);
}

static void
test_split_xml(void **state)
{
	split_all(SYNCML_XML, 2000, 100);
}

static void
test_split_wbxml(void **state)
{
	split_all(SYNCML_WBXML, 600, 100);
}

static void
test_split_fits_one(void **state)
{
	struct syncml_msg *m = big_msg(10);
	struct syncml_cursor cur = { 0, 0 };
	struct buf b = { 0 }, whole = { 0 };
	bool done = false;

	encode_ok(m, SYNCML_WBXML, &whole);
	assert_int_equal(syncml_encode_split(m, SYNCML_WBXML, whole.len, &cur,
					     &b, &done), 0);
	assert_true(done);
	assert_int_equal(b.len, whole.len);
	/* One byte less: the last command waits, Final too. */
	b.len = 0;
	cur.cmd = 0;
	assert_int_equal(syncml_encode_split(m, SYNCML_WBXML, whole.len - 1,
					     &cur, &b, &done), 0);
	assert_false(done);
	assert_int_equal(cur.cmd, 9);
	/* Not even the header: -E2BIG, nothing written. */
	b.len = 0;
	cur.cmd = 0;
	assert_int_equal(syncml_encode_split(m, SYNCML_WBXML, 40, &cur, &b,
					     &done), -E2BIG);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	buf_free(&whole);
	syncml_msg_free(m);
}

/*
 * DM Protocol 1.2 clause 7: an object that fits within a single message
 * is not chunked.  Statuses fill most of the first message; the 165-byte
 * Results that does not fit behind them goes whole into the next one.
 */
static void
no_moredata_when_fits(enum syncml_format f, size_t room)
{
	struct syncml_msg *m = new_msg(), *p;
	struct syncml_cursor cur = { 0, 0 };
	struct buf b = { 0 }, statuses = { 0 };
	size_t max;
	struct syncml_cmd *c;
	struct syncml_item *it;
	char id[16], value[166];
	size_t i, msgs = 0, results = 0;
	bool done = false;

	memset(value, 'v', 165);
	value[165] = 0;
	for (i = 0; i < 60; i++) {
		snprintf(id, sizeof(id), "%zu", i + 1);
		c = syncml_cmd_add(m, NULL, SYNCML_STATUS, id);
		c->msg_ref = syncml_strdup(m, "2");
		c->cmd_ref = syncml_strdup(m, id);
		c->cmd = syncml_strdup(m, "Replace");
		c->code = 200;
	}
	/* room for the Statuses and a little: not for the Results */
	m->final = true;
	encode_ok(m, f, &statuses);
	max = statuses.len + room;
	buf_free(&statuses);
	c = syncml_cmd_add(m, NULL, SYNCML_RESULTS, "61");
	c->msg_ref = syncml_strdup(m, "2");
	c->cmd_ref = syncml_strdup(m, "7");
	it = syncml_item_add(m, c);
	it->source.uri = syncml_strdup(m, "./Vendor/v");
	assert_int_equal(syncml_set_data(m, &it->data, value, 165, false), 0);
	m->final = true;
	while (!done) {
		b.len = 0;
		assert_int_equal(syncml_encode_split(m, f, max, &cur, &b,
						     &done), 0);
		assert_true(b.len <= max);
		p = parse_ok(f, b.p, b.len);
		for (c = p->cmds; c != NULL; c = c->next) {
			if (c->type != SYNCML_RESULTS)
				continue;
			results++;
			assert_false(c->items->more_data);
			assert_false(c->items->meta.has & SYNCML_META_SIZE);
			assert_int_equal(c->items->data.len, 165);
		}
		syncml_msg_free(p);
		assert_true(++msgs < 10);
	}
	assert_int_equal(results, 1);
	assert_int_equal(msgs, 2);
	buf_free(&b);
	syncml_msg_free(m);
}

static void
test_no_moredata_when_fits_xml(void **state)
{
	(void)state;
	no_moredata_when_fits(SYNCML_XML, 200);
}

static void
test_no_moredata_when_fits_wbxml(void **state)
{
	(void)state;
	no_moredata_when_fits(SYNCML_WBXML, 60);
}

/* The questions the session asks of a server message. */
static void
test_message_predicates(void **state)
{
	struct syncml_msg *m = new_msg();
	struct syncml_cmd *c;

	(void)state;
	assert_null(syncml_hdr_status(m));
	assert_false(syncml_wants_answer(m));
	assert_false(syncml_next_message_request(m));
	c = syncml_cmd_add(m, NULL, SYNCML_STATUS, "1");
	c->cmd_ref = syncml_strdup(m, "3");
	c = syncml_cmd_add(m, NULL, SYNCML_STATUS, "2");
	c->cmd_ref = syncml_strdup(m, "0");
	assert_ptr_equal(syncml_hdr_status(m), c);
	assert_false(syncml_wants_answer(m));
	c = syncml_cmd_add(m, NULL, SYNCML_ALERT, "3");
	c->code = SYNCML_ALERT_NEXT_MESSAGE;
	/* DM Protocol 1.2 6.2: Status and Alert 1222, no Final */
	assert_true(syncml_next_message_request(m));
	assert_true(syncml_wants_answer(m));
	m->final = true;
	assert_false(syncml_next_message_request(m));
	m->final = false;
	syncml_cmd_add(m, NULL, SYNCML_GET, "4");
	assert_false(syncml_next_message_request(m));
	syncml_msg_free(m);
}

static void
chunk_object(enum syncml_format f, bool opaque)
{
	struct syncml_msg *m = new_msg(), *p;
	struct syncml_cursor cur = { 0, 0 };
	struct buf b = { 0 };
	struct syncml_item *it;
	struct syncml_cmd *c;
	uint8_t *obj, *got;
	size_t len = 10000, have = 0, i, msgs = 0;
	bool done = false;

	obj = malloc(len);
	got = malloc(len);
	assert_non_null(obj);
	assert_non_null(got);
	for (i = 0; i < len; i++)	/* text with & and < to escape */
		obj[i] = opaque ? (uint8_t)(i * 7) : (uint8_t)"ab&<c"[i % 5];
	c = syncml_cmd_add(m, NULL, SYNCML_STATUS, "1");
	c->msg_ref = syncml_strdup(m, "1");
	c->cmd_ref = syncml_strdup(m, "0");
	c->cmd = syncml_strdup(m, "SyncHdr");
	c->code = 200;
	c = syncml_cmd_add(m, NULL, SYNCML_REPLACE, "2");
	it = syncml_item_add(m, c);
	it->target.uri = syncml_strdup(m, "./big");
	assert_int_equal(syncml_set_data(m, &it->data, obj, len, opaque), 0);
	c = syncml_cmd_add(m, NULL, SYNCML_ALERT, "3");
	c->code = 1226;
	m->final = true;

	while (!done) {
		b.len = 0;
		assert_int_equal(syncml_encode_split(m, f, 1500, &cur, &b,
						     &done), 0);
		assert_true(b.len <= 1500);
		p = parse_ok(f, b.p, b.len);
		for (c = p->cmds; c != NULL; c = c->next) {
			if (c->type != SYNCML_REPLACE)
				continue;
			it = c->items;
			if (have == 0) {
				assert_true(it->meta.has & SYNCML_META_SIZE);
				assert_int_equal(it->meta.size, len);
			} else {
				assert_false(it->meta.has & SYNCML_META_SIZE);
			}
			assert_true(have + it->data.len <= len);
			memcpy(got + have, it->data.p, it->data.len);
			have += it->data.len;
			assert_int_equal(it->more_data, have < len);
		}
		assert_int_equal(p->final, done);
		syncml_msg_free(p);
		assert_true(++msgs < 100);
	}
	assert_true(msgs >= 7);
	assert_int_equal(have, len);
	assert_memory_equal(got, obj, len);
	free(obj);
	free(got);
	buf_free(&b);
	syncml_msg_free(m);
}

static void
test_moredata_chunks_wbxml(void **state)
{
	chunk_object(SYNCML_WBXML, true);
}

static void
test_moredata_chunks_xml(void **state)
{
	chunk_object(SYNCML_XML, false);
}

/* ---- malformed input -------------------------------------------------- */

struct bad_vec {
	const char *name;
	enum syncml_format fmt;
	const char *p;
	size_t len;			/* 0: strlen */
	int status;
	unsigned long line, column;	/* XML only */
};

#define X(n, s, st, l, c)	{ n, SYNCML_XML, s, 0, st, l, c }
#define W(n, st, ...)	{ n, SYNCML_WBXML, \
	(const char *)(const uint8_t[]){ __VA_ARGS__ }, \
	sizeof((const uint8_t[]){ __VA_ARGS__ }), st, 0, 0 }
#define WBHDR	0x03, 0xA4, 0x01, 0x6A, 0x00

static const struct bad_vec bad_vecs[] = {
	X("XML not well-formed (mismatched tag)",
	  MSG("<Get><CmdID>1</Cmd></Get>"), 400, 4, 16),
	X("XML truncated", HDR "<Get>", 400, 4, 6),
	X("XML empty", "", 400, 1, 1),
	X("XML unknown element", MSG("<Put><CmdID>1</CmdID></Put>"), 400, 4, 1),
	X("XML misplaced element (Chal in Get)",
	  MSG("<Get><CmdID>1</CmdID><Chal/></Get>"), 400, 4, 22),
	X("XML wrong SyncML namespace",
	  HDR_NS("SYNCML:SYNCML1.1", "1.2", "DM/1.2") TAIL, 415, 1, 1),
	X("XML MetInf element outside Meta",
	  MSG("<Get><CmdID>1</CmdID>" MI("Type", "x") "</Get>"), 400, 4, 22),
	X("XML VerDTD 1.1", HDR_NS("SYNCML:SYNCML1.2", "1.1", "DM/1.2") TAIL,
	  505, 2, 21),
	X("XML VerProto DM/1.1",
	  HDR_NS("SYNCML:SYNCML1.2", "1.2", "DM/1.1") TAIL, 513, 2, 46),
	X("XML SyncHdr without SessionID", "<SyncML>\n<SyncHdr><VerDTD>1.2"
	  "</VerDTD><VerProto>DM/1.2</VerProto><MsgID>1</MsgID>" TGT("a")
	  "<Source><LocURI>b</LocURI></Source></SyncHdr><SyncBody/></SyncML>",
	  400, 2, 143),
	X("XML attribute", MSG("<Get a=\"1\"><CmdID>1</CmdID></Get>"),
	  400, 4, 1),
	X("XML Status without Data", MSG("<Status><CmdID>1</CmdID><MsgRef>1"
	  "</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd></Status>"), 400, 4,
	  79),
	X("XML status code not a number", MSG("<Status><CmdID>1</CmdID><MsgRef>"
	  "1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>2x0</Data>"
	  "</Status>"), 400, 4, 88),
	X("XML Add without Item", MSG("<Add><CmdID>1</CmdID></Add>"), 400, 4,
	  22),
	X("XML duplicate CmdID", MSG("<Get><CmdID>1</CmdID><CmdID>2</CmdID>"
	  "</Get>"), 400, 4, 22),
	X("XML text in a container", MSG("<Get>oops<CmdID>1</CmdID></Get>"),
	  400, 4, 6),
	X("XML Status inside Atomic", MSG("<Atomic><CmdID>1</CmdID><Status>"
	  "</Status></Atomic>"), 400, 4, 25),
	X("XML command after Final", MSG("<Final/><Get/>"), 400, 4, 9),
	X("XML entity declaration", "<!DOCTYPE SyncML [<!ENTITY a \"b\">]>"
	  "<SyncML/>", 400, 1, 30),
	X("XML Size not a number", MSG("<Get><CmdID>1</CmdID><Meta>"
	  MI("Size", "-1") "</Meta></Get>"), 400, 4, 58),
	X("XML data after the root", MSG("") "<SyncML/>", 400, 6, 1),
	X("XML Chal with an empty Meta", MSG("<Status><CmdID>1</CmdID><MsgRef>1"
	  "</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Chal><Meta/></Chal>"
	  "<Data>401</Data></Status>"), 400, 4, 92),

	W("WBXML empty", 400),
	W("WBXML truncated header", 400, 0x03, 0xA4),
	W("WBXML version 0x04", 415, 0x04, 0xA4, 0x01, 0x6A, 0x00, 0x6D),
	W("WBXML public id MetInf 0x1202", 415, 0x03, 0xA4, 0x02, 0x6A, 0x00,
	  0x6D),
	W("WBXML charset ISO-8859-1", 415, 0x03, 0xA4, 0x01, 0x04, 0x00, 0x6D),
	W("WBXML unknown string-table public id", 415, 0x03, 0x00, 0x00,
	  0x6A, 0x04, 'a', 'b', 'c', 0x00, 0x6D),
	W("WBXML public id index outside the table", 400, 0x03, 0x00, 0x09,
	  0x6A, 0x02, 'a', 0x00, 0x6D),
	W("WBXML string table past the end", 400, 0x03, 0xA4, 0x01, 0x6A,
	  0x7F, 0x00),
	W("WBXML mb_u_int32 overflow", 400, 0x03, 0xA4, 0x01, 0x6A, 0x00,
	  0x6D, 0x6C, 0x71, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F),
	W("WBXML mb_u_int32 six bytes", 400, 0x03, 0x80, 0x80, 0x80, 0x80,
	  0x80, 0x01),
	W("WBXML OPAQUE past the end", 400, WBHDR, 0x6D, 0x6C, 0x71, 0xC3,
	  0x10, '1', '.', '2'),
	W("WBXML unterminated STR_I", 400, WBHDR, 0x6D, 0x6C, 0x71, 0x03,
	  '1', '.', '2'),
	W("WBXML STR_T without a table", 400, WBHDR, 0x6D, 0x6C, 0x71, 0x83,
	  0x00, 0x01),
	W("WBXML attributes", 400, WBHDR, 0xED),
	W("WBXML unknown tag", 400, WBHDR, 0x6D, 0x7F),
	W("WBXML MetInf tag outside Meta", 400, WBHDR, 0x6D, 0x6C, 0x00,
	  0x01, 0x53),
	W("WBXML code page 2", 400, WBHDR, 0x6D, 0x00, 0x02),
	W("WBXML LITERAL", 400, WBHDR, 0x6D, 0x04, 0x00),
	W("WBXML EXT_T_0", 400, WBHDR, 0x6D, 0x80, 0x00),
	W("WBXML END at top level", 400, WBHDR, 0x01),
	W("WBXML ENTITY surrogate", 400, WBHDR, 0x6D, 0x6C, 0x71, 0x02, 0x83,
	  0xB0, 0x00),
	W("WBXML invalid UTF-8 in LocURI", 400, WBHDR, 0x6D, 0x6C, 0x71,
	  0x03, 0xC0, 0x80, 0x00, 0x01),
	W("WBXML ends inside SyncML", 400, WBHDR, 0x6D, 0x6C),
	W("WBXML data after the root", 400, 0x03, 0xa4, 0x01, 0x6a, 0x00,
	  0x6d, 0x6c, 0x71, 0x03, 0x31, 0x2e, 0x32, 0x00, 0x01, 0x72, 0x03,
	  0x44, 0x4d, 0x2f, 0x31, 0x2e, 0x32, 0x00, 0x01, 0x65, 0x03, 0x31,
	  0x00, 0x01, 0x5b, 0x03, 0x32, 0x00, 0x01, 0x6e, 0x57, 0x03, 0x49,
	  0x00, 0x01, 0x01, 0x67, 0x57, 0x03, 0x53, 0x00, 0x01, 0x01, 0x01,
	  0x6b, 0x12, 0x01, 0x01, 0x2D),
	W("WBXML VerDTD 1.1", 505, WBHDR, 0x6D, 0x6C, 0x71, 0x03, '1', '.',
	  '1', 0x00, 0x01),
};

static void
test_bad(void **state)
{
	const struct bad_vec *v = *state;
	size_t len = v->fmt == SYNCML_WBXML ? v->len : strlen(v->p);
	struct syncml_error err;
	struct syncml_msg *m = (void *)1;
	char pos[32];

	assert_int_equal(syncml_parse(v->fmt, (const uint8_t *)v->p, len, &m,
				      &err), -EBADMSG);
	assert_null(m);
	if (err.status != v->status || (v->fmt == SYNCML_XML &&
	    (err.line != v->line || err.column != v->column)))
		print_error("got %d %s\n", err.status, err.text);
	assert_int_equal(err.status, v->status);
	if (v->fmt == SYNCML_XML) {
		assert_int_equal(err.line, v->line);
		assert_int_equal(err.column, v->column);
		snprintf(pos, sizeof(pos), "%lu:%lu: ", v->line, v->column);
		assert_memory_equal(err.text, pos, strlen(pos));
	} else {
		assert_memory_equal(err.text, "offset ", 7);
	}
}

/* Bounds: each one is 413. */
static char *
repeat_msg(const char *open, const char *close, size_t n)
{
	size_t cap = strlen(HDR) + strlen(TAIL) + n *
		     (strlen(open) + strlen(close)) + 1;
	char *s = malloc(cap), *p;
	size_t i;

	if (s == NULL)
		abort();
	p = s + sprintf(s, "%s", HDR);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s", open);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s", close);
	sprintf(p, "%s", TAIL);
	return s;
}

static void
expect_status(const char *xml, int status)
{
	struct syncml_error err;
	struct syncml_msg *m;
	struct buf wb = { 0 };

	assert_int_equal(syncml_parse_xml(xml, strlen(xml), &m, &err),
			 -EBADMSG);
	assert_int_equal(err.status, status);
	(void)wb;
}

static void
test_too_many_commands(void **state)
{
	char *s = repeat_msg("<Get><CmdID>1</CmdID><Item>" TGT("a")
			     "</Item></Get>", "", SYNCML_MAX_CMDS + 1);
	struct syncml_msg *m;
	struct syncml_error err;

	expect_status(s, 413);
	free(s);
	s = repeat_msg("<Get><CmdID>1</CmdID><Item>" TGT("a") "</Item></Get>",
		       "", SYNCML_MAX_CMDS);
	assert_int_equal(syncml_parse_xml(s, strlen(s), &m, &err), 0);
	assert_int_equal(m->ncmds, SYNCML_MAX_CMDS);
	syncml_msg_free(m);
	free(s);
}

static void
test_too_deep(void **state)
{
	char *s = repeat_msg("<Sequence><CmdID>1</CmdID>", "</Sequence>",
			     SYNCML_MAX_NEST + 1);
	struct syncml_msg *m;
	struct syncml_error err;

	expect_status(s, 413);
	free(s);
	s = repeat_msg("<Sequence><CmdID>1</CmdID>", "</Sequence>",
		       SYNCML_MAX_NEST);
	assert_int_equal(syncml_parse_xml(s, strlen(s), &m, &err), 0);
	syncml_msg_free(m);
	free(s);
}

static void
test_too_long(void **state)
{
	size_t n = SYNCML_MAX_STR + 1, d = SYNCML_MAX_DATA + 1;
	const char *pre = HDR "<Get><CmdID>1</CmdID><Item><Target><LocURI>";
	char *s = malloc(strlen(pre) + d + 200), *p;

	if (s == NULL)
		abort();
	p = s + sprintf(s, "%s", pre);
	memset(p, 'a', n);
	sprintf(p + n, "</LocURI></Target></Item></Get>" TAIL);
	expect_status(s, 413);
	p = s + sprintf(s, "%s", HDR "<Replace><CmdID>1</CmdID><Item><Data>");
	memset(p, 'a', d);
	sprintf(p + d, "</Data></Item></Replace>" TAIL);
	expect_status(s, 413);
	free(s);
}

int
main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(rt_vecs) + ARRAY_SIZE(bad_vecs) +
				16];
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(rt_vecs); i++)
		tests[n++] = (struct CMUnitTest){
			.name = rt_vecs[i].name,
			.test_func = test_round_trip,
			.initial_state = (void *)&rt_vecs[i],
		};
	for (i = 0; i < ARRAY_SIZE(bad_vecs); i++)
		tests[n++] = (struct CMUnitTest){
			.name = bad_vecs[i].name,
			.test_func = test_bad,
			.initial_state = (void *)&bad_vecs[i],
		};
#define T(f)	tests[n++] = (struct CMUnitTest)cmocka_unit_test(f)
	T(test_model_fields);
	T(test_binary_data);
	T(test_strtbl_pubid);
	T(test_split_xml);
	T(test_split_wbxml);
	T(test_split_fits_one);
	T(test_no_moredata_when_fits_xml);
	T(test_no_moredata_when_fits_wbxml);
	T(test_message_predicates);
	T(test_moredata_chunks_wbxml);
	T(test_moredata_chunks_xml);
	T(test_too_many_commands);
	T(test_too_deep);
	T(test_too_long);
#undef T
	return _cmocka_run_group_tests("dm_syncml", tests, n, NULL, NULL);
}
