/* b2bua_dialog.c: which call an in-dialog request belongs to (RFC 3261
 * 12.2.2): the Call-ID finds the candidates, the tags name the dialog (the
 * To tag must be our side's, the From tag the peer's), and the transport
 * source must be the peer the dialog was made with: the caller's address
 * and port for the A leg (a caller behind NAT keeps its binding for the
 * call), the carrier's address for the B leg (its IP: a carrier's SBC may
 * answer from another port of the same host). Anyone who learns a
 * Call-ID can no longer hang up a call (docs/security.md). */
#include "b2bua_int.h"

static bool tags_match(const struct call *c, enum call_leg leg, const struct sip_msg *req)
{
	struct sy_str local = cs(c, leg == LEG_A ? c->a_tag : c->b_ltag);
	struct sy_str remote = cs(c, leg == LEG_A ? c->a_rtag : c->b_rtag);
	if (!sy_str_eq(req->to_tag, local))
		return false;
	/* the carrier's tag is known once it answered; the caller's always */
	return (leg == LEG_B && remote.len == 0) || sy_str_eq(req->from_tag, remote);
}

static bool source_match(const struct call *c, enum call_leg leg, const struct sy_addr *from)
{
	if (leg == LEG_A)
		return sy_addr_eq(from, &c->a_src);
	const struct sy_addr *d = &c->b_dst;
	return from->family == d->family && memcmp(from->ip, d->ip, d->family == SY_AF_INET6 ? 16 : 4) == 0;
}

bool b2bua__from_b_peer(const struct call *c, const struct sy_addr *from)
{
	return from != NULL && source_match(c, LEG_B, from);
}

static struct call *leg_call(struct sy_hnode *n, enum call_leg *leg)
{
	struct leg_node *ln = SY_CONTAINER_OF(n, struct leg_node, h);
	*leg = (enum call_leg)ln->leg;
	return ln->leg == LEG_A ? SY_CONTAINER_OF(ln, struct call, a_node) : SY_CONTAINER_OF(ln, struct call, b_node);
}

struct call *b2bua__dialog_match(struct b2bua *b, const struct sip_msg *req, const struct sy_addr *from,
				 enum call_leg *leg, enum b2bua_refusal *why)
{
	struct sy_hnode *n = sy_htab_find(&b->by_call_id, req->call_id);
	*why = n == NULL ? B2BUA_REFUSED_NO_DIALOG : B2BUA_REFUSED_TAG;
	for (; n != NULL; n = sy_htab_find_next(&b->by_call_id, n)) {
		struct call *c = leg_call(n, leg);
		if (!tags_match(c, *leg, req))
			continue;
		if (source_match(c, *leg, from))
			return c;
		*why = B2BUA_REFUSED_SOURCE;
	}
	b->st.dlg_refused[*why]++;
	return NULL;
}
