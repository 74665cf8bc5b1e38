/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "syncml/auth.h"
#include "dm/creds.h"
#include "dm/exec.h"
#include "dm/tree.h"

#define AUTH_BASIC	"syncml:auth-basic"
#define AUTH_MD5	"syncml:auth-md5"
#define AUTH_MAC	"syncml:auth-MAC"	/* DM_Security 5.4 */
#define NONCE_LEN	16

static const uint8_t zero_nonce[DM_NONCE_ZERO_LEN];

static bool is_type(const char *a, const char *b)
{
	return a && !strcasecmp(a, b);
}

void dm_creds_init(struct dm_creds *cr, struct dm_tree *tree,
		   struct dm_account *acc, bool resync)
{
	memset(cr, 0, sizeof(*cr));
	cr->tree = tree;
	cr->acc = acc;
	cr->resync = resync;
	cr->zero_nonce = resync;
}

bool dm_creds_hmac(const struct dm_creds *cr, bool server)
{
	return is_type(server ? cr->acc->server.type : cr->acc->client.type,
		       "HMAC");
}

static size_t nonce_bytes(const char *b64, uint8_t *out, size_t cap)
{
	int n = dm_b64_decode(out, cap, b64, strlen(b64));

	return n > 0 ? (size_t)n : 0;
}

/* The nonce our credentials use now: 0x00000000 after a resync. */
static size_t client_nonce(const struct dm_creds *cr, uint8_t *out,
			   size_t cap)
{
	if (cr->zero_nonce) {
		/* DM_Notification 1.2 5.1: Package#1 "based on nonce
		 * value 0x00000000" until the server gives a new one */
		memset(out, 0, DM_NONCE_ZERO_LEN);
		return DM_NONCE_ZERO_LEN;
	}
	return nonce_bytes(cr->acc->client.data, out, cap);
}

static void store(struct dm_creds *cr, const char *level, const char *b64)
{
	dm_tree_account_set_nonce(cr->tree, cr->acc->server_id, level, b64);
	cr->stored = true;
}

bool dm_creds_stored(struct dm_creds *cr)
{
	bool s = cr->stored;

	cr->stored = false;
	return s;
}

/*
 * DM_Security 1.2 5.3.4: the latest nonce is used for the next Cred even
 * when the server has not proven who it is, but stored only once it has.
 */
void dm_creds_next_nonce(struct dm_creds *cr, const char *b64, bool trusted)
{
	snprintf(cr->acc->client.data, sizeof(cr->acc->client.data), "%s",
		 b64);
	cr->zero_nonce = false;
	cr->unsaved = !trusted;
	if (trusted)
		store(cr, "CLCRED", b64);
}

/* DM Protocol 1.2 9.1: Cred in every request until the server says 212. */
int dm_creds_put(struct dm_creds *cr, struct syncml_msg *m)
{
	const struct dm_account_auth *a = &cr->acc->client;
	struct syncml_hdr *h = &m->hdr;
	char buf[DM_B64_CAP(DM_AUTH_BASIC_MAX)];
	uint8_t nonce[128];
	int r;

	if (cr->done || !*a->type || dm_creds_hmac(cr, false))
		return 0;	/* HMAC travels in a transport header */
	if (is_type(a->type, "BASIC")) {
		r = dm_auth_basic(buf, sizeof(buf), a->name, a->secret);
		h->cred.meta.type = syncml_strdup(m, AUTH_BASIC);
	} else {
		r = dm_auth_md5(buf, sizeof(buf), a->name, a->secret, nonce,
				client_nonce(cr, nonce, sizeof(nonce)));
		h->cred.meta.type = syncml_strdup(m, AUTH_MD5);
	}
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (r < 0)
		return r;
	h->has_cred = true;
	h->cred.meta.format = syncml_strdup(m, "b64");
	return syncml_set_data(m, &h->cred.data, buf, (size_t)r, false);
}

/* DM_Security 5.4: on every message once in use. */
int dm_creds_hmac_header(struct dm_creds *cr, const uint8_t *body,
			 size_t len, char *out, size_t cap)
{
	const struct dm_account_auth *a = &cr->acc->client;
	uint8_t nonce[128];
	int r;

	r = dm_hmac_header(out, cap, a->name, a->secret, nonce,
			   client_nonce(cr, nonce, sizeof(nonce)), body, len);
	OPENSSL_cleanse(nonce, sizeof(nonce));
	return r;
}

/* The type is the account's: syncml:auth-MAC for HMAC (DM_Security 5.4). */
int dm_creds_chal(struct dm_creds *cr, struct syncml_msg *m,
		  struct syncml_cmd *st)
{
	const char *type = cr->acc->server.type;
	char b64[DM_B64_CAP(NONCE_LEN)];
	uint8_t n[NONCE_LEN];

	st->has_chal = true;
	st->chal.format = syncml_strdup(m, "b64");
	if (is_type(type, "BASIC")) {
		st->chal.type = syncml_strdup(m, AUTH_BASIC);
		return st->chal.type ? 0 : -ENOMEM;
	}
	st->chal.type = syncml_strdup(m, is_type(type, "HMAC") ? AUTH_MAC :
					 AUTH_MD5);
	if (dm_nonce_generate(n, sizeof(n)) < 0 ||
	    dm_b64_encode(b64, sizeof(b64), n, sizeof(n)) < 0)
		return -EIO;
	st->chal.next_nonce = syncml_strdup(m, b64);
	if (!st->chal.next_nonce || !st->chal.type)
		return -ENOMEM;
	snprintf(cr->acc->server.data, sizeof(cr->acc->server.data), "%s",
		 b64);
	store(cr, "SRVCRED", b64);
	return 0;
}

/*
 * HMAC is checked on every message (DM_Security 5.4: "it MUST be used for
 * all subsequent messages"), with the nonce we gave last; Cred once.
 * After a resync the zero nonce is also accepted until the server has
 * proven itself (DM_Notification 5.1).
 */
unsigned dm_creds_check_server(struct dm_creds *cr,
			       const struct syncml_msg *in, const char *hmac,
			       const uint8_t *body, size_t len)
{
	const struct dm_account_auth *a = &cr->acc->server;
	const struct syncml_hdr *h = &in->hdr;
	uint8_t nonce[128];
	size_t nl = nonce_bytes(a->data, nonce, sizeof(nonce));
	bool retry_zero = cr->resync && !cr->server_authed;
	struct dm_hmac mac;
	int r;

	if (!*a->type) {
		cr->server_authed = true;	/* nothing to prove */
		return DM_ST_OK;
	}
	if (cr->server_authed && !dm_creds_hmac(cr, true)) {
		r = 0;
	} else if (dm_creds_hmac(cr, true)) {
		/* 5.4: a missing header or userid counts as a failed
		 * authentication */
		if (!hmac || dm_hmac_parse(hmac, &mac) < 0)
			return DM_ST_INVALID_CRED;
		r = dm_hmac_verify(&mac, a->name, a->secret, nonce, nl, body,
				   len);
		if (r == -EACCES && retry_zero)
			r = dm_hmac_verify(&mac, a->name, a->secret, zero_nonce,
					   sizeof(zero_nonce), body, len);
	} else {
		if (!h->has_cred || !h->cred.data.p)
			return DM_ST_MISSING_CRED;
		r = dm_cred_check(h->cred.meta.type,
				  (const char *)h->cred.data.p, a->name,
				  a->secret, nonce, nl);
		if (r == -EACCES && retry_zero)
			r = dm_cred_check(h->cred.meta.type,
					  (const char *)h->cred.data.p, a->name,
					  a->secret, zero_nonce,
					  sizeof(zero_nonce));
	}
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (r < 0)
		return DM_ST_INVALID_CRED;
	if (cr->unsaved) {
		/* the nonce a stranger gave: stored now it is no stranger */
		store(cr, "CLCRED", cr->acc->client.data);
		cr->unsaved = false;
	}
	if (cr->server_authed)
		return DM_ST_OK;
	cr->server_authed = true;
	return DM_ST_AUTH_ACCEPTED;
}
