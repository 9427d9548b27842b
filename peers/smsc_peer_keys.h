/* smsc_peer_keys.h: what the simulated carrier (smsc_peer.c) remembers of
 * every message it accepted, for the whole run: the switch's key TLV (its
 * first upstream id and how often it came) and the message's own identity
 * (how often it was delivered). Millions of keys, so the common forms are
 * kept as the 64-bit values their text stands for. Not for other modules. */
#ifndef SY_PEERS_SMSC_PEER_KEYS_H
#define SY_PEERS_SMSC_PEER_KEYS_H

#include "core/htab.h"

/* What the peer knows of a key: how many times it came, and for a key
 * TLV the first upstream id it got (a message key needs no id). */
struct peer_cnt {
	uint32_t count;
	uint32_t used; /* in a kv_tab: the slot holds a key */
};

struct peer_val {
	struct peer_cnt c;
	uint64_t up_no;
};

/* Keys are kept for the whole run, millions of them, so the common forms
 * are kept as the 64-bit values their text stands for, in open-addressing
 * tables: a message's "h:" and 16 hex digits (16-byte slots: the value and
 * its peer_cnt) and a key TLV that is a decimal id in the switch's canonical
 * form (smsq_id_parse; 24-byte slots: the value and its peer_val). */
struct kv_tab {
	uint8_t *e;
	uint64_t mask, n;
	uint32_t stride;
};

struct kv_msg {
	uint64_t v;
	struct peer_cnt c;
};

struct kv_key {
	uint64_t v;
	struct peer_val val;
};

/* Any other key (a key TLV of other text) in a record under a hash table:
 * its text with the NUL inline up to PEER_KEY_INLINE bytes, else on the heap. */
#define PEER_KEY_INLINE 15

struct peer_key {
	struct sy_hnode h;
	struct peer_val val;
	uint8_t len;
	char key[PEER_KEY_INLINE];
};
_Static_assert(sizeof(struct peer_key) == 64, "a key record is one cache line");

/* Two tables each (key TLVs, message identities): compact values, and
 * records for other texts (keys[], keys_max of them, touched as used). */
struct peer_keys {
	struct kv_tab keyv, msgv;
	struct sy_htab keyt, msgt;
	struct peer_key *keys;
	uint32_t keys_max;
	uint32_t used;	     /* keys remembered, in either form */
	uint32_t text, heap; /* records of keys[] in use; of those, texts on the heap */
};

enum sy_rc peer_keys_init(struct peer_keys *k, uint32_t keys_max);
void peer_keys_free(struct peer_keys *k);
/* What the message (msg) or key TLV table knows of key, NULL if nothing;
 * a key TLV's is the c of a peer_val (peer_keys_val). */
struct peer_cnt *peer_keys_find(const struct peer_keys *k, bool msg, struct sy_str key);
static inline struct peer_val *peer_keys_val(struct peer_cnt *c)
{
	return c == NULL ? NULL : SY_CONTAINER_OF(c, struct peer_val, c);
}
/* Remembers a new key (not known yet) with count 1, and its first upstream
 * id for a key TLV. false when it cannot (keys_max reached, no memory). */
bool peer_keys_add(struct peer_keys *k, bool msg, struct sy_str key, uint64_t up_no);

#endif
