/* auth_int.h: the state of sip_auth shared by auth.c (trunks, digest,
 * nonces) and auth_reg.c (the registrar). */
#ifndef SY_SIP_AUTH_INT_H
#define SY_SIP_AUTH_INT_H

#include "auth.h"

#include <openssl/evp.h>

#define NONCE_WAYS 4 /* slots per bucket of the nc table */

#define NET_SLOTS   4096 /* hash slots for trunk networks: >= 2x the most there can be */
#define NET_LENS_MAX 64	 /* distinct (family, prefix length) pairs looked up */

/* A trunk network in the hash: the address masked to its bits, its port
 * (0: any) and its trunk + 1 (0: a free slot). */
struct auth_net {
	struct sip_net net;
	uint16_t trunk1;
};

/* A prefix length in use, most specific first. */
struct auth_len {
	uint8_t family, bits;
};

/* HA1 of a user per algorithm, lowercase hex; "" when not known (a
 * stored md5: HA1 cannot answer a SHA-256 challenge). */
struct auth_keys {
	char ha1[2][65];
};

/* A nonce the nc table remembers: its MAC (the nonce's identity), when it
 * was issued, the highest nc used with it. */
struct nonce_slot {
	uint8_t tag[16];
	uint64_t ts;
	uint32_t nc;
	bool used;
};

struct reg_binding {
	char contact[SIP_REG_CONTACT_MAX]; /* "" = free */
	struct sy_addr src;		   /* where REGISTER came from: calls go there */
	uint64_t expires_ns;		   /* monotonic */
	uint64_t updated_ns;
};

struct sip_auth {
	const struct sy_env *env;
	struct sip_access_cfg cfg;
	uint64_t ttl_ns;
	/* trunk networks: one hash probe per prefix length in use, longest first */
	struct auth_net nets[NET_SLOTS];
	struct auth_len lens[NET_LENS_MAX];
	uint32_t len_n;
	/* hashing contexts, fetched once (a fetch per hash costs more than the hash) */
	EVP_MD_CTX *md_ctx;
	EVP_MD *md[2]; /* per enum sip_digest_alg */
	struct auth_keys keys[SIP_USERS_MAX];
	uint8_t secret[32];
	struct nonce_slot slots[SIP_NONCE_SLOTS];
	/* nonces issued at or before this may have been pushed out of the
	 * table: without an entry they are stale, never new */
	uint64_t floor_ts;
	bool floor_set;
	struct reg_binding regs[SIP_USERS_MAX][SIP_REG_PER_USER];
	struct sip_auth_stats st;
};

/* The user named name, or -1. */
int sip_auth__user_find(const struct sip_auth *a, struct sy_str name);

#endif
