/* net.h: an address or a network, as [trunk] address and [node]
 * pike_exempt write them ("10.0.2.1", "192.0.2.0/24", "10.1.1.1:5070",
 * "[2001:db8::]/32", "[2001:db8::1]:5070"), and whether a source is in it.
 * One type and one parser for every list of sources in the config. */
#ifndef SY_SIP_NET_H
#define SY_SIP_NET_H

#include "core/env.h"

/* addr with its first bits significant; a port of 0 matches any port. */
struct sip_net {
	struct sy_addr addr;
	uint8_t bits;
};

/* SY_ERR_INVAL for anything else than the forms above (bits beyond the
 * family's width, a bad address, an empty token). */
enum sy_rc sip_net_parse(struct sy_str s, struct sip_net *out);
bool sip_net_has(const struct sip_net *n, const struct sy_addr *a);

#endif
