/* SPDX-License-Identifier: MIT */
/*
 * TLS with certificates for the DM client's https:// sessions with servers
 * that have no pre-shared key: the remote DM servers a DM account names
 * (the DM_SC server on the card keeps TLS-PSK, dm/http.c).  TLS 1.2 or
 * 1.3 (OMA-TS-DM_Security 5.1: transport security by TLS); the server's
 * chain is verified against the system trust store or a CA file, its name
 * against the host of the URL (RFC 6125 rules, through OpenSSL: a DNS name
 * by SSL_set1_host, an IP address by X509_VERIFY_PARAM_set1_ip_asc); a
 * client certificate is offered when one is configured.
 *
 * Which trust applies to a server ([dm] ca_dir, ca_file, the system store)
 * is dm_tls_trust_for's choice; the keys are checked at load by
 * dm_tls_conf_check.  Private keys never appear in a message.
 */
#ifndef DMSCGW_DM_TLS_H
#define DMSCGW_DM_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct conf;
struct ssl_ctx_st;
struct ssl_st;

#define DM_TLS_PATH_MAX	256

struct dm_tls_trust {
	char ca_file[DM_TLS_PATH_MAX];	/* PEM trust anchors; "": the system's */
	char client_cert[DM_TLS_PATH_MAX];	/* PEM chain; "": none */
	char client_key[DM_TLS_PATH_MAX];	/* its key, PEM, no passphrase */
};

/*
 * The trust for the sessions with server_id: <[dm] ca_dir>/<server_id>.pem
 * when that file exists (a ServerID that is not a plain file name has
 * none), else [dm] ca_file, else the system store (""); the client
 * certificate of [dm].
 */
void dm_tls_trust_for(const struct conf *c, const char *server_id,
		      struct dm_tls_trust *out);

/*
 * Set ctx up for certificate verification with tr: TLS 1.2 at least, the
 * peer verified, the anchors and the client certificate loaded.  0, or a
 * negative errno with why in err ("cannot read CA file ...: ...").
 */
int dm_tls_trust_ctx(struct ssl_ctx_st *ctx, const struct dm_tls_trust *tr,
		     char *err, size_t errlen);

/* The name the server's certificate must carry: host, a name or an IP. */
int dm_tls_trust_host(struct ssl_st *ssl, const char *host);

/*
 * After a failed handshake: true, with the reason in buf, when the
 * server's certificate was refused, the reason led by its class ("unknown
 * CA", "name mismatch", "expired", "not yet valid" or "refused"), then
 * OpenSSL's words in brackets.
 */
bool dm_tls_verify_failure(struct ssl_st *ssl, char *buf, size_t cap);

/* The reason of the first OpenSSL error on the queue (then cleared). */
const char *dm_tls_error(char *buf, size_t cap);

/*
 * [dm] ca_file, ca_dir, client_cert and client_key: absolute paths; the CA
 * file holds certificates; ca_dir is a directory; the certificate and the
 * key come together, load, and match.  0, or -1 with "file:line: key:
 * why" in err.
 */
int dm_tls_conf_check(const struct conf *c, char *err, size_t errlen);

#endif
