/* SPDX-License-Identifier: MIT */
/*
 * The card side of the Bearer Independent Protocol, ETSI TS 102 223 clauses
 * 6.4.27-6.4.31 (OPEN CHANNEL, CLOSE CHANNEL, RECEIVE DATA, SEND DATA, GET
 * CHANNEL STATUS) and 7.5.10-7.5.11 (Data available, Channel status events),
 * with the Smartcard Web Server (scws.c) on every UICC-server-mode channel,
 * behind TLS-PSK (tls.c) on the channels opened for --scws-tls.
 *
 * The engine keeps at most one BIP command of its own in the card's
 * proactive queue at a time: channel ids, buffer sizes and the bytes left in
 * the terminal's buffers only become known from each TERMINAL RESPONSE, so
 * the next command is chosen when the previous one has been answered.
 * Events that come in meanwhile update the channels' state and are acted on
 * in turn.  Every BIP command the card fetches and every answer to it also
 * updates the channel table, whoever queued it (a raw 'proactive' step too).
 */
#ifndef DMSC_VUICC_BIP_H
#define DMSC_VUICC_BIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"
#include "vuicc.h"

#define BIP_MAX_SCWS		7	/* channel ids 1..7 */
#define BIP_CHUNK_MAX		237	/* channel data in one 255-byte D0 or TR */
#define BIP_BUFFER_DEFAULT	1400

struct bip_config {
	uint16_t scws_port[BIP_MAX_SCWS];	/* --scws and --scws-tls, in order */
	bool scws_tls[BIP_MAX_SCWS];		/* that one is --scws-tls */
	size_t n_scws;
	const char *www;			/* --www, or NULL */
	uint16_t buffer;			/* --buffer */
	bool ignore_room;			/* --ignore-room */
	const char *psk_identity;		/* --psk-identity */
	uint8_t psk[VTLS_PSK_MAX];		/* --psk */
	size_t psk_len;
};

struct bip;

struct bip *bip_new(struct vuicc *card, const struct bip_config *cfg);
void bip_free(struct bip *b);

/* --- from the card (vuicc.c), before the scenario sees the command ------ */

/* Power on, power off, reset, vpcd gone: the terminal forgets the channels. */
void bip_on_reset(struct bip *b);
/* TERMINAL PROFILE: the SCWS set-up is queued once per session. */
void bip_on_profile(struct bip *b, const uint8_t *profile, size_t len);
void bip_on_fetch(struct bip *b, const uint8_t *cmd, size_t len);
/* A TERMINAL RESPONSE to cmd (the fetched command; NULL if none). */
void bip_on_tr(struct bip *b, const uint8_t *cmd, size_t cmd_len,
	       const uint8_t *tr, size_t tr_len);
/* An accepted ENVELOPE (refused ones, '93 00', are sent again). */
void bip_on_envelope(struct bip *b, const uint8_t *p, size_t len);

/* --- from the scenario --------------------------------------------------- */

/*
 * D0 { command details 81 03 number type qualifier, device identities
 * 82 02 81 dest, body } into out (VUICC_MAX_PROACTIVE bytes), TS 102 223
 * clause 6.6.  Returns the length, 0 if it does not fit in 255 bytes.
 */
size_t bip_build_command(uint8_t *out, uint8_t number, uint8_t type,
			 uint8_t qualifier, uint8_t dest, const uint8_t *body,
			 size_t body_len);
/* A whole D0 command, sent when the commands before it have been answered. */
int bip_submit(struct bip *b, const uint8_t *cmd, size_t len);
/*
 * SEND DATA of len bytes on channel in chunks of at most BIP_CHUNK_MAX,
 * numbered from number on: "store" for all but the last, which is "send
 * immediately" when now, unless the terminal's Tx buffer would overflow
 * (then that chunk is sent immediately).  The data are copied.
 */
int bip_submit_send(struct bip *b, uint8_t channel, uint8_t number,
		    const uint8_t *data, size_t len, bool now);
/* RECEIVE DATA on Data available for client and local channels. */
void bip_set_auto_receive(struct bip *b, bool on);
/* What RECEIVE DATA brought on a client or local channel since the last consume. */
void bip_received(const struct bip *b, unsigned channel, const uint8_t **p,
		  size_t *len);
void bip_consume(struct bip *b, unsigned channel);

#endif
