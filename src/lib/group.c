#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/group.h"
#include "lib/log.h"

struct group {
	uintptr_t key;
	size_t at;       /* the count, then where the group's next item goes */
	uint32_t first;  /* the group's index in order of first appearance */
};

static uintptr_t
key_of(const char *item, size_t key_off)
{
	const void *k;

	memcpy(&k, item + key_off, sizeof(k));
	return (uintptr_t)k;
}

static int
group_cmp(const void *a, const void *b)
{
	uintptr_t x = ((const struct group *)a)->key, y = ((const struct group *)b)->key;

	return x < y ? -1 : x > y;
}

/* The slot of key in the open-addressing index (mask + 1 slots, at most half used). */
static size_t
slot_of(const uint32_t *slot, const struct group *g, size_t mask, uintptr_t key)
{
	/* Keys are heap pointers: their low bits say little, a multiply mixes them. */
	size_t k = (size_t)(((uint64_t)key * 0x9e3779b97f4a7c15ull) >> 32) & mask;

	while (slot[k] != 0 && g[slot[k] - 1].key != key)
		k = (k + 1) & mask;
	return k;
}

void
group_by_key(void *v, size_t n, size_t size, size_t key_off)
{
	char *items = v;
	struct group *g;
	uint32_t *slot, *gid;
	size_t mask = 1, ng = 0, gcap = 16;

	if (n < 2)
		return;
	/* Indices are 32-bit: far more than a chunk of staged routes. */
	if (n > UINT32_MAX / 2)
		fatal("group_by_key: %zu items", n);
	while (mask + 1 < 2 * n)
		mask = mask * 2 + 1;
	slot = xcalloc(mask + 1, sizeof(*slot));
	g = xmalloc(gcap * sizeof(*g));
	gid = xmalloc(n * sizeof(*gid));
	for (size_t i = 0; i < n; i++) {
		uintptr_t key = key_of(items + i * size, key_off);
		size_t k = slot_of(slot, g, mask, key);

		if (slot[k] == 0) {
			if (ng == gcap) {
				gcap *= 2;
				g = xrealloc(g, gcap * sizeof(*g));
			}
			g[ng] = (struct group){.key = key, .at = 0, .first = (uint32_t)ng};
			slot[k] = (uint32_t)++ng;
		}
		gid[i] = slot[k] - 1;
		g[gid[i]].at++;
	}
	if (ng > 1) {
		/* The groups in key order; gid (by first appearance) maps to it through remap. */
		uint32_t *remap = xmalloc(ng * sizeof(*remap));
		char *tmp = xmalloc(size);
		size_t start = 0;

		qsort(g, ng, sizeof(*g), group_cmp);
		for (size_t j = 0; j < ng; j++) {
			size_t count = g[j].at;

			g[j].at = start;
			start += count;
			remap[g[j].first] = (uint32_t)j;
		}
		/* gid[i] becomes item i's place; then each swap puts one item in its place
		 * (in place: no second array of n items at a pull's peak). */
		for (size_t i = 0; i < n; i++)
			gid[i] = (uint32_t)g[remap[gid[i]]].at++;
		for (size_t i = 0; i < n; i++) {
			while (gid[i] != i) {
				size_t j = gid[i];

				memcpy(tmp, items + j * size, size);
				memcpy(items + j * size, items + i * size, size);
				memcpy(items + i * size, tmp, size);
				gid[i] = gid[j];
				gid[j] = (uint32_t)j;
			}
		}
		free(tmp);
		free(remap);
	}
	free(gid);
	free(g);
	free(slot);
}
