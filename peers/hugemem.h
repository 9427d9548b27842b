/* hugemem.h: zeroed arrays for the simulated peers' large open-addressing
 * tables (applications' receipt tables, carriers' key tables). A lookup
 * there is a random access into tens of MB: with 4 KB pages each is also a
 * TLB miss and each first touch a page fault. Arrays of 2 MB or more are
 * 2 MB-aligned and asked for huge pages before they are first written (a
 * hint only: nothing changes where transparent huge pages are off; the
 * same idea as core/billing/tariff.c's). Free with free(). */
#ifndef SY_PEERS_HUGEMEM_H
#define SY_PEERS_HUGEMEM_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PEERS_HUGE_BYTES ((size_t)2 << 20)

static inline void *peers_table_calloc(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	size_t len = n * size;
	if (len < PEERS_HUGE_BYTES)
		return calloc(n, size);
	len = (len + PEERS_HUGE_BYTES - 1) & ~(PEERS_HUGE_BYTES - 1);
	void *p = aligned_alloc(PEERS_HUGE_BYTES, len);
	if (p == NULL)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, len, MADV_HUGEPAGE);
#endif
	memset(p, 0, len);
	return p;
}

#endif
