/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "conf.h"
#include "dm/account.h"
#include "dm/store.h"
#include "dm/tree.h"
#include "log.h"
#include "util/io.h"

static void tree_path(const struct conf *c, char *out, size_t cap)
{
	snprintf(out, cap, "%s/tree", c->dm.state_dir);
}

static void tree_config(const struct conf *c, struct dm_tree_config *tc,
			char *devid, size_t cap)
{
	memset(tc, 0, sizeof(*tc));
	snprintf(devid, cap, "IMEI:%s", c->terminal.imei);
	tc->devid = *c->dm.devid ? c->dm.devid : devid;
	tc->manufacturer = c->dm.manufacturer;
	tc->model = c->dm.model;
	tc->devtyp = "gateway";
	tc->oem = c->dm.manufacturer;
	tc->swv = PACKAGE_VERSION;
	tc->fwv = "";
	tc->hwv = "";
}

int dm_store_conf_check(const struct conf *c, char *err, size_t errlen)
{
	const char *v = c->dm_sc.auth;

	/* the daemon runs from / (daemon(3)): a relative path would move */
	if (c->dm.state_dir[0] != '/')
		return conf_key_error(c, "dm", "state_dir", err, errlen,
				      "'%s' is not an absolute path",
				      c->dm.state_dir);
	if (!strcmp(v, "basic") || !strcmp(v, "digest") || !strcmp(v, "hmac"))
		return 0;
	return conf_key_error(c, "dm_sc", "auth", err, errlen,
			      "'%.32s' is not one of basic, digest, hmac", v);
}

struct dm_tree *dm_store_open(const struct conf *c, char *err, size_t errlen)
{
	struct dm_tree_config tc;
	struct dm_tree *t = NULL;
	char path[300], devid[32], why[256] = "";
	int r, changed;

	/*
	 * With its parents, for the daemon's user alone (the tree holds the
	 * DM accounts' secrets): what systemd's StateDirectoryMode=0700 makes.
	 */
	r = io_mkdir_p(c->dm.state_dir, 0700);
	if (r < 0) {
		snprintf(err, errlen, "cannot create [dm] state_dir %s: %s",
			 c->dm.state_dir, strerror(-r));
		return NULL;
	}
	tree_path(c, path, sizeof(path));
	tree_config(c, &tc, devid, sizeof(devid));
	r = dm_tree_load(&tc, path, &t, why, sizeof(why));
	switch (r) {
	case DM_TREE_LOADED:
		log_info(LOG_DM, "management tree loaded from %s", path);
		break;
	case DM_TREE_FRESH:
		log_info(LOG_DM, "no management tree in %s yet: starting a new one",
			 c->dm.state_dir);
		break;
	case DM_TREE_CORRUPT:
		/* kept aside by dm_tree_load, never silently discarded */
		log_err(LOG_DM, "management tree %s is corrupt (%s); starting a new one",
			path, why);
		break;
	default:
		snprintf(err, errlen, "cannot load %s: %s", path,
			 *why ? why : strerror(-r));
		return NULL;
	}
	/* [dm_sc] is authoritative for the DM_SC account (account.h) */
	changed = dm_account_apply_dmsc(t, c);
	if ((r != DM_TREE_LOADED || changed > 0) && dm_store_save(c, t) < 0) {
		snprintf(err, errlen, "cannot save %s: %s", path, strerror(errno));
		dm_tree_free(t);
		return NULL;
	}
	if (changed >= 0)
		dm_account_dmsc_commit(c);
	return t;
}

int dm_store_save(const struct conf *c, const struct dm_tree *t)
{
	char path[300];
	int r;

	tree_path(c, path, sizeof(path));
	r = dm_tree_save(t, path);
	if (r < 0) {
		errno = -r;
		log_err(LOG_DM, "cannot save the management tree to %s: %s", path,
			strerror(-r));
	}
	return r;
}

/* ---- saves off the loop ---- */

struct snapshot {
	char path[300];
	uint8_t *data;
	size_t len;
	uint64_t gen;
};

struct dm_saver {
	struct event *done;		/* made active by the writer */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock */
	struct snapshot next;		/* data NULL: nothing waiting */
	bool stop;
	bool writing;			/* a snapshot is being written */
	int last;			/* result of the last write */
	pthread_cond_t idle;		/* nothing waiting, nothing being written */
	int err;			/* of the last write, for the loop */
	char err_path[300];
	unsigned failed;		/* writes that failed, not yet logged */
	uint64_t ok_gen;		/* newest generation written */
	uint64_t fail_gen;		/* newest generation that failed */
	/* loop only */
	uint64_t gen;			/* of the last snapshot handed over */
	uint64_t told_ok, told_fail;	/* what done() has heard */
	dm_saver_done_fn *done_fn;
	void *done_arg;
	const char *what;		/* what it saves, for the log */
};

static void *saver_main(void *arg)
{
	struct dm_saver *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct snapshot snap;
		int r;

		while (!s->next.data && !s->stop)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->next.data)
			break;		/* stopping, nothing left to write */
		snap = s->next;
		s->next.data = NULL;
		s->writing = true;
		pthread_mutex_unlock(&s->lock);

		r = dm_tree_write(snap.path, snap.data, snap.len);
		free(snap.data);

		pthread_mutex_lock(&s->lock);
		s->writing = false;
		s->last = r;
		if (!s->next.data)
			pthread_cond_broadcast(&s->idle);
		if (r < 0) {
			s->err = r;
			snprintf(s->err_path, sizeof(s->err_path), "%s", snap.path);
			s->failed++;
			s->fail_gen = snap.gen;
		} else {
			s->ok_gen = snap.gen;
		}
		event_active(s->done, EV_READ, 0);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Loop: what the writer reports; failures are logged here. */
static void saver_done(evutil_socket_t fd, short what, void *arg)
{
	struct dm_saver *s = arg;
	uint64_t ok_gen, fail_gen;
	char path[300];
	unsigned failed;
	int err;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&s->lock);
	failed = s->failed;
	err = s->err;
	snprintf(path, sizeof(path), "%s", s->err_path);
	s->failed = 0;
	ok_gen = s->ok_gen;
	fail_gen = s->fail_gen;
	pthread_mutex_unlock(&s->lock);
	if (failed)
		log_err(LOG_DM, "cannot save %s to %s: %s%s", s->what, path,
			strerror(-err), failed > 1 ? " (and earlier tries)" : "");
	if (!s->done_fn)
		return;
	if (ok_gen > s->told_ok) {
		s->told_ok = ok_gen;
		s->done_fn(s->done_arg, ok_gen, 0);
	}
	if (fail_gen > s->told_fail && fail_gen > s->told_ok) {
		s->told_fail = fail_gen;
		s->done_fn(s->done_arg, fail_gen, err);
	}
}

struct dm_saver *dm_saver_new(struct event_base *base, dm_saver_done_fn *done,
			      void *arg)
{
	struct dm_saver *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->done_fn = done;
	s->done_arg = arg;
	s->what = "the management tree";
	s->done = event_new(base, -1, 0, saver_done, s);
	if (!s->done) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	pthread_cond_init(&s->idle, NULL);
	if (pthread_create(&s->thread, NULL, saver_main, s)) {
		pthread_cond_destroy(&s->idle);
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		event_free(s->done);
		free(s);
		return NULL;
	}
	return s;
}

void dm_saver_set_what(struct dm_saver *s, const char *what)
{
	s->what = what;
}

int dm_saver_save(struct dm_saver *s, const struct conf *c,
		  const struct dm_tree *t, uint64_t *gen)
{
	char path[300];
	uint8_t *data;
	size_t len;
	int r;

	if (dm_tree_in_atomic(t))
		return -EBUSY;
	tree_path(c, path, sizeof(path));
	r = dm_tree_serialize(t, &data, &len);
	if (r < 0) {
		log_err(LOG_DM, "cannot save the management tree: %s", strerror(-r));
		return r;
	}
	return dm_saver_save_bytes(s, path, data, len, gen);
}

int dm_saver_save_bytes(struct dm_saver *s, const char *path, uint8_t *data,
			size_t len, uint64_t *gen)
{
	struct snapshot snap;

	if (strlen(path) >= sizeof(snap.path)) {
		free(data);
		return -ENAMETOOLONG;
	}
	snprintf(snap.path, sizeof(snap.path), "%s", path);
	snap.data = data;
	snap.len = len;
	snap.gen = ++s->gen;
	if (gen)
		*gen = snap.gen;
	pthread_mutex_lock(&s->lock);
	free(s->next.data);		/* an older state nobody needs now */
	s->next = snap;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int dm_saver_flush(struct dm_saver *s)
{
	int r;

	pthread_mutex_lock(&s->lock);
	while (s->next.data || s->writing)
		pthread_cond_wait(&s->idle, &s->lock);
	r = s->last;
	pthread_mutex_unlock(&s->lock);
	return r < 0 ? -EIO : 0;
}

void dm_saver_free(struct dm_saver *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);	/* what was waiting is written */
	s->done_fn = NULL;
	saver_done(-1, 0, s);		/* and a failure is logged */
	pthread_cond_destroy(&s->idle);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	event_free(s->done);
	free(s);
}
