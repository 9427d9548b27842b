/* osip_pool.c: the bounded allocator of osip_pool.h. osip mallocs and frees
 * a dozen small strings for every header it parses or frees; with glibc that
 * was a quarter of the switch's instructions, so freed blocks stay on
 * size-class free lists (16 B .. 4 KB) and are reused for a few
 * instructions each. Unlike the free list this replaces, the pool has a
 * bound: a block that would take it past limit_bytes is refused (osip then
 * fails the parse, and sip_msg_parse reports SY_ERR_FULL), and freed blocks
 * beyond keep_bytes go back to the system. */
#include "core/sip/osip_pool.h"

#include <osipparser2/osip_port.h>
#include <stdlib.h>

#define POOL_CLASSES 9	   /* 16 << 0 .. 16 << 8 bytes */
#define POOL_HDR     16	   /* keeps blocks 16-byte aligned; holds the class or size */
#define POOL_BIG     0xffu /* a block sized to its request, never kept */

struct pool_hdr {
	uint32_t k; /* size class, or POOL_BIG */
	uint32_t pad;
	size_t bytes; /* what this block counts against the limit */
};
_Static_assert(sizeof(struct pool_hdr) <= POOL_HDR, "header too big");

struct pool_blk {
	struct pool_blk *next;
};

static struct {
	size_t limit, keep, used, kept, peak;
	uint64_t refused;
	struct pool_blk *free[POOL_CLASSES];
} pool = {.limit = SIP_OSIP_POOL_MAX_DEFAULT, .keep = SIP_OSIP_POOL_KEEP_DEFAULT};

static unsigned pool_class(size_t n)
{
	return n <= 16 ? 0 : (unsigned)(64 - __builtin_clzll((unsigned long long)(n - 1))) - 4;
}

static size_t class_bytes(unsigned k)
{
	return POOL_HDR + ((size_t)16 << k);
}

/* Gives kept blocks back to the system, largest classes first, until the
 * cache holds at most `to` bytes. */
static void pool_trim(size_t to)
{
	for (unsigned k = POOL_CLASSES; k-- > 0 && pool.kept > to;) {
		while (pool.free[k] != NULL && pool.kept > to) {
			struct pool_blk *b = pool.free[k];
			pool.free[k] = b->next;
			pool.kept -= class_bytes(k);
			free(b);
		}
	}
}

/* Room for `bytes` more under the limit, trimming the cache if that makes
 * it; false (and counted) when even an empty cache would not. */
static bool pool_admit(size_t bytes)
{
	if (pool.used + pool.kept + bytes > pool.limit)
		pool_trim(pool.limit - SY_MIN(pool.limit, pool.used + bytes));
	if (pool.used + pool.kept + bytes > pool.limit) {
		pool.refused++;
		return false;
	}
	pool.used += bytes;
	pool.peak = SY_MAX(pool.peak, pool.used + pool.kept);
	return true;
}

static void *pool_new(uint32_t k, size_t bytes)
{
	if (!pool_admit(bytes))
		return NULL;
	struct pool_hdr *h = malloc(bytes);
	if (h == NULL) {
		pool.used -= bytes;
		pool.refused++;
		return NULL;
	}
	*h = (struct pool_hdr){.k = k, .bytes = bytes};
	return (char *)h + POOL_HDR;
}

static void *pool_malloc(size_t n)
{
	unsigned k = pool_class(n);
	if (k >= POOL_CLASSES)
		return n > SIZE_MAX - POOL_HDR ? NULL : pool_new(POOL_BIG, n + POOL_HDR);
	struct pool_blk *b = pool.free[k];
	if (b == NULL)
		return pool_new(k, class_bytes(k));
	pool.free[k] = b->next;
	pool.kept -= class_bytes(k);
	pool.used += class_bytes(k);
	*(struct pool_hdr *)(void *)b = (struct pool_hdr){.k = k, .bytes = class_bytes(k)};
	return (char *)b + POOL_HDR;
}

static void pool_release(void *p)
{
	if (p == NULL)
		return;
	struct pool_hdr *h = (struct pool_hdr *)(void *)((char *)p - POOL_HDR);
	SY_ASSERT(h->k == POOL_BIG || (h->k < POOL_CLASSES && h->bytes == class_bytes(h->k)));
	SY_ASSERT(pool.used >= h->bytes);
	pool.used -= h->bytes;
	if (h->k == POOL_BIG || pool.kept + h->bytes > pool.keep) {
		free(h);
		return;
	}
	unsigned k = h->k;
	struct pool_blk *b = (struct pool_blk *)(void *)h;
	b->next = pool.free[k];
	pool.free[k] = b;
	pool.kept += class_bytes(k);
}

static void *pool_realloc(void *p, size_t n)
{
	if (p == NULL)
		return pool_malloc(n);
	const struct pool_hdr *h = (const struct pool_hdr *)(const void *)((char *)p - POOL_HDR);
	size_t have = h->bytes - POOL_HDR;
	if (n <= have)
		return p;
	void *q = pool_malloc(n);
	if (q != NULL) {
		memcpy(q, p, have);
		pool_release(p);
	}
	return q;
}

__attribute__((constructor)) static void pool_install(void)
{
	osip_set_allocators(pool_malloc, pool_realloc, pool_release);
}

void sip_osip_pool_configure(size_t limit_bytes, size_t keep_bytes)
{
	pool.limit = limit_bytes;
	pool.keep = SY_MIN(keep_bytes, limit_bytes);
	pool_trim(pool.keep);
}

void sip_osip_pool_stats(struct sip_osip_pool_stats *out)
{
	*out = (struct sip_osip_pool_stats){
	    .limit_bytes = pool.limit,
	    .keep_bytes = pool.keep,
	    .used_bytes = pool.used,
	    .kept_bytes = pool.kept,
	    .peak_bytes = pool.peak,
	    .refused = pool.refused,
	};
}

uint64_t sip_osip_pool_refused(void)
{
	return pool.refused;
}
