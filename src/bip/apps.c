/* SPDX-License-Identifier: MIT */
/*
 * The terminal-application registry (OMA-TS-DM_SC spec 7.1): applications
 * registered in-process (the DM client, bip_apps_register) and external
 * ones from [bip] applications on 127.0.0.1:PORT, announced to the card in
 * the Terminal Applications envelope after the terminal profile.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bip/bip.h"
#include "bip/channel.h"
#include "cat/cat.h"
#include "conf.h"
#include "log.h"

#define APPS_MAX 16	/* announced to the card */

struct bip_app_entry {
	struct bip_app_entry *next;
	uint16_t port;
	uint8_t type;
	char name[64];
	const struct bip_app_ops *ops;	/* NULL: TCP/UDP on 127.0.0.1:port */
	void *arg;
};

struct bip_app_entry *apps_find(struct bip *b, uint16_t port)
{
	for (struct bip_app_entry *a = b->apps; a; a = a->next)
		if (a->port == port)
			return a;
	return NULL;
}

const char *apps_name(const struct bip_app_entry *a)
{
	return a->name;
}

bool apps_external(const struct bip_app_entry *a)
{
	return !a->ops;
}

struct bip_app_result apps_open(struct bip_app_entry *a, struct cat *c,
				unsigned channel)
{
	if (!a->ops || !a->ops->open)
		return BIP_APP_OK;
	return a->ops->open(a->arg, c, channel);
}

struct bip_app_result apps_deliver(struct bip_app_entry *a, struct cat *c,
				   unsigned channel, const uint8_t *p,
				   size_t len)
{
	if (!a->ops || !a->ops->deliver)
		return BIP_APP_OK;
	return a->ops->deliver(a->arg, c, channel, p, len);
}

void apps_close(struct bip_app_entry *a, struct cat *c, unsigned channel)
{
	if (a->ops && a->ops->close)
		a->ops->close(a->arg, c, channel);
}

static int apps_add(struct bip *b, uint16_t port, uint8_t type,
		    const char *name, const struct bip_app_ops *ops, void *arg)
{
	struct bip_app_entry *a, **pp;

	if (apps_find(b, port))
		return -EEXIST;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->port = port;
	a->type = type;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->ops = ops;
	a->arg = arg;
	for (pp = &b->apps; *pp; pp = &(*pp)->next)
		;
	*pp = a;
	return 0;
}

int bip_apps_register(struct bip *b, uint16_t port, uint8_t type,
		      const char *name, const struct bip_app_ops *ops,
		      void *arg)
{
	static const struct bip_app_ops none;

	/* in-process: ops never NULL, that marks the external ones */
	return apps_add(b, port, type, name, ops ? ops : &none, arg);
}

/* One bit per TCP/UDP port: which ones a list names. */
struct port_set {
	uint8_t bit[65536 / 8];
};

static bool port_set_add(struct port_set *ps, unsigned port)
{
	uint8_t m = (uint8_t)(1u << (port % 8));

	if (ps->bit[port / 8] & m)
		return false;
	ps->bit[port / 8] |= m;
	return true;
}

/*
 * [bip] applications = PORT:TYPE:NAME, ...  (external applications on
 * 127.0.0.1:PORT; TYPE in hex, 07 is an OMA DM client).  A port may be
 * listed once: the card opens a channel to a port, not to a name.  The
 * ports listed go into *ports.
 */
static int apps_parse(const char *list, struct bip *b, struct port_set *ports,
		      char *why, size_t whylen)
{
	const char *p = list;

	memset(ports, 0, sizeof(*ports));

	while (*p) {
		char item[96], name[64];
		size_t n = strcspn(p, ",");
		unsigned port, type;
		int used = 0;

		if (n >= sizeof(item)) {
			snprintf(why, whylen, "application entry too long");
			return -EINVAL;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		p += strspn(p, ",");
		if (strspn(item, " \t") == n)
			continue;
		if (sscanf(item, " %u:%x:%63[^\n]%n", &port, &type, name, &used) != 3 ||
		    !port || port > 65535 || type > 255) {
			snprintf(why, whylen,
				 "'%.40s' is not PORT:TYPE:NAME (port 1-65535, type in hex)",
				 item);
			return -EINVAL;
		}
		if (!port_set_add(ports, port) ||
		    (b && apps_add(b, (uint16_t)port, (uint8_t)type, name, NULL,
				   NULL) < 0)) {
			snprintf(why, whylen, "port %u listed twice", port);
			return -EINVAL;
		}
	}
	return 0;
}

int bip_conf_check(const struct conf *c, char *err, size_t errlen)
{
	struct port_set ports;
	char why[160];

	if (apps_parse(c->bip.applications, NULL, &ports, why, sizeof(why)) < 0)
		return conf_key_error(c, "bip", "applications", err, errlen,
				      "%s", why);
	/*
	 * The DM client registers on its port whatever [dm] enable says (off,
	 * it is not announced, and refuses the card's channels).
	 * Blame the key the file set: client_port if it did, else the list.
	 */
	if (port_set_add(&ports, c->dm.client_port))
		return 0;
	if (conf_key_line(c, "dm", "client_port"))
		return conf_key_error(c, "dm", "client_port", err, errlen,
				      "port %u is also in bip.applications",
				      c->dm.client_port);
	return conf_key_error(c, "bip", "applications", err, errlen,
			      "port %u is the DM client's (dm.client_port)",
			      c->dm.client_port);
}

/* Configured (external) applications are replaced; in-process ones stay. */
void apps_reload(struct bip *b, const char *list)
{
	struct port_set ports;
	char why[128];

	for (struct bip_app_entry **pp = &b->apps; *pp;) {
		struct bip_app_entry *a = *pp;

		if (!a->ops) {
			*pp = a->next;
			free(a);
		} else {
			pp = &a->next;
		}
	}
	if (apps_parse(list, b, &ports, why, sizeof(why)) < 0)
		log_err(LOG_BIP, "bip.applications: %s", why);
}

void apps_free(struct bip *b)
{
	while (b->apps) {
		struct bip_app_entry *a = b->apps;

		b->apps = a->next;
		free(a);
	}
}

static void apps_sent(void *arg, struct cat *c, int err, uint16_t sw,
		      const uint8_t *data, size_t len)
{
	if (err || (sw != 0x9000 && (sw >> 8) != 0x91))
		log_warn(LOG_BIP, "%s: terminal applications not accepted (%04X)",
			 cat_name(c), sw);
}

/* Spec 7.1 step 1: the registry, after the terminal profile. */
void apps_announce(struct bip *b, struct cat *c)
{
	struct bip_app apps[APPS_MAX];
	uint8_t env[255];
	size_t n = 0;
	int len;

	for (struct bip_app_entry *a = b->apps; a && n < APPS_MAX; a = a->next) {
		if (a->ops && a->ops->offered && !a->ops->offered(a->arg))
			continue;	/* turned off: the card is not told */
		apps[n].port = a->port;
		apps[n].type = a->type;
		apps[n].name = a->name;
		n++;
	}
	if (!n)
		return;
	len = bip_env_terminal_apps(env, sizeof(env), apps, n, true);
	if (len < 0) {
		log_err(LOG_BIP, "terminal applications envelope too long");
		return;
	}
	log_info(LOG_BIP, "%s: %zu terminal application%s registered with the card",
		 cat_name(c), n, n == 1 ? "" : "s");
	cat_envelope(c, env, (size_t)len, apps_sent, NULL);
}
