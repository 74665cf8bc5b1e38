/* SPDX-License-Identifier: MIT */
/*
 * SEND SHORT MESSAGE (TS 102 223 6.4.10, TS 31.111 6.4.10; sms/sms.c) run
 * to its end over fake_pcsc.c and a fake modem (fake_mm.c): what the modem
 * is asked to send, and each result the handler gives: 00, 20 04, 21 00,
 * 30, 32, 35, 36.  The alpha identifier, address and TPDU of TS 31.124
 * 27.22.4.10 1.1.1 throughout, the TPDU varied by the error tests.
 */
#include <errno.h>
#include <string.h>

#include "fake_mm.h"
#include "script.h"

struct harness *h_state;

/* command details with qualifier q, the 1.1.1 alpha id and address */
#define SMS(q, tpdu) \
	"D0 $L 81 03 01 13 " q " 82 02 81 83 85 07 53 65 6E 64 20 53 4D" \
	" 86 09 91 11 22 33 44 55 66 77 F8 " tpdu
/* SMS-SUBMIT to +012345678, DCS dcs, then UDL and UD */
#define SUBMIT(len, dcs, ud) \
	"8B " len " 01 00 09 91 10 32 54 76 F8 40 " dcs " " ud

static void conf_modem(struct conf *c)
{
	c->modem.enable = 1;
}

/* Activation, SEND SHORT MESSAGE, its response after the modem's answer. */
static void sms_run(const char *cmd, const char *tr)
{
	struct harness *h;
	char c[1024], t[256];
	struct h_frame s[] = {
		ACTIVATE_PENDING,
		SEND("80 12 00 00 $Z"), RECV(c),
		SEND(t), OK,
	};

	h = h_new(conf_modem);
	assert_non_null(h);
	h_state = h;
	fake_mm.base = h->base;
	h_insert(h);
	snprintf(c, sizeof(c), "%s | 90 00", cmd);
	snprintf(t, sizeof(t), "80 14 00 00 $L %s", tr);
	h_run(h, s, sizeof(s) / sizeof(s[0]));
}

static int sms_setup(void **state)
{
	static int bus;

	(void)state;
	memset(&fake_mm, 0, sizeof(fake_mm));
	fake_mm.usable = true;
	h_bus = (struct sdbus *)&bus;
	return 0;
}

/* 27.22.4.10 1.1.1: 8-bit data, packing not required: sent as data */
static void sms_1_1_1(void **state)
{
	(void)state;
	sms_run("D0 37 81 03 01 13 00 82 02 81 83 85 07 53 65 6E 64 20 53 4D"
		" 86 09 91 11 22 33 44 55 66 77 F8 8B 18 01 00 09 91 10 32 54"
		" 76 F8 40 F4 0C 54 65 73 74 20 4D 65 73 73 61 67 65",
		"81 03 01 13 00" TERM "83 01 00");
	assert_int_equal(fake_mm.sends, 1);
	assert_string_equal(fake_mm.number, "+012345678");
	assert_int_equal(fake_mm.len, 12);
	assert_memory_equal(fake_mm.data, "Test Message", 12);
}

/* 6.4.10: packing required (qualifier 01): unpacked characters, as text */
static void sms_packing_required(void **state)
{
	(void)state;
	sms_run(SMS("01", SUBMIT("13", "F4", "07 53 65 6E 64 20 53 4D")),
		"81 03 01 13 01" TERM "83 01 00");
	assert_int_equal(fake_mm.sends, 1);
	assert_string_equal(fake_mm.text, "Send SM");
	assert_int_equal(fake_mm.len, 0);
}

/* TS 23.038 UCS2 user data: as text */
static void sms_ucs2(void **state)
{
	(void)state;
	sms_run(SMS("00", SUBMIT("10", "08", "04 00 48 00 69")),
		"81 03 01 13 00" TERM "83 01 00");
	assert_string_equal(fake_mm.text, "Hi");
}

/* 8.12.2: the network refused it (ModemManager MessageError): 35 */
static void sms_rp_error(void **state)
{
	(void)state;
	fake_mm.err = -EIO;
	fake_mm.error_name =
		"org.freedesktop.ModemManager1.Error.MessageError.NetworkFailure";
	sms_run(SMS("00", SUBMIT("0D", "F4", "01 41")),
		"81 03 01 13 00" TERM "83 01 35");
}

/* 8.12.2: another failure of the modem: 21 00 */
static void sms_network_unable(void **state)
{
	(void)state;
	fake_mm.err = -EIO;
	fake_mm.error_name = "org.freedesktop.DBus.Error.NoReply";
	sms_run(SMS("00", SUBMIT("0D", "F4", "01 41")),
		"81 03 01 13 00" TERM "83 02 21 00");
}

/* the modem refuses the request at once: 21 00 */
static void sms_send_fails(void **state)
{
	(void)state;
	fake_mm.send_fails = true;
	sms_run(SMS("00", SUBMIT("0D", "F4", "01 41")),
		"81 03 01 13 00" TERM "83 02 21 00");
}

/* 8.12.2: no usable modem: 20 04 (no service) */
static void sms_no_modem(void **state)
{
	(void)state;
	fake_mm.usable = false;
	sms_run(SMS("00", SUBMIT("0D", "F4", "01 41")),
		"81 03 01 13 00" TERM "83 02 20 04");
	assert_int_equal(fake_mm.sends, 0);
}

/* 6.10.5: the SMS TPDU is mandatory: 36 */
static void sms_no_tpdu(void **state)
{
	(void)state;
	sms_run(SMS("00", ""), "81 03 01 13 00" TERM "83 01 36");
	assert_int_equal(fake_mm.sends, 0);
}

/* 6.10.2: a TPDU that is no SMS-SUBMIT: 32 */
static void sms_bad_tpdu(void **state)
{
	(void)state;
	sms_run(SMS("00", "8B 01 01"), "81 03 01 13 00" TERM "83 01 32");
	assert_int_equal(fake_mm.sends, 0);
}

/* a user data header cannot go through ModemManager: 30 */
static void sms_udh(void **state)
{
	(void)state;
	sms_run(SMS("00", "8B 12 41 00 09 91 10 32 54 76 F8 40 F4 06"
		    " 05 00 03 01 02 01"),
		"81 03 01 13 00" TERM "83 01 30");
	assert_int_equal(fake_mm.sends, 0);
}

#define T(name, f)	{ name, f, sms_setup, h_teardown, NULL }

int main(void)
{
	const struct CMUnitTest tests[] = {
		T("SEND SHORT MESSAGE 27.22.4.10 1.1.1", sms_1_1_1),
		T("SEND SHORT MESSAGE 6.4.10 packing required", sms_packing_required),
		T("SEND SHORT MESSAGE UCS2 text", sms_ucs2),
		T("SEND SHORT MESSAGE 8.12.2 RP-ERROR: 35", sms_rp_error),
		T("SEND SHORT MESSAGE 8.12.2 network unable: 21 00",
		  sms_network_unable),
		T("SEND SHORT MESSAGE modem refuses at once: 21 00", sms_send_fails),
		T("SEND SHORT MESSAGE 8.12.2 no modem: 20 04", sms_no_modem),
		T("SEND SHORT MESSAGE 6.10.5 no TPDU: 36", sms_no_tpdu),
		T("SEND SHORT MESSAGE 6.10.2 bad TPDU: 32", sms_bad_tpdu),
		T("SEND SHORT MESSAGE user data header: 30", sms_udh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
