/* SPDX-License-Identifier: MIT */
/*
 * BIP channels (ETSI TS 102 223 classes e and k) proxied to sockets:
 * UICC server mode (the SCWS) on loopback listeners, UICC client mode to
 * TCP/UDP peers, and terminal server mode to the local applications of the
 * registry (apps.h).  The module registers the five BIP command handlers
 * and the fast path's delegate with the CAT engine and sends the Data
 * Available and Channel Status events.
 */
#ifndef DMSCGW_BIP_H
#define DMSCGW_BIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cat;
struct cat_engine;
struct conf;
struct bip;

struct bip *bip_new(struct cat_engine *e, const struct conf *c);
void bip_free(struct bip *b);
void bip_reconfigure(struct bip *b, const struct conf *c);

/* Card lifecycle: Terminal Applications envelope after the profile. */
void bip_card_up(struct bip *b, struct cat *c);
void bip_card_gone(struct bip *b, struct cat *c);

/* Visibility (D-Bus). */
struct bip_channel_info {
	uint8_t id;
	uint8_t transport;
	const char *state;	/* "listen", "connecting", "established", "dropped", "open" */
	uint16_t port;
	char peer[64];
	uint64_t bytes_in;	/* peer -> card */
	uint64_t bytes_out;	/* card -> peer */
};
size_t bip_channels(struct bip *b, struct cat *c, struct bip_channel_info *out,
		    size_t cap);

/* Observer of channel changes (D-Bus signals and properties). */
void bip_set_observer(struct bip *b,
		      void (*changed)(void *arg, struct cat *c, uint8_t id,
				      const char *what),
		      void *arg);

/*
 * Check [bip] applications, each port once and none [dm] client_port: 0,
 * or -1 with "file:line: key: why" in err.
 */
int bip_conf_check(const struct conf *c, char *err, size_t errlen);

#endif
