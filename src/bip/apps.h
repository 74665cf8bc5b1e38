/* SPDX-License-Identifier: MIT */
/*
 * The terminal-application registry (OMA-TS-DM_SC spec 7.1; registry
 * application data, TS 102 223 clause 8.88, in the Terminal Applications
 * envelope 'DC'): the applications the card may reach in terminal server
 * mode, announced to it after the terminal profile.  The one BIP header the DM client includes: it registers itself
 * here as the application of type 07 and takes the card's bytes in-process.
 */
#ifndef DMSCGW_BIP_APPS_H
#define DMSCGW_BIP_APPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bip;
struct cat;

/* Registry application type of an OMA DM client (spec 7.1). */
#define BIP_APP_TYPE_DM		0x07
/*
 * Additional information of result '20' "terminal currently unable to
 * process command" (TS 102 223 clause 8.12.2): no specific cause.
 */
#define BIP_APP_NO_CAUSE	0x00

/* What an application says to a channel or to the card's bytes. */
enum bip_app_verdict {
	BIP_APP_TAKEN,		/* the channel opens / the bytes are taken */
	BIP_APP_UNABLE,		/* the card gets result '20' and the cause */
};

struct bip_app_result {
	enum bip_app_verdict verdict;
	uint8_t cause;		/* BIP_APP_UNABLE: clause 8.12.2 byte */
};

#define BIP_APP_OK ((struct bip_app_result){ BIP_APP_TAKEN, 0 })
#define BIP_APP_REFUSED(cause) ((struct bip_app_result){ BIP_APP_UNABLE, (cause) })

/*
 * An application reached in-process (the DM client): offered() whether it
 * is announced to a card that starts (it is turned off), open() when the
 * card opens a channel to its port, deliver() with the bytes the card
 * sends ("send immediately"), close() when the channel closes.  Every
 * member optional; a missing offered announces it, a missing open or
 * deliver takes everything.
 */
struct bip_app_ops {
	bool (*offered)(void *arg);
	struct bip_app_result (*open)(void *arg, struct cat *c,
				      unsigned channel);
	struct bip_app_result (*deliver)(void *arg, struct cat *c,
					 unsigned channel, const uint8_t *p,
					 size_t len);
	void (*close)(void *arg, struct cat *c, unsigned channel);
};

/* Register an in-process application; -EEXIST when its port is taken. */
/*
 * The daemon's own client (the DM client, for the card's DM_SC server) is
 * about to reach a UICC server mode port from local: that connection goes
 * before every other client, and takes a channel from another client when
 * none is free (server.c).
 */
struct sockaddr;
void bip_apps_expect_own(struct bip *b, const struct sockaddr *local,
			 unsigned len);

int bip_apps_register(struct bip *b, uint16_t port, uint8_t type,
		      const char *name, const struct bip_app_ops *ops,
		      void *arg);

#endif
