/* SPDX-License-Identifier: MIT */
/*
 * A TLS 1.2 server endpoint with a pre-shared key, on OpenSSL memory BIOs,
 * for the SCWS's HTTPS port (OMA DM_SC: TLS_PSK_WITH_AES_128_CBC_SHA, and
 * TLS_PSK_WITH_3DES_EDE_CBC_SHA where the library still offers it).  It
 * knows nothing of channels: ciphertext comes in through vtls_input() and
 * leaves through the cipher_out callback, plaintext leaves through plain_in
 * and goes in through vtls_write().  Callbacks are only called from inside
 * vtls_input(), vtls_write() and vtls_shutdown(), never from an OpenSSL
 * callback, and may not call back into the same endpoint.
 */
#ifndef DMSC_VUICC_TLS_H
#define DMSC_VUICC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VTLS_PSK_MAX		128	/* bytes of key */
#define VTLS_IDENTITY_MAX	128	/* bytes of identity */

/* Ciphertext for the client, in order. */
typedef void (*vtls_out_fn)(void *ctx, const uint8_t *p, size_t len);
/* Decrypted application data from the client, in order. */
typedef void (*vtls_plain_fn)(void *ctx, const uint8_t *p, size_t len);

struct vtls;

/*
 * identity and psk are copied.  NULL on failure (out of memory, or the
 * library refuses the protocol or the ciphers: the reason is printed).
 */
struct vtls *vtls_new(const char *identity, const uint8_t *psk, size_t psk_len,
		      vtls_out_fn cipher_out, vtls_plain_fn plain_in, void *ctx);
void vtls_free(struct vtls *t);
/* Forget the connection: the next bytes are a new client's ClientHello. */
void vtls_reset(struct vtls *t);
/*
 * Ciphertext from the client: drives the handshake, then delivers the
 * application data through plain_in.  What TLS answers (handshake records,
 * a fatal alert, close_notify) leaves through cipher_out before it returns.
 * Returns 0 to go on, 1 when the client has closed the connection
 * (close_notify, ours has been sent back), -1 on a fatal error (the alert,
 * if any, has been sent; the reason is in vtls_error()).  After 1 or -1,
 * input is ignored until vtls_reset().
 */
int vtls_input(struct vtls *t, const uint8_t *cipher, size_t len);
/*
 * Plaintext for the client: encrypted and sent through cipher_out, or held
 * until the handshake is done.  0, or -1 on a fatal error (vtls_error()).
 */
int vtls_write(struct vtls *t, const uint8_t *plain, size_t len);
/* Send close_notify (after everything written so far); idempotent. */
void vtls_shutdown(struct vtls *t);
/* The handshake has completed on this connection. */
bool vtls_established(const struct vtls *t);
/* Why the connection failed (OpenSSL's reason and the alert), or "". */
const char *vtls_error(const struct vtls *t);

#endif
