/*
 * output: the CLI's output formats. Tables are printed by each command;
 * json and yaml print one document built as a jansson value, so both
 * formats always carry the same, documented fields.
 */
#ifndef TABBY_CTL_OUTPUT_H
#define TABBY_CTL_OUTPUT_H

#include <jansson.h>
#include <stdio.h>

/* OUT_WIDE: get's table with more columns, as calicoctl's -o wide. */
enum out_fmt { OUT_TABLE, OUT_JSON, OUT_YAML, OUT_WIDE };

int out_fmt_parse(const char *s, enum out_fmt *f);
/* Prints doc as JSON or YAML; returns 0, or -1 on an emitter failure. */
int out_doc(FILE *f, enum out_fmt fmt, json_t *doc);

#endif
