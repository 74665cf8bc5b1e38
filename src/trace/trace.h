/* SPDX-License-Identifier: MIT */
/*
 * APDU trace: every C-APDU/R-APDU pair exchanged with the card as one GSMTAP
 * packet of type SIM (sub-type 0 "APDU"), written to a pcap file and/or sent
 * as a UDP datagram, for Wireshark's gsm_sim and etsi_cat dissectors.
 *
 * The GSMTAP payload, which Wireshark's gsmtap dissector hands whole to
 * gsm_sim (the "SIMtrace" form that osmocom SIMtrace2 sends), is the
 * command followed by the response:
 *
 *	CLA INS P1 P2 P3 [command data] [Le] [response data] SW1 SW2
 *
 * gsm_sim (Wireshark 4.0) takes P3 at offset 4 and SW1 SW2 from the last two
 * bytes, and by INS reads the P3 bytes after the header either as command
 * data (TERMINAL PROFILE, TERMINAL RESPONSE, ENVELOPE with its BER-TLV for
 * etsi_cat, SELECT...) or as response data (FETCH with its BER-TLV, GET
 * RESPONSE, READ BINARY...; P3 = 00 meaning 256).  So the C-APDU is recorded
 * as sent and the R-APDU as received, except where the P3 that this needs is
 * not in the C-APDU; it is then the P3 of the T=0 TPDU that carries the
 * exchange (ISO/IEC 7816-3 12.2.2, 12.2.3):
 *
 *  - case 1 (4 bytes): P3 = 00 is inserted, or SW1 would be read as P3;
 *  - case 2 (5 bytes) answered with N > 0 data bytes: P3 = N (00 for 256).
 *    It differs from the Le sent only under T=1 (Le 00 for "all", or a short
 *    read), where P3 = Le would make a malformed packet.  Answered with a
 *    status only, the Le sent is kept: Wireshark 4.0 then marks FETCH, GET
 *    RESPONSE and READ commands malformed (it expects P3 bytes of data; its
 *    later gsm_sim reads Le apart and does not).
 *
 * Cases 3 and 4 are recorded verbatim, Le included: gsm_sim 4.0 skips what
 * follows the P3 command bytes up to the status word, later versions read it
 * as Le then response data.  A C-APDU that is no valid case is recorded as
 * sent.
 *
 * Not thread-safe: call from one thread (the loop thread).  Never blocks,
 * never logs; output errors are counted (trace_get_stats) and ignored.
 */
#ifndef DMSCGW_TRACE_H
#define DMSCGW_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "card/apdu.h"

struct conf;

/*
 * [trace] file must be an absolute path (the daemon runs from /), and
 * [trace] udp a numeric address as trace_new() takes it: checked without
 * any name lookup.  0, or -1 with "file:line: trace.KEY: why" in err.
 */
int trace_conf_check(const struct conf *c, char *err, size_t errlen);

/* IANA port of GSMTAP; the default UDP destination. */
#define TRACE_GSMTAP_PORT	4729

/* Largest GSMTAP payload: a 261-byte C-APDU and a 258-byte R-APDU. */
#define TRACE_PAYLOAD_MAX	(APDU_MAX_CMD + APDU_MAX_RESP)

struct trace;

struct trace_stats {
	unsigned long exchanges;	/* traced (= trace_count) */
	unsigned long dropped;		/* refused: lengths out of bounds */
	unsigned long pcap_errors;	/* records not written (rolled back) */
	unsigned long udp_errors;	/* send() failures, ECONNREFUSED too */
	int pcap_errno;			/* errno of the last failure, or 0 */
};

/*
 * Open the outputs.  pcap_path and udp may each be NULL or "" (not used), not
 * both.
 *
 * pcap_path: a regular file, opened with O_NOFOLLOW (a symbolic link as last
 * component is refused, ELOOP), created with mode 0640 (less the umask) and
 * locked with flock(2) (EBUSY if another process has it).  An empty file gets
 * a classic pcap header (native byte order, version 2.4, link type 228 IPv4);
 * an existing trace of that form is appended to, after dropping a record torn
 * by a crash; anything else (another format, a damaged tail longer than one
 * record) is refused with EINVAL, never overwritten.  A record is IPv4
 * 127.0.0.1 -> 127.0.0.1, UDP 4729 -> 4729, GSMTAP, payload, written with one
 * write(2): nothing is buffered in the process.
 *
 * udp: a numeric address, "A.B.C.D[:PORT]" or "[IPv6][:PORT]", default port
 * 4729 (the port Wireshark decodes as GSMTAP).  The socket is non-blocking,
 * close-on-exec and connect()ed; send errors (ECONNREFUSED when nobody
 * listens) are counted, never reported.
 *
 * Returns NULL with errno set and a one-line reason in err (errlen bytes,
 * may be 0).
 */
struct trace *trace_new(const char *pcap_path, const char *udp, char *err,
			size_t errlen);

/* Close the outputs; accepts NULL. */
void trace_free(struct trace *t);

/*
 * One exchange: the C-APDU as sent (4..261 bytes) and the R-APDU as received
 * (data, SW1 SW2: 2..258 bytes).  Other lengths are counted as dropped.
 * Accepts t == NULL (does nothing).
 */
void trace_apdu(struct trace *t, const uint8_t *cmd, size_t clen,
		const uint8_t *resp, size_t rlen);

/* Exchanges traced so far; 0 for NULL. */
unsigned long trace_count(const struct trace *t);

/* All counters; zeroes for NULL. */
void trace_get_stats(const struct trace *t, struct trace_stats *st);

/*
 * The GSMTAP payload for one exchange (the form described above) into out.
 * Returns its length, -EINVAL for lengths out of bounds, -ENOSPC when cap
 * is too small (TRACE_PAYLOAD_MAX always suffices).
 */
int trace_encode(uint8_t *out, size_t cap, const uint8_t *cmd, size_t clen,
		 const uint8_t *resp, size_t rlen);

#endif
