/* SPDX-License-Identifier: MIT */
/*
 * D-Bus values as a tree, and their two printed forms (see value.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/value.h"

/* Containers nest at most 64 deep in D-Bus; this bounds the recursion. */
#define VALUE_MAX_DEPTH 64

static int value_read_depth(sd_bus_message *m, struct value *v, unsigned depth);

static int value_read_basic(sd_bus_message *m, char type, struct value *v)
{
	union {
		const char *s;
		int b;
		uint8_t y;
		int16_t n;
		uint16_t q;
		int32_t i;
		uint32_t u;
		int64_t x;
		uint64_t t;
		double d;
	} x;
	int r = sd_bus_message_read_basic(m, type, &x);

	if (r < 0)
		return r;
	if (r == 0)
		return -EBADMSG;
	switch (type) {
	case 's':
	case 'g':
	case 'o':
		v->kind = type == 'o' ? VALUE_PATH : VALUE_STRING;
		v->str = strdup(x.s);
		return v->str ? 0 : -ENOMEM;
	case 'b':
		v->kind = VALUE_BOOL;
		v->b = x.b != 0;
		return 0;
	case 'y':
		v->kind = VALUE_UINT;
		v->u = x.y;
		return 0;
	case 'q':
		v->kind = VALUE_UINT;
		v->u = x.q;
		return 0;
	case 'u':
		v->kind = VALUE_UINT;
		v->u = x.u;
		return 0;
	case 't':
		v->kind = VALUE_UINT;
		v->u = x.t;
		return 0;
	case 'n':
		v->kind = VALUE_INT;
		v->i = x.n;
		return 0;
	case 'i':
	case 'h':	/* a file descriptor: its number is all we can show */
		v->kind = VALUE_INT;
		v->i = x.i;
		return 0;
	case 'x':
		v->kind = VALUE_INT;
		v->i = x.x;
		return 0;
	case 'd':
		v->kind = VALUE_DOUBLE;
		v->d = x.d;
		return 0;
	}
	return -EBADMSG;
}

/* The items of the container m is in, up to its end. */
static int value_read_items(sd_bus_message *m, struct value *v, unsigned depth)
{
	size_t cap = 0;
	int r;

	while ((r = sd_bus_message_at_end(m, 0)) == 0) {
		if (v->n == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct value *p = realloc(v->items, ncap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			v->items = p;
			cap = ncap;
		}
		memset(&v->items[v->n], 0, sizeof(v->items[v->n]));
		r = value_read_depth(m, &v->items[v->n], depth + 1);
		if (r < 0)
			return r;
		v->n++;
	}
	return r < 0 ? r : 0;
}

static int value_read_dict(sd_bus_message *m, struct value *v,
			   const char *entry, unsigned depth)
{
	size_t cap = 0;
	int r;

	v->kind = VALUE_DICT;
	while ((r = sd_bus_message_enter_container(m, 'e', entry)) > 0) {
		if (v->n + 2 > cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct value *p = realloc(v->items, ncap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			v->items = p;
			cap = ncap;
		}
		memset(&v->items[v->n], 0, 2 * sizeof(v->items[0]));
		r = value_read_depth(m, &v->items[v->n], depth + 1);
		if (r < 0)
			return r;
		v->n++;
		r = value_read_depth(m, &v->items[v->n], depth + 1);
		if (r < 0)
			return r;
		v->n++;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	return r;
}

static int value_read_container(sd_bus_message *m, char type,
				const char *contents, struct value *v,
				unsigned depth)
{
	const void *p;
	size_t len;
	int r;

	if (type == 'a' && !strcmp(contents, "y")) {
		r = sd_bus_message_read_array(m, 'y', &p, &len);
		if (r < 0)
			return r;
		v->kind = VALUE_BYTES;
		v->bytes.len = len;
		v->bytes.p = malloc(len ? len : 1);
		if (!v->bytes.p)
			return -ENOMEM;
		if (len)
			memcpy(v->bytes.p, p, len);
		return 0;
	}
	r = sd_bus_message_enter_container(m, type, contents);
	if (r < 0)
		return r;
	if (type == 'v') {
		r = value_read_depth(m, v, depth + 1);
	} else if (type == 'a' && contents[0] == '{') {
		char entry[256];
		size_t n = strlen(contents);

		/* "{sv}" -> "sv": the signature enter_container wants for 'e' */
		if (n < 4 || n - 2 >= sizeof(entry))
			return -EBADMSG;
		memcpy(entry, contents + 1, n - 2);
		entry[n - 2] = '\0';
		r = value_read_dict(m, v, entry, depth);
	} else {
		v->kind = type == 'a' ? VALUE_ARRAY : VALUE_STRUCT;
		r = value_read_items(m, v, depth);
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int value_read_depth(sd_bus_message *m, struct value *v, unsigned depth)
{
	const char *contents;
	char type;
	int r;

	if (depth > VALUE_MAX_DEPTH)
		return -EBADMSG;
	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0)
		return r;
	if (r == 0)
		return -EBADMSG;
	if (type == 'a' || type == 'v' || type == 'r')
		r = value_read_container(m, type, contents, v, depth);
	else
		r = value_read_basic(m, type, v);
	if (r < 0)
		value_clear(v);	/* what was read so far, freed at its own level */
	return r;
}

int value_read(sd_bus_message *m, struct value *v)
{
	memset(v, 0, sizeof(*v));
	return value_read_depth(m, v, 0);
}

void value_clear(struct value *v)
{
	if (!v)
		return;
	switch (v->kind) {
	case VALUE_STRING:
	case VALUE_PATH:
		free(v->str);
		break;
	case VALUE_BYTES:
		free(v->bytes.p);
		break;
	default:
		break;
	}
	for (size_t i = 0; i < v->n; i++)
		value_clear(&v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

const struct value *value_get(const struct value *dict, const char *key)
{
	if (!dict || dict->kind != VALUE_DICT)
		return NULL;
	for (size_t i = 0; i + 1 < dict->n; i += 2)
		if (dict->items[i].kind == VALUE_STRING &&
		    !strcmp(dict->items[i].str, key))
			return &dict->items[i + 1];
	return NULL;
}

void hex_print(FILE *f, const uint8_t *p, size_t len, const char *sep)
{
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%s%02X", i && sep ? sep : "", p[i]);
}

/*
 * A string in double quotes: JSON (RFC 8259 section 7; D-Bus strings are
 * valid UTF-8, so the rest passes) or C-style for the text output, which
 * differ only in how other control characters are written.
 */
static void escaped_string(FILE *f, const char *s, bool json)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			if (json) {
				fputs("\\r", f);
				break;
			}
			/* fall through */
		default:
			if (c < 0x20 || c == 0x7F)
				fprintf(f, json ? "\\u%04x" : "\\x%02x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

void json_string(FILE *f, const char *s)
{
	escaped_string(f, s, true);
}

void quoted_string(FILE *f, const char *s)
{
	escaped_string(f, s, false);
}

static void value_json_key(FILE *f, const struct value *k)
{
	/* JSON keys are strings: show a number key as its digits */
	if (k->kind == VALUE_STRING || k->kind == VALUE_PATH) {
		json_string(f, k->str);
		return;
	}
	fputc('"', f);
	value_brief(f, k);
	fputc('"', f);
}

void value_json(FILE *f, const struct value *v)
{
	switch (v->kind) {
	case VALUE_STRING:
	case VALUE_PATH:
		json_string(f, v->str);
		break;
	case VALUE_BOOL:
		fputs(v->b ? "true" : "false", f);
		break;
	case VALUE_INT:
		fprintf(f, "%" PRId64, v->i);
		break;
	case VALUE_UINT:
		fprintf(f, "%" PRIu64, v->u);
		break;
	case VALUE_DOUBLE:
		if (isfinite(v->d))
			fprintf(f, "%.17g", v->d);
		else
			fputs("null", f);
		break;
	case VALUE_BYTES:
		fputc('"', f);
		hex_print(f, v->bytes.p, v->bytes.len, NULL);
		fputc('"', f);
		break;
	case VALUE_ARRAY:
	case VALUE_STRUCT:
		fputc('[', f);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			value_json(f, &v->items[i]);
		}
		fputc(']', f);
		break;
	case VALUE_DICT:
		fputc('{', f);
		for (size_t i = 0; i + 1 < v->n; i += 2) {
			if (i)
				fputc(',', f);
			value_json_key(f, &v->items[i]);
			fputc(':', f);
			value_json(f, &v->items[i + 1]);
		}
		fputc('}', f);
		break;
	}
}

void value_json_fields(FILE *f, const struct value *st,
		       const char *const *keys, size_t nkeys)
{
	fputc('{', f);
	for (size_t k = 0; k < st->n && k < nkeys; k++) {
		if (k)
			fputc(',', f);
		json_string(f, keys[k]);
		fputc(':', f);
		value_json(f, &st->items[k]);
	}
	fputc('}', f);
}

void value_brief(FILE *f, const struct value *v)
{
	switch (v->kind) {
	case VALUE_STRING:
		quoted_string(f, v->str);
		break;
	case VALUE_PATH:
		fputs(v->str, f);
		break;
	case VALUE_BOOL:
		fputs(v->b ? "yes" : "no", f);
		break;
	case VALUE_INT:
		fprintf(f, "%" PRId64, v->i);
		break;
	case VALUE_UINT:
		fprintf(f, "%" PRIu64, v->u);
		break;
	case VALUE_DOUBLE:
		fprintf(f, "%g", v->d);
		break;
	case VALUE_BYTES:
		hex_print(f, v->bytes.p, v->bytes.len, NULL);
		break;
	case VALUE_ARRAY:
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			value_brief(f, &v->items[i]);
		}
		break;
	case VALUE_STRUCT:
		fputc('(', f);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			value_brief(f, &v->items[i]);
		}
		fputc(')', f);
		break;
	case VALUE_DICT:
		for (size_t i = 0; i + 1 < v->n; i += 2) {
			if (i)
				fputc(',', f);
			value_brief(f, &v->items[i]);
			fputc('=', f);
			value_brief(f, &v->items[i + 1]);
		}
		break;
	}
}
