/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slurp.h"

int slurp(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 4096, n;
	uint8_t *b, *nb;
	int r = 0;

	if (f == NULL)
		return -errno;
	if ((b = malloc(cap)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	*len = 0;
	while ((n = fread(b + *len, 1, cap - *len, f)) > 0) {
		*len += n;
		if (*len == cap) {
			if ((nb = realloc(b, cap * 2)) == NULL) {
				free(b);
				r = -ENOMEM;
				goto out;
			}
			b = nb;
			cap *= 2;
		}
	}
	*buf = b;
out:
	if (f != stdin)
		fclose(f);
	return r;
}
