/* SPDX-License-Identifier: MIT */
/*
 * Power-on wake-up (OMA-TS-DM_SC-V1_0 chapter 6): the card gets its Profile
 * Download, SELECT MF then TERMINAL PROFILE, as soon as it is powered or
 * reset.  Without this source the toolkit is never started.
 */
#include "config.h"

#include "cat/cat.h"
#include "cat/profile.h"
#include "log.h"
#include "wakeup/wakeup.h"

static void pd_card_ready(void *state, struct cat *c)
{
	if (cat_activate(c) < 0)
		log_err(LOG_WAKEUP, "%s: cannot send the terminal profile",
			cat_name(c));
}

const struct wakeup_source wakeup_profile_download = {
	.name = "profile-download",
	.feeds = "SELECT MF and TERMINAL PROFILE at power-on and reset",
	.caps = CAP_BIT(CAP_PROFILE_DOWNLOAD),
	.card_ready = pd_card_ready,
};
