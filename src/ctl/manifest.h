/*
 * manifest: reads resource documents, YAML or JSON (JSON is read as
 * YAML's flow style), one or many per file separated by '---', from a
 * file or standard input ("-"). A document of kind "...List" with items
 * (what `get -o yaml` prints for several) stands for its items.
 */
#ifndef TABBY_CTL_MANIFEST_H
#define TABBY_CTL_MANIFEST_H

#include <jansson.h>

#include "lib/err.h"

/* A JSON array of the documents, or NULL with err saying where the text is wrong. */
json_t *manifest_read(const char *path, struct err *err);

#endif
