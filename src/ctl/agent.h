/* SPDX-License-Identifier: MIT */
/*
 * The UI agent of org.dmscgw1 (see org.dmscgw1(5)): the one D-Bus client
 * that answers the DM sessions' user-interaction alerts.
 */
#ifndef DMSCGW_CTL_AGENT_H
#define DMSCGW_CTL_AGENT_H

#include <systemd/sd-bus.h>

struct agent;
struct dm_client;

/* Installs itself as the DM client's UI; NULL when out of memory. */
struct agent *agent_new(sd_bus *sd, struct dm_client *dc);
void agent_free(struct agent *a);

/* RegisterAgent / UnregisterAgent of the caller sender: 0 or < 0 with e set. */
int agent_register(struct agent *a, const char *sender, const char *path,
		   sd_bus_error *e);
int agent_unregister(struct agent *a, const char *sender, const char *path,
		     sd_bus_error *e);

#endif
