/* SPDX-License-Identifier: MIT */
/*
 * Which network interface is the card's TCP/IP link ([link] match): one to
 * LINK_RULE_MAX conditions "KEY=GLOB", separated by blanks, all of which
 * must hold.  KEY is
 *   name      the interface name (never stable for a real card: the kernel
 *             says usb0 or ethN; for tests and for names a .link file gave);
 *   driver    short for ID_NET_DRIVER;
 *   a udev property name (upper case, digits, '_'): ID_NET_DRIVER,
 *             ID_USB_DRIVER, ID_USB_INTERFACES, ...
 * GLOB is an fnmatch(3) pattern on the value.  The default rule is
 * ID_NET_DRIVER=cdc_eem: the kernel driver of USB EEM (ETSI TS 102 600,
 * the USB UICC's TCP/IP stack; OMA-TS-DM_SC 5.1).
 *
 * Pure: the caller says how a property is read (link.c from sd-device, the
 * unit test from recorded properties).
 */
#ifndef DMSCGW_LINK_RULE_H
#define DMSCGW_LINK_RULE_H

#include <stdbool.h>
#include <stddef.h>

#define LINK_RULE_MAX		4	/* conditions */
#define LINK_RULE_KEY_MAX	63
#define LINK_RULE_GLOB_MAX	127

struct link_cond {
	char key[LINK_RULE_KEY_MAX + 1];	/* "name" or a property name */
	char glob[LINK_RULE_GLOB_MAX + 1];
};

struct link_rule {
	struct link_cond c[LINK_RULE_MAX];
	size_t n;
};

/* The default [link] match. */
#define LINK_RULE_DEFAULT	"ID_NET_DRIVER=cdc_eem"

/*
 * Parse text into *r: 0, or -EINVAL with why ("no condition", "'x' is not
 * KEY=GLOB", "unknown key 'x'", "more than 4 conditions"...).
 */
int link_rule_parse(struct link_rule *r, const char *text, const char **why);

/* What a rule reads of one interface. */
struct link_props {
	const char *ifname;
	/* The value of a udev property, NULL when the interface has none. */
	const char *(*get)(void *arg, const char *key);
	void *arg;
};

/* Every condition holds; a property the interface lacks matches nothing. */
bool link_rule_match(const struct link_rule *r, const struct link_props *p);

/* Whether a rule reads udev properties (else the name alone decides). */
bool link_rule_needs_props(const struct link_rule *r);

#endif
