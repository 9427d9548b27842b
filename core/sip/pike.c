/* pike.c: see pike.h. The check costs a 4-byte compare (responses pass),
 * a scan of the exempt list and one sy_srclimit_hit: tens of ns. */
#include "core/sip/pike.h"

#include <stdlib.h>

/* An exempt network as the hot path wants it: IPv4 as a masked word. */
struct exempt {
	uint32_t net4, mask4; /* IPv4 only */
	uint16_t port;	      /* 0: any */
	uint8_t family;
	struct sip_net n; /* IPv6: sip_net_has */
};

struct sip_pike {
	const struct sy_env *env;
	struct sy_srclimit *lim;
	struct exempt exempt[SIP_PIKE_EXEMPT_MAX * 2];
	uint32_t exempt_n;
	bool (*trusted)(void *arg, const struct sy_addr *from); /* a [trunk]'s source */
	void *trusted_arg;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

enum sy_rc sip_pike_create(const struct sy_env *env, const struct sip_pike_cfg *cfg, struct sip_pike **out)
{
	*out = NULL;
	if (cfg->off)
		return SY_OK;
	struct sip_pike *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return SY_ERR_NOMEM;
	p->env = env;
	struct sy_srclimit_cfg lc = {
	    .rate = cfg->rate ? cfg->rate : SIP_PIKE_RATE_DEFAULT,
	    .burst = cfg->burst ? cfg->burst : (cfg->rate ? 2 * cfg->rate : SIP_PIKE_BURST_DEFAULT),
	    .block_ns = cfg->block_ns ? cfg->block_ns : SIP_PIKE_BLOCK_DEFAULT,
	    .slots = cfg->slots,
	    .seed = sy_env_random_u64(env), /* sources must not choose their slots */
	};
	if (sy_srclimit_create(&lc, &p->lim) != SY_OK) {
		free(p);
		return SY_ERR_NOMEM;
	}
	for (uint32_t i = 0; i < cfg->exempt_n && i < SIP_PIKE_EXEMPT_MAX; i++)
		sip_pike_exempt(p, &cfg->exempt[i]);
	*out = p;
	return SY_OK;
}

void sip_pike_destroy(struct sip_pike *p)
{
	if (p == NULL)
		return;
	sy_srclimit_destroy(p->lim);
	free(p);
}

void sip_pike_exempt(struct sip_pike *p, const struct sip_net *n)
{
	if (p == NULL || p->exempt_n == SY_ARRAY_LEN(p->exempt))
		return;
	uint32_t mask = n->bits == 0 ? 0 : ~0u << (32 - SY_MIN(n->bits, 32));
	p->exempt[p->exempt_n++] = (struct exempt){.net4 = be32(n->addr.ip) & mask,
						    .mask4 = mask,
						    .port = n->addr.port,
						    .family = n->addr.family,
						    .n = *n};
}

bool sip_pike_pass(struct sip_pike *p, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	if (len >= 4 && memcmp(buf, "SIP/", 4) == 0)
		return true; /* a response: it matches our transactions or is dropped */
	uint32_t ip4 = be32(from->ip);
	for (uint32_t i = 0; i < p->exempt_n; i++) {
		const struct exempt *e = &p->exempt[i];
		if (e->family != from->family || (e->port != 0 && e->port != from->port))
			continue;
		if (e->family == SY_AF_INET ? (ip4 & e->mask4) == e->net4 : sip_net_has(&e->n, from))
			return true;
	}
	if (p->trusted != NULL && p->trusted(p->trusted_arg, from))
		return true;
	return sy_srclimit_hit(p->lim, from, sy_env_now_ns(p->env)) == SY_SRC_OK;
}

void sip_pike_trust(struct sip_pike *p, bool (*trusted)(void *arg, const struct sy_addr *from), void *arg)
{
	if (p == NULL)
		return;
	p->trusted = trusted;
	p->trusted_arg = arg;
}

const struct sy_srclimit_stats *sip_pike_stats(const struct sip_pike *p)
{
	return sy_srclimit_stats(p->lim);
}
