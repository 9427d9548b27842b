/* osip_pool.h: libosip2's memory, bounded. osip allocates every string of a
 * parsed message separately; its allocator is replaced process-wide (before
 * main, so every osip block comes from here) by size-class free lists with
 * a known limit. The node parses on one thread (its event loop; the
 * simulator runs every node on one), so the state is process-wide. */
#ifndef SY_SIP_OSIP_POOL_H
#define SY_SIP_OSIP_POOL_H

#include "core/base.h"

/* Default bound on the bytes osip holds (blocks in use plus blocks kept for
 * reuse), sized for the target load: bench/voice-10k.scn (10K call
 * attempts/s, 80% answered) peaked at 275 MiB when every server
 * transaction kept its parsed request until it ended; since issue 9 they
 * free it with their final response (docs/operations.md, "Sizing"). 512 MiB leaves ~1.8x for bursts
 * and retransmission storms without letting a flood take the host's
 * memory. `SWITCHYARD_OSIP_POOL_MB` overrides it (cmd/switchyard.c). */
#define SIP_OSIP_POOL_MAX_DEFAULT ((size_t)512 << 20)
/* Default bytes of freed blocks kept for reuse; frees beyond it go back to
 * the system. 0 under ASan, which must see every osip block freed. */
#if defined(__SANITIZE_ADDRESS__) /* gcc */
#define SIP_OSIP_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) /* clang */
#define SIP_OSIP_POOL_ASAN 1
#endif
#endif
#ifdef SIP_OSIP_POOL_ASAN
#define SIP_OSIP_POOL_KEEP_DEFAULT ((size_t)0)
#else
#define SIP_OSIP_POOL_KEEP_DEFAULT ((size_t)32 << 20)
#endif

struct sip_osip_pool_stats {
	size_t limit_bytes, keep_bytes;
	size_t used_bytes; /* in blocks osip holds now */
	size_t kept_bytes; /* in freed blocks kept for reuse */
	size_t peak_bytes; /* the most used + kept ever */
	uint64_t refused;  /* allocations refused at the limit */
};

/* Sets the bound and the reuse cache (bytes). A limit below what is in use
 * only refuses new blocks until enough are freed; the cache is trimmed now. */
void sip_osip_pool_configure(size_t limit_bytes, size_t keep_bytes);
void sip_osip_pool_stats(struct sip_osip_pool_stats *out);
/* Allocations refused so far: a parse that saw this move failed for want
 * of memory, not because of its input. */
uint64_t sip_osip_pool_refused(void);

#endif
