/* SPDX-License-Identifier: MIT */
/*
 * Corpus replayer for fuzz targets built without libFuzzer: feeds each file
 * to LLVMFuzzerTestOneInput() once and reports TAP.  A crash (or a sanitizer
 * report) is the failure; an input that merely fails to decode is fine.
 *
 * Built with -DFUZZ_NAME='"tlv"' (or another target's name).  Without
 * arguments it replays $srcdir/tests/fuzz/corpus/FUZZ_NAME/; with arguments,
 * each file given, or each regular file in each directory given.  A missing
 * or empty corpus is an error: a replayer that silently tests nothing would
 * hide a broken checkout.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_NAME
#error "compile with -DFUZZ_NAME='\"target\"'"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct list {
	char **v;
	size_t n, cap;
};

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "replay_%s: %s: %s\n", FUZZ_NAME, path, what);
	printf("Bail out! %s: %s\n", path, what);
	exit(1);
}

static void
list_add(struct list *l, const char *dir, const char *name)
{
	size_t len, cap;
	char *s, **v;

	if (l->n == l->cap) {
		cap = l->cap ? 2 * l->cap : 64;
		if ((v = realloc(l->v, cap * sizeof(*v))) == NULL)
			die("out of memory", dir);
		l->v = v;
		l->cap = cap;
	}
	len = strlen(dir) + 1 + strlen(name) + 1;
	if ((s = malloc(len)) == NULL)
		die("out of memory", dir);
	if (name[0] != '\0')
		snprintf(s, len, "%s/%s", dir, name);
	else
		snprintf(s, len, "%s", dir);
	l->v[l->n++] = s;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files of dir, sorted so that the TAP numbering is stable. */
static void
list_dir(struct list *l, const char *dir)
{
	struct dirent *de;
	struct stat st;
	size_t first = l->n;
	char path[4096];
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		die(strerror(errno), dir);
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			list_add(l, dir, de->d_name);
	}
	closedir(d);
	if (l->n > first)
		qsort(l->v + first, l->n - first, sizeof(*l->v), cmp_str);
}

/*
 * The whole file in a buffer of exactly its size, so that an overread by
 * one byte is caught by ASan rather than hidden by slack.
 */
static uint8_t *
read_file(const char *path, size_t *size)
{
	struct stat st;
	uint8_t *buf;
	size_t len;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fstat(fileno(f), &st) != 0) {
		fclose(f);
		return NULL;
	}
	len = (size_t)st.st_size;
	if ((buf = malloc(len > 0 ? len : 1)) == NULL ||
	    fread(buf, 1, len, f) != len) {
		if (buf != NULL && !ferror(f))
			errno = EIO;	/* shrank while we read it */
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*size = len;
	return buf;
}

int
main(int argc, char **argv)
{
	struct list l = { NULL, 0, 0 };
	char dir[4096];
	const char *srcdir;
	struct stat st;
	uint8_t *buf;
	size_t i, size;
	int fail = 0;

	if (argc < 2) {
		srcdir = getenv("srcdir");
		if (srcdir == NULL || srcdir[0] == '\0')
			srcdir = ".";
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", srcdir,
			 FUZZ_NAME);
		list_dir(&l, dir);
		if (l.n == 0)
			die("no corpus files", dir);
	} else {
		for (i = 1; i < (size_t)argc; i++) {
			if (stat(argv[i], &st) != 0)
				die(strerror(errno), argv[i]);
			if (S_ISDIR(st.st_mode))
				list_dir(&l, argv[i]);
			else
				list_add(&l, argv[i], "");
		}
		if (l.n == 0)
			die("no corpus files", argv[1]);
	}

	printf("1..%zu\n", l.n);
	fflush(stdout);
	for (i = 0; i < l.n; i++) {
		buf = read_file(l.v[i], &size);
		if (buf == NULL) {
			printf("not ok %zu - %s # cannot read: %s\n", i + 1,
			       l.v[i], strerror(errno));
			fail = 1;
		} else {
			(void)LLVMFuzzerTestOneInput(buf, size);
			printf("ok %zu - %s\n", i + 1, l.v[i]);
			free(buf);
		}
		/* so that the last line before a crash names the culprit */
		fflush(stdout);
		free(l.v[i]);
	}
	free(l.v);
	return fail;
}
