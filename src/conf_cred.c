/* SPDX-License-Identifier: MIT */
/*
 * Secrets from systemd credentials: a secret of dmscgw.conf written as
 * "credential:NAME" is the content of $CREDENTIALS_DIRECTORY/NAME, the
 * file the service manager made for LoadCredential=NAME:... or
 * LoadCredentialEncrypted=NAME:... (systemd.exec(5), "Credentials").
 * Nothing here logs or returns the content but in out.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

/*
 * A name systemd takes as a credential ID and that stays inside the
 * directory: a file name (no '/', not "." or ".."), printable, no blank.
 */
static bool cred_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > CONF_CRED_NAME_MAX || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == '/')
			return false;
	return true;
}

int conf_cred_read(const char *name, char *out, size_t cap, char *why,
		   size_t whylen)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char path[4096];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd;

	if (!cred_name_ok(name)) {
		snprintf(why, whylen, "'%.80s' is not a credential name (1 to %d "
			 "printable characters, no '/' or blank)", name,
			 CONF_CRED_NAME_MAX);
		return -1;
	}
	if (!dir || !*dir) {
		snprintf(why, whylen, "credential %s: $CREDENTIALS_DIRECTORY is "
			 "not set (systemd sets it for a unit with "
			 "LoadCredential=)", name);
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		snprintf(why, whylen, "credential %s: path too long", name);
		return -1;
	}
	/* O_NONBLOCK: a FIFO is refused below, not waited on */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, whylen, "credential %s: %s in $CREDENTIALS_DIRECTORY "
			 "(%.200s)", name, errno == ENOENT ? "no such file" :
			 strerror(errno), dir);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "credential %s: not a regular file", name);
		goto fail;
	}
	/*
	 * systemd makes them 0400, or 0440 where an ACL gives the service's
	 * user read access (the group bits show the ACL mask): nobody else
	 * may read them, nobody but the owner write them.
	 */
	if (st.st_mode & (S_IRWXO | S_IWGRP | S_IXGRP)) {
		snprintf(why, whylen, "credential %s: mode %04o lets others at it "
			 "(0400 or 0440 wanted)", name,
			 (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	/* the value and one newline; what may hold more is refused unread */
	if (st.st_size < 0 || (size_t)st.st_size > cap) {
		snprintf(why, whylen, "credential %s: larger than %zu bytes", name,
			 cap - 1);
		goto fail;
	}
	while (len < cap && (n = read(fd, out + len, cap - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "credential %s: %s", name,
				 strerror(errno));
			goto fail;
		}
		len += (size_t)n;
	}
	close(fd);
	fd = -1;
	/* echo >file: the newline is not part of the secret */
	if (len && out[len - 1] == '\n')
		len--;
	if (len && out[len - 1] == '\r')
		len--;
	if (len >= cap) {
		snprintf(why, whylen, "credential %s: larger than %zu bytes", name,
			 cap - 1);
		goto fail;
	}
	out[len] = '\0';
	if (strlen(out) != len || strpbrk(out, "\r\n")) {
		snprintf(why, whylen, "credential %s: not one line of text", name);
		goto fail;
	}
	return 0;
fail:
	explicit_bzero(out, cap);
	if (fd >= 0)
		close(fd);
	return -1;
}
