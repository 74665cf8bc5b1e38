/* SPDX-License-Identifier: MIT */
/*
 * The asynchronous Exec results (DM RepPro 1.2 6.6.6, DM Protocol 1.2
 * 8.7): each Exec an agent accepted with 202 and has not reported yet,
 * and each result waiting to reach its server in a Generic Alert.  The
 * list and its file; dm/agents.c keeps it under [dm] state_dir and
 * delivers it.
 *
 * File format (dm/file.h):
 *
 *	dmscgw-exec-results 1\n
 *	accepted <n>:<key> <n>:<server> <n>:<uri> <n>:<correlator>\n
 *	ready <n>:<key> <n>:<server> <n>:<uri> <n>:<correlator> <code>
 *	      <attempts> <n>:<data>\n
 *	end <count>\n
 *	sha256 <64 lower-case hex digits>\n
 */
#ifndef DMSCGW_DM_RESULTS_H
#define DMSCGW_DM_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "dm/tree.h"

#define DM_RESULTS_MAX		256	/* results kept at once */
#define DM_RESULT_KEY_MAX	64	/* the correlator the agent quotes */
#define DM_RESULT_CORR_MAX	128	/* the server's Correlator */
#define DM_RESULT_DATA_MAX	1023	/* the agent's data */

enum dm_result_state {
	DM_RES_ACCEPTED,	/* the agent works on it */
	DM_RES_READY,		/* its result waits for delivery */
};

struct dm_result {
	enum dm_result_state state;
	char key[DM_RESULT_KEY_MAX + 1];	/* unique in the list */
	char server_id[128];
	char uri[DM_TREE_MAX_URI + 1];		/* the node executed */
	char correlator[DM_RESULT_CORR_MAX + 1];	/* "" none */
	unsigned code;				/* READY: 100 to 999 */
	unsigned attempts;			/* deliveries tried */
	char data[DM_RESULT_DATA_MAX + 1];
};

struct dm_results {
	struct dm_result *v;
	size_t n;
};

/* A copy of x at the end: 0, -EEXIST (its key is there), -ENOSPC, -ENOMEM. */
int dm_results_add(struct dm_results *r, const struct dm_result *x);
/* NULL when no result has that key. */
struct dm_result *dm_results_find(struct dm_results *r, const char *key);
/* x is in r; the later ones move up. */
void dm_results_remove(struct dm_results *r, struct dm_result *x);
void dm_results_clear(struct dm_results *r);

/* The file's bytes, malloc'd: 0 or -ENOMEM. */
int dm_results_serialize(const struct dm_results *r, uint8_t **out,
			 size_t *len);
/*
 * The file's bytes into r (emptied first): 0, or -EBADMSG with the reason
 * and where in err (r is then empty), or -ENOMEM.
 */
int dm_results_parse(struct dm_results *r, const uint8_t *p, size_t len,
		     char *err, size_t errlen);

#endif
