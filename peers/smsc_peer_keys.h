/* smsc_peer_keys.h: what the simulated carrier (smsc_peer.c) remembers of
 * every message it accepted, for the whole run: the switch's key TLV (its
 * first upstream id and how often it came) and the message's own identity
 * (how often it was delivered). Millions of keys, so the common forms are
 * kept as the 64-bit values their text stands for, 8 or 16 bytes a key.
 * Not for other modules. */
#ifndef SY_PEERS_SMSC_PEER_KEYS_H
#define SY_PEERS_SMSC_PEER_KEYS_H

#include "core/htab.h"

/* An open-addressing table of nonzero 64-bit values (0 = an empty slot),
 * linear probing, doubling at three quarters full; words (1 or 2) 64-bit
 * words a slot: the value, then what goes with it. Keys are never removed. */
struct kv_tab {
	uint64_t *e;
	uint64_t mask, n;
	uint32_t words;
};

/* Any other key TLV (text that is not the switch's canonical decimal id) in
 * a record under a hash table: its text with the NUL inline up to
 * PEER_KEY_INLINE bytes, else on the heap. */
#define PEER_KEY_INLINE 19

struct peer_key {
	struct sy_hnode h;
	uint64_t up_no;
	uint32_t count;
	uint8_t len;
	char key[PEER_KEY_INLINE];
};
_Static_assert(sizeof(struct peer_key) == 64, "a key record is one cache line");

/* Messages: msgv holds each message's identity (a 64-bit hash, see
 * smsc_peer.h; the value 0 is the flag zero); key TLVs: keyv holds
 * (id, first upstream id) for canonical decimal ids, keys[] the others. How
 * often a key came is 1 unless it is in msgc/keyc (value, count): repeats
 * are rare, so the common key costs no count. */
struct peer_keys {
	struct kv_tab msgv, keyv, msgc, keyc;
	struct sy_htab keyt;
	struct peer_key *keys;
	uint32_t keys_max;
	uint32_t used;	     /* keys remembered, in either form */
	uint32_t text, heap; /* records of keys[] in use; of those, texts on the heap */
	bool zero;	     /* the message identity 0 is remembered */
	uint32_t zero_count;
};

/* A key TLV: its text, and its value when the text is canonical. */
struct peer_kref {
	struct sy_str text;
	uint64_t v; /* 0: not canonical, kept as text */
};

enum sy_rc peer_keys_init(struct peer_keys *k, uint32_t keys_max);
void peer_keys_free(struct peer_keys *k);
struct peer_kref peer_keys_kref(struct sy_str text);

/* Starts loading the table lines that a lookup of message identity id and of
 * key TLV r (may be NULL) will read, so that their cache misses overlap. */
void peer_keys_prefetch(const struct peer_keys *k, uint64_t id, const struct peer_kref *r);

/* Messages, by identity: seen before? remember a new one (count 1; false
 * when it cannot: keys_max reached, no memory); count one more. */
bool peer_keys_msg_seen(const struct peer_keys *k, uint64_t id);
bool peer_keys_msg_add(struct peer_keys *k, uint64_t id);
void peer_keys_msg_again(struct peer_keys *k, uint64_t id);

/* Key TLVs: seen before (and the first upstream id)? remember a new one;
 * count one more. */
bool peer_keys_key_seen(const struct peer_keys *k, const struct peer_kref *r, uint64_t *up_no);
bool peer_keys_key_add(struct peer_keys *k, const struct peer_kref *r, uint64_t up_no);
void peer_keys_key_again(struct peer_keys *k, const struct peer_kref *r);

/* How often a message identity ("h:" and 16 hex digits) or key TLV text
 * came (0 = never). */
uint32_t peer_keys_count(const struct peer_keys *k, bool msg, struct sy_str key);

#endif
