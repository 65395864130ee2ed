/*
 * table: calicoctl's ASCII tables: "+---+" rules, one space of padding,
 * left-aligned cells, headings left-aligned or centred.
 */
#ifndef TABBY_CTL_TABLE_H
#define TABBY_CTL_TABLE_H

#include <stdbool.h>
#include <stdio.h>

struct table;

struct table *table_new(size_t ncols, const char *const *headings, bool center_headings);
/* Columns at least this wide, as calicoctl's status table is for its longest peer type. */
void table_min_width(struct table *t, size_t col, size_t width);
/* Copies the cells. */
void table_row(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

#endif
