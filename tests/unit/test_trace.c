/* SPDX-License-Identifier: MIT */
/*
 * The APDU trace: the GSMTAP SIM payload of each exchange (vectors by
 * ISO/IEC 7816-3/-4 case), the pcap file read back byte for byte (pcap
 * headers, IPv4 with its checksum, UDP with its checksum, GSMTAP), appending
 * to an existing trace, the UDP datagrams on a local socket, and the errors.
 *
 * TRACE_KEEP_PCAP=FILE keeps the trace of the reference exchanges in FILE,
 * for tests/integration/tshark_check.sh.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"		/* _GNU_SOURCE (AC_USE_SYSTEM_EXTENSIONS) */
#else
#define _DEFAULT_SOURCE 1	/* built alone: POSIX 2008 + flock, SOCK_* */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "trace/trace.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define UNPAREN(...)	__VA_ARGS__
#define BYTES(l)	(const uint8_t[]){ UNPAREN l }, \
			sizeof((const uint8_t[]){ UNPAREN l })

#define PCAP_HDR_LEN	24
#define PCAP_REC_LEN	16
#define IP_LEN		20
#define UDP_LEN		8
#define GSMTAP_LEN	16
#define HDRS_LEN	(IP_LEN + UDP_LEN + GSMTAP_LEN)

static char tmpdir[256];

static const uint8_t gsmtap_sim_hdr[GSMTAP_LEN] = {
	0x02, 0x04, 0x04, 0x00,	/* version 2, 4 words, type SIM, timeslot */
	0x00, 0x00, 0x00, 0x00,	/* ARFCN, signal, SNR */
	0x00, 0x00, 0x00, 0x00,	/* frame number */
	0x00, 0x00, 0x00, 0x00,	/* sub-type APDU, antenna, sub-slot, res */
};

/* --- helpers ------------------------------------------------------------- */

static void
path_in_tmp(char *out, size_t cap, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", tmpdir, name);

	assert_true(n > 0 && (size_t)n < cap);
}

static size_t
read_all(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap, f);
	assert_int_equal(ferror(f), 0);
	assert_true(feof(f));		/* the buffer was big enough */
	fclose(f);
	return n;
}

static void
write_all(const char *path, const void *p, size_t len, const char *mode)
{
	FILE *f = fopen(path, mode);

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static uint32_t
host32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t
host16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Test oracle for RFC 1071: a correct checksum makes the sum fold to FFFF. */
static uint16_t
ones_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)sum;
}

static void
check_global_header(const uint8_t *h)
{
	assert_int_equal(host32(h), 0xA1B2C3D4);
	assert_int_equal(host16(h + 4), 2);
	assert_int_equal(host16(h + 6), 4);
	assert_int_equal(host32(h + 8), 0);		/* thiszone */
	assert_int_equal(host32(h + 12), 0);		/* sigfigs */
	assert_int_equal(host32(h + 16), 65535);	/* snaplen */
	assert_int_equal(host32(h + 20), 228);		/* LINKTYPE_IPV4 */
}

/*
 * Check the record at *off (headers, checksums) and that it carries
 * payload; advance *off.  ip_id < 0: not checked.
 */
static void
check_record(const uint8_t *file, size_t flen, size_t *off, int ip_id,
	     const uint8_t *payload, size_t plen, const struct timespec *t0,
	     const struct timespec *t1)
{
	const uint8_t *r = file + *off, *ip = r + PCAP_REC_LEN;
	const uint8_t *udp = ip + IP_LEN, *g = udp + UDP_LEN;
	uint32_t sec, usec, sum;
	size_t ip_len = HDRS_LEN + plen;

	assert_true(*off + PCAP_REC_LEN + ip_len <= flen);
	sec = host32(r);
	usec = host32(r + 4);
	assert_true(usec < 1000000);
	if (t0 != NULL) {
		assert_true(sec >= (uint32_t)t0->tv_sec);
		assert_true(sec <= (uint32_t)t1->tv_sec);
	}
	assert_int_equal(host32(r + 8), ip_len);	/* captured */
	assert_int_equal(host32(r + 12), ip_len);	/* on the wire */

	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[1], 0);
	assert_int_equal(be16(ip + 2), ip_len);
	if (ip_id >= 0)
		assert_int_equal(be16(ip + 4), ip_id);
	assert_int_equal(be16(ip + 6), 0x4000);		/* DF */
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], 17);
	assert_memory_equal(ip + 12, "\x7f\x00\x00\x01\x7f\x00\x00\x01", 8);
	assert_int_equal(ones_sum(0, ip, IP_LEN), 0xFFFF);

	assert_int_equal(be16(udp), 4729);
	assert_int_equal(be16(udp + 2), 4729);
	assert_int_equal(be16(udp + 4), UDP_LEN + GSMTAP_LEN + plen);
	assert_int_not_equal(be16(udp + 6), 0);		/* computed */
	sum = ones_sum(0, ip + 12, 8);			/* pseudo-header */
	sum += 17 + (uint32_t)be16(udp + 4);
	assert_int_equal(ones_sum(sum, udp, be16(udp + 4)), 0xFFFF);

	assert_memory_equal(g, gsmtap_sim_hdr, GSMTAP_LEN);
	assert_memory_equal(g + GSMTAP_LEN, payload, plen);
	*off += PCAP_REC_LEN + ip_len;
}

static int
count_records(const uint8_t *file, size_t flen)
{
	size_t off = PCAP_HDR_LEN;
	int n = 0;

	while (off + PCAP_REC_LEN <= flen) {
		off += PCAP_REC_LEN + host32(file + off + 8);
		n++;
	}
	assert_int_equal(off, flen);
	return n;
}

/* --- exchanges ----------------------------------------------------------- */

struct exchange {
	const char *name;
	const uint8_t *cmd;
	size_t clen;
	const uint8_t *resp;
	size_t rlen;
	const uint8_t *payload;		/* expected GSMTAP payload */
	size_t plen;
};

#define SAME	NULL, 0			/* payload = cmd || resp */

/*
 * The reference exchanges of a toolkit session (TS 102 221, TS 102 223),
 * lengths counted: D0 11 / Le 13, D7 0C / Lc 0E, FCP 62 1D and 62 1A.
 */
static const struct exchange reference[] = {
	{ "SELECT MF, case 4 under T=1: Le and FCP kept",
	  BYTES((0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00, 0x00)),
	  BYTES((0x62, 0x1D, 0x82, 0x02, 0x78, 0x21, 0x83, 0x02, 0x3F, 0x00,
		 0xA5, 0x03, 0x80, 0x01, 0x71, 0x8A, 0x01, 0x05, 0x8B, 0x03,
		 0x2F, 0x06, 0x01, 0xC6, 0x06, 0x90, 0x01, 0x00, 0x83, 0x01,
		 0x01, 0x90, 0x00)), SAME },
	{ "TERMINAL PROFILE, case 3",
	  BYTES((0x80, 0x10, 0x00, 0x00, 0x1E, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
		 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		 0)),
	  BYTES((0x91, 0x13)), SAME },
	{ "FETCH TIMER MANAGEMENT start timer 1, 5 s, case 2 Le = Ne",
	  BYTES((0x80, 0x12, 0x00, 0x00, 0x13)),
	  BYTES((0xD0, 0x11, 0x81, 0x03, 0x01, 0x27, 0x00, 0x82, 0x02, 0x81,
		 0x82, 0xA4, 0x01, 0x01, 0xA5, 0x03, 0x00, 0x00, 0x50, 0x90,
		 0x00)), SAME },
	{ "TERMINAL RESPONSE, case 3",
	  BYTES((0x80, 0x14, 0x00, 0x00, 0x0F, 0x81, 0x03, 0x01, 0x27, 0x00,
		 0x82, 0x02, 0x82, 0x81, 0x83, 0x01, 0x00, 0xA4, 0x01, 0x01)),
	  BYTES((0x90, 0x00)), SAME },
	{ "ENVELOPE timer expiration",
	  BYTES((0x80, 0xC2, 0x00, 0x00, 0x0E, 0xD7, 0x0C, 0x82, 0x02, 0x82,
		 0x81, 0xA4, 0x01, 0x01, 0xA5, 0x03, 0x00, 0x00, 0x50)),
	  BYTES((0x90, 0x00)), SAME },
	{ "ENVELOPE event download, data available",
	  BYTES((0x80, 0xC2, 0x00, 0x00, 0x10, 0xD6, 0x0E, 0x99, 0x01, 0x09,
		 0x82, 0x02, 0x82, 0x81, 0xB8, 0x02, 0x81, 0x00, 0xB7, 0x01,
		 0xFF)),
	  BYTES((0x90, 0x00)), SAME },
	{ "STATUS, no data returned",
	  BYTES((0x80, 0xF2, 0x00, 0x0C, 0x00)),
	  BYTES((0x90, 0x00)), SAME },
	{ "SELECT MF under T=0: case 3, 61 1C",
	  BYTES((0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00)),
	  BYTES((0x61, 0x1C)), SAME },
	{ "GET RESPONSE, 28 bytes of FCP",
	  BYTES((0x00, 0xC0, 0x00, 0x00, 0x1C)),
	  BYTES((0x62, 0x1A, 0x82, 0x02, 0x78, 0x21, 0x83, 0x02, 0x3F, 0x00,
		 0xA5, 0x00, 0x8A, 0x01, 0x05, 0x8B, 0x03, 0x2F, 0x06, 0x01,
		 0xC6, 0x06, 0x90, 0x01, 0x00, 0x83, 0x01, 0x01, 0x90, 0x00)),
	  SAME },
};

/* Where the payload is not the two APDUs side by side. */
static const struct exchange normalised[] = {
	{ "case 1: the T=0 TPDU's P3 = 00 is inserted (7816-3 12.2.2)",
	  BYTES((0x80, 0xF2, 0x00, 0x0C)),
	  BYTES((0x90, 0x00)),
	  BYTES((0x80, 0xF2, 0x00, 0x0C, 0x00, 0x90, 0x00)) },
	{ "case 1 with an error status",
	  BYTES((0x00, 0x70, 0x80, 0x01)),
	  BYTES((0x6A, 0x81)),
	  BYTES((0x00, 0x70, 0x80, 0x01, 0x00, 0x6A, 0x81)) },
	{ "case 2, Le 00 under T=1, 3 bytes returned: P3 = 03",
	  BYTES((0x00, 0xB0, 0x00, 0x00, 0x00)),
	  BYTES((0x01, 0x02, 0x03, 0x90, 0x00)),
	  BYTES((0x00, 0xB0, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03, 0x90, 0x00)) },
	{ "case 2, short read with 62 82: P3 = Ne",
	  BYTES((0x00, 0xB0, 0x00, 0x00, 0x10)),
	  BYTES((0x01, 0x02, 0x62, 0x82)),
	  BYTES((0x00, 0xB0, 0x00, 0x00, 0x02, 0x01, 0x02, 0x62, 0x82)) },
	{ "case 2 answered 6C without data: the Le sent is kept",
	  BYTES((0x00, 0xC0, 0x00, 0x00, 0x20)),
	  BYTES((0x6C, 0x1C)), SAME },
	{ "case 2 answered with an error: the Le sent is kept",
	  BYTES((0x80, 0x12, 0x00, 0x00, 0x13)),
	  BYTES((0x6F, 0x00)), SAME },
	{ "case 4, answered with an error: verbatim",
	  BYTES((0x00, 0xA4, 0x04, 0x04, 0x05, 0xA0, 0x00, 0x00, 0x00, 0x87,
		 0x00)),
	  BYTES((0x6A, 0x82)), SAME },
	{ "case 4 ENVELOPE SMS-PP download with response data: verbatim",
	  BYTES((0x80, 0xC2, 0x00, 0x00, 0x03, 0xD1, 0x01, 0x00, 0x00)),
	  BYTES((0xAB, 0xCD, 0x90, 0x00)), SAME },
	{ "not a well-formed C-APDU (Lc 05, 2 bytes): verbatim",
	  BYTES((0x80, 0x14, 0x00, 0x00, 0x05, 0x81, 0x03)),
	  BYTES((0x67, 0x00)), SAME },
};

/* The expected payload of e into out; returns its length. */
static size_t
expected_payload(const struct exchange *e, uint8_t *out)
{
	if (e->payload != NULL) {
		memcpy(out, e->payload, e->plen);
		return e->plen;
	}
	memcpy(out, e->cmd, e->clen);
	memcpy(out + e->clen, e->resp, e->rlen);
	return e->clen + e->rlen;
}

/* --- trace_encode -------------------------------------------------------- */

static void
check_encode(const struct exchange *v, size_t n)
{
	uint8_t out[TRACE_PAYLOAD_MAX], want[TRACE_PAYLOAD_MAX];
	size_t i, wlen;

	for (i = 0; i < n; i++) {
		wlen = expected_payload(&v[i], want);
		print_message("# %s\n", v[i].name);
		assert_int_equal(trace_encode(out, sizeof(out), v[i].cmd,
					      v[i].clen, v[i].resp, v[i].rlen),
				 wlen);
		assert_memory_equal(out, want, wlen);
		/* exactly enough room is enough, one byte less is not */
		assert_int_equal(trace_encode(out, wlen, v[i].cmd, v[i].clen,
					      v[i].resp, v[i].rlen), wlen);
		assert_int_equal(trace_encode(out, wlen - 1, v[i].cmd,
					      v[i].clen, v[i].resp, v[i].rlen),
				 -ENOSPC);
	}
}

static void
test_encode_reference(void **state)
{
	(void)state;
	check_encode(reference, ARRAY_SIZE(reference));
}

static void
test_encode_normalised(void **state)
{
	(void)state;
	check_encode(normalised, ARRAY_SIZE(normalised));
}

static void
test_encode_bounds(void **state)
{
	static uint8_t cmd[APDU_MAX_CMD + 1], resp[APDU_MAX_RESP + 1];
	uint8_t out[TRACE_PAYLOAD_MAX + 8];

	(void)state;
	memset(cmd, 0x5A, sizeof(cmd));
	memset(resp, 0xA5, sizeof(resp));
	/* largest: case 4 with Lc FF and Le 00, 256 bytes + SW */
	cmd[0] = 0x80; cmd[1] = 0xC2; cmd[4] = 0xFF; cmd[260] = 0x00;
	assert_int_equal(trace_encode(out, sizeof(out), cmd, APDU_MAX_CMD, resp,
				      APDU_MAX_RESP), TRACE_PAYLOAD_MAX);
	assert_memory_equal(out, cmd, APDU_MAX_CMD);
	assert_memory_equal(out + APDU_MAX_CMD, resp, APDU_MAX_RESP);
	/* case 2 with 256 bytes returned: P3 = 00 */
	cmd[4] = 0x00;
	assert_int_equal(trace_encode(out, sizeof(out), cmd, 5, resp,
				      APDU_MAX_RESP), 5 + APDU_MAX_RESP);
	assert_int_equal(out[4], 0x00);

	assert_int_equal(trace_encode(out, sizeof(out), cmd, 3, resp, 2),
			 -EINVAL);
	assert_int_equal(trace_encode(out, sizeof(out), cmd, APDU_MAX_CMD + 1,
				      resp, 2), -EINVAL);
	assert_int_equal(trace_encode(out, sizeof(out), cmd, 5, resp, 1),
			 -EINVAL);
	assert_int_equal(trace_encode(out, sizeof(out), cmd, 5, resp,
				      APDU_MAX_RESP + 1), -EINVAL);
	assert_int_equal(trace_encode(out, sizeof(out), NULL, 5, resp, 2),
			 -EINVAL);
	assert_int_equal(trace_encode(out, sizeof(out), cmd, 5, NULL, 2),
			 -EINVAL);
	assert_int_equal(trace_encode(NULL, 0, cmd, 5, resp, 2), -EINVAL);
	/* case 1 needs one byte more than it was given */
	assert_int_equal(trace_encode(out, 6, cmd, 4, resp, 2), -ENOSPC);
}

/* --- pcap ---------------------------------------------------------------- */

static void
trace_all(struct trace *t, const struct exchange *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		trace_apdu(t, v[i].cmd, v[i].clen, v[i].resp, v[i].rlen);
}

/* Check records [*off...] against v[0..n-1], IP ids from id0. */
static void
check_records(const uint8_t *file, size_t flen, size_t *off,
	      const struct exchange *v, size_t n, int id0,
	      const struct timespec *t0, const struct timespec *t1)
{
	uint8_t want[TRACE_PAYLOAD_MAX];
	size_t i, wlen;

	for (i = 0; i < n; i++) {
		wlen = expected_payload(&v[i], want);
		check_record(file, flen, off, id0 + (int)i, want, wlen, t0, t1);
	}
}

/* Trace v into a new file at path and read it back record by record. */
static void
check_pcap(const char *path, const struct exchange *v, size_t n)
{
	static uint8_t file[16384];
	struct timespec t0, t1;
	struct trace_stats st;
	char err[256];
	struct trace *t;
	struct stat sb;
	size_t flen, off = PCAP_HDR_LEN;

	unlink(path);
	umask(022);
	assert_int_equal(clock_gettime(CLOCK_REALTIME, &t0), 0);
	t = trace_new(path, NULL, err, sizeof(err));
	assert_non_null(t);
	assert_string_equal(err, "");
	trace_all(t, v, n);
	assert_int_equal(trace_count(t), n);
	trace_get_stats(t, &st);
	assert_int_equal(st.exchanges, n);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.pcap_errors, 0);
	assert_int_equal(st.pcap_errno, 0);
	assert_int_equal(st.udp_errors, 0);

	/* written through, before trace_free */
	flen = read_all(path, file, sizeof(file));
	assert_int_equal(clock_gettime(CLOCK_REALTIME, &t1), 0);
	trace_free(t);
	assert_int_equal(read_all(path, file, sizeof(file)), flen);

	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_true(flen > PCAP_HDR_LEN);
	check_global_header(file);
	check_records(file, flen, &off, v, n, 0, &t0, &t1);
	assert_int_equal(off, flen);
}

/* TRACE_KEEP_PCAP=FILE keeps this one, which Wireshark must decode cleanly. */
static void
test_pcap_reference(void **state)
{
	const char *keep = getenv("TRACE_KEEP_PCAP");
	char path[512];

	(void)state;
	if (keep != NULL && keep[0] != '\0') {
		assert_true(strlen(keep) < sizeof(path));
		strcpy(path, keep);
	} else {
		path_in_tmp(path, sizeof(path), "reference.pcap");
	}
	check_pcap(path, reference, ARRAY_SIZE(reference));
}

static void
test_pcap_normalised(void **state)
{
	char path[512];

	(void)state;
	path_in_tmp(path, sizeof(path), "normalised.pcap");
	check_pcap(path, normalised, ARRAY_SIZE(normalised));
}

static void
test_pcap_largest(void **state)
{
	static uint8_t cmd[APDU_MAX_CMD], resp[APDU_MAX_RESP], file[4096];
	uint8_t want[TRACE_PAYLOAD_MAX];
	char path[512];
	struct trace *t;
	size_t flen, off = PCAP_HDR_LEN, i;

	(void)state;
	for (i = 0; i < sizeof(cmd); i++)
		cmd[i] = (uint8_t)i;
	cmd[4] = 0xFF;
	cmd[260] = 0x00;
	for (i = 0; i < sizeof(resp); i++)
		resp[i] = (uint8_t)(0xFF - i);
	path_in_tmp(path, sizeof(path), "largest.pcap");
	t = trace_new(path, NULL, NULL, 0);
	assert_non_null(t);
	trace_apdu(t, cmd, sizeof(cmd), resp, sizeof(resp));
	trace_free(t);
	memcpy(want, cmd, sizeof(cmd));
	memcpy(want + sizeof(cmd), resp, sizeof(resp));
	flen = read_all(path, file, sizeof(file));
	assert_int_equal(flen, PCAP_HDR_LEN + PCAP_REC_LEN + HDRS_LEN +
			 TRACE_PAYLOAD_MAX);
	check_record(file, flen, &off, 0, want, TRACE_PAYLOAD_MAX, NULL, NULL);
}

static void
test_pcap_dropped(void **state)
{
	static const uint8_t cmd[APDU_MAX_CMD + 1] = { 0x80, 0xF2 };
	static const uint8_t resp[APDU_MAX_RESP + 1] = { 0x90, 0x00 };
	struct trace_stats st;
	uint8_t file[256];
	char path[512];
	struct trace *t;

	(void)state;
	path_in_tmp(path, sizeof(path), "dropped.pcap");
	t = trace_new(path, NULL, NULL, 0);
	assert_non_null(t);
	trace_apdu(t, cmd, 3, resp, 2);
	trace_apdu(t, cmd, sizeof(cmd), resp, 2);
	trace_apdu(t, cmd, 5, resp, 1);
	trace_apdu(t, cmd, 5, resp, 0);
	trace_apdu(t, cmd, 5, resp, sizeof(resp));
	trace_apdu(t, NULL, 5, resp, 2);
	trace_apdu(t, cmd, 5, NULL, 2);
	trace_get_stats(t, &st);
	assert_int_equal(st.dropped, 7);
	assert_int_equal(st.exchanges, 0);
	assert_int_equal(trace_count(t), 0);
	trace_free(t);
	assert_int_equal(read_all(path, file, sizeof(file)), PCAP_HDR_LEN);
	check_global_header(file);
}

static void
test_pcap_append(void **state)
{
	static uint8_t file[16384], torn[PCAP_REC_LEN + 10], junk[2048];
	char path[512];
	struct trace *t;
	size_t flen, good, off = PCAP_HDR_LEN;

	(void)state;
	path_in_tmp(path, sizeof(path), "append.pcap");
	t = trace_new(path, NULL, NULL, 0);
	assert_non_null(t);
	trace_all(t, reference, 3);
	trace_free(t);
	good = read_all(path, file, sizeof(file));

	/* a crash in the middle of a record: header says 100, 10 are there */
	memcpy(torn, file + PCAP_HDR_LEN, PCAP_REC_LEN);
	memcpy(torn + 8, &(uint32_t){ 100 }, 4);
	write_all(path, torn, sizeof(torn), "ab");

	t = trace_new(path, NULL, NULL, 0);
	assert_non_null(t);
	trace_all(t, reference + 3, 2);
	trace_free(t);

	flen = read_all(path, file, sizeof(file));
	assert_true(flen > good);
	check_global_header(file);
	assert_int_equal(count_records(file, flen), 5);
	check_records(file, flen, &off, reference, 3, 0, NULL, NULL);
	assert_int_equal(off, good);
	check_records(file, flen, &off, reference + 3, 2, 0, NULL, NULL);
	assert_int_equal(off, flen);

	/* reopened with nothing to add: the torn tail is still cut */
	write_all(path, torn, sizeof(torn), "ab");
	t = trace_new(path, NULL, NULL, 0);
	assert_non_null(t);
	trace_free(t);
	assert_int_equal(read_all(path, file, sizeof(file)), flen);

	/* more than one record's worth of junk is damage: left alone */
	memset(junk, 0xEE, sizeof(junk));
	write_all(path, junk, sizeof(junk), "ab");
	errno = 0;
	assert_null(trace_new(path, NULL, NULL, 0));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(read_all(path, file, sizeof(file)),
			 flen + sizeof(junk));

	/* a torn global header is not a trace */
	write_all(path, file, PCAP_HDR_LEN - 1, "wb");
	errno = 0;
	assert_null(trace_new(path, NULL, NULL, 0));
	assert_int_equal(errno, EINVAL);
}

/*
 * A write cut short (here by RLIMIT_FSIZE, EFBIG, as a full disk would) is
 * counted and taken back, so that the next record lands where it should.
 */
static void
test_pcap_write_error(void **state)
{
	static uint8_t file[16384];
	uint8_t want[TRACE_PAYLOAD_MAX];
	void (*old_handler)(int);
	struct rlimit old, lim;
	struct trace_stats st;
	char path[512];
	struct trace *t;
	size_t good, flen, off = PCAP_HDR_LEN;

	(void)state;
	path_in_tmp(path, sizeof(path), "full.pcap");
	t = trace_new(path, NULL, NULL, 0);
	assert_non_null(t);
	trace_all(t, reference, 2);
	good = read_all(path, file, sizeof(file));

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = good + 10;	/* room for 10 bytes of the next one */
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	trace_apdu(t, reference[2].cmd, reference[2].clen, reference[2].resp,
		   reference[2].rlen);
	trace_apdu(t, reference[3].cmd, reference[3].clen, reference[3].resp,
		   reference[3].rlen);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	trace_get_stats(t, &st);
	assert_int_equal(st.exchanges, 4);
	assert_int_equal(st.pcap_errors, 2);
	assert_int_equal(st.pcap_errno, EFBIG);
	assert_int_equal(read_all(path, file, sizeof(file)), good);

	trace_apdu(t, reference[4].cmd, reference[4].clen, reference[4].resp,
		   reference[4].rlen);
	trace_get_stats(t, &st);
	assert_int_equal(st.pcap_errors, 2);
	trace_free(t);

	flen = read_all(path, file, sizeof(file));
	assert_int_equal(count_records(file, flen), 3);
	check_records(file, flen, &off, reference, 2, 0, NULL, NULL);
	check_record(file, flen, &off, 4, want,
		     expected_payload(&reference[4], want), NULL, NULL);
	assert_int_equal(off, flen);
}

static void
test_pcap_refuses(void **state)
{
	static const char text[] = "not a trace, do not overwrite\n";
	uint8_t hdr[PCAP_HDR_LEN], buf[256];
	char path[512], lnk[512], err[256];
	struct trace *t, *t2;

	(void)state;
	/* someone else's file */
	path_in_tmp(path, sizeof(path), "notes.txt");
	write_all(path, text, strlen(text), "wb");
	errno = 0;
	assert_null(trace_new(path, NULL, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not overwritten"));
	assert_int_equal(read_all(path, buf, sizeof(buf)), strlen(text));
	assert_memory_equal(buf, text, strlen(text));

	/* a pcap of another link type (Ethernet) */
	path_in_tmp(path, sizeof(path), "ether.pcap");
	memcpy(hdr, &(uint32_t){ 0xA1B2C3D4 }, 4);
	memcpy(hdr + 4, &(uint16_t){ 2 }, 2);
	memcpy(hdr + 6, &(uint16_t){ 4 }, 2);
	memset(hdr + 8, 0, 8);
	memcpy(hdr + 16, &(uint32_t){ 65535 }, 4);
	memcpy(hdr + 20, &(uint32_t){ 1 }, 4);
	write_all(path, hdr, sizeof(hdr), "wb");
	errno = 0;
	assert_null(trace_new(path, NULL, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);

	/* a symbolic link, dangling or not: O_NOFOLLOW */
	path_in_tmp(path, sizeof(path), "target.pcap");
	path_in_tmp(lnk, sizeof(lnk), "link.pcap");
	assert_int_equal(symlink(path, lnk), 0);
	errno = 0;
	assert_null(trace_new(lnk, NULL, err, sizeof(err)));
	assert_int_equal(errno, ELOOP);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(access(path, F_OK), -1);	/* not created */
	write_all(path, "", 0, "wb");
	errno = 0;
	assert_null(trace_new(lnk, NULL, err, sizeof(err)));
	assert_int_equal(errno, ELOOP);

	/* in use: the second open is refused, the first keeps working */
	path_in_tmp(path, sizeof(path), "busy.pcap");
	t = trace_new(path, NULL, NULL, 0);
	assert_non_null(t);
	errno = 0;
	t2 = trace_new(path, NULL, err, sizeof(err));
	assert_null(t2);
	assert_int_equal(errno, EBUSY);
	assert_non_null(strstr(err, "in use"));
	trace_apdu(t, reference[0].cmd, reference[0].clen, reference[0].resp,
		   reference[0].rlen);
	trace_free(t);
	t = trace_new(path, NULL, NULL, 0);	/* free again */
	assert_non_null(t);
	trace_free(t);

	/* not a regular file */
	errno = 0;
	assert_null(trace_new("/dev/null", NULL, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

static void
test_pcap_unwritable(void **state)
{
	char path[512], err[256], small[12];

	(void)state;
	path_in_tmp(path, sizeof(path), "no/such/dir/trace.pcap");
	errno = 0;
	assert_null(trace_new(path, NULL, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, strerror(ENOENT)));

	errno = 0;
	assert_null(trace_new(tmpdir, NULL, err, sizeof(err)));
	assert_int_equal(errno, EISDIR);
	assert_non_null(strstr(err, tmpdir));

	/* the reason is cut to the buffer, NUL-terminated; no buffer is fine */
	memset(small, 'x', sizeof(small));
	assert_null(trace_new(path, NULL, small, sizeof(small)));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	errno = 0;
	assert_null(trace_new(path, NULL, NULL, 0));
	assert_int_equal(errno, ENOENT);

	/* a bad UDP address leaves no file behind */
	path_in_tmp(path, sizeof(path), "never.pcap");
	assert_null(trace_new(path, "nowhere:4729", err, sizeof(err)));
	assert_int_equal(access(path, F_OK), -1);
}

/* --- UDP ----------------------------------------------------------------- */

/* A receiving socket on the loopback; the address text for trace_new. */
static int
udp_listener(int family, uint16_t port, char *addr, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	}
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return -1;
	}
	if (family == AF_INET)
		snprintf(addr, cap, "127.0.0.1:%u",
			 ntohs(((struct sockaddr_in *)&ss)->sin_port));
	else
		snprintf(addr, cap, "[::1]:%u",
			 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return fd;
}

/* Receive one datagram (2 s at most) and check it carries e. */
static void
expect_datagram(int fd, const struct exchange *e)
{
	uint8_t buf[1024], want[TRACE_PAYLOAD_MAX];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t wlen = expected_payload(e, want);
	ssize_t n;

	assert_int_equal(poll(&pfd, 1, 2000), 1);
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	assert_int_equal(n, GSMTAP_LEN + wlen);
	assert_memory_equal(buf, gsmtap_sim_hdr, GSMTAP_LEN);
	assert_memory_equal(buf + GSMTAP_LEN, want, wlen);
}

static void
check_udp(int family)
{
	char addr[64], err[256];
	struct trace_stats st;
	struct trace *t;
	size_t i;
	int fd;

	fd = udp_listener(family, 0, addr, sizeof(addr));
	if (fd < 0 && family == AF_INET6)
		skip();			/* no IPv6 loopback here */
	assert_true(fd >= 0);
	t = trace_new(NULL, addr, err, sizeof(err));
	assert_non_null(t);
	trace_all(t, reference, ARRAY_SIZE(reference));
	trace_all(t, normalised, ARRAY_SIZE(normalised));
	for (i = 0; i < ARRAY_SIZE(reference); i++)
		expect_datagram(fd, &reference[i]);
	for (i = 0; i < ARRAY_SIZE(normalised); i++)
		expect_datagram(fd, &normalised[i]);
	trace_get_stats(t, &st);
	assert_int_equal(st.udp_errors, 0);
	assert_int_equal(st.exchanges,
			 ARRAY_SIZE(reference) + ARRAY_SIZE(normalised));
	trace_free(t);
	close(fd);
}

static void
test_udp_ipv4(void **state)
{
	(void)state;
	check_udp(AF_INET);
}

static void
test_udp_ipv6(void **state)
{
	(void)state;
	check_udp(AF_INET6);
}

static void
test_udp_default_port(void **state)
{
	char addr[64];
	struct trace *t;
	int fd;

	(void)state;
	fd = udp_listener(AF_INET, 4729, addr, sizeof(addr));
	if (fd < 0)
		skip();			/* 4729 taken on this machine */
	t = trace_new(NULL, "127.0.0.1", NULL, 0);
	assert_non_null(t);
	trace_apdu(t, reference[2].cmd, reference[2].clen, reference[2].resp,
		   reference[2].rlen);
	expect_datagram(fd, &reference[2]);
	trace_free(t);
	close(fd);
}

static void
test_udp_nobody_listens(void **state)
{
	char addr[64], path[512];
	struct trace_stats st;
	struct trace *t;
	unsigned port;
	int fd, i;

	(void)state;
	/* a port that was free a moment ago */
	fd = udp_listener(AF_INET, 0, addr, sizeof(addr));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sscanf(addr, "127.0.0.1:%u", &port), 1);

	path_in_tmp(path, sizeof(path), "udp-refused.pcap");
	t = trace_new(path, addr, NULL, 0);
	assert_non_null(t);
	/*
	 * On the loopback the ICMP error comes back at once and fails the
	 * next send: 3 sends leave one pending whether or not the failed
	 * sends are retried.
	 */
	for (i = 0; i < 3; i++)
		trace_apdu(t, reference[6].cmd, reference[6].clen,
			   reference[6].resp, reference[6].rlen);
	trace_get_stats(t, &st);
	assert_int_equal(st.exchanges, 3);
	assert_true(st.udp_errors >= 1);	/* ECONNREFUSED, ignored */
	assert_int_equal(st.pcap_errors, 0);

	/* a receiver started later gets the next datagram, despite the error */
	fd = udp_listener(AF_INET, (uint16_t)port, addr, sizeof(addr));
	if (fd < 0) {
		trace_free(t);
		skip();			/* the port was taken meanwhile */
	}
	trace_apdu(t, reference[7].cmd, reference[7].clen, reference[7].resp,
		   reference[7].rlen);
	expect_datagram(fd, &reference[7]);
	assert_int_equal(trace_count(t), 4);
	trace_free(t);
	close(fd);
}

static void
test_udp_bad_addresses(void **state)
{
	static const char *const bad[] = {
		"localhost:4729",	/* numeric only */
		"localhost",
		"127.0.0.1:0",
		"127.0.0.1:65536",
		"127.0.0.1:99999999999999999999",
		"127.0.0.1:",
		"127.0.0.1:abc",
		"127.0.0.1:+80",
		"127.0.0.1:-1",
		"127.0.0.1:47 29",
		" 127.0.0.1",
		"127.1",		/* inet_aton forms */
		"0x7f.0.0.1",
		"256.0.0.1",
		":4729",
		"::1",			/* IPv6 needs brackets */
		"::1:4729",
		"fe80::1:4729",
		"[::1",
		"[::1]4729",
		"[::1]:",
		"[::1]:0",
		"[]:4729",
		"[127.0.0.1]:4729",
		"[::1]:4729x",
		"[zz::1]",
		"1.2.3.4:12:3",
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("# \"%s\"\n", bad[i]);
		err[0] = '\0';
		errno = 0;
		assert_null(trace_new(NULL, bad[i], err, sizeof(err)));
		assert_int_equal(errno, EINVAL);
		assert_non_null(strstr(err, "UDP address"));
		assert_non_null(strstr(err, bad[i]));
	}
	/* the reason says what to write instead */
	assert_null(trace_new(NULL, "::1", err, sizeof(err)));
	assert_non_null(strstr(err, "in brackets, as in [::1]:4729"));
	assert_null(trace_new(NULL, "127.0.0.1:0", err, sizeof(err)));
	assert_non_null(strstr(err, "from 1 to 65535"));
	assert_null(trace_new(NULL, "localhost", err, sizeof(err)));
	assert_non_null(strstr(err, "not a numeric IPv4 address"));
}

static void
test_udp_good_addresses(void **state)
{
	static const char *const good[] = {
		"127.0.0.1", "127.0.0.1:4729", "127.0.0.1:1", "127.0.0.1:65535",
		"[::1]", "[::1]:4729", "[::ffff:127.0.0.1]:9",
	};
	struct trace *t;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		print_message("# \"%s\"\n", good[i]);
		t = trace_new(NULL, good[i], NULL, 0);
		if (t == NULL && good[i][0] == '[' &&
		    (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL ||
		     errno == ENETUNREACH))
			continue;	/* no IPv6 here */
		assert_non_null(t);
		trace_free(t);
	}
}

/* --- API edges ----------------------------------------------------------- */

static void
test_null_and_nothing(void **state)
{
	struct trace_stats st;
	char err[256];

	(void)state;
	trace_free(NULL);
	trace_apdu(NULL, reference[0].cmd, reference[0].clen,
		   reference[0].resp, reference[0].rlen);
	assert_int_equal(trace_count(NULL), 0);
	memset(&st, 0xFF, sizeof(st));
	trace_get_stats(NULL, &st);
	assert_int_equal(st.exchanges, 0);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.pcap_errors, 0);
	assert_int_equal(st.udp_errors, 0);
	assert_int_equal(st.pcap_errno, 0);

	errno = 0;
	assert_null(trace_new(NULL, NULL, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "no trace output"));
	errno = 0;
	assert_null(trace_new("", "", err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
}

/* --- fixture ------------------------------------------------------------- */

static int
setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_trace.XXXXXX",
		 base != NULL && base[0] != '\0' ? base : "/tmp");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char path[512];
	struct dirent *de;
	DIR *d;

	(void)state;
	d = opendir(tmpdir);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_reference),
		cmocka_unit_test(test_encode_normalised),
		cmocka_unit_test(test_encode_bounds),
		cmocka_unit_test(test_pcap_reference),
		cmocka_unit_test(test_pcap_normalised),
		cmocka_unit_test(test_pcap_largest),
		cmocka_unit_test(test_pcap_dropped),
		cmocka_unit_test(test_pcap_append),
		cmocka_unit_test(test_pcap_write_error),
		cmocka_unit_test(test_pcap_refuses),
		cmocka_unit_test(test_pcap_unwritable),
		cmocka_unit_test(test_udp_ipv4),
		cmocka_unit_test(test_udp_ipv6),
		cmocka_unit_test(test_udp_default_port),
		cmocka_unit_test(test_udp_nobody_listens),
		cmocka_unit_test(test_udp_bad_addresses),
		cmocka_unit_test(test_udp_good_addresses),
		cmocka_unit_test(test_null_and_nothing),
	};

	return cmocka_run_group_tests_name("trace", tests, setup, teardown);
}
