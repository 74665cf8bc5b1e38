/* SPDX-License-Identifier: MIT */
/*
 * WAP push carrying a DM Notification over SMS (the on-line trigger,
 * OMA-TS-DM_SC-V1_0 7.2; OMA-TS-DM_Notification-V1_2 SMS bearer):
 * the WSP push PDU (WAP-230-WSP 8.2.4: transaction id, PDU type 0x06,
 * headers length, content type, headers, body) and, for sources that give
 * the whole SMS user data, its header (TS 23.040 9.2.3.24: application
 * port addressing, WDP port 2948; concatenation) with reassembly.
 * Pure functions and one small reassembly buffer; every length checked.
 */
#ifndef DMSCGW_SMS_WSP_H
#define DMSCGW_SMS_WSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WSP_PDU_PUSH		0x06
#define WSP_CT_DM_NOTI		0x44	/* application/vnd.syncml.notification */
#define WSP_CT_DM_NOTI_TEXT	"application/vnd.syncml.notification"
#define WSP_APP_ID_DM		0x07	/* x-wap-application:syncml.dm */
#define WSP_APP_ID_DM_TEXT	"x-wap-application:syncml.dm"
#define WDP_PORT_PUSH		2948

struct wsp_push {
	uint8_t tid;			/* transaction id */
	uint8_t pdu_type;		/* 0x06 push (0x07 confirmed push) */
	unsigned content_type;		/* well-known code, 0 when textual */
	char content_type_text[128];	/* "" when a code */
	bool has_app_id;		/* X-WAP-Application-ID present */
	unsigned app_id;		/* its code, 0 when textual */
	char app_id_text[64];
	const uint8_t *body;		/* points into the input */
	size_t body_len;
};

/*
 * Decode a WSP push PDU (connectionless: transaction id first).  Returns 0;
 * -EBADMSG when truncated, when a length runs past the end (of the PDU, of
 * HeadersLen, of a value's own length), on a uintvar of more than 5 octets
 * or 32 bits, an integer code over 32 bits, or a content type or
 * application id text that does not fit its field here (refused, not cut);
 * -EPROTO when it is not a push PDU (type 0x06, or 0x07 confirmed push).
 *
 * Headers other than X-WAP-Application-ID are skipped by their encoding,
 * whatever they are; shift sequences change the code page (the id is 0x2F
 * of the default page only); the id may also come as an application header
 * "X-Wap-Application-Id" with a text value.  Of several ids the first
 * counts.  content_type 0 with content_type_text "" is the code 0, star/star.
 */
int wsp_push_decode(const uint8_t *p, size_t len, struct wsp_push *out);

/* Content type application/vnd.syncml.notification (code or text), and the
 * application id, when present, the DM client's (0x07 or its text). */
bool wsp_push_is_dm(const struct wsp_push *w);

/* The SMS user data header, TS 23.040 9.2.3.24. */
struct sms_udh {
	bool has_ports;
	uint16_t dst_port, src_port;	/* IE 0x05 (16 bit) or 0x04 (8 bit) */
	bool concat;
	uint16_t ref;			/* IE 0x00 (8 bit ref) or 0x08 (16 bit) */
	uint8_t total, seq;		/* seq 1..total */
	const uint8_t *payload;		/* after the header, into the input */
	size_t payload_len;
};

/*
 * Decode user data that starts with a UDH (UDHL first). 0 or -EBADMSG (the
 * header or an element runs past UDHL or the data, or an element we act
 * upon has the wrong length).  Unknown elements are skipped; of repeated
 * ones, and of the 8- and 16-bit forms, the last counts.  The concatenation
 * values are given as sent, seq 0 or > total included: wsp_reasm_add()
 * refuses them.
 */
int sms_udh_decode(const uint8_t *ud, size_t len, struct sms_udh *out);

/*
 * Reassembly of concatenated segments, per (ref, total) from one sender;
 * at most WSP_REASM_SLOTS messages in progress: a new one drops the one
 * started first.
 */
#define WSP_REASM_SLOTS		4
#define WSP_REASM_MAX		(255 * 140)
struct wsp_reasm;
struct wsp_reasm *wsp_reasm_new(void);
void wsp_reasm_free(struct wsp_reasm *r);
/*
 * Add one segment (its UDH decoded).  Returns 1 with *out and *out_len the
 * whole payload (malloc'd, the caller frees) when complete, 0 when more is
 * needed, -EBADMSG for an inconsistent segment (seq 0 or > total, a payload
 * over 140 octets), or -ENOMEM.  A segment without concatenation, or one of
 * a total of 1, is complete at once.  A segment received again with the
 * same bytes is ignored (0); with other bytes it starts the message again
 * (the sender reused the reference).  sender NULL is "".
 */
int wsp_reasm_add(struct wsp_reasm *r, const char *sender,
		  const struct sms_udh *h, uint8_t **out, size_t *out_len);

#endif
