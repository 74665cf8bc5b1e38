/* SPDX-License-Identifier: MIT */
/*
 * Bearer Independent Protocol codings (ETSI TS 102 223 clauses 6.4.27-31,
 * 8.52-8.59, 7.5.10-11; 3GPP TS 31.111 for the 3GPP bearers): the data of
 * the five BIP proactive commands decoded into structs, and the objects the
 * terminal returns.  Pure functions, no I/O.
 */
#ifndef DMSCGW_BIP_CODEC_H
#define DMSCGW_BIP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BIP_MAX_CHANNELS	7
#define BIP_MAX_BUFFER		65535	/* buffer size object: 2 bytes */
#define BIP_MAX_CHUNK		237	/* channel data in one TERMINAL RESPONSE */

/* UICC/terminal interface transport level (clause 8.59). */
enum bip_transport {
	BIP_UDP_REMOTE = 0x01,		/* UDP, UICC in client mode, remote */
	BIP_TCP_REMOTE = 0x02,		/* TCP, UICC in client mode, remote */
	BIP_TCP_SERVER = 0x03,		/* TCP, UICC in server mode */
	BIP_UDP_LOCAL = 0x04,		/* UDP, UICC in client mode, local */
	BIP_TCP_LOCAL = 0x05,		/* TCP, UICC in client mode, local */
	BIP_DIRECT = 0x06,		/* direct communication channel */
};

/* Bearer types (clause 8.52). */
enum bip_bearer {
	BIP_BEARER_CSD = 0x01,
	BIP_BEARER_PACKET = 0x02,	/* GPRS / UTRAN packet service */
	BIP_BEARER_DEFAULT = 0x03,
	BIP_BEARER_LOCAL = 0x04,
	BIP_BEARER_EUTRAN = 0x0B,
	BIP_BEARER_USB = 0x10,
};

/* Channel status byte 1 (clause 8.56): channel id in bits 1-3, and */
#define BIP_CS_LINK_UP		0x80	/* client modes: link established */
#define BIP_CS_LISTEN		0x40	/* UICC server mode: 01 = listen */
#define BIP_CS_ESTABLISHED	0x80	/* UICC server mode: 10 = established */
/* Channel status byte 2 */
#define BIP_CS_NO_INFO		0x00
#define BIP_CS_LINK_DROPPED	0x05

/* BIP error causes, additional information of result 3A (clause 8.12.11). */
enum bip_cause {
	BIP_ERR_NONE = 0x00,
	BIP_ERR_NO_CHANNEL = 0x01,
	BIP_ERR_CLOSED = 0x02,
	BIP_ERR_BAD_CHANNEL_ID = 0x03,
	BIP_ERR_BUFFER_SIZE = 0x04,
	BIP_ERR_SECURITY = 0x05,
	BIP_ERR_TRANSPORT = 0x06,
	BIP_ERR_UNREACHABLE = 0x07,
	BIP_ERR_SERVICE = 0x08,
	BIP_ERR_SERVICE_UNKNOWN = 0x09,
	BIP_ERR_PORT = 0x10,
	BIP_ERR_LAUNCH_PARAMS = 0x11,
	BIP_ERR_LAUNCH_FAILED = 0x12,
};

/* Other address (clause 8.58). */
struct bip_address {
	int family;		/* 0 none, 4, 6 */
	uint8_t addr[16];
};

struct bip_open {
	uint8_t qualifier;	/* bit 1 immediate link, 2 auto reconnect, 3 background */
	bool has_bearer;
	uint8_t bearer[32];	/* bearer description value: type + parameters */
	size_t bearer_len;
	uint16_t buffer_size;
	bool has_transport;
	uint8_t transport;	/* enum bip_transport */
	uint16_t port;
	struct bip_address local;	/* first other address, when two */
	struct bip_address dest;	/* data destination address */
	char apn[101];		/* network access name, dotted; "" none */
};

/*
 * Decode the data of a BIP command; p/len is the whole D0 object (already
 * accepted by cat_cmd_decode).  0, or a positive general result (32 data
 * not understood, 36 values missing) the terminal must answer with.
 * OPEN CHANNEL: buffer size mandatory; bearer description mandatory unless
 * the transport level is a local one (03 UICC server mode, 04/05/06), so a
 * command with neither is 36; data destination address mandatory with the
 * remote client transports 01/02 (clause 6.6.27).  Other address: with two
 * objects the first is the local address, with one it is the destination.
 */
int bip_open_decode(const uint8_t *p, size_t len, struct bip_open *o);
/* SEND DATA: channel data (36), may be empty. */
int bip_send_decode(const uint8_t *p, size_t len, const uint8_t **data,
		    size_t *dlen);
/* RECEIVE DATA: channel data length (37). */
int bip_receive_decode(const uint8_t *p, size_t len, uint8_t *want);

/* Channel of a device identity: 21..27 -> 1..7, else 0. */
static inline unsigned bip_channel_of(uint8_t dev)
{
	return dev >= 0x21 && dev <= 0x27 ? dev - 0x20u : 0;
}

/*
 * Objects returned in TERMINAL RESPONSEs, appended to a buffer; each returns
 * the bytes written, -ENOSPC, or -EINVAL for arguments no object can carry.
 * The CR bit of each follows the TS 31.124 expected sequences, which differ
 * by command: OPEN CHANNEL returns 38 channel status, 35 bearer, 39 buffer
 * size (CR clear); RECEIVE DATA B6 channel data and B7 data length; SEND
 * DATA B7; GET CHANNEL STATUS B8 (bip_put_channel_status_list).
 */
/* OPEN CHANNEL only: 38 02 s1 s2. */
int bip_put_channel_status(uint8_t *out, size_t cap, uint8_t s1, uint8_t s2);
/*
 * GET CHANNEL STATUS: B8 02 s1 s2 per channel; n = 0 gives the one status
 * 00 00 ("no channel available", TS 31.124 27.22.4.31 1.1.1).
 */
int bip_put_channel_status_list(uint8_t *out, size_t cap,
				const uint8_t (*status)[2], size_t n);
int bip_put_buffer_size(uint8_t *out, size_t cap, uint16_t size);
/* -EINVAL for an empty bearer description. */
int bip_put_bearer(uint8_t *out, size_t cap, const uint8_t *bearer, size_t len);
/* Channel data length: n, or FF when more than 255 (clause 8.54). */
int bip_put_data_length(uint8_t *out, size_t cap, size_t n);
/* -EINVAL above BIP_MAX_CHUNK bytes. */
int bip_put_channel_data(uint8_t *out, size_t cap, const uint8_t *p, size_t n);

/*
 * Terminal Applications envelope (clause 7.5.x, 8.88): DC {82 02 82 81,
 * 71 registry application data per application [, 70 00 last envelope]} —
 * port, data coding scheme 04 (unpacked GSM 7-bit characters), type, name.
 * -EINVAL for a NULL or empty name, or a character outside the GSM default
 * alphabet characters that ASCII codes the same way (letters, digits,
 * space, !"#%&'()*+,-./:;<=>?); -ENOSPC beyond cap or beyond the 255 bytes
 * of an ENVELOPE.
 */
struct bip_app {
	uint16_t port;
	uint8_t type;		/* 07: OMA DM client */
	const char *name;	/* GSM 7-bit default alphabet characters */
};
int bip_env_terminal_apps(uint8_t *out, size_t cap, const struct bip_app *apps,
			  size_t n, bool last);

#endif
