/* SPDX-License-Identifier: MIT */
#ifndef DMSCGW_LOG_H
#define DMSCGW_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Modules, each with its own debug switch (-d MODULE, debug = MODULE,...). */
enum log_mod {
	LOG_MAIN,
	LOG_CONF,
	LOG_CARD,
	LOG_CAT,
	LOG_WAKEUP,
	LOG_TRACE,
	LOG_CTL,
	LOG_BIP,
	LOG_DM,
	LOG_SMS,
	LOG_LINK,
	LOG_MOD_MAX
};

enum log_target {
	LOG_TO_STDERR,
	LOG_TO_JOURNAL,
	LOG_TO_SYSLOG,
};

/* Pick the journal when stderr is connected to it (JOURNAL_STREAM), else stderr. */
void log_init(const char *ident);
void log_set_target(enum log_target t);
enum log_target log_target(void);

/*
 * Debug selection: "" none, "all", or a comma-separated module list.  level 2
 * ("-dd") adds hex dumps.  Returns -EINVAL and names the bad module in *bad.
 */
int log_set_debug(const char *spec, int level, const char **bad);
int log_parse_modules(const char *spec, unsigned *mask, const char **bad);
bool log_debug_enabled(enum log_mod m);
bool log_hexdump_enabled(enum log_mod m);
const char *log_mod_name(enum log_mod m);
/* "main,conf,card,cat" for --help and error messages */
const char *log_mod_list(void);

void log_msg(int prio, enum log_mod m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_hex(enum log_mod m, const char *what, const uint8_t *p, size_t len);

#include <syslog.h>
#define log_err(m, ...)		log_msg(LOG_ERR, m, __VA_ARGS__)
#define log_warn(m, ...)	log_msg(LOG_WARNING, m, __VA_ARGS__)
#define log_notice(m, ...)	log_msg(LOG_NOTICE, m, __VA_ARGS__)
#define log_info(m, ...)	log_msg(LOG_INFO, m, __VA_ARGS__)
#define log_debug(m, ...) do {						\
	if (log_debug_enabled(m))					\
		log_msg(LOG_DEBUG, m, __VA_ARGS__);			\
} while (0)

#endif
