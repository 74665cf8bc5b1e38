/* SPDX-License-Identifier: MIT */
/*
 * What the DM client still owes the server, in send order, cut into
 * messages of the server's MaxMsgSize (DM Protocol 1.2 clause 8.1,
 * RepPro 1.2 6.4), and what the last message carried until the server
 * acknowledged it: a challenged message is sent again with its content
 * (DM Protocol 1.2 clause 9.1), not lost.
 *
 * The outbox owns the messages whose commands it holds (their arenas),
 * and frees each one when nothing queued or unacknowledged lives in it.
 */
#ifndef DMSCGW_DM_OUTBOX_H
#define DMSCGW_DM_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "syncml/syncml.h"

struct dm_outbox;

struct dm_outbox *dm_outbox_new(void);
/* Frees every message it holds; accepts NULL. */
void dm_outbox_free(struct dm_outbox *ob);

/*
 * Take the commands of m and m itself.  Status commands go before the
 * other ones (DM Protocol 1.2 clause 8.1: Status first), the one for the
 * server's SyncHdr (CmdRef 0) ahead of all; others keep their order at the
 * end.  m's command list is empty afterwards.  0 or -ENOMEM (m is then
 * still the outbox's and freed with it).
 */
int dm_outbox_take(struct dm_outbox *ob, struct syncml_msg *m);

/*
 * Encode the next message: the header of hdr (hdr's own commands are
 * taken first) and as much of the queue as fits into max bytes; Final
 * when final is set and nothing is left.  What went out is remembered as
 * unacknowledged; what was unacknowledged before is dropped.  0, -ENOMEM,
 * -E2BIG (not even one command fits) or -EINVAL (cannot be represented).
 */
int dm_outbox_encode(struct dm_outbox *ob, struct syncml_msg *hdr,
		     enum syncml_format fmt, size_t max, bool final,
		     struct buf *out);

/* The server took the last message: forget its content. */
void dm_outbox_ack(struct dm_outbox *ob);
/*
 * The server refused the last message (401/407 on our SyncHdr): its
 * content goes back to the front of the queue, in its order, except its
 * Status for the server's SyncHdr (a new one answers the new message).
 * A large object's chunk is sent again from where it started.
 */
void dm_outbox_requeue(struct dm_outbox *ob);
/* Drop everything, queued and unacknowledged (a new Package#1). */
void dm_outbox_clear(struct dm_outbox *ob);

bool dm_outbox_empty(const struct dm_outbox *ob);
/* Commands queued (a chunked object counts once). */
size_t dm_outbox_queued(const struct dm_outbox *ob);
/* Is an Alert with this code queued? */
bool dm_outbox_has_alert(const struct dm_outbox *ob, unsigned code);

#endif
