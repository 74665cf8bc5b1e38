/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "util/hex.h"

static const char *const mod_names[LOG_MOD_MAX] = {
	[LOG_MAIN] = "main",
	[LOG_CONF] = "conf",
	[LOG_CARD] = "card",
	[LOG_CAT] = "cat",
	[LOG_WAKEUP] = "wakeup",
	[LOG_TRACE] = "trace",
	[LOG_CTL] = "ctl",
	[LOG_BIP] = "bip",
	[LOG_DM] = "dm",
	[LOG_SMS] = "sms",
	[LOG_LINK] = "link",
};

static enum log_target target = LOG_TO_STDERR;
static unsigned debug_mask;
static int debug_level;

static const char *prio_names[] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

/* systemd sets JOURNAL_STREAM to "dev:ino" of the stream stderr is bound to. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%lu:%lu", &dev, &ino) != 2)
		return false;
	if (fstat(2, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_init(const char *ident)
{
	target = stderr_is_journal() ? LOG_TO_JOURNAL : LOG_TO_STDERR;
	openlog(ident, LOG_PID, LOG_DAEMON);
}

void log_set_target(enum log_target t)
{
	target = t;
}

enum log_target log_target(void)
{
	return target;
}

const char *log_mod_name(enum log_mod m)
{
	return m < LOG_MOD_MAX ? mod_names[m] : "?";
}

const char *log_mod_list(void)
{
	static char list[128];

	if (!list[0]) {
		for (int m = 0; m < LOG_MOD_MAX; m++) {
			if (m)
				strcat(list, ",");
			strcat(list, mod_names[m]);
		}
	}
	return list;
}

int log_parse_modules(const char *spec, unsigned *mask, const char **bad)
{
	static char badbuf[64];
	const char *p = spec;

	*mask = 0;
	while (*p) {
		size_t n = strcspn(p, ", ");
		int m;

		if (n == 3 && !strncmp(p, "all", 3)) {
			*mask = (1u << LOG_MOD_MAX) - 1;
		} else if (n) {
			for (m = 0; m < LOG_MOD_MAX; m++)
				if (strlen(mod_names[m]) == n &&
				    !strncmp(p, mod_names[m], n))
					break;
			if (m == LOG_MOD_MAX) {
				snprintf(badbuf, sizeof(badbuf), "%.*s",
					 (int)(n < 40 ? n : 40), p);
				if (bad)
					*bad = badbuf;
				return -EINVAL;
			}
			*mask |= 1u << m;
		}
		p += n;
		p += strspn(p, ", ");
	}
	return 0;
}

int log_set_debug(const char *spec, int level, const char **bad)
{
	unsigned mask;
	int r = log_parse_modules(spec, &mask, bad);

	if (r < 0)
		return r;
	debug_mask = mask;
	debug_level = mask ? (level > 0 ? level : 1) : 0;
	return 0;
}

bool log_debug_enabled(enum log_mod m)
{
	return debug_mask & (1u << m);
}

bool log_hexdump_enabled(enum log_mod m)
{
	return log_debug_enabled(m) && debug_level >= 2;
}

void log_msg(int prio, enum log_mod m, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	switch (target) {
	case LOG_TO_JOURNAL:
		sd_journal_send("MESSAGE=%s: %s", log_mod_name(m), line,
				"PRIORITY=%d", prio,
				"DMSCGW_MODULE=%s", log_mod_name(m), NULL);
		break;
	case LOG_TO_SYSLOG:
		syslog(prio, "%s: %s", log_mod_name(m), line);
		break;
	case LOG_TO_STDERR:
		fprintf(stderr, "dmscgw: %s: %s%s%s\n", log_mod_name(m),
			prio <= LOG_WARNING ? prio_names[prio] : "",
			prio <= LOG_WARNING ? ": " : "", line);
		break;
	}
	errno = saved;
}

void log_hex(enum log_mod m, const char *what, const uint8_t *p, size_t len)
{
	char hex[2 * 300 + 1];

	if (!log_hexdump_enabled(m))
		return;
	if (len > 300) {
		hex_encode(hex, p, 300);
		log_msg(LOG_DEBUG, m, "%s %s... (%zu bytes)", what, hex, len);
	} else {
		hex_encode(hex, p, len);
		log_msg(LOG_DEBUG, m, "%s %s", what, hex);
	}
}
