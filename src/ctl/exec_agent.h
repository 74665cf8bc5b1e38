/* SPDX-License-Identifier: MIT */
/*
 * The Exec agents of org.dmscgw1 (see org.dmscgw1(5)): D-Bus clients that
 * each serve a subtree of the management tree (RegisterExecAgent) and are
 * called through org.dmscgw1.ExecAgent.Exec for the servers' Execs there;
 * ExecResult brings an accepted Exec's result.  dm/agents.c does the rest.
 */
#ifndef DMSCGW_CTL_EXEC_AGENT_H
#define DMSCGW_CTL_EXEC_AGENT_H

#include <systemd/sd-bus.h>

struct control;
struct dm_client;
struct exec_agents;

/* Installs itself as the client's agents' D-Bus side; NULL: no memory. */
struct exec_agents *exec_agents_new(struct control *ctl, struct dm_client *dc);
void exec_agents_free(struct exec_agents *x);

/* RegisterExecAgent, UnregisterExecAgent, ExecResult, ExecAgents. */
extern const sd_bus_vtable ctl_exec_vtable[];

#endif
