/* SPDX-License-Identifier: MIT */
/*
 * conf.c checks the generic types; what a value means is checked by the
 * module that reads it, each reporting "file:line: section.key: why".  The
 * list is here, apart from main(), so that the tests and the fuzz target
 * run the very checks the daemon runs.
 */
#include "config.h"

#include <stddef.h>

#include "bip/bip.h"
#include "conf.h"
#include "dm/account.h"
#include "dm/store.h"
#include "dm/tls.h"
#include "trace/trace.h"
#include "wakeup/wakeup.h"

static int (*const conf_checks[])(const struct conf *c, char *err,
				  size_t errlen) = {
	wakeup_conf_check,
	bip_conf_check,
	dm_account_conf_check,
	dm_store_conf_check,
	dm_tls_conf_check,
	trace_conf_check,
};

int conf_check(const struct conf *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(conf_checks) / sizeof(conf_checks[0]); i++)
		if (conf_checks[i](c, err, errlen) < 0)
			return -1;
	return 0;
}
