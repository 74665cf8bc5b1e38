/* SPDX-License-Identifier: MIT */
/*
 * exec-agent PREFIX -- COMMAND...: an Exec agent (org.dmscgw1(5)) that
 * runs COMMAND for every Exec a server sends to a node at or below PREFIX,
 * so that a shell script can be one; exec-result CORRELATOR CODE [DATA]:
 * the result of an Exec that COMMAND accepted (exit status 202).
 *
 * COMMAND gets the Exec's data on its standard input and in DMSCGW_DATA
 * (when it is text of at most 64 KiB), the node in DMSCGW_URI, the data's
 * format in DMSCGW_FORMAT and the correlator of its result in
 * DMSCGW_CORRELATOR.  Exit status 0 answers 200, 202 answers 202
 * (accepted: exec-result follows), anything else 500; what it prints on
 * its standard output (at most 1023 bytes of UTF-8 text, trailing newlines
 * cut) goes back with the status.  Commands run side by side; the agent
 * waits for none of them.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"	/* _GNU_SOURCE: memfd_create, pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "cli/ctl.h"

#define AGENT_PATH	"/org/dmscgw1/ctl/ExecAgent"
#define AGENT_IFACE	"org.dmscgw1.ExecAgent"
#define OUT_MAX		1023	/* the daemon takes no more with a status */
#define ENV_DATA_MAX	65536

struct agent {
	struct ctl *c;
	sd_event *ev;
	const char *prefix;
	char **cmd;
};

/* One COMMAND running for one Exec. */
struct job {
	struct agent *a;
	sd_bus_message *m;		/* the Exec, answered at the end */
	char uri[64];			/* for the log, cut */
	pid_t pid;
	int out;			/* its standard output, -1 once read */
	sd_event_source *io, *child;
	char buf[OUT_MAX + 1];
	size_t len;
};

static void job_free(struct job *j)
{
	sd_event_source_unref(j->io);
	sd_event_source_unref(j->child);
	if (j->out >= 0)
		close(j->out);
	sd_bus_message_unref(j->m);
	free(j);
}

/* Read what COMMAND wrote, keeping the first OUT_MAX bytes. */
static void job_read(struct job *j)
{
	char scratch[4096];
	ssize_t n;

	while (j->out >= 0) {
		size_t room = OUT_MAX - j->len;

		n = room ? read(j->out, j->buf + j->len, room) :
			   read(j->out, scratch, sizeof(scratch));
		if (n > 0) {
			j->len += room ? (size_t)n : 0;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		/* the end, or an error: no more to read */
		j->io = sd_event_source_unref(j->io);
		close(j->out);
		j->out = -1;
	}
}

static int on_output(sd_event_source *s, int fd, uint32_t revents,
		     void *userdata)
{
	(void)s;
	(void)fd;
	(void)revents;
	job_read(userdata);
	return 0;
}

/* Text for the reply: up to a NUL, no trailing newlines, UTF-8 or "". */
static const char *job_text(struct job *j)
{
	j->buf[j->len] = '\0';
	j->len = strlen(j->buf);
	while (j->len && (j->buf[j->len - 1] == '\n' ||
			  j->buf[j->len - 1] == '\r'))
		j->buf[--j->len] = '\0';
	if (!ctl_utf8((const uint8_t *)j->buf, j->len)) {
		fprintf(stderr, "dmscgwctl: exec-agent: %s: the output is not "
			"UTF-8 text: left out\n", j->uri);
		return "";
	}
	return j->buf;
}

static int on_exit_status(sd_event_source *s, const siginfo_t *si,
			  void *userdata)
{
	struct job *j = userdata;
	unsigned code = 500;
	int r;

	(void)s;
	/*
	 * What it wrote before it ended is in the pipe: read it now.  Not
	 * waiting for the end of the pipe: a job it left in the background
	 * may hold it open for long.
	 */
	job_read(j);
	if (si->si_code == CLD_EXITED && si->si_status == 0)
		code = 200;
	else if (si->si_code == CLD_EXITED && si->si_status == 202)
		code = 202;
	if (si->si_code == CLD_EXITED)
		fprintf(stderr, "dmscgwctl: exec-agent: %s: exit status %d: %u\n",
			j->uri, si->si_status, code);
	else
		fprintf(stderr, "dmscgwctl: exec-agent: %s: killed by signal "
			"%d: %u\n", j->uri, si->si_status, code);
	r = sd_bus_reply_method_return(j->m, "us", code, job_text(j));
	if (r < 0)
		fprintf(stderr, "dmscgwctl: exec-agent: %s: cannot answer: %s\n",
			j->uri, strerror(-r));
	job_free(j);
	return 0;
}

/* The Exec's data as COMMAND's standard input: a file of its own. */
static int data_fd(const void *p, size_t len)
{
	int fd = memfd_create("dmscgw-exec", MFD_CLOEXEC);
	const char *q = p;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len) {
		n = write(fd, q, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return (int)n;
		}
		q += n;
		len -= (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	return fd;
}

/* In the child: the environment, the descriptors, then COMMAND. */
static void job_exec(struct agent *a, int in, int out, const char *uri,
		     const void *data, size_t len, const char *format,
		     const char *corr)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
		_exit(127);
	setenv("DMSCGW_URI", uri, 1);
	setenv("DMSCGW_FORMAT", format, 1);
	setenv("DMSCGW_CORRELATOR", corr, 1);
	unsetenv("DMSCGW_DATA");
	if (len <= ENV_DATA_MAX && !memchr(data, '\0', len)) {
		char *s = strndup(data, len);

		if (s)
			setenv("DMSCGW_DATA", s, 1);
	}
	execvp(a->cmd[0], a->cmd);
	fprintf(stderr, "dmscgwctl: exec-agent: cannot run %s: %s\n",
		a->cmd[0], strerror(errno));
	_exit(127);
}

/* Exec(s uri, ay data, s format, s correlator) -> (u status, s data) */
static int on_exec(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct agent *a = userdata;
	const char *uri, *format, *corr;
	const void *data;
	size_t len;
	int fds[2] = { -1, -1 }, in = -1, r;
	struct job *j;

	r = sd_bus_message_read(m, "s", &uri);
	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &data, &len);
	if (r >= 0)
		r = sd_bus_message_read(m, "ss", &format, &corr);
	if (r < 0)
		return r;
	if (!(j = calloc(1, sizeof(*j))))
		return -ENOMEM;
	j->a = a;
	j->out = -1;
	snprintf(j->uri, sizeof(j->uri), "%s", uri);
	if ((in = data_fd(data, len)) < 0 ||
	    pipe2(fds, O_CLOEXEC) < 0) {
		r = in < 0 ? in : -errno;
		goto fail;
	}
	j->pid = fork();
	if (j->pid < 0) {
		r = -errno;
		goto fail;
	}
	if (j->pid == 0)
		job_exec(a, in, fds[1], uri, data, len, format, corr);
	close(in);
	close(fds[1]);
	j->out = fds[0];
	fds[0] = fds[1] = in = -1;
	j->m = sd_bus_message_ref(m);
	if (fcntl(j->out, F_SETFL, O_NONBLOCK) < 0 ||
	    (r = sd_event_add_io(a->ev, &j->io, j->out, EPOLLIN, on_output,
				 j)) < 0 ||
	    (r = sd_event_add_child(a->ev, &j->child, j->pid, WEXITED,
				    on_exit_status, j)) < 0) {
		/* cannot watch it: it runs on, its Exec fails now */
		r = r < 0 ? r : -errno;
		job_free(j);
		return sd_bus_error_set_errnof(e, -r, "cannot watch %s: %s",
					       a->cmd[0], strerror(-r));
	}
	fprintf(stderr, "dmscgwctl: exec-agent: %s (%zu bytes, correlator %s): "
		"%s started\n", j->uri, len, corr, a->cmd[0]);
	return 1;	/* answered when it ends */
fail:
	if (in >= 0)
		close(in);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	free(j);
	return sd_bus_error_set_errnof(e, -r, "cannot run %s: %s", a->cmd[0],
				       strerror(-r));
}

static const sd_bus_vtable agent_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_ARGS("Exec",
		SD_BUS_ARGS("s", uri, "ay", data, "s", format, "s", correlator),
		SD_BUS_RESULT("u", status, "s", data), on_exec, 0),
	SD_BUS_VTABLE_END
};

static int on_registered(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct agent *a = userdata;
	const sd_bus_error *err = sd_bus_message_get_error(m);

	(void)e;
	if (err)
		fprintf(stderr, "dmscgwctl: exec-agent: not registered again "
			"for %s: %s\n", a->prefix, err->message);
	else
		fprintf(stderr, "serving %s again\n", a->prefix);
	return 0;
}

/* dmscgw started again: the registration went with the old one. */
static int on_owner(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct agent *a = userdata;
	const char *name, *old, *new;

	(void)e;
	if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 ||
	    strcmp(name, DMSCGW_SERVICE))
		return 0;
	if (!*new) {
		fprintf(stderr, "dmscgwctl: exec-agent: dmscgw left the bus; "
			"waiting for it\n");
		return 0;
	}
	sd_bus_call_method_async(a->c->bus, NULL, DMSCGW_SERVICE,
				 DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE,
				 "RegisterExecAgent", on_registered, a, "so",
				 a->prefix, AGENT_PATH);
	return 0;
}

static int agent_setup(struct agent *a)
{
	struct ctl *c = a->c;
	sigset_t block;
	int r;

	/* SIGCHLD for sd_event_add_child, the others to end cleanly */
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, NULL) < 0)
		return -errno;
	r = sd_event_default(&a->ev);
	if (r >= 0)
		r = sd_event_add_signal(a->ev, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(a->ev, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = sd_bus_attach_event(c->bus, a->ev, 0);
	if (r >= 0)
		r = sd_bus_add_object_vtable(c->bus, NULL, AGENT_PATH,
					     AGENT_IFACE, agent_vtable, a);
	if (r >= 0)
		r = sd_bus_match_signal(c->bus, NULL, "org.freedesktop.DBus",
					"/org/freedesktop/DBus",
					"org.freedesktop.DBus",
					"NameOwnerChanged", on_owner, a);
	return r;
}

int exec_agent_verb(struct ctl *c, int argc, char **argv)
{
	struct agent a = { .c = c, .prefix = argv[1], .cmd = argv + 2 };
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	(void)argc;
	if (!*a.prefix)
		return ctl_usage("exec-agent needs a PREFIX such as ./Vendor/x");
	r = ctl_connect(c);
	if (r)
		return r;
	r = agent_setup(&a);
	if (r < 0) {
		sd_event_unref(a.ev);
		return ctl_fail("exec-agent: %s", strerror(-r));
	}
	r = ctl_call(c, NULL, DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE,
		     "RegisterExecAgent", "so", a.prefix, AGENT_PATH);
	if (r) {
		sd_event_unref(a.ev);
		return r;
	}
	/* ready: scripts wait for this line */
	fprintf(stderr, "serving %s\n", a.prefix);
	fflush(stderr);
	r = sd_event_loop(a.ev);
	if (r >= 0)
		(void)sd_bus_call_method(c->bus, DMSCGW_SERVICE,
					 DMSCGW_MANAGER_PATH,
					 DMSCGW_MANAGER_IFACE,
					 "UnregisterExecAgent", &e, NULL, "s",
					 a.prefix);
	sd_bus_error_free(&e);
	sd_bus_detach_event(c->bus);
	sd_event_unref(a.ev);
	return r < 0 ? ctl_fail("exec-agent: %s", strerror(-r)) : CTL_OK;
}

int exec_result_verb(struct ctl *c, int argc, char **argv)
{
	unsigned long code;
	int r;

	if (!ctl_parse_uint(argv[2], 999, &code))
		return ctl_usage("CODE must be a result code such as 200, not "
				 "'%s'", argv[2]);
	r = ctl_connect(c);
	if (!r)
		r = ctl_call(c, NULL, DMSCGW_MANAGER_PATH, DMSCGW_MANAGER_IFACE,
			     "ExecResult", "sus", argv[1], (uint32_t)code,
			     argc > 3 ? argv[3] : "");
	if (!r)
		ctl_print_empty(c);
	return r;
}
