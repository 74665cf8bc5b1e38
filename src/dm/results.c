/* SPDX-License-Identifier: MIT */
/*
 * The asynchronous Exec results: the list and its file (results.h).  Every
 * field is bounded when read, and a file is taken whole or not at all.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dm/file.h"
#include "dm/results.h"
#include "util/errbuf.h"

#define FILE_MAGIC	"dmscgw-exec-results 1\n"
#define FILE_FAMILY	"dmscgw-exec-results "
#define FILE_MAX	((size_t)4 << 20)

int dm_results_add(struct dm_results *r, const struct dm_result *x)
{
	struct dm_result *v;

	if (dm_results_find(r, x->key))
		return -EEXIST;
	if (r->n >= DM_RESULTS_MAX)
		return -ENOSPC;
	if (!(v = realloc(r->v, (r->n + 1) * sizeof(*v))))
		return -ENOMEM;
	r->v = v;
	r->v[r->n++] = *x;
	return 0;
}

struct dm_result *dm_results_find(struct dm_results *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].key, key))
			return &r->v[i];
	return NULL;
}

void dm_results_remove(struct dm_results *r, struct dm_result *x)
{
	size_t i = (size_t)(x - r->v);

	memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof(*x));
	r->n--;
}

void dm_results_clear(struct dm_results *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static void put_text(struct buf *b, const char *s)
{
	dm_file_put_field(b, s, strlen(s));
}

int dm_results_serialize(const struct dm_results *r, uint8_t **out,
			 size_t *len)
{
	struct buf b;

	buf_init(&b, FILE_MAX);
	buf_put(&b, FILE_MAGIC, strlen(FILE_MAGIC));
	for (size_t i = 0; i < r->n; i++) {
		const struct dm_result *x = &r->v[i];

		buf_printf(&b, "%s", x->state == DM_RES_READY ? "ready" :
						       "accepted");
		put_text(&b, x->key);
		put_text(&b, x->server_id);
		put_text(&b, x->uri);
		put_text(&b, x->correlator);
		if (x->state == DM_RES_READY) {
			buf_printf(&b, " %u %u", x->code, x->attempts);
			put_text(&b, x->data);
		}
		buf_put(&b, "\n", 1);
	}
	buf_printf(&b, "end %zu\n", r->n);
	dm_file_seal(&b);
	if (!buf_ok(&b)) {
		buf_free(&b);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* One record after its state word; false with rd->why. */
static bool parse_record(struct dm_file_rd *rd, struct dm_result *x)
{
	uint64_t code, attempts;
	bool ready = x->state == DM_RES_READY;
	char last = ready ? ' ' : '\n';

	if (!dm_file_text(rd, DM_RESULT_KEY_MAX, x->key, ' ') ||
	    !dm_file_text(rd, sizeof(x->server_id) - 1, x->server_id, ' ') ||
	    !dm_file_text(rd, DM_TREE_MAX_URI, x->uri, ' ') ||
	    !dm_file_text(rd, DM_RESULT_CORR_MAX, x->correlator, last))
		return false;
	if (!*x->key || !*x->server_id || !*x->uri)
		return dm_file_fail(rd, "empty key, server or URI");
	if (!ready)
		return true;
	if (!dm_file_num(rd, 999, &code, ' ') ||
	    !dm_file_num(rd, UINT16_MAX, &attempts, ' ') ||
	    !dm_file_text(rd, DM_RESULT_DATA_MAX, x->data, '\n'))
		return false;
	if (code < 100)
		return dm_file_fail(rd, "result code out of range");
	x->code = (unsigned)code;
	x->attempts = (unsigned)attempts;
	return true;
}

static bool parse_body(struct dm_results *r, struct dm_file_rd *rd)
{
	struct dm_result x;
	uint64_t count;
	uint8_t first;
	int e;

	while (cursor_peek_u8(&rd->c, &first) && first != 'e') {
		memset(&x, 0, sizeof(x));
		if (first == 'r' && dm_file_lit(rd, "ready "))
			x.state = DM_RES_READY;
		else if (!dm_file_lit(rd, "accepted "))
			return false;
		if (!parse_record(rd, &x))
			return false;
		if ((e = dm_results_add(r, &x)) < 0)
			return dm_file_fail(rd, e == -EEXIST ? "key twice" :
					    e == -ENOSPC ? "too many results" :
					    "out of memory");
	}
	if (!dm_file_lit(rd, "end ") || !dm_file_num(rd, DM_RESULTS_MAX,
						    &count, '\n'))
		return false;
	if (count != r->n)
		return dm_file_fail(rd, "count mismatch");
	if (!cursor_end(&rd->c))
		return dm_file_fail(rd, "data after the end line");
	return true;
}

int dm_results_parse(struct dm_results *r, const uint8_t *p, size_t len,
		     char *err, size_t errlen)
{
	struct dm_file_rd rd;

	dm_results_clear(r);
	dm_file_rd_init(&rd, p, len);
	if (dm_file_begin(&rd, FILE_MAGIC, FILE_FAMILY,
			  "not a dmscgw results file") && parse_body(r, &rd))
		return 0;
	errbuf_set(err, errlen, "%s at byte %zu", rd.why ? rd.why : "malformed",
		   (size_t)(rd.c.pos - rd.base));
	dm_results_clear(r);
	return !strcmp(rd.why ? rd.why : "", "out of memory") ? -ENOMEM :
								-EBADMSG;
}
