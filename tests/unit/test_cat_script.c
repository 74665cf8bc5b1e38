/* SPDX-License-Identifier: MIT */
/*
 * The CAT engine (cat.c), the terminal's own commands (terminal.c), the
 * timer and poll sources (wakeup/timer.c) and SEND SHORT MESSAGE
 * (sms/sms.c) driven by a scripted card over fake_pcsc.c: one test per
 * vector, named by the TS 31.124 expected sequence where there is one
 * (27.22.4.x n.n.n), else by the TS 102 223 / TS 102 221 clause whose
 * rule it checks.
 */
#include <errno.h>
#include <string.h>

#include "cat/cat.h"
#include "cat/envelope.h"
#include "script.h"
#include "wakeup/wakeup.h"

struct harness *h_state;

/* ---- configurations --------------------------------------------------- */

/* Normal service in a GSM cell: MCC 001, MNC 01, LAC 0001, cell 0001. */
static void conf_gsm(struct conf *c)
{
	snprintf(c->terminal.mcc, sizeof(c->terminal.mcc), "001");
	snprintf(c->terminal.mnc, sizeof(c->terminal.mnc), "01");
	c->terminal.lac = 1;
	c->terminal.cell = 1;
	c->terminal.rat = CAT_RAT_GSM;
	c->terminal.location_status = CAT_LOC_NORMAL;
}

static void conf_gsm_bad_mcc(struct conf *c)
{
	conf_gsm(c);
	c->terminal.mcc[0] = '\0';
}

static void conf_no_imei(struct conf *c)
{
	c->terminal.imei[0] = '\0';
}

/* Only the power-on wake-up: no timer source, its commands not enabled. */
static void conf_no_timer(struct conf *c)
{
	snprintf(c->wakeup.sources, sizeof(c->wakeup.sources),
		 "profile-download");
}

/* STATUS polls as often as the card asks (the shortest is 0.1 s). */
static void conf_fast_poll(struct conf *c)
{
	c->wakeup.poll_min = 0;
}

/* ---- vectors: one command, one response -------------------------------- */

/* TS 31.124 27.22.4.4 MORE TIME 1.1.1 */
static const struct vec more_time_1_1_1 = {
	.cmd = "D0 09 81 03 01 02 00 82 02 81 82",
	.tr = "81 03 01 02 00" TERM "83 01 00",
};

/* TS 31.124 27.22.4.6 POLL INTERVAL 1.1.1: 20 s granted as asked */
static const struct vec poll_interval_1_1_1 = {
	.cmd = "D0 0D 81 03 01 03 00 82 02 81 82 84 02 01 14",
	.tr = "81 03 01 03 00" TERM "83 01 00 84 02 01 14",
};

/* TS 102 223 6.4.6: 1 s asked, poll_min (5 s) used and said */
static const struct vec poll_interval_min = {
	.cmd = "D0 0D 81 03 01 03 00 82 02 81 82 84 02 01 01",
	.tr = "81 03 01 03 00" TERM "83 01 00 84 02 01 05",
};

/* TS 102 223 6.4.6: 2 hours asked, poll_max (3600 s = 60 minutes) */
static const struct vec poll_interval_max = {
	.cmd = "D0 0D 81 03 01 03 00 82 02 81 82 84 02 00 78",
	.tr = "81 03 01 03 00" TERM "83 01 00 84 02 00 3C",
};

/* TS 102 223 6.10.5: the duration is mandatory */
static const struct vec poll_interval_no_duration = {
	.cmd = "D0 09 81 03 01 03 00 82 02 81 82",
	.tr = "81 03 01 03 00" TERM "83 01 36",
};

/* TS 102 223 8.8: time unit 03 is reserved */
static const struct vec poll_interval_bad_unit = {
	.cmd = "D0 0D 81 03 01 03 00 82 02 81 82 84 02 03 01",
	.tr = "81 03 01 03 00" TERM "83 01 32",
};

/* TS 102 223 8.8: interval 00 is reserved */
static const struct vec poll_interval_zero = {
	.cmd = "D0 0D 81 03 01 03 00 82 02 81 82 84 02 01 00",
	.tr = "81 03 01 03 00" TERM "83 01 32",
};

/* POLL INTERVAL with the timer source off: not enabled, 30 */
static const struct vec poll_interval_off = {
	.cmd = "D0 0D 81 03 01 03 00 82 02 81 82 84 02 01 14",
	.tr = "81 03 01 03 00" TERM "83 01 30",
	.tune = conf_no_timer,
};

/* TS 31.124 27.22.4.8 POLLING OFF 1.1.1 */
static const struct vec polling_off_1_1_1 = {
	.cmd = "D0 09 81 03 01 04 00 82 02 81 82",
	.tr = "81 03 01 04 00" TERM "83 01 00",
};

/* POLLING OFF with the timer source off: not enabled, 30 */
static const struct vec polling_off_off = {
	.cmd = "D0 09 81 03 01 04 00 82 02 81 82",
	.tr = "81 03 01 04 00" TERM "83 01 30",
	.tune = conf_no_timer,
};

/* TS 102 223 6.4.16: location status, data available, channel status */
static const struct vec event_list_supported = {
	.cmd = "D0 0E 81 03 01 05 00 82 02 81 82 99 03 03 09 0A",
	.tr = "81 03 01 05 00" TERM "83 01 00",
};

/* TS 102 223 6.4.16: user activity (04) cannot be reported: 30 */
static const struct vec event_list_unsupported = {
	.cmd = "D0 0D 81 03 01 05 00 82 02 81 82 99 02 03 04",
	.tr = "81 03 01 05 00" TERM "83 01 30",
};

/* TS 102 223 6.4.16: local connection (0D), its capability off: 30 */
static const struct vec event_list_local_connection = {
	.cmd = "D0 0C 81 03 01 05 00 82 02 81 82 99 01 0D",
	.tr = "81 03 01 05 00" TERM "83 01 30",
};

/* TS 102 223 6.10.5: the event list is mandatory */
static const struct vec event_list_missing = {
	.cmd = "D0 09 81 03 01 05 00 82 02 81 82",
	.tr = "81 03 01 05 00" TERM "83 01 36",
};

/* 33 events: more than this terminal holds, 30 */
static const struct vec event_list_too_long = {
	.cmd = "D0 $L 81 03 01 05 00 82 02 81 82 99 21"
	" 03 03 03 03 03 03 03 03 03 03 03 03 03 03 03 03"
	" 03 03 03 03 03 03 03 03 03 03 03 03 03 03 03 03 03",
	.tr = "81 03 01 05 00" TERM "83 01 30",
};

/*
 * TS 31.124 27.22.4.10 SEND SHORT MESSAGE 1.1.1 (packing not required)
 * with no modem: TS 102 223 8.12.2 "terminal currently unable", no service.
 */
static const struct vec send_sms_1_1_1_no_modem = {
	.cmd = "D0 37 81 03 01 13 00 82 02 81 83 85 07 53 65 6E 64 20 53 4D"
	" 86 09 91 11 22 33 44 55 66 77 F8 8B 18 01 00 09 91 10 32 54 76 F8"
	" 40 F4 0C 54 65 73 74 20 4D 65 73 73 61 67 65",
	.tr = "81 03 01 13 00" TERM "83 02 20 04",
};

/* TS 31.124 27.22.4.15 PROVIDE LOCAL INFORMATION 1.1.1: location, GSM */
static const struct vec pli_1_1_1_location = {
	.cmd = "D0 09 81 03 01 26 00 82 02 81 82",
	.tr = "81 03 01 26 00" TERM "83 01 00 13 07 00 F1 10 00 01 00 01",
	.tune = conf_gsm,
};

/* TS 102 223 8.12.2: location with no service: 20 04 */
static const struct vec pli_location_no_service = {
	.cmd = "D0 09 81 03 01 26 00 82 02 81 82",
	.tr = "81 03 01 26 00" TERM "83 02 20 04",
};

/* location that cannot be coded (no MCC): 20 00 */
static const struct vec pli_location_bad = {
	.cmd = "D0 09 81 03 01 26 00 82 02 81 82",
	.tr = "81 03 01 26 00" TERM "83 02 20 00",
	.tune = conf_gsm_bad_mcc,
};

/* TS 31.124 27.22.4.15 PROVIDE LOCAL INFORMATION 1.2.1: IMEI */
static const struct vec pli_1_2_1_imei = {
	.cmd = "D0 09 81 03 01 26 01 82 02 81 82",
	.tr = "81 03 01 26 01" TERM "83 01 00 14 08 4A 09 51 24 30 32 57 01",
};

/* IMEI not configured: 20 00 */
static const struct vec pli_imei_missing = {
	.cmd = "D0 09 81 03 01 26 01 82 02 81 82",
	.tr = "81 03 01 26 01" TERM "83 02 20 00",
	.tune = conf_no_imei,
};

/* TS 31.124 27.22.4.15 PROVIDE LOCAL INFORMATION 1.4.1: date, time, zone */
static const struct vec pli_1_4_1_date_time = {
	.cmd = "D0 09 81 03 01 26 03 82 02 81 82",
	.tr = "81 03 01 26 03" TERM "83 01 00 26 07 .. .. .. .. .. .. ..",
};

/* TS 31.124 27.22.4.15 PROVIDE LOCAL INFORMATION 1.6.1: access technology */
static const struct vec pli_1_6_1_access_tech = {
	.cmd = "D0 09 81 03 01 26 06 82 02 81 82",
	.tr = "81 03 01 26 06" TERM "83 01 00 3F 01 00",
	.tune = conf_gsm,
};

static const struct vec pli_access_tech_no_service = {
	.cmd = "D0 09 81 03 01 26 06 82 02 81 82",
	.tr = "81 03 01 26 06" TERM "83 02 20 04",
};

/* TS 102 223 6.4.15: language (04) is not provided here: 30 */
static const struct vec pli_language = {
	.cmd = "D0 09 81 03 01 26 04 82 02 81 82",
	.tr = "81 03 01 26 04" TERM "83 01 30",
};

/* TS 102 223 6.10.5: TIMER MANAGEMENT without the timer identifier */
static const struct vec timer_no_id = {
	.cmd = "D0 0E 81 03 01 27 00 82 02 81 82 A5 03 00 50 00",
	.tr = "81 03 01 27 00" TERM "83 01 36",
};

/* TS 102 223 8.37: timer 9 does not exist: 32 */
static const struct vec timer_bad_id = {
	.cmd = "D0 11 81 03 01 27 00 82 02 81 82 A4 01 09 A5 03 00 50 00",
	.tr = "81 03 01 27 00" TERM "83 01 32",
};

/* TS 102 223 6.4.21: qualifier 03 is not defined: 30 */
static const struct vec timer_bad_qualifier = {
	.cmd = "D0 0C 81 03 01 27 03 82 02 81 82 A4 01 01",
	.tr = "81 03 01 27 03" TERM "83 01 30",
};

/* TS 102 223 6.6.21: start needs the timer value: 36 */
static const struct vec timer_start_no_value = {
	.cmd = "D0 0C 81 03 01 27 00 82 02 81 82 A4 01 01",
	.tr = "81 03 01 27 00" TERM "83 01 36",
};

/* TS 102 223 8.38: 60 minutes is no timer value: 32 */
static const struct vec timer_bad_value = {
	.cmd = "D0 11 81 03 01 27 00 82 02 81 82 A4 01 01 A5 03 00 06 00",
	.tr = "81 03 01 27 00" TERM "83 01 32",
};

/* TS 102 223 6.4.21: deactivating a timer that does not run: 24 */
static const struct vec timer_stop_idle = {
	.cmd = "D0 0C 81 03 01 27 01 82 02 81 82 A4 01 01",
	.tr = "81 03 01 27 01" TERM "83 01 24",
};

/* TS 102 223 6.4.21: the value of a timer that does not run: 24 */
static const struct vec timer_get_idle = {
	.cmd = "D0 0C 81 03 01 27 02 82 02 81 82 A4 01 01",
	.tr = "81 03 01 27 02" TERM "83 01 24",
};

/* TIMER MANAGEMENT with the timer source off: not enabled, 30 */
static const struct vec timer_off = {
	.cmd = "D0 11 81 03 01 27 00 82 02 81 82 A4 01 01 A5 03 00 50 00",
	.tr = "81 03 01 27 00" TERM "83 01 30",
	.tune = conf_no_timer,
};

/* TS 102 223 6.10.1: an unknown type of command (7F): 31 */
static const struct vec unknown_type = {
	.cmd = "D0 09 81 03 01 7F 00 82 02 81 82",
	.tr = "81 03 01 7F 00" TERM "83 01 31",
};

/* TS 102 223 6.10.2: the D0 length runs past the data: 32 */
static const struct vec d0_overrun = {
	.cmd = "D0 0C 81 03 01 02 00 82 02 81 82",
	.tr = "81 03 01 02 00" TERM "83 01 32",
	.lax = true,
};

/* TS 102 223 6.10.2: an object runs past the D0 object: 32 */
static const struct vec object_overrun = {
	.cmd = "D0 09 81 03 01 02 00 82 03 81 82",
	.tr = "81 03 01 02 00" TERM "83 01 32",
};

/* TS 102 223 6.10: no command details, answered with empty ones: 32 */
static const struct vec no_command_details = {
	.cmd = "D0 04 82 02 81 82",
	.tr = "81 03 00 00 00" TERM "83 01 32",
};

/* TS 102 223 6.10.3: an unknown comprehension-required object: 32 */
static const struct vec unknown_cr_object = {
	.cmd = "D0 0B 81 03 01 02 00 82 02 81 82 DF 00",
	.tr = "81 03 01 02 00" TERM "83 01 32",
};

/* TS 102 223 6.10.4: an unknown object without CR is ignored: 00 */
static const struct vec unknown_object = {
	.cmd = "D0 0B 81 03 01 02 00 82 02 81 82 5F 00",
	.tr = "81 03 01 02 00" TERM "83 01 00",
};

/* TS 102 223 6.10.5: device identities missing: 36 */
static const struct vec no_device_ids = {
	.cmd = "D0 05 81 03 01 02 00",
	.tr = "81 03 01 02 00" TERM "83 01 36",
};

/* TS 102 223 8.7: device identities of the wrong length: 32 */
static const struct vec bad_device_ids = {
	.cmd = "D0 0A 81 03 01 02 00 82 03 81 82 00",
	.tr = "81 03 01 02 00" TERM "83 01 32",
};

/* ---- scripts: the engine's mechanics -------------------------------------- */

/*
 * TS 102 221 14.5.1 (UICC activation), TS 102 223 5.2: SELECT MF, then the
 * TERMINAL PROFILE of exactly what is enabled (PROTOCOL.md bit list): no
 * SEND SHORT MESSAGE without a modem, no local connection event.
 */
static void profile_download(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		SEND("00 A4 00 04 02 3F 00 00"), RECV("62 02 82 01 90 00"),
		SEND("80 10 00 00 1E A1 00 68 40 11 0C 00 07 80 00 00 1F E0"
		     " 00 00 00 1F 00 00 00 00 00 00 00 00 00 00 00 00 04"),
		OK,
	};

	(void)state;
	H_RUN(h, s);
	assert_int_equal(cat_state(h->cat), CAT_IDLE);
}

/* TS 102 221 14.5.1: a refused profile ends the toolkit session. */
static void profile_refused(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		SEND("00 A4 00 04 02 3F 00 00"), RECV("90 00"),
		SEND("80 10 00 00 .. *"), RECV("6D 00"),
	};

	(void)state;
	H_RUN(h, s);
	assert_int_equal(cat_state(h->cat), CAT_FAILED);
	/* nothing is sent to a card whose toolkit never started */
	assert_int_equal(cat_envelope(h->cat, (const uint8_t[]){ 0xD6, 0x00 },
				      2, NULL, NULL), -EIO);
}

/*
 * TS 102 221 14.6.1: 91 XX -> FETCH -> TERMINAL RESPONSE, again while the
 * card says 91 XX, until 90 00 (three commands in a row).
 */
static void proactive_loop(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		FETCH("D0 09 81 03 01 02 00 82 02 81 82"),
		TR("81 03 01 02 00" TERM "83 01 00"), PENDING,
		FETCH("D0 09 81 03 02 04 00 82 02 81 82"),
		TR("81 03 02 04 00" TERM "83 01 00"), PENDING,
		FETCH("D0 09 81 03 03 7E 00 82 02 81 82"),
		TR("81 03 03 7E 00" TERM "83 01 31"), OK,
	};

	(void)state;
	H_RUN(h, s);
	assert_int_equal(h->commands, 3);
	assert_int_equal(h->last_type, 0x7E);
	assert_int_equal(h->last_result, 0x31);
	assert_int_equal(cat_state(h->cat), CAT_IDLE);
}

/* TS 102 221 7.3 (T=0): a FETCH with the wrong Le gets 6C XX: again. */
static void fetch_6c(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		SEND("00 A4 00 04 02 3F 00 00"), RECV("90 00"),
		SEND("80 10 00 00 .. *"), RECV("91 10"),
		SEND("80 12 00 00 10"), RECV("6C 09"),
		SEND("80 12 00 00 09"),
		RECV("D0 09 81 03 01 02 00 82 02 81 82 90 00"),
		TR("81 03 01 02 00" TERM "83 01 00"), OK,
	};

	(void)state;
	H_RUN(h, s);
	assert_int_equal(h->commands, 1);
}

static void env_done(void *arg, struct cat *c, int err, uint16_t sw,
		     const uint8_t *data, size_t len)
{
	struct harness *h = arg;

	(void)c;
	if (h->envelopes < 8) {
		h->env_err[h->envelopes] = err;
		h->env_sw[h->envelopes] = sw;
	}
	/* the data of an envelope that had some (61 XX below) */
	if (len && len <= sizeof(h->delivered)) {
		memcpy(h->delivered, data, len);
		h->ndelivered = len;
	}
	h->envelopes++;
}

/* Envelope A (timer 1 expired) then B (timer 2): queued together. */
static void queue_two(struct harness *h)
{
	uint8_t env[32];
	int n = cat_env_timer_expiration(env, sizeof(env), 1, 10);

	assert_true(n > 0);
	assert_int_equal(cat_envelope(h->cat, env, (size_t)n, env_done, h), 0);
	n = cat_env_timer_expiration(env, sizeof(env), 2, 20);
	assert_int_equal(cat_envelope(h->cat, env, (size_t)n, env_done, h), 0);
}

#define ENV_A	ENVELOPE("D7 $L 82 02 82 81 A4 01 01 A5 03 00 00 01")
#define ENV_B	ENVELOPE("D7 $L 82 02 82 81 A4 01 02 A5 03 00 00 02")

/* TS 102 221 14.6.6: 93 00 -> the same envelope again, B waits. */
static void envelope_busy_retry(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE,
		CALL(queue_two),
		ENV_A, RECV("93 00"),
		ENV_A, RECV("93 00"),
		ENV_A, OK,
		ENV_B, OK,
	};

	(void)state;
	H_RUN(h, s);
	assert_int_equal(h->envelopes, 2);
	assert_int_equal(h->env_err[0], 0);
	assert_int_equal(h->env_sw[0], 0x9000);
	assert_int_equal(h->env_err[1], 0);
}

/* Still busy after every retry (3): A is dropped with -EBUSY, B goes. */
static void envelope_busy_dropped(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE,
		CALL(queue_two),
		ENV_A, RECV("93 00"),
		ENV_A, RECV("93 00"),
		ENV_A, RECV("93 00"),
		ENV_A, RECV("93 00"),
		ENV_B, OK,
	};

	(void)state;
	H_RUN(h, s);
	assert_int_equal(h->envelopes, 2);
	assert_int_equal(h->env_err[0], -EBUSY);
	assert_int_equal(h->env_err[1], 0);
	assert_int_equal(h->env_sw[1], 0x9000);
}

/*
 * TS 102 221 14.6: an envelope answered 91 XX: an envelope still queued
 * goes before the FETCH (the terminal orders its envelopes; a card that
 * streams proactive commands must not starve them), then the command is
 * fetched and answered.
 */
static void envelope_then_command(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE,
		CALL(queue_two),
		ENV_A, PENDING,
		ENV_B, PENDING,
		FETCH("D0 09 81 03 01 02 00 82 02 81 82"),
		TR("81 03 01 02 00" TERM "83 01 00"), OK,
	};

	(void)state;
	H_RUN(h, s);
	assert_int_equal(h->envelopes, 2);
	assert_int_equal(h->env_sw[0], 0x910B);	/* 91 XX: a command of 11 bytes */
	assert_int_equal(h->commands, 1);
}

static void queue_one(struct harness *h)
{
	static const uint8_t env[] = { 0xD6, 0x07, 0x99, 0x01, 0x03,
				       0x82, 0x02, 0x82, 0x81 };

	assert_int_equal(cat_envelope(h->cat, env, sizeof(env), env_done, h), 0);
}

/*
 * A handler that keeps its answer back (as BIP does for a slow peer): the
 * engine tells it, from the loop, when an envelope queues behind it, and
 * tells the command fetched next that an envelope went before it (the
 * card may have chosen that command before it saw the envelope, TS 102
 * 221 14.6: the '91 XX' outstanding announced it).
 */
static struct {
	unsigned wanted;		/* cat_on_wanted calls */
	unsigned wanted_in_call;	/* ... from inside cat_envelope() */
	bool in_call;
	bool after[4];			/* cat_after_envelope(), by number */
} kept;

static void kept_cmd(void *arg, struct cat *c, const struct cat_cmd *cmd,
		     const uint8_t *raw, size_t len)
{
	(void)arg;
	(void)raw;
	(void)len;
	if (cmd->det.number < 4)
		kept.after[cmd->det.number] = cat_after_envelope(c);
}

static void kept_wanted(void *arg, struct cat *c)
{
	(void)arg;
	kept.wanted++;
	if (kept.in_call)
		kept.wanted_in_call++;
	cat_respond(c, CAT_RES_OK, NULL, 0, NULL, 0);
}

static void queue_behind(struct harness *h)
{
	cat_on_wanted(h->cat, kept_wanted, NULL);
	assert_int_equal(cat_state(h->cat), CAT_COMMAND);
	assert_false(cat_wanted(h->cat));
	kept.in_call = true;
	queue_one(h);
	kept.in_call = false;
	assert_true(cat_wanted(h->cat));
}

static void answer_second(struct harness *h)
{
	assert_int_equal(cat_state(h->cat), CAT_COMMAND);
	cat_respond(h->cat, CAT_RES_OK, NULL, 0, NULL, 0);
}

static void wanted_behind_kept(void **state)
{
	struct harness *h;
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		FETCH("D0 09 81 03 01 02 00 82 02 81 82"),
		CALL(queue_behind),
		TR("81 03 01 02 00" TERM "83 01 00"), PENDING,
		ENVELOPE("D6 07 99 01 03 82 02 82 81"), PENDING,
		FETCH("D0 09 81 03 02 02 00 82 02 81 82"),
		CALL(answer_second),
		TR("81 03 02 02 00" TERM "83 01 00"), OK,
	};

	(void)state;
	memset(&kept, 0, sizeof(kept));
	h = h_start(NULL);
	cat_engine_handle(h->e, CAT_MORE_TIME, kept_cmd, NULL);
	H_RUN(h, s);
	assert_int_equal(kept.wanted, 1);	/* once: nothing queued later */
	assert_int_equal(kept.wanted_in_call, 0);
	assert_false(kept.after[1]);		/* fetched after the profile */
	assert_true(kept.after[2]);		/* fetched after the envelope */
	assert_int_equal(h->envelopes, 1);
	assert_int_equal(h->commands, 2);
}

/* TS 102 221 7.3 (T=0): 61 XX -> GET RESPONSE; the data reach the caller. */
static void envelope_61(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE,
		CALL(queue_one),
		ENVELOPE("D6 07 99 01 03 82 02 82 81"), RECV("61 02"),
		SEND("00 C0 00 00 02"), RECV("AB CD 90 00"),
	};

	(void)state;
	H_RUN(h, s);
	assert_int_equal(h->envelopes, 1);
	assert_int_equal(h->env_sw[0], 0x9000);
	assert_int_equal(h->ndelivered, 2);
	assert_memory_equal(h->delivered, ((const uint8_t[]){ 0xAB, 0xCD }), 2);
}

/*
 * pcsc.h: a card removed with an envelope in flight and one queued: the
 * request's completion never comes, both envelopes end with -ENODEV.
 */
static void queue_two_and_remove(struct harness *h)
{
	queue_two(h);
	h_remove(h);
}

static void envelope_card_gone(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE,
		CALL(queue_two_and_remove),
	};

	(void)state;
	H_RUN(h, s);
	assert_null(h->cat);
	assert_int_equal(h->envelopes, 2);
	assert_int_equal(h->env_err[0], -ENODEV);
	assert_int_equal(h->env_err[1], -ENODEV);
}

/* ---- scripts: timers and polling ----------------------------------------- */

/*
 * TS 31.124 27.22.4.21.1 TIMER MANAGEMENT: start timer 1 for 5 minutes,
 * get its value, deactivate it (the value left), deactivate it again (24).
 */
static void timer_start_get_stop(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		FETCH("D0 11 81 03 01 27 00 82 02 81 82 A4 01 01 A5 03 00 50 00"),
		TR("81 03 01 27 00" TERM "83 01 00 A4 01 01"), PENDING,
		FETCH("D0 0C 81 03 02 27 02 82 02 81 82 A4 01 01"),
		TR("81 03 02 27 02" TERM "83 01 00 A4 01 01 A5 03 00 50 00"),
		PENDING,
		FETCH("D0 0C 81 03 03 27 01 82 02 81 82 A4 01 01"),
		TR("81 03 03 27 01" TERM "83 01 00 A4 01 01 A5 03 00 50 00"),
		PENDING,
		FETCH("D0 0C 81 03 04 27 01 82 02 81 82 A4 01 01"),
		TR("81 03 04 27 01" TERM "83 01 24"), OK,
	};

	(void)state;
	H_RUN(h, s);
}

/* TS 102 223 7.4: an expired timer is reported in a D7 envelope. */
static void timer_expiration(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		/* timer 2 for 00:00:00: due at once, no test waits */
		FETCH("D0 11 81 03 01 27 00 82 02 81 82 A4 01 02 A5 03 00 00 00"),
		TR("81 03 01 27 00" TERM "83 01 00 A4 01 02"), OK,
		ENVELOPE("D7 $L 82 02 82 81 A4 01 02 A5 03 00 00 00"), OK,
	};

	(void)state;
	H_RUN(h, s);
}

/*
 * TS 102 223 6.4.6, TS 102 221 14.6.7: STATUS at the interval granted
 * (0.1 s, as asked), until POLLING OFF.
 */
static void poll_status(void **state)
{
	struct harness *h = h_start(conf_fast_poll);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		FETCH("D0 0D 81 03 01 03 00 82 02 81 82 84 02 02 01"),
		TR("81 03 01 03 00" TERM "83 01 00 84 02 02 01"), OK,
		SEND("80 F2 00 0C"), OK,
		SEND("80 F2 00 0C"), PENDING,
		FETCH("D0 09 81 03 02 04 00 82 02 81 82"),
		TR("81 03 02 04 00" TERM "83 01 00"), OK,
	};
	uint32_t left[8], poll_ms = 1;

	(void)state;
	H_RUN(h, s);
	assert_int_equal(wakeup_timers(h->w, h->cat, left, &poll_ms), 0);
	assert_int_equal(poll_ms, 0);
}

/* ---- scripts: event list -------------------------------------------------- */

static void events_listed(struct harness *h)
{
	assert_true(cat_event_listed(h->cat, CAT_EV_LOCATION_STATUS));
	assert_true(cat_event_listed(h->cat, CAT_EV_CHANNEL_STATUS));
}

/*
 * TS 102 223 6.4.16: a list replaces the one before; an unsupported event
 * leaves it unchanged; an empty list removes it.
 */
static void event_list_replace_remove(void **state)
{
	struct harness *h = h_start(NULL);
	static const struct h_frame s[] = {
		ACTIVATE_PENDING,
		FETCH("D0 0D 81 03 01 05 00 82 02 81 82 99 02 03 0A"),
		TR("81 03 01 05 00" TERM "83 01 00"), PENDING,
		FETCH("D0 0C 81 03 02 05 00 82 02 81 82 99 01 04"),
		TR("81 03 02 05 00" TERM "83 01 30"), OK,
		CALL(events_listed),
		CALL(queue_one),
		ENVELOPE("D6 07 99 01 03 82 02 82 81"), PENDING,
		FETCH("D0 0B 81 03 03 05 00 82 02 81 82 99 00"),
		TR("81 03 03 05 00" TERM "83 01 00"), OK,
	};
	uint8_t ev[4];

	(void)state;
	H_RUN(h, s);
	assert_int_equal(cat_events(h->cat, ev, sizeof(ev)), 0);
}

#define T(name, f)	{ name, f, NULL, h_teardown, NULL }

int main(void)
{
	const struct CMUnitTest tests[] = {
		T("profile download, TS 102 221 14.5.1", profile_download),
		T("terminal profile refused, TS 102 221 14.5.1", profile_refused),
		T("proactive loop, TS 102 221 14.6.1", proactive_loop),
		T("FETCH answered 6C XX, TS 102 221 7.3", fetch_6c),
		T("ENVELOPE 93 00 retried in order, TS 102 221 14.6.6",
		  envelope_busy_retry),
		T("ENVELOPE 93 00 after every retry: dropped", envelope_busy_dropped),
		T("ENVELOPE answered 91 XX, TS 102 221 14.6.1",
		  envelope_then_command),
		T("ENVELOPE answered 61 XX, TS 102 221 7.3", envelope_61),
		T("ENVELOPE behind a kept answer: the handler is told, 14.6",
		  wanted_behind_kept),
		T("ENVELOPE in flight when the card goes: -ENODEV",
		  envelope_card_gone),

		VEC("MORE TIME 27.22.4.4 1.1.1", more_time_1_1_1),
		VEC("POLL INTERVAL 27.22.4.6 1.1.1", poll_interval_1_1_1),
		VEC("POLL INTERVAL 6.4.6 below poll_min", poll_interval_min),
		VEC("POLL INTERVAL 6.4.6 above poll_max", poll_interval_max),
		VEC("POLL INTERVAL 6.10.5 no duration: 36",
		    poll_interval_no_duration),
		VEC("POLL INTERVAL 8.8 reserved unit: 32", poll_interval_bad_unit),
		VEC("POLL INTERVAL 8.8 interval 00: 32", poll_interval_zero),
		VEC("POLL INTERVAL source off: 30", poll_interval_off),
		T("POLL INTERVAL 6.4.6 STATUS polls, POLLING OFF 6.4.8", poll_status),
		VEC("POLLING OFF 27.22.4.8 1.1.1", polling_off_1_1_1),
		VEC("POLLING OFF source off: 30", polling_off_off),
		VEC("SET UP EVENT LIST 6.4.16 supported events",
		    event_list_supported),
		VEC("SET UP EVENT LIST 6.4.16 user activity: 30",
		    event_list_unsupported),
		VEC("SET UP EVENT LIST 6.4.16 local connection: 30",
		    event_list_local_connection),
		VEC("SET UP EVENT LIST 6.10.5 no list: 36", event_list_missing),
		VEC("SET UP EVENT LIST 33 events: 30", event_list_too_long),
		T("SET UP EVENT LIST 6.4.16 replace, keep, remove",
		  event_list_replace_remove),
		VEC("SEND SHORT MESSAGE 27.22.4.10 1.1.1 no modem: 20 04",
		    send_sms_1_1_1_no_modem),
		VEC("PROVIDE LOCAL INFORMATION 27.22.4.15 1.1.1 location",
		    pli_1_1_1_location),
		VEC("PROVIDE LOCAL INFORMATION 8.12.2 location, no service: 20 04",
		    pli_location_no_service),
		VEC("PROVIDE LOCAL INFORMATION location not codable: 20 00",
		    pli_location_bad),
		VEC("PROVIDE LOCAL INFORMATION 27.22.4.15 1.2.1 IMEI",
		    pli_1_2_1_imei),
		VEC("PROVIDE LOCAL INFORMATION IMEI unset: 20 00", pli_imei_missing),
		VEC("PROVIDE LOCAL INFORMATION 27.22.4.15 1.4.1 date, time",
		    pli_1_4_1_date_time),
		VEC("PROVIDE LOCAL INFORMATION 27.22.4.15 1.6.1 access technology",
		    pli_1_6_1_access_tech),
		VEC("PROVIDE LOCAL INFORMATION access technology, no service: 20 04",
		    pli_access_tech_no_service),
		VEC("PROVIDE LOCAL INFORMATION 6.4.15 language: 30", pli_language),
		T("TIMER MANAGEMENT 27.22.4.21.1 start, get, stop, stop: 24",
		  timer_start_get_stop),
		T("TIMER EXPIRATION 7.4 envelope D7", timer_expiration),
		VEC("TIMER MANAGEMENT 6.10.5 no timer id: 36", timer_no_id),
		VEC("TIMER MANAGEMENT 8.37 timer 9: 32", timer_bad_id),
		VEC("TIMER MANAGEMENT 6.4.21 qualifier 03: 30", timer_bad_qualifier),
		VEC("TIMER MANAGEMENT 6.6.21 start without value: 36",
		    timer_start_no_value),
		VEC("TIMER MANAGEMENT 8.38 60 minutes: 32", timer_bad_value),
		VEC("TIMER MANAGEMENT 6.4.21 stop idle timer: 24", timer_stop_idle),
		VEC("TIMER MANAGEMENT 6.4.21 value of idle timer: 24",
		    timer_get_idle),
		VEC("TIMER MANAGEMENT source off: 30", timer_off),
		VEC("6.10.1 unknown type of command: 31", unknown_type),
		VEC("6.10.2 D0 length beyond the data: 32", d0_overrun),
		VEC("6.10.2 object beyond the D0 object: 32", object_overrun),
		VEC("6.10 no command details: 32", no_command_details),
		VEC("6.10.3 unknown CR object: 32", unknown_cr_object),
		VEC("6.10.4 unknown object without CR: ignored", unknown_object),
		VEC("6.10.5 no device identities: 36", no_device_ids),
		VEC("8.7 device identities of 3 bytes: 32", bad_device_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
