/* SPDX-License-Identifier: MIT */
/*
 * User-interaction alerts 1100-1104 of a DM session: the request a UI
 * agent sees and the Status that answers the server.
 */
#ifndef DMSCGW_DM_UI_H
#define DMSCGW_DM_UI_H

#include <stdbool.h>

#include "dm/session.h"

#define DM_UI_MAX_CHOICES	32

struct dm_exec;

/* The text to show (the alert's second item), "" when none. */
const char *dm_ui_text(const struct syncml_cmd *c);
/* r points into c and choices: valid while both are. */
void dm_ui_request_of(const struct syncml_cmd *c, struct dm_ui_request *r,
		      const char *choices[DM_UI_MAX_CHOICES]);
/*
 * The Status for alert c, accepted or not as the agent said (v), or as
 * the policy says (DM_UI_POLICY); logged.  answer is the agent's text or
 * choice ("2", "1-3"), NULL for the alert's default.  NULL when out of
 * memory.
 */
struct syncml_cmd *dm_ui_answer(struct dm_exec *ex, const struct syncml_cmd *c,
				enum dm_ui_verdict v, enum dm_alert_policy policy,
				const char *answer);

#endif
