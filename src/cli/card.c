/* SPDX-License-Identifier: MIT */
/*
 * The verbs of org.dmscgw1.Card: cards, card NAME, envelope HEX; and how a
 * card NAME (object path, number or reader name) becomes an object path.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ctl.h"
#include "util/hex.h"

/* man/org.dmscgw1.5: "a BER-TLV object, 2 to 255 bytes" */
#define CARD_ENVELOPE_MIN 2
#define CARD_ENVELOPE_MAX 255

static const struct ctl_field card_fields[] = {
	{ "Reader", CTL_TEXT },
	{ "Present", CTL_TEXT },
	{ "Protocol", CTL_TEXT },
	{ "State", CTL_TEXT },
	{ "Atr", CTL_TEXT },
	{ "TerminalProfile", CTL_TEXT },
	{ "Events", CTL_BYTE_LIST },
	{ "Timers", CTL_TEXT },
	{ "PollInterval", CTL_TEXT },
	{ "DelegatedCommands", CTL_TEXT },
	{ "UiccLink", CTL_UICC_LINK },
};

#define CARD_NFIELDS (sizeof(card_fields) / sizeof(card_fields[0]))

/* man/org.dmscgw1.5: UiccLink (ssssas), its fields in order */
static const char *const card_link_keys[] = {
	"state", "interface", "card_address", "source", "addresses",
};

#define CARD_LINK_KEYS (sizeof(card_link_keys) / sizeof(card_link_keys[0]))

/* The string at index i of a UiccLink, "" when it is not one. */
static const char *card_link_str(const struct value *v, size_t i)
{
	return v->kind == VALUE_STRUCT && i < v->n &&
	       v->items[i].kind == VALUE_STRING ? v->items[i].str : "";
}

void card_link_text(FILE *f, const struct value *v)
{
	const char *ifname = card_link_str(v, 1), *card = card_link_str(v, 2);
	const char *source = card_link_str(v, 3);
	const struct value *addrs = v->kind == VALUE_STRUCT && v->n > 4 ?
				    &v->items[4] : NULL;

	fputs(*card_link_str(v, 0) ? card_link_str(v, 0) : "?", f);
	if (!*ifname)
		return;
	fprintf(f, ", interface %s, card %s", ifname, *card ? card : "unknown");
	if (*card && *source)
		fprintf(f, " (%s)", source);
	if (!addrs || addrs->kind != VALUE_ARRAY || !addrs->n)
		return;
	fputs(", addresses", f);
	for (size_t i = 0; i < addrs->n; i++)
		if (addrs->items[i].kind == VALUE_STRING)
			fprintf(f, " %s", addrs->items[i].str);
}

void card_link_json(FILE *f, const struct value *v)
{
	if (v->kind != VALUE_STRUCT)
		value_json(f, v);
	else
		value_json_fields(f, v, card_link_keys, CARD_LINK_KEYS);
}

/* Not an object path, not a number: a reader name. */
static bool card_name_is_reader(const char *name)
{
	return name[0] != '/' && strspn(name, "0123456789") != strlen(name);
}

int card_check_name(const char *name)
{
	unsigned long n;

	if (!*name)
		return ctl_usage("a card NAME is a reader name, an object path or a number");
	if (name[0] == '/' && !sd_bus_object_path_is_valid(name))
		return ctl_usage("'%s' is not a D-Bus object path", name);
	if (name[0] != '/' && !card_name_is_reader(name) &&
	    !ctl_parse_uint(name, UINT32_MAX, &n))
		return ctl_usage("card number '%s' is out of range", name);
	return CTL_OK;
}

/*
 * No such card: reported as the daemon's NoCard, whether the name matched
 * no reader or no object, so that scripts see one error for one condition.
 */
static int card_no_card(struct ctl *c, const char *message)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	sd_bus_error_set(&e, DMSCGW_ERROR_NOCARD, message);
	r = ctl_bus_error(c, &e, -ENODEV);
	sd_bus_error_free(&e);
	return r;
}

/* A failed call on the card object path. */
static int card_error(struct ctl *c, const sd_bus_error *e, int r,
		      const char *path)
{
	char msg[320];

	if (sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_OBJECT,
				   SD_BUS_ERROR_UNKNOWN_INTERFACE)) {
		snprintf(msg, sizeof(msg), "no card %.256s", path);
		return card_no_card(c, msg);
	}
	return ctl_bus_error(c, e, r);
}

/* Manager.Cards into *cards, an array of paths. */
static int card_list(struct ctl *c, struct value *cards)
{
	int r = ctl_get(c, DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE, "Cards",
			cards);

	if (r)
		return r;
	if (cards->kind != VALUE_ARRAY) {
		value_clear(cards);
		return ctl_fail("the Cards property is not an array");
	}
	return CTL_OK;
}

static int card_by_reader(struct ctl *c, const char *reader, char **path)
{
	struct value cards;
	char msg[320];
	int r;

	r = card_list(c, &cards);
	if (r)
		return r;
	*path = NULL;
	for (size_t i = 0; i < cards.n && !*path; i++) {
		const char *p = cards.items[i].str;
		sd_bus_error e = SD_BUS_ERROR_NULL;
		char *name = NULL;

		if (cards.items[i].kind != VALUE_PATH)
			continue;
		/* a card gone meanwhile is just not the one */
		if (sd_bus_get_property_string(c->bus, DMSCGW_SERVICE, p,
					       DMSCGW_CARD_IFACE, "Reader", &e,
					       &name) >= 0 &&
		    !strcmp(name, reader))
			*path = strdup(p);
		free(name);
		sd_bus_error_free(&e);
	}
	value_clear(&cards);
	if (!*path) {
		snprintf(msg, sizeof(msg), "no card in reader '%.256s'", reader);
		return card_no_card(c, msg);
	}
	return CTL_OK;
}

/* The object path of a card_check_name()d NAME into *path (malloc'd). */
static int card_resolve(struct ctl *c, const char *name, char **path)
{
	unsigned long n = 0;

	*path = NULL;
	if (card_name_is_reader(name))
		return card_by_reader(c, name, path);
	if (name[0] == '/') {
		*path = strdup(name);
	} else {
		ctl_parse_uint(name, UINT32_MAX, &n);
		*path = malloc(sizeof(DMSCGW_CARD_PREFIX) + 10);
		if (*path)
			sprintf(*path, DMSCGW_CARD_PREFIX "%lu", n);
	}
	return *path ? CTL_OK : ctl_fail("out of memory");
}

int card_reader_name(struct ctl *c, const char *name, char **reader)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *path;
	int r;

	*reader = NULL;
	if (!name || card_name_is_reader(name)) {
		*reader = strdup(name ? name : "");
		return *reader ? CTL_OK : ctl_fail("out of memory");
	}
	r = card_resolve(c, name, &path);
	if (r)
		return r;
	r = sd_bus_get_property_string(c->bus, DMSCGW_SERVICE, path,
				       DMSCGW_CARD_IFACE, "Reader", &e, reader);
	r = r < 0 ? card_error(c, &e, r, path) : CTL_OK;
	sd_bus_error_free(&e);
	free(path);
	return r;
}

int card_verb_list(struct ctl *c, int argc, char **argv)
{
	struct value cards, props;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	bool first = true;
	int r;

	r = ctl_connect(c);
	if (!r)
		r = card_list(c, &cards);
	if (r)
		return r;
	if (c->json)
		fputs("{\"Cards\":[", stdout);
	for (size_t i = 0; i < cards.n; i++) {
		const char *path = cards.items[i].str;

		if (cards.items[i].kind != VALUE_PATH)
			continue;
		r = ctl_try_get_all(c, &e, path, DMSCGW_CARD_IFACE, &props);
		if (r < 0) {
			/* removed between the two calls: not listed */
			if (sd_bus_error_has_names(&e, SD_BUS_ERROR_UNKNOWN_OBJECT,
						   SD_BUS_ERROR_UNKNOWN_INTERFACE)) {
				sd_bus_error_free(&e);
				continue;
			}
			if (c->json)
				fputs("]}\n", stdout);
			r = ctl_bus_error(c, &e, r);
			sd_bus_error_free(&e);
			value_clear(&cards);
			return r;
		}
		if (c->json) {
			if (!first)
				fputc(',', stdout);
			/* one object per card, as `card NAME --json` prints it */
			ctl_json_props(path, &props, card_fields, CARD_NFIELDS);
		} else {
			static const char *const cols[] = {
				"Reader", "State", "Protocol", "Atr",
			};

			fputs(path, stdout);
			for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
				const struct value *v = value_get(&props, cols[k]);

				fputc('\t', stdout);
				if (v)
					ctl_print_text(stdout, v, CTL_TEXT);
				else
					fputc('-', stdout);
			}
			fputc('\n', stdout);
		}
		first = false;
		value_clear(&props);
	}
	if (c->json)
		fputs("]}\n", stdout);
	value_clear(&cards);
	return CTL_OK;
}

int card_verb_show(struct ctl *c, int argc, char **argv)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct value props;
	char *path;
	int r;

	r = card_check_name(argv[1]);
	if (!r)
		r = ctl_connect(c);
	if (!r)
		r = card_resolve(c, argv[1], &path);
	if (r)
		return r;
	r = ctl_try_get_all(c, &e, path, DMSCGW_CARD_IFACE, &props);
	if (r >= 0) {
		ctl_print_props(c, path, &props, card_fields, CARD_NFIELDS);
		value_clear(&props);
		r = CTL_OK;
	} else {
		r = card_error(c, &e, r, path);
	}
	sd_bus_error_free(&e);
	free(path);
	return r;
}

/* The card of --card, else the first one. */
static int card_target(struct ctl *c, char **path)
{
	struct value cards;
	int r;

	if (c->card)
		return card_resolve(c, c->card, path);
	r = card_list(c, &cards);
	if (r)
		return r;
	*path = NULL;
	if (cards.n && cards.items[0].kind == VALUE_PATH)
		*path = strdup(cards.items[0].str);
	r = cards.n ? (*path ? CTL_OK : ctl_fail("out of memory")) :
		card_no_card(c, "no card");
	value_clear(&cards);
	return r;
}

int card_verb_envelope(struct ctl *c, int argc, char **argv)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	uint8_t data[CARD_ENVELOPE_MAX];
	sd_bus_message *m = NULL, *reply = NULL;
	const void *resp;
	size_t len;
	char *path;
	uint16_t sw;
	int n, r;

	n = hex_decode(data, sizeof(data), argv[1]);
	if (n == -ENOSPC)
		return ctl_usage("an envelope is at most %d bytes", CARD_ENVELOPE_MAX);
	if (n < 0)
		return ctl_usage("'%s' is not hex (pairs of 0-9 A-F, spaces allowed between bytes)",
				 argv[1]);
	if (n < CARD_ENVELOPE_MIN)
		return ctl_usage("an envelope is at least %d bytes", CARD_ENVELOPE_MIN);
	if (c->card) {
		r = card_check_name(c->card);
		if (r)
			return r;
	}
	r = ctl_connect(c);
	if (!r)
		r = card_target(c, &path);
	if (r)
		return r;
	r = sd_bus_message_new_method_call(c->bus, &m, DMSCGW_SERVICE, path,
					   DMSCGW_CARD_IFACE, "Envelope");
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', data, (size_t)n);
	if (r >= 0)
		r = sd_bus_call(c->bus, m, 0, &e, &reply);
	sd_bus_message_unref(m);
	if (r < 0) {
		r = card_error(c, &e, r, path);
		sd_bus_error_free(&e);
		free(path);
		return r;
	}
	free(path);
	c->answered = true;
	r = sd_bus_message_read(reply, "q", &sw);
	if (r >= 0)
		r = sd_bus_message_read_array(reply, 'y', &resp, &len);
	if (r < 0) {
		sd_bus_message_unref(reply);
		return ctl_fail("cannot read the reply to Envelope: %s",
				strerror(-r));
	}
	if (c->json) {
		printf("{\"sw\":\"%04X\",\"response\":\"", sw);
		hex_print(stdout, resp, len, NULL);
		fputs("\"}\n", stdout);
	} else {
		printf("SW: %04X\nResponse: ", sw);
		if (len)
			hex_print(stdout, resp, len, NULL);
		else
			fputs("none", stdout);
		fputc('\n', stdout);
	}
	sd_bus_message_unref(reply);
	return CTL_OK;
}

/*
 * channels: the BIP channels of a card, one tab-separated line each
 * (id, transport, state, port, peer, bytes in, bytes out).
 */
int card_verb_channels(struct ctl *c, int argc, char **argv)
{
	static const char *const keys[] = {
		"id", "transport", "state", "port", "peer", "bytes_in", "bytes_out",
	};
	struct value chans;
	char *path = NULL;
	int r;

	r = ctl_connect(c);
	if (!r)
		r = card_target(c, &path);
	if (r)
		return r;
	r = ctl_get(c, path, DMSCGW_CARD_IFACE, "Channels", &chans);
	if (r) {
		free(path);
		return r;
	}
	if (c->json) {
		fputs("{\"Path\":", stdout);
		json_string(stdout, path);
		fputs(",\"Channels\":[", stdout);
	}
	for (size_t i = 0; i < chans.n; i++) {
		const struct value *ch = &chans.items[i];

		if (c->json) {
			if (i)
				fputc(',', stdout);
			value_json_fields(stdout, ch, keys,
					  sizeof(keys) / sizeof(keys[0]));
			continue;
		}
		for (size_t k = 0; k < ch->n; k++) {
			if (k)
				fputc('\t', stdout);
			ctl_print_text(stdout, &ch->items[k], CTL_TEXT);
		}
		fputc('\n', stdout);
	}
	if (c->json)
		fputs("]}\n", stdout);
	value_clear(&chans);
	free(path);
	return CTL_OK;
}
