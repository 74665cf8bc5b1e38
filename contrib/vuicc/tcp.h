/* SPDX-License-Identifier: MIT */
/*
 * The card's own TCP/IP stack (ETSI TS 102 483, over USB EEM, TS 102 600),
 * played by real sockets: the Smartcard Web Server (scws.c), behind
 * TLS-PSK (tls.c) for --tcp-tls, on a TCP port bound to a given address,
 * in addition to BIP.  A terminal reaches the card's DM_SC server both
 * ways then (OMA-TS-DM_SC 8.1 table 2: https://localuicc:443/OMA/DM over
 * TCP/IP).  The address is meant to be the card's end of a link
 * (--netns: a network namespace made for it, as a test does with a veth
 * pair); the vpcd link stays where the card was started.
 */
#ifndef DMSC_VUICC_TCP_H
#define DMSC_VUICC_TCP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VTCP_MAX_LISTEN		4
#define VTCP_MAX_CONN		8	/* connections open at once, all ports */
#define VTCP_POLLFDS		(VTCP_MAX_LISTEN + VTCP_MAX_CONN)

struct vtcp_listen {
	char spec[80];		/* ADDR, ADDR:PORT, [V6] or [V6]:PORT */
	bool tls;
};

struct vtcp_config {
	struct vtcp_listen listen[VTCP_MAX_LISTEN];
	size_t n;
	const char *netns;	/* path of a network namespace, or NULL */
	const char *www;	/* --www */
	const char *psk_identity;
	const uint8_t *psk;
	size_t psk_len;
};

struct vtcp;

/*
 * Check one --tcp/--tcp-tls argument (a numeric address, a port 1..65535
 * or the default, 80 or 443): 0, or -1 after a message.
 */
int vtcp_check_spec(const char *spec);
/*
 * Listen as cfg says (it is not copied): NULL after a message when an
 * address cannot be bound or the namespace cannot be entered.
 */
struct vtcp *vtcp_new(const struct vtcp_config *cfg);
void vtcp_free(struct vtcp *t);
/* The fds to wait for, into p (VTCP_POLLFDS at most): their number. */
size_t vtcp_pollfds(struct vtcp *t, struct pollfd *p, size_t cap);
/* What ppoll() said of them, in the same order. */
void vtcp_handle(struct vtcp *t, const struct pollfd *p, size_t n);

#endif
