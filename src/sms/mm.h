/* SPDX-License-Identifier: MIT */
/*
 * The ModemManager client (org.freedesktop.ModemManager1, the modem's only
 * interface): follows the modems through the ObjectManager and the service
 * through NameOwnerChanged, picks one (the first, or the one whose
 * EquipmentIdentifier is asked for), and reports what the daemon needs:
 * received SMS, registration and location, outgoing calls.  Sends SMS and
 * hangs up calls.  Every bus call is asynchronous; nothing blocks the loop.
 */
#ifndef DMSCGW_SMS_MM_H
#define DMSCGW_SMS_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

struct mm;

/* MMModem3gppRegistrationState values used here. */
enum mm_reg {
	MM_REG_IDLE = 0, MM_REG_HOME = 1, MM_REG_SEARCHING = 2,
	MM_REG_DENIED = 3, MM_REG_UNKNOWN = 4, MM_REG_ROAMING = 5,
};

struct mm_network {
	enum mm_reg reg;		/* Modem3gpp.RegistrationState */
	char mcc[4], mnc[4];		/* from Modem3gpp.OperatorCode, "" unknown */
	uint32_t lac;			/* LAC or TAC, from Location 3GPP LAC/CI */
	uint32_t cell;			/* cell id */
	int rat;			/* 0 gsm, 1 utran, 2 eutran (AccessTechnologies) */
};

/*
 * The callbacks come from bus callbacks; they may call mm_sms_send,
 * mm_sms_delete and mm_call_hangup, not mm_free.
 */
struct mm_ops {
	/* the selected modem appeared (present true, its equipment id) or left */
	void (*modem)(void *arg, bool present, const char *equipment_id);
	/* a received SMS, complete (State received): its Data (empty when the
	 * SMS had text only), Number, and its object path for mm_sms_delete */
	void (*sms)(void *arg, const char *path, const uint8_t *data,
		    size_t len, const char *number);
	/* registration or location changed */
	void (*network)(void *arg, const struct mm_network *n);
	/* an outgoing call was added: its object path and number */
	void (*call)(void *arg, const char *path, const char *number);
};

/*
 * modem: "first" or an EquipmentIdentifier.  Starts following the bus;
 * without ModemManager it logs once and waits for it.  NULL on no memory.
 */
struct mm *mm_new(sd_bus *bus, const char *modem, const struct mm_ops *ops,
		  void *arg);
void mm_free(struct mm *m);
bool mm_usable(const struct mm *m);

/* Delete a received SMS (Messaging.Delete), fire and forget (logged). */
int mm_sms_delete(struct mm *m, const char *sms_path);

/*
 * Send an SMS: Messaging.Create with number and either data (8-bit) or
 * text (UTF-8; data NULL), then Sms.Send.  cb gets 0, or a negative errno
 * with ModemManager's error name and message in why (e.g. an RP-ERROR
 * from the network is org.freedesktop.ModemManager1.Error.MessageError.*).
 * The SMS object is deleted (Messaging.Delete) once Send has answered.
 * cb is never called from within mm_sms_send, nor after mm_free.
 */
typedef void mm_send_fn(void *arg, int err, const char *error_name,
			const char *why);
int mm_sms_send(struct mm *m, const char *number, const uint8_t *data,
		size_t len, const char *text, mm_send_fn *cb, void *arg);

/* Hang up a call (Call.Hangup), fire and forget (logged). */
int mm_call_hangup(struct mm *m, const char *call_path);

#endif
