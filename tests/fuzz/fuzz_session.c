/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for a whole OMA DM 1.2 client session (dm/session.c with
 * dm/exec.c, dm/outbox.c and the tree): the server's messages, XML or
 * WBXML, come from the input through a fake transport that replaces HTTP
 * (struct dm_session_transport), so every answer the client would get from
 * the network is fuzzed, its content type, x-syncml-hmac header and HTTP
 * status too.
 *
 * Input layout (docs in the seed corpus, tests/fuzz/corpus/session/):
 *
 *   byte 0  bits 0-1 client AAuthType (none, BASIC, DIGEST, HMAC)
 *           bits 2-3 server AAuthType (same)
 *           bit 4 server-initiated (Alert 1200), else 1201
 *           bit 5 resync (the zero nonce)
 *           bit 6 small MaxMsgSize and MaxObjSize
 *           bit 7 the client writes WBXML
 *   byte 1  bits 0-1 UI agent: none, refuses (<0), answers later, cancels
 *           bit 2 the agent's later answer is accept, else reject
 *           bit 3 dm_session_cancel() after the first server message
 *           bits 4-5 dm_session_free() mid-session after that many
 *                    server messages (0: never)
 *           bit 6 alert policy reject
 *           bit 7 two authentication retries, else none
 *   byte 2  bit 0 the done callback frees the session
 *           bit 1 Package#1 carries a Generic Alert
 *           bit 2 the "changed" callback is called for (the tree's
 *                 round trip is checked whenever a session changed it)
 *           bits 3-4 the save the session waits for: done at once (0),
 *                 later (1), fails later (2), fails at once (3)
 *           bits 5-6 Exec agent (./Ex/ is executable, ./Ex/Go in it):
 *                 none (the tree's handlers), answers at once, answers
 *                 later, cancelled while it works
 *           bit 7 the agent answers 202, else 500
 *   then the server's messages, separated by SEP; the first byte of each:
 *           bit 0 Content-Type WBXML, else XML
 *           bits 1-2 x-syncml-hmac: none, right, wrong, right
 *           bit 3 HTTP status 500
 *           bit 4 Content-Type text/plain
 *           bit 5 a transport error instead of this answer
 *
 * Once the messages run out, the next post gets a transport error.  The
 * SessionID the server must echo is "1A".
 *
 * Invariants (abort()): the session posts only when no post is
 * outstanding, never hangs (done, or a post, a UI question or an Exec
 * pending; an Exec waits in "awaiting-agent"), calls
 * done once, ends with a known result, DM_RESULT_OK never after a transport
 * error; no Atomic is left open; every transport opened is closed; the tree
 * serialises, loads back from the file and serialises to the same bytes.
 *
 * Not quite deterministic: the session's fresh NextNonce comes from
 * dm_nonce_generate() (RAND_bytes).  The fuzzer signs with whatever nonce
 * the session stored in the tree, so the path taken does not depend on it;
 * only the bytes of the client's messages do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "syncml/auth.h"
#include "dm/http.h"
#include "dm/exec.h"
#include "dm/session.h"
#include "dm/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

#define SEP		"#~#"
#define SEP_LEN		3
#define MAX_MSGS	16
#define SESSION_ID	0x1A
#define SERVER_ID	"fuzzsrv"
#define ACCOUNT_ID	"fuzz"
#define CLI_NAME	"client"
#define CLI_SECRET	"clisecret"
#define CLI_NONCE	"Y2xpbm9uY2U="		/* "clinonce" */
#define SRV_NAME	"server"
#define SRV_SECRET	"srvsecret"
#define SRV_NONCE	"c3J2bm9uY2U="		/* "srvnonce" */
#define CT_XML		"application/vnd.syncml.dm+xml"
#define CT_WBXML	"application/vnd.syncml.dm+wbxml"

static const struct dm_tree_config tree_cfg = {
	.devid = "IMEI:493005100592800",
	.manufacturer = "dmscgw project",
	.model = "fuzz",
	.devtyp = "phone",
	.fwv = "1", .swv = "1", .hwv = "1",
};

static const char *const auth_types[] = { "", "BASIC", "DIGEST", "HMAC" };

/* The fake transport: one outstanding post at most. */
static struct {
	int opened;			/* open minus close */
	bool pending;
	void (*cb)(void *arg, int err, const char *msg,
		   const struct dm_http_response *resp);
	void *arg;
	size_t posts;
} tr;

/* What the session's callbacks saw. */
static struct {
	struct dm_session *s;
	unsigned ui_mode;
	bool ui_pending;
	unsigned exec_mode;
	bool exec_pending;
	unsigned done;
	bool free_in_done;
	bool changed;
	enum dm_session_result result;
} run;

static struct event_base *base;
static char tree_path[64];

/* Any non-NULL pointer: struct dm_http is opaque to the session. */
static struct dm_http *
fake_open(struct event_base *b, const char *url, const struct dm_http_opts *o,
	  char *err, size_t errlen)
{
	(void)b;
	(void)url;
	(void)o;
	(void)err;
	(void)errlen;
	tr.opened++;
	return (struct dm_http *)&tr;
}

static int
fake_post(struct dm_http *h, const char *content_type, const char *hmac,
	  const uint8_t *body, size_t len,
	  void (*cb)(void *arg, int err, const char *msg,
		     const struct dm_http_response *resp),
	  void *arg)
{
	CHECK(h == (struct dm_http *)&tr);
	CHECK(!tr.pending);		/* dm_http_post would say -EBUSY */
	CHECK(content_type != NULL && body != NULL && len > 0);
	(void)hmac;
	tr.pending = true;
	tr.cb = cb;
	tr.arg = arg;
	tr.posts++;
	return 0;
}

static void
fake_close(struct dm_http *h)
{
	CHECK(h == (struct dm_http *)&tr);
	tr.opened--;
	tr.pending = false;	/* its callback is not called any more */
}

static const struct dm_session_transport fake_transport = {
	.open = fake_open,
	.post = fake_post,
	.close = fake_close,
};

static int
ui_cb(void *arg, struct dm_session *s, const struct dm_ui_request *r)
{
	(void)arg;
	CHECK(s == run.s);
	CHECK(r->code >= 1100 && r->code <= 1104);
	CHECK(r->options != NULL && r->text != NULL);
	CHECK(!run.ui_pending);
	if (run.ui_mode == 1)
		return -1;
	run.ui_pending = true;
	return 0;
}

static unsigned
exec_cb(void *arg, struct dm_session *s, const struct dm_exec_request *r)
{
	(void)arg;
	CHECK(s == run.s);
	CHECK(r->server != NULL && r->uri != NULL && r->format != NULL &&
	      r->correlator != NULL && (r->len == 0 || r->data != NULL));
	CHECK(!run.exec_pending);
	if (run.exec_mode == 1)
		return 200;
	run.exec_pending = true;
	return 0;
}

static void
done_cb(void *arg, struct dm_session *s)
{
	(void)arg;
	CHECK(s == run.s);
	run.done++;
	run.result = dm_session_result(s);
	if (run.free_in_done) {
		dm_session_free(s);
		run.s = NULL;
	}
}

static unsigned save_mode;

static int
changed_cb(void *arg, struct dm_session *s)
{
	(void)arg;
	CHECK(s == run.s);
	run.changed = true;
	return save_mode == 0 ? 0 : save_mode == 3 ? -ENOSPC : 1;
}

/* Deliver one server message: its flags byte, then the body. */
static void
deliver(struct dm_tree *t, const uint8_t *msg, size_t len)
{
	static const char wrong_hmac[] =
		"algorithm=MD5, username=\"" SRV_NAME "\", "
		"mac=AAAAAAAAAAAAAAAAAAAAAA==";
	struct dm_http_response resp = { 0 };
	struct dm_account acc;
	uint8_t flags, nonce[128];
	char hmac[512];
	int n;

	tr.pending = false;
	flags = msg[0];
	resp.body = msg + 1;
	resp.len = len - 1;
	resp.status = flags & 0x08 ? 500 : 200;
	resp.content_type = flags & 0x10 ? "text/plain" :
			    flags & 0x01 ? CT_WBXML : CT_XML;
	switch ((flags >> 1) & 3) {
	case 1:
	case 3:
		/* signed with the nonce the session gave the server last */
		CHECK(dm_tree_account_find(t, SERVER_ID, &acc) == DM_TREE_OK);
		n = dm_b64_decode(nonce, sizeof(nonce), acc.server.data,
				  strlen(acc.server.data));
		if (n >= 0 &&
		    dm_hmac_header(hmac, sizeof(hmac), SRV_NAME, SRV_SECRET,
				   nonce, (size_t)n, resp.body, resp.len) >= 0)
			resp.hmac = hmac;
		break;
	case 2:
		resp.hmac = wrong_hmac;
		break;
	}
	tr.cb(tr.arg, 0, NULL, &resp);
}

static void
account(struct dm_account *a, uint8_t opt)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), ACCOUNT_ID);
	snprintf(a->server_id, sizeof(a->server_id), SERVER_ID);
	snprintf(a->name, sizeof(a->name), "Fuzz server");
	snprintf(a->addr, sizeof(a->addr), "http://dm.example/dm");
	snprintf(a->addr_type, sizeof(a->addr_type), "URI");
	snprintf(a->client.type, sizeof(a->client.type), "%s",
		 auth_types[opt & 3]);
	snprintf(a->client.name, sizeof(a->client.name), CLI_NAME);
	snprintf(a->client.secret, sizeof(a->client.secret), CLI_SECRET);
	snprintf(a->client.data, sizeof(a->client.data), CLI_NONCE);
	snprintf(a->server.type, sizeof(a->server.type), "%s",
		 auth_types[(opt >> 2) & 3]);
	snprintf(a->server.name, sizeof(a->server.name), SRV_NAME);
	snprintf(a->server.secret, sizeof(a->server.secret), SRV_SECRET);
	snprintf(a->server.data, sizeof(a->server.data), SRV_NONCE);
}

static void
write_file(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)len) == 0);
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		CHECK(n > 0);
		p += n;
		len -= (size_t)n;
	}
	CHECK(close(fd) == 0);
}

/* The tree serialises, loads back and serialises to the same bytes. */
static void
check_tree(struct dm_tree *t)
{
	uint8_t *a, *b;
	size_t alen, blen;
	struct dm_tree *u;
	char err[256];

	CHECK(!dm_tree_in_atomic(t));
	CHECK(dm_tree_serialize(t, &a, &alen) == 0);
	write_file(tree_path, a, alen);
	CHECK(dm_tree_load(&tree_cfg, tree_path, &u, err, sizeof(err)) ==
	      DM_TREE_LOADED);
	CHECK(dm_tree_serialize(u, &b, &blen) == 0);
	CHECK(alen == blen && memcmp(a, b, alen) == 0);
	free(a);
	free(b);
	dm_tree_free(u);
}

static void
cleanup(void)
{
	unlink(tree_path);
}

static void
init(void)
{
	const char *dir = getenv("TMPDIR");

	if (dir == NULL && access("/dev/shm", W_OK) == 0)
		dir = "/dev/shm";

	CHECK((base = event_base_new()) != NULL);
	snprintf(tree_path, sizeof(tree_path), "%s/fuzz_session.%ld.tree",
		 dir != NULL && strlen(dir) < 32 ? dir : "/tmp", (long)getpid());
	atexit(cleanup);
}

/* Split the messages off the input: pointers into data, SEP-separated. */
static size_t
split(const uint8_t *p, size_t len, const uint8_t **msg, size_t *mlen)
{
	size_t n = 0;

	while (n < MAX_MSGS) {
		const uint8_t *e = memmem(p, len, SEP, SEP_LEN);

		msg[n] = p;
		mlen[n] = e ? (size_t)(e - p) : len;
		n++;
		if (!e)
			break;
		len -= (size_t)(e - p) + SEP_LEN;
		p = e + SEP_LEN;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dm_generic_alert report = {
		.source = "./FUMO/State", .type = "org.openmobilealliance.dm.firmwareupdate.devicerequest",
		.format = "int", .mark = "critical", .data = "1",
	};
	const uint8_t *msg[MAX_MSGS];
	size_t mlen[MAX_MSGS], nmsg, next = 0;
	struct dm_session_cfg cfg;
	struct dm_account acc;
	struct dm_tree *t;
	unsigned free_after;
	bool cancelled = false, transport_err = false;
	char err[160];
	uint8_t o0, o1, o2;

	if (size < 3 || size > 65536)
		return 0;
	if (base == NULL)
		init();
	o0 = data[0];
	o1 = data[1];
	o2 = data[2];
	nmsg = split(data + 3, size - 3, msg, mlen);

	CHECK((t = dm_tree_new(&tree_cfg)) != NULL);
	account(&acc, o0);
	CHECK(dm_tree_account_add(t, &acc) == DM_TREE_OK);

	memset(&tr, 0, sizeof(tr));
	memset(&run, 0, sizeof(run));
	memset(&cfg, 0, sizeof(cfg));
	cfg.base = base;
	cfg.tree = t;
	cfg.acc = &acc;
	cfg.devid = tree_cfg.devid;
	cfg.session_id = SESSION_ID;
	cfg.server_initiated = o0 & 0x10;
	cfg.resync = o0 & 0x20;
	cfg.max_msg_size = o0 & 0x40 ? 1024 : 16384;
	cfg.max_obj_size = o0 & 0x40 ? 2048 : 65536;
	cfg.format = o0 & 0x80 ? SYNCML_WBXML : SYNCML_XML;
	cfg.report = o2 & 0x02 ? &report : NULL;
	cfg.timeout = 30;
	cfg.auth_retries = o1 & 0x80 ? 2 : 0;
	cfg.alerts = o1 & 0x40 ? DM_ALERTS_REJECT : DM_ALERTS_ACCEPT;
	run.ui_mode = o1 & 3;
	cfg.ui = run.ui_mode ? ui_cb : NULL;
	run.exec_mode = (o2 >> 5) & 3;
	cfg.exec = run.exec_mode ? exec_cb : NULL;
	if (run.exec_mode) {
		bool changed;

		CHECK(dm_tree_make_executable(t, "./Ex", true, &changed) ==
		      DM_TREE_OK);
		CHECK(dm_tree_make_executable(t, "./Ex/Go", false, &changed) ==
		      DM_TREE_OK);
	}
	cfg.transport = &fake_transport;
	run.free_in_done = o2 & 0x01;
	free_after = (o1 >> 4) & 3;
	save_mode = (o2 >> 3) & 3;

	run.s = dm_session_start(&cfg, done_cb, changed_cb, NULL, err,
				 sizeof(err));
	CHECK(run.s != NULL);
	for (;;) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (run.done)
			break;
		if (run.ui_pending) {
			CHECK(dm_session_ui_waiting(run.s));
			run.ui_pending = false;
			if (run.ui_mode == 3)
				dm_session_cancel(run.s, "fuzz: cancelled");
			else
				dm_session_ui_answer(run.s, o1 & 0x04 ?
						     DM_UI_ACCEPT :
						     DM_UI_REJECT,
						     next & 1 ? "2" : NULL);
			continue;
		}
		if (run.exec_pending) {
			CHECK(!strcmp(dm_session_state(run.s), "awaiting-agent"));
			run.exec_pending = false;
			if (run.exec_mode == 3)
				dm_session_cancel(run.s, "fuzz: cancelled");
			dm_session_exec_answer(run.s, o2 & 0x80 ? 202 : 500,
					       next & 1 ? "fuzz" : "");
			continue;
		}
		if (dm_session_saving(run.s)) {
			/* the writer thread's answer, from the loop */
			if (save_mode == 2)
				dm_session_saved(run.s, -EIO, "fuzz: no space");
			else
				dm_session_saved(run.s, 0, NULL);
			continue;
		}
		/* not done and not waiting for the agent: it must have posted */
		CHECK(tr.pending);
		if (free_after && next == free_after)
			break;
		if (next == 1 && (o1 & 0x08) && !cancelled) {
			dm_session_cancel(run.s, "fuzz: cancelled");
			cancelled = true;
		}
		if (next < nmsg && mlen[next] > 0 && !(msg[next][0] & 0x20)) {
			deliver(t, msg[next], mlen[next]);
		} else {
			transport_err = true;
			tr.pending = false;
			tr.cb(tr.arg, -ECONNRESET, "connection reset", NULL);
		}
		next++;
	}
	if (run.done) {
		CHECK(run.done == 1);
		CHECK(run.result > DM_RESULT_NONE &&
		      run.result <= DM_RESULT_SAVE);
		CHECK(run.result != DM_RESULT_OK || !transport_err);
		if (run.s != NULL)
			CHECK(dm_session_result(run.s) == run.result);
	} else {
		CHECK(run.s != NULL);
		/* an abort under way already holds its result */
		CHECK(dm_session_result(run.s) == DM_RESULT_NONE ||
		      !strcmp(dm_session_state(run.s), "aborting"));
	}
	dm_session_free(run.s);
	/* nothing of the session may be left in the loop */
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(tr.opened == 0);
	CHECK(!dm_tree_in_atomic(t));
	/* an unchanged tree was checked by the seeds; skip it, for speed */
	if (run.changed || (o2 & 0x04))
		check_tree(t);
	dm_tree_free(t);
	return 0;
}
