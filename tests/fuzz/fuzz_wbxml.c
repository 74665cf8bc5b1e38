/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the SyncML WBXML decoder.  Whatever decodes is
 * re-encoded as WBXML, which must decode again and encode to the same bytes;
 * it is also written as XML, which may fail (-EINVAL: binary Data has no XML
 * form) but, when it succeeds, must decode.  A mismatch is a codec bug
 * (abort()).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "syncml/syncml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf w1 = { 0 }, w2 = { 0 }, x = { 0 };
	struct syncml_msg *m = NULL, *m2 = NULL, *m3 = NULL;
	struct syncml_cursor cur = { 0, 0 };
	struct syncml_error err;
	bool done = false;
	int r, n = 0;

	r = syncml_parse_wbxml(data, size, &m, &err);
	if (r != 0) {
		CHECK(m == NULL);
		CHECK(err.status >= 400 && err.status <= 599);
		return 0;
	}
	CHECK(syncml_encode(m, SYNCML_WBXML, &w1) == 0);
	CHECK(syncml_parse_wbxml(w1.p, w1.len, &m2, &err) == 0);
	CHECK(syncml_encode(m2, SYNCML_WBXML, &w2) == 0);
	CHECK(w1.len == w2.len && memcmp(w1.p, w2.p, w1.len) == 0);
	r = syncml_encode(m, SYNCML_XML, &x);
	CHECK(r == 0 || r == -EINVAL);
	if (r == 0) {
		CHECK(syncml_parse_xml((const char *)x.p, x.len, &m3, &err) ==
		      0);
		syncml_msg_free(m3);
	}
	/* Splitting never exceeds its bound and always terminates. */
	while (!done && n++ < 64) {
		w2.len = 0;
		r = syncml_encode_split(m, SYNCML_WBXML, w1.len / 2 + 64, &cur,
					&w2, &done);
		if (r != 0)
			break;
		CHECK(w2.len <= w1.len / 2 + 64);
	}
	syncml_msg_free(m);
	syncml_msg_free(m2);
	buf_free(&w1);
	buf_free(&w2);
	buf_free(&x);
	return 0;
}
