/* ftab.h: a fixed-size table of per-key state (accounts, trunks, number
 * ranges): key = a 64-bit hash of the id (fraud_ftab_key), value = a
 * caller-defined blob of a fixed size, zeroed when the key arrives.
 *
 * Open addressing without moves: a key lives in one of two windows of
 * FRAUD_FTAB_PROBE consecutive slots, each from its own hash (two choices),
 * so a lookup reads 16 keys (two cache lines of keys). When both windows
 * are full, the least recently touched key in them is evicted (counted in
 * stats.evicted) and its blob reused: the table never allocates after
 * create and never refuses a key. Key 0 is
 * reserved (mapped to 1): two ids whose hashes collide share a blob
 * (probability ~ keys^2 / 2^65: 3e-8 for a million keys).
 *
 * Memory: slots = the power of two >= keys x 5/4; per slot 16 bytes
 * (key, last touched) + the blob rounded up to 8 bytes. A million keys
 * with a 64-byte blob: 2^21 slots x 80 bytes = 160 MiB, 168 bytes per
 * tracked key (bench/fraud_state.c measures it). Filling it with a million
 * keys evicts a few dozen (63 in tests/test_fraud_state.c: 0.006%).
 * Cost: get and find scan 2 x FRAUD_FTAB_PROBE keys (O(1)). */
#ifndef SY_FRAUD_FTAB_H
#define SY_FRAUD_FTAB_H

#include "core/base.h"

#define FRAUD_FTAB_PROBE 8u

struct fraud_ftab_cfg {
	uint64_t keys; /* keys to hold (1..2^28) */
	uint32_t blob; /* bytes of state per key (1..4096) */
	uint64_t seed; /* slot placement; from sy_env_random in the component */
};

struct fraud_ftab_stats {
	uint64_t inserted; /* keys that arrived (into a free slot or an evicted one) */
	uint64_t evicted;  /* keys pushed out by a newer one */
	uint64_t tracked;  /* keys held now */
};

struct fraud_ftab;

enum sy_rc fraud_ftab_create(const struct fraud_ftab_cfg *cfg, struct fraud_ftab **out);
void fraud_ftab_destroy(struct fraud_ftab *t);

/* The key of an id string (seeded, so peers cannot aim collisions). */
uint64_t fraud_ftab_key(const struct fraud_ftab *t, struct sy_str id);

/* The key's blob, touched at now_ns; a new key gets a zeroed blob (and
 * *fresh = true when fresh is not NULL), evicting if its window is full. */
void *fraud_ftab_get(struct fraud_ftab *t, uint64_t key, uint64_t now_ns, bool *fresh);

/* The key's blob or NULL; does not touch or insert. */
void *fraud_ftab_find(const struct fraud_ftab *t, uint64_t key);

/* Forgets the key (false if it was not there). */
bool fraud_ftab_del(struct fraud_ftab *t, uint64_t key);

const struct fraud_ftab_stats *fraud_ftab_stats(const struct fraud_ftab *t);

/* Bytes held by the table (all of it was allocated at create). */
size_t fraud_ftab_bytes(const struct fraud_ftab *t);

#endif
