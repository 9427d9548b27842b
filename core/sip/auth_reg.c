/* auth_reg.c: the registrar (RFC 3261 10.3) for digest users: contacts per
 * user in fixed memory (SIP_REG_PER_USER each), an expiry capped at
 * register_max, and the packet's source as the address calls go to (the
 * Contact of a phone behind NAT names an address nobody can reach). */
#include "auth_int.h"

#include <stdio.h>
#include <stdlib.h>

static uint32_t parse_secs(const char *s, uint32_t dflt)
{
	if (s == NULL || *s == '\0')
		return dflt;
	uint64_t v = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (uint64_t)(*s - '0')) > UINT32_MAX)
			return UINT32_MAX;
	return *s == '\0' ? (uint32_t)v : dflt;
}

static void recount(struct sip_auth *a, uint64_t now)
{
	uint64_t n = 0;
	for (uint32_t u = 0; u < a->cfg.user_n; u++)
		for (int i = 0; i < SIP_REG_PER_USER; i++)
			n += a->regs[u][i].contact[0] != '\0' && a->regs[u][i].expires_ns > now;
	a->st.bindings = n;
}

/* Stores (or, expires 0, removes) one contact of user u. */
static bool bind_one(struct sip_auth *a, uint32_t u, const char *uri, uint32_t secs, const struct sy_addr *src,
		     uint64_t now)
{
	struct reg_binding *bs = a->regs[u], *slot = NULL;
	for (int i = 0; i < SIP_REG_PER_USER; i++) {
		bool live = bs[i].contact[0] != '\0' && bs[i].expires_ns > now;
		if (live && strcmp(bs[i].contact, uri) == 0) {
			slot = &bs[i];
			break;
		}
		if (!live && slot == NULL)
			slot = &bs[i];
	}
	if (secs == 0) {
		if (slot != NULL && strcmp(slot->contact, uri) == 0)
			slot->contact[0] = '\0';
		return true;
	}
	if (slot == NULL || strlen(uri) >= sizeof(slot->contact))
		return false;
	snprintf(slot->contact, sizeof(slot->contact), "%s", uri);
	slot->src = *src;
	slot->expires_ns = now + (uint64_t)secs * SY_NS_PER_S;
	slot->updated_ns = now;
	return true;
}

/* The 200's Contact headers: every live binding with what is left of it. */
static size_t list_bindings(const struct sip_auth *a, uint32_t u, uint64_t now, char *hdr, size_t cap)
{
	size_t n = 0;
	for (int i = 0; i < SIP_REG_PER_USER; i++) {
		const struct reg_binding *b = &a->regs[u][i];
		if (b->contact[0] == '\0' || b->expires_ns <= now)
			continue;
		int w = snprintf(hdr + n, cap - n, "Contact: <%s>;expires=%llu\r\n", b->contact,
				 (unsigned long long)((b->expires_ns - now + SY_NS_PER_S - 1) / SY_NS_PER_S));
		if (w < 0 || (size_t)w >= cap - n)
			break;
		n += (size_t)w;
	}
	return n;
}

/* Applies each Contact of the request; false when one did not fit. */
static bool bind_all(struct sip_auth *a, uint32_t u, const struct sip_msg *req, uint32_t dflt,
		     const struct sy_addr *src, uint64_t now)
{
	bool ok = true;
	for (int i = 0; i < osip_list_size(&req->m->contacts); i++) {
		osip_contact_t *ct = osip_list_get(&req->m->contacts, i);
		osip_generic_param_t *ep = NULL;
		char *uri = NULL;
		if (ct == NULL || ct->url == NULL || osip_uri_to_str(ct->url, &uri) != 0)
			continue;
		osip_contact_param_get_byname(ct, "expires", &ep);
		uint32_t secs = SY_MIN(parse_secs(ep != NULL ? ep->gvalue : NULL, dflt), a->cfg.register_max_s);
		ok &= bind_one(a, u, uri, secs, src, now);
		osip_free(uri);
	}
	return ok;
}

int sip_reg_update(struct sip_auth *a, const struct sip_ident *id, const struct sip_msg *req,
		   const struct sy_addr *src, char *hdr, size_t cap, size_t *hdr_len)
{
	*hdr_len = 0;
	const osip_to_t *to = req->m->to;
	if (id->kind != SIP_IDENT_USER || to == NULL || to->url == NULL || to->url->username == NULL ||
	    strcmp(to->url->username, id->name) != 0)
		return 403; /* a user registers its own address of record only */
	uint64_t now = sy_env_now_ns(a->env);
	osip_header_t *eh = NULL;
	osip_message_get_expires(req->m, 0, &eh);
	uint32_t dflt = parse_secs(eh != NULL ? eh->hvalue : NULL, 3600);
	const osip_contact_t *c0 = osip_list_get(&req->m->contacts, 0);
	if (c0 != NULL && c0->displayname != NULL && strcmp(c0->displayname, "*") == 0) {
		if (dflt != 0 || osip_list_size(&req->m->contacts) != 1)
			return 400; /* RFC 3261 10.3 step 6: "*" only with Expires: 0 */
		for (int i = 0; i < SIP_REG_PER_USER; i++)
			a->regs[id->idx][i].contact[0] = '\0';
	} else if (!bind_all(a, id->idx, req, dflt, src, now)) {
		a->st.reg_full++;
		recount(a, now);
		return 503;
	}
	a->st.registers++;
	recount(a, now);
	*hdr_len = list_bindings(a, id->idx, now, hdr, cap);
	return 200;
}

bool sip_reg_lookup(struct sip_auth *a, struct sy_str user, struct sy_str *contact, struct sy_addr *dst)
{
	if (a->cfg.user_n == 0 || user.len == 0)
		return false;
	int u = sip_auth__user_find(a, user);
	if (u < 0)
		return false;
	uint64_t now = sy_env_now_ns(a->env);
	const struct reg_binding *best = NULL;
	for (int i = 0; i < SIP_REG_PER_USER; i++) {
		const struct reg_binding *b = &a->regs[u][i];
		if (b->contact[0] != '\0' && b->expires_ns > now && (best == NULL || b->updated_ns > best->updated_ns))
			best = b;
	}
	if (best == NULL)
		return false;
	*contact = sy_str_from(best->contact);
	*dst = best->src;
	a->st.reg_routed++;
	return true;
}
