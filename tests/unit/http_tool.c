/* SPDX-License-Identifier: MIT */
/*
 * http_tool: one dm_http POST from the command line, for the transport
 * interoperability test (tests/integration/tls_interop.sh).
 *
 *   http_tool [--psk-identity ID --psk HEX | --ca FILE
 *              [--cert FILE --key FILE]] [--timeout S] [--type CT]
 *             [--hmac HDR] [--count N] [--out FILE | --hex] [-d]
 *             URL FILE|-
 *
 * https without --psk verifies the server's certificate against --ca, or
 * the system store (which SSL_CERT_FILE moves), and offers --cert.
 *
 * POSTs FILE's bytes (N times in a row, on one kept-alive connection when
 * the server allows it) and prints, per answer, "status NNN" and
 * "content-type CT" (and "hmac HDR" when the server sent one) on stdout.
 * The bodies go to --out FILE, one after the other, or as hex lines to
 * stdout with --hex.  Exit 0 when every post got an answer, whatever its
 * status; 1 with "http_tool: MSG" on stderr on an error; 2 on usage.
 * -d logs the dm module's debug lines on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dm/http.h"
#include "dm/tls.h"
#include "log.h"
#include "util/hex.h"
#include "slurp.h"

struct run {
	struct event_base *base;
	struct dm_http *h;
	const char *type, *hmac;
	const uint8_t *body;
	size_t len;
	unsigned left;
	FILE *out;
	bool hex;
	int rc;
};

static void print_body(struct run *r, const struct dm_http_response *resp)
{
	char line[2 * 32 + 1];

	if (r->out) {
		if (fwrite(resp->body, 1, resp->len, r->out) != resp->len)
			r->rc = 1;
		return;
	}
	if (!r->hex)
		return;
	for (size_t i = 0; i < resp->len; i += 32) {
		size_t n = resp->len - i < 32 ? resp->len - i : 32;

		printf("%s\n", hex_encode(line, resp->body + i, n));
	}
}

static void post_next(struct run *r);

static void answered(void *arg, int err, const char *msg,
		     const struct dm_http_response *resp)
{
	struct run *r = arg;

	if (err) {
		fprintf(stderr, "http_tool: %s\n", msg);
		r->rc = 1;
		event_base_loopbreak(r->base);
		return;
	}
	printf("status %d\n", resp->status);
	printf("content-type %s\n", resp->content_type);
	if (resp->hmac)
		printf("hmac %s\n", resp->hmac);
	print_body(r, resp);
	fflush(stdout);
	if (--r->left == 0)
		event_base_loopbreak(r->base);
	else
		post_next(r);	/* from the callback, as dm_session does */
}

static void post_next(struct run *r)
{
	int e = dm_http_post(r->h, r->type, r->hmac, r->body, r->len,
			     answered, r);

	if (e < 0) {
		fprintf(stderr, "http_tool: cannot post: %s\n", strerror(-e));
		r->rc = 1;
		event_base_loopbreak(r->base);
	}
}

static int usage(void)
{
	fprintf(stderr,
		"usage: http_tool [--psk-identity ID --psk HEX | --ca FILE\n"
		"                 [--cert FILE --key FILE]] [--timeout S]\n"
		"                 [--type CT] [--hmac HDR] [--count N]\n"
		"                 [--out FILE | --hex] [-d] URL FILE|-\n");
	return 2;
}

enum { O_IDENT = 256, O_PSK, O_TIMEOUT, O_TYPE, O_HMAC, O_COUNT, O_OUT,
       O_HEX, O_CA, O_CERT, O_KEY };

static const struct option longopts[] = {
	{ "psk-identity", required_argument, NULL, O_IDENT },
	{ "psk", required_argument, NULL, O_PSK },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "type", required_argument, NULL, O_TYPE },
	{ "hmac", required_argument, NULL, O_HMAC },
	{ "count", required_argument, NULL, O_COUNT },
	{ "out", required_argument, NULL, O_OUT },
	{ "hex", no_argument, NULL, O_HEX },
	{ "ca", required_argument, NULL, O_CA },
	{ "cert", required_argument, NULL, O_CERT },
	{ "key", required_argument, NULL, O_KEY },
	{ "debug", no_argument, NULL, 'd' },
	{ NULL, 0, NULL, 0 },
};

static int number(const char *s, unsigned *v)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);

	if (!*s || *end || n > 100000)
		return -1;
	*v = (unsigned)n;
	return 0;
}

int main(int argc, char **argv)
{
	struct run r = { .type = "application/vnd.syncml.dm+xml", .left = 1 };
	struct dm_http_opts o = { 0 };
	struct dm_tls_trust tr = { .ca_file = "" };
	uint8_t psk[DM_HTTP_PSK_MAX], *in = NULL;
	const char *out = NULL;
	char err[256];
	int c, n;

	while ((c = getopt_long(argc, argv, "d", longopts, NULL)) != -1) {
		switch (c) {
		case O_IDENT:
			o.psk_identity = optarg;
			break;
		case O_PSK:
			if ((n = hex_decode(psk, sizeof(psk), optarg)) <= 0)
				return usage();
			o.psk = psk;
			o.psk_len = (size_t)n;
			break;
		case O_TIMEOUT:
			if (number(optarg, &o.timeout) < 0)
				return usage();
			break;
		case O_TYPE:
			r.type = optarg;
			break;
		case O_HMAC:
			r.hmac = optarg;
			break;
		case O_COUNT:
			if (number(optarg, &r.left) < 0 || r.left == 0)
				return usage();
			break;
		case O_OUT:
			out = optarg;
			break;
		case O_HEX:
			r.hex = true;
			break;
		case O_CA:
			snprintf(tr.ca_file, sizeof(tr.ca_file), "%s", optarg);
			break;
		case O_CERT:
			snprintf(tr.client_cert, sizeof(tr.client_cert), "%s",
				 optarg);
			break;
		case O_KEY:
			snprintf(tr.client_key, sizeof(tr.client_key), "%s",
				 optarg);
			break;
		case 'd':
			log_set_debug("dm", 1, NULL);
			break;
		default:
			return usage();
		}
	}
	if (argc - optind != 2 || (out && r.hex))
		return usage();
	o.trust = &tr;
	log_init("http_tool");
	log_set_target(LOG_TO_STDERR);
	/* a peer closing on us must be an error, not a signal */
	signal(SIGPIPE, SIG_IGN);

	if ((n = slurp(argv[optind + 1], &in, &r.len)) < 0) {
		fprintf(stderr, "http_tool: %s: %s\n", argv[optind + 1],
			strerror(-n));
		return 1;
	}
	r.body = in;
	if (out && (r.out = fopen(out, "wb")) == NULL) {
		fprintf(stderr, "http_tool: %s: %s\n", out, strerror(errno));
		free(in);
		return 1;
	}
	if ((r.base = event_base_new()) == NULL) {
		fprintf(stderr, "http_tool: cannot create an event base\n");
		return 1;
	}
	r.h = dm_http_new(r.base, argv[optind], &o, err, sizeof(err));
	if (!r.h) {
		fprintf(stderr, "http_tool: %s\n", err);
		r.rc = 1;
	} else {
		post_next(&r);
		if (!r.rc)
			event_base_dispatch(r.base);
		dm_http_free(r.h);
	}
	event_base_free(r.base);
	if (r.out && fclose(r.out) != 0)
		r.rc = 1;
	free(in);
	return r.rc;
}
