/* SPDX-License-Identifier: MIT */
/*
 * Customer care call wake-up (OMA-TS-DM_SC-V1_0 chapter 6): call control
 * by the card (3GPP TS 31.111 clause 7.3.1.6).  Before a call is set up the
 * card gets the D4 envelope with the address, and answers allowed, not
 * allowed, or allowed with a modified address.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cat/cat.h"
#include "cat/profile.h"
#include "log.h"
#include "wakeup/wakeup.h"

struct cc_request {
	wakeup_call_fn done;
	void *arg;
	char number[41];
};

static void *cc_start(struct cat_engine *e, const struct conf *c)
{
	return e;	/* no state of its own */
}

static const char *verdict_name(uint8_t v)
{
	switch (v) {
	case CAT_CC_ALLOWED:
		return "allowed";
	case CAT_CC_NOT_ALLOWED:
		return "not allowed";
	case CAT_CC_ALLOWED_MODIFIED:
		return "allowed with modifications";
	}
	return "unknown verdict";
}

static void cc_answered(void *arg, struct cat *c, int err, uint16_t sw,
			const uint8_t *data, size_t len)
{
	struct cc_request *rq = arg;
	struct cat_cc_answer a;

	if (!err && sw != 0x9000 && (sw >> 8) != 0x91)
		err = -EIO;
	if (!err && cat_cc_answer_decode(data, len, &a) < 0) {
		log_warn(LOG_WAKEUP, "%s: call control answer not understood",
			 cat_name(c));
		err = -EPROTO;
	}
	if (err) {
		rq->done(rq->arg, err, NULL);
	} else {
		log_info(LOG_WAKEUP, "%s: call to %s: %s%s%s", cat_name(c),
			 rq->number, verdict_name(a.verdict),
			 a.number[0] ? ", number " : "", a.number);
		rq->done(rq->arg, 0, &a);
	}
	free(rq);
}

int wakeup_call_control(void *state, struct cat *c, const char *number,
			wakeup_call_fn done, void *arg)
{
	const struct cat_terminal_info *info = cat_engine_info(cat_engine(c));
	struct cc_request *rq;
	uint8_t env[128];
	int n, r;

	if (strlen(number) >= sizeof(rq->number))
		return -EINVAL;
	/* the last known location, as a modem would give it */
	n = cat_env_call_control(env, sizeof(env), number, NULL, 0, &info->loc);
	if (n < 0)
		return -EINVAL;
	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return -ENOMEM;
	rq->done = done;
	rq->arg = arg;
	strcpy(rq->number, number);
	r = cat_envelope(c, env, (size_t)n, cc_answered, rq);
	if (r < 0)
		free(rq);
	return r;
}

const struct wakeup_source wakeup_call_control_source = {
	.name = "call-control",
	.feeds = "envelope call control (D4) for each call being set up",
	.caps = CAP_BIT(CAP_CALL_CONTROL),
	.start = cc_start,
};
