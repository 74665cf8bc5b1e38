/* SPDX-License-Identifier: MIT */
/*
 * dmscgw: device side of the OMA DM Smart Card enabler.  One process, one
 * libevent loop; this file parses the command line and the configuration,
 * wires the modules together and handles signals and sd_notify.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <systemd/sd-daemon.h>

#include "bip/bip.h"
#include "card/pcsc.h"
#include "cat/cat.h"
#include "cat/terminal.h"
#include "conf.h"
#include "ctl/control.h"
#include "dm/account.h"
#include "dm/client.h"
#include "dm/store.h"
#include "sms/sms.h"
#include "dm/tree.h"
#include "log.h"
#include "trace/trace.h"
#include "util/sdbus.h"
#include "wakeup/wakeup.h"

struct daemon {
	struct event_base *base;
	const char *conf_path;
	bool conf_given;		/* -c: a missing file is an error */
	bool conf_missing;		/* the default file is not there */
	struct conf conf;
	const char *cli_debug;		/* -d given: overrides daemon.debug */
	int cli_level;
	const char *cli_trace;		/* --trace: overrides trace.file */
	struct pcsc *pcsc;
	struct cat_engine *cat;
	struct wakeup *wakeup;
	struct bip *bip;
	struct dm_tree *tree;
	struct dm_client *dm;
	struct sms_service *sms;
	struct trace *trace;
	char trace_path[256];		/* "" when the pcap trace is off */
	const char *bus_spec;
	struct sdbus *bus;
	struct control *ctl;
	const char *state;
	bool pcscd_up;
	unsigned ncards;
	int exit_code;			/* of the loop: 0, or EXIT_BUS_LOST */
};

/*
 * The system bus went away (dbus-daemon restarted).  Everything the
 * daemon offers on the bus, the name, the objects and the ModemManager
 * watches, would have to be made again on a new connection; exiting with
 * a status of its own lets systemd (Restart=on-failure) start a clean
 * daemon instead, after the tree is saved on the way out.
 */
#define EXIT_BUS_LOST	3

static const struct option options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "debug", optional_argument, NULL, 'd' },
	{ "check-config", no_argument, NULL, 't' },
	{ "dump-config", no_argument, NULL, 'D' },
	{ "trace", required_argument, NULL, 'T' },
	{ "bus", required_argument, NULL, 'B' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: dmscgw [OPTION]...\n"
"Device side of the OMA DM Smart Card enabler: runs the card toolkit terminal\n"
"and the DM client for a UICC in a PC/SC reader.\n"
"\n"
"  -c, --config=FILE      configuration file (default " CONF_DEFAULT_PATH ")\n"
"  -f, --foreground       stay in the foreground\n"
"  -d, --debug[=MODULES]  debug logging for all or the listed modules\n"
"                         (%s); repeat -d for hex dumps\n"
"  -T, --trace=FILE       write every APDU exchange to FILE (pcap, GSMTAP)\n"
"      --bus=BUS          D-Bus to serve org.dmscgw1 on: system (default),\n"
"                         session, an address, or none\n"
"  -t, --check-config     check the configuration and exit\n"
"      --dump-config      print the effective configuration and exit\n"
"  -h, --help             show this help and exit\n"
"  -V, --version          show the version and exit\n"
"\n"
"Exit status: 0 clean stop, 1 configuration or start-up error, 2 usage error.\n",
		log_mod_list());
}

/*
 * --bus: system, session, none, or one D-Bus address of a transport the
 * daemon can reach (D-Bus Specification, "Server Addresses"):
 * unix:path=..., unix:abstract=... or tcp:host=...,port=....  Anything
 * else is a usage error now, not a failed connection at start-up.
 */
static bool bus_spec_ok(const char *s)
{
	static const char *const named[] = { "system", "session", "none" };
	const char *kv;
	bool host = false, port = false;

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (!strcmp(s, named[i]))
			return true;
	if (!strncmp(s, "unix:", 5)) {
		kv = s + 5;
		return (!strncmp(kv, "path=", 5) && kv[5] && kv[5] != ',') ||
		       (!strncmp(kv, "abstract=", 9) && kv[9] && kv[9] != ',');
	}
	if (strncmp(s, "tcp:", 4))
		return false;
	for (kv = s + 4; *kv; kv += strcspn(kv, ","), kv += *kv == ',') {
		size_t n = strcspn(kv, ",");

		if (n > 5 && !strncmp(kv, "host=", 5))
			host = true;
		else if (n > 5 && !strncmp(kv, "port=", 5) &&
			 strspn(kv + 5, "0123456789") == n - 5)
			port = true;
	}
	return host && port;
}

static void notify_status(struct daemon *d)
{
	if (!d->pcscd_up)
		sd_notify(0, "STATUS=Waiting for pcscd");
	else if (!d->ncards)
		sd_notify(0, "STATUS=Waiting for a card");
	else
		sd_notifyf(0, "STATUS=%u card%s active", d->ncards,
			   d->ncards == 1 ? "" : "s");
}

static void on_service(void *arg, bool up)
{
	struct daemon *d = arg;

	d->pcscd_up = up;
	control_manager_changed(d->ctl, "PcscdRunning");
	notify_status(d);
}

static void on_card_ready(void *arg, struct pcsc_reader *r)
{
	struct daemon *d = arg;
	struct cat *c = cat_new(d->cat, r);

	if (!c) {
		log_err(LOG_MAIN, "%s: cannot start the toolkit session",
			pcsc_reader_name(r));
		return;
	}
	pcsc_reader_set_data(r, c);
	d->ncards++;
	control_card_added(d->ctl, c);
	wakeup_card_ready(d->wakeup, c);
	bip_card_up(d->bip, c);
	notify_status(d);
}

static void on_card_gone(void *arg, struct pcsc_reader *r)
{
	struct daemon *d = arg;
	struct cat *c = pcsc_reader_data(r);

	if (!c)
		return;
	wakeup_card_gone(d->wakeup, c);
	dm_client_card_gone(d->dm);	/* before its channels close */
	bip_card_gone(d->bip, c);
	control_card_removed(d->ctl, c);
	cat_free(c);
	pcsc_reader_set_data(r, NULL);
	d->ncards--;
	notify_status(d);
}

static const struct pcsc_ops pcsc_ops = {
	.service = on_service,
	.card_ready = on_card_ready,
	.card_gone = on_card_gone,
};

static void pcsc_config_from(struct pcsc_config *pc, const struct conf *c)
{
	pc->reader = c->card.reader;
	pc->exclusive = c->card.share == CONF_SHARE_EXCLUSIVE;
	pc->protocol = c->card.protocol == CONF_PROTO_T0 ? PCSC_PROTO_T0 :
		       c->card.protocol == CONF_PROTO_T1 ? PCSC_PROTO_T1 :
		       PCSC_PROTO_ANY;
	pc->retry_min = c->card.retry_min;
	pc->retry_max = c->card.retry_max;
	pc->apdu_timeout = c->card.apdu_timeout;
}

static void cat_config_from(struct cat_config *cc, const struct conf *c)
{
	cc->busy_retry_ms = c->cat.busy_retry;
	cc->busy_retry_max_ms = c->cat.busy_retry_max;
	cc->busy_retries = c->cat.busy_retries;
}

static void on_apdu(void *arg, struct pcsc_reader *r, const uint8_t *cmd,
		    size_t clen, const uint8_t *resp, size_t rlen)
{
	struct daemon *d = arg;

	trace_apdu(d->trace, cmd, clen, resp, rlen);
}

/*
 * Replace the running trace by one to file and/or udp (both empty: none).
 * On error the running trace is kept and err says why.
 */
static int trace_switch(struct daemon *d, const char *file, const char *udp,
			char *err, size_t errlen)
{
	struct trace *t = NULL;

	if (*file || *udp) {
		t = trace_new(*file ? file : NULL, *udp ? udp : NULL, err, errlen);
		if (!t)
			return -1;
	}
	trace_free(d->trace);
	d->trace = t;
	snprintf(d->trace_path, sizeof(d->trace_path), "%s", t ? file : "");
	pcsc_set_tap(d->pcsc, t ? on_apdu : NULL, d);
	return 0;
}

/* The trace the configuration (or --trace) asks for. */
static int trace_apply(struct daemon *d, const struct conf *c)
{
	const char *file = d->cli_trace ? d->cli_trace : c->trace.file;
	char err[256];

	if (trace_switch(d, file, c->trace.udp, err, sizeof(err)) < 0) {
		log_err(LOG_TRACE, "cannot start the APDU trace: %s", err);
		return -1;
	}
	if (d->trace)
		log_info(LOG_TRACE, "APDU trace to %s%s%s", file,
			 *file && *c->trace.udp ? " and " : "", c->trace.udp);
	control_manager_changed(d->ctl, "Tracing");
	return 0;
}

static int apply_debug(struct daemon *d, const struct conf *c)
{
	const char *spec = d->cli_debug ? d->cli_debug : c->daemon.debug;
	const char *bad = "";

	if (log_set_debug(spec, d->cli_level, &bad) < 0) {
		fprintf(stderr, "dmscgw: unknown debug module '%s' (known: all,%s)\n",
			bad, log_mod_list());
		return -1;
	}
	return 0;
}

/*
 * Defaults, then the file, then each module's check: 0 or -1 with err.
 * Every key has a default, so the default file may be missing (one line
 * says so); a file given with -c may not.
 */
static int config_read(struct daemon *d, struct conf *c, char *err,
		       size_t errlen)
{
	int r;

	conf_defaults(c);
	r = conf_load(c, d->conf_path, err, errlen);
	d->conf_missing = r == -ENOENT && !d->conf_given;
	if (d->conf_missing)
		log_info(LOG_CONF, "%s not found: every key at its default",
			 d->conf_path);
	else if (r < 0)
		return -1;
	return conf_check(c, err, errlen);
}

static void set_state(struct daemon *d, const char *state)
{
	d->state = state;
	control_manager_changed(d->ctl, "State");
}

/*
 * The management tree is loaded, and [dm] state_dir made, only for a DM
 * client that is on: at start-up, or when a reload turns it on (a tree
 * that cannot be loaded then refuses the reload).  0, or -1 with err.
 */
static int dm_turned_on(struct daemon *d, const struct conf *c, char *err,
			size_t errlen)
{
	if (!c->dm.enable || d->tree)
		return 0;
	d->tree = dm_store_open(c, err, errlen);
	if (!d->tree)
		return -1;
	if (d->dm)
		dm_client_set_tree(d->dm, d->tree);
	return 0;
}

/* SIGHUP and D-Bus Reload: 0, or -1 with the reason in err. */
static int daemon_reload(struct daemon *d, char *err, size_t errlen)
{
	struct conf next;
	struct pcsc_config pc;

	sd_notify(0, "RELOADING=1");
	set_state(d, "reloading");
	if (config_read(d, &next, err, errlen) < 0 ||
	    dm_turned_on(d, &next, err, errlen) < 0) {
		log_err(LOG_CONF, "reload failed, keeping the running configuration: %s",
			err);
		set_state(d, "running");
		sd_notify(0, "READY=1");
		return -1;
	}
	d->conf = next;
	apply_debug(d, &d->conf);
	{
		struct cat_config cc;

		cat_config_from(&cc, &d->conf);
		cat_engine_configure(d->cat, &cc);
	}
	wakeup_terminal_configure(d->cat, &d->conf);
	wakeup_reconfigure(d->wakeup, &d->conf);
	bip_reconfigure(d->bip, &d->conf);
	dm_client_reconfigure(d->dm, &d->conf);
	sms_reconfigure(d->sms, &d->conf);
	trace_apply(d, &d->conf);
	pcsc_config_from(&pc, &d->conf);
	pcsc_reconfigure(d->pcsc, &pc);
	log_notice(LOG_CONF, "configuration reloaded from %s", d->conf_path);
	control_manager_changed(d->ctl, "Sources");
	set_state(d, "running");
	sd_notify(0, "READY=1");
	notify_status(d);
	return 0;
}

static int ctl_reload(void *arg, char *err, size_t errlen)
{
	return daemon_reload(arg, err, errlen);
}

static int ctl_trace_start(void *arg, const char *file, char *err, size_t errlen)
{
	struct daemon *d = arg;

	if (trace_switch(d, file, d->conf.trace.udp, err, errlen) < 0)
		return -1;
	log_notice(LOG_TRACE, "APDU trace to %s", file);
	return 0;
}

static void ctl_trace_stop(void *arg)
{
	trace_switch(arg, "", "", NULL, 0);
	log_notice(LOG_TRACE, "APDU trace stopped");
}

static const char *ctl_trace_file(void *arg)
{
	return ((struct daemon *)arg)->trace_path;
}

static bool ctl_pcscd_running(void *arg)
{
	return ((struct daemon *)arg)->pcscd_up;
}

static const char *ctl_state(void *arg)
{
	return ((struct daemon *)arg)->state;
}

static const struct control_ops control_ops = {
	.reload = ctl_reload,
	.trace_start = ctl_trace_start,
	.trace_stop = ctl_trace_stop,
	.trace_file = ctl_trace_file,
	.pcscd_running = ctl_pcscd_running,
	.state = ctl_state,
};

static void bus_lost(void *arg, const char *why)
{
	struct daemon *d = arg;

	log_err(LOG_MAIN, "lost the D-Bus connection (%s): stopping with exit "
		"status %d, so that the service manager starts it again", why,
		EXIT_BUS_LOST);
	d->exit_code = EXIT_BUS_LOST;
	event_base_loopbreak(d->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (sig == SIGHUP) {
		char err[512];

		daemon_reload(d, err, sizeof(err));
		return;
	}
	log_notice(LOG_MAIN, "%s received, stopping", strsignal((int)sig));
	event_base_loopbreak(d->base);
}

int main(int argc, char **argv)
{
	struct daemon d = { .conf_path = CONF_DEFAULT_PATH, .bus_spec = "system",
			    .state = "running" };
	bool bus_given = false;
	struct event *sigs[3] = { NULL, NULL, NULL };
	static const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	struct pcsc_config pc;
	bool foreground = false, check = false, dump = false;
	char err[512];
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "c:fd::tT:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d.conf_path = optarg;
			d.conf_given = true;
			break;
		case 'f':
			foreground = true;
			break;
		case 'd':
			d.cli_level++;
			/* "-dd" reaches us as -d with argument "d" */
			if (optarg && strspn(optarg, "d") == strlen(optarg)) {
				d.cli_level += (int)strlen(optarg);
				if (!d.cli_debug)
					d.cli_debug = "all";
			} else if (optarg)
				d.cli_debug = optarg;
			else if (!d.cli_debug)
				d.cli_debug = "all";
			break;
		case 't':
			check = true;
			break;
		case 'D':
			dump = true;
			break;
		case 'T':
			/* as [trace] file: the daemon runs from / */
			if (optarg[0] != '/') {
				fprintf(stderr, "dmscgw: --trace: '%s' is not an "
					"absolute path\n", optarg);
				return 2;
			}
			d.cli_trace = optarg;
			break;
		case 'B':
			if (!bus_spec_ok(optarg)) {
				fprintf(stderr, "dmscgw: --bus: '%s' is not system, "
					"session, none or a D-Bus address "
					"(unix:path=..., unix:abstract=..., "
					"tcp:host=...,port=...)\n", optarg);
				return 2;
			}
			d.bus_spec = optarg;
			bus_given = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("dmscgw %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dmscgw: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	log_init("dmscgw");
	if (config_read(&d, &d.conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "dmscgw: %s\n", err);
		return 1;
	}
	if (apply_debug(&d, &d.conf) < 0)
		return 2;
	if (check) {
		printf("%s: configuration OK%s\n", d.conf_path,
		       d.conf_missing ? " (not found: the defaults)" : "");
		return 0;
	}
	if (dump) {
		/* the effective configuration: -d wins over [daemon] debug */
		if (d.cli_debug)
			snprintf(d.conf.daemon.debug, sizeof(d.conf.daemon.debug),
				 "%s", d.cli_debug);
		conf_dump(&d.conf, stdout);
		return 0;
	}

	if (!foreground) {
		if (daemon(0, 0) < 0) {
			fprintf(stderr, "dmscgw: cannot daemonize: %s\n", strerror(errno));
			return 1;
		}
		if (log_target() == LOG_TO_STDERR)
			log_set_target(LOG_TO_SYSLOG);
	}

	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() < 0) {
		log_err(LOG_MAIN, "libevent has no pthreads support");
		return 1;
	}
	d.base = event_base_new();
	if (!d.base) {
		log_err(LOG_MAIN, "cannot create the event loop");
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d.base, signums[i], on_signal, &d);
		if (!sigs[i] || evsignal_add(sigs[i], NULL) < 0) {
			log_err(LOG_MAIN, "cannot install signal handlers");
			goto out;
		}
	}
	{
		struct cat_config cc;

		cat_config_from(&cc, &d.conf);
		d.cat = cat_engine_new(d.base, &cc);
	}
	if (!d.cat) {
		log_err(LOG_MAIN, "out of memory");
		goto out;
	}
	cat_terminal_register(d.cat);
	wakeup_terminal_configure(d.cat, &d.conf);
	d.wakeup = wakeup_new(d.cat, &d.conf);
	if (!d.wakeup) {
		log_err(LOG_MAIN, "cannot start the wake-up sources");
		goto out;
	}
	if (dm_turned_on(&d, &d.conf, err, sizeof(err)) < 0) {
		log_err(LOG_DM, "%s", err);
		goto out;
	}
	if (!d.conf.dm.enable)
		log_info(LOG_DM, "the DM client is off ([dm] enable = no): not "
			 "announced to the card, %s not used", d.conf.dm.state_dir);
	d.bip = bip_new(d.cat, &d.conf);
	d.dm = d.bip ? dm_client_new(d.base, &d.conf, d.tree, d.bip) : NULL;
	if (!d.dm) {
		log_err(LOG_MAIN, "out of memory");
		goto out;
	}
	if (strcmp(d.bus_spec, "none")) {
		d.bus = sdbus_open(d.base, d.bus_spec, err, sizeof(err));
		if (!d.bus && bus_given) {
			log_err(LOG_CTL, "%s", err);
			goto out;
		}
		if (!d.bus)
			log_warn(LOG_CTL, "%s; running without D-Bus control", err);
	}
	if (d.bus) {
		sdbus_on_lost(d.bus, bus_lost, &d);
		d.ctl = control_new(d.bus, d.cat, d.wakeup, &control_ops, &d,
				    err, sizeof(err));
		if (!d.ctl) {
			log_err(LOG_CTL, "%s", err);
			goto out;
		}
		control_set_bip(d.ctl, d.bip);
		control_set_dm(d.ctl, d.dm);
	}
	/* the modem: on the bus the control service uses */
	d.sms = sms_new(d.bus, &d.conf, d.cat, d.wakeup, d.dm);
	if (!d.sms) {
		log_err(LOG_MAIN, "out of memory");
		goto out;
	}
	pcsc_config_from(&pc, &d.conf);
	d.pcsc = pcsc_new(d.base, &pc, &pcsc_ops, &d);
	if (!d.pcsc) {
		log_err(LOG_MAIN, "cannot start PC/SC monitoring");
		goto out;
	}
	if (trace_apply(&d, &d.conf) < 0)
		goto out;
	log_notice(LOG_MAIN, "dmscgw %s started (config %s%s, readers matching '%s')",
		   PACKAGE_VERSION, d.conf_path,
		   d.conf_missing ? " not found: the defaults" : "",
		   d.conf.card.reader);
	sd_notify(0, "READY=1");
	notify_status(&d);

	event_base_dispatch(d.base);
	rc = d.exit_code;

	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
	set_state(&d, "stopping");
out:
	pcsc_free(d.pcsc);
	sms_free(d.sms);
	control_free(d.ctl);
	sdbus_free(d.bus);
	dm_client_free(d.dm);
	bip_free(d.bip);
	if (d.tree) {
		dm_store_save(&d.conf, d.tree);
		dm_tree_free(d.tree);
	}
	wakeup_free(d.wakeup);
	cat_engine_free(d.cat);
	trace_free(d.trace);
	for (int i = 0; i < 3; i++)
		if (sigs[i])
			event_free(sigs[i]);
	event_base_free(d.base);
	libevent_global_shutdown();
	if (!rc)
		log_notice(LOG_MAIN, "stopped");
	return rc;
}
