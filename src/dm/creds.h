/* SPDX-License-Identifier: MIT */
/*
 * The credentials of one DM session, both ways (OMA DM Protocol 1.2
 * clause 9, DM_Security 1.2 clause 5, DM_Notification 1.2 5.1): our Cred
 * or x-syncml-hmac, the nonces we are given and give, and whether the
 * server is who it says.  Nonces live in the session's copy of the account
 * and, where the rules allow, in the tree.
 */
#ifndef DMSCGW_DM_CREDS_H
#define DMSCGW_DM_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "syncml/syncml.h"

struct dm_tree;
struct dm_account;

struct dm_creds {
	struct dm_tree *tree;
	struct dm_account *acc;	/* the session's copy */
	bool resync;		/* Package#0 verified on the zero nonce */
	bool zero_nonce;	/* our credentials on 0x00000000 for now */
	bool done;		/* 212: no Cred for the rest of the session */
	bool unsaved;		/* our nonce came from an unproven server */
	bool server_authed;	/* the server has proven itself */
	bool stored;		/* a nonce was written to the tree */
};

void dm_creds_init(struct dm_creds *cr, struct dm_tree *tree,
		   struct dm_account *acc, bool resync);

/* Our <Cred> into m's header, unless none is due.  0 or -errno. */
int dm_creds_put(struct dm_creds *cr, struct syncml_msg *m);
/* Is HMAC the client's (or, server: true, the server's) method? */
bool dm_creds_hmac(const struct dm_creds *cr, bool server);
/* The x-syncml-hmac header for body (the client's HMAC account). */
int dm_creds_hmac_header(struct dm_creds *cr, const uint8_t *body,
			 size_t len, char *out, size_t cap);
/*
 * A Chal in st (the Status for the server's SyncHdr) with a fresh nonce
 * for the server's next credentials, stored now: it is being sent.
 */
int dm_creds_chal(struct dm_creds *cr, struct syncml_msg *m,
		  struct syncml_cmd *st);
/*
 * The server's credentials in message in (hmac: its x-syncml-hmac header
 * or NULL; body: the message as received).  The Status code for its
 * SyncHdr: 200, 212 the first time it proves itself, 401 or 407.
 */
unsigned dm_creds_check_server(struct dm_creds *cr,
			       const struct syncml_msg *in, const char *hmac,
			       const uint8_t *body, size_t len);
/* A NextNonce for our credentials; trusted: from a proven server. */
void dm_creds_next_nonce(struct dm_creds *cr, const char *b64, bool trusted);
/* Did anything reach the tree since the last call?  Clears it. */
bool dm_creds_stored(struct dm_creds *cr);

#endif
