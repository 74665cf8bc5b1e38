/* SPDX-License-Identifier: MIT */
/*
 * dmscgw.conf: "[section]" headers and "key = value" lines; '#' or ';' start
 * a comment line.  Every key is described once, in the table in conf.c,
 * which also gives its default; an unknown section or key, a bad value or a
 * duplicate is an error naming file:line and the key.
 */
#ifndef DMSCGW_CONF_H
#define DMSCGW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONF_DEFAULT_PATH SYSCONFDIR "/dmscgw.conf"

/* Keys the table in conf.c may hold (checked there at build time). */
#define CONF_MAX_KEYS 96

/*
 * A secret ([dm_sc] passwords, nonces and psk_key) may be written as
 * "credential:NAME": its value is then the file NAME in
 * $CREDENTIALS_DIRECTORY, where systemd puts what LoadCredential= and
 * LoadCredentialEncrypted= give the service (conf_cred.c).
 */
#define CONF_CRED_PREFIX "credential:"
#define CONF_CRED_NAME_MAX 64
#define CONF_MAX_CREDS 8

enum conf_share { CONF_SHARE_SHARED, CONF_SHARE_EXCLUSIVE };
enum conf_proto { CONF_PROTO_ANY, CONF_PROTO_T0, CONF_PROTO_T1 };

struct conf {
	struct {
		char debug[128];	/* module list, "all" or empty */
	} daemon;
	struct {
		char reader[256];	/* fnmatch(3) pattern on reader names */
		int share;		/* enum conf_share */
		int protocol;		/* enum conf_proto */
		unsigned retry_min;	/* seconds: first retry after pcscd loss */
		unsigned retry_max;	/* seconds: backoff ceiling */
		unsigned apdu_timeout;	/* seconds an exchange may take, 0 none */
	} card;
	struct {
		unsigned busy_retry;	/* ms: first retry of an envelope after 93 00 */
		unsigned busy_retry_max;	/* ms: backoff ceiling */
		unsigned busy_retries;	/* then the envelope is dropped */
	} cat;
	struct {
		char sources[128];	/* wake-up sources enabled */
		unsigned poll_min;	/* seconds: shortest POLL INTERVAL granted */
		unsigned poll_max;	/* seconds: longest */
	} wakeup;
	struct {
		char imei[16];
		char mcc[4];
		char mnc[4];
		unsigned lac;
		unsigned cell;
		int rat;		/* enum cat_rat */
		int location_status;	/* enum cat_loc_status */
	} terminal;
	struct {
		unsigned buffer_max;	/* largest channel buffer granted */
		unsigned backlog;	/* clients waiting for a server channel */
		unsigned timeout;	/* seconds: connect, and a stuck peer */
		unsigned idle_timeout;	/* seconds a local client may be idle */
		char applications[512];	/* PORT:TYPE:NAME, ... */
	} bip;
	struct {
		char state_dir[200];	/* the management tree lives here */
		char devid[64];		/* ./DevInfo/DevId; empty: IMEI:<imei> */
		char manufacturer[64];
		char model[64];
		int enable;		/* 0 no, 1 yes: the DM client */
		int encoding;		/* 0 wbxml, 1 xml */
		unsigned max_msg_size;	/* MaxMsgSize the client announces */
		unsigned max_obj_size;	/* MaxObjSize */
		unsigned timeout;	/* seconds per HTTP exchange */
		unsigned auth_retries;	/* challenges taken, each way */
		int alerts;		/* enum dm_alert_policy */
		unsigned exec_timeout;	/* seconds an Exec agent has to answer */
		unsigned client_port;	/* BIP port of the DM client (type 07) */
		char app_name[64];	/* its name in the Terminal Applications
					 * envelope (was [dm] client_name) */
		/* https:// servers without a PSK: certificates (dm/tls.h) */
		char ca_file[256];	/* PEM trust anchors; "": system store */
		char ca_dir[200];	/* <ServerID>.pem per server; "": none */
		char client_cert[256];	/* PEM; "": no client certificate */
		char client_key[256];
		/* sessions that failed on a network error, tried again */
		unsigned retries;	/* times; 0 never */
		unsigned retry_min;	/* seconds before the first, doubling */
		unsigned retry_max;	/* seconds: ceiling */
	} dm;
	struct {
		char server_id[128];	/* empty: no DM_SC account bootstrap */
		char server_password[128];
		char client_name[128];	/* the client's AAuthName */
		char client_password[128];
		char client_nonce[176];	/* base64, up to 128 bytes; "" none */
		char server_nonce[176];
		char addr[200];		/* over BIP (spec 8.1 table 2) */
		char tcpip_addr[200];	/* over TCP/IP; "" none */
		char auth[8];		/* basic, digest, hmac */
		char psk_identity[128];	/* TLS-PSK to the SCWS */
		char psk_key[129];	/* hex, up to 64 bytes */
	} dm_sc;
	struct {
		int enable;		/* 0 no, 1 yes: follow the card's IP link */
		char match[256];	/* the rule: KEY=GLOB ... (link/rule.h) */
		char card_address[64];	/* the card's IP address; "" learn it */
	} link;
	struct {
		int enable;		/* 0 no, 1 yes: follow ModemManager */
		char modem[64];		/* "first" or an EquipmentIdentifier */
		int delete_sms;		/* 0 no, 1 yes: once a notification is taken */
	} modem;
	struct {
		char file[256];		/* pcap file, empty: none */
		char udp[128];		/* GSMTAP destination, empty: none */
	} trace;
	/* Where each key was set, for conf_key_error(). */
	struct {
		char file[256];		/* the name given to conf_parse */
		unsigned short line[CONF_MAX_KEYS];	/* 0: the default */
		/* 0, or 1 + the index in cred of the credential it came from */
		unsigned char from[CONF_MAX_KEYS];
		char cred[CONF_MAX_CREDS][CONF_CRED_NAME_MAX + 1];
	} origin;
};

void conf_defaults(struct conf *c);

/*
 * Parse text (len bytes, named name in errors) over the defaults already in
 * *c.  Returns 0, or -1 with "name:line: message" in err.  On error *c is
 * left as it was.
 */
int conf_parse(struct conf *c, const char *name, const char *text, size_t len,
	       char *err, size_t errlen);

/*
 * Read and parse a file: 0, or -1 with the reason in err, as conf_parse;
 * anything but a regular file is refused (a FIFO without waiting for a
 * writer).  A file that does not exist is -ENOENT, with err filled too:
 * the caller says whether that is an error (-c FILE) or the defaults (the
 * default file).  A UTF-8 byte-order mark at the start is skipped.
 */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/*
 * What a module's own check (bip_conf_check, wakeup_conf_check...) says
 * about the value of section.key, as the parser says it: "file:line:
 * section.key: " and the formatted text in err ("file: " for a default).
 * Returns -1, for "return conf_key_error(...);".
 */
int conf_key_error(const struct conf *c, const char *section, const char *key,
		   char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* The line section.key was set on; 0 when it kept its default. */
unsigned conf_key_line(const struct conf *c, const char *section,
		       const char *key);

/*
 * The credential section.key was read from (its NAME), or NULL when the
 * file gave the value itself: what may be logged in the value's place.
 */
const char *conf_key_credential(const struct conf *c, const char *section,
				const char *key);

/*
 * Read the credential name into out (cap bytes: the value, NUL-terminated,
 * one trailing newline dropped): 0, or -1 with why, which names the
 * credential but never holds its content.  Refused: no
 * $CREDENTIALS_DIRECTORY, a bad name, a missing file or anything but a
 * regular file, a file others may read or write, one larger than cap - 1
 * bytes (and a newline), more than one line or a NUL byte.
 */
int conf_cred_read(const char *name, char *out, size_t cap, char *why,
		   size_t whylen);

/*
 * Each module's check of the values it reads (conf_check.c holds the
 * list): 0, or -1 with the first complaint in err, as conf_key_error().
 */
int conf_check(const struct conf *c, char *err, size_t errlen);

/* Write the effective configuration in dmscgw.conf syntax. */
void conf_dump(const struct conf *c, FILE *f);

#endif
