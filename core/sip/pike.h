/* pike.h: per-source request rate limits in front of the SIP parser
 * (Kamailio's pike module is the anchor). Every request datagram (not a
 * response) from a source counts against a token bucket of `rate` per
 * second and `burst`; a source past it is blocked for `block_ns` and its
 * requests are dropped unparsed and unanswered (an answer would be the
 * amplification it is there to stop). Exempt networks (trunks, carriers)
 * are never counted. Memory and time: core/sec/limit.h. */
#ifndef SY_SIP_PIKE_H
#define SY_SIP_PIKE_H

#include "core/sec/limit.h"
#include "core/sip/net.h"

#define SIP_PIKE_EXEMPT_MAX   32
#define SIP_PIKE_RATE_DEFAULT 200
#define SIP_PIKE_BURST_DEFAULT 400
#define SIP_PIKE_BLOCK_DEFAULT (60 * SY_NS_PER_S)

/* An address prefix: "192.0.2.0/24", "10.0.0.1" (a /32), "[2001:db8::]/32". */
struct sip_pike_cfg {
	bool off;	   /* [node] pike = off */
	uint32_t rate;	   /* requests per second per source; 0 = SIP_PIKE_RATE_DEFAULT */
	uint32_t burst;	   /* 0 = SIP_PIKE_BURST_DEFAULT (or 2 x rate when rate is set) */
	uint64_t block_ns; /* 0 = SIP_PIKE_BLOCK_DEFAULT */
	uint32_t slots;	   /* sources tracked; 0 = 65536 */
	struct sip_net exempt[SIP_PIKE_EXEMPT_MAX];
	uint32_t exempt_n;
};

struct sip_pike;

/* NULL in *out when cfg->off. */
enum sy_rc sip_pike_create(const struct sy_env *env, const struct sip_pike_cfg *cfg, struct sip_pike **out);
void sip_pike_destroy(struct sip_pike *p);
/* Exempts one more network (the switch adds its carriers' addresses,
 * each with its port: a carrier on a shared host exempts no one else). */
void sip_pike_exempt(struct sip_pike *p, const struct sip_net *n);
/* Sources the callback vouches for pass uncounted, like exempt ones: the
 * switch trusts its [trunk]s (contracted peers, whose rates are a matter
 * of their contract, not of flood protection); checked after the exempt
 * list, before the source's bucket. */
void sip_pike_trust(struct sip_pike *p, bool (*trusted)(void *arg, const struct sy_addr *from), void *arg);
/* One datagram from `from`: true when it may be parsed. Responses and
 * exempt sources always pass; a request counts against its source. */
bool sip_pike_pass(struct sip_pike *p, const struct sy_addr *from, const uint8_t *buf, size_t len);
const struct sy_srclimit_stats *sip_pike_stats(const struct sip_pike *p);

/* "10.0.0.0/8", "192.0.2.7", "::1", "[2001:db8::]/32" -> out. */

#endif
