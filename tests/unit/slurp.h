/* SPDX-License-Identifier: MIT */
/* The test tools' input: a whole file, or standard input for "-". */
#ifndef DMSCGW_TEST_SLURP_H
#define DMSCGW_TEST_SLURP_H

#include <stddef.h>
#include <stdint.h>

/* 0 with *buf (malloc'd, the caller frees) and *len, or a negative errno. */
int slurp(const char *path, uint8_t **buf, size_t *len);

#endif
