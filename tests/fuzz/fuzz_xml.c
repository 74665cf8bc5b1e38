/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the SyncML XML decoder.  Whatever decodes is encoded
 * to WBXML and decoded again, which must succeed, then written back as XML,
 * which must decode to the same canonical XML.  A failure to decode is a
 * status code, never a crash; a mismatch is a codec bug (abort()).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "syncml/syncml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf x1 = { 0 }, wb = { 0 }, x2 = { 0 };
	struct syncml_msg *m = NULL, *m2 = NULL;
	struct syncml_error err;
	int r;

	r = syncml_parse_xml((const char *)data, size, &m, &err);
	if (r != 0) {
		CHECK(m == NULL);
		CHECK(err.status >= 400 && err.status <= 599);
		return 0;
	}
	CHECK(syncml_encode(m, SYNCML_WBXML, &wb) == 0);
	CHECK(syncml_parse_wbxml(wb.p, wb.len, &m2, &err) == 0);
	/* Text from XML is always XML text again. */
	CHECK(syncml_encode(m, SYNCML_XML, &x1) == 0);
	CHECK(syncml_encode(m2, SYNCML_XML, &x2) == 0);
	CHECK(x1.len == x2.len && memcmp(x1.p, x2.p, x1.len) == 0);
	syncml_msg_free(m);
	syncml_msg_free(m2);
	buf_free(&x1);
	buf_free(&x2);
	buf_free(&wb);
	return 0;
}
