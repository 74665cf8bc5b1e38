/* SPDX-License-Identifier: MIT */
/*
 * TERMINAL PROFILE (ETSI TS 102 221 clause 11.2.1, contents in TS 102 223
 * clause 5.2) built from one table of capabilities.  Card applets branch on
 * these bits, so a bit is set only for what dmscgw implements and tests.
 */
#ifndef DMSCGW_CAT_PROFILE_H
#define DMSCGW_CAT_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runtime conditions some capabilities depend on. */
enum cat_feature {
	CAT_FEAT_NONE = 0,
};

/* Build the profile; returns its length, or -ENOSPC. */
int cat_profile_build(uint8_t *out, size_t cap, unsigned features);

/* Name of the capability at byte (1-based) and bit (1-based), or NULL. */
const char *cat_profile_name(unsigned byte, unsigned bit);

#endif
