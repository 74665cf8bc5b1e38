/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the asynchronous Exec results' file
 * (<state_dir>/exec-results, dm/results.h), which the daemon reads at
 * start-up.  Besides the sanitizers, with abort(): the parser answers
 * only 0 or -EBADMSG (-ENOMEM aside) and leaves nothing behind when it
 * refuses; what it takes is within its bounds, serialises, parses back
 * to the same results and serialises to the same bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dm_results r = { 0 }, back = { 0 };
	uint8_t *p, *q;
	size_t len, qlen;
	char err[160];
	int e = dm_results_parse(&r, data, size, err, sizeof(err));

	CHECK(e == 0 || e == -EBADMSG || e == -ENOMEM);
	if (e < 0) {
		CHECK(r.n == 0 && r.v == NULL);
		return 0;
	}
	CHECK(r.n <= DM_RESULTS_MAX);
	for (size_t i = 0; i < r.n; i++) {
		const struct dm_result *x = &r.v[i];

		CHECK(*x->key && *x->server_id && *x->uri);
		CHECK(x->state == DM_RES_ACCEPTED ||
		      (x->code >= 100 && x->code <= 999));
	}
	CHECK(dm_results_serialize(&r, &p, &len) == 0);
	CHECK(dm_results_parse(&back, p, len, err, sizeof(err)) == 0);
	CHECK(back.n == r.n);
	CHECK(dm_results_serialize(&back, &q, &qlen) == 0);
	CHECK(qlen == len && !memcmp(p, q, len));
	free(p);
	free(q);
	dm_results_clear(&r);
	dm_results_clear(&back);
	return 0;
}
