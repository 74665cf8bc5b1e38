/* SPDX-License-Identifier: MIT */
/* The configuration parser: defaults, good input, and each kind of error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"

struct bad_case {
	const char *text;
	const char *err;
};

/* Each bad input with the exact message it must produce. */
static const struct bad_case bad_cases[] = {
	{ "[card]\nfoo = 1\n", "t.conf:2: unknown key 'foo' in section [card]" },
	{ "[nosuch]\n", "t.conf:1: unknown section [nosuch]" },
	{ "reader = *\n", "t.conf:1: key 'reader' outside of any [section]" },
	{ "[card]\nreader\n", "t.conf:2: expected 'key = value', got 'reader'" },
	{ "[card\n", "t.conf:1: malformed section header '[card'" },
	{ "[card] x\n", "t.conf:1: malformed section header '[card] x'" },
	{ "[card]\nretry_min = 1x\n",
	  "t.conf:2: card.retry_min: '1x' is not a whole number from 1 to 3600" },
	{ "[card]\nretry_max = 3601\n",
	  "t.conf:2: card.retry_max: '3601' is not a whole number from 1 to 3600" },
	{ "[card]\nretry_max = 99999999999999999999\n",
	  "t.conf:2: card.retry_max: '99999999999999999999' is not a whole number from 1 to 3600" },
	{ "[card]\nretry_min = +5\n",
	  "t.conf:2: card.retry_min: '+5' is not a whole number from 1 to 3600" },
	{ "[card]\nshare = none\n",
	  "t.conf:2: card.share: 'none' is not one of shared, exclusive" },
	{ "[card]\nprotocol = T0\n",
	  "t.conf:2: card.protocol: 'T0' is not one of any, t0, t1" },
	{ "[card]\nreader = \n", "t.conf:2: card.reader: empty value" },
	{ "[card]\nreader = \"\"\n", "t.conf:2: card.reader: empty value" },
	{ "[card]\nshare = shared\nshare = shared\n", "t.conf:3: card.share: set twice" },
	{ "[daemon]\ndebug = cat,nope\n",
	  "t.conf:2: daemon.debug: unknown module 'nope' (known: all,main,conf,card,cat,wakeup,trace,ctl,bip,dm,sms)" },
	{ "[card]\n= x\n", "t.conf:2: missing key before '='" },
	{ "[card]\nreader = \"abc\n", "t.conf:2: unterminated quoted value" },
	{ "[card]\nretry_min = 9\nretry_max = 8\n",
	  "t.conf: card.retry_min (9) is larger than card.retry_max (8)" },
	{ "[wakeup]\npoll_min = 10\npoll_max = 9\n",
	  "t.conf: wakeup.poll_min (10) is larger than wakeup.poll_max (9)" },
	{ "[dm]\nretry_min = 600\nretry_max = 60\n",
	  "t.conf: dm.retry_min (600) is larger than dm.retry_max (60)" },
	{ "[dm]\nretries = 21\n",
	  "t.conf:2: dm.retries: '21' is not a whole number from 0 to 20" },
	{ "[terminal]\nimei = 12345\n",
	  "t.conf:2: terminal.imei: '12345' is not 15 digits" },
	{ "[terminal]\nmnc = 1\n",
	  "t.conf:2: terminal.mnc: '1' is not 2 to 3 digits" },
	{ "[terminal]\nmcc = 0a1\n",
	  "t.conf:2: terminal.mcc: '0a1' is not 3 digits" },
	{ "[terminal]\nrat = lte\n",
	  "t.conf:2: terminal.rat: 'lte' is not one of gsm, utran, eutran" },
	{ "[terminal]\ncell = 268435456\n",
	  "t.conf:2: terminal.cell: '268435456' is not a whole number from 0 to 268435455" },
	{ "[cat]\nbusy_retry = 5\n",
	  "t.conf:2: cat.busy_retry: '5' is not a whole number from 10 to 60000" },
	/* the TLS-PSK key: 1 to 64 bytes in hex */
	{ "[dm_sc]\npsk_key = abc\n",
	  "t.conf:2: dm_sc.psk_key: not 1 to 64 bytes in hex" },
	{ "[dm_sc]\npsk_key = 0g\n",
	  "t.conf:2: dm_sc.psk_key: not 1 to 64 bytes in hex" },
	/* a credential stands only for a secret (whatever the environment) */
	{ "[dm_sc]\npsk_identity = credential:id\n",
	  "t.conf:2: dm_sc.psk_identity: only a secret ([dm_sc] passwords, "
	  "nonces, psk_key) can be a credential" },
	/* the old name and the new one are the same key */
	{ "[dm]\napp_name = a\nclient_name = b\n",
	  "t.conf:3: dm.app_name: set twice" },
	/* issue 14 item 6: an empty item in a module list */
	{ "[daemon]\ndebug = card,,cat\n",
	  "t.conf:2: daemon.debug: empty item in 'card,,cat'" },
	{ "[daemon]\ndebug = card, , cat\n",
	  "t.conf:2: daemon.debug: empty item in 'card, , cat'" },
	{ "[daemon]\ndebug = ,card\n",
	  "t.conf:2: daemon.debug: empty item in ',card'" },
	{ "[daemon]\ndebug = card,\n",
	  "t.conf:2: daemon.debug: empty item in 'card,'" },
	/* sizes: no MaxObjSize below a message, none below MaxMsgSize */
	{ "[dm]\nmax_obj_size = 1\n",
	  "t.conf:2: dm.max_obj_size: '1' is not a whole number from 512 to 1048576" },
	{ "[dm]\nmax_msg_size = 511\n",
	  "t.conf:2: dm.max_msg_size: '511' is not a whole number from 512 to 1048576" },
	{ "[dm]\nmax_msg_size = 65536\nmax_obj_size = 4096\n",
	  "t.conf: dm.max_obj_size (4096) is smaller than dm.max_msg_size (65536)" },
	{ "[terminal]\nimei = abcdefghijklmno\n",
	  "t.conf:2: terminal.imei: 'abcdefghijklmno' is not 15 digits" },
	/* a BOM is skipped only at the very start */
	{ "[card]\n\xEF\xBB\xBFreader = x\n",
	  "t.conf:2: unknown key '\xEF\xBB\xBFreader' in section [card]" },
};

/*
 * Values the parser takes and a module's check (conf_check) refuses, at
 * the line of the key: each with the exact message.
 */
static const struct bad_case check_cases[] = {
	/* [dm_sc] addr: what dm_http_new would refuse at the first session */
	{ "[dm_sc]\naddr = 127.0.0.1:4116/OMA/DM\n",
	  "t.conf:2: dm_sc.addr: '127.0.0.1:4116/OMA/DM': not an http:// or https:// URL" },
	{ "[dm_sc]\naddr = ftp://127.0.0.1/OMA/DM\n",
	  "t.conf:2: dm_sc.addr: 'ftp://127.0.0.1/OMA/DM': not an http:// or https:// URL" },
	{ "[dm_sc]\naddr = https://127.0.0.1:0/OMA/DM\n",
	  "t.conf:2: dm_sc.addr: 'https://127.0.0.1:0/OMA/DM': bad port" },
	{ "[dm_sc]\naddr = https://127.0.0.1:65536/OMA/DM\n",
	  "t.conf:2: dm_sc.addr: 'https://127.0.0.1:65536/OMA/DM': bad port" },
	{ "[dm_sc]\naddr = https://127.0.0.1:44x/OMA/DM\n",
	  "t.conf:2: dm_sc.addr: 'https://127.0.0.1:44x/OMA/DM': bad port" },
	{ "[dm_sc]\naddr = https://127.0.0.1:+443/\n",
	  "t.conf:2: dm_sc.addr: 'https://127.0.0.1:+443/': bad port" },
	{ "[dm_sc]\naddr = https://[::1/OMA/DM\n",
	  "t.conf:2: dm_sc.addr: 'https://[::1/OMA/DM': bad IPv6 literal" },
	{ "[dm_sc]\naddr = https://::1/OMA/DM\n",
	  "t.conf:2: dm_sc.addr: 'https://::1/OMA/DM': bad port" },
	{ "[dm_sc]\naddr = https:///OMA/DM\n",
	  "t.conf:2: dm_sc.addr: 'https:///OMA/DM': no host" },
	{ "[dm_sc]\naddr = https://:4116/OMA/DM\n",
	  "t.conf:2: dm_sc.addr: 'https://:4116/OMA/DM': no host" },
	{ "[dm_sc]\naddr = https://h/OMA DM\n",
	  "t.conf:2: dm_sc.addr: 'https://h/OMA DM': bad character in the path" },
	/* paths the daemon opens after daemon(3) took it to / */
	{ "[dm]\nstate_dir = var/lib/dmscgw\n",
	  "t.conf:2: dm.state_dir: 'var/lib/dmscgw' is not an absolute path" },
	{ "[trace]\nfile = trace.pcap\n",
	  "t.conf:2: trace.file: 'trace.pcap' is not an absolute path" },
	/* the trust of remote servers (dm/tls.c) */
	{ "[dm]\nca_file = ca.pem\n",
	  "t.conf:2: dm.ca_file: 'ca.pem' is not an absolute path" },
	{ "[dm]\nca_file = /nonexistent/ca.pem\n",
	  "t.conf:2: dm.ca_file: /nonexistent/ca.pem: No such file or directory" },
	{ "[dm]\nca_file = /dev/null\n",
	  "t.conf:2: dm.ca_file: /dev/null is not a regular file" },
	{ "[dm]\nca_dir = /dev/null\n",
	  "t.conf:2: dm.ca_dir: /dev/null is not a directory" },
	{ "[dm]\n\nclient_cert = /etc/passwd\n",
	  "t.conf:3: dm.client_cert: client_cert and client_key go together" },
	{ "[dm]\nclient_key = /etc/passwd\n",
	  "t.conf:2: dm.client_key: client_cert and client_key go together" },
	/* ports */
	{ "[bip]\napplications = 5000:7:a, 5000:5:b\n",
	  "t.conf:2: bip.applications: port 5000 listed twice" },
	{ "[bip]\napplications = 4117:5:a\n",
	  "t.conf:2: bip.applications: port 4117 is the DM client's (dm.client_port)" },
	{ "[bip]\napplications = 5000:5:a\n[dm]\nclient_port = 5000\n",
	  "t.conf:4: dm.client_port: port 5000 is also in bip.applications" },
	/* IMEI: the Luhn check digit */
	{ "[terminal]\nimei = 490154203237519\n",
	  "t.conf:2: terminal.imei: '490154203237519' has a wrong check digit (Luhn, TS 23.003 B.2: 8 expected)" },
	/* trace udp: numeric HOST[:PORT] */
	{ "[trace]\nudp = junk\n",
	  "t.conf:2: trace.udp: UDP address \"junk\": \"junk\" is not a numeric IPv4 address" },
	{ "[trace]\nudp = localhost:4729\n",
	  "t.conf:2: trace.udp: UDP address \"localhost:4729\": \"localhost\" is not a numeric IPv4 address" },
	{ "[trace]\nudp = 127.0.0.1:0\n",
	  "t.conf:2: trace.udp: UDP address \"127.0.0.1:0\": the port must be a number from 1 to 65535" },
	{ "[trace]\nudp = ::1\n",
	  "t.conf:2: trace.udp: UDP address \"::1\": an IPv6 address goes in brackets, as in [::1]:4729" },
	{ "[trace]\nudp = [::1\n",
	  "t.conf:2: trace.udp: UDP address \"[::1\": missing ']'" },
};

static void test_defaults(void **state)
{
	struct conf c;

	conf_defaults(&c);
	assert_string_equal(c.card.reader, "*");
	assert_int_equal(c.card.share, CONF_SHARE_SHARED);
	assert_int_equal(c.card.protocol, CONF_PROTO_ANY);
	assert_int_equal(c.card.retry_min, 1);
	assert_int_equal(c.card.retry_max, 30);
	assert_string_equal(c.daemon.debug, "");
}

static void test_good(void **state)
{
	static const char text[] =
		"# comment\n"
		"; another\n"
		"\n"
		"[card]\r\n"
		"  reader   =   Virtual PCD 00 00   \n"
		"share=exclusive\n"
		"protocol = t0\n"
		"retry_min = 2\n"
		"retry_max = 3600\n"
		"[ daemon ]\n"
		"debug = card, cat\n";
	struct conf c;
	char err[256] = "";

	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, "t.conf", text, strlen(text), err,
				    sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(c.card.reader, "Virtual PCD 00 00");
	assert_int_equal(c.card.share, CONF_SHARE_EXCLUSIVE);
	assert_int_equal(c.card.protocol, CONF_PROTO_T0);
	assert_int_equal(c.card.retry_min, 2);
	assert_int_equal(c.card.retry_max, 3600);
	assert_string_equal(c.daemon.debug, "card, cat");
}

/* One test per bad input (the case is the test's initial state). */
static void test_bad(void **state)
{
	const struct bad_case *bc = *state;
	struct conf c, before;
	char err[256] = "";

	conf_defaults(&c);
	before = c;
	assert_int_equal(conf_parse(&c, "t.conf", bc->text, strlen(bc->text),
				    err, sizeof(err)), -1);
	assert_string_equal(err, bc->err);
	/* a failed parse changes nothing */
	assert_memory_equal(&c, &before, sizeof(c));
}

#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))
#define NCHECK (sizeof(check_cases) / sizeof(check_cases[0]))

/* One test per value a module refuses. */
static void test_check_bad(void **state)
{
	const struct bad_case bc = *(const struct bad_case *)*state;
	struct conf c;
	char err[256] = "";

	conf_defaults(&c);
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
	assert_int_equal(conf_parse(&c, "t.conf", bc.text, strlen(bc.text),
				    err, sizeof(err)), 0);
	assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, bc.err);
}

/* What the checks take: numeric v6 trace targets, URLs without a path... */
static void test_check_good(void **state)
{
	static const char text[] =
		"[dm_sc]\n"
		"addr = http://[::1]:8080\n"
		"[trace]\n"
		"udp = [::1]:4729\n"
		"file = /tmp/t.pcap\n"
		"[bip]\n"
		"applications = 5000:5:a, 5001:5:b\n"
		"[dm]\n"
		"client_port = 5002\n"
		"max_msg_size = 512\n"
		"max_obj_size = 512\n"
		"[terminal]\n"
		"imei = 490154203237518\n";
	static const char *const addrs[] = {
		"https://127.0.0.1:4116/OMA/DM", "HTTP://dm.example.com/",
		"https://[::1]:1/x?y=z", "http://h:/p", "https://h:65535/p#f",
	};
	struct conf c;
	char err[256] = "";

	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, "t.conf", text, strlen(text), err,
				    sizeof(err)), 0);
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		snprintf(c.dm_sc.addr, sizeof(c.dm_sc.addr), "%s", addrs[i]);
		assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
	}
}

/* A UTF-8 byte-order mark at the start is skipped; line 1 stays line 1. */
static void test_bom(void **state)
{
	static const char good[] = "\xEF\xBB\xBF[card]\nreader = x\n";
	static const char bad[] = "\xEF\xBB\xBF[nosuch]\n";
	struct conf c;
	char err[256] = "";

	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, "t.conf", good, strlen(good), err,
				    sizeof(err)), 0);
	assert_string_equal(c.card.reader, "x");
	assert_int_equal(conf_parse(&c, "t.conf", bad, strlen(bad), err,
				    sizeof(err)), -1);
	assert_string_equal(err, "t.conf:1: unknown section [nosuch]");
	/* the BOM alone is an empty file */
	assert_int_equal(conf_parse(&c, "t.conf", good, 3, err,
				    sizeof(err)), 0);
}

/* A FIFO (or a directory) is refused at once: no open() that waits. */
static void test_not_regular(void **state)
{
	char dir[] = "/tmp/test_conf.XXXXXX", fifo[64], msg[128];
	struct conf c;
	char err[256];

	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);	/* the old code blocks here for good */
	conf_defaults(&c);
	assert_int_equal(conf_load(&c, fifo, err, sizeof(err)), -1);
	snprintf(msg, sizeof(msg), "%s: not a regular file", fifo);
	assert_string_equal(err, msg);
	assert_int_equal(conf_load(&c, dir, err, sizeof(err)), -1);
	snprintf(msg, sizeof(msg), "%s: not a regular file", dir);
	assert_string_equal(err, msg);
	alarm(0);
	unlink(fifo);
	rmdir(dir);
}

static void test_nul_and_long_line(void **state)
{
	static const char nul[] = "[card]\nreader = a\0b\n";
	char longline[2000];
	struct conf c;
	char err[256];

	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, "t.conf", nul, sizeof(nul) - 1, err,
				    sizeof(err)), -1);
	assert_string_equal(err, "t.conf:2: NUL byte in line");

	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "[card]\n", 7);
	assert_int_equal(conf_parse(&c, "t.conf", longline, sizeof(longline),
				    err, sizeof(err)), -1);
	assert_string_equal(err, "t.conf:2: line longer than 1023 characters");
}

static void test_overlong_value(void **state)
{
	char text[400];
	struct conf c;
	char err[256];

	snprintf(text, sizeof(text), "[card]\nreader = %0300d\n", 0);
	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, "t.conf", text, strlen(text), err,
				    sizeof(err)), -1);
	assert_string_equal(err, "t.conf:2: card.reader: value longer than 255 characters");
}

static void test_small_error_buffer(void **state)
{
	static const char text[] = "[nosuch]\n";
	struct conf c;
	char err[8];

	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, "t.conf", text, strlen(text), err,
				    sizeof(err)), -1);
	assert_string_equal(err, "t.conf:");
}

/* The nonce keys, and [dm] client_name read as app_name. */
static void test_dm_keys(void **state)
{
	static const char text[] =
		"[dm]\n"
		"client_name = old-name\n"
		"[dm_sc]\n"
		"client_nonce = MTIzNA==\n"
		"server_nonce = \n";
	struct conf c;
	char err[256] = "";

	conf_defaults(&c);
	assert_string_equal(c.dm.app_name, "dmscgw");
	assert_int_equal(conf_parse(&c, "t.conf", text, strlen(text), err,
				    sizeof(err)), 0);
	assert_string_equal(c.dm.app_name, "old-name");
	assert_string_equal(c.dm_sc.client_nonce, "MTIzNA==");
	assert_string_equal(c.dm_sc.server_nonce, "");
}

/*
 * What a value means to a module is the module's to check: the parser
 * keeps it as written, and conf_key_error() reports the module's complaint
 * at the line the key was set on.
 */
static void test_module_keys(void **state)
{
	static const char text[] =
		"[wakeup]\n"
		"sources = timer, bogus\n"
		"[dm_sc]\n"
		"\n"
		"server_nonce = QQ=A\n"
		"auth = plain\n";
	struct conf c;
	char err[256] = "";

	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, "t.conf", text, strlen(text), err,
				    sizeof(err)), 0);
	assert_string_equal(c.wakeup.sources, "timer, bogus");
	assert_string_equal(c.dm_sc.server_nonce, "QQ=A");
	assert_string_equal(c.dm_sc.auth, "plain");
	assert_int_equal(conf_key_error(&c, "wakeup", "sources", err,
					sizeof(err), "unknown '%s'", "bogus"), -1);
	assert_string_equal(err, "t.conf:2: wakeup.sources: unknown 'bogus'");
	conf_key_error(&c, "dm_sc", "server_nonce", err, sizeof(err), "bad");
	assert_string_equal(err, "t.conf:5: dm_sc.server_nonce: bad");
	/* a key left at its default has no line */
	conf_key_error(&c, "bip", "applications", err, sizeof(err), "bad");
	assert_string_equal(err, "t.conf: bip.applications: bad");
}

/* [dm] client_name is recorded on the line of app_name's old name. */
static void test_key_error_alias(void **state)
{
	static const char text[] = "[dm]\n\nclient_name = x\n";
	struct conf c;
	char err[32];

	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, "t.conf", text, strlen(text), err,
				    sizeof(err)), 0);
	conf_key_error(&c, "dm", "app_name", err, sizeof(err), "why");
	assert_string_equal(err, "t.conf:3: dm.app_name: why");
	/* cut short like the parser's own errors */
	conf_key_error(&c, "dm", "app_name", err, 8, "why");
	assert_string_equal(err, "t.conf:");
}

static void test_missing_file(void **state)
{
	struct conf c;
	char err[256];

	conf_defaults(&c);
	/* -ENOENT: the caller tells a missing default file from -c FILE */
	assert_int_equal(conf_load(&c, "/nonexistent/dmscgw.conf", err,
				   sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/dmscgw.conf: cannot open: No such file or directory");
}

/* write text to dir/name with mode; returns the path in out */
static void cred_file(const char *dir, const char *name, const char *text,
		      size_t len, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* parse one [dm_sc] line; the error (or "") in err */
static int dm_sc_line(struct conf *c, const char *line, char *err, size_t cap)
{
	char text[256];

	conf_defaults(c);
	err[0] = '\0';
	snprintf(text, sizeof(text), "[dm_sc]\n%s\n", line);
	return conf_parse(c, "t.conf", text, strlen(text), err, cap);
}

/*
 * Secrets from systemd credentials: key = credential:NAME reads
 * $CREDENTIALS_DIRECTORY/NAME (one trailing newline dropped); each refusal
 * names file:line, the key and the credential, never the content.
 */
static void test_credentials(void **state)
{
	char dir[] = "/tmp/test_conf_cred.XXXXXX", err[512], want[512];
	char big[200];
	struct conf c;
	char *dump = NULL;
	size_t dlen = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
	cred_file(dir, "psk", "00112233\n", 9, 0400);
	cred_file(dir, "pw", "p@ss word\r\n", 11, 0440);
	cred_file(dir, "open", "x", 1, 0644);
	cred_file(dir, "gw", "x", 1, 0460);
	cred_file(dir, "lines", "a\nb\n", 4, 0400);
	cred_file(dir, "nul", "a\0b", 3, 0400);
	cred_file(dir, "notes", "SECRETzz", 8, 0400);
	memset(big, 'a', sizeof(big));
	cred_file(dir, "big", big, 130, 0400);	/* psk_key: 128 and a newline */
	snprintf(want, sizeof(want), "%s/adir", dir);
	assert_int_equal(mkdir(want, 0700), 0);

	/* read, the newline dropped, and remembered as a credential */
	assert_int_equal(dm_sc_line(&c, "psk_key = credential:psk", err,
				    sizeof(err)), 0);
	assert_string_equal(c.dm_sc.psk_key, "00112233");
	assert_string_equal(conf_key_credential(&c, "dm_sc", "psk_key"), "psk");
	assert_null(conf_key_credential(&c, "dm_sc", "psk_identity"));
	assert_int_equal(dm_sc_line(&c, "server_password = \"credential:pw\"",
				    err, sizeof(err)), 0);
	assert_string_equal(c.dm_sc.server_password, "p@ss word");
	/* --dump-config shows the reference, not the value */
	f = open_memstream(&dump, &dlen);
	assert_non_null(f);
	conf_dump(&c, f);
	fclose(f);
	assert_non_null(strstr(dump, "\nserver_password = credential:pw\n"));
	assert_null(strstr(dump, "p@ss"));
	free(dump);

	static const struct {
		const char *line, *why;
	} refused[] = {
		{ "client_password = credential:open",
		  "dm_sc.client_password: credential open: mode 0644 lets others "
		  "at it (0400 or 0440 wanted)" },
		{ "client_password = credential:gw",
		  "dm_sc.client_password: credential gw: mode 0460 lets others "
		  "at it (0400 or 0440 wanted)" },
		{ "client_password = credential:lines",
		  "dm_sc.client_password: credential lines: not one line of text" },
		{ "client_password = credential:nul",
		  "dm_sc.client_password: credential nul: not one line of text" },
		{ "psk_key = credential:big",
		  "dm_sc.psk_key: credential big: larger than 128 bytes" },
		{ "server_nonce = credential:adir",
		  "dm_sc.server_nonce: credential adir: not a regular file" },
		{ "client_nonce = credential:../psk",
		  "dm_sc.client_nonce: '../psk' is not a credential name (1 to 64 "
		  "printable characters, no '/' or blank)" },
		{ "client_nonce = credential:",
		  "dm_sc.client_nonce: '' is not a credential name (1 to 64 "
		  "printable characters, no '/' or blank)" },
		/* the key's own check: the value is not quoted */
		{ "psk_key = credential:notes",
		  "dm_sc.psk_key: not 1 to 64 bytes in hex" },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(dm_sc_line(&c, refused[i].line, err,
					    sizeof(err)), -1);
		snprintf(want, sizeof(want), "t.conf:2: %s", refused[i].why);
		assert_string_equal(err, want);
		assert_null(strstr(err, "SECRET"));
	}
	assert_int_equal(dm_sc_line(&c, "client_password = credential:nope",
				    err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "t.conf:2: dm_sc.client_password: "
		 "credential nope: no such file in $CREDENTIALS_DIRECTORY (%s)",
		 dir);
	assert_string_equal(err, want);
	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	assert_int_equal(dm_sc_line(&c, "psk_key = credential:psk", err,
				    sizeof(err)), -1);
	assert_string_equal(err, "t.conf:2: dm_sc.psk_key: credential psk: "
			    "$CREDENTIALS_DIRECTORY is not set (systemd sets it "
			    "for a unit with LoadCredential=)");
	snprintf(want, sizeof(want), "rm -rf '%s'", dir);
	assert_int_equal(system(want), 0);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_nul_and_long_line),
		cmocka_unit_test(test_overlong_value),
		cmocka_unit_test(test_small_error_buffer),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_dm_keys),
		cmocka_unit_test(test_module_keys),
		cmocka_unit_test(test_key_error_alias),
		cmocka_unit_test(test_check_good),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_credentials),
	};
	static struct CMUnitTest tests[sizeof(fixed) / sizeof(fixed[0]) + NBAD +
				       NCHECK];
	static char names[NBAD + NCHECK][48];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	for (size_t i = 0; i < NBAD; i++) {
		snprintf(names[i], sizeof(names[i]), "bad input %zu", i + 1);
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_bad,
						(void *)&bad_cases[i]);
		tests[n++].name = names[i];
	}
	for (size_t i = 0; i < NCHECK; i++) {
		snprintf(names[NBAD + i], sizeof(names[0]), "module check %zu",
			 i + 1);
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(
			test_check_bad, (void *)&check_cases[i]);
		tests[n++].name = names[NBAD + i];
	}
	return _cmocka_run_group_tests("conf", tests, n, NULL, NULL);
}
