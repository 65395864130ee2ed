#include "ctl/table.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

struct table {
	size_t ncols, nrows, cap;
	char **cells;      /* row-major, row 0 holds the headings */
	size_t *width;
	bool center;
};

struct table *
table_new(size_t ncols, const char *const *headings, bool center_headings)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	t->center = center_headings;
	t->width = xcalloc(ncols, sizeof(*t->width));
	table_row(t, headings);
	return t;
}

void
table_min_width(struct table *t, size_t col, size_t width)
{
	if (col < t->ncols && t->width[col] < width)
		t->width[col] = width;
}

void
table_row(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->cells = xrealloc(t->cells, t->cap * t->ncols * sizeof(*t->cells));
	}
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = cells[c] ? cells[c] : "";
		size_t n = strlen(s);

		t->cells[t->nrows * t->ncols + c] = xstrdup(s);
		if (n > t->width[c])
			t->width[c] = n;
	}
	t->nrows++;
}

static void
spaces(FILE *f, size_t n)
{
	static const char blank[] = "                                ";

	for (; n > sizeof(blank) - 1; n -= sizeof(blank) - 1)
		fwrite(blank, 1, sizeof(blank) - 1, f);
	fwrite(blank, 1, n, f);
}

static void
rule(const struct table *t, FILE *f)
{
	for (size_t c = 0; c < t->ncols; c++) {
		fputc('+', f);
		for (size_t i = 0; i < t->width[c] + 2; i++)
			fputc('-', f);
	}
	fputs("+\n", f);
}

static void
print_row(const struct table *t, size_t r, FILE *f)
{
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = t->cells[r * t->ncols + c];
		size_t pad = t->width[c] - strlen(s), left = 0;

		if (r == 0 && t->center) {
			left = pad / 2;
			pad -= left;
		}
		fputs("| ", f);
		spaces(f, left);
		fputs(s, f);
		spaces(f, pad + 1);
	}
	fputs("|\n", f);
}

void
table_print(const struct table *t, FILE *f)
{
	rule(t, f);
	print_row(t, 0, f);
	rule(t, f);
	for (size_t r = 1; r < t->nrows; r++)
		print_row(t, r, f);
	rule(t, f);
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t);
}
