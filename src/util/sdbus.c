/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "util/sdbus.h"
#include "log.h"

struct sdbus {
	struct event_base *base;
	sd_bus *sd;
	struct event *io;
	struct event *timer;
	struct event *kick;
	short armed;
	bool dead;
	void (*lost)(void *arg, const char *why);
	void *lost_arg;
};

/* The connection is gone: say so once, and tell the owner. */
static void sdbus_dead(struct sdbus *b, const char *what, int err)
{
	if (b->dead)
		return;
	b->dead = true;
	log_err(LOG_CTL, "%s: %s", what, strerror(-err));
	event_del(b->io);
	evtimer_del(b->timer);
	if (b->lost)
		b->lost(b->lost_arg, strerror(-err));
}

void sdbus_on_lost(struct sdbus *b, void (*fn)(void *arg, const char *why),
		   void *arg)
{
	b->lost = fn;
	b->lost_arg = arg;
}

static void sdbus_run(evutil_socket_t fd, short what, void *arg);

/* Re-arm the fd and the timer for what sd-bus wants now. */
static void sdbus_arm(struct sdbus *b)
{
	int ev = sd_bus_get_events(b->sd);
	uint64_t until;
	short want = 0;

	if (ev < 0) {
		sdbus_dead(b, "D-Bus connection lost", ev);
		return;
	}
	if (ev & POLLIN)
		want |= EV_READ;
	if (ev & POLLOUT)
		want |= EV_WRITE;
	if (want != b->armed || !event_pending(b->io, EV_READ | EV_WRITE, NULL)) {
		event_del(b->io);
		event_assign(b->io, b->base, sd_bus_get_fd(b->sd), want,
			     sdbus_run, b);
		event_add(b->io, NULL);
		b->armed = want;
	}
	evtimer_del(b->timer);
	if (sd_bus_get_timeout(b->sd, &until) >= 0 && until != UINT64_MAX) {
		struct timespec ts;
		uint64_t now, left;
		struct timeval tv;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
		left = until > now ? until - now : 0;
		tv.tv_sec = (time_t)(left / 1000000);
		tv.tv_usec = (suseconds_t)(left % 1000000);
		evtimer_add(b->timer, &tv);
	}
}

static void sdbus_run(evutil_socket_t fd, short what, void *arg)
{
	struct sdbus *b = arg;
	int r;

	if (b->dead)
		return;
	do {
		r = sd_bus_process(b->sd, NULL);
	} while (r > 0);
	if (r < 0 && r != -EBUSY) {
		sdbus_dead(b, "D-Bus connection lost", r);
		return;
	}
	sdbus_arm(b);
}

void sdbus_kick(struct sdbus *b)
{
	if (b && !b->dead)
		event_active(b->kick, EV_READ, 0);
}

struct sdbus *sdbus_open(struct event_base *base, const char *spec, char *err,
			 size_t errlen)
{
	struct sdbus *b = calloc(1, sizeof(*b));
	int r;

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->base = base;
	if (!strcmp(spec, "system")) {
		r = sd_bus_open_system(&b->sd);
	} else if (!strcmp(spec, "session")) {
		r = sd_bus_open_user(&b->sd);
	} else {
		r = sd_bus_new(&b->sd);
		if (r >= 0)
			r = sd_bus_set_address(b->sd, spec);
		if (r >= 0)
			r = sd_bus_set_bus_client(b->sd, 1);
		if (r >= 0)
			r = sd_bus_start(b->sd);
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot connect to the %s bus: %s",
			 spec, strerror(-r));
		sd_bus_unref(b->sd);
		free(b);
		return NULL;
	}
	b->io = event_new(base, -1, 0, sdbus_run, b);
	b->timer = evtimer_new(base, sdbus_run, b);
	b->kick = event_new(base, -1, 0, sdbus_run, b);
	if (!b->io || !b->timer || !b->kick) {
		snprintf(err, errlen, "out of memory");
		sdbus_free(b);
		return NULL;
	}
	sdbus_arm(b);
	return b;
}

void sdbus_free(struct sdbus *b)
{
	if (!b)
		return;
	if (b->io)
		event_free(b->io);
	if (b->timer)
		event_free(b->timer);
	if (b->kick)
		event_free(b->kick);
	sd_bus_flush_close_unref(b->sd);
	free(b);
}

sd_bus *sdbus_sd(const struct sdbus *b)
{
	return b->sd;
}

int sdbus_emit_signal(struct sdbus *b, const char *path, const char *iface,
		      const char *member, const char *types, ...)
{
	va_list ap;
	int r;

	if (!b)
		return 0;
	va_start(ap, types);
	r = sd_bus_emit_signalv(b->sd, path, iface, member, types, ap);
	va_end(ap);
	sdbus_kick(b);
	return r;
}

/* The most property names one change carries. */
#define SDBUS_MAX_PROPS 16

int sdbus_emit_properties_changed(struct sdbus *b, const char *path,
				  const char *iface, const char *prop, ...)
{
	char *names[SDBUS_MAX_PROPS + 1];
	size_t n = 0;
	va_list ap;
	int r;

	if (!b)
		return 0;
	va_start(ap, prop);
	for (const char *p = prop; p && n < SDBUS_MAX_PROPS;
	     p = va_arg(ap, const char *))
		names[n++] = (char *)p;
	va_end(ap);
	names[n] = NULL;
	r = sd_bus_emit_properties_changed_strv(b->sd, path, iface, names);
	sdbus_kick(b);
	return r;
}

static int sdbus_emit_object(struct sdbus *b, const char *path,
			     int (*emit)(sd_bus *sd, const char *path))
{
	int r;

	if (!b)
		return 0;
	r = emit(b->sd, path);
	sdbus_kick(b);
	return r;
}

int sdbus_emit_object_added(struct sdbus *b, const char *path)
{
	return sdbus_emit_object(b, path, sd_bus_emit_object_added);
}

int sdbus_emit_object_removed(struct sdbus *b, const char *path)
{
	return sdbus_emit_object(b, path, sd_bus_emit_object_removed);
}
