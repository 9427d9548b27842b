/* pool.h: fixed-size objects in slabs that are allocated the first time one
 * of their objects is needed, up to a configured maximum (DESIGN.md: pools
 * grow in slabs up to a memory limit). Start-up costs nothing whatever the
 * maximum, and memory follows the peak load instead of the configured one. */
#ifndef SY_POOL_H
#define SY_POOL_H

#include "base.h"

/* Objects are numbered 0, 1, 2, ... in the order sy_pool_grow() hands them
 * out; the owner keeps its own free list of recycled objects and calls
 * sy_pool_grow() only when that list is empty. Taking recycled objects
 * first and fresh ones in index order is exactly the order of one array
 * threaded onto a LIFO free list up front, so an owner that switches to a
 * pool keeps its allocation order (and the simulator its digests). */
struct sy_pool {
	uint8_t **slabs;     /* slab_n pointers; NULL until an object in it is needed */
	size_t obj_size;     /* bytes per object (its sizeof) */
	uint32_t max;	     /* objects, never more */
	uint32_t used;	     /* objects handed out at least once: valid indexes are < used */
	uint32_t slab_n;     /* max rounded up to whole slabs */
	uint32_t shift;	     /* log2(objects per slab) */
	uint64_t slab_bytes; /* allocated so far, for reports */
};

/* A slab holds the largest power of two of objects that fits this, at least 16. */
#define SY_POOL_SLAB_BYTES (256 * 1024)

enum sy_rc sy_pool_init(struct sy_pool *p, size_t obj_size, uint32_t max);
/* Frees every slab. Objects must not be used afterwards. */
void sy_pool_free(struct sy_pool *p);
/* The object of index i, zero-filled the first time it is handed out. A
 * never-used object is reached only through sy_pool_grow(). */
void *sy_pool_grow(struct sy_pool *p, uint32_t *idx);

static inline void *sy_pool_at(const struct sy_pool *p, uint32_t i)
{
	SY_ASSERT(i < p->used);
	uint32_t mask = (1u << p->shift) - 1;
	return p->slabs[i >> p->shift] + (size_t)(i & mask) * p->obj_size;
}

/* Objects handed out at least once: iterate 0..used-1 to visit them all. */
static inline uint32_t sy_pool_used(const struct sy_pool *p)
{
	return p->used;
}

#endif
