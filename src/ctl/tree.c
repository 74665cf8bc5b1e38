/* SPDX-License-Identifier: MIT */
/*
 * org.dmscgw1.Manager, the management tree as the device sees it: nodes
 * and their children read without ACL, the DM accounts with their secrets
 * masked.  Read-only: only a DM server changes the tree.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ctl/control.h"
#include "ctl/service.h"
#include "dm/account.h"
#include "dm/client.h"
#include "dm/tree.h"

/* DM sessions and the management tree (read-only, as the device) */

static struct dm_tree *dm_tree_of(struct control *ctl)
{
	return ctl->dm ? dm_client_tree(ctl->dm) : NULL;
}

/* The URI argument of a tree method and the tree: 0, or what to return */
static int tree_request(struct control *ctl, sd_bus_message *m,
			sd_bus_error *e, struct dm_tree **t, const char **uri)
{
	int r = sd_bus_message_read(m, "s", uri);

	if (r < 0)
		return r;
	if (!(*t = dm_tree_of(ctl)))
		return ctl_dm_missing(e);
	return 0;
}

/* A tree status other than 200 as a D-Bus error. */
static int tree_error(sd_bus_error *e, int st, const char *whole)
{
	char cut[DM_TREE_MAX_URI + 1], buf[DM_TREE_MAX_URI + 1];
	const char *uri;

	/* at most MaxTotLen of it, and still UTF-8 where that cut */
	snprintf(cut, sizeof(cut), "%s", whole);
	uri = ctl_utf8_text(cut, buf, sizeof(buf));
	switch (st) {
	case DM_TREE_NOT_FOUND:
		return sd_bus_error_setf(e, ERR_NOTFOUND, "no node %s", uri);
	case DM_TREE_BAD_REQUEST:
		return sd_bus_error_setf(e, SD_BUS_ERROR_INVALID_ARGS,
					 "'%s' is not a valid URI", uri);
	case DM_TREE_URI_TOO_LONG:
		return sd_bus_error_setf(e, SD_BUS_ERROR_INVALID_ARGS,
					 "the URI is too long (at most %d bytes, %d deep, segments of %d)",
					 DM_TREE_MAX_URI, DM_TREE_MAX_DEPTH,
					 DM_TREE_MAX_SEG);
	case DM_TREE_NOT_ALLOWED:
		return sd_bus_error_setf(e, ERR_FAILED, "%s is a leaf", uri);
	}
	return sd_bus_error_setf(e, ERR_FAILED, "cannot read %s (status %d)",
				 uri, st);
}

static int do_get_node(struct control *ctl, sd_bus_message *m,
		       sd_bus_error *e)
{
	struct dm_tree *t;
	sd_bus_message *reply = NULL;
	struct dm_tree_value v;
	const char *uri, *format;
	int r, st;

	r = tree_request(ctl, m, e, &t, &uri);
	if (r < 0)
		return r;
	/* the device's own view: no ACL, and AAuthSecret masked */
	st = dm_tree_get_for_display(t, NULL, uri, &v);
	if (st != DM_TREE_OK)
		return tree_error(e, st, uri);
	format = dm_tree_format_name(v.format);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append(reply, "ss", format ? format : "",
					  v.type ? v.type : "");
	if (r >= 0)
		r = ctl_append_bytes(reply, v.data, v.len);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

CTL_PRIVILEGED(get_node)

static int do_list_node(struct control *ctl, sd_bus_message *m,
			sd_bus_error *e)
{
	struct dm_tree *t;
	sd_bus_message *reply = NULL;
	char *kids = NULL, *p, *name, buf[DM_TREE_MAX_SEG + 1];
	const char *uri;
	int r, st;

	r = tree_request(ctl, m, e, &t, &uri);
	if (r < 0)
		return r;
	st = dm_tree_children(t, NULL, uri, &kids);
	if (st != DM_TREE_OK)
		return tree_error(e, st, uri);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "s");
	for (p = kids; r >= 0 && p && (name = strsep(&p, "/")); )
		if (*name)
			r = sd_bus_message_append(reply, "s",
						  ctl_utf8_text(name, buf, sizeof(buf)));
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	free(kids);
	return r;
}

CTL_PRIVILEGED(list_node)

/* GetAccounts(): each ./DMAcc/<x> as (id, fields); secrets masked. */

static int dict_s(sd_bus_message *r, const char *key, const char *v)
{
	char buf[512];

	return sd_bus_message_append(r, "{sv}", key, "s",
				     ctl_utf8_text(v, buf, sizeof(buf)));
}

/* A password is shown only as whether it is set. */
static const char *masked(const char *secret)
{
	return *secret ? "(set)" : "(empty)";
}

static int append_auth(sd_bus_message *r, const char *who,
		       const struct dm_account_auth *au)
{
	char key[32];
	int k = 0;

	snprintf(key, sizeof(key), "%sAuthType", who);
	k = dict_s(r, key, au->type);
	snprintf(key, sizeof(key), "%sAuthName", who);
	if (k >= 0)
		k = dict_s(r, key, au->name);
	snprintf(key, sizeof(key), "%sAuthSecret", who);
	if (k >= 0)
		k = dict_s(r, key, masked(au->secret));
	/* AAuthData: nonces are not secret (DM Security 5.3) */
	snprintf(key, sizeof(key), "%sNonce", who);
	if (k >= 0)
		k = dict_s(r, key, au->data);
	return k;
}

static int append_account(sd_bus_message *r, const struct dm_account *a)
{
	char buf[DM_TREE_MAX_SEG + 8];
	bool dmsc = !strcmp(a->id, DM_ACCOUNT_DMSC);
	int k = sd_bus_message_open_container(r, 'r', "sa{sv}");

	if (k >= 0)
		k = sd_bus_message_append(r, "s", ctl_utf8_text(a->id, buf, sizeof(buf)));
	if (k >= 0)
		k = sd_bus_message_open_container(r, 'a', "{sv}");
	if (k >= 0)
		k = dict_s(r, "ServerID", a->server_id);
	if (k >= 0)
		k = dict_s(r, "Name", a->name);
	if (k >= 0)
		k = dict_s(r, "AppAddr", a->addr);
	if (k >= 0)
		k = dict_s(r, "AddrType", a->addr_type);
	if (k >= 0)
		k = sd_bus_message_append(r, "{sv}", "Port", "u", a->port);
	if (k >= 0)
		k = dict_s(r, "AAuthPref", a->aauth_pref);
	if (k >= 0)
		k = append_auth(r, "Client", &a->client);
	if (k >= 0)
		k = append_auth(r, "Server", &a->server);
	/* [dm_sc] is authoritative for the DM_SC account only (account.h) */
	if (k >= 0)
		k = dict_s(r, "ConfiguredBy", dmsc ? "dm_sc" : "server");
	if (k >= 0)
		k = sd_bus_message_close_container(r);
	if (k >= 0)
		k = sd_bus_message_close_container(r);
	return k;
}

static int do_get_accounts(struct control *ctl, sd_bus_message *m,
			   sd_bus_error *e)
{
	struct dm_tree *t = dm_tree_of(ctl);
	sd_bus_message *reply = NULL;
	struct dm_account *a = NULL;
	size_t n = 0;
	int r;

	if (!t)
		return ctl_dm_missing(e);
	r = dm_account_list(t, &a, &n);
	if (r >= 0)
		r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(sa{sv})");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = append_account(reply, &a[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	OPENSSL_cleanse(a, n * sizeof(*a));
	free(a);
	return r;
}

CTL_PRIVILEGED(get_accounts)

const sd_bus_vtable ctl_tree_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_ARGS("GetNode", SD_BUS_ARGS("s", uri),
		SD_BUS_RESULT("s", format, "s", type, "ay", value),
		method_get_node, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ListNode", SD_BUS_ARGS("s", uri),
		SD_BUS_RESULT("as", children), method_list_node,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetAccounts", SD_BUS_NO_ARGS,
		SD_BUS_RESULT("a(sa{sv})", accounts), method_get_accounts,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};
