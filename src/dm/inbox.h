/* SPDX-License-Identifier: MIT */
/*
 * The Inbox (OMA-TS-DM_StdObj-V1_2 5.3.4, MO urn:oma:mo:oma-dm-inbox:1.0;
 * OMA-TS-DM_SC 7, DM_SC-C-003 / SCR-DM-STDOBJ-C-004): a server adds a
 * whole management object under ./Inbox without knowing where the device
 * keeps it, and the device places it by its management object identifier,
 * the Type of the object's root (an interior node).  Nothing is stored
 * under ./Inbox itself.
 *
 * One dm_inbox lives as long as a session: an object placed at
 * ./DMAcc/<x> by an Add of ./Inbox/<x> takes the later Adds of
 * ./Inbox/<x>/... of that session there too (the items after the root in
 * the same Add, or later Adds).
 */
#ifndef DMSCGW_DM_INBOX_H
#define DMSCGW_DM_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include "dm/tree.h"

struct dm_inbox;

struct dm_inbox *dm_inbox_new(void);
void dm_inbox_free(struct dm_inbox *ib);

/*
 * dm_tree_add, with the Inbox's placement for uri under ./Inbox: the
 * status of the Add where the object lands (ACLs of the destination
 * apply), or
 *   400  the root of the object has no Type: nothing tells where it goes;
 *   404  ./Inbox/<x>/... without ./Inbox/<x> placed earlier in the session;
 *   406  a management object this device does not place (an unknown
 *        Type, or a leaf as the object's root: TNDS is not supported).
 * log_id names the session in the log.
 */
int dm_inbox_add(struct dm_inbox *ib, struct dm_tree *t, const char *server,
		 const char *log_id, const char *uri,
		 enum dm_tree_format format, const char *type,
		 const uint8_t *value, size_t len);

#endif
