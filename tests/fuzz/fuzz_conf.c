/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for dmscgw.conf: the parser (conf_parse, the text
 * conf_load reads) and every module's check (conf_check), the code that
 * meets a file an administrator, a package script or a config generator
 * wrote.  Besides the sanitizers, with abort():
 *  - a failed parse leaves the configuration as it was, and says
 *    "NAME:" first; a check that fails says so too;
 *  - what parses dumps (conf_dump) to text that parses back to the same
 *    values, and that dumps to the same text: --dump-config output is a
 *    configuration file (secrets, dumped as ********, are cleared first).
 */
#define _GNU_SOURCE	/* open_memstream */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

#define NAME		"fuzz.conf"

/* The text conf_dump writes, NUL-terminated; the caller frees it. */
static char *dump(const struct conf *c, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	CHECK(f != NULL);
	conf_dump(c, f);
	CHECK(fclose(f) == 0);
	return text;
}

/* whole buffers: the bytes after the NUL are compared too */
static void clear_secrets(struct conf *c)
{
	memset(c->dm_sc.server_password, 0, sizeof(c->dm_sc.server_password));
	memset(c->dm_sc.client_password, 0, sizeof(c->dm_sc.client_password));
	memset(c->dm_sc.psk_key, 0, sizeof(c->dm_sc.psk_key));
}

static void round_trip(const struct conf *parsed)
{
	struct conf c = *parsed, back;
	char err[512] = "";
	char *text, *again;
	size_t len, len2;

	clear_secrets(&c);
	text = dump(&c, &len);
	conf_defaults(&back);
	if (conf_parse(&back, NAME, text, len, err, sizeof(err)) != 0) {
		fprintf(stderr, "dump does not parse: %s\n%s", err, text);
		abort();
	}
	/* the values, not where they were set */
	CHECK(memcmp(&back, &c, offsetof(struct conf, origin)) == 0);
	again = dump(&back, &len2);
	CHECK(len2 == len && memcmp(text, again, len) == 0);
	free(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c, before;
	char err[512];
	int r;

	/*
	 * No credentials: "credential:NAME" is refused, always the same
	 * way, and a dump never holds one (it would not read back here).
	 */
	unsetenv("CREDENTIALS_DIRECTORY");
	conf_defaults(&c);
	before = c;
	memset(err, 0, sizeof(err));
	r = conf_parse(&c, NAME, (const char *)data, size, err, sizeof(err));
	CHECK(r == 0 || r == -1);
	if (r < 0) {
		CHECK(memcmp(&c, &before, sizeof(c)) == 0);
		CHECK(!strncmp(err, NAME ":", strlen(NAME ":")));
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		return 0;
	}
	memset(err, 0, sizeof(err));
	r = conf_check(&c, err, sizeof(err));
	CHECK(r == 0 || r == -1);
	if (r < 0)
		CHECK(!strncmp(err, NAME ":", strlen(NAME ":")));
	round_trip(&c);
	return 0;
}
