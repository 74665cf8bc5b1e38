/* SPDX-License-Identifier: MIT */
/*
 * dmscgwctl: what the verb files share.  A verb returns the process exit
 * status (enum ctl_exit) and prints its own result; errors are printed once,
 * by the ctl_* reporters below, which also choose the status.
 */
#ifndef DMSCGWCTL_CTL_H
#define DMSCGWCTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <systemd/sd-bus.h>

#include "cli/value.h"

/* man/org.dmscgw1.5 */
#define DMSCGW_SERVICE		"org.dmscgw1"
#define DMSCGW_MANAGER_PATH	"/org/dmscgw1"
#define DMSCGW_CARD_PREFIX	"/org/dmscgw1/card/"
#define DMSCGW_MANAGER_IFACE	"org.dmscgw1.Manager"
#define DMSCGW_CARD_IFACE	"org.dmscgw1.Card"
#define DMSCGW_ERROR_NOCARD	"org.dmscgw1.Error.NoCard"
#define DBUS_PROPERTIES_IFACE	"org.freedesktop.DBus.Properties"

enum ctl_exit {
	CTL_OK = 0,
	CTL_FAILED = 1,		/* the daemon (or the bus) said no */
	CTL_USAGE = 2,		/* bad command line: nothing was sent */
	CTL_NOT_RUNNING = 3,	/* no owner of org.dmscgw1, or no bus at all */
};

struct ctl {
	const char *bus_spec;	/* --bus: "system", "session" or an address */
	char bus_desc[160];	/* "system bus", "bus unix:path=/x"... */
	sd_bus *bus;		/* opened by ctl_connect() */
	bool answered;		/* a call went through: the bus was there */
	bool json;
	const char *card;	/* --card NAME, or NULL */
	const char *file;	/* --file FILE (notify), or NULL */
};

/*
 * Open the bus.  Verbs call it after checking their arguments, so that a
 * usage error is reported as such whether or not the bus is there.
 * Returns CTL_OK, or CTL_NOT_RUNNING / CTL_USAGE, reported.
 */
int ctl_connect(struct ctl *c);

/* "dmscgwctl: MESSAGE" and the --help hint on stderr; returns CTL_USAGE. */
int ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "dmscgwctl: MESSAGE" on stderr; returns CTL_FAILED. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Report a failed call (error e as sd-bus or the daemon set it, negative
 * errno r) and return its status: "dmscgw is not running" and
 * CTL_NOT_RUNNING when nobody owns org.dmscgw1 or the bus is gone,
 * "MESSAGE (NAME)" and CTL_FAILED otherwise.
 */
int ctl_bus_error(const struct ctl *c, const sd_bus_error *e, int r);

/*
 * Method calls to the daemon: they report an error and return the exit
 * status.  *reply is set only on success; reply may be NULL.
 */
int ctl_call(struct ctl *c, sd_bus_message **reply, const char *path,
	     const char *iface, const char *member, const char *types, ...);
/*
 * Properties.GetAll(iface) of path into *props, a VALUE_DICT.  The _try_
 * form is for callers that handle some errors: it returns a negative errno
 * and leaves the error in e (to be freed) unreported.
 */
int ctl_try_get_all(struct ctl *c, sd_bus_error *e, const char *path,
		    const char *iface, struct value *props);
int ctl_get_all(struct ctl *c, const char *path, const char *iface,
		struct value *props);
/* Properties.Get(iface, name) of path into *v. */
int ctl_get(struct ctl *c, const char *path, const char *iface,
	    const char *name, struct value *v);

/*
 * "Key: value" lines of the properties, or one JSON object (with "Path"
 * first when path is not NULL): those of fields in their order and style
 * (left out when the daemon did not send them), then any others in the
 * daemon's order, as they are.
 */
enum ctl_style {
	CTL_TEXT,		/* as it is: strings bare, bytes as hex */
	CTL_COUNT,		/* an array as its number of items */
	CTL_BYTE_LIST,		/* bytes as hex separated by spaces */
	CTL_OFF_IF_EMPTY,	/* an empty string as "off" */
	CTL_UICC_LINK,		/* a card's UiccLink, in words; in JSON an
				 * object (card_link_text, card_link_json) */
};
struct ctl_field {
	const char *name;
	enum ctl_style style;
};
void ctl_print_props(const struct ctl *c, const char *path,
		     const struct value *props, const struct ctl_field *fields,
		     size_t nfields);
/* The JSON object alone, without the newline. */
void ctl_json_props(const char *path, const struct value *props,
		    const struct ctl_field *fields, size_t nfields);
/* A property in the "Key: value" form, without key and newline. */
void ctl_print_text(FILE *f, const struct value *v, enum ctl_style style);
/* "{}": the JSON result of a method that returns nothing. */
void ctl_print_empty(const struct ctl *c);

/* Whether p is UTF-8 text: no NUL, only well-formed sequences. */
bool ctl_utf8(const uint8_t *p, size_t len);

/* Decimal digits only, no sign or space, value <= max. */
bool ctl_parse_uint(const char *s, unsigned long max, unsigned long *out);

/*
 * A card NAME as given to `card` or --card: an object path, a card number
 * N, or else a reader name.  card_check_name() is the local check, done
 * before connecting (CTL_OK or CTL_USAGE, reported).  card_reader_name()
 * sets *reader (malloc'd) to the reader of the card NAME, or to "" when
 * NAME is NULL; it returns the exit status, errors reported.
 */
int card_check_name(const char *name);
/* UiccLink (ssssas): "ready, interface usb0, card 10.0.0.2 (networkd), ..." */
void card_link_text(FILE *f, const struct value *v);
/* ... and as {"state":..,"interface":..,"card_address":..,"source":..,"addresses":[..]} */
void card_link_json(FILE *f, const struct value *v);
int card_reader_name(struct ctl *c, const char *name, char **reader);

/* Verbs: argv[0] is the verb. */
int manager_verb_status(struct ctl *c, int argc, char **argv);
int manager_verb_location(struct ctl *c, int argc, char **argv);
int manager_verb_call(struct ctl *c, int argc, char **argv);
int manager_verb_trace(struct ctl *c, int argc, char **argv);
int manager_verb_reload(struct ctl *c, int argc, char **argv);
int manager_verb_sessions(struct ctl *c, int argc, char **argv);
int manager_verb_session(struct ctl *c, int argc, char **argv);
int manager_verb_report(struct ctl *c, int argc, char **argv);
int manager_verb_accounts(struct ctl *c, int argc, char **argv);
int manager_verb_notify(struct ctl *c, int argc, char **argv);
int manager_verb_tree(struct ctl *c, int argc, char **argv);
int card_verb_list(struct ctl *c, int argc, char **argv);
int card_verb_show(struct ctl *c, int argc, char **argv);
int card_verb_channels(struct ctl *c, int argc, char **argv);
int card_verb_envelope(struct ctl *c, int argc, char **argv);
int monitor_verb(struct ctl *c, int argc, char **argv);
int exec_agent_verb(struct ctl *c, int argc, char **argv);
int exec_result_verb(struct ctl *c, int argc, char **argv);

#endif
