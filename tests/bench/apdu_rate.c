/* SPDX-License-Identifier: MIT */
/*
 * The raw APDU rate the BIP proxy is measured against: a minimal terminal
 * in one thread, no event loop, no sockets, driving the same card (the
 * virtual UICC with its web server) through the same pcscd + vpcd with the
 * very command sequence the proxy uses for an HTTP exchange on a UICC
 * server channel:
 *   TERMINAL PROFILE, then the card's set-up commands (OPEN CHANNEL ...);
 *   ENVELOPE Channel Status "established" (a client connected);
 *   per buffer of request bytes: ENVELOPE Data Available, RECEIVE DATA
 *   until it is drained; SEND DATA answered at once with the whole buffer
 *   free - until the whole HTTP response has come;
 *   ENVELOPE Channel Status "link dropped" (the client left).
 * Every 91 XX is followed by FETCH, and each command by its TERMINAL
 * RESPONSE, exactly as the daemon does it.  The codecs are the daemon's.
 *
 * Usage: apdu_rate READER get PATH | apdu_rate READER post PATH FILE
 * (PCSCLITE_CSOCK_NAME selects pcscd).  Prints
 * "raw NAME: N APDUs in S s = R APDU/s, B bytes, B/N bytes per APDU".
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <winscard.h>

#include "bip/codec.h"
#include "card/apdu.h"
#include "cat/envelope.h"
#include "cat/proactive.h"
#include "cat/profile.h"

struct term {
	SCARDHANDLE h;
	const SCARD_IO_REQUEST *pci;
	unsigned long apdus;
	uint8_t channel;		/* 0: none open */
	uint16_t bufsize;
	/* the client's side of the exchange */
	const uint8_t *req;
	size_t req_len, req_off;
	size_t chunk_left;		/* announced, not yet received */
	char head[1024];		/* the start of the response */
	size_t resp_len, resp_total;	/* total: 0 until the headers are in */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "apdu_rate: %s\n", what);
	exit(1);
}

static int tx(void *arg, const uint8_t *cmd, size_t clen, uint8_t *resp,
	      size_t *rlen)
{
	struct term *t = arg;
	DWORD n = (DWORD)*rlen;
	LONG rv = SCardTransmit(t->h, t->pci, cmd, clen, NULL, resp, &n);

	if (rv != SCARD_S_SUCCESS)
		die(pcsc_stringify_error(rv));
	t->apdus++;
	*rlen = n;
	return 0;
}

static uint16_t apdu(struct term *t, uint8_t ins, const uint8_t *data,
		     size_t lc, int le, struct apdu_result *res)
{
	uint8_t cmd[APDU_MAX_CMD];
	int n = apdu_build(cmd, sizeof(cmd), APDU_CLA_UICC, ins, 0, 0, data, lc, le);

	if (n < 0 || apdu_exchange(tx, t, cmd, (size_t)n, res) < 0)
		die("APDU exchange failed");
	return res->sw;
}

/* The HTTP response as it comes: its total length once the headers are in. */
static void response_bytes(struct term *t, const uint8_t *p, size_t n)
{
	size_t keep = sizeof(t->head) - 1;

	if (t->resp_len < keep) {
		size_t k = n < keep - t->resp_len ? n : keep - t->resp_len;

		memcpy(t->head + t->resp_len, p, k);
		t->head[t->resp_len + k] = '\0';
	}
	t->resp_len += n;
	if (!t->resp_total) {
		const char *end = strstr(t->head, "\r\n\r\n");
		const char *cl = strstr(t->head, "Content-Length:");

		if (end && cl)
			t->resp_total = (size_t)(end + 4 - t->head) +
					strtoul(cl + 15, NULL, 10);
	}
}

/* Answer one proactive command as the proxy would; the TERMINAL RESPONSE. */
static int respond(struct term *t, const struct apdu_result *f, uint8_t *tr,
		   size_t cap)
{
	uint8_t extra[8 + BIP_MAX_CHUNK];
	struct cat_cmd cmd;
	struct bip_open o;
	const uint8_t *data;
	size_t n, x = 0;
	uint8_t want;
	int r = cat_cmd_decode(f->data, f->len, &cmd);

	if (r < 0)
		die("malformed proactive command");
	if (r > 0)
		return cat_tr_build(tr, cap, &cmd.det, (uint8_t)r, NULL, 0, NULL, 0);
	switch (cmd.det.type) {
	case CAT_OPEN_CHANNEL:
		if (bip_open_decode(f->data, f->len, &o))
			die("OPEN CHANNEL not understood");
		t->channel = 1;
		t->bufsize = o.buffer_size;
		x += (size_t)bip_put_channel_status(extra, sizeof(extra),
						    0x01 | BIP_CS_LISTEN, 0);
		x += (size_t)bip_put_buffer_size(extra + x, sizeof(extra) - x,
						 t->bufsize);
		break;
	case CAT_SEND_DATA:
		if (bip_send_decode(f->data, f->len, &data, &n))
			die("SEND DATA not understood");
		response_bytes(t, data, n);
		/* the client takes it all at once: the whole buffer is free */
		x += (size_t)bip_put_data_length(extra, sizeof(extra), t->bufsize);
		break;
	case CAT_RECEIVE_DATA:
		if (bip_receive_decode(f->data, f->len, &want))
			die("RECEIVE DATA not understood");
		n = want < t->chunk_left ? want : t->chunk_left;
		x += (size_t)bip_put_channel_data(extra, sizeof(extra),
						  t->req + t->req_off, n);
		t->req_off += n;
		t->chunk_left -= n;
		x += (size_t)bip_put_data_length(extra + x, sizeof(extra) - x,
						 t->chunk_left);
		break;
	case CAT_CLOSE_CHANNEL:
	default:
		break;
	}
	return cat_tr_build(tr, cap, &cmd.det, CAT_RES_OK, NULL, 0, extra, x);
}

/* FETCH and answer until the card has nothing more to say. */
static void proactive(struct term *t, uint16_t sw)
{
	struct apdu_result f, res;
	uint8_t tr[255];

	while ((sw >> 8) == 0x91) {
		int n;

		if (apdu(t, INS_FETCH, NULL, 0, sw & 0xFF, &f) != 0x9000)
			die("FETCH failed");
		n = respond(t, &f, tr, sizeof(tr));
		if (n <= 0)
			die("terminal response too long");
		sw = apdu(t, INS_TERMINAL_RESPONSE, tr, (size_t)n, -1, &res);
	}
}

static void envelope(struct term *t, const uint8_t *env, int n)
{
	struct apdu_result res;

	if (n <= 0)
		die("envelope too long");
	proactive(t, apdu(t, INS_ENVELOPE, env, (size_t)n, -1, &res));
}

int main(int argc, char **argv)
{
	struct term t = { 0 };
	struct apdu_result res;
	uint8_t buf[255], s[2];
	char *req;
	size_t body = 0;
	SCARDCONTEXT ctx;
	DWORD proto;
	unsigned long a0;
	double t0, dt;
	LONG rv;
	int n;

	if (argc < 4 || (strcmp(argv[2], "get") && strcmp(argv[2], "post")) ||
	    (!strcmp(argv[2], "post") && argc != 5)) {
		fprintf(stderr, "usage: apdu_rate READER get PATH | apdu_rate READER post PATH FILE\n");
		return 2;
	}
	if (!strcmp(argv[2], "post")) {
		FILE *fp = fopen(argv[4], "rb");

		if (!fp || fseek(fp, 0, SEEK_END) || (long)(body = (size_t)ftell(fp)) < 0)
			die("cannot read the body file");
		rewind(fp);
		req = malloc(256 + body);
		if (!req)
			die("out of memory");
		n = snprintf(req, 256, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			     "Content-Length: %zu\r\n\r\n", argv[3], body);
		if (fread(req + n, 1, body, fp) != body)
			die("cannot read the body file");
		fclose(fp);
	} else {
		req = malloc(256);
		if (!req)
			die("out of memory");
		n = snprintf(req, 256, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
			     argv[3]);
	}
	t.req = (const uint8_t *)req;
	t.req_len = (size_t)n + body;

	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv == SCARD_S_SUCCESS)
		rv = SCardConnect(ctx, argv[1], SCARD_SHARE_SHARED,
				  SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &t.h, &proto);
	/* a fresh card, whatever an earlier run left */
	if (rv == SCARD_S_SUCCESS)
		rv = SCardReconnect(t.h, SCARD_SHARE_SHARED,
				    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
				    SCARD_RESET_CARD, &proto);
	if (rv != SCARD_S_SUCCESS)
		die(pcsc_stringify_error(rv));
	t.pci = proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;

	/* the card's start: profile, then its set-up commands */
	n = cat_profile_build(buf, sizeof(buf), CAP_BIT(CAP_MAX) - 1);
	if (n < 0)
		die("profile");
	proactive(&t, apdu(&t, INS_TERMINAL_PROFILE, buf, (size_t)n, -1, &res));
	if (!t.channel)
		die("the card opened no channel");

	a0 = t.apdus;
	t0 = now();
	s[0] = t.channel | BIP_CS_ESTABLISHED;
	s[1] = BIP_CS_NO_INFO;
	envelope(&t, buf, cat_env_channel_status(buf, sizeof(buf), s));
	while (!t.resp_total || t.resp_len < t.resp_total) {
		if (t.req_off < t.req_len && !t.chunk_left) {
			t.chunk_left = t.req_len - t.req_off;
			if (t.chunk_left > t.bufsize)
				t.chunk_left = t.bufsize;
			envelope(&t, buf, cat_env_data_available(buf, sizeof(buf), s,
								 t.chunk_left));
		} else {
			die("the card stopped before the whole response");
		}
	}
	dt = now() - t0;
	s[0] = t.channel;
	s[1] = BIP_CS_LINK_DROPPED;
	envelope(&t, buf, cat_env_channel_status(buf, sizeof(buf), s));
	printf("raw %s %s: %lu APDUs in %.3f s = %.0f APDU/s, %zu bytes, %.1f bytes per APDU\n",
	       argv[2], argv[3], t.apdus - a0, dt, (double)(t.apdus - a0) / dt,
	       t.req_len + t.resp_len, (double)(t.req_len + t.resp_len) /
	       (double)(t.apdus - a0));
	SCardDisconnect(t.h, SCARD_RESET_CARD);
	SCardReleaseContext(ctx);
	free(req);
	return 0;
}
