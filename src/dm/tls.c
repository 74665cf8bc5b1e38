/* SPDX-License-Identifier: MIT */
/*
 * Certificate-verified TLS for remote DM servers (see tls.h).  Nothing here
 * blocks longer than reading a few local files; verification itself runs
 * inside the handshake, on bufferevent_openssl's non-blocking socket.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "dm/tls.h"
#include "util/errbuf.h"

/* An encrypted key would have OpenSSL ask on the terminal: never. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

const char *dm_tls_error(char *buf, size_t cap)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r)
		snprintf(buf, cap, "%s", r);
	else if (e)
		ERR_error_string_n(e, buf, cap);
	else
		snprintf(buf, cap, "unknown error");
	ERR_clear_error();
	return buf;
}

/* A ServerID that may name a file in ca_dir: no '/', no leading dot. */
static bool plain_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 128 && s[0] != '.' &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789._-") == n;
}

void dm_tls_trust_for(const struct conf *c, const char *server_id,
		      struct dm_tls_trust *out)
{
	char path[sizeof(out->ca_file)];

	memset(out, 0, sizeof(*out));
	if (*c->dm.ca_dir && plain_name(server_id) &&
	    snprintf(path, sizeof(path), "%s/%s.pem", c->dm.ca_dir,
		     server_id) < (int)sizeof(path) &&
	    access(path, R_OK) == 0)
		memcpy(out->ca_file, path, sizeof(path));
	else
		errbuf_set(out->ca_file, sizeof(out->ca_file), "%s",
			   c->dm.ca_file);
	errbuf_set(out->client_cert, sizeof(out->client_cert), "%s",
		   c->dm.client_cert);
	errbuf_set(out->client_key, sizeof(out->client_key), "%s",
		   c->dm.client_key);
}

/* The client certificate and its key into ctx; what is wrong into why. */
static int load_client(SSL_CTX *ctx, const struct dm_tls_trust *tr,
		       char *why, size_t cap)
{
	char e[160];

	if (!SSL_CTX_use_certificate_chain_file(ctx, tr->client_cert)) {
		errbuf_set(why, cap, "cannot read client certificate %s: %s",
			   tr->client_cert, dm_tls_error(e, sizeof(e)));
		return -EINVAL;
	}
	if (!SSL_CTX_use_PrivateKey_file(ctx, tr->client_key,
					 SSL_FILETYPE_PEM)) {
		errbuf_set(why, cap, "cannot read client key %s: %s",
			   tr->client_key, dm_tls_error(e, sizeof(e)));
		return -EINVAL;
	}
	if (!SSL_CTX_check_private_key(ctx)) {
		ERR_clear_error();
		errbuf_set(why, cap, "client key %s does not match client "
			   "certificate %s", tr->client_key, tr->client_cert);
		return -EINVAL;
	}
	return 0;
}

int dm_tls_trust_ctx(SSL_CTX *ctx, const struct dm_tls_trust *tr, char *err,
		     size_t errlen)
{
	char e[160], why[DM_TLS_PATH_MAX + 200];

	ERR_clear_error();
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	/* DM_Security 5.1: TLS; nothing older than 1.2 */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		errbuf_set(err, errlen, "cannot set up TLS: %s",
			   dm_tls_error(e, sizeof(e)));
		return -EPROTO;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (*tr->ca_file) {
		if (!SSL_CTX_load_verify_locations(ctx, tr->ca_file, NULL)) {
			errbuf_set(err, errlen, "cannot read CA file %s: %s",
				   tr->ca_file, dm_tls_error(e, sizeof(e)));
			return -EINVAL;
		}
	} else if (!SSL_CTX_set_default_verify_paths(ctx)) {
		errbuf_set(err, errlen, "cannot use the system trust store: %s",
			   dm_tls_error(e, sizeof(e)));
		return -EINVAL;
	}
	if (*tr->client_cert && load_client(ctx, tr, why, sizeof(why)) < 0) {
		errbuf_set(err, errlen, "%s", why);
		return -EINVAL;
	}
	return 0;
}

int dm_tls_trust_host(SSL *ssl, const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) ?
		       0 : -EINVAL;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return SSL_set1_host(ssl, host) ? 0 : -EINVAL;
}

bool dm_tls_verify_failure(SSL *ssl, char *buf, size_t cap)
{
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	const char *what;

	if (v == X509_V_OK)
		return false;
	switch (v) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		what = "unknown CA";
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		what = "name mismatch";
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		what = "expired";
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		what = "not yet valid";
		break;
	default:
		what = "refused";
		break;
	}
	snprintf(buf, cap, "%s (%s)", what, X509_verify_cert_error_string(v));
	return true;
}

/* ---- the configuration ---- */

static int path_error(const struct conf *c, const char *key, const char *v,
		      bool dir, char *err, size_t errlen)
{
	struct stat st;

	if (v[0] != '/')
		return conf_key_error(c, "dm", key, err, errlen,
				      "'%s' is not an absolute path", v);
	if (stat(v, &st) < 0)
		return conf_key_error(c, "dm", key, err, errlen, "%s: %s", v,
				      strerror(errno));
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return conf_key_error(c, "dm", key, err, errlen,
				      "%s is not a %s", v,
				      dir ? "directory" : "regular file");
	return 0;
}

/* The files load as the sessions will load them. */
static int files_load(const struct conf *c, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct dm_tls_trust tr;
	char why[DM_TLS_PATH_MAX + 200];
	int r = 0;

	if (!ctx)
		return conf_key_error(c, "dm", "ca_file", err, errlen,
				      "cannot set up TLS to check it");
	memset(&tr, 0, sizeof(tr));
	errbuf_set(tr.ca_file, sizeof(tr.ca_file), "%s", c->dm.ca_file);
	errbuf_set(tr.client_cert, sizeof(tr.client_cert), "%s",
		   c->dm.client_cert);
	errbuf_set(tr.client_key, sizeof(tr.client_key), "%s",
		   c->dm.client_key);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	if (*tr.ca_file && !SSL_CTX_load_verify_locations(ctx, tr.ca_file,
							  NULL))
		r = conf_key_error(c, "dm", "ca_file", err, errlen,
				   "%s holds no PEM certificate: %s", tr.ca_file,
				   dm_tls_error(why, sizeof(why)));
	else if (*tr.client_cert && load_client(ctx, &tr, why, sizeof(why)) < 0)
		r = conf_key_error(c, "dm", "client_key", err, errlen, "%s", why);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

int dm_tls_conf_check(const struct conf *c, char *err, size_t errlen)
{
	const struct {
		const char *key, *value;
		bool dir;
	} paths[] = {
		{ "ca_file", c->dm.ca_file, false },
		{ "ca_dir", c->dm.ca_dir, true },
		{ "client_cert", c->dm.client_cert, false },
		{ "client_key", c->dm.client_key, false },
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (*paths[i].value &&
		    path_error(c, paths[i].key, paths[i].value, paths[i].dir,
			       err, errlen) < 0)
			return -1;
	if (!*c->dm.client_cert != !*c->dm.client_key)
		return conf_key_error(c, "dm", *c->dm.client_cert ?
				      "client_cert" : "client_key", err, errlen,
				      "client_cert and client_key go together");
	return files_load(c, err, errlen);
}
