/* SPDX-License-Identifier: MIT */
/*
 * sd-bus inside the libevent loop: no thread or loop of its own.  The bus fd
 * is watched for sd_bus_get_events(); sd_bus_get_timeout() (an absolute
 * CLOCK_MONOTONIC time in µs) becomes a relative libevent timer.  With
 * nothing pending there is no timer, so an idle bus causes no wake-up.
 *
 * Any layer may emit on the bus: the sdbus_emit_* helpers queue the message
 * and kick the bus themselves, so that it leaves even when the emitter runs
 * outside a bus callback (a card's answer, a timer).
 */
#ifndef DMSCGW_UTIL_SDBUS_H
#define DMSCGW_UTIL_SDBUS_H

#include <stddef.h>

#include <systemd/sd-bus.h>

struct event_base;
struct sdbus;

/* spec: "system", "session" or a D-Bus address (unix:path=...). */
struct sdbus *sdbus_open(struct event_base *base, const char *spec, char *err,
			 size_t errlen);
void sdbus_free(struct sdbus *b);
/*
 * Called once, from the loop, when the connection is gone (the bus daemon
 * restarted or closed it); the bus is dead from then on.
 */
void sdbus_on_lost(struct sdbus *b, void (*fn)(void *arg, const char *why),
		   void *arg);
sd_bus *sdbus_sd(const struct sdbus *b);
/*
 * Run the bus from the loop soon: call after queueing a message (a method
 * call, a reply) from outside a bus callback.  NULL is fine.
 */
void sdbus_kick(struct sdbus *b);

/* sd_bus_emit_signal(), then a kick; b may be NULL (nothing is sent). */
int sdbus_emit_signal(struct sdbus *b, const char *path, const char *iface,
		      const char *member, const char *types, ...);
/* PropertiesChanged for the NULL-terminated property names, then a kick. */
int sdbus_emit_properties_changed(struct sdbus *b, const char *path,
				  const char *iface, const char *prop, ...)
	__attribute__((sentinel));
/* ObjectManager InterfacesAdded / InterfacesRemoved, then a kick. */
int sdbus_emit_object_added(struct sdbus *b, const char *path);
int sdbus_emit_object_removed(struct sdbus *b, const char *path);

#endif
