/* SPDX-License-Identifier: MIT */
/*
 * The management tree on disk: loaded at start-up from <state_dir>/tree
 * (or made fresh), bootstrapped with the DM_SC account of [dm_sc], and
 * saved crash-safely (dm_tree_save).
 */
#ifndef DMSCGW_DM_STORE_H
#define DMSCGW_DM_STORE_H

#include <stddef.h>

struct conf;
struct dm_tree;

/*
 * Open the tree of the configuration; NULL with a reason in err when the
 * state directory cannot be used.  A corrupt file is kept aside and logged.
 */
struct dm_tree *dm_store_open(const struct conf *c, char *err, size_t errlen);
int dm_store_save(const struct conf *c, const struct dm_tree *t);

/* Validate [dm_sc] auth (conf.c). */
int dm_store_check_auth(const char *v, char *why, size_t whylen);

#endif
