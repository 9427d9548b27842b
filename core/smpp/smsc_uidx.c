/* smsc_uidx.c: see smsc_uidx.h. */
#include "smsc_uidx.h"

#include <stdlib.h>

#define UIDX_INIT_MAX  4096u
#define UIDX_SLOTS_MAX (1u << 31)

enum sy_rc smsc_uidx_init(struct smsc_uidx *x, uint32_t expected, uint64_t seed)
{
	uint32_t n = 16;
	while (n < 2 * (uint64_t)expected && n < UIDX_INIT_MAX)
		n <<= 1;
	*x = (struct smsc_uidx){.seed = seed};
	x->slot = calloc(n, sizeof *x->slot);
	if (x->slot == NULL)
		return SY_ERR_NOMEM;
	x->mask = n - 1;
	return SY_OK;
}

void smsc_uidx_free(struct smsc_uidx *x)
{
	free(x->slot);
	x->slot = NULL;
	x->mask = x->n = 0;
}

/* The empty slot where an entry of tag goes. */
static uint32_t uidx_free_slot(const struct smsc_uidx *x, uint32_t tag)
{
	uint32_t i = tag & x->mask;
	while (x->slot[i] != 0)
		i = (i + 1) & x->mask;
	return i;
}

/* Doubles the table: each slot's home is in its tag. */
static void uidx_grow(struct smsc_uidx *x)
{
	uint32_t n = x->mask + 1;
	if (n >= UIDX_SLOTS_MAX)
		return;
	uint64_t *old = x->slot;
	uint64_t *ns = calloc(2 * (size_t)n, sizeof *ns);
	if (ns == NULL)
		return;
	x->slot = ns;
	x->mask = 2 * n - 1;
	for (uint32_t i = 0; i < n; i++)
		if (old[i] != 0)
			x->slot[uidx_free_slot(x, (uint32_t)(old[i] >> 32))] = old[i];
	free(old);
}

enum sy_rc smsc_uidx_insert(struct smsc_uidx *x, uint64_t h, uint32_t value)
{
	SY_ASSERT(value != UINT32_MAX);
	if ((uint64_t)(x->n + 1) * 2 > (uint64_t)x->mask + 1)
		uidx_grow(x);
	if ((uint64_t)(x->n + 1) * 8 > (uint64_t)(x->mask + 1) * 7)
		return SY_ERR_NOMEM;
	x->slot[uidx_free_slot(x, (uint32_t)(h >> 32))] = (h >> 32) << 32 | ((uint64_t)value + 1);
	x->n++;
	return SY_OK;
}

void smsc_uidx_remove(struct smsc_uidx *x, uint64_t h, uint32_t value)
{
	uint64_t want = (h >> 32) << 32 | ((uint64_t)value + 1);
	uint32_t i = (uint32_t)(h >> 32) & x->mask;
	while (x->slot[i] != want) {
		SY_ASSERT(x->slot[i] != 0);
		i = (i + 1) & x->mask;
	}
	x->n--;
	/* Backward shift: move j into the hole at i unless its home lies in
	 * (i, j]; then probes need no tombstones. */
	for (uint32_t j = (i + 1) & x->mask; x->slot[j] != 0; j = (j + 1) & x->mask) {
		uint32_t home = (uint32_t)(x->slot[j] >> 32) & x->mask;
		if (((j - home) & x->mask) >= ((j - i) & x->mask)) {
			x->slot[i] = x->slot[j];
			i = j;
		}
	}
	x->slot[i] = 0;
}
