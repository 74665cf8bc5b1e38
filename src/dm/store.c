/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "dm/store.h"
#include "dm/tree.h"
#include "log.h"

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

int dm_store_check_auth(const char *v, char *why, size_t whylen)
{
	if (!strcmp(v, "basic") || !strcmp(v, "digest") || !strcmp(v, "hmac"))
		return 0;
	snprintf(why, whylen, "'%.32s' is not one of basic, digest, hmac", v);
	return -EINVAL;
}

/* The DM_SC server's account (spec section 8.1), when [dm_sc] names one. */
static void bootstrap(const struct conf *c, struct dm_tree *t)
{
	static const char *const types[] = { "BASIC", "DIGEST", "HMAC" };
	struct dm_account a;
	const char *type = types[1];
	int st;

	if (!*c->dm_sc.server_id)
		return;
	if (!strcmp(c->dm_sc.auth, "basic"))
		type = types[0];
	else if (!strcmp(c->dm_sc.auth, "hmac"))
		type = types[2];
	memset(&a, 0, sizeof(a));
	snprintf(a.id, sizeof(a.id), "DMSC");
	snprintf(a.server_id, sizeof(a.server_id), "%s", c->dm_sc.server_id);
	snprintf(a.name, sizeof(a.name), "DM_SC server");
	snprintf(a.addr, sizeof(a.addr), "%s", c->dm_sc.addr);
	snprintf(a.addr_type, sizeof(a.addr_type), "URI");
	snprintf(a.aauth_pref, sizeof(a.aauth_pref), "%s", type);
	snprintf(a.client.type, sizeof(a.client.type), "%s", type);
	snprintf(a.client.name, sizeof(a.client.name), "%s", c->dm_sc.client_name);
	snprintf(a.client.secret, sizeof(a.client.secret), "%s", c->dm_sc.client_password);
	snprintf(a.server.type, sizeof(a.server.type), "%s", type);
	snprintf(a.server.name, sizeof(a.server.name), "%s", c->dm_sc.server_id);
	snprintf(a.server.secret, sizeof(a.server.secret), "%s", c->dm_sc.server_password);
	st = dm_tree_account_add(t, &a);
	if (st == 200) {
		char acl[DM_TREE_MAX_ACL + 8];

		/* the DM_SC server provisions accounts for remote servers */
		snprintf(acl, sizeof(acl), "Get=*&Add=%s", a.server_id);
		st = dm_tree_prop_replace(t, NULL, "./DMAcc", "ACL", acl);
		log_info(LOG_DM, "DM_SC account for %s added (%s)", a.server_id, a.addr);
	}
	if (st != 200 && st != 418)
		log_err(LOG_DM, "cannot add the DM_SC account for %s: status %d",
			a.server_id, st);
}

struct dm_tree *dm_store_open(const struct conf *c, char *err, size_t errlen)
{
	struct dm_tree_config tc;
	struct dm_tree *t = NULL;
	char path[300], devid[32], why[256] = "";
	int r;

	if (mkdir(c->dm.state_dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", c->dm.state_dir,
			 strerror(errno));
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
	bootstrap(c, t);
	if (r != DM_TREE_LOADED && dm_store_save(c, t) < 0) {
		snprintf(err, errlen, "cannot save %s: %s", path, strerror(errno));
		dm_tree_free(t);
		return NULL;
	}
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
