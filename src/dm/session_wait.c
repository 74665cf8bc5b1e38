/* SPDX-License-Identifier: MIT */
/*
 * The states in which a DM session waits for its owner while the event
 * loop runs on, and the owner's answers that resume it:
 *
 *   AWAITING_UI     a user-interaction alert (DM Protocol 1.2 clause 10)
 *                   went to the UI agent: dm_session_ui_answer()
 *   AWAITING_AGENT  an Exec on a node an Exec agent serves (dm/exec.c):
 *                   dm_session_exec_answer()
 *   SAVING          what acknowledges a change of the tree waits for the
 *                   disk: dm_session_saved()
 *
 * Each answer takes the session back to where it stopped (session.c).
 */
#include "config.h"

#include <string.h>

#include "dm/exec.h"
#include "dm/session_int.h"
#include "dm/ui.h"
#include "log.h"

/* ------------------------------------------------------------------------ */
/* User-interaction alerts (DM Protocol 1.2 clause 10, RepPro 6.6.2)        */

bool session_ui_ask(struct dm_session *s, const struct syncml_cmd *c)
{
	const char *choices[DM_UI_MAX_CHOICES];
	struct dm_ui_request r;

	if (!s->cfg.ui)
		return false;
	dm_ui_request_of(c, &r, choices);
	if (s->cfg.ui(s->arg, s, &r) < 0)
		return false;
	s->ui_cmd = c;
	log_info(LOG_DM, "session %s: alert %u handed to the UI agent", s->sid,
		 c->code);
	return true;
}

void dm_session_ui_answer(struct dm_session *s, enum dm_ui_verdict v,
			  const char *answer_text)
{
	if (!s->ui_cmd || s->state == S_DONE)
		return;
	if (!dm_ui_answer(s->ex, s->ui_cmd, v, s->cfg.alerts, answer_text)) {
		session_nomem(s);
		return;
	}
	s->ui_cmd = NULL;
	session_enter(s, S_SENDING);
	session_go_on(s);
}

bool dm_session_ui_waiting(const struct dm_session *s)
{
	return s->ui_cmd != NULL;
}

/* ------------------------------------------------------------------------ */
/* Exec agents                                                              */

unsigned session_exec_agent(void *arg, const struct dm_exec_request *r)
{
	struct dm_session *s = arg;

	return s->cfg.exec(s->arg, s, r);
}

void dm_session_exec_answer(struct dm_session *s, unsigned code,
			    const char *data)
{
	int r;

	if (s->state != S_AWAITING_AGENT)
		return;
	if ((r = dm_exec_resume(s->ex, code, data)) < 0) {
		session_nomem(s);
	} else if (!r) {
		session_enter(s, S_SENDING);
		session_go_on(s);
	}
}

/* ------------------------------------------------------------------------ */
/* The disk                                                                 */

/*
 * Whatever acknowledges a change of the tree waits until it is on disk
 * (the Status of a command, a nonce given, the end of the session): ask
 * the owner to save.
 */
bool session_wait_for_save(struct dm_session *s)
{
	bool changed = dm_creds_stored(&s->cr);
	int r;

	if (!(dm_exec_changed(s->ex) || changed) || !s->changed_cb ||
	    s->save_failed)
		return false;
	r = s->changed_cb(s->arg, s);
	if (r == 0)
		return false;
	s->saving_from = s->state;
	session_enter(s, S_SAVING);
	if (r < 0)
		dm_session_saved(s, r, strerror(-r));
	return true;
}

void dm_session_saved(struct dm_session *s, int err, const char *why)
{
	if (s->state != S_SAVING)
		return;
	session_enter(s, s->saving_from);
	if (err) {
		session_save_failed(s, why);
		return;
	}
	if (s->finish_when_saved)
		session_finish(s, DM_RESULT_OK, NULL);
	else
		session_post_held(s);
}

bool dm_session_saving(const struct dm_session *s)
{
	return s->state == S_SAVING;
}
