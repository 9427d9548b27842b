/* auth.h: who sent a new out-of-dialog SIP request, and may they use the
 * switch. Default deny: a request is accepted from a trunk (matched by the
 * packet's source address: longest prefix, then a configured port) or from
 * a user who proves a password with HTTP digest (RFC 7616 / RFC 8760:
 * SHA-256 and MD5, qop=auth). Anyone else gets 403, or, with users
 * configured or auth_unknown = challenge, a 407 (401 for REGISTER).
 *
 * Nonces are stateless: time, random bytes and a keyed SHA-256 under a secret from
 * the env's random source, so any nonce the switch issued is checked
 * without a table, and an expired one is answered stale=true. Replays are
 * refused by a bounded table of recent nonces and the highest nc each has
 * used; a nonce pushed out of the table is treated as stale (the client
 * re-challenges), never as new.
 *
 * The registrar keeps, per user, the contacts of REGISTER requests with
 * the packet's source address (users behind NAT), in fixed memory. */
#ifndef SY_SIP_AUTH_H
#define SY_SIP_AUTH_H

#include "core/base.h"
#include "core/env.h"
#include "core/sip/net.h"
#include "msg.h"

#define SIP_TRUNKS_MAX	     64
#define SIP_TRUNK_NETS_MAX   16
#define SIP_USERS_MAX	     256
#define SIP_AUTH_NAME_MAX    32
#define SIP_REALM_MAX	     64
#define SIP_PASSWORD_MAX     96
#define SIP_REG_PER_USER     4   /* contacts kept per user */
#define SIP_REG_CONTACT_MAX  128 /* bytes of a contact URI */
#define SIP_NONCE_SLOTS	     8192 /* recent nonces whose nc is tracked */

enum sip_digest_alg { SIP_ALG_MD5 = 0, SIP_ALG_SHA256 = 1 };

/* [trunk NAME]: a peer recognised by its source address. */
struct sip_trunk_cfg {
	char name[SIP_AUTH_NAME_MAX];
	char account[SIP_AUTH_NAME_MAX]; /* billed account; "" = none */
	struct sip_net nets[SIP_TRUNK_NETS_MAX];
	uint32_t net_n;
};

/* [user NAME]: a digest user; password is clear text or an HA1 for the
 * node's realm ("md5:HEX" or "sha256:HEX"). */
struct sip_user_cfg {
	char name[SIP_AUTH_NAME_MAX];
	char account[SIP_AUTH_NAME_MAX]; /* billed account; "" = none */
	char password[SIP_PASSWORD_MAX];
};

struct sip_access_cfg {
	struct sip_trunk_cfg trunks[SIP_TRUNKS_MAX];
	uint32_t trunk_n;
	struct sip_user_cfg users[SIP_USERS_MAX];
	uint32_t user_n;
	char realm[SIP_REALM_MAX]; /* "" = "switchyard" */
	bool challenge_unknown;	   /* auth_unknown = challenge: 407 instead of 403 */
	uint64_t nonce_ttl_ns;	   /* 0 = 300 s */
	uint32_t register_max_s;   /* 0 = 3600 s */
	/* digest algorithms offered, most preferred first (enum
	 * sip_digest_alg); alg_n 0 = SHA-256 then MD5 (RFC 8760). An answer
	 * with an algorithm not offered is refused (no downgrade). */
	uint8_t algs[2];
	uint8_t alg_n;
};

struct sip_auth_stats {
	uint64_t by_trunk;	 /* requests accepted from a trunk's address */
	uint64_t by_digest;	 /* requests accepted with a valid digest */
	uint64_t challenged;	 /* 401/407 sent (a first challenge or a retry) */
	uint64_t rejected;	 /* 403: unknown source */
	uint64_t bad_credentials; /* a digest that did not verify (unknown user, wrong password) */
	uint64_t stale;		 /* an expired (or forgotten) nonce: stale=true */
	uint64_t replays;	 /* a nonce count used again */
	uint64_t registers;	 /* REGISTER accepted */
	uint64_t bindings;	 /* gauge: registered contacts now */
	uint64_t reg_full;	 /* REGISTER refused: the user's contacts are all taken */
	uint64_t reg_routed;	 /* calls sent to a registered user's contact */
};

enum sip_ident_kind { SIP_IDENT_NONE = 0, SIP_IDENT_TRUNK, SIP_IDENT_USER };

/* Who a request came from, once accepted. */
struct sip_ident {
	enum sip_ident_kind kind;
	uint16_t idx;	     /* into trunks[] or users[] */
	const char *name;    /* the trunk's or user's name */
	const char *account; /* billed account; "" = none */
};

enum sip_auth_verdict {
	SIP_AUTH_OK,	    /* *id is set */
	SIP_AUTH_CHALLENGE, /* answer *status with the headers written to hdr */
	SIP_AUTH_FORBIDDEN, /* answer 403 */
};

struct sip_auth;

/* NULL when out of memory. cfg is copied. */
struct sip_auth *sip_auth_create(const struct sy_env *env, const struct sip_access_cfg *cfg);
void sip_auth_destroy(struct sip_auth *a);
const struct sip_auth_stats *sip_auth_stats(const struct sip_auth *a);

/* The trunk whose networks hold src (longest prefix, a port-specific entry
 * before an any-port one of the same length), or -1. */
int sip_auth_trunk_match(const struct sip_auth *a, const struct sy_addr *src);

/* Decides a new out-of-dialog request from src. On SIP_AUTH_CHALLENGE
 * *status is 401 or 407 and hdr (cap >= 512) holds the challenge headers
 * (CRLF-terminated), *hdr_len their length. */
enum sip_auth_verdict sip_auth_check(struct sip_auth *a, const struct sip_msg *req, const struct sy_addr *src,
				     struct sip_ident *id, int *status, char *hdr, size_t cap, size_t *hdr_len);

/* ---- registrar ---- */

/* A REGISTER from user (already authenticated): updates the user's
 * contacts from the request's Contact headers and Expires (capped at
 * register_max; 0 removes), with src as the contact's address. Returns the
 * status to answer (200, 400, 403, 503) and, for 200, writes the Contact
 * headers of every binding (with expires=) into hdr. */
int sip_reg_update(struct sip_auth *a, const struct sip_ident *id, const struct sip_msg *req,
		   const struct sy_addr *src, char *hdr, size_t cap, size_t *hdr_len);
/* The freshest live contact of the user named user (the Request-URI's
 * user part of a call): its URI and the address to send to. */
bool sip_reg_lookup(struct sip_auth *a, struct sy_str user, struct sy_str *contact, struct sy_addr *dst);

/* ---- digest arithmetic (exposed for the unit tests) ---- */

/* The qop=auth response in lowercase hex (32 or 64 chars + NUL in out). */
void sip_digest_response(enum sip_digest_alg alg, const char *ha1_hex, const char *nonce, const char *nc,
			 const char *cnonce, const char *qop, const char *method, const char *uri, char *out);
/* H(user:realm:password) in lowercase hex. */
void sip_digest_ha1(enum sip_digest_alg alg, const char *user, const char *realm, const char *password, char *out);

#endif
