/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

/*
 * The generic types only: what a value means to a module (a wake-up
 * source, an application list, a nonce) is checked by that module, after
 * the parse, through conf_key_error().
 */
enum conf_type { T_STR, T_OPT, T_UINT, T_ENUM, T_MODULES, T_DIGITS, T_HEX };

struct conf_key {
	const char *section;
	const char *name;
	enum conf_type type;
	size_t off;
	size_t size;			/* T_STR: buffer size */
	unsigned min, max;		/* T_UINT, T_DIGITS; T_HEX: bytes */
	const char *const *names;	/* T_ENUM, NULL-terminated */
	const char *def;		/* default, as written in the file */
};

static const char *const share_names[] = { "shared", "exclusive", NULL };
static const char *const proto_names[] = { "any", "t0", "t1", NULL };
static const char *const rat_names[] = { "gsm", "utran", "eutran", NULL };
static const char *const yesno_names[] = { "no", "yes", NULL };
static const char *const encoding_names[] = { "wbxml", "xml", NULL };
static const char *const alert_names[] = { "accept", "reject", NULL };
static const char *const locstat_names[] = { "normal", "limited", "no-service", NULL };

#define STR(s, k, d) { #s, #k, T_STR, offsetof(struct conf, s.k), \
	sizeof(((struct conf *)0)->s.k), 0, 0, NULL, d }
#define UINT(s, k, lo, hi, d) { #s, #k, T_UINT, offsetof(struct conf, s.k), \
	0, lo, hi, NULL, d }
#define ENUM(s, k, n, d) { #s, #k, T_ENUM, offsetof(struct conf, s.k), \
	0, 0, 0, n, d }
#define MODS(s, k, d) { #s, #k, T_MODULES, offsetof(struct conf, s.k), \
	sizeof(((struct conf *)0)->s.k), 0, 0, NULL, d }

/* T_DIGITS: a string of min..max decimal digits */
#define DIGITS(s, k, lo, hi, d) { #s, #k, T_DIGITS, offsetof(struct conf, s.k), \
	sizeof(((struct conf *)0)->s.k), lo, hi, NULL, d }
/* T_HEX: 1 to max bytes in hex, or empty */
#define HEX(s, k, hi) { #s, #k, T_HEX, offsetof(struct conf, s.k), \
	sizeof(((struct conf *)0)->s.k), 1, hi, NULL, "" }
/* A string that may be empty; MOD: one its module checks (conf_key_error) */
#define OPT(s, k) { #s, #k, T_OPT, offsetof(struct conf, s.k), \
	sizeof(((struct conf *)0)->s.k), 0, 0, NULL, "" }
#define MOD(s, k, d) { #s, #k, T_OPT, offsetof(struct conf, s.k), \
	sizeof(((struct conf *)0)->s.k), 0, 0, NULL, d }

static const struct conf_key keys[] = {
	MODS(daemon, debug, ""),
	STR(card, reader, "*"),
	ENUM(card, share, share_names, "shared"),
	ENUM(card, protocol, proto_names, "any"),
	UINT(card, retry_min, 1, 3600, "1"),
	UINT(card, retry_max, 1, 3600, "30"),
	UINT(card, apdu_timeout, 0, 3600, "30"),
	UINT(cat, busy_retry, 10, 60000, "100"),
	UINT(cat, busy_retry_max, 10, 600000, "2000"),
	UINT(cat, busy_retries, 1, 1000, "50"),
	MOD(wakeup, sources, "profile-download, timer, location, call-control"),
	UINT(wakeup, poll_min, 1, 86400, "5"),
	UINT(wakeup, poll_max, 1, 86400, "3600"),
	DIGITS(terminal, imei, 15, 15, "000000000000000"),
	DIGITS(terminal, mcc, 3, 3, "001"),
	DIGITS(terminal, mnc, 2, 3, "01"),
	UINT(terminal, lac, 0, 65535, "1"),
	UINT(terminal, cell, 0, 268435455, "1"),
	ENUM(terminal, rat, rat_names, "eutran"),
	ENUM(terminal, location_status, locstat_names, "no-service"),
	UINT(bip, buffer_max, 255, 65535, "16384"),
	UINT(bip, backlog, 0, 64, "4"),
	UINT(bip, timeout, 1, 3600, "30"),
	UINT(bip, idle_timeout, 0, 86400, "30"),
	MOD(bip, applications, ""),
	STR(dm, state_dir, "/var/lib/dmscgw"),
	OPT(dm, devid),
	STR(dm, manufacturer, "dmscgw"),
	STR(dm, model, "dmscgw"),
	ENUM(dm, enable, yesno_names, "yes"),
	ENUM(dm, encoding, encoding_names, "wbxml"),
	UINT(dm, max_msg_size, 512, 1048576, "16384"),
	UINT(dm, max_obj_size, 512, 1048576, "1048576"),
	UINT(dm, timeout, 1, 3600, "60"),
	UINT(dm, auth_retries, 0, 10, "3"),
	ENUM(dm, alerts, alert_names, "accept"),
	UINT(dm, exec_timeout, 1, 3600, "60"),
	UINT(dm, client_port, 1, 65535, "4117"),
	STR(dm, app_name, "dmscgw"),
	OPT(dm, ca_file),
	OPT(dm, ca_dir),
	OPT(dm, client_cert),
	OPT(dm, client_key),
	UINT(dm, retries, 0, 20, "3"),
	UINT(dm, retry_min, 1, 3600, "10"),
	UINT(dm, retry_max, 1, 86400, "300"),
	OPT(dm_sc, server_id),
	OPT(dm_sc, server_password),
	OPT(dm_sc, client_name),
	OPT(dm_sc, client_password),
	MOD(dm_sc, client_nonce, ""),
	MOD(dm_sc, server_nonce, ""),
	STR(dm_sc, addr, "https://127.0.0.1:4116/OMA/DM"),
	MOD(dm_sc, tcpip_addr, "https://localuicc:443/OMA/DM"),
	MOD(dm_sc, auth, "digest"),
	OPT(dm_sc, psk_identity),
	HEX(dm_sc, psk_key, 64),
	ENUM(link, enable, yesno_names, "yes"),
	MOD(link, match, "ID_NET_DRIVER=cdc_eem"),
	MOD(link, card_address, ""),
	ENUM(modem, enable, yesno_names, "yes"),
	STR(modem, modem, "first"),
	ENUM(modem, delete_sms, yesno_names, "yes"),
	OPT(trace, file),
	OPT(trace, udp),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(NKEYS <= CONF_MAX_KEYS, "raise CONF_MAX_KEYS in conf.h");

/*
 * Old names still read, with one warning naming the new key.  [dm]
 * client_name was the terminal application's name while [dm_sc]
 * client_name is the client's AAuthName: one meaning per key now.
 */
static const struct conf_alias {
	const char *section, *old, *now, *why;
} aliases[] = {
	{ "dm", "client_name", "app_name",
	  "the DM client's name in the Terminal Applications envelope" },
};

#define CONF_MAX_LINE 1024

struct parser {
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
};

static int fail(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (ps->line)
		n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->name, ps->line);
	else
		n = snprintf(ps->err, ps->errlen, "%s: ", ps->name);
	if (n < 0 || (size_t)n >= ps->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_secret(const char *name)
{
	return strstr(name, "password") || !strcmp(name, "psk_key");
}

/* The secrets, and the nonces that go with them, may be credentials. */
static bool takes_credential(const struct conf_key *k)
{
	return is_secret(k->name) || strstr(k->name, "_nonce");
}

/*
 * "a, b,c": every comma-separated item holds a name.  A doubled, leading
 * or trailing comma is a slip (a name deleted by hand) the reader should
 * see, not a list one item shorter.  Blanks alone still separate names.
 */
static bool list_items_ok(const char *v)
{
	if (!*v)
		return true;	/* the empty list */
	for (;;) {
		size_t n = strcspn(v, ",");

		if (strspn(v, " \t") >= n)
			return false;
		if (!v[n])
			return true;
		v += n + 1;
	}
}

static int set_value(struct conf *c, const struct conf_key *k, const char *v,
		     struct parser *ps)
{
	char *dst = (char *)c + k->off;

	switch (k->type) {
	case T_STR:
		if (!*v)
			return fail(ps, "%s.%s: empty value", k->section, k->name);
		if (strlen(v) >= k->size)
			return fail(ps, "%s.%s: value longer than %zu characters",
				    k->section, k->name, k->size - 1);
		strcpy(dst, v);
		return 0;
	case T_DIGITS: {
		size_t n = strlen(v);

		if (n < k->min || n > k->max || strspn(v, "0123456789") != n) {
			if (k->min == k->max)
				return fail(ps, "%s.%s: '%s' is not %u digits",
					    k->section, k->name, v, k->min);
			return fail(ps, "%s.%s: '%s' is not %u to %u digits",
				    k->section, k->name, v, k->min, k->max);
		}
		strcpy(dst, v);
		return 0;
	}
	case T_OPT:
		if (strlen(v) >= k->size)
			return fail(ps, "%s.%s: value longer than %zu characters",
				    k->section, k->name, k->size - 1);
		strcpy(dst, v);
		return 0;
	case T_HEX: {
		size_t n = strlen(v);

		if (n && (n % 2 || n > 2 * k->max || n >= k->size ||
			  strspn(v, "0123456789abcdefABCDEF") != n))
			return fail(ps, "%s.%s: not %u to %u bytes in hex",
				    k->section, k->name, k->min, k->max);
		strcpy(dst, v);
		return 0;
	}
	case T_MODULES: {
		unsigned mask;
		const char *bad = "";

		if (strlen(v) >= k->size)
			return fail(ps, "%s.%s: value longer than %zu characters",
				    k->section, k->name, k->size - 1);
		if (!list_items_ok(v))
			return fail(ps, "%s.%s: empty item in '%s'",
				    k->section, k->name, v);
		if (log_parse_modules(v, &mask, &bad) < 0)
			return fail(ps, "%s.%s: unknown module '%s' (known: all,%s)",
				    k->section, k->name, bad, log_mod_list());
		strcpy(dst, v);
		return 0;
	}
	case T_UINT: {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(v, &end, 10);
		if (!*v || *v == '-' || *v == '+' || *end || errno ||
		    n < k->min || n > k->max)
			return fail(ps, "%s.%s: '%s' is not a whole number from %u to %u",
				    k->section, k->name, v, k->min, k->max);
		*(unsigned *)(void *)dst = (unsigned)n;
		return 0;
	}
	case T_ENUM:
		for (int i = 0; k->names[i]; i++) {
			if (!strcmp(v, k->names[i])) {
				*(int *)(void *)dst = i;
				return 0;
			}
		}
		{
			char list[128] = "";

			for (int i = 0; k->names[i]; i++) {
				if (i)
					strcat(list, ", ");
				strcat(list, k->names[i]);
			}
			return fail(ps, "%s.%s: '%s' is not one of %s",
				    k->section, k->name, v, list);
		}
	}
	return fail(ps, "internal error");
}

/*
 * key = credential:NAME: the value is read from the credential and set as
 * if it stood in the file; errors name file:line and the key, never the
 * value (set_value's messages for these types quote none).
 */
static int set_credential(struct conf *c, const struct conf_key *k,
			  const char *name, struct parser *ps)
{
	char value[CONF_MAX_LINE], why[400];
	size_t i = k - keys;
	unsigned n = 0;
	int r;

	if (!takes_credential(k))
		return fail(ps, "%s.%s: only a secret ([dm_sc] passwords, nonces, "
			    "psk_key) can be a credential", k->section, k->name);
	for (size_t j = 0; j < CONF_MAX_KEYS; j++)
		n += c->origin.from[j] != 0;
	if (n >= CONF_MAX_CREDS)
		return fail(ps, "%s.%s: more than %d credentials", k->section,
			    k->name, CONF_MAX_CREDS);
	/* the key's buffer, and a newline */
	if (conf_cred_read(name, value, k->size < sizeof(value) ? k->size :
			   sizeof(value), why, sizeof(why)) < 0)
		return fail(ps, "%s.%s: %s", k->section, k->name, why);
	r = set_value(c, k, value, ps);
	explicit_bzero(value, sizeof(value));
	if (r < 0)
		return r;
	snprintf(c->origin.cred[n], sizeof(c->origin.cred[n]), "%s", name);
	c->origin.from[i] = (unsigned char)(n + 1);
	return 0;
}

void conf_defaults(struct conf *c)
{
	struct parser ps = { "defaults", 0, NULL, 0 };
	char err[256];

	ps.err = err;
	ps.errlen = sizeof(err);
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++)
		if (!*keys[i].def)
			continue;
		else if (set_value(c, &keys[i], keys[i].def, &ps) < 0)
			abort();	/* the table itself is wrong */
}

static bool section_known(const char *s)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].section, s))
			return true;
	return false;
}

static const struct conf_key *key_find(const char *s, const char *k)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].section, s) && !strcmp(keys[i].name, k))
			return &keys[i];
	return NULL;
}

/* The key an old name stands for, with its warning; NULL when none. */
static const struct conf_key *alias_find(const char *s, const char *k,
					 const struct parser *ps)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		const struct conf_alias *a = &aliases[i];

		if (strcmp(a->section, s) || strcmp(a->old, k))
			continue;
		log_warn(LOG_CONF, "%s:%u: [%s] %s is deprecated: use %s (%s)",
			 ps->name, ps->line, s, k, a->now, a->why);
		return key_find(s, a->now);
	}
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* A value may be double-quoted to keep leading or trailing blanks. */
static int unquote(char *v, struct parser *ps)
{
	size_t n = strlen(v);

	if (n && v[0] == '"') {
		if (n < 2 || v[n - 1] != '"')
			return fail(ps, "unterminated quoted value");
		memmove(v, v + 1, n - 2);
		v[n - 2] = '\0';
	}
	return 0;
}

static int parse_line(struct conf *c, char *line, char *section,
		      bool *seen, struct parser *ps)
{
	const struct conf_key *k;
	char *s = trim(line), *eq, *key, *val;

	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		char *e = strchr(s, ']');

		if (!e || e[1])
			return fail(ps, "malformed section header '%s'", s);
		*e = '\0';
		s = trim(s + 1);
		if (!section_known(s))
			return fail(ps, "unknown section [%s]", s);
		snprintf(section, 32, "%s", s);
		return 0;
	}
	eq = strchr(s, '=');
	if (!eq)
		return fail(ps, "expected 'key = value', got '%s'", s);
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!*key)
		return fail(ps, "missing key before '='");
	if (!*section)
		return fail(ps, "key '%s' outside of any [section]", key);
	k = key_find(section, key);
	if (!k)
		k = alias_find(section, key, ps);
	if (!k)
		return fail(ps, "unknown key '%s' in section [%s]", key, section);
	if (seen[k - keys])
		return fail(ps, "%s.%s: set twice", k->section, k->name);
	seen[k - keys] = true;
	c->origin.line[k - keys] = ps->line;
	if (unquote(val, ps) < 0)
		return -1;
	if (!strncmp(val, CONF_CRED_PREFIX, strlen(CONF_CRED_PREFIX)))
		return set_credential(c, k, val + strlen(CONF_CRED_PREFIX), ps);
	return set_value(c, k, val, ps);
}

int conf_parse(struct conf *c, const char *name, const char *text, size_t len,
	       char *err, size_t errlen)
{
	struct parser ps = { name, 0, err, errlen };
	struct conf tmp = *c;
	char section[32] = "";
	bool seen[NKEYS] = { false };
	size_t pos = 0;

	snprintf(tmp.origin.file, sizeof(tmp.origin.file), "%s", name);
	memset(tmp.origin.line, 0, sizeof(tmp.origin.line));
	memset(tmp.origin.from, 0, sizeof(tmp.origin.from));
	memset(tmp.origin.cred, 0, sizeof(tmp.origin.cred));
	/* a UTF-8 byte-order mark, as some Windows editors write it */
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		pos = 3;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char line[CONF_MAX_LINE];

		ps.line++;
		if (memchr(text + pos, '\0', n))
			return fail(&ps, "NUL byte in line");
		if (n >= sizeof(line))
			return fail(&ps, "line longer than %d characters",
				    CONF_MAX_LINE - 1);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (parse_line(&tmp, line, section, seen, &ps) < 0)
			return -1;
		pos += n + (nl ? 1 : 0);
	}
	ps.line = 0;
	if (tmp.card.retry_min > tmp.card.retry_max)
		return fail(&ps, "card.retry_min (%u) is larger than card.retry_max (%u)",
			    tmp.card.retry_min, tmp.card.retry_max);
	if (tmp.cat.busy_retry > tmp.cat.busy_retry_max)
		return fail(&ps, "cat.busy_retry (%u) is larger than cat.busy_retry_max (%u)",
			    tmp.cat.busy_retry, tmp.cat.busy_retry_max);
	if (tmp.dm.retry_min > tmp.dm.retry_max)
		return fail(&ps, "dm.retry_min (%u) is larger than dm.retry_max (%u)",
			    tmp.dm.retry_min, tmp.dm.retry_max);
	if (tmp.wakeup.poll_min > tmp.wakeup.poll_max)
		return fail(&ps, "wakeup.poll_min (%u) is larger than wakeup.poll_max (%u)",
			    tmp.wakeup.poll_min, tmp.wakeup.poll_max);
	/*
	 * MaxObjSize is the largest object the client takes, in one message
	 * or split over several as a Large Object; one below MaxMsgSize
	 * would refuse objects a single message carries whole, which no
	 * server expects: at least MaxMsgSize, then.
	 */
	if (tmp.dm.max_obj_size < tmp.dm.max_msg_size)
		return fail(&ps, "dm.max_obj_size (%u) is smaller than dm.max_msg_size (%u)",
			    tmp.dm.max_obj_size, tmp.dm.max_msg_size);
	*c = tmp;
	return 0;
}

unsigned conf_key_line(const struct conf *c, const char *section,
		       const char *key)
{
	const struct conf_key *k = key_find(section, key);

	return k ? c->origin.line[k - keys] : 0;
}

static const char *credential_of(const struct conf *c, const struct conf_key *k)
{
	unsigned from = c->origin.from[k - keys];

	return from && from <= CONF_MAX_CREDS ? c->origin.cred[from - 1] : NULL;
}

const char *conf_key_credential(const struct conf *c, const char *section,
				const char *key)
{
	const struct conf_key *k = key_find(section, key);

	return k ? credential_of(c, k) : NULL;
}

int conf_key_error(const struct conf *c, const char *section, const char *key,
		   char *err, size_t errlen, const char *fmt, ...)
{
	unsigned line = conf_key_line(c, section, key);
	const char *file = *c->origin.file ? c->origin.file : "defaults";
	va_list ap;
	int n;

	if (line)
		n = snprintf(err, errlen, "%s:%u: %s.%s: ", file, line, section,
			     key);
	else
		n = snprintf(err, errlen, "%s: %s.%s: ", file, section, key);
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

#define CONF_MAX_FILE (1 << 20)

/*
 * O_NONBLOCK: a FIFO (or a device) given as the file must be refused, not
 * waited on; open(2) of a FIFO without a writer blocks otherwise.
 */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t n = 0;
	ssize_t r;
	int fd, rc;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? -ENOENT : -1;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	buf = malloc(CONF_MAX_FILE + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	while (n <= CONF_MAX_FILE &&
	       (r = read(fd, buf + n, CONF_MAX_FILE + 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: read error: %s", path,
				 strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		n += (size_t)r;
	}
	if (n > CONF_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, CONF_MAX_FILE);
		rc = -1;
	} else {
		rc = conf_parse(c, path, buf, n, err, errlen);
	}
	free(buf);
	close(fd);
	return rc;
}

/* What the parser would trim or unquote is written in quotes (unquote()). */
static bool needs_quotes(const char *v)
{
	size_t n = strlen(v);

	return n && (strchr(" \t\r\"", v[0]) || strchr(" \t\r", v[n - 1]));
}

void conf_dump(const struct conf *c, FILE *f)
{
	const char *section = "";

	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &keys[i];
		const char *p = (const char *)c + k->off;

		if (strcmp(section, k->section)) {
			fprintf(f, "%s[%s]\n", i ? "\n" : "", k->section);
			section = k->section;
		}
		switch (k->type) {
		case T_STR:
		case T_OPT:
		case T_MODULES:
		case T_DIGITS:
		case T_HEX:
			/* secrets are not shown, only whether they are set */
			if (credential_of(c, k))
				fprintf(f, "%s = " CONF_CRED_PREFIX "%s\n", k->name,
					credential_of(c, k));
			else if (is_secret(k->name) && *p)
				fprintf(f, "%s = ********\n", k->name);
			else
				fprintf(f, needs_quotes(p) ? "%s = \"%s\"\n" :
					"%s = %s\n", k->name, p);
			break;
		case T_UINT:
			fprintf(f, "%s = %u\n", k->name, *(const unsigned *)(const void *)p);
			break;
		case T_ENUM:
			fprintf(f, "%s = %s\n", k->name, k->names[*(const int *)(const void *)p]);
			break;
		}
	}
}
