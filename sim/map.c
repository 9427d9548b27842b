/* map.c: the simulator's address maps (IP to node, address to socket or
 * listener). */
#include <stdlib.h>

#include "sim/sim_int.h"

static inline uint32_t map_slot(const struct sim_map *m, uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (m->cap - 1);
}

void *sim_map_get(const struct sim_map *m, uint64_t key)
{
	if (m->cap == 0)
		return NULL;
	for (uint32_t i = map_slot(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return m->vals[i];
		if (m->keys[i] == 0)
			return NULL;
	}
}

static void map_put_nogrow(struct sim_map *m, uint64_t key, void *val)
{
	uint32_t i = map_slot(m, key);
	while (m->keys[i] != 0 && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	if (m->keys[i] == 0)
		m->n++;
	m->keys[i] = key;
	m->vals[i] = val;
}

void sim_map_put(struct sim_map *m, uint64_t key, void *val)
{
	SY_ASSERT(key != 0);
	if ((m->n + 1) * 2 > m->cap) {
		struct sim_map old = *m;
		m->cap = old.cap ? old.cap * 2 : 64;
		m->n = 0;
		m->keys = calloc(m->cap, sizeof(*m->keys));
		m->vals = calloc(m->cap, sizeof(*m->vals));
		SY_ASSERT(m->keys != NULL && m->vals != NULL);
		for (uint32_t i = 0; i < old.cap; i++)
			if (old.keys[i] != 0)
				map_put_nogrow(m, old.keys[i], old.vals[i]);
		free(old.keys);
		free(old.vals);
	}
	map_put_nogrow(m, key, val);
}

void sim_map_del(struct sim_map *m, uint64_t key)
{
	if (m->cap == 0)
		return;
	uint32_t i = map_slot(m, key), mask = m->cap - 1;
	while (m->keys[i] != key) {
		if (m->keys[i] == 0)
			return;
		i = (i + 1) & mask;
	}
	/* Backward shift keeps every probe chain unbroken without tombstones. */
	for (uint32_t j = (i + 1) & mask; m->keys[j] != 0; j = (j + 1) & mask) {
		uint32_t home = map_slot(m, m->keys[j]);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->keys[i] = 0;
	m->vals[i] = NULL;
	m->n--;
}

void sim_map_free(struct sim_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
