/* SPDX-License-Identifier: MIT */
/*
 * D-Bus values read into a small tree, so that one reader serves every
 * verb and two printers (JSON, and the brief key=value form of monitor)
 * serve every value.  Variants are unwrapped; "ay" becomes VALUE_BYTES,
 * which both printers show as hex.
 */
#ifndef DMSCGWCTL_VALUE_H
#define DMSCGWCTL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <systemd/sd-bus.h>

enum value_kind {
	VALUE_STRING,		/* s, g */
	VALUE_PATH,		/* o */
	VALUE_BOOL,		/* b */
	VALUE_INT,		/* n i x h */
	VALUE_UINT,		/* y q u t */
	VALUE_DOUBLE,		/* d */
	VALUE_BYTES,		/* ay */
	VALUE_ARRAY,		/* a, items */
	VALUE_STRUCT,		/* r, items */
	VALUE_DICT,		/* a{}, items are key, value, key, value... */
};

struct value {
	enum value_kind kind;
	union {
		char *str;
		bool b;
		int64_t i;
		uint64_t u;
		double d;
		struct {
			uint8_t *p;
			size_t len;
		} bytes;
	};
	struct value *items;	/* ARRAY, STRUCT, DICT */
	size_t n;
};

/*
 * Read the next complete value of m into v.  Returns 0, or a negative errno
 * (-EBADMSG at the end of a container); v is left empty on error.
 */
int value_read(sd_bus_message *m, struct value *v);
/* Free what v owns (not v itself) and zero it; NULL is fine. */
void value_clear(struct value *v);

/* The value of key in a VALUE_DICT with string keys, or NULL. */
const struct value *value_get(const struct value *dict, const char *key);

/* JSON: strings escaped, bytes as an upper-case hex string, dicts as objects. */
void value_json(FILE *f, const struct value *v);
/* A struct's items as one JSON object, named by keys (items past them left out). */
void value_json_fields(FILE *f, const struct value *st,
		       const char *const *keys, size_t nkeys);
/*
 * Brief text for one line: strings quoted with C escapes, paths and numbers
 * bare, booleans yes/no, bytes hex, array items joined by ',', structs in ().
 */
void value_brief(FILE *f, const struct value *v);

void json_string(FILE *f, const char *s);
void quoted_string(FILE *f, const char *s);
/* Upper-case hex of p; sep between bytes (NULL for none). */
void hex_print(FILE *f, const uint8_t *p, size_t len, const char *sep);

#endif
