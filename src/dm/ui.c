/* SPDX-License-Identifier: MIT */
/*
 * User-interaction alerts 1100-1104 (DM Protocol 1.2 clause 10, DM RepPro
 * 1.2 6.6.2): what an agent is asked, and the Status that answers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/exec.h"
#include "dm/ui.h"
#include "log.h"

/* Look up option key=value in the first item of a UI alert ("DR=1&..."). */
static void alert_option(const struct syncml_cmd *c, const char *key,
			 char *out, size_t cap)
{
	const struct syncml_item *it = c->items;
	const char *p, *e;
	size_t kl = strlen(key);

	*out = 0;
	if (!it || !it->data.p)
		return;
	for (p = (const char *)it->data.p; p && *p; p = e ? e + 1 : NULL) {
		e = strchr(p, '&');
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			size_t n = e ? (size_t)(e - p) - kl - 1 :
				       strlen(p + kl + 1);

			snprintf(out, cap, "%.*s", (int)n, p + kl + 1);
			return;
		}
	}
}

const char *dm_ui_text(const struct syncml_cmd *c)
{
	return c->items && c->items->next && c->items->next->data.p ?
	       (const char *)c->items->next->data.p : "";
}

void dm_ui_request_of(const struct syncml_cmd *c, struct dm_ui_request *r,
		      const char *choices[DM_UI_MAX_CHOICES])
{
	const struct syncml_item *it = c->items;
	char maxdt[16];
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->code = c->code;
	r->options = it && it->data.p ? (const char *)it->data.p : "";
	it = it ? it->next : NULL;
	r->text = it && it->data.p ? (const char *)it->data.p : "";
	for (it = it ? it->next : NULL; it && n < DM_UI_MAX_CHOICES;
	     it = it->next)
		choices[n++] = it->data.p ? (const char *)it->data.p : "";
	r->choices = choices;
	r->nchoices = n;
	alert_option(c, "MAXDT", maxdt, sizeof(maxdt));
	r->timeout = (unsigned)strtoul(maxdt, NULL, 10);
}

/* A confirmation refused is 304, the other questions cancelled are 214. */
struct syncml_cmd *dm_ui_answer(struct dm_exec *ex, const struct syncml_cmd *c,
				enum dm_ui_verdict v, enum dm_alert_policy policy,
				const char *answer)
{
	bool yes = v == DM_UI_POLICY ? policy == DM_ALERTS_ACCEPT :
		   v == DM_UI_ACCEPT;
	struct syncml_cmd *st;
	char dr[64];

	log_notice(LOG_DM, "session %s: %s alert %u \"%.80s\" %s%s",
		   dm_exec_log_id(ex), dm_exec_server(ex), c->code,
		   dm_ui_text(c), yes ? "accepted" : "refused",
		   v == DM_UI_POLICY ? " by policy" : " by the UI agent");

	switch (c->code) {
	case SYNCML_ALERT_DISPLAY:
		return dm_exec_status(ex, c->cmd_id, "Alert", NULL, NULL,
				      DM_ST_OK);
	case SYNCML_ALERT_CONFIRM:
		return dm_exec_status(ex, c->cmd_id, "Alert", NULL, NULL,
				      yes ? DM_ST_OK : DM_ST_NOT_MODIFIED);
	default:
		if (!yes)
			return dm_exec_status(ex, c->cmd_id, "Alert", NULL,
					      NULL, DM_ST_CANCELLED);
		st = dm_exec_status(ex, c->cmd_id, "Alert", NULL, NULL,
				    DM_ST_OK);
		if (answer) {
			snprintf(dr, sizeof(dr), "%s", answer);
		} else {
			/* the default response, else the first choice */
			alert_option(c, "DR", dr, sizeof(dr));
			if (!*dr && c->code != SYNCML_ALERT_TEXT_INPUT)
				snprintf(dr, sizeof(dr), "1");
		}
		if (!st || dm_exec_status_text(ex, st, dr) < 0)
			return NULL;
		return st;
	}
}
