/* SPDX-License-Identifier: MIT */
/*
 * The management tree on disk: loaded at start-up from <state_dir>/tree
 * (or made fresh), the DM_SC account made what [dm_sc] says, and
 * saved crash-safely (dm_tree_save).
 */
#ifndef DMSCGW_DM_STORE_H
#define DMSCGW_DM_STORE_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct dm_tree;

/*
 * Open the tree of the configuration; NULL with a reason in err when the
 * state directory cannot be used.  The directory is made, with its
 * parents, mode 0700, when it is not there.  A corrupt file is kept aside
 * and logged.
 */
struct dm_tree *dm_store_open(const struct conf *c, char *err, size_t errlen);
int dm_store_save(const struct conf *c, const struct dm_tree *t);

/*
 * Saves while the loop runs.  The loop serializes the tree (memory only)
 * and a writer thread does the file work (dm_tree_write: write, fsync,
 * rename, fsync the directory), so the loop never waits on the disk.
 * Only the newest state matters: a snapshot still waiting is replaced by a
 * newer one.  Failures are logged on the loop.
 */
struct event_base;
struct dm_saver;

/*
 * After each write the loop hears done(arg, gen, err): the snapshot of
 * generation gen is on disk (err 0; every older one is then superseded
 * by it), or could not be written (err < 0).  A success is reported before
 * an older failure it supersedes, so a waiter sees the newest outcome.
 */
typedef void dm_saver_done_fn(void *arg, uint64_t gen, int err);

struct dm_saver *dm_saver_new(struct event_base *base, dm_saver_done_fn *done,
			      void *arg);
/*
 * Snapshot t for its file: 0 with *gen its generation (1, 2, ...), or
 * -EBUSY inside an Atomic, or -ENOMEM.  gen may be NULL.
 */
int dm_saver_save(struct dm_saver *s, const struct conf *c,
		  const struct dm_tree *t, uint64_t *gen);
/*
 * The same for any file of the state directory: data (malloc'd) is the
 * saver's from here on, freed once written or superseded.  A saver keeps
 * one file: its newest bytes replace what still waits.  0 or -ENAMETOOLONG.
 */
int dm_saver_save_bytes(struct dm_saver *s, const char *path, uint8_t *data,
			size_t len, uint64_t *gen);
/* What the saver's failures name ("the management tree"); a constant. */
void dm_saver_set_what(struct dm_saver *s, const char *what);
/*
 * Wait until what was handed over is written (blocks the caller: only for
 * the rare moments that need the tree on disk, such as a reload that
 * changed the DM_SC account).  0, or -EIO when a write failed (logged).
 */
int dm_saver_flush(struct dm_saver *s);
/* Finish the writes under way (done is not called), stop; accepts NULL. */
void dm_saver_free(struct dm_saver *s);

/*
 * Check [dm] state_dir (an absolute path) and [dm_sc] auth: 0, or -1 with
 * "file:line: key: why" in err.
 */
int dm_store_conf_check(const struct conf *c, char *err, size_t errlen);

#endif
