/* SPDX-License-Identifier: MIT */
/* The [link] match rule (rule.h). */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "link/rule.h"

/* A udev property name: what udev rules write as ENV{KEY}. */
static bool prop_name_ok(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' ||
		      (i && s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

int link_rule_parse(struct link_rule *r, const char *text, const char **why)
{
	const char *p = text;

	memset(r, 0, sizeof(*r));
	for (;;) {
		const char *eq, *end;
		size_t kn, gn;
		struct link_cond *c;

		p += strspn(p, " \t");
		if (!*p)
			break;
		end = p + strcspn(p, " \t");
		eq = memchr(p, '=', (size_t)(end - p));
		if (!eq || eq == p || eq + 1 == end) {
			*why = "a condition is not KEY=GLOB";
			return -EINVAL;
		}
		if (r->n == LINK_RULE_MAX) {
			*why = "more than 4 conditions";
			return -EINVAL;
		}
		kn = (size_t)(eq - p);
		gn = (size_t)(end - eq - 1);
		if (kn > LINK_RULE_KEY_MAX || gn > LINK_RULE_GLOB_MAX) {
			*why = "a key or a pattern is too long";
			return -EINVAL;
		}
		c = &r->c[r->n++];
		if (kn == 6 && !strncmp(p, "driver", 6)) {
			strcpy(c->key, "ID_NET_DRIVER");
		} else if (kn == 4 && !strncmp(p, "name", 4)) {
			strcpy(c->key, "name");
		} else if (prop_name_ok(p, kn)) {
			memcpy(c->key, p, kn);
			c->key[kn] = '\0';
		} else {
			*why = "a key is not name, driver or a udev property "
			       "name (A-Z, 0-9, _)";
			return -EINVAL;
		}
		memcpy(c->glob, eq + 1, gn);
		c->glob[gn] = '\0';
		p = end;
	}
	if (!r->n) {
		*why = "no condition";
		return -EINVAL;
	}
	return 0;
}

bool link_rule_match(const struct link_rule *r, const struct link_props *p)
{
	if (!r->n)
		return false;
	for (size_t i = 0; i < r->n; i++) {
		const struct link_cond *c = &r->c[i];
		const char *v = !strcmp(c->key, "name") ? p->ifname :
				p->get ? p->get(p->arg, c->key) : NULL;

		if (!v || fnmatch(c->glob, v, 0) != 0)
			return false;
	}
	return true;
}

bool link_rule_needs_props(const struct link_rule *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->c[i].key, "name"))
			return true;
	return false;
}
