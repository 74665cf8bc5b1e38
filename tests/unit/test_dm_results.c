/* SPDX-License-Identifier: MIT */
/*
 * The asynchronous Exec results' file (dm/results.h): what is written
 * reads back the same, byte for byte; a file that is damaged, truncated,
 * of another kind or with a field out of its bounds is refused whole.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dm/results.h"

static void fill(struct dm_result *x, enum dm_result_state st,
		 const char *key, unsigned code, const char *data)
{
	memset(x, 0, sizeof(*x));
	x->state = st;
	snprintf(x->key, sizeof(x->key), "%s", key);
	snprintf(x->server_id, sizeof(x->server_id), "DMSRV");
	snprintf(x->uri, sizeof(x->uri), "./Vendor/x/%s", key);
	snprintf(x->correlator, sizeof(x->correlator), "%s",
		 strcmp(key, "k1") ? key : "");
	x->code = code;
	x->attempts = code ? 3 : 0;
	snprintf(x->data, sizeof(x->data), "%s", data);
}

/* Two results, serialised. */
static uint8_t *sample(size_t *len)
{
	struct dm_results r = { 0 };
	struct dm_result x;
	uint8_t *p;

	fill(&x, DM_RES_ACCEPTED, "k1", 0, "");
	assert_int_equal(dm_results_add(&r, &x), 0);
	/* binary-safe: newlines and spaces in a field */
	fill(&x, DM_RES_READY, "k2", 410, "line 1\nline 2 ");
	assert_int_equal(dm_results_add(&r, &x), 0);
	assert_int_equal(dm_results_serialize(&r, &p, len), 0);
	dm_results_clear(&r);
	return p;
}

static void test_round_trip(void **state)
{
	struct dm_results r = { 0 };
	struct dm_result *x;
	uint8_t *p, *q;
	size_t len, qlen;
	char err[128];

	(void)state;
	p = sample(&len);
	assert_int_equal(dm_results_parse(&r, p, len, err, sizeof(err)), 0);
	assert_int_equal(r.n, 2);
	x = dm_results_find(&r, "k2");
	assert_non_null(x);
	assert_int_equal(x->state, DM_RES_READY);
	assert_int_equal(x->code, 410);
	assert_int_equal(x->attempts, 3);
	assert_string_equal(x->data, "line 1\nline 2 ");
	assert_string_equal(x->correlator, "k2");
	x = dm_results_find(&r, "k1");
	assert_int_equal(x->state, DM_RES_ACCEPTED);
	assert_string_equal(x->correlator, "");
	assert_string_equal(x->uri, "./Vendor/x/k1");
	/* one spelling: it serialises to the same bytes */
	assert_int_equal(dm_results_serialize(&r, &q, &qlen), 0);
	assert_int_equal(qlen, len);
	assert_memory_equal(q, p, len);
	/* remove and find */
	dm_results_remove(&r, dm_results_find(&r, "k1"));
	assert_int_equal(r.n, 1);
	assert_null(dm_results_find(&r, "k1"));
	assert_non_null(dm_results_find(&r, "k2"));
	dm_results_clear(&r);
	free(p);
	free(q);
}

static void test_bounds(void **state)
{
	struct dm_results r = { 0 };
	struct dm_result x;

	(void)state;
	fill(&x, DM_RES_ACCEPTED, "k", 0, "");
	assert_int_equal(dm_results_add(&r, &x), 0);
	assert_int_equal(dm_results_add(&r, &x), -EEXIST);
	for (unsigned i = 1; i < DM_RESULTS_MAX; i++) {
		snprintf(x.key, sizeof(x.key), "k%u", i);
		assert_int_equal(dm_results_add(&r, &x), 0);
	}
	snprintf(x.key, sizeof(x.key), "one too many");
	assert_int_equal(dm_results_add(&r, &x), -ENOSPC);
	dm_results_clear(&r);
}

/* Each damage is refused with its reason, and r is left empty. */
static void refused(const char *text, const char *why)
{
	struct dm_results r = { 0 };
	char err[128] = "";

	assert_int_equal(dm_results_parse(&r, (const uint8_t *)text,
					  strlen(text), err, sizeof(err)),
			 -EBADMSG);
	assert_int_equal(r.n, 0);
	assert_non_null(strstr(err, why));
}

static void test_damaged(void **state)
{
	uint8_t *p;
	size_t len;
	char *s;

	(void)state;
	p = sample(&len);
	s = malloc(len + 1);
	assert_non_null(s);
	memcpy(s, p, len);
	s[len] = '\0';
	/* one byte changed: the checksum says so */
	s[30] ^= 1;
	refused(s, "checksum mismatch");
	s[30] ^= 1;
	/* cut short */
	s[len - 10] = '\0';
	refused(s, "no checksum line");
	refused("dmscgw-tree 1\nend 0\n", "file too short");
	refused("dmscgw-exec-results 9\nend 0\nsha256 "
		"0000000000000000000000000000000000000000000000000000000000000000\n",
		"unsupported format version");
	refused("dmscgw-tree 1\nnode 1:. node 0 1 0 0: 11:Add=*&Get=* 0: 0:\n"
		"end 1\nsha256 0000000000000000000000000000000000000000000000"
		"000000000000000000\n", "not a dmscgw results file");
	free(s);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_damaged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
