/* SPDX-License-Identifier: MIT */
/*
 * sd-bus inside the libevent loop: no thread or loop of its own.  The bus fd
 * is watched for sd_bus_get_events(); sd_bus_get_timeout() (an absolute
 * CLOCK_MONOTONIC time in µs) becomes a relative libevent timer.  With
 * nothing pending there is no timer, so an idle bus causes no wake-up.
 */
#ifndef DMSCGW_BUS_H
#define DMSCGW_BUS_H

#include <stddef.h>

#include <systemd/sd-bus.h>

struct event_base;
struct bus;

/* spec: "system", "session" or a D-Bus address (unix:path=...). */
struct bus *bus_open(struct event_base *base, const char *spec, char *err,
		     size_t errlen);
void bus_free(struct bus *b);
sd_bus *bus_sd(const struct bus *b);
/* Call after queueing messages from outside a bus callback. */
void bus_kick(struct bus *b);

#endif
