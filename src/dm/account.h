/* SPDX-License-Identifier: MIT */
/*
 * The DM accounts as the device sees them: the DM_SC server's account
 * (OMA-TS-DM_SC 8.1), ./DMAcc/DMSC, kept as [dm_sc] says, and the list of
 * every ./DMAcc/<x> for display.  Accounts that servers provisioned are
 * never changed here.
 */
#ifndef DMSCGW_DM_ACCOUNT_H
#define DMSCGW_DM_ACCOUNT_H

#include <stddef.h>

#include "dm/tree.h"

struct conf;

/* The node name of the DM_SC account under ./DMAcc. */
#define DM_ACCOUNT_DMSC		"DMSC"
/*
 * The DM_SC account keeps one AppAddr per transport (OMA-TS-DM_SC 8.1
 * table 2): AppAddr/1 over BIP ([dm_sc] addr, https://127.0.0.1:4116/OMA/DM)
 * and AppAddr/2 over TCP/IP ([dm_sc] tcpip_addr, whose host "localuicc"
 * stands for the card on its IP link).
 */
#define DM_ACCOUNT_LOCALUICC	"localuicc"
/* The largest initial nonce [dm_sc] takes (the Package#0 check's bound). */
#define DM_ACCOUNT_NONCE_MAX	128

/*
 * Check [dm_sc] client_nonce and server_nonce (base64 of 1 to 128 bytes, or
 * "") and addr and tcpip_addr (as dm_http_new takes them; tcpip_addr may be
 * ""): 0, or -1 with "file:line: key: why" in err.
 */
int dm_account_conf_check(const struct conf *c, char *err, size_t errlen);

/*
 * Make ./DMAcc/DMSC what [dm_sc] says.  Missing: it is created, its
 * AAuthData seeded with the initial nonces.  Present: every field that
 * differs (both AppAddrs, AAuthPref and both AAuthTypes, ServerID, the names and
 * passwords) is set and logged at info, passwords only as "changed".  An
 * initial nonce is written only when its value in [dm_sc] differs from the
 * one last applied (<state_dir>/dmsc-nonces), so that the nonces sessions
 * store later survive restarts and reloads; an empty value is never
 * written.  [dm_sc] server_id empty: nothing is done.
 *
 * Returns the number of changes to the tree, or a negative errno (logged).
 * Unless negative, the caller saves the tree when it changed, then calls
 * dm_account_dmsc_commit().
 */
int dm_account_apply_dmsc(struct dm_tree *t, const struct conf *c);

/*
 * Remember the initial nonces of c as applied (<state_dir>/dmsc-nonces,
 * replaced atomically), an empty one too: set again later, it applies
 * again.  Called once the tree that holds them is on disk: a crash in
 * between applies them once more, never loses them.
 */
int dm_account_dmsc_commit(const struct conf *c);

/*
 * The DM_SC account's address over TCP/IP (AppAddr/2/Addr) into out: 0, or
 * -ENOENT when it has none.
 */
int dm_account_dmsc_tcpip(struct dm_tree *t, char *out, size_t cap);

/* Every ./DMAcc/<x> with a ServerID, into *out (malloc'd, *n of them). */
int dm_account_list(struct dm_tree *t, struct dm_account **out, size_t *n);

#endif
