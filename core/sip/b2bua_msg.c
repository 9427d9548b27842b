/* b2bua_msg.c: building each leg's messages from the compact dialog state a
 * call keeps (RFC 3261 12.2.1.1 for in-dialog requests, 13.2.2.4 for the ACK
 * of a 2xx), and storing that state from the messages that set it up. */
#include "b2bua_int.h"

#include <stdlib.h> /* osip_free() is free() */

bool call_put(struct call *c, struct cstr *dst, const char *p, size_t len)
{
	if (len > (size_t)CALL_BUF - c->used)
		return false;
	if (c->buf == c->inl && c->used + len > CALL_BUF_INLINE) {
		char *h = malloc(CALL_BUF);
		if (h == NULL)
			return false;
		memcpy(h, c->inl, c->used);
		c->buf = h;
	}
	if (len > 0) /* an absent value (a From without tag) may be NULL */
		memcpy(c->buf + c->used, p, len);
	dst->off = c->used;
	dst->len = (uint16_t)len;
	c->used = (uint16_t)(c->used + len);
	return true;
}

const char *call_cstr(const struct call *c, struct cstr s, char *tmp, size_t n)
{
	size_t len = SY_MIN((size_t)s.len, n - 1);
	memcpy(tmp, c->buf + s.off, len);
	tmp[len] = '\0';
	return tmp;
}

/* A token unique on this node and across restarts, that nobody off the
 * path can guess (a forged BYE needs the tags): a call counter plus
 * `words` x 64 bits from the env's random() (the OS CSPRNG live; the
 * seed's stream in sim, so runs stay deterministic). Tags take one word,
 * Call-IDs two (RFC 3261 8.1.1.4, 19.3: globally unique, >= 32 bits). */
static void token_words(struct b2bua *b, const char *prefix, unsigned words, char *out, size_t n)
{
	struct sip_wbuf w;
	SY_ASSERT(n >= 24 + 16 * words);
	sip_w_init(&w, out, n - 1);
	sip_w_cstr(&w, prefix);
	sip_w_hex(&w, b->call_seq);
	for (unsigned i = 0; i < words; i++)
		sip_w_hex64(&w, sy_env_random_u64(b->env));
	out[w.over ? 0 : w.len] = '\0';
}

void b2b_token(struct b2bua *b, const char *prefix, char *out, size_t n)
{
	token_words(b, prefix, 1, out, n);
}

void b2b_call_id_token(struct b2bua *b, char *out, size_t n)
{
	token_words(b, "", 2, out, n);
}

/* The digits of a SIP or tel URI's user part: "+1 (415) 555" -> "1415555". */
void b2b_number(const osip_uri_t *u, char *out, size_t n)
{
	const char *s = NULL;
	size_t k = 0;
	if (u != NULL)
		s = u->username != NULL ? u->username : u->string;
	if (s != NULL && strncmp(s, "tel:", 4) == 0)
		s += 4;
	for (; s != NULL && *s != '\0' && *s != ';' && *s != '@' && k + 1 < n; s++)
		if ((*s >= '0' && *s <= '9') || *s == '*' || *s == '#')
			out[k++] = *s;
	out[k] = '\0';
}

/* The Request-URI of a raw request ("INVITE uri SIP/2.0"). */
static struct sy_str raw_request_uri(struct sy_str msg)
{
	struct sy_str l = sip_raw_start_line(msg);
	const char *sp = memchr(l.p, ' ', l.len);
	if (sp == NULL)
		return SY_STR_NULL;
	const char *p = sp + 1, *end = l.p + l.len, *e = p;
	while (e < end && *e != ' ')
		e++;
	return (struct sy_str){p, (size_t)(e - p)};
}

/* Keeps what the A-leg dialog needs: Call-ID, From, our side (To plus our
 * tag), the caller's Contact (remote target) and both numbers. Values are
 * copied from the raw request, so nothing is re-serialized. */
enum sy_rc b2b_store_a(struct call *c, const struct sip_msg *inv, struct sy_str tag)
{
	osip_message_t *m = inv->m;
	struct sy_str from = SY_STR_NULL, to = SY_STR_NULL, contact = SY_STR_NULL;
	char num[64], local[CALL_BUF];
	sip_raw_find(inv->raw, SIP_H_FROM, &from);
	sip_raw_find(inv->raw, SIP_H_TO, &to);
	if (!sip_raw_find(inv->raw, SIP_H_CONTACT, &contact) || (contact = sip_raw_uri_of(contact)).len == 0 ||
	    contact.p[0] == '*')
		contact = raw_request_uri(inv->raw);
	struct sip_wbuf w;
	sip_w_init(&w, local, sizeof(local));
	sip_w_str(&w, to);
	sip_w_lit(&w, ";tag=");
	sip_w_str(&w, tag);
	if (w.over || from.len == 0 || to.len == 0 || contact.len == 0)
		return SY_ERR_INVAL;
	if (!call_put(c, &c->a_call_id, inv->call_id.p, inv->call_id.len) ||
	    !call_put(c, &c->a_from, from.p, from.len) || !call_put(c, &c->a_local, local, w.len) ||
	    !call_put(c, &c->a_tag, tag.p, tag.len) || !call_put(c, &c->a_contact, contact.p, contact.len) ||
	    !call_put(c, &c->a_rtag, inv->from_tag.p, inv->from_tag.len))
		return SY_ERR_INVAL;
	b2b_number(m->req_uri, num, sizeof(num));
	if (!call_put(c, &c->callee, num, strlen(num)))
		return SY_ERR_INVAL;
	b2b_number(m->from != NULL ? m->from->url : NULL, num, sizeof(num));
	if (!call_put(c, &c->caller, num, strlen(num)))
		return SY_ERR_INVAL;
	return SY_OK;
}

/* The route set: Record-Route values in reverse (RFC 3261 12.1.2), kept
 * "\n"-separated. Rare on carrier trunks, so osip's printer is fine here. */
static enum sy_rc store_routes(struct call *c, osip_message_t *m)
{
	char routes[512];
	struct sip_wbuf w;
	sip_w_init(&w, routes, sizeof(routes));
	for (int i = osip_list_size(&m->record_routes) - 1; i >= 0; i--) {
		osip_record_route_t *rr = osip_list_get(&m->record_routes, i);
		char *s = NULL;
		if (rr == NULL || osip_record_route_to_str(rr, &s) != 0)
			continue;
		if (w.len > 0)
			sip_w_lit(&w, "\n");
		sip_w_cstr(&w, s);
		osip_free(s);
	}
	if (w.over)
		return SY_ERR_INVAL;
	if (w.len > 0 && !call_put(c, &c->b_routes, routes, w.len))
		return SY_ERR_INVAL;
	return SY_OK;
}

/* On the carrier's 2xx: the B dialog's To (with its tag), remote target
 * (Contact) and route set. */
enum sy_rc b2b_store_b_dialog(struct call *c, const struct sip_msg *resp)
{
	struct sy_str to = SY_STR_NULL, contact = SY_STR_NULL;
	if (!sip_raw_find(resp->raw, SIP_H_TO, &to) || !call_put(c, &c->b_to, to.p, to.len) ||
	    !call_put(c, &c->b_rtag, resp->to_tag.p, resp->to_tag.len))
		return SY_ERR_INVAL;
	if (sip_raw_find(resp->raw, SIP_H_CONTACT, &contact) && (contact = sip_raw_uri_of(contact)).len > 0 &&
	    !call_put(c, &c->b_target, contact.p, contact.len))
		return SY_ERR_INVAL;
	/* m is NULL when the stack read the response raw: it had no Record-Route */
	if (resp->m != NULL && osip_list_size(&resp->m->record_routes) > 0)
		return store_routes(c, resp->m);
	return SY_OK;
}

/* Splits the stored "\n"-separated route set into rq's Route values. */
static void routes_of(const struct call *c, struct sy_str *out, size_t max, size_t *n)
{
	struct sy_str all = cs(c, c->b_routes);
	*n = 0;
	while (all.len > 0 && *n < max) {
		const char *nl = memchr(all.p, '\n', all.len);
		size_t l = nl != NULL ? (size_t)(nl - all.p) : all.len;
		out[(*n)++] = (struct sy_str){all.p, l};
		all.p += SY_MIN(l + 1, all.len);
		all.len -= SY_MIN(l + 1, all.len);
	}
}

static const char allow[] = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE\r\n";

/* Our INVITE to the carrier: a fresh dialog (own Call-ID and From tag),
 * Request-URI sip:CALLEE@carrier, the caller's number in From, the caller's
 * SDP offer (from the A leg's raw INVITE), and Max-Forwards one less than
 * received. */
enum sy_rc b2b_b_invite(struct b2bua *b, struct call *c, struct sy_str a_inv, const struct sy_addr *dst,
			struct sy_str target, struct sip_request *rq)
{
	char host[SY_ADDR_STRLEN], tag[48], cid[64], tmp[256];
	struct sip_wbuf hw, w;
	sip_w_init(&hw, host, sizeof(host));
	sip_w_addr(&hw, dst);
	struct sy_str callee = cs(c, c->callee), caller = cs(c, c->caller), h = {host, hw.len};
	b2b_token(b, "b", tag, sizeof(tag));
	b2b_call_id_token(b, cid, sizeof(cid));
	c->b_cseq = 1;
	c->b_invite_cseq = 1;
	c->b_from.len = c->b_to.len = c->b_target.len = c->b_routes.len = c->b_rtag.len = 0;
	if (!call_put(c, &c->b_ltag, tag, strlen(tag)))
		return SY_ERR_INVAL;
	/* each value is written to tmp, then kept in the call record */
	sip_w_init(&w, tmp, sizeof(tmp));
	sip_w_cstr(&w, cid);
	sip_w_lit(&w, "@");
	sip_w_cstr(&w, b->host);
	if (w.over || !call_put(c, &c->b_call_id, tmp, w.len))
		return SY_ERR_INVAL;
	sip_w_init(&w, tmp, sizeof(tmp));
	sip_w_lit(&w, "<sip:");
	sip_w_str(&w, caller.len > 0 ? caller : SY_STR("anonymous"));
	sip_w_lit(&w, "@");
	sip_w_cstr(&w, b->host);
	sip_w_lit(&w, ">;tag=");
	sip_w_cstr(&w, tag);
	if (w.over || !call_put(c, &c->b_from, tmp, w.len))
		return SY_ERR_INVAL;
	sip_w_init(&w, tmp, sizeof(tmp));
	if (target.len > 0) { /* a registered user: its contact */
		sip_w_str(&w, target);
	} else {
		sip_w_lit(&w, "sip:");
		sip_w_str(&w, callee);
		sip_w_lit(&w, "@");
		sip_w_str(&w, h);
	}
	if (w.over || !call_put(c, &c->b_target, tmp, w.len))
		return SY_ERR_INVAL;
	sip_w_init(&w, tmp, sizeof(tmp));
	sip_w_lit(&w, "<sip:");
	sip_w_str(&w, callee);
	sip_w_lit(&w, "@");
	sip_w_str(&w, h);
	sip_w_lit(&w, ">");
	if (w.over || !call_put(c, &c->b_to, tmp, w.len))
		return SY_ERR_INVAL;
	*rq = (struct sip_request){
	    .method = "INVITE",
	    .ruri = cs(c, c->b_target),
	    .from = cs(c, c->b_from),
	    .to = cs(c, c->b_to),
	    .call_id = cs(c, c->b_call_id),
	    .cseq = 1,
	    .max_forwards = c->max_forwards,
	    .contact = sy_str_from(b->contact),
	    .extra = SY_STR(allow),
	};
	sip_raw_body(a_inv, &rq->content_type, &rq->body);
	return SY_OK;
}

/* An in-dialog request on the B leg: BYE, or the ACK of the 2xx (whose CSeq
 * number is the INVITE's). routes must hold B2BUA_ROUTES_MAX values. */
void b2b_b_indialog(struct call *c, const char *method, uint32_t cseq, struct sip_request *rq, struct sy_str *routes)
{
	*rq = (struct sip_request){
	    .method = method,
	    .ruri = cs(c, c->b_target),
	    .from = cs(c, c->b_from),
	    .to = cs(c, c->b_to),
	    .call_id = cs(c, c->b_call_id),
	    .cseq = cseq,
	    .max_forwards = 70,
	    .routes = routes,
	};
	routes_of(c, routes, B2BUA_ROUTES_MAX, &rq->route_n);
}

/* Our BYE to the caller: From is A's To with our tag, To is A's From. */
void b2b_a_bye(struct call *c, struct sip_request *rq)
{
	*rq = (struct sip_request){
	    .method = "BYE",
	    .ruri = cs(c, c->a_contact),
	    .from = cs(c, c->a_local),
	    .to = cs(c, c->a_from),
	    .call_id = cs(c, c->a_call_id),
	    .cseq = ++c->a_cseq,
	    .max_forwards = 70,
	};
}
