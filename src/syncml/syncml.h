/* SPDX-License-Identifier: MIT */
/*
 * SyncML DM 1.2 message model and its XML and WBXML codecs.
 *
 * One format-free representation of a SyncML message (OMA SyncML
 * Representation Protocol 1.2, restricted to what OMA DM 1.2 uses: DM
 * Representation Protocol clause 6).  Both codecs feed the same builder
 * (syncml_builder_*), which checks the structure, the mandatory elements and
 * the bounds, so XML and WBXML input is judged by the same rules and a
 * failure carries the SyncML status code the session must answer with.
 *
 * Ownership: everything hanging off a struct syncml_msg lives in the
 * message's arena and is released by syncml_msg_free().
 */
#ifndef DMSCGW_SYNCML_SYNCML_H
#define DMSCGW_SYNCML_SYNCML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Bounds; exceeding one is status 413 (request entity too large). */
#define SYNCML_MAX_NEST		8	/* Atomic/Sequence nesting */
#define SYNCML_MAX_CMDS		1000	/* commands, nested ones included */
#define SYNCML_MAX_ITEMS	1000	/* items in the whole message */
#define SYNCML_MAX_STR		2048	/* any text element but Data */
#define SYNCML_MAX_DATA		(1u << 20)	/* one Data element */

/* SyncML status codes used for decoding errors (RepPro 1.2 clause 10). */
#define SYNCML_STATUS_BAD_REQUEST	400
#define SYNCML_STATUS_TOO_LARGE		413
#define SYNCML_STATUS_BAD_MEDIA		415
#define SYNCML_STATUS_DTD_VERSION	505
#define SYNCML_STATUS_PROTO_VERSION	513

enum syncml_format {
	SYNCML_XML,
	SYNCML_WBXML,
};

enum syncml_cmd_type {
	SYNCML_ADD,
	SYNCML_ALERT,
	SYNCML_ATOMIC,
	SYNCML_COPY,
	SYNCML_DELETE,
	SYNCML_EXEC,
	SYNCML_GET,
	SYNCML_REPLACE,
	SYNCML_RESULTS,
	SYNCML_SEQUENCE,
	SYNCML_STATUS,
};

/* Alert codes, DM Protocol 1.2 clause 10 / DM RepPro 6.6.2. */
enum {
	SYNCML_ALERT_DISPLAY		= 1100,
	SYNCML_ALERT_CONFIRM		= 1101,
	SYNCML_ALERT_TEXT_INPUT		= 1102,
	SYNCML_ALERT_SINGLE_CHOICE	= 1103,
	SYNCML_ALERT_MULTI_CHOICE	= 1104,
	SYNCML_ALERT_SERVER_INIT	= 1200,
	SYNCML_ALERT_CLIENT_INIT	= 1201,
	SYNCML_ALERT_NEXT_MESSAGE	= 1222,
	SYNCML_ALERT_SESSION_ABORT	= 1223,
	SYNCML_ALERT_GENERIC		= 1226,
};

/* Which optional numbers of a syncml_meta are present. */
#define SYNCML_META_SIZE	0x1u
#define SYNCML_META_MAXMSG	0x2u
#define SYNCML_META_MAXOBJ	0x4u

/* MetInf 1.2 fields DM uses; NULL / flag clear means absent. */
struct syncml_meta {
	char *type;
	char *format;
	char *mark;
	char *next_nonce;	/* as sent: base64 text */
	unsigned has;		/* SYNCML_META_* */
	uint32_t size;
	uint32_t max_msg_size;
	uint32_t max_obj_size;
};

struct syncml_loc {
	char *uri;		/* LocURI; NULL when the element is absent */
	char *name;		/* LocName */
};

/* Data bytes: binary-safe, NUL-terminated for convenience. */
struct syncml_data {
	uint8_t *p;		/* NULL when absent */
	size_t len;
	bool opaque;		/* WBXML OPAQUE rather than a string */
};

struct syncml_item {
	struct syncml_loc target;
	struct syncml_loc source;
	struct syncml_meta meta;
	struct syncml_data data;
	bool more_data;
	bool continued;		/* encoder: the rest of a chunked object, no Size */
	struct syncml_item *next;
};

struct syncml_cmd {
	enum syncml_cmd_type type;
	char *cmd_id;
	bool no_resp;
	struct syncml_meta meta;	/* not Status, Alert */
	char *correlator;		/* Alert, Exec */
	unsigned code;			/* Alert, Status: the Data element */
	/* Status and Results */
	char *msg_ref;
	char *cmd_ref;
	char *cmd;			/* Status */
	char *target_ref;
	char *source_ref;
	bool has_chal;			/* Status */
	struct syncml_meta chal;
	struct syncml_item *items;
	struct syncml_cmd *children;	/* Atomic, Sequence */
	struct syncml_cmd *next;
	bool no_defer;			/* encoder: waited once, chunk it now */
};

struct syncml_cred {
	struct syncml_meta meta;
	struct syncml_data data;
};

struct syncml_hdr {
	char *ver_dtd;
	char *ver_proto;
	char *session_id;
	char *msg_id;
	char *resp_uri;
	bool no_resp;
	struct syncml_loc target;
	struct syncml_loc source;
	bool has_cred;
	struct syncml_cred cred;
	struct syncml_meta meta;
};

struct syncml_arena;

struct syncml_msg {
	struct syncml_hdr hdr;
	struct syncml_cmd *cmds;
	bool final;
	struct syncml_arena *arena;
	size_t ncmds;		/* commands allocated, nested ones included */
	size_t nitems;
};

struct syncml_error {
	int status;		/* SyncML status code, 0 on success */
	unsigned long line;	/* XML: 1-based; WBXML: 0 */
	unsigned long column;	/* XML: 1-based; WBXML: byte offset */
	char text[160];
};

/* ---- model ----------------------------------------------------------- */

/* An empty message with VerDTD 1.2 and VerProto DM/1.2; NULL if no memory. */
struct syncml_msg *syncml_msg_new(void);
void syncml_msg_free(struct syncml_msg *msg);

/* Copies into the message's arena; NULL when out of memory. */
char *syncml_strdup(struct syncml_msg *msg, const char *s);
int syncml_set_str(struct syncml_msg *msg, char **field, const char *s);
int syncml_set_data(struct syncml_msg *msg, struct syncml_data *d,
		    const void *p, size_t len, bool opaque);

/*
 * Append a command to parent's children (Atomic/Sequence) or, parent NULL,
 * to the body.  Returns NULL when out of memory or beyond SYNCML_MAX_CMDS.
 */
struct syncml_cmd *syncml_cmd_add(struct syncml_msg *msg,
				  struct syncml_cmd *parent,
				  enum syncml_cmd_type type, const char *cmd_id);
struct syncml_item *syncml_item_add(struct syncml_msg *msg,
				    struct syncml_cmd *cmd);

const char *syncml_cmd_name(enum syncml_cmd_type type);

/* The Status for the SyncHdr of the message answered (CmdRef 0), or NULL. */
const struct syncml_cmd *syncml_hdr_status(const struct syncml_msg *msg);
/* Does the message hold commands to answer (anything but Status, Results)? */
bool syncml_wants_answer(const struct syncml_msg *msg);
/*
 * Is it a "Next Message" request (DM Protocol 1.2 6.2): Alert 1222 and
 * Status only, no Final?
 */
bool syncml_next_message_request(const struct syncml_msg *msg);

/* ---- builder: what the codecs drive ---------------------------------- */

/* Every element either codec may produce (SyncML and MetInf code pages). */
enum syncml_tag {
	SYNCML_T_NONE = 0,
	/* SyncML 1.2, code page 0 */
	SYNCML_T_ADD, SYNCML_T_ALERT, SYNCML_T_ATOMIC, SYNCML_T_CHAL,
	SYNCML_T_CMD, SYNCML_T_CMDID, SYNCML_T_CMDREF, SYNCML_T_COPY,
	SYNCML_T_CRED, SYNCML_T_DATA, SYNCML_T_DELETE, SYNCML_T_EXEC,
	SYNCML_T_FINAL, SYNCML_T_GET, SYNCML_T_ITEM, SYNCML_T_LOCNAME,
	SYNCML_T_LOCURI, SYNCML_T_META, SYNCML_T_MSGID, SYNCML_T_MSGREF,
	SYNCML_T_NORESP, SYNCML_T_REPLACE, SYNCML_T_RESPURI,
	SYNCML_T_RESULTS, SYNCML_T_SEQUENCE, SYNCML_T_SESSIONID,
	SYNCML_T_SOURCE, SYNCML_T_SOURCEREF, SYNCML_T_STATUS,
	SYNCML_T_SYNCBODY, SYNCML_T_SYNCHDR, SYNCML_T_SYNCML,
	SYNCML_T_TARGET, SYNCML_T_TARGETREF, SYNCML_T_VERDTD,
	SYNCML_T_VERPROTO, SYNCML_T_MOREDATA, SYNCML_T_CORRELATOR,
	/* MetInf 1.2, code page 1 */
	SYNCML_T_FORMAT, SYNCML_T_MARK, SYNCML_T_MAXMSGSIZE,
	SYNCML_T_NEXTNONCE, SYNCML_T_SIZE, SYNCML_T_TYPE,
	SYNCML_T_MAXOBJSIZE,
	SYNCML_T_COUNT
};

struct syncml_tag_info {
	const char *name;
	uint8_t page;		/* 0 SyncML, 1 MetInf */
	uint8_t token;		/* WBXML token without the content bit */
};

extern const struct syncml_tag_info syncml_tags[SYNCML_T_COUNT];

/* Look a name up in one code page; SYNCML_T_NONE if unknown. */
enum syncml_tag syncml_tag_by_name(unsigned page, const char *name);
enum syncml_tag syncml_tag_by_token(unsigned page, unsigned token);

struct syncml_frame;
struct syncml_builder;

/*
 * A builder is sticky: after the first failure every call is a no-op and
 * syncml_builder_failed() is true; err says why, with the status.  The
 * adapter fills in err->line/column for the position it is at.
 */
struct syncml_builder *syncml_builder_new(struct syncml_error *err);
void syncml_builder_start(struct syncml_builder *b, enum syncml_tag tag);
void syncml_builder_text(struct syncml_builder *b, const void *p, size_t len);
void syncml_builder_opaque(struct syncml_builder *b, const void *p,
			   size_t len);
void syncml_builder_end(struct syncml_builder *b);
/* Tag of the innermost open element, SYNCML_T_NONE at top level. */
enum syncml_tag syncml_builder_parent(const struct syncml_builder *b);
size_t syncml_builder_depth(const struct syncml_builder *b);
bool syncml_builder_failed(const struct syncml_builder *b);
void syncml_builder_fail(struct syncml_builder *b, int status,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The finished message (ownership to the caller), NULL after a failure. */
struct syncml_msg *syncml_builder_finish(struct syncml_builder *b);
void syncml_builder_free(struct syncml_builder *b);

/* ---- codecs ----------------------------------------------------------- */

/*
 * Decode.  Return 0 with *out set, or -EBADMSG with *out NULL and err
 * filled (err->status is the SyncML status to answer with).  -ENOMEM when
 * out of memory (err->status 500).
 */
int syncml_parse_xml(const char *p, size_t len, struct syncml_msg **out,
		     struct syncml_error *err);
int syncml_parse_wbxml(const uint8_t *p, size_t len, struct syncml_msg **out,
		       struct syncml_error *err);
int syncml_parse(enum syncml_format fmt, const uint8_t *p, size_t len,
		 struct syncml_msg **out, struct syncml_error *err);

/*
 * Encode the whole message, appending to out (a util/buf; an empty one
 * is { 0 }, released with buf_free()).  0, -ENOMEM, or -EINVAL when
 * the message cannot be represented (missing mandatory field; in XML, Data
 * bytes that are not UTF-8 text).
 */
int syncml_encode(const struct syncml_msg *msg, enum syncml_format fmt,
		  struct buf *out);

/*
 * MaxMsgSize splitting (DM Protocol 1.2 clause 8.1 / RepPro 1.2 6.4).
 *
 * Commands are sent in this order: every Status of the body, in list
 * order, then every other command, in list order (index 0..n-1 of that
 * order).  A cursor says where the next message starts: cmd is the index,
 * data_off the offset into the Data of a large object being chunked.
 *
 * syncml_encode_split() encodes, from *cur, as many whole commands as fit
 * into max_size bytes, and advances *cur.  An Add, Replace or Results
 * with one item that does not fit in what is left waits for the next
 * message when it would fit whole there (DM Protocol 1.2 clause 7: no
 * MoreData on objects that fit in one message) unless it has waited once
 * already (no_defer, set by the caller); otherwise its Data is
 * chunked with MoreData into the rest of the message (the first chunk
 * carries Meta Size, as RepPro 1.2 6.4.1 requires).  Final is written
 * only when the message is final and nothing is left.  *done tells whether
 * everything has been sent.  -E2BIG when not even one command (or one byte
 * of a chunked object) fits; out is then left unchanged.
 */
struct syncml_cursor {
	size_t cmd;
	size_t data_off;
};

int syncml_encode_split(const struct syncml_msg *msg, enum syncml_format fmt,
			size_t max_size, struct syncml_cursor *cur,
			struct buf *out, bool *done);

/* Total commands in send order (top level only). */
size_t syncml_cmd_count(const struct syncml_msg *msg);

/* ---- encoder back ends (internal to encode.c, xml.c, wbxml.c) --------- */

struct syncml_writer {
	struct buf *out;
	enum syncml_format fmt;
	unsigned page;		/* WBXML: current code page */
	int err;		/* sticky: -ENOMEM or -EINVAL */
};

void syncml_w_start(struct syncml_writer *w, enum syncml_tag tag);
void syncml_w_end(struct syncml_writer *w, enum syncml_tag tag);
void syncml_w_empty(struct syncml_writer *w, enum syncml_tag tag);
void syncml_w_text(struct syncml_writer *w, const char *s, size_t len);
void syncml_w_data(struct syncml_writer *w, const struct syncml_data *d);
void syncml_w_prolog(struct syncml_writer *w);

void syncml_xml_start(struct syncml_writer *w, enum syncml_tag tag,
		      bool empty);
void syncml_xml_end(struct syncml_writer *w, enum syncml_tag tag);
void syncml_xml_text(struct syncml_writer *w, const uint8_t *p, size_t len);
void syncml_xml_prolog(struct syncml_writer *w);
void syncml_wbxml_start(struct syncml_writer *w, enum syncml_tag tag,
			bool empty);
void syncml_wbxml_end(struct syncml_writer *w);
void syncml_wbxml_text(struct syncml_writer *w, const uint8_t *p, size_t len);
void syncml_wbxml_opaque(struct syncml_writer *w, const uint8_t *p,
			 size_t len);
void syncml_wbxml_prolog(struct syncml_writer *w);

#endif /* DMSCGW_SYNCML_SYNCML_H */
