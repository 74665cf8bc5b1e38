/* SPDX-License-Identifier: MIT */
/*
 * Internal to src/syncml: what the model (syncml.c), the builder
 * (builder.c) and the encoder (encode.c) share beyond syncml.h.
 */
#ifndef DMSCGW_SYNCML_MODEL_H
#define DMSCGW_SYNCML_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "syncml/syncml.h"

/* A message with its arena and nothing else (the builder fills it). */
struct syncml_msg *syncml_msg_new_empty(void);
/* A copy of s[0..len) in the message's arena, NUL-terminated; NULL if no memory. */
char *syncml_arena_strndup(struct syncml_msg *msg, const char *s, size_t len);

/* Whether tag is a command element; *type (if not NULL) says which. */
bool syncml_tag_is_cmd(enum syncml_tag tag, enum syncml_cmd_type *type);
enum syncml_tag syncml_cmd_tag(enum syncml_cmd_type type);
/* Elements holding text (or Data), and the empty flag elements. */
bool syncml_tag_is_leaf(enum syncml_tag t);
bool syncml_tag_is_flag(enum syncml_tag t);

/* No MetInf field present. */
bool syncml_meta_empty(const struct syncml_meta *m);

#endif
