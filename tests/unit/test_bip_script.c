/* SPDX-License-Identifier: MIT */
/*
 * The BIP module (src/bip: cmd.c, channel.c, server.c, client.c, fast.c,
 * apps.c) driven by a scripted card over fake_pcsc.c, with real sockets on
 * loopback for the other end of each channel: the five commands of
 * TS 102 223 6.4.27-6.4.31 with their results (00, 07, 20, 30, 32, 36,
 * 3A + cause), the Data Available and Channel Status events (7.5.10,
 * 7.5.11) and the fast path's delegated answers.  Named by the TS 31.124
 * sequence where one is used (27.22.4.27-31), else by clause.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "bip/apps.h"
#include "bip/bip.h"
#include "cat/cat.h"
#include "script.h"

struct harness *h_state;

/* SET UP EVENT LIST: data available and channel status (7.5.10, 7.5.11) */
#define LIST_BIP_EVENTS(n) \
	FETCH("D0 0D 81 03 " n " 05 00 82 02 81 82 99 02 09 0A"), \
	TR("81 03 " n " 05 00" TERM "83 01 00")

/* ---- test-side actions --------------------------------------------------- */

static void peer_connects(struct harness *h)
{
	h->peer = h_connect(h->port);
	if (h->peer < 0)
		h_fail(h, "cannot connect to the card's port %u", h->port);
}

static void peer_sends_hello(struct harness *h)
{
	if (write(h->peer, "hello", 5) != 5)
		h_fail(h, "cannot write to the channel");
}

static void peer_reads_world(struct harness *h)
{
	h_expect_read(h, h->peer, "77 6F 72 6C 64");
}

static void peer_closes(struct harness *h)
{
	close(h->peer);
	h->peer = -1;
}

/* The test's server for the client modes: accepts the card's connection. */
static void peer_accepts(struct harness *h)
{
	h->peer = accept(h->peer2, NULL, NULL);
	if (h->peer < 0)
		h_fail(h, "no connection from the terminal");
}

static void peer_sends_hi(struct harness *h)
{
	if (write(h->peer, "hi", 2) != 2)
		h_fail(h, "cannot write to the channel");
}

static void peer_reads_stored(struct harness *h)
{
	h_expect_read(h, h->peer,
		      "30 31 32 33 34 35 36 37 38 39 61 62");
}

static void peer_reads_1_1_1(struct harness *h)
{
	h_expect_read(h, h->peer, "00 01 02 03 04 05 06 07");
}

static void check_delegated_one(struct harness *h)
{
	assert_int_equal(cat_delegated(h->cat), 1);
}

/* ---- UICC server mode ----------------------------------------------------- */

/*
 * TS 102 223 6.4.27.5 (transport 03), 7.5.10, 7.5.11, 6.4.29, 6.4.30,
 * 6.4.28: LISTEN on loopback; a client connects (channel status event,
 * ESTABLISHED); it sends (data available, the PROTOCOL.md vector's
 * coding); the card pulls with RECEIVE DATA and answers with SEND DATA,
 * which the fast path answers on the worker; the client closes (channel
 * status: link dropped, the PROTOCOL.md vector); CLOSE CHANNEL 27.22.4.28
 * 1.1.1; GET CHANNEL STATUS 27.22.4.31 1.1.1 finds no channel.
 */
static void server_mode(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		LIST_BIP_EVENTS("01"), PENDING,
		FETCH("D0 $L 81 03 02 40 01 82 02 81 82 39 02 05 78 3C 03 03 $P"),
		TR("81 03 02 40 01" TERM "83 01 00 38 02 41 00 39 02 05 78"), OK,
		CALL(peer_connects),
		ENVELOPE("D6 $L 99 01 0A 82 02 82 81 B8 02 81 00"), OK,
		CALL(peer_sends_hello),
		ENVELOPE("D6 $L 99 01 09 82 02 82 81 B8 02 81 00 B7 01 05"),
		PENDING,
		FETCH("D0 0C 81 03 03 42 00 82 02 81 21 B7 01 05"),
		TR("81 03 03 42 00" TERM "83 01 00 B6 05 68 65 6C 6C 6F B7 01 00"),
		PENDING,
		/* fetched and answered on the worker: the fast path */
		FETCH("D0 $L 81 03 04 43 01 82 02 81 21 B6 05 77 6F 72 6C 64"),
		TR("81 03 04 43 01" TERM "83 01 00 B7 01 FF"), OK,
		CALL(check_delegated_one),
		CALL(peer_reads_world),
		CALL(peer_closes),
		ENVELOPE("D6 0B 99 01 0A 82 02 82 81 B8 02 01 05"), PENDING,
		FETCH("D0 09 81 03 01 41 00 82 02 81 21"),
		TR("81 03 01 41 00" TERM "83 01 00"), PENDING,
		FETCH("D0 09 81 03 05 44 00 82 02 81 82"),
		TR("81 03 05 44 00" TERM "83 01 00 B8 02 00 00"), OK,
	};
	struct bip_channel_info ci[7];

	(void)state;
	h->port = h_free_port();
	H_RUN(h, s);
	assert_int_equal(bip_channels(h->bip, h->cat, ci, 7), 0);
}

/*
 * cat.h delegation: a RECEIVE DATA fetched after a TERMINAL RESPONSE on
 * an established channel with staged bytes is answered on the worker, as
 * the loop would answer it (6.4.29).
 */
static void server_fast_receive(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		LIST_BIP_EVENTS("01"), PENDING,
		FETCH("D0 $L 81 03 02 40 01 82 02 81 82 39 02 05 78 3C 03 03 $P"),
		TR("81 03 02 40 01" TERM "83 01 00 38 02 41 00 39 02 05 78"), OK,
		CALL(peer_connects),
		ENVELOPE("D6 $L 99 01 0A 82 02 82 81 B8 02 81 00"), OK,
		CALL(peer_sends_hello),
		ENVELOPE("D6 $L 99 01 09 82 02 82 81 B8 02 81 00 B7 01 05"),
		PENDING,
		FETCH("D0 09 81 03 03 44 00 82 02 81 82"),
		TR("81 03 03 44 00" TERM "83 01 00 B8 02 81 00"), PENDING,
		FETCH("D0 0C 81 03 04 42 00 82 02 81 21 B7 01 05"),
		TR("81 03 04 42 00" TERM "83 01 00 B6 05 68 65 6C 6C 6F B7 01 00"),
		OK,
		CALL(check_delegated_one),
	};

	(void)state;
	h->port = h_free_port();
	H_RUN(h, s);
}

/*
 * TS 102 223 6.4.28: CLOSE CHANNEL with qualifier 01 on a server channel
 * goes back to LISTEN; the client is dropped and a new one is taken.
 */
static void peer_sees_eof(struct harness *h)
{
	char c;
	int n = -2;

	for (int i = 0; i < 2000 && n != 0; i++) {
		event_base_loop(h->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		n = (int)recv(h->peer, &c, 1, MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			break;
	}
	if (n != 0)
		h_fail(h, "the client was not dropped");
	close(h->peer);
	h->peer = -1;
}

static void server_back_to_listen(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		LIST_BIP_EVENTS("01"), PENDING,
		FETCH("D0 $L 81 03 02 40 01 82 02 81 82 39 02 05 78 3C 03 03 $P"),
		TR("81 03 02 40 01" TERM "83 01 00 38 02 41 00 39 02 05 78"), OK,
		CALL(peer_connects),
		ENVELOPE("D6 $L 99 01 0A 82 02 82 81 B8 02 81 00"), PENDING,
		FETCH("D0 09 81 03 03 44 00 82 02 81 82"),
		TR("81 03 03 44 00" TERM "83 01 00 B8 02 81 00"), PENDING,
		FETCH("D0 09 81 03 04 41 01 82 02 81 21"),
		TR("81 03 04 41 01" TERM "83 01 00"), OK,
		CALL(peer_sees_eof),
		CALL(peer_connects),
		ENVELOPE("D6 $L 99 01 0A 82 02 82 81 B8 02 81 00"), OK,
	};

	(void)state;
	h->port = h_free_port();
	H_RUN(h, s);
}

/*
 * A channel in LISTEN: GET CHANNEL STATUS 41 00 (8.56); SEND DATA and
 * RECEIVE DATA have no link: 3A 02 (channel closed); without their
 * mandatory objects (6.6.29, 6.6.30): 36.
 */
static void server_listen_errors(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		FETCH("D0 $L 81 03 01 40 01 82 02 81 82 39 02 05 78 3C 03 03 $P"),
		TR("81 03 01 40 01" TERM "83 01 00 38 02 41 00 39 02 05 78"),
		PENDING,
		FETCH("D0 09 81 03 02 44 00 82 02 81 82"),
		TR("81 03 02 44 00" TERM "83 01 00 B8 02 41 00"), PENDING,
		FETCH("D0 $L 81 03 03 43 01 82 02 81 21 B6 02 41 42"),
		TR("81 03 03 43 01" TERM "83 02 3A 02"), PENDING,
		FETCH("D0 0C 81 03 04 42 00 82 02 81 21 B7 01 10"),
		TR("81 03 04 42 00" TERM "83 02 3A 02"), PENDING,
		FETCH("D0 09 81 03 05 42 00 82 02 81 21"),
		TR("81 03 05 42 00" TERM "83 01 36"), PENDING,
		FETCH("D0 09 81 03 06 43 01 82 02 81 21"),
		TR("81 03 06 43 01" TERM "83 01 36"), OK,
	};

	(void)state;
	h->port = h_free_port();
	H_RUN(h, s);
}

/* TS 102 223 6.4.27: a buffer larger than buffer_max: 07, 16384 given. */
static void server_buffer_modified(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		FETCH("D0 $L 81 03 01 40 01 82 02 81 82 39 02 FF FF 3C 03 03 $P"),
		TR("81 03 01 40 01" TERM "83 01 07 38 02 41 00 39 02 40 00"), OK,
	};

	(void)state;
	h->port = h_free_port();
	H_RUN(h, s);
}

/* TS 102 223 8.12.11: the port is held by another program: 3A 10. */
static void server_port_taken(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		FETCH("D0 $L 81 03 01 40 01 82 02 81 82 39 02 05 78 3C 03 03 $P"),
		TR("81 03 01 40 01" TERM "83 02 3A 10"), OK,
	};
	struct bip_channel_info ci[7];
	uint16_t port = 0;

	(void)state;
	h->peer2 = h_listen(&port);
	assert_true(h->peer2 >= 0);
	h->port = port;
	H_RUN(h, s);
	assert_int_equal(bip_channels(h->bip, h->cat, ci, 7), 0);
}

/* TS 102 223 8.12.11: seven channels open, the eighth: 3A 01. */
#define OPEN_ON_PORT(n) \
	FETCH("D0 $L 81 03 0" #n " 40 01 82 02 81 82 39 02 05 78 3C 03 03 $P"), \
	TR("81 03 0" #n " 40 01" TERM "83 01 00 38 02 4" #n " 00 39 02 05 78"), \
	PENDING

static void no_channel_left(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		OPEN_ON_PORT(1), OPEN_ON_PORT(2), OPEN_ON_PORT(3),
		OPEN_ON_PORT(4), OPEN_ON_PORT(5), OPEN_ON_PORT(6),
		OPEN_ON_PORT(7),
		FETCH("D0 $L 81 03 08 40 01 82 02 81 82 39 02 05 78 3C 03 03 $P"),
		TR("81 03 08 40 01" TERM "83 02 3A 01"), OK,
	};
	struct bip_channel_info ci[7];

	(void)state;
	h->port = h_free_port();
	H_RUN(h, s);
	assert_int_equal(bip_channels(h->bip, h->cat, ci, 7), 7);
}

/* ---- client modes --------------------------------------------------------- */

/*
 * TS 102 223 6.4.27.2 (transport 02, immediate link): OPEN CHANNEL is
 * answered once connected; bytes from the peer: data available; RECEIVE
 * DATA; CLOSE CHANNEL.
 */
static void client_tcp_immediate(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		LIST_BIP_EVENTS("01"), PENDING,
		FETCH("D0 $L 81 03 02 40 01 82 02 81 82 35 01 03 39 02 05 78"
		      " 3C 03 02 $P 3E 05 21 7F 00 00 01"),
		TR("81 03 02 40 01" TERM
		   "83 01 00 38 02 81 00 35 01 03 39 02 05 78"), OK,
		CALL(peer_accepts),
		CALL(peer_sends_hi),
		ENVELOPE("D6 $L 99 01 09 82 02 82 81 B8 02 81 00 B7 01 02"),
		PENDING,
		FETCH("D0 0C 81 03 03 42 00 82 02 81 21 B7 01 10"),
		TR("81 03 03 42 00" TERM "83 01 00 B6 02 68 69 B7 01 00"),
		PENDING,
		FETCH("D0 09 81 03 04 41 00 82 02 81 21"),
		TR("81 03 04 41 00" TERM "83 01 00"), OK,
	};
	uint16_t port = 0;

	(void)state;
	h->peer2 = h_listen(&port);
	assert_true(h->peer2 >= 0);
	h->port = port;
	H_RUN(h, s);
}

/* TS 102 223 8.12.11: nobody listens at the destination: 3A 07. */
static void client_tcp_unreachable(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		FETCH("D0 $L 81 03 01 40 01 82 02 81 82 35 01 03 39 02 05 78"
		      " 3C 03 02 $P 3E 05 21 7F 00 00 01"),
		TR("81 03 01 40 01" TERM "83 02 3A 07"), OK,
	};
	struct bip_channel_info ci[7];

	(void)state;
	h->port = h_free_port();
	H_RUN(h, s);
	assert_int_equal(bip_channels(h->bip, h->cat, ci, 7), 0);
}

/*
 * TS 102 223 6.4.27 (link on demand), 6.4.30: OPEN CHANNEL without
 * immediate link; SEND DATA 00 stores (Tx room left), beyond the buffer
 * 3A 04; SEND DATA 01 brings the link up and the stored bytes follow.
 */
static void client_on_demand_store(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		FETCH("D0 $L 81 03 01 40 00 82 02 81 82 35 01 03 39 02 00 10"
		      " 3C 03 02 $P 3E 05 21 7F 00 00 01"),
		TR("81 03 01 40 00" TERM
		   "83 01 00 38 02 01 00 35 01 03 39 02 00 10"), PENDING,
		FETCH("D0 $L 81 03 02 43 00 82 02 81 21"
		      " B6 0A 30 31 32 33 34 35 36 37 38 39"),
		TR("81 03 02 43 00" TERM "83 01 00 B7 01 06"), PENDING,
		FETCH("D0 $L 81 03 03 43 00 82 02 81 21"
		      " B6 0A 30 31 32 33 34 35 36 37 38 39"),
		TR("81 03 03 43 00" TERM "83 02 3A 04"), PENDING,
		FETCH("D0 $L 81 03 04 43 01 82 02 81 21 B6 02 61 62"),
		TR("81 03 04 43 01" TERM "83 01 00 B7 01 04"), OK,
		CALL(peer_accepts),
		CALL(peer_reads_stored),
	};
	uint16_t port = 0;

	(void)state;
	h->peer2 = h_listen(&port);
	assert_true(h->peer2 >= 0);
	h->port = port;
	H_RUN(h, s);
}

/*
 * TS 31.124 27.22.4.27 OPEN CHANNEL 2.1.1 (UDP, UICC in client mode,
 * remote), its data destination 01.01.01.01 replaced by 127.0.0.1 so that
 * the test needs no network; then 27.22.4.30 SEND DATA 1.1.1 on it: one
 * datagram of 8 bytes.
 */
static void client_udp_2_1_1(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		FETCH("D0 36 81 03 01 40 01 82 02 81 82 35 07 02 03 04 03 04 1F 02"
		      " 39 02 05 78 0D 08 F4 55 73 65 72 4C 6F 67 0D 08 F4 55 73 65"
		      " 72 50 77 64 3C 03 01 $P 3E 05 21 7F 00 00 01"),
		TR("81 03 01 40 01 82 02 82 81 83 01 00 38 02 81 00"
		   " 35 07 02 03 04 03 04 1F 02 39 02 05 78"), PENDING,
		FETCH("D0 13 81 03 01 43 01 82 02 81 21 B6 08 00 01 02 03 04 05 06 07"),
		TR("81 03 01 43 01 82 02 82 81 83 01 00 B7 01 FF"), OK,
		CALL(peer_reads_1_1_1),
	};
	uint16_t port = 0;

	(void)state;
	h->peer = h_udp(&port);
	assert_true(h->peer >= 0);
	h->port = port;
	H_RUN(h, s);
}

/* ---- terminal server mode (OMA-TS-DM_SC 7.1) -------------------------------- */

struct app_test {
	bool refuse_open, refuse_data;
};

static struct bip_app_result app_open(void *arg, struct cat *c, unsigned ch)
{
	struct harness *h = arg;
	const struct app_test *t = h->user;

	(void)c;
	(void)ch;
	h->apps_opened++;
	return t && t->refuse_open ? BIP_APP_REFUSED(0x02) : BIP_APP_OK;
}

static struct bip_app_result app_deliver(void *arg, struct cat *c,
					 unsigned ch, const uint8_t *p,
					 size_t len)
{
	struct harness *h = arg;
	const struct app_test *t = h->user;

	(void)c;
	(void)ch;
	if (t && t->refuse_data)
		return BIP_APP_REFUSED(BIP_APP_NO_CAUSE);
	if (h->ndelivered + len <= sizeof(h->delivered)) {
		memcpy(h->delivered + h->ndelivered, p, len);
		h->ndelivered += len;
	}
	return BIP_APP_OK;
}

static void app_close(void *arg, struct cat *c, unsigned ch)
{
	struct harness *h = arg;

	(void)c;
	(void)ch;
	h->apps_closed++;
}

static const struct bip_app_ops app_ops = {
	.open = app_open,
	.deliver = app_deliver,
	.close = app_close,
};

/* The DM client's registration, type 07 on port 3000 (0B B8). */
static struct harness *start_with_app(const struct app_test *t)
{
	struct harness *h = h_new(NULL);

	assert_non_null(h);
	h_state = h;
	h->user = (void *)t;
	assert_int_equal(bip_apps_register(h->bip, 3000, BIP_APP_TYPE_DM, "DMC",
					   &app_ops, h), 0);
	h_insert(h);
	return h;
}

/* Activation, then the Terminal Applications envelope (8.88). */
#define ACTIVATE_APPS \
	ACTIVATE, \
	ENVELOPE("DC $L 82 02 82 81 71 07 0B B8 04 07 44 4D 43 70 00"), PENDING

/*
 * OMA-TS-DM_SC 7.1 (TS 102 223 6.4.27, transport 05): the registry is
 * announced; OPEN CHANNEL to its port opens on the application; SEND DATA
 * 01 delivers (Package#0); CLOSE CHANNEL closes it.
 */
static void terminal_server_mode(void **state)
{
	struct harness *h = start_with_app(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_APPS,
		FETCH("D0 $L 81 03 01 40 01 82 02 81 82 39 02 05 78 3C 03 05 0B B8"),
		TR("81 03 01 40 01" TERM "83 01 00 38 02 81 00 39 02 05 78"),
		PENDING,
		FETCH("D0 $L 81 03 02 43 01 82 02 81 21 B6 03 01 02 03"),
		TR("81 03 02 43 01" TERM "83 01 00 B7 01 FF"), PENDING,
		FETCH("D0 09 81 03 03 41 00 82 02 81 21"),
		TR("81 03 03 41 00" TERM "83 01 00"), OK,
	};

	(void)state;
	H_RUN(h, s);
	assert_int_equal(h->apps_opened, 1);
	assert_int_equal(h->ndelivered, 3);
	assert_memory_equal(h->delivered, ((const uint8_t[]){ 1, 2, 3 }), 3);
	assert_int_equal(h->apps_closed, 1);
}

/* Spec 7.1 step 2: the application refuses the channel: 20 + its cause. */
static void terminal_server_refused(void **state)
{
	static const struct app_test t = { .refuse_open = true };
	struct harness *h = start_with_app(&t);
	static const struct h_frame s[] = {
		ACTIVATE_APPS,
		FETCH("D0 $L 81 03 01 40 01 82 02 81 82 39 02 05 78 3C 03 05 0B B8"),
		TR("81 03 01 40 01" TERM "83 02 20 02"), OK,
	};
	struct bip_channel_info ci[7];

	(void)state;
	H_RUN(h, s);
	assert_int_equal(bip_channels(h->bip, h->cat, ci, 7), 0);
}

/* The application cannot take the card's bytes: 20 00. */
static void terminal_server_data_refused(void **state)
{
	static const struct app_test t = { .refuse_data = true };
	struct harness *h = start_with_app(&t);
	static const struct h_frame s[] = {
		ACTIVATE_APPS,
		FETCH("D0 $L 81 03 01 40 01 82 02 81 82 39 02 05 78 3C 03 05 0B B8"),
		TR("81 03 01 40 01" TERM "83 01 00 38 02 81 00 39 02 05 78"),
		PENDING,
		FETCH("D0 $L 81 03 02 43 01 82 02 81 21 B6 03 01 02 03"),
		TR("81 03 02 43 01" TERM "83 02 20 00"), OK,
	};

	(void)state;
	H_RUN(h, s);
}

/* ---- vectors: one command, one response ------------------------------------ */

/* TS 31.124 27.22.4.31 GET CHANNEL STATUS 1.1.1: no channel */
static const struct vec get_status_1_1_1 = {
	.cmd = "D0 09 81 03 01 44 00 82 02 81 82",
	.tr = "81 03 01 44 00" TERM "83 01 00 B8 02 00 00",
};

/* TS 31.124 27.22.4.28 CLOSE CHANNEL 1.1.1 on a channel never opened: 3A 03 */
static const struct vec close_1_1_1_unknown = {
	.cmd = "D0 09 81 03 01 41 00 82 02 81 21",
	.tr = "81 03 01 41 00" TERM "83 02 3A 03",
};

/* TS 102 223 8.12.11: RECEIVE DATA on a channel never opened: 3A 03 */
static const struct vec receive_unknown = {
	.cmd = "D0 0C 81 03 01 42 00 82 02 81 21 B7 01 10",
	.tr = "81 03 01 42 00" TERM "83 02 3A 03",
};

/* TS 31.124 27.22.4.30 SEND DATA 1.1.1 with no channel open: 3A 03 */
static const struct vec send_1_1_1_unknown = {
	.cmd = "D0 13 81 03 01 43 01 82 02 81 21 B6 08 00 01 02 03 04 05 06 07",
	.tr = "81 03 01 43 01" TERM "83 02 3A 03",
};

/* TS 102 223 6.6.27: the buffer size is mandatory: 36 */
static const struct vec open_no_buffer = {
	.cmd = "D0 0E 81 03 01 40 01 82 02 81 82 3C 03 03 10 14",
	.tr = "81 03 01 40 01" TERM "83 01 36",
};

/* TS 102 223 6.6.27: TCP client remote names its destination: 36 */
static const struct vec open_no_destination = {
	.cmd = "D0 $L 81 03 01 40 01 82 02 81 82 35 01 03 39 02 05 78"
	       " 3C 03 02 00 50",
	.tr = "81 03 01 40 01" TERM "83 01 36",
};

/* A network bearer without a transport level: 3A 06 */
static const struct vec open_bearer_only = {
	.cmd = "D0 $L 81 03 01 40 01 82 02 81 82 35 07 02 03 04 03 04 1F 02"
	       " 39 02 05 78",
	.tr = "81 03 01 40 01" TERM "83 02 3A 06",
};

/* Direct communication channel (06) is not offered: 3A 06 */
static const struct vec open_direct = {
	.cmd = "D0 $L 81 03 01 40 01 82 02 81 82 39 02 05 78 3C 03 06 00 00",
	.tr = "81 03 01 40 01" TERM "83 02 3A 06",
};

/* TS 102 223 8.52: a CSD bearer (01) is beyond this terminal: 30 */
static const struct vec open_csd_bearer = {
	.cmd = "D0 $L 81 03 01 40 01 82 02 81 82 35 01 01 39 02 05 78"
	       " 3C 03 02 00 50 3E 05 21 7F 00 00 01",
	.tr = "81 03 01 40 01" TERM "83 01 30",
};

/* TS 102 223 8.59: a transport level of two bytes: 32 */
static const struct vec open_bad_transport = {
	.cmd = "D0 $L 81 03 01 40 01 82 02 81 82 39 02 05 78 3C 02 03 10",
	.tr = "81 03 01 40 01" TERM "83 01 32",
};

/* TS 102 223 8.58: an other address of unknown type: 32 */
static const struct vec open_bad_address = {
	.cmd = "D0 $L 81 03 01 40 01 82 02 81 82 35 01 03 39 02 05 78"
	       " 3C 03 02 00 50 3E 02 22 7F",
	.tr = "81 03 01 40 01" TERM "83 01 32",
};

/* Spec 7.1 step 2: terminal server mode, no application on port 3000: 20 00 */
static const struct vec open_no_application = {
	.cmd = "D0 $L 81 03 01 40 01 82 02 81 82 39 02 05 78 3C 03 05 0B B8",
	.tr = "81 03 01 40 01" TERM "83 02 20 00",
};

#define T(name, f)	{ name, f, NULL, h_teardown, NULL }

int main(void)
{
	const struct CMUnitTest tests[] = {
		T("OPEN CHANNEL 6.4.27.5 UICC server mode: events, data, close",
		  server_mode),
		T("RECEIVE DATA 6.4.29 answered on the worker (fast path)",
		  server_fast_receive),
		T("CLOSE CHANNEL 6.4.28 back to LISTEN", server_back_to_listen),
		T("SEND/RECEIVE DATA in LISTEN: 3A 02; 36; GET CHANNEL STATUS",
		  server_listen_errors),
		T("OPEN CHANNEL 6.4.27 buffer beyond buffer_max: 07",
		  server_buffer_modified),
		T("OPEN CHANNEL 8.12.11 port not available: 3A 10",
		  server_port_taken),
		T("OPEN CHANNEL 8.12.11 no channel available: 3A 01",
		  no_channel_left),
		T("OPEN CHANNEL 6.4.27.2 TCP client, immediate link",
		  client_tcp_immediate),
		T("OPEN CHANNEL 8.12.11 remote device not reachable: 3A 07",
		  client_tcp_unreachable),
		T("SEND DATA 6.4.30 store, 3A 04, send on demand",
		  client_on_demand_store),
		T("OPEN CHANNEL 27.22.4.27 2.1.1 (loopback), SEND DATA 27.22.4.30 1.1.1",
		  client_udp_2_1_1),
		T("OPEN CHANNEL terminal server mode, DM_SC 7.1",
		  terminal_server_mode),
		T("OPEN CHANNEL terminal server mode refused: 20 cause",
		  terminal_server_refused),
		T("SEND DATA terminal server mode refused: 20 00",
		  terminal_server_data_refused),
		VEC("GET CHANNEL STATUS 27.22.4.31 1.1.1", get_status_1_1_1),
		VEC("CLOSE CHANNEL 27.22.4.28 1.1.1 unknown channel: 3A 03",
		    close_1_1_1_unknown),
		VEC("RECEIVE DATA unknown channel: 3A 03", receive_unknown),
		VEC("SEND DATA 27.22.4.30 1.1.1 unknown channel: 3A 03",
		    send_1_1_1_unknown),
		VEC("OPEN CHANNEL 6.6.27 no buffer size: 36", open_no_buffer),
		VEC("OPEN CHANNEL 6.6.27 no destination: 36", open_no_destination),
		VEC("OPEN CHANNEL bearer without transport level: 3A 06",
		    open_bearer_only),
		VEC("OPEN CHANNEL direct communication channel: 3A 06", open_direct),
		VEC("OPEN CHANNEL 8.52 CSD bearer: 30", open_csd_bearer),
		VEC("OPEN CHANNEL 8.59 bad transport level: 32", open_bad_transport),
		VEC("OPEN CHANNEL 8.58 bad other address: 32", open_bad_address),
		VEC("OPEN CHANNEL terminal server mode, no application: 20 00",
		    open_no_application),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
