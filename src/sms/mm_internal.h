/* SPDX-License-Identifier: MIT */
/*
 * Inside the ModemManager client (sms/mm*.c only): the state and the helpers
 * its parts share.  mm.c follows ModemManager and its modems
 * (ObjectManager, NameOwnerChanged, the selection) and owns the pending
 * calls; mm_sms.c is Messaging (received SMS, sending); mm_location.c is
 * Location and Voice (registration, cell, outgoing calls).
 */
#ifndef DMSCGW_SMS_MM_INTERNAL_H
#define DMSCGW_SMS_MM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "sms/mm.h"

#define MM_NAME		"org.freedesktop.ModemManager1"
#define MM_PATH		"/org/freedesktop/ModemManager1"
#define MM_MODEM_PREFIX	MM_PATH "/Modem/"
#define IF_MODEM	MM_NAME ".Modem"
#define IF_3GPP		MM_NAME ".Modem.Modem3gpp"
#define IF_LOCATION	MM_NAME ".Modem.Location"
#define IF_MESSAGING	MM_NAME ".Modem.Messaging"
#define IF_VOICE	MM_NAME ".Modem.Voice"
#define IF_SMS		MM_NAME ".Sms"
#define IF_CALL		MM_NAME ".Call"
#define IF_PROPS	"org.freedesktop.DBus.Properties"
#define IF_OM		"org.freedesktop.DBus.ObjectManager"

#define SEND_TIMEOUT	(180ULL * 1000000ULL)	/* Sms.Send: the network may be slow */

/* ModemManager's values */
#define MODEM_STATE_ENABLED	6
#define SMS_STATE_STORED	1
#define SMS_STATE_RECEIVED	3	/* MM_SMS_STATE_RECEIVING is 2 */
#define SMS_STATE_SENDING	4
#define SMS_STATE_SENT		5
#define CALL_OUTGOING		2
#define LOC_3GPP_LAC_CI		1u

enum {
	HAS_MODEM = 1 << 0, HAS_3GPP = 1 << 1, HAS_LOCATION = 1 << 2,
	HAS_MESSAGING = 1 << 3, HAS_VOICE = 1 << 4,
};

struct modem {
	char *path;
	char *id;			/* EquipmentIdentifier; NULL unknown */
	unsigned ifaces;		/* HAS_* */
	int state;
	uint32_t access;
	uint32_t reg;
	char opcode[8];
	uint32_t loc_enabled;
	bool loc_signals;
	uint32_t lac, tac, cell;	/* from Location 3GPP LAC/CI */
	struct modem *next;
};

/* A received SMS being followed until it is complete. */
struct sms {
	char *path;
	bool reported;
	struct sms *next;
};

enum op_kind {
	OP_SERVICE,		/* about ModemManager itself: ends when it goes */
	OP_MODEM,		/* about the selected modem: ends with it */
	OP_USER,		/* asked by the user: ends with mm_free only */
};

struct op {
	struct mm *m;
	enum op_kind kind;
	sd_bus_slot *slot;
	char *path;		/* the object concerned, if any */
	const char *what;	/* for the log; OP_READ_SMS for sms_read */
	mm_send_fn *cb;		/* mm_sms_send */
	void *arg;
	struct op *next;
};

struct mm {
	sd_bus *bus;
	char *want;			/* "first" or an EquipmentIdentifier */
	struct mm_ops ops;
	void *arg;
	sd_bus_slot *owner_match, *signal_match;
	char *owner;			/* ModemManager's unique name; NULL absent */
	bool told_absent;
	struct modem *modems;
	struct modem *sel;		/* the selected modem, reported present */
	/* about the selected modem */
	struct sms *sms;
	bool listed, setup_tried, loc_polling;
	bool net_valid;
	struct mm_network net;		/* last reported */
	struct op *ops_list;
};

/* The pending calls: each ends with its reply, or is cancelled by kind. */
struct op *mm_op_new(struct mm *m, enum op_kind kind, const char *path);
void mm_op_free(struct op *o);
int mm_op_call(struct op *o, const char *path, const char *iface,
	       const char *member, sd_bus_message_handler_t cb,
	       const char *types, ...);
/* Reply of a fire-and-forget call (o->what on o->path): logged. */
int mm_on_done(sd_bus_message *msg, void *userdata, sd_bus_error *ret);
const char *mm_err_text(const sd_bus_error *e);

/* Reading properties (variants, dictionaries, a{sv}). */
int mm_enter_variant(sd_bus_message *msg, const char *sig);
int mm_read_variant(sd_bus_message *msg, const char *sig, void *out);
/* Reads one whole dict entry (key and value) at msg; <0 on error. */
typedef int entry_fn(sd_bus_message *msg, void *arg);
/* Reads (or skips) the variant of the entry whose key is key; <0 on error. */
typedef int prop_fn(sd_bus_message *msg, const char *key, void *arg);
int mm_each_entry(sd_bus_message *msg, const char *entry, entry_fn *fn,
		  void *arg);
int mm_each_prop(sd_bus_message *msg, prop_fn *fn, void *arg);

/* Messaging of the selected modem (mm_sms.c). */
void mm_list_sms(struct mm *m);
void mm_sms_track(struct mm *m, const char *path);
void mm_sms_forget(struct mm *m, const char *path);
/* PropertiesChanged of an Sms object. */
void mm_sms_changed(struct mm *m, sd_bus_message *msg, const char *path);

/* Location and Voice of the selected modem (mm_location.c). */
int mm_read_location_variant(sd_bus_message *msg, struct modem *md);
void mm_report_network(struct mm *m);
void mm_follow_location(struct mm *m, bool changed);
/* Voice.CallAdded: the call is read, an outgoing one reported. */
void mm_call_added(struct mm *m, const char *path);

#endif
