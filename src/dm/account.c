/* SPDX-License-Identifier: MIT */
/*
 * The DM_SC account as [dm_sc] says, and the account list.  See account.h.
 *
 * [dm_sc] is authoritative for ./DMAcc/DMSC: the administrator's file is
 * the one place its address and credentials are set (OMA-TS-DM_SC 8.1: the
 * terminal holds the DM_SC server's account; nothing provisions it over
 * the air).  Changes are logged field by field so that an edit never goes
 * unnoticed; secrets are never printed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf.h"
#include "dm/account.h"
#include "syncml/auth.h"
#include "log.h"

#define DMSC_BASE	"./DMAcc/" DM_ACCOUNT_DMSC
#define NONCE_FILE	"dmsc-nonces"

int dm_account_check_nonce(const char *v, char *why, size_t whylen)
{
	uint8_t buf[DM_ACCOUNT_NONCE_MAX];
	int n;

	if (!*v)
		return 0;
	n = dm_b64_decode(buf, sizeof(buf), v, strlen(v));
	if (n > 0)
		return 0;
	snprintf(why, whylen, "not base64 of 1 to %d bytes",
		 DM_ACCOUNT_NONCE_MAX);
	return -EINVAL;
}

/* AAuthType of [dm_sc] auth (DM_StdObj 1.2, DMAcc/<x>/AppAuth/<x>/AAuthType) */
static const char *auth_type(const struct conf *c)
{
	if (!strcmp(c->dm_sc.auth, "basic"))
		return "BASIC";
	if (!strcmp(c->dm_sc.auth, "hmac"))
		return "HMAC";
	return "DIGEST";
}

/* ---- the record of the initial nonces last applied ---- */

struct nonces {
	char client[sizeof(((struct conf *)0)->dm_sc.client_nonce)];
	char server[sizeof(((struct conf *)0)->dm_sc.server_nonce)];
};

static void nonce_path(const struct conf *c, char *out, size_t cap)
{
	snprintf(out, cap, "%s/" NONCE_FILE, c->dm.state_dir);
}

/* "client_nonce = X" and "server_nonce = Y" lines; a missing file is "". */
static void nonces_read(const struct conf *c, struct nonces *n)
{
	char path[300], line[256], *v;
	FILE *f;

	memset(n, 0, sizeof(*n));
	nonce_path(c, path, sizeof(path));
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!(v = strstr(line, " = ")))
			continue;
		*v = '\0';
		v += 3;
		if (!strcmp(line, "client_nonce"))
			snprintf(n->client, sizeof(n->client), "%s", v);
		else if (!strcmp(line, "server_nonce"))
			snprintf(n->server, sizeof(n->server), "%s", v);
	}
	fclose(f);
}

int dm_account_dmsc_commit(const struct conf *c)
{
	char path[300], tmp[310];
	FILE *f;
	int r = 0;

	if (!*c->dm_sc.server_id)
		return 0;
	nonce_path(c, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "we")))
		r = -errno;
	else {
		fprintf(f, "# the [dm_sc] nonces last written to ./DMAcc/DMSC\n"
			"client_nonce = %s\nserver_nonce = %s\n",
			c->dm_sc.client_nonce, c->dm_sc.server_nonce);
		if (fflush(f) || fsync(fileno(f)))
			r = -errno;
		if (fclose(f) && !r)
			r = -errno;
	}
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		log_err(LOG_DM, "cannot write %s: %s", path, strerror(-r));
	}
	return r;
}

/* ---- creating the account ---- */

static void dmsc_account(const struct conf *c, struct dm_account *a)
{
	const char *type = auth_type(c);

	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", DM_ACCOUNT_DMSC);
	snprintf(a->server_id, sizeof(a->server_id), "%s", c->dm_sc.server_id);
	snprintf(a->name, sizeof(a->name), "DM_SC server");
	snprintf(a->addr, sizeof(a->addr), "%s", c->dm_sc.addr);
	snprintf(a->addr_type, sizeof(a->addr_type), "URI");
	snprintf(a->aauth_pref, sizeof(a->aauth_pref), "%s", type);
	snprintf(a->client.type, sizeof(a->client.type), "%s", type);
	snprintf(a->client.name, sizeof(a->client.name), "%s",
		 c->dm_sc.client_name);
	snprintf(a->client.secret, sizeof(a->client.secret), "%s",
		 c->dm_sc.client_password);
	snprintf(a->client.data, sizeof(a->client.data), "%s",
		 c->dm_sc.client_nonce);
	snprintf(a->server.type, sizeof(a->server.type), "%s", type);
	snprintf(a->server.name, sizeof(a->server.name), "%s",
		 c->dm_sc.server_id);
	snprintf(a->server.secret, sizeof(a->server.secret), "%s",
		 c->dm_sc.server_password);
	snprintf(a->server.data, sizeof(a->server.data), "%s",
		 c->dm_sc.server_nonce);
}

/* The DM_SC server provisions accounts for remote servers (DM_SC 8.1). */
static int dmacc_acl(struct dm_tree *t, const char *server_id)
{
	char acl[DM_TREE_MAX_ACL + 8];

	snprintf(acl, sizeof(acl), "Get=*&Add=%s", server_id);
	return dm_tree_prop_replace(t, NULL, "./DMAcc", "ACL", acl);
}

static int create(struct dm_tree *t, const struct conf *c)
{
	struct dm_account a;
	int st;

	dmsc_account(c, &a);
	st = dm_tree_account_add(t, &a);
	OPENSSL_cleanse(&a, sizeof(a));
	if (st == DM_TREE_OK)
		st = dmacc_acl(t, c->dm_sc.server_id);
	if (st != DM_TREE_OK) {
		log_err(LOG_DM, "cannot add the DM_SC account for %s: status %d",
			c->dm_sc.server_id, st);
		return -EIO;
	}
	log_info(LOG_DM, "DM_SC account for %s added (%s)", c->dm_sc.server_id,
		 c->dm_sc.addr);
	if (*c->dm_sc.client_nonce || *c->dm_sc.server_nonce)
		log_info(LOG_DM, "DM_SC account " DM_ACCOUNT_DMSC ": initial "
			 "nonces client '%s', server '%s'",
			 c->dm_sc.client_nonce, c->dm_sc.server_nonce);
	return 1;
}

/* ---- updating it ---- */

/* Replace a leaf of the account, adding it when it is missing. */
static int set_leaf(struct dm_tree *t, const char *rel,
		    enum dm_tree_format f, const char *value)
{
	char uri[DM_TREE_MAX_URI + 1];
	int st;

	snprintf(uri, sizeof(uri), "%s/%s", DMSC_BASE, rel);
	st = dm_tree_replace(t, NULL, uri, f, NULL, (const uint8_t *)value,
			     strlen(value));
	if (st == DM_TREE_NOT_FOUND)
		st = dm_tree_add(t, NULL, uri, f, NULL, (const uint8_t *)value,
				 strlen(value));
	if (st != DM_TREE_OK)
		log_err(LOG_DM, "cannot set %s: status %d", uri, st);
	return st == DM_TREE_OK ? 1 : 0;
}

/* A plain field: set and logged "old -> new" when it differs. */
static int field(struct dm_tree *t, const char *rel, const char *what,
		 const char *old, const char *now)
{
	if (!strcmp(old, now))
		return 0;
	log_info(LOG_DM, "DM_SC account " DM_ACCOUNT_DMSC ": %s %s -> %s",
		 what, *old ? old : "(empty)", *now ? now : "(empty)");
	return set_leaf(t, rel, DM_TREE_FMT_CHR, now);
}

/* A secret: set when it differs, logged without its value. */
static int secret(struct dm_tree *t, const char *rel, const char *what,
		  const char *old, const char *now)
{
	size_t lo = strlen(old), ln = strlen(now);

	if (lo == ln && !CRYPTO_memcmp(old, now, lo))
		return 0;
	log_info(LOG_DM, "DM_SC account " DM_ACCOUNT_DMSC ": %s changed", what);
	return set_leaf(t, rel, DM_TREE_FMT_CHR, now);
}

/* The node name under AppAuth of the entry of level, into out. */
static int auth_entry(struct dm_tree *t, const char *level, char *out,
		      size_t cap)
{
	char *kids = NULL, *p, *name, uri[DM_TREE_MAX_URI + 1];
	struct dm_tree_value v;
	int found = -ENOENT;

	if (dm_tree_children(t, NULL, DMSC_BASE "/AppAuth", &kids) != DM_TREE_OK)
		return -ENOENT;
	for (p = kids; found < 0 && (name = strsep(&p, "/")); ) {
		snprintf(uri, sizeof(uri), DMSC_BASE "/AppAuth/%s/AAuthLevel",
			 name);
		if (*name && dm_tree_get(t, NULL, uri, &v) == DM_TREE_OK &&
		    v.len == strlen(level) && !memcmp(v.data, level, v.len)) {
			snprintf(out, cap, "AppAuth/%s", name);
			found = 0;
		}
	}
	free(kids);
	return found;
}

/* One AppAuth entry: type, name, secret. */
static int update_auth(struct dm_tree *t, const char *level,
		       const struct dm_account_auth *old,
		       const struct dm_account_auth *now, const char *who)
{
	char base[DM_TREE_MAX_SEG + 16], rel[DM_TREE_MAX_URI + 1], what[64];
	int n = 0;

	if (auth_entry(t, level, base, sizeof(base)) < 0) {
		log_err(LOG_DM, "DM_SC account " DM_ACCOUNT_DMSC " has no AppAuth "
			"of level %s: its %s credentials are not set", level, who);
		return 0;
	}
	snprintf(rel, sizeof(rel), "%s/AAuthType", base);
	snprintf(what, sizeof(what), "%s auth type", who);
	n += field(t, rel, what, old->type, now->type);
	snprintf(rel, sizeof(rel), "%s/AAuthName", base);
	snprintf(what, sizeof(what), "%s name", who);
	n += field(t, rel, what, old->name, now->name);
	snprintf(rel, sizeof(rel), "%s/AAuthSecret", base);
	snprintf(what, sizeof(what), "%s password", who);
	n += secret(t, rel, what, old->secret, now->secret);
	return n;
}

/* A new ServerID: the account's and ./DMAcc's ACLs follow it. */
static int update_server_id(struct dm_tree *t, const char *old,
			    const char *now)
{
	char acl[DM_TREE_MAX_ACL + 8];
	int n = field(t, "ServerID", "ServerID", old, now);

	if (!n)
		return 0;
	snprintf(acl, sizeof(acl), "Get=%s&Replace=%s", now, now);
	if (dm_tree_prop_replace(t, NULL, DMSC_BASE, "ACL", acl) != DM_TREE_OK ||
	    dmacc_acl(t, now) != DM_TREE_OK)
		log_err(LOG_DM, "DM_SC account " DM_ACCOUNT_DMSC ": cannot give "
			"its ACLs to %s", now);
	return n;
}

/*
 * The initial nonce of one level, when [dm_sc] changed it since it was
 * last applied (rec); the sessions' later nonces are left alone otherwise.
 */
static int update_nonce(struct dm_tree *t, const char *server_id,
			const char *level, const char *who, const char *rec,
			const char *now)
{
	if (!strcmp(rec, now) || !*now)
		return 0;
	if (dm_tree_account_set_nonce(t, server_id, level, now) != DM_TREE_OK) {
		log_err(LOG_DM, "DM_SC account " DM_ACCOUNT_DMSC ": cannot set "
			"the %s nonce", level);
		return 0;
	}
	log_info(LOG_DM, "DM_SC account " DM_ACCOUNT_DMSC ": %s nonce (%s) "
		 "set to '%s': [dm_sc] %s_nonce changed", who, level, now, who);
	return 1;
}

static int update(struct dm_tree *t, const struct conf *c,
		  const struct dm_account *old)
{
	struct dm_account now;
	struct nonces rec;
	int n = 0;

	dmsc_account(c, &now);
	nonces_read(c, &rec);
	n += update_server_id(t, old->server_id, now.server_id);
	n += field(t, "AppAddr/1/Addr", "addr", old->addr, now.addr);
	n += field(t, "AAuthPref", "AAuthPref", old->aauth_pref,
		   now.aauth_pref);
	n += update_auth(t, "CLCRED", &old->client, &now.client, "client");
	n += update_auth(t, "SRVCRED", &old->server, &now.server, "server");
	n += update_nonce(t, now.server_id, "CLCRED", "client",
			  rec.client, now.client.data);
	n += update_nonce(t, now.server_id, "SRVCRED", "server",
			  rec.server, now.server.data);
	OPENSSL_cleanse(&now, sizeof(now));
	return n;
}

/* The ServerID of ./DMAcc/DMSC into out; -ENOENT when there is none. */
static int dmsc_server_id(struct dm_tree *t, char *out, size_t cap)
{
	struct dm_tree_value v;

	if (dm_tree_get(t, NULL, DMSC_BASE "/ServerID", &v) != DM_TREE_OK ||
	    v.len >= cap)
		return -ENOENT;
	memcpy(out, v.data, v.len);
	out[v.len] = '\0';
	return 0;
}

/* Another account already has server_id: the DM_SC one cannot take it. */
static bool taken_elsewhere(struct dm_tree *t, const char *server_id)
{
	struct dm_account a;
	bool taken;

	if (dm_tree_account_find(t, server_id, &a) != DM_TREE_OK)
		return false;
	taken = strcmp(a.id, DM_ACCOUNT_DMSC) != 0;
	if (taken)
		log_err(LOG_DM, "[dm_sc] server_id %s is the ServerID of "
			"./DMAcc/%s already: the DM_SC account is left as it is",
			server_id, a.id);
	OPENSSL_cleanse(&a, sizeof(a));
	return taken;
}

int dm_account_apply_dmsc(struct dm_tree *t, const struct conf *c)
{
	struct dm_account old;
	char sid[sizeof(old.server_id)];
	int n;

	if (!*c->dm_sc.server_id)
		return 0;
	if (dm_tree_in_atomic(t)) {
		log_warn(LOG_DM, "a session is inside an Atomic: [dm_sc] is "
			 "applied to the DM_SC account at the next reload");
		return 0;
	}
	if (taken_elsewhere(t, c->dm_sc.server_id))
		return -EEXIST;
	if (dmsc_server_id(t, sid, sizeof(sid)) < 0)
		return create(t, c);
	if (dm_tree_account_find(t, sid, &old) != DM_TREE_OK) {
		log_err(LOG_DM, "DM_SC account " DM_ACCOUNT_DMSC " cannot be "
			"read: [dm_sc] not applied");
		return -EIO;
	}
	n = update(t, c, &old);
	OPENSSL_cleanse(&old, sizeof(old));
	return n;
}

/* ---- the list ---- */

int dm_account_list(struct dm_tree *t, struct dm_account **out, size_t *n)
{
	char *kids = NULL, *p, *name, uri[DM_TREE_MAX_URI + 1], sid[128];
	struct dm_account *v = NULL, *nv;
	struct dm_tree_value val;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	if (dm_tree_children(t, NULL, "./DMAcc", &kids) != DM_TREE_OK)
		return 0;
	for (p = kids; (name = strsep(&p, "/")); ) {
		snprintf(uri, sizeof(uri), "./DMAcc/%s/ServerID", name);
		if (!*name || dm_tree_get(t, NULL, uri, &val) != DM_TREE_OK ||
		    val.len == 0 || val.len >= sizeof(sid))
			continue;
		memcpy(sid, val.data, val.len);
		sid[val.len] = '\0';
		if (!(nv = realloc(v, (cnt + 1) * sizeof(*v)))) {
			OPENSSL_cleanse(v, cnt * sizeof(*v));
			free(v);
			free(kids);
			return -ENOMEM;
		}
		v = nv;
		if (dm_tree_account_find(t, sid, &v[cnt]) == DM_TREE_OK &&
		    !strcmp(v[cnt].id, name))
			cnt++;
	}
	free(kids);
	*out = v;
	*n = cnt;
	return 0;
}
