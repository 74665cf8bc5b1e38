/* SPDX-License-Identifier: MIT */
/* Proactive commands answered by the terminal itself. */
#ifndef DMSCGW_CAT_TERMINAL_H
#define DMSCGW_CAT_TERMINAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct cat_engine;

/* Register MORE TIME, SET UP EVENT LIST, PROVIDE LOCAL INFORMATION. */
void cat_terminal_register(struct cat_engine *e);
/* Whether SET UP EVENT LIST may list ev (its capability is enabled). */
bool cat_terminal_event_supported(const struct cat_engine *e, uint8_t ev);
/* Value parts of the date/time/zone (7 bytes) and IMEI (8 bytes) objects. */
void cat_terminal_date_time(uint8_t out[7], time_t now);
int cat_terminal_imei(uint8_t out[8], const char *imei);

#endif
