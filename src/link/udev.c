/* SPDX-License-Identifier: MIT */
/*
 * Which interfaces match the rule (link_int.h): udev's properties through
 * sd-device, and udev's events through sd_device_monitor.  libsystemd's
 * monitor runs on an sd_event loop; that loop joins libevent the way
 * sd-bus does (util/sdbus.c): its fd (an epoll fd, readable whenever one
 * of its sources is) is watched, and each wake-up runs the sd_event loop
 * once without waiting.  The monitor has no timers, so nothing wakes up
 * while udev is quiet.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include <event2/event.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

#include "link/link_int.h"
#include "log.h"

struct link_udev {
	sd_event *ev;
	sd_device_monitor *mon;
	struct event *io;
	void (*changed)(void *arg, int ifindex);
	void *arg;
};

/* ---- properties ---- */

struct props {
	sd_device *dev;		/* NULL: not known to sd-device */
	const char *ifname;
	char driver[32];	/* ID_NET_DRIVER read through ethtool */
};

/*
 * The driver name, as udev's net_setup_link builtin reads it for
 * ID_NET_DRIVER: ETHTOOL_GDRVINFO.  A plain ioctl, answered at once.
 */
static int ethtool_driver(const char *ifname, char *out, size_t cap)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	int fd, r = 0;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -EINVAL;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname);
	ifr.ifr_data = (void *)&info;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	info.driver[sizeof(info.driver) - 1] = '\0';
	snprintf(out, cap, "%s", info.driver);
	return *out ? 0 : -ENOENT;
}

static const char *prop_get(void *arg, const char *key)
{
	struct props *p = arg;
	const char *v = NULL;

	if (p->dev && sd_device_get_property_value(p->dev, key, &v) >= 0 && v)
		return v;
	if (strcmp(key, "ID_NET_DRIVER"))
		return NULL;
	if (!*p->driver && ethtool_driver(p->ifname, p->driver,
					  sizeof(p->driver)) < 0)
		return NULL;
	return p->driver;
}

static bool match_dev(const struct link_rule *r, sd_device *dev,
		      const char *ifname)
{
	struct props p = { .dev = dev, .ifname = ifname };
	struct link_props lp = { .ifname = ifname, .get = prop_get, .arg = &p };

	return link_rule_match(r, &lp);
}

bool link_udev_match(const struct link_rule *r, int ifindex,
		     const char *ifname)
{
	sd_device *dev = NULL;
	bool m;

	/* not there (gone meanwhile, no sysfs): the ethtool fallback only */
	if (link_rule_needs_props(r) &&
	    sd_device_new_from_ifindex(&dev, ifindex) < 0)
		dev = NULL;
	m = match_dev(r, dev, ifname);
	sd_device_unref(dev);
	return m;
}

int link_udev_enumerate(const struct link_rule *r,
			void (*each)(void *arg, int ifindex, const char *name,
				     bool matched),
			void *arg)
{
	sd_device_enumerator *e = NULL;
	int n = sd_device_enumerator_new(&e);

	if (n >= 0)
		n = sd_device_enumerator_add_match_subsystem(e, "net", 1);
	if (n < 0) {
		sd_device_enumerator_unref(e);
		return n;
	}
	for (sd_device *d = sd_device_enumerator_get_device_first(e); d;
	     d = sd_device_enumerator_get_device_next(e)) {
		const char *name;
		int ifindex;

		if (sd_device_get_ifindex(d, &ifindex) < 0 ||
		    sd_device_get_sysname(d, &name) < 0)
			continue;
		each(arg, ifindex, name, match_dev(r, d, name));
	}
	sd_device_enumerator_unref(e);
	return 0;
}

/* ---- the monitor ---- */

static int on_device(sd_device_monitor *m, sd_device *d, void *arg)
{
	struct link_udev *u = arg;
	sd_device_action_t action;
	int ifindex;

	if (sd_device_get_action(d, &action) < 0 ||
	    sd_device_get_ifindex(d, &ifindex) < 0)
		return 0;
	if (action == SD_DEVICE_ADD || action == SD_DEVICE_CHANGE ||
	    action == SD_DEVICE_MOVE)
		u->changed(u->arg, ifindex);
	return 0;
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct link_udev *u = arg;

	/* what is ready now, without waiting; the fd stays watched */
	for (int i = 0; i < 64 && sd_event_run(u->ev, 0) > 0; i++)
		;
}

struct link_udev *link_udev_new(struct event_base *base,
				void (*changed)(void *arg, int ifindex),
				void *arg)
{
	struct link_udev *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return NULL;
	u->changed = changed;
	u->arg = arg;
	if ((r = sd_event_new(&u->ev)) < 0 ||
	    (r = sd_device_monitor_new(&u->mon)) < 0 ||
	    (r = sd_device_monitor_filter_add_match_subsystem_devtype(
			u->mon, "net", NULL)) < 0 ||
	    (r = sd_device_monitor_attach_event(u->mon, u->ev)) < 0 ||
	    (r = sd_device_monitor_start(u->mon, on_device, u)) < 0)
		goto fail;
	u->io = event_new(base, sd_event_get_fd(u->ev), EV_READ | EV_PERSIST,
			  on_io, u);
	if (!u->io || event_add(u->io, NULL) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	return u;
fail:
	log_warn(LOG_LINK, "no udev monitor (%s): interfaces are followed "
		 "through rtnetlink alone", strerror(-r));
	link_udev_free(u);
	return NULL;
}

void link_udev_free(struct link_udev *u)
{
	if (!u)
		return;
	if (u->io)
		event_free(u->io);
	sd_device_monitor_unref(u->mon);
	sd_event_unref(u->ev);
	free(u);
}
