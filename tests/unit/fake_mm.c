/* SPDX-License-Identifier: MIT */
/*
 * A link-time replacement for ModemManager (src/sms/mm*.c) and for the two
 * sd-bus adapter calls sms.c makes, so that SEND SHORT MESSAGE can be run
 * to its end without a bus: the functions sms.o uses, resolved before
 * libdmsc.a is searched, so mm.o, mm_sms.o, mm_location.o and sdbus.o are
 * never linked.  A message "sent" completes on a later loop turn with the
 * outcome the test chose (fake_mm.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "fake_mm.h"
#include "sms/mm.h"
#include "util/sdbus.h"

struct mm {
	const struct mm_ops *ops;
	void *arg;
};

struct fake_mm fake_mm;

struct pending {
	mm_send_fn *cb;
	void *arg;
	struct event *ev;
};

sd_bus *sdbus_sd(const struct sdbus *b)
{
	(void)b;
	return NULL;
}

void sdbus_kick(struct sdbus *b)
{
	(void)b;
}

struct mm *mm_new(sd_bus *bus, const char *modem, const struct mm_ops *ops,
		  void *arg)
{
	struct mm *m = calloc(1, sizeof(*m));

	(void)bus;
	(void)modem;
	if (m) {
		m->ops = ops;
		m->arg = arg;
	}
	return m;
}

void mm_free(struct mm *m)
{
	free(m);
}

bool mm_usable(const struct mm *m)
{
	return m && fake_mm.usable;
}

int mm_sms_delete(struct mm *m, const char *sms_path)
{
	(void)m;
	(void)sms_path;
	return 0;
}

int mm_call_hangup(struct mm *m, const char *call_path)
{
	(void)m;
	(void)call_path;
	return 0;
}

static void sent_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;

	(void)fd;
	(void)what;
	p->cb(p->arg, fake_mm.err, fake_mm.error_name,
	      fake_mm.err ? "refused by the fake modem" : NULL);
	event_free(p->ev);
	free(p);
}

int mm_sms_send(struct mm *m, const char *number, const uint8_t *data,
		size_t len, const char *text, mm_send_fn *cb, void *arg)
{
	struct pending *p;

	(void)m;
	fake_mm.sends++;
	snprintf(fake_mm.number, sizeof(fake_mm.number), "%s", number);
	snprintf(fake_mm.text, sizeof(fake_mm.text), "%s", text ? text : "");
	fake_mm.len = len < sizeof(fake_mm.data) ? len : sizeof(fake_mm.data);
	if (data)
		memcpy(fake_mm.data, data, fake_mm.len);
	if (fake_mm.send_fails)
		return -EIO;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cb = cb;
	p->arg = arg;
	/* never from within mm_sms_send (mm.h) */
	p->ev = event_new(fake_mm.base, -1, 0, sent_cb, p);
	if (!p->ev) {
		free(p);
		return -ENOMEM;
	}
	event_active(p->ev, 0, 0);
	return 0;
}
