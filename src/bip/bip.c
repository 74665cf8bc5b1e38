/* SPDX-License-Identifier: MIT */
/*
 * The BIP module (bip.h): its configuration, the cards' channel tables and
 * what the D-Bus service sees of them.  The channels live in channel.c,
 * the modes in server.c and client.c, the commands in cmd.c, the worker's
 * answers in fast.c and the registry in apps.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "bip/bip.h"
#include "bip/channel.h"
#include "cat/cat.h"
#include "conf.h"
#include "log.h"

struct bip_card *bip_card_find(struct bip *b, const struct cat *c)
{
	for (struct bip_card *bc = b->cards; bc; bc = bc->next)
		if (bc->c == c)
			return bc;
	return NULL;
}

/* An envelope or STATUS waits behind a held SEND DATA answer. */
static void bip_card_wanted(void *arg, struct cat *c)
{
	(void)c;
	ch_release_held(arg, "the card is wanted");
}

static struct bip_card *bip_card_new(struct bip *b, struct cat *c)
{
	struct bip_card *bc = calloc(1, sizeof(*bc));

	if (!bc)
		return NULL;
	bc->b = b;
	bc->c = c;
	for (int i = 0; i < BIP_MAX_CHANNELS; i++)
		if (ch_init(&bc->ch[i], bc, (uint8_t)(i + 1)) < 0) {
			for (int j = 0; j <= i; j++)
				ch_fini(&bc->ch[j]);
			free(bc);
			return NULL;
		}
	bc->next = b->cards;
	b->cards = bc;
	fast_start(bc);
	cat_on_wanted(c, bip_card_wanted, bc);
	return bc;
}

void bip_card_up(struct bip *b, struct cat *c)
{
	if (!bip_card_find(b, c) && !bip_card_new(b, c)) {
		log_err(LOG_BIP, "%s: out of memory: no BIP channels", cat_name(c));
		return;
	}
	apps_announce(b, c);
}

void bip_card_gone(struct bip *b, struct cat *c)
{
	for (struct bip_card **pp = &b->cards; *pp; pp = &(*pp)->next) {
		struct bip_card *bc = *pp;

		if (bc->c != c)
			continue;
		*pp = bc->next;
		cat_on_wanted(c, NULL, NULL);
		fast_stop(bc);
		for (int i = 0; i < BIP_MAX_CHANNELS; i++)
			ch_fini(&bc->ch[i]);
		free(bc);
		return;
	}
}

size_t bip_channels(struct bip *b, struct cat *c, struct bip_channel_info *out,
		    size_t cap)
{
	struct bip_card *bc = bip_card_find(b, c);
	size_t n = 0;

	for (int i = 0; bc && i < BIP_MAX_CHANNELS && n < cap; i++) {
		struct channel *ch = &bc->ch[i];

		if (ch->state == CH_FREE)
			continue;
		out[n].id = ch->id;
		out[n].transport = ch->transport;
		out[n].state = ch_what(ch->state);
		out[n].port = ch->port;
		snprintf(out[n].peer, sizeof(out[n].peer), "%s", ch->peer);
		out[n].bytes_in = ch->in;
		out[n].bytes_out = ch->out;
		n++;
	}
	return n;
}

void bip_set_observer(struct bip *b,
		      void (*changed)(void *arg, struct cat *c, uint8_t id,
				      const char *what),
		      void *arg)
{
	b->obs = changed;
	b->obs_arg = arg;
}

void bip_reconfigure(struct bip *b, const struct conf *c)
{
	b->buffer_max = c->bip.buffer_max;
	b->backlog = c->bip.backlog;
	b->timeout_s = c->bip.timeout;
	b->idle_s = c->bip.idle_timeout;
	apps_reload(b, c->bip.applications);
}

struct bip *bip_new(struct cat_engine *e, const struct conf *c)
{
	struct bip *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->e = e;
	b->base = cat_engine_base(e);
	bip_reconfigure(b, c);
	cmd_register(b);
	return b;
}

void bip_free(struct bip *b)
{
	if (!b)
		return;
	while (b->cards)
		bip_card_gone(b, b->cards->c);
	ch_linger_all(b);
	apps_free(b);
	free(b);
}
