/* SPDX-License-Identifier: MIT */
/*
 * The modem side of dmscgw (OMA-TS-DM_SC-V1_0 7.2, the on-line trigger):
 * DM Notifications that arrive by SMS in a WAP push go to the DM client;
 * SEND SHORT MESSAGE from the card goes out through the modem; the
 * modem's registration and location feed the Location Status source, its
 * outgoing calls the Call Control source.  ModemManager is the only way to
 * the modem (mm.h).
 */
#ifndef DMSCGW_SMS_H
#define DMSCGW_SMS_H

#include <stddef.h>
#include <stdint.h>

struct sdbus;
struct cat_engine;
struct conf;
struct dm_client;
struct wakeup;
struct sms_service;

/* bus NULL or [modem] enable = no: no modem, SEND SHORT MESSAGE refused. */
struct sms_service *sms_new(struct sdbus *bus, const struct conf *c,
			    struct cat_engine *e, struct wakeup *w,
			    struct dm_client *dc);
void sms_free(struct sms_service *s);
/* [modem] changed (SIGHUP): the modem is followed again when it must. */
void sms_reconfigure(struct sms_service *s, const struct conf *c);

/* What the bytes handed to sms_notify() are: said, never guessed. */
enum sms_notify_kind {
	SMS_NOTIFY_PACKAGE0,	/* the bare Package#0 */
	SMS_NOTIFY_WAP_PUSH,	/* a WSP push PDU, or SMS user data starting
				 * with its header for WDP port 2948 */
};

/*
 * Hand a DM Notification of that kind to the DM client.  Returns as
 * dm_client_notify(); for a WAP push also -EBADMSG (not a push, or a
 * broken one) and -EPROTO (a push that is no DM notification), why filled.
 * Every refusal is logged at notice.
 */
int sms_notify(struct dm_client *dc, enum sms_notify_kind kind,
	       const uint8_t *p, size_t len, const char *source, char *why,
	       size_t whylen);

#endif
