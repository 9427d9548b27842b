/* net.c: see net.h. */
#include "core/sip/net.h"

#include <string.h>

enum sy_rc sip_net_parse(struct sy_str s, struct sip_net *out)
{
	char host[SY_ADDR_STRLEN];
	const char *slash = memchr(s.p, '/', s.len);
	size_t hl = slash != NULL ? (size_t)(slash - s.p) : s.len;
	const char *h = s.p;
	if (slash != NULL && hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { /* "[2001:db8::]/32" */
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return SY_ERR_INVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	struct sy_addr a;
	if (sy_addr_parse(host, 0, &a) != SY_OK)
		return SY_ERR_INVAL;
	unsigned max = a.family == SY_AF_INET6 ? 128 : 32, bits = max;
	if (slash != NULL) {
		const char *p = slash + 1, *end = s.p + s.len;
		if (p == end || end - p > 3)
			return SY_ERR_INVAL;
		for (bits = 0; p < end; p++) {
			if (*p < '0' || *p > '9')
				return SY_ERR_INVAL;
			bits = bits * 10 + (unsigned)(*p - '0');
		}
		if (bits > max)
			return SY_ERR_INVAL;
	}
	*out = (struct sip_net){.addr = a, .bits = (uint8_t)bits};
	return SY_OK;
}

bool sip_net_has(const struct sip_net *n, const struct sy_addr *a)
{
	if (n->addr.family != a->family || (n->addr.port != 0 && n->addr.port != a->port))
		return false;
	unsigned full = n->bits / 8, rest = n->bits % 8;
	if (memcmp(n->addr.ip, a->ip, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (n->addr.ip[full] & mask) == (a->ip[full] & mask);
}
