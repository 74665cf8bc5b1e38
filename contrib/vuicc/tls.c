/* SPDX-License-Identifier: MIT */
/*
 * TLS 1.2 with a pre-shared key on memory BIOs (see tls.h).
 *
 * One SSL_CTX per endpoint, holding the key; one SSL object per client
 * connection, replaced by vtls_reset().  The SSL reads ciphertext from rbio,
 * which vtls_input() fills, and writes ciphertext to wbio, which is drained
 * through cipher_out after every call into the library, so that records
 * leave in the order the library made them.  A fatal error leaves its alert
 * in wbio like any other record: draining it after the failure is what
 * sends the alert to the client.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"
#include "vuicc.h"

/*
 * TLS_PSK_WITH_AES_128_CBC_SHA is what OMA DM_SC requires;
 * TLS_PSK_WITH_3DES_EDE_CBC_SHA is offered as well where the library still
 * has it (OpenSSL 3 builds usually do not, and then the list is refused or
 * reduced to AES).
 */
#define VTLS_CIPHERS		"PSK-AES128-CBC-SHA:PSK-3DES-EDE-CBC-SHA"
#define VTLS_CIPHERS_AES	"PSK-AES128-CBC-SHA"
#define VTLS_READ_CHUNK		4096
#define VTLS_WRITE_CHUNK	(1 << 20)	/* an int for SSL_write() */

struct vtls {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rbio, *wbio;	/* owned by ssl */
	char identity[VTLS_IDENTITY_MAX + 1];
	uint8_t psk[VTLS_PSK_MAX];
	size_t psk_len;
	vtls_out_fn cipher_out;
	vtls_plain_fn plain_in;
	void *cb_ctx;
	bool established;
	bool done;		/* failed, or closed by either side */
	bool failed;
	bool shut;		/* our close_notify is out */
	uint8_t *held;		/* plaintext written before the handshake */
	size_t held_len;
	char peer_identity[64];	/* an unknown identity, for the message */
	char alert[96];		/* the last alert sent or received */
	char err[256];
};

/* --- library glue ------------------------------------------------------ */

/* Everything in wbio goes to the client now. */
static void
drain(struct vtls *t)
{
	uint8_t buf[VTLS_READ_CHUNK];
	int n;

	while ((n = BIO_read(t->wbio, buf, sizeof(buf))) > 0)
		t->cipher_out(t->cb_ctx, buf, (size_t)n);
}

/*
 * The key for the identity the client named (RFC 4279 clause 2); 0 for an
 * unknown identity, which makes the library send unknown_psk_identity.
 */
static unsigned int
psk_find(SSL *ssl, const char *identity, unsigned char *psk,
	 unsigned int max_len)
{
	struct vtls *t = SSL_get_app_data(ssl);

	if (t == NULL || identity == NULL || strcmp(identity, t->identity) != 0) {
		if (t)
			snprintf(t->peer_identity, sizeof(t->peer_identity),
				 "%s", identity ? identity : "");
		return 0;
	}
	if (t->psk_len > max_len)
		return 0;
	memcpy(psk, t->psk, t->psk_len);
	return (unsigned int)t->psk_len;
}

/* Remember alerts: the library's error queue does not say which was sent. */
static void
info_cb(const SSL *ssl, int where, int ret)
{
	struct vtls *t = SSL_get_app_data(ssl);

	if (t == NULL || !(where & SSL_CB_ALERT))
		return;
	snprintf(t->alert, sizeof(t->alert), "%s %s alert %s",
		 where & SSL_CB_WRITE ? "sent" : "received",
		 SSL_alert_type_string_long(ret),
		 SSL_alert_desc_string_long(ret));
}

/* Append str to the error message, cut at its size. */
static void
err_add(struct vtls *t, const char *str)
{
	size_t n = strlen(t->err);

	if (n + 1 < sizeof(t->err))
		snprintf(t->err + n, sizeof(t->err) - n, "%s", str);
}

/*
 * The connection is over for good.  The message: what failed, OpenSSL's
 * reason, the identity the client gave when it was unknown, the alert.
 */
static void
fail(struct vtls *t, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	char code[128];

	if (e && reason == NULL) {
		ERR_error_string_n(e, code, sizeof(code));
		reason = code;
	}
	t->err[0] = '\0';
	err_add(t, what);
	err_add(t, ": ");
	err_add(t, reason ? reason : "no reason given");
	if (t->peer_identity[0]) {
		err_add(t, " (unknown identity '");
		err_add(t, t->peer_identity);
		err_add(t, "')");
	}
	if (t->alert[0]) {
		err_add(t, "; ");
		err_add(t, t->alert);
	}
	ERR_clear_error();
	t->failed = true;
	t->done = true;
	drain(t);
}

static SSL_CTX *
ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL)
		return NULL;
	/* TLS 1.2 only: TLS 1.3 PSK is a different mechanism (RFC 8446). */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION)) {
		vuicc_warn("TLS: the library refuses TLS 1.2");
		goto bad;
	}
	if (!SSL_CTX_set_cipher_list(ctx, VTLS_CIPHERS)) {
		ERR_clear_error();
		if (!SSL_CTX_set_cipher_list(ctx, VTLS_CIPHERS_AES)) {
			vuicc_warn("TLS: the library refuses %s",
				   VTLS_CIPHERS_AES);
			goto bad;
		}
	}
	/*
	 * One short connection per client: no tickets or session cache to
	 * resume from, and no renegotiation, which would make a write wait
	 * for the client.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_psk_server_callback(ctx, psk_find);
	SSL_CTX_set_info_callback(ctx, info_cb);
	return ctx;
bad:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

/* A fresh SSL object on two fresh memory BIOs. */
static int
conn_new(struct vtls *t)
{
	t->ssl = SSL_new(t->ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
		SSL_free(t->ssl);
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		t->ssl = NULL;
		ERR_clear_error();
		return -1;
	}
	/* An empty rbio means "more to come", not end of stream. */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_app_data(t->ssl, t);
	SSL_set_accept_state(t->ssl);
	return 0;
}

static void
conn_clear(struct vtls *t)
{
	SSL_free(t->ssl);
	t->ssl = NULL;
	t->rbio = t->wbio = NULL;
	free(t->held);
	t->held = NULL;
	t->held_len = 0;
	t->established = false;
	t->done = false;
	t->failed = false;
	t->shut = false;
	t->peer_identity[0] = '\0';
	t->alert[0] = '\0';
	t->err[0] = '\0';
}

/* --- API --------------------------------------------------------------- */

struct vtls *
vtls_new(const char *identity, const uint8_t *psk, size_t psk_len,
	 vtls_out_fn cipher_out, vtls_plain_fn plain_in, void *ctx)
{
	struct vtls *t;

	if (identity == NULL || strlen(identity) > VTLS_IDENTITY_MAX ||
	    psk == NULL || psk_len == 0 ||
	    psk_len > VTLS_PSK_MAX)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	snprintf(t->identity, sizeof(t->identity), "%s", identity);
	memcpy(t->psk, psk, psk_len);
	t->psk_len = psk_len;
	t->cipher_out = cipher_out;
	t->plain_in = plain_in;
	t->cb_ctx = ctx;
	t->ctx = ctx_new();
	if (t->ctx == NULL || conn_new(t) < 0) {
		vtls_free(t);
		return NULL;
	}
	return t;
}

void
vtls_free(struct vtls *t)
{
	if (t == NULL)
		return;
	conn_clear(t);
	SSL_CTX_free(t->ctx);
	OPENSSL_cleanse(t->psk, sizeof(t->psk));
	free(t);
}

void
vtls_reset(struct vtls *t)
{
	conn_clear(t);
	if (conn_new(t) < 0) {
		snprintf(t->err, sizeof(t->err), "out of memory");
		t->failed = true;
		t->done = true;
	}
}

bool
vtls_established(const struct vtls *t)
{
	return t->established;
}

const char *
vtls_error(const struct vtls *t)
{
	return t->err;
}

/* Encrypt p; 0 or -1 (failed). */
static int
put(struct vtls *t, const uint8_t *p, size_t len)
{
	size_t n;
	int r;

	while (len > 0) {
		n = len < VTLS_WRITE_CHUNK ? len : VTLS_WRITE_CHUNK;
		ERR_clear_error();
		r = SSL_write(t->ssl, p, (int)n);
		if (r <= 0) {
			fail(t, "TLS write failed");
			return -1;
		}
		p += r;
		len -= (size_t)r;
	}
	drain(t);
	return 0;
}

/* The handshake is done: what was written meanwhile goes out now. */
static int
on_established(struct vtls *t)
{
	uint8_t *held = t->held;
	size_t len = t->held_len;
	int r;

	t->established = true;
	vuicc_verbose("TLS: %s handshake done, %s, identity '%s'",
		      SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl),
		      t->identity);
	t->held = NULL;
	t->held_len = 0;
	r = len ? put(t, held, len) : 0;
	free(held);
	return r;
}

/* Handshake as far as the input allows: 1 done, 0 more input, -1 failed. */
static int
handshake(struct vtls *t)
{
	int r;

	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		drain(t);
		return on_established(t) < 0 ? -1 : 1;
	}
	if (SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_READ) {
		drain(t);
		return 0;
	}
	fail(t, "TLS handshake failed");
	return -1;
}

/* Application data until rbio is empty: 0, 1 closed by the client, -1. */
static int
read_all(struct vtls *t)
{
	uint8_t buf[VTLS_READ_CHUNK];
	int r;

	for (;;) {
		ERR_clear_error();
		r = SSL_read(t->ssl, buf, sizeof(buf));
		if (r > 0) {
			t->plain_in(t->cb_ctx, buf, (size_t)r);
			continue;
		}
		switch (SSL_get_error(t->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			drain(t);
			return 0;
		case SSL_ERROR_ZERO_RETURN:
			/* close_notify: answer it (RFC 5246 clause 7.2.1). */
			vtls_shutdown(t);
			t->done = true;
			return 1;
		default:
			fail(t, "TLS read failed");
			return -1;
		}
	}
}

int
vtls_input(struct vtls *t, const uint8_t *cipher, size_t len)
{
	int r;

	if (t->done)
		return t->failed ? -1 : 1;
	if (len > 0 && BIO_write(t->rbio, cipher, (int)len) != (int)len) {
		snprintf(t->err, sizeof(t->err), "out of memory");
		t->failed = t->done = true;
		return -1;
	}
	if (!t->established) {
		r = handshake(t);
		if (r <= 0)
			return r;
	}
	return read_all(t);
}

int
vtls_write(struct vtls *t, const uint8_t *plain, size_t len)
{
	uint8_t *grown;

	if (t->failed)
		return -1;
	if (len == 0 || t->shut)
		return 0;
	if (t->established)
		return put(t, plain, len);
	grown = realloc(t->held, t->held_len + len);
	if (grown == NULL) {
		snprintf(t->err, sizeof(t->err), "out of memory");
		t->failed = t->done = true;
		return -1;
	}
	memcpy(grown + t->held_len, plain, len);
	t->held = grown;
	t->held_len += len;
	return 0;
}

void
vtls_shutdown(struct vtls *t)
{
	if (t->shut || t->failed || !t->established)
		return;
	t->shut = true;
	ERR_clear_error();
	/* 0: our close_notify is out, the client's has not come; enough. */
	SSL_shutdown(t->ssl);
	ERR_clear_error();
	drain(t);
}
