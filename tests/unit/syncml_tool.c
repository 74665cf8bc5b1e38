/* SPDX-License-Identifier: MIT */
/*
 * syncml_tool: the SyncML codecs from the command line, for the WBXML
 * interoperability test (tests/integration/wbxml_interop.sh).
 *
 *   syncml_tool xml2wbxml IN OUT   XML in, our WBXML out
 *   syncml_tool wbxml2xml IN OUT   WBXML in, our canonical XML out
 *   syncml_tool canon IN           XML or WBXML in, canonical XML on stdout
 *
 * "-" is stdin or stdout.  A decoding error prints "status S: line:col: text"
 * on stderr and exits 1; usage errors exit 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncml/syncml.h"
#include "slurp.h"

static int
spill(const char *path, const struct buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");

	if (f == NULL)
		return -errno;
	if (fwrite(b->p, 1, b->len, f) != b->len)
		return -EIO;
	if (f == stdout)
		return fflush(f) == 0 ? 0 : -errno;
	return fclose(f) == 0 ? 0 : -errno;
}

/* XML starts with '<' (after a BOM or whitespace); WBXML with its version. */
static enum syncml_format
sniff(const uint8_t *p, size_t len)
{
	size_t i = 0;

	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		i = 3;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
			   p[i] == '\n'))
		i++;
	return i < len && p[i] == '<' ? SYNCML_XML : SYNCML_WBXML;
}

int
main(int argc, char **argv)
{
	struct buf out = { 0 };
	struct syncml_error err;
	struct syncml_msg *msg;
	enum syncml_format in_fmt, out_fmt;
	const char *dst;
	uint8_t *in = NULL;
	size_t len = 0;
	int r;

	if (argc == 4 && strcmp(argv[1], "xml2wbxml") == 0) {
		in_fmt = SYNCML_XML;
		out_fmt = SYNCML_WBXML;
		dst = argv[3];
	} else if (argc == 4 && strcmp(argv[1], "wbxml2xml") == 0) {
		in_fmt = SYNCML_WBXML;
		out_fmt = SYNCML_XML;
		dst = argv[3];
	} else if (argc == 3 && strcmp(argv[1], "canon") == 0) {
		in_fmt = SYNCML_XML;	/* sniffed below */
		out_fmt = SYNCML_XML;
		dst = "-";
	} else {
		fprintf(stderr, "usage: syncml_tool xml2wbxml|wbxml2xml IN OUT\n"
				"       syncml_tool canon IN\n");
		return 2;
	}
	if ((r = slurp(argv[2], &in, &len)) < 0) {
		fprintf(stderr, "syncml_tool: %s: %s\n", argv[2], strerror(-r));
		return 1;
	}
	if (strcmp(argv[1], "canon") == 0)
		in_fmt = sniff(in, len);
	r = syncml_parse(in_fmt, in, len, &msg, &err);
	free(in);
	if (r < 0) {
		fprintf(stderr, "syncml_tool: %s: status %d: %s\n", argv[2],
			err.status, err.text);
		return 1;
	}
	r = syncml_encode(msg, out_fmt, &out);
	syncml_msg_free(msg);
	if (r == 0 && out_fmt == SYNCML_XML)
		buf_put(&out, "\n", 1);
	if (r == 0 && out.failed)
		r = -ENOMEM;
	if (r == 0)
		r = spill(dst, &out);
	buf_free(&out);
	if (r < 0) {
		fprintf(stderr, "syncml_tool: %s: %s\n", dst, strerror(-r));
		return 1;
	}
	return 0;
}
