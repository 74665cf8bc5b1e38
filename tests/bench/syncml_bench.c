/* SPDX-License-Identifier: MIT */
/*
 * SyncML codec speed: a 100-command message (Replace, Add, Get and Status
 * in turn, as a DM client's answer to a busy server package looks), encoded
 * and decoded in XML and in WBXML, ITERATIONS times each.
 * Usage: syncml_bench [ITERATIONS]   (default 2000)
 * Prints e.g. "xml encode: 41.2 µs/msg (230.1 MB/s)" for the four
 * operations; MB/s counts the encoded message's bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "syncml/syncml.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "syncml_bench: %s\n", what);
	exit(1);
}

static struct syncml_msg *
build(void)
{
	struct syncml_msg *m = syncml_msg_new();
	struct syncml_cmd *c;
	struct syncml_item *it;
	char id[24], uri[64], val[64];
	int i, k;

	if (m == NULL)
		die("out of memory");
	m->hdr.session_id = syncml_strdup(m, "1A2B");
	m->hdr.msg_id = syncml_strdup(m, "3");
	m->hdr.target.uri = syncml_strdup(m, "https://127.0.0.1:4116/OMA/DM");
	m->hdr.source.uri = syncml_strdup(m, "IMEI:493005100592800");
	m->hdr.meta.has = SYNCML_META_MAXMSG;
	m->hdr.meta.max_msg_size = 65536;
	for (i = 0; i < 100; i++) {
		static const enum syncml_cmd_type kinds[] = {
			SYNCML_REPLACE, SYNCML_ADD, SYNCML_GET, SYNCML_STATUS,
		};
		snprintf(id, sizeof(id), "%d", i + 1);
		snprintf(uri, sizeof(uri), "./Vendor/Settings/Node%d/Value", i);
		snprintf(val, sizeof(val), "value <%d> & some payload text", i);
		c = syncml_cmd_add(m, NULL, kinds[i % 4], id);
		if (c == NULL)
			die("out of memory");
		if (c->type == SYNCML_STATUS) {
			c->msg_ref = syncml_strdup(m, "2");
			c->cmd_ref = syncml_strdup(m, id);
			c->cmd = syncml_strdup(m, "Replace");
			c->target_ref = syncml_strdup(m, uri);
			c->code = 200;
			continue;
		}
		for (k = 0; k < (c->type == SYNCML_GET ? 1 : 2); k++) {
			if ((it = syncml_item_add(m, c)) == NULL)
				die("out of memory");
			it->target.uri = syncml_strdup(m, uri);
			if (c->type == SYNCML_GET)
				continue;
			it->meta.format = syncml_strdup(m, "chr");
			it->meta.type = syncml_strdup(m, "text/plain");
			if (syncml_set_data(m, &it->data, val, strlen(val),
					    false) < 0)
				die("out of memory");
		}
	}
	m->final = true;
	return m;
}

static void
bench(const char *name, const struct syncml_msg *m, enum syncml_format f,
      long iters)
{
	struct buf b = { 0 };
	struct syncml_msg *d;
	struct syncml_error err;
	double t0, enc, dec;
	size_t len;
	long i;

	t0 = now();
	for (i = 0; i < iters; i++) {
		b.len = 0;
		if (syncml_encode(m, f, &b) != 0)
			die("encode failed");
	}
	enc = (now() - t0) / (double)iters;
	len = b.len;
	t0 = now();
	for (i = 0; i < iters; i++) {
		if (syncml_parse(f, b.p, b.len, &d, &err) != 0)
			die(err.text);
		syncml_msg_free(d);
	}
	dec = (now() - t0) / (double)iters;
	printf("%s encode: %.1f \xc2\xb5s/msg (%.1f MB/s), %zu bytes\n", name,
	       enc * 1e6, (double)len / enc / 1e6, len);
	printf("%s decode: %.1f \xc2\xb5s/msg (%.1f MB/s)\n", name, dec * 1e6,
	       (double)len / dec / 1e6);
	buf_free(&b);
}

int
main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
	struct syncml_msg *m;

	if (iters <= 0)
		die("usage: syncml_bench [ITERATIONS]");
	m = build();
	printf("100 commands (Replace, Add, Get, Status), %ld iterations\n",
	       iters);
	bench("xml", m, SYNCML_XML, iters);
	bench("wbxml", m, SYNCML_WBXML, iters);
	syncml_msg_free(m);
	return 0;
}
