/* SPDX-License-Identifier: MIT */
/*
 * APDU trace as GSMTAP type SIM, to a pcap file and/or a UDP address.
 *
 * GSMTAP (libosmocore gsmtap.h, the format's reference): a 16-byte header,
 * version 2, hdr_len in 32-bit words, type 0x04 SIM, sub-type 0x00 "APDU"
 * (the whole exchange in one packet), every other field zero; UDP port 4729.
 * Wireshark's gsmtap dissector hands everything after hdr_len * 4 bytes to
 * the dissector registered for the type in its "gsmtap.type" table, gsm_sim,
 * which parses the command and takes SW1 SW2 from the end (see trace.h).
 *
 * pcap file: the classic format (pcap-savefile(5)): native byte order,
 * version 2.4, link type 228 LINKTYPE_IPV4, so each record is an IPv4 header
 * (127.0.0.1 -> 127.0.0.1) + UDP header (4729 -> 4729) + GSMTAP + payload,
 * with both checksums computed (RFC 791, RFC 768).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"		/* _GNU_SOURCE (AC_USE_SYSTEM_EXTENSIONS) */
#else
#define _DEFAULT_SOURCE 1	/* built alone: POSIX 2008 + flock, SOCK_* */
#endif

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "conf.h"
#include "trace/trace.h"
#include "util/errbuf.h"
#include "util/hostport.h"
#include "util/io.h"

#define GSMTAP_VERSION		2
#define GSMTAP_HDR_WORDS	4		/* 16 bytes */
#define GSMTAP_TYPE_SIM		0x04
#define GSMTAP_SIM_APDU		0x00		/* sub-type: complete APDU */

#define PCAP_MAGIC		0xA1B2C3D4u	/* microsecond timestamps */
#define PCAP_VERSION_MAJOR	2
#define PCAP_VERSION_MINOR	4
#define PCAP_SNAPLEN		65535
#define LINKTYPE_IPV4		228

/* Record layout: pcap record header, IPv4, UDP, GSMTAP, payload. */
#define PCAP_HDR_LEN		24
#define PCAP_REC_LEN		16
#define IPV4_HDR_LEN		20
#define UDP_HDR_LEN		8
#define GSMTAP_HDR_LEN		(GSMTAP_HDR_WORDS * 4)
#define OFF_IP			PCAP_REC_LEN
#define OFF_UDP			(OFF_IP + IPV4_HDR_LEN)
#define OFF_GSMTAP		(OFF_UDP + UDP_HDR_LEN)
#define OFF_PAYLOAD		(OFF_GSMTAP + GSMTAP_HDR_LEN)
#define REC_MAX			(OFF_PAYLOAD + TRACE_PAYLOAD_MAX)

#define IP_TTL_DEFAULT		64
#define IP_FLAG_DF		0x4000
#define IPPROTO_UDP_NUM		17

struct trace {
	int pcap_fd;		/* -1: no pcap output */
	off_t pcap_end;		/* end of the last complete record */
	int udp_fd;		/* -1: no UDP output */
	uint16_t ip_id;		/* IPv4 identification of the next record */
	struct trace_stats st;
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The pcap headers are in the writer's byte order (pcap-savefile(5)). */
static void
put16_host(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void
put32_host(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint32_t
get32_host(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t
get16_host(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* --- GSMTAP payload ------------------------------------------------------ */

int
trace_encode(uint8_t *out, size_t cap, const uint8_t *cmd, size_t clen,
	     const uint8_t *resp, size_t rlen)
{
	size_t hdr, rdata;

	if (out == NULL || cmd == NULL || resp == NULL || clen < 4 ||
	    clen > APDU_MAX_CMD || rlen < 2 || rlen > APDU_MAX_RESP)
		return -EINVAL;
	hdr = clen == 4 ? 5 : clen;
	if (hdr + rlen > cap)
		return -ENOSPC;
	memcpy(out, cmd, clen);
	rdata = rlen - 2;
	if (clen == 4)
		out[4] = 0x00;		/* case 1: the T=0 TPDU has P3 = 00 */
	else if (clen == 5 && rdata > 0)
		out[4] = (uint8_t)rdata;	/* case 2: Ne got, 256 -> 00 */
	memcpy(out + hdr, resp, rlen);
	return (int)(hdr + rlen);
}

/* --- IPv4 / UDP framing -------------------------------------------------- */

/* RFC 1071 one's complement sum of big-endian 16-bit words. */
static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Fill the pcap record, IPv4, UDP and GSMTAP headers in front of the plen
 * payload bytes already at rec + OFF_PAYLOAD.  Returns the record length.
 */
static size_t
trace_frame(struct trace *t, uint8_t *rec, size_t plen,
	    const struct timespec *ts)
{
	static const uint8_t loopback[4] = { 127, 0, 0, 1 };
	uint8_t *ip = rec + OFF_IP, *udp = rec + OFF_UDP, *g = rec + OFF_GSMTAP;
	size_t udp_len = UDP_HDR_LEN + GSMTAP_HDR_LEN + plen;
	size_t ip_len = IPV4_HDR_LEN + udp_len;
	uint32_t sum;
	uint16_t c;

	memset(g, 0, GSMTAP_HDR_LEN);
	g[0] = GSMTAP_VERSION;
	g[1] = GSMTAP_HDR_WORDS;
	g[2] = GSMTAP_TYPE_SIM;
	g[12] = GSMTAP_SIM_APDU;

	put16(udp, TRACE_GSMTAP_PORT);
	put16(udp + 2, TRACE_GSMTAP_PORT);
	put16(udp + 4, (uint16_t)udp_len);
	put16(udp + 6, 0);
	/* pseudo-header: source, destination, zero, protocol, UDP length */
	sum = csum_add(0, loopback, 4);
	sum = csum_add(sum, loopback, 4);
	sum += IPPROTO_UDP_NUM + (uint32_t)udp_len;
	c = csum_fold(csum_add(sum, udp, udp_len));
	put16(udp + 6, c == 0 ? 0xFFFF : c);	/* 0 means "none" (RFC 768) */

	ip[0] = 0x45;				/* version 4, 5 words */
	ip[1] = 0;
	put16(ip + 2, (uint16_t)ip_len);
	put16(ip + 4, t->ip_id++);
	put16(ip + 6, IP_FLAG_DF);
	ip[8] = IP_TTL_DEFAULT;
	ip[9] = IPPROTO_UDP_NUM;
	put16(ip + 10, 0);
	memcpy(ip + 12, loopback, 4);
	memcpy(ip + 16, loopback, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, IPV4_HDR_LEN)));

	put32_host(rec, (uint32_t)ts->tv_sec);
	put32_host(rec + 4, (uint32_t)(ts->tv_nsec / 1000));
	put32_host(rec + 8, (uint32_t)ip_len);	/* captured */
	put32_host(rec + 12, (uint32_t)ip_len);	/* on the wire */
	return PCAP_REC_LEN + ip_len;
}

/* --- pcap file ----------------------------------------------------------- */

static bool
pcap_hdr_ours(const uint8_t *h)
{
	return get32_host(h) == PCAP_MAGIC &&
	       get16_host(h + 4) == PCAP_VERSION_MAJOR &&
	       get16_host(h + 6) == PCAP_VERSION_MINOR &&
	       get32_host(h + 16) >= REC_MAX - PCAP_REC_LEN &&
	       get32_host(h + 20) == LINKTYPE_IPV4;
}

static int
pread_full(int fd, uint8_t *p, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, p + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/*
 * Continue an existing trace: check its global header, walk the records and
 * cut a last record torn by a crash or a full disk, so that what we append
 * stays aligned.  A longer unreadable tail is damage that someone may want
 * to look at: refused.  Returns 0 with t->pcap_end set, or a negative errno.
 */
static int
trace_pcap_resume(struct trace *t, const char *path, off_t size, char *err,
		  size_t errlen)
{
	uint8_t h[PCAP_HDR_LEN];
	off_t off;
	uint32_t incl;
	int rc;

	if (size < PCAP_HDR_LEN ||
	    pread_full(t->pcap_fd, h, sizeof(h), 0) < 0 || !pcap_hdr_ours(h)) {
		errbuf_set(err, errlen, "%s: exists and is not an APDU trace "
			  "(pcap, link type IPv4); not overwritten", path);
		return -EINVAL;
	}
	for (off = PCAP_HDR_LEN; size - off >= PCAP_REC_LEN;
	     off += PCAP_REC_LEN + (off_t)incl) {
		rc = pread_full(t->pcap_fd, h, PCAP_REC_LEN, off);
		if (rc < 0) {
			errbuf_set(err, errlen, "%s: %s", path, strerror(-rc));
			return rc;
		}
		incl = get32_host(h + 8);
		if (incl > PCAP_SNAPLEN || incl > size - off - PCAP_REC_LEN)
			break;
	}
	if (size - off > REC_MAX) {
		/* more than one record of ours: damage, not a torn write */
		errbuf_set(err, errlen, "%s: damaged after byte %lld; not "
			  "overwritten", path, (long long)off);
		return -EINVAL;
	}
	if ((off < size && ftruncate(t->pcap_fd, off) < 0) ||
	    lseek(t->pcap_fd, off, SEEK_SET) < 0) {
		rc = -errno;
		errbuf_set(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	t->pcap_end = off;
	return 0;
}

static int
trace_pcap_open(struct trace *t, const char *path, char *err, size_t errlen)
{
	uint8_t h[PCAP_HDR_LEN];
	struct stat st;
	size_t done;
	int rc;

	/*
	 * O_NOFOLLOW: the daemon runs privileged and the path comes from its
	 * configuration; a link planted there must not redirect it onto
	 * another file.  It guards the last component only.
	 */
	t->pcap_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY |
			  O_CLOEXEC, 0640);
	if (t->pcap_fd < 0) {
		rc = -errno;
		if (rc == -ELOOP)
			errbuf_set(err, errlen, "%s: is a symbolic link, "
				  "refused", path);
		else
			errbuf_set(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(t->pcap_fd, &st) < 0) {
		rc = -errno;
		errbuf_set(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		errbuf_set(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (flock(t->pcap_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		errbuf_set(err, errlen, "%s: %s", path, rc == -EBUSY ?
			  "in use by another process" : strerror(-rc));
		return rc;
	}
	if (st.st_size > 0)
		return trace_pcap_resume(t, path, st.st_size, err, errlen);

	put32_host(h, PCAP_MAGIC);
	put16_host(h + 4, PCAP_VERSION_MAJOR);
	put16_host(h + 6, PCAP_VERSION_MINOR);
	put32_host(h + 8, 0);			/* thiszone: UTC */
	put32_host(h + 12, 0);			/* sigfigs */
	put32_host(h + 16, PCAP_SNAPLEN);
	put32_host(h + 20, LINKTYPE_IPV4);
	rc = io_write_all(t->pcap_fd, h, sizeof(h), &done);
	if (rc < 0) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(-rc));
		if (done > 0 && ftruncate(t->pcap_fd, 0) < 0) {
			/* then the next start refuses the torn header */
		}
		return rc;
	}
	t->pcap_end = PCAP_HDR_LEN;
	return 0;
}

static void
trace_pcap_write(struct trace *t, const uint8_t *rec, size_t len)
{
	size_t done;
	int rc;

	rc = io_write_all(t->pcap_fd, rec, len, &done);
	if (rc == 0) {
		t->pcap_end += (off_t)len;
		return;
	}
	t->st.pcap_errors++;
	t->st.pcap_errno = -rc;
	if (done == 0)
		return;
	/* A torn record would misalign every later one: take it back. */
	if (ftruncate(t->pcap_fd, t->pcap_end) < 0 ||
	    lseek(t->pcap_fd, t->pcap_end, SEEK_SET) < 0) {
		/* Cannot: stop here, the file is good up to the torn record. */
		t->st.pcap_errno = errno;
		close(t->pcap_fd);
		t->pcap_fd = -1;
	}
}

/* --- UDP ----------------------------------------------------------------- */

/*
 * "A.B.C.D", "A.B.C.D:PORT", "[IPv6]", "[IPv6]:PORT"; numeric only (no name
 * lookup that could block), an IPv6 address always in brackets so that
 * "::1:4729" cannot be misread.
 */
static int
trace_parse_udp(const char *s, struct sockaddr_storage *ss, socklen_t *sslen,
		char *err, size_t errlen)
{
	struct hostport hp;
	enum hostport_error e;
	uint16_t pnum = TRACE_GSMTAP_PORT;
	const char *host = hp.host;
	bool v6;

	e = hostport_parse(s, strlen(s), 0, &hp);
	if (e == HOSTPORT_V6_UNBRACKETED) {
		errbuf_set(err, errlen, "UDP address \"%s\": an IPv6 "
			  "address goes in brackets, as in [::1]:%d",
			  s, TRACE_GSMTAP_PORT);
		return -EINVAL;
	}
	if (e != HOSTPORT_OK) {
		errbuf_set(err, errlen, "UDP address \"%s\": %s", s,
			  hostport_strerror(e));
		return -EINVAL;
	}
	v6 = hp.bracketed;
	if (hp.has_port)
		pnum = hp.port;

	memset(ss, 0, sizeof(*ss));
	if (!v6) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		/* inet_pton, not inet_aton: no "127.1" or "0x7f.1" */
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			errbuf_set(err, errlen, "UDP address \"%s\": \"%s\" is "
				  "not a numeric IPv4 address", s, host);
			return -EINVAL;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons(pnum);
		*sslen = sizeof(*sin);
	} else {
		/* getaddrinfo for the "%scope" of link-local addresses */
		struct addrinfo hints, *res = NULL;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_INET6;
		hints.ai_socktype = SOCK_DGRAM;
		hints.ai_flags = AI_NUMERICHOST;
		if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL ||
		    res->ai_addrlen > sizeof(*sin6)) {
			if (res != NULL)
				freeaddrinfo(res);
			errbuf_set(err, errlen, "UDP address \"%s\": \"%s\" is "
				  "not a numeric IPv6 address", s, host);
			return -EINVAL;
		}
		memcpy(sin6, res->ai_addr, res->ai_addrlen);
		freeaddrinfo(res);
		sin6->sin6_port = htons(pnum);
		*sslen = sizeof(*sin6);
	}
	return 0;
}

int
trace_conf_check(const struct conf *c, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char why[256];

	if (*c->trace.file && c->trace.file[0] != '/')
		return conf_key_error(c, "trace", "file", err, errlen,
				      "'%s' is not an absolute path",
				      c->trace.file);
	if (*c->trace.udp &&
	    trace_parse_udp(c->trace.udp, &ss, &sslen, why, sizeof(why)) < 0)
		return conf_key_error(c, "trace", "udp", err, errlen, "%s", why);
	return 0;
}

static int
trace_udp_open(struct trace *t, const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int rc;

	rc = trace_parse_udp(addr, &ss, &sslen, err, errlen);
	if (rc < 0)
		return rc;
	t->udp_fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
			   SOCK_CLOEXEC, 0);
	if (t->udp_fd < 0 || connect(t->udp_fd, (struct sockaddr *)&ss,
				     sslen) < 0) {
		rc = -errno;
		errbuf_set(err, errlen, "UDP address \"%s\": %s", addr,
			  strerror(-rc));
		return rc;
	}
	return 0;
}

static void
trace_udp_send(struct trace *t, const uint8_t *p, size_t len)
{
	ssize_t n;

	n = send(t->udp_fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && errno == ECONNREFUSED) {
		/*
		 * The ICMP "port unreachable" of an earlier datagram, reported
		 * on this send, which it cost (the datagram was not sent):
		 * send it again, so that a receiver started since gets it.
		 */
		t->st.udp_errors++;
		n = send(t->udp_fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	if (n < 0)
		t->st.udp_errors++;
}

/* --- API ----------------------------------------------------------------- */

struct trace *
trace_new(const char *pcap_path, const char *udp, char *err, size_t errlen)
{
	bool use_pcap = pcap_path != NULL && pcap_path[0] != '\0';
	bool use_udp = udp != NULL && udp[0] != '\0';
	struct trace *t;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!use_pcap && !use_udp) {
		errbuf_set(err, errlen, "no trace output: neither a pcap file "
			  "nor a UDP address");
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		errbuf_set(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	t->pcap_fd = -1;
	t->udp_fd = -1;
	/* UDP first: a bad address must not leave a new file behind. */
	if (use_udp && (rc = trace_udp_open(t, udp, err, errlen)) < 0)
		goto fail;
	if (use_pcap && (rc = trace_pcap_open(t, pcap_path, err, errlen)) < 0)
		goto fail;
	return t;
fail:
	trace_free(t);
	errno = -rc;
	return NULL;
}

void
trace_free(struct trace *t)
{
	int saved = errno;

	if (t == NULL)
		return;
	if (t->pcap_fd >= 0)
		close(t->pcap_fd);	/* releases the lock */
	if (t->udp_fd >= 0)
		close(t->udp_fd);
	free(t);
	errno = saved;
}

void
trace_apdu(struct trace *t, const uint8_t *cmd, size_t clen,
	   const uint8_t *resp, size_t rlen)
{
	uint8_t rec[REC_MAX];
	struct timespec ts;
	size_t len;
	int n;

	if (t == NULL)
		return;
	n = trace_encode(rec + OFF_PAYLOAD, TRACE_PAYLOAD_MAX, cmd, clen,
			 resp, rlen);
	if (n < 0) {
		t->st.dropped++;
		return;
	}
	t->st.exchanges++;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		memset(&ts, 0, sizeof(ts));
	len = trace_frame(t, rec, (size_t)n, &ts);
	if (t->udp_fd >= 0)
		trace_udp_send(t, rec + OFF_GSMTAP, len - OFF_GSMTAP);
	if (t->pcap_fd >= 0)
		trace_pcap_write(t, rec, len);
}

unsigned long
trace_count(const struct trace *t)
{
	return t != NULL ? t->st.exchanges : 0;
}

void
trace_get_stats(const struct trace *t, struct trace_stats *st)
{
	if (t != NULL)
		*st = t->st;
	else
		memset(st, 0, sizeof(*st));
}
