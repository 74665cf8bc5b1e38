/* SPDX-License-Identifier: MIT */
/*
 * DM accounts: the DMAcc helpers of the management tree (DM_StdObj 1.2
 * DMAcc, application w7: dm_tree_account_*, declared in tree.h), then the
 * DM_SC account as [dm_sc] says and the account list (account.h).
 *
 * [dm_sc] is authoritative for ./DMAcc/DMSC: the administrator's file is
 * the one place its address and credentials are set (OMA-TS-DM_SC 8.1: the
 * terminal holds the DM_SC server's account; nothing provisions it over
 * the air).  Changes are logged field by field so that an edit never goes
 * unnoticed; secrets are never printed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf.h"
#include "dm/account.h"
#include "dm/file.h"
#include "dm/http.h"
#include "dm/tree_int.h"
#include "syncml/auth.h"
#include "log.h"

#define DMSC_BASE	"./DMAcc/" DM_ACCOUNT_DMSC
#define DMSC_TCPIP	"AppAddr/2"	/* the address over TCP/IP (account.h) */
#define NONCE_FILE	"dmsc-nonces"

/* ---- DM account (DM_StdObj 1.2 DMAcc, application w7) ---- */

static int
add_leaf(struct dm_tree *t, const char *base, const char *rel,
	 enum dm_tree_format format, const char *value)
{
	char uri[DM_TREE_MAX_URI + 1];
	int n = snprintf(uri, sizeof(uri), "%s/%s", base, rel);

	if (n < 0 || (size_t)n >= sizeof(uri))
		return DM_TREE_URI_TOO_LONG;
	return tree_add_local(t, uri, format,
			 format == DM_TREE_FMT_NODE ? NULL : value, NULL);
}

static int
account_add_auth(struct dm_tree *t, const char *base, const char *level,
		 const struct dm_account_auth *au)
{
	char b[DM_TREE_MAX_URI + 1];
	int st, n;

	if (au->type[0] == '\0')
		return DM_TREE_OK;
	n = snprintf(b, sizeof(b), "%s/AppAuth/%s", base, level);
	if (n < 0 || (size_t)n >= sizeof(b))
		return DM_TREE_URI_TOO_LONG;
	if ((st = tree_add_local(t, b, DM_TREE_FMT_NODE, NULL, NULL)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AAuthLevel", DM_TREE_FMT_CHR, level)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AAuthType", DM_TREE_FMT_CHR, au->type)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AAuthName", DM_TREE_FMT_CHR, au->name)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AAuthSecret", DM_TREE_FMT_CHR, au->secret)) != DM_TREE_OK)
		return st;
	return add_leaf(t, b, "AAuthData", DM_TREE_FMT_B64, au->data);
}

static int
account_build(struct dm_tree *t, const char *b, const struct dm_account *a)
{
	char port[16];
	int st;

	if ((st = add_leaf(t, b, "AppID", DM_TREE_FMT_CHR, "w7")) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "ServerID", DM_TREE_FMT_CHR, a->server_id)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "Name", DM_TREE_FMT_CHR, a->name)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "PrefConRef", DM_TREE_FMT_CHR, a->pref_con_ref)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AppAddr", DM_TREE_FMT_NODE, NULL)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AppAddr/1", DM_TREE_FMT_NODE, NULL)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AppAddr/1/Addr", DM_TREE_FMT_CHR, a->addr)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AppAddr/1/AddrType", DM_TREE_FMT_CHR,
			   a->addr_type[0] != '\0' ? a->addr_type : "URI")) != DM_TREE_OK)
		return st;
	if (a->port != 0) {
		snprintf(port, sizeof(port), "%u", a->port);
		if ((st = add_leaf(t, b, "AppAddr/1/Port", DM_TREE_FMT_NODE, NULL)) != DM_TREE_OK ||
		    (st = add_leaf(t, b, "AppAddr/1/Port/1", DM_TREE_FMT_NODE, NULL)) != DM_TREE_OK ||
		    (st = add_leaf(t, b, "AppAddr/1/Port/1/PortNbr", DM_TREE_FMT_INT, port)) != DM_TREE_OK)
			return st;
	}
	if ((st = add_leaf(t, b, "AAuthPref", DM_TREE_FMT_CHR, a->aauth_pref)) != DM_TREE_OK ||
	    (st = add_leaf(t, b, "AppAuth", DM_TREE_FMT_NODE, NULL)) != DM_TREE_OK ||
	    (st = account_add_auth(t, b, "CLCRED", &a->client)) != DM_TREE_OK)
		return st;
	return account_add_auth(t, b, "SRVCRED", &a->server);
}

int
dm_tree_account_add(struct dm_tree *t, const struct dm_account *a)
{
	char base[DM_TREE_MAX_URI + 1];
	struct dm_node *n;
	char *acl;
	int st;

	if (tree_name_check(a->id, strnlen(a->id, sizeof(a->id))) != DM_TREE_OK ||
	    !tree_server_id_valid(a->server_id) || a->port > 65535)
		return DM_TREE_BAD_REQUEST;
	snprintf(base, sizeof(base), "./DMAcc/%s", a->id);
	if ((st = tree_add_local(t, base, DM_TREE_FMT_NODE, NULL, &n)) != DM_TREE_OK)
		return st;
	if ((acl = tree_str_fmt("Get=%s&Replace=%s", a->server_id, a->server_id)) == NULL) {
		st = DM_TREE_FAILED;
	} else {
		n->acl = acl;
		st = account_build(t, base, a);
	}
	if (st != DM_TREE_OK) {		/* all or nothing */
		struct dm_node *parent = n->parent;

		tree_node_unlink(n);
		t->nodes -= tree_node_free(n);
		tree_node_touch(parent);
	}
	return st;
}

/* Copy a leaf's text into buf; absent leaves read as "". */
static int
leaf_text(const struct dm_node *dir, const char *name, char *buf, size_t cap)
{
	const struct dm_node *n = dir != NULL ? tree_child_find(dir, name, strlen(name))
					      : NULL;

	buf[0] = '\0';
	if (n == NULL || n->format == DM_TREE_FMT_NODE)
		return DM_TREE_OK;
	if (n->len >= cap)
		return DM_TREE_TOO_LARGE;
	if (n->len > 0 && memchr(n->value, '\0', n->len) != NULL)
		return DM_TREE_BAD_REQUEST;
	if (n->len > 0)
		memcpy(buf, n->value, n->len);
	buf[n->len] = '\0';
	return DM_TREE_OK;
}

static struct dm_node *
account_node(const struct dm_tree *t, const char *server_id)
{
	struct dm_node *acc = tree_child_find(t->root, "DMAcc", 5), *a, *sid;
	size_t len = strlen(server_id);

	for (a = acc != NULL ? acc->first : NULL; a != NULL; a = a->next) {
		sid = tree_child_find(a, "ServerID", 8);
		if (sid != NULL && sid->len == len &&
		    memcmp(sid->value, server_id, len) == 0)
			return a;
	}
	return NULL;
}

static struct dm_node *
auth_node(const struct dm_node *acc, const char *level)
{
	struct dm_node *aa = tree_child_find(acc, "AppAuth", 7), *c, *l;
	size_t len = strlen(level);

	for (c = aa != NULL ? aa->first : NULL; c != NULL; c = c->next) {
		l = tree_child_find(c, "AAuthLevel", 10);
		if (l != NULL && l->len == len && memcmp(l->value, level, len) == 0)
			return c;
	}
	return NULL;
}

static int
read_auth(const struct dm_node *acc, const char *level,
	  struct dm_account_auth *au)
{
	const struct dm_node *n = auth_node(acc, level);
	int st;

	if ((st = leaf_text(n, "AAuthType", au->type, sizeof(au->type))) != DM_TREE_OK ||
	    (st = leaf_text(n, "AAuthName", au->name, sizeof(au->name))) != DM_TREE_OK ||
	    (st = leaf_text(n, "AAuthSecret", au->secret, sizeof(au->secret))) != DM_TREE_OK)
		return st;
	return leaf_text(n, "AAuthData", au->data, sizeof(au->data));
}

int
dm_tree_account_find(struct dm_tree *t, const char *server_id,
		     struct dm_account *out)
{
	const struct dm_node *a, *addr, *port = NULL;
	char portbuf[16];
	char *end;
	unsigned long p;
	int st;

	memset(out, 0, sizeof(*out));
	if ((a = account_node(t, server_id)) == NULL)
		return DM_TREE_NOT_FOUND;
	addr = tree_child_find(a, "AppAddr", 7);
	addr = addr != NULL ? addr->first : NULL;
	if (addr != NULL && (port = tree_child_find(addr, "Port", 4)) != NULL)
		port = port->first;
	if (strlen(a->name) >= sizeof(out->id))
		return DM_TREE_TOO_LARGE;
	strcpy(out->id, a->name);
	if ((st = leaf_text(a, "ServerID", out->server_id, sizeof(out->server_id))) != DM_TREE_OK ||
	    (st = leaf_text(a, "Name", out->name, sizeof(out->name))) != DM_TREE_OK ||
	    (st = leaf_text(a, "PrefConRef", out->pref_con_ref, sizeof(out->pref_con_ref))) != DM_TREE_OK ||
	    (st = leaf_text(addr, "Addr", out->addr, sizeof(out->addr))) != DM_TREE_OK ||
	    (st = leaf_text(addr, "AddrType", out->addr_type, sizeof(out->addr_type))) != DM_TREE_OK ||
	    (st = leaf_text(port, "PortNbr", portbuf, sizeof(portbuf))) != DM_TREE_OK ||
	    (st = leaf_text(a, "AAuthPref", out->aauth_pref, sizeof(out->aauth_pref))) != DM_TREE_OK ||
	    (st = read_auth(a, "CLCRED", &out->client)) != DM_TREE_OK ||
	    (st = read_auth(a, "SRVCRED", &out->server)) != DM_TREE_OK)
		return st;
	if (portbuf[0] != '\0') {
		errno = 0;
		p = strtoul(portbuf, &end, 10);
		if (*end != '\0' || errno != 0 || p > 65535 || portbuf[0] == '-')
			return DM_TREE_BAD_REQUEST;
		out->port = (unsigned)p;
	}
	return DM_TREE_OK;
}

int
dm_tree_account_set_nonce(struct dm_tree *t, const char *server_id,
			  const char *level, const char *nonce_b64)
{
	struct dm_node *a, *au, *d;
	size_t len = strlen(nonce_b64);
	int st;

	if ((a = account_node(t, server_id)) == NULL ||
	    (au = auth_node(a, level)) == NULL)
		return DM_TREE_NOT_FOUND;
	if ((d = tree_child_find(au, "AAuthData", 9)) == NULL)
		return tree_add_node(t, au, "AAuthData", 9, DM_TREE_FMT_B64, NULL,
				(const uint8_t *)nonce_b64, len, NULL);
	if ((st = tree_value_check(DM_TREE_FMT_B64, (const uint8_t *)nonce_b64, len)) != DM_TREE_OK)
		return st;
	if (tree_set_value(d, (const uint8_t *)nonce_b64, len) < 0)
		return DM_TREE_FAILED;
	d->format = DM_TREE_FMT_B64;
	tree_node_touch(d);
	return DM_TREE_OK;
}

/* ---- the DM_SC account ([dm_sc]) and the account list ---- */

int dm_account_conf_check(const struct conf *c, char *err, size_t errlen)
{
	static const char *const keys[] = { "client_nonce", "server_nonce" };
	const char *v[] = { c->dm_sc.client_nonce, c->dm_sc.server_nonce };
	uint8_t buf[DM_ACCOUNT_NONCE_MAX];
	const char *why = "";

	for (size_t i = 0; i < 2; i++)
		if (*v[i] && dm_b64_decode(buf, sizeof(buf), v[i],
					   strlen(v[i])) <= 0)
			return conf_key_error(c, "dm_sc", keys[i], err, errlen,
					      "not base64 of 1 to %d bytes",
					      DM_ACCOUNT_NONCE_MAX);
	/* the checks dm_http_new makes, now rather than at the first session */
	if (dm_http_url_check(c->dm_sc.addr, &why) < 0)
		return conf_key_error(c, "dm_sc", "addr", err, errlen,
				      "'%.100s': %s", c->dm_sc.addr, why);
	if (*c->dm_sc.tcpip_addr &&
	    dm_http_url_check(c->dm_sc.tcpip_addr, &why) < 0)
		return conf_key_error(c, "dm_sc", "tcpip_addr", err, errlen,
				      "'%.100s': %s", c->dm_sc.tcpip_addr, why);
	return 0;
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

/*
 * "client_nonce = X" and "server_nonce = Y" lines; a missing file is "".
 * Read with the state files' reader: a FIFO or other non-regular file put
 * in its place does not block the daemon (it is ignored, and said so).
 */
#define NONCE_FILE_MAX	4096

static void nonces_read(const struct conf *c, struct nonces *n)
{
	char path[300], line[256], *v;
	uint8_t *buf;
	size_t len, at = 0;
	int r;

	memset(n, 0, sizeof(*n));
	nonce_path(c, path, sizeof(path));
	r = dm_file_read(path, NONCE_FILE_MAX, &buf, &len);
	if (r < 0) {
		if (r != -ENOENT)
			log_warn(LOG_DM, "%s: %s: ignored", path,
				 r == -EINVAL ? "not a regular file" :
				 strerror(-r));
		return;
	}
	while (at < len) {
		size_t end = at;

		while (end < len && buf[end] != '\n')
			end++;
		snprintf(line, sizeof(line), "%.*s",
			 (int)(end - at < sizeof(line) ? end - at
						      : sizeof(line) - 1),
			 (const char *)buf + at);
		at = end + 1;
		if (!(v = strstr(line, " = ")))
			continue;
		*v = '\0';
		v += 3;
		if (!strcmp(line, "client_nonce"))
			snprintf(n->client, sizeof(n->client), "%s", v);
		else if (!strcmp(line, "server_nonce"))
			snprintf(n->server, sizeof(n->server), "%s", v);
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
}

int dm_account_dmsc_commit(const struct conf *c)
{
	char path[300], tmp[310];
	FILE *f = NULL;
	int fd, r = 0;

	if (!*c->dm_sc.server_id)
		return 0;
	nonce_path(c, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* O_NONBLOCK: a FIFO in the temporary's place fails (ENXIO), not waits */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK |
		  O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		r = -errno;
		if (fd >= 0)
			close(fd);
	} else {
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

/* AppAddr/2, the address over TCP/IP, with what [dm_sc] tcpip_addr says. */
static int tcpip_add(struct dm_tree *t, const char *addr)
{
	int st;

	if ((st = add_leaf(t, DMSC_BASE, DMSC_TCPIP, DM_TREE_FMT_NODE,
			   NULL)) != DM_TREE_OK ||
	    (st = add_leaf(t, DMSC_BASE, DMSC_TCPIP "/Addr", DM_TREE_FMT_CHR,
			   addr)) != DM_TREE_OK)
		return st;
	return add_leaf(t, DMSC_BASE, DMSC_TCPIP "/AddrType", DM_TREE_FMT_CHR,
			"URI");
}

/*
 * A nonce of [dm_sc] as the log may show it: 'value', or the credential
 * it came from (conf_cred.c), whose content is never logged.
 */
static const char *nonce_shown(const struct conf *c, const char *key,
			       const char *v, char *out, size_t cap)
{
	const char *cred = conf_key_credential(c, "dm_sc", key);

	if (cred)
		snprintf(out, cap, "from credential %s", cred);
	else
		snprintf(out, cap, "'%s'", v);
	return out;
}

static int create(struct dm_tree *t, const struct conf *c)
{
	char cn[sizeof(c->dm_sc.client_nonce) + 2];
	char sn[sizeof(c->dm_sc.server_nonce) + 2];

	struct dm_account a;
	int st;

	dmsc_account(c, &a);
	st = dm_tree_account_add(t, &a);
	OPENSSL_cleanse(&a, sizeof(a));
	if (st == DM_TREE_OK && *c->dm_sc.tcpip_addr)
		st = tcpip_add(t, c->dm_sc.tcpip_addr);
	if (st == DM_TREE_OK)
		st = dmacc_acl(t, c->dm_sc.server_id);
	if (st != DM_TREE_OK) {
		log_err(LOG_DM, "cannot add the DM_SC account for %s: status %d",
			c->dm_sc.server_id, st);
		return -EIO;
	}
	log_info(LOG_DM, "DM_SC account for %s added (%s%s%s)",
		 c->dm_sc.server_id, c->dm_sc.addr,
		 *c->dm_sc.tcpip_addr ? ", over TCP/IP " : "",
		 c->dm_sc.tcpip_addr);
	if (*c->dm_sc.client_nonce || *c->dm_sc.server_nonce)
		log_info(LOG_DM, "DM_SC account " DM_ACCOUNT_DMSC ": initial "
			 "nonces client %s, server %s",
			 nonce_shown(c, "client_nonce", c->dm_sc.client_nonce,
				     cn, sizeof(cn)),
			 nonce_shown(c, "server_nonce", c->dm_sc.server_nonce,
				     sn, sizeof(sn)));
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
static int update_nonce(struct dm_tree *t, const struct conf *c,
			const char *server_id, const char *level,
			const char *who, const char *rec, const char *now)
{
	char key[16], shown[192];

	if (!strcmp(rec, now) || !*now)
		return 0;
	if (dm_tree_account_set_nonce(t, server_id, level, now) != DM_TREE_OK) {
		log_err(LOG_DM, "DM_SC account " DM_ACCOUNT_DMSC ": cannot set "
			"the %s nonce", level);
		return 0;
	}
	snprintf(key, sizeof(key), "%s_nonce", who);
	log_info(LOG_DM, "DM_SC account " DM_ACCOUNT_DMSC ": %s nonce (%s) "
		 "set to %s: [dm_sc] %s changed", who, level,
		 nonce_shown(c, key, now, shown, sizeof(shown)), key);
	return 1;
}

int dm_account_dmsc_tcpip(struct dm_tree *t, char *out, size_t cap)
{
	struct dm_tree_value v;

	if (dm_tree_get(t, NULL, DMSC_BASE "/" DMSC_TCPIP "/Addr", &v) !=
	    DM_TREE_OK || v.len == 0 || v.len >= cap)
		return -ENOENT;
	memcpy(out, v.data, v.len);
	out[v.len] = '\0';
	return 0;
}

/* AppAddr/2 as [dm_sc] tcpip_addr says: added, changed or deleted. */
static int update_tcpip(struct dm_tree *t, const char *now)
{
	char old[sizeof(((struct conf *)0)->dm_sc.tcpip_addr) + 64] = "";
	bool had = dm_account_dmsc_tcpip(t, old, sizeof(old)) == 0;
	int st;

	if (!strcmp(old, now))
		return 0;
	if (had && *now)
		return field(t, DMSC_TCPIP "/Addr", "tcpip_addr", old, now);
	log_info(LOG_DM, "DM_SC account " DM_ACCOUNT_DMSC ": tcpip_addr %s -> %s",
		 had ? old : "(none)", *now ? now : "(none)");
	/* a node without its Addr, if any, goes first */
	st = dm_tree_delete(t, NULL, DMSC_BASE "/" DMSC_TCPIP);
	if (*now)
		st = tcpip_add(t, now);
	if (st != DM_TREE_OK && st != DM_TREE_NOT_FOUND)
		log_err(LOG_DM, "cannot set %s/%s: status %d", DMSC_BASE,
			DMSC_TCPIP, st);
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
	n += update_tcpip(t, c->dm_sc.tcpip_addr);
	n += field(t, "AAuthPref", "AAuthPref", old->aauth_pref,
		   now.aauth_pref);
	n += update_auth(t, "CLCRED", &old->client, &now.client, "client");
	n += update_auth(t, "SRVCRED", &old->server, &now.server, "server");
	n += update_nonce(t, c, now.server_id, "CLCRED", "client",
			  rec.client, now.client.data);
	n += update_nonce(t, c, now.server_id, "SRVCRED", "server",
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
