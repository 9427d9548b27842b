/* b2bua_msg.c: building each leg's messages from the compact dialog state a
 * call keeps (RFC 3261 12.2.1.1 for in-dialog requests, 13.2.2.4 for the ACK
 * of a 2xx), and storing that state from the messages that set it up. */
#include "b2bua_int.h"

#include <stdio.h>
#include <stdlib.h>

bool call_put(struct call *c, struct cstr *dst, const char *p, size_t len)
{
	if (len > (size_t)CALL_BUF - c->used)
		return false;
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

/* A token unique on this node and across restarts: a call counter plus 64
 * bits from the B2BUA's own random stream (seeded: deterministic in sim). */
void b2b_token(struct b2bua *b, const char *prefix, char *out, size_t n)
{
	snprintf(out, n, "%s%llx%016llx", prefix, (unsigned long long)b->call_seq,
		 (unsigned long long)sy_rng_next(&b->rng));
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

static bool put_osip_str(struct call *c, struct cstr *dst, char *s)
{
	bool ok = s != NULL && call_put(c, dst, s, strlen(s));
	osip_free(s);
	return ok;
}

/* Keeps what the A-leg dialog needs: Call-ID, From, To (without our tag),
 * the caller's Contact (remote target) and both numbers. */
enum sy_rc b2b_store_a(struct call *c, const struct sip_msg *inv)
{
	osip_message_t *m = inv->m;
	char *s = NULL;
	char num[64];
	if (!call_put(c, &c->a_call_id, inv->call_id.p, inv->call_id.len))
		return SY_ERR_INVAL;
	if (osip_from_to_str(m->from, &s) != 0 || !put_osip_str(c, &c->a_from, s))
		return SY_ERR_INVAL;
	s = NULL;
	if (osip_to_to_str(m->to, &s) != 0 || !put_osip_str(c, &c->a_to, s))
		return SY_ERR_INVAL;
	osip_contact_t *ct = NULL;
	if (osip_message_get_contact(m, 0, &ct) >= 0 && ct != NULL && ct->url != NULL) {
		s = NULL;
		if (osip_uri_to_str(ct->url, &s) != 0 || !put_osip_str(c, &c->a_contact, s))
			return SY_ERR_INVAL;
	} else {
		s = NULL;
		if (osip_uri_to_str(m->req_uri, &s) != 0 || !put_osip_str(c, &c->a_contact, s))
			return SY_ERR_INVAL;
	}
	b2b_number(m->req_uri, num, sizeof(num));
	if (!call_put(c, &c->callee, num, strlen(num)))
		return SY_ERR_INVAL;
	b2b_number(m->from != NULL ? m->from->url : NULL, num, sizeof(num));
	if (!call_put(c, &c->caller, num, strlen(num)))
		return SY_ERR_INVAL;
	return SY_OK;
}

/* On the carrier's 2xx: the B dialog's To (with its tag), remote target
 * (Contact) and route set (Record-Route reversed, RFC 3261 12.1.2). */
enum sy_rc b2b_store_b_dialog(struct call *c, const struct sip_msg *resp)
{
	osip_message_t *m = resp->m;
	char *s = NULL;
	if (osip_to_to_str(m->to, &s) != 0 || !put_osip_str(c, &c->b_to, s))
		return SY_ERR_INVAL;
	osip_contact_t *ct = NULL;
	if (osip_message_get_contact(m, 0, &ct) >= 0 && ct != NULL && ct->url != NULL) {
		s = NULL;
		if (osip_uri_to_str(ct->url, &s) != 0 || !put_osip_str(c, &c->b_target, s))
			return SY_ERR_INVAL;
	}
	char routes[512];
	size_t rl = 0;
	int n = osip_list_size(&m->record_routes);
	for (int i = n - 1; i >= 0; i--) {
		osip_record_route_t *rr = osip_list_get(&m->record_routes, i);
		s = NULL;
		if (rr == NULL || osip_record_route_to_str(rr, &s) != 0)
			continue;
		int w = snprintf(routes + rl, sizeof(routes) - rl, "%s%s", rl ? "\n" : "", s);
		osip_free(s);
		if (w < 0 || (size_t)w >= sizeof(routes) - rl)
			return SY_ERR_INVAL;
		rl += (size_t)w;
	}
	if (rl > 0 && !call_put(c, &c->b_routes, routes, rl))
		return SY_ERR_INVAL;
	return SY_OK;
}

/* A request with the mandatory headers (RFC 3261 8.1.1) except Via, which
 * the sender pushes with its branch. routes: "\n"-separated Route values. */
osip_message_t *b2b_request_new(const char *method, const char *ruri, const char *from, const char *to,
				const char *call_id, uint32_t cseq, const char *routes, int max_forwards)
{
	osip_message_t *m = NULL;
	osip_uri_t *u = NULL;
	char buf[64];
	if (osip_message_init(&m) != 0)
		return NULL;
	osip_message_set_method(m, osip_strdup(method));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	if (osip_uri_init(&u) != 0 || osip_uri_parse(u, ruri) != 0)
		goto out_free;
	osip_message_set_uri(m, u);
	u = NULL;
	if (osip_message_set_from(m, from) != 0 || osip_message_set_to(m, to) != 0 ||
	    osip_message_set_call_id(m, call_id) != 0)
		goto out_free;
	snprintf(buf, sizeof(buf), "%u %s", cseq, method);
	osip_message_set_cseq(m, buf);
	snprintf(buf, sizeof(buf), "%d", max_forwards);
	osip_message_set_max_forwards(m, buf);
	if (routes != NULL && routes[0] != '\0') {
		char tmp[512];
		snprintf(tmp, sizeof(tmp), "%s", routes);
		for (char *save = NULL, *r = strtok_r(tmp, "\n", &save); r; r = strtok_r(NULL, "\n", &save))
			osip_message_set_route(m, r);
	}
	return m;
out_free:
	if (u != NULL)
		osip_uri_free(u);
	osip_message_free(m);
	return NULL;
}

static void copy_body(osip_message_t *dst, const osip_message_t *src)
{
	osip_body_t *body = NULL;
	if (src == NULL || osip_message_get_body(src, 0, &body) < 0 || body == NULL || body->body == NULL)
		return;
	osip_message_set_body(dst, body->body, body->length);
	char *ct = NULL;
	if (src->content_type != NULL && osip_content_type_to_str(src->content_type, &ct) == 0) {
		osip_message_set_content_type(dst, ct);
		osip_free(ct);
	}
}

static void set_content_length(osip_message_t *m)
{
	osip_body_t *body = NULL;
	char buf[24];
	size_t len = 0;
	if (osip_message_get_body(m, 0, &body) >= 0 && body != NULL)
		len = body->length;
	snprintf(buf, sizeof(buf), "%zu", len);
	if (m->content_length != NULL) {
		osip_content_length_free(m->content_length);
		m->content_length = NULL;
	}
	osip_message_set_content_length(m, buf);
}

/* Our INVITE to the carrier: a fresh dialog (own Call-ID and From tag),
 * Request-URI sip:CALLEE@carrier, the caller's number in From, the caller's
 * SDP offer, and Max-Forwards one less than received. */
enum sy_rc b2b_b_invite(struct b2bua *b, struct call *c, const osip_message_t *a_inv, osip_message_t **out)
{
	const struct b2bua_carrier *car = &b->cfg.carriers[c->carrier];
	char callee[64], caller[64], host[64], ruri[160], from[200], to[160], cid[96], tag[48];
	call_cstr(c, c->callee, callee, sizeof(callee));
	call_cstr(c, c->caller, caller, sizeof(caller));
	sy_addr_fmt(&car->addr, host, sizeof(host));
	snprintf(ruri, sizeof(ruri), "sip:%s@%s", callee, host);
	b2b_token(b, "b", tag, sizeof(tag));
	snprintf(from, sizeof(from), "<sip:%s@%s>;tag=%s", caller[0] ? caller : "anonymous", b->host, tag);
	snprintf(to, sizeof(to), "<sip:%s@%s>", callee, host);
	b2b_token(b, "", cid, sizeof(cid));
	size_t cl = strlen(cid);
	snprintf(cid + cl, sizeof(cid) - cl, "@%s", b->host);
	c->b_cseq = 1;
	c->b_invite_cseq = 1;
	c->b_from.len = c->b_to.len = c->b_target.len = c->b_routes.len = 0;
	if (!call_put(c, &c->b_call_id, cid, strlen(cid)) || !call_put(c, &c->b_from, from, strlen(from)) ||
	    !call_put(c, &c->b_to, to, strlen(to)) || !call_put(c, &c->b_target, ruri, strlen(ruri)))
		return SY_ERR_INVAL;
	osip_message_t *m = b2b_request_new("INVITE", ruri, from, to, cid, 1, NULL, c->max_forwards);
	if (m == NULL)
		return SY_ERR_INVAL;
	osip_message_set_contact(m, b->contact);
	osip_message_set_allow(m, "INVITE, ACK, CANCEL, BYE, OPTIONS");
	copy_body(m, a_inv);
	set_content_length(m);
	*out = m;
	return SY_OK;
}

/* An in-dialog request on the B leg: BYE, or the ACK of the 2xx (whose CSeq
 * number is the INVITE's). */
enum sy_rc b2b_b_indialog(struct b2bua *b, struct call *c, const char *method, uint32_t cseq, osip_message_t **out)
{
	char ruri[256], from[256], to[256], cid[160], routes[512];
	call_cstr(c, c->b_target, ruri, sizeof(ruri));
	call_cstr(c, c->b_from, from, sizeof(from));
	call_cstr(c, c->b_to, to, sizeof(to));
	call_cstr(c, c->b_call_id, cid, sizeof(cid));
	call_cstr(c, c->b_routes, routes, sizeof(routes));
	osip_message_t *m = b2b_request_new(method, ruri, from, to, cid, cseq, routes, 70);
	if (m == NULL)
		return SY_ERR_INVAL;
	osip_message_set_content_length(m, "0");
	*out = m;
	(void)b;
	return SY_OK;
}

/* Our BYE to the caller: From is A's To with our tag, To is A's From. */
enum sy_rc b2b_a_bye(struct b2bua *b, struct call *c, osip_message_t **out)
{
	char ruri[256], from[320], to[256], cid[160], tag[48];
	call_cstr(c, c->a_contact, ruri, sizeof(ruri));
	call_cstr(c, c->a_to, from, sizeof(from));
	call_cstr(c, c->a_tag, tag, sizeof(tag));
	size_t fl = strlen(from);
	snprintf(from + fl, sizeof(from) - fl, ";tag=%s", tag);
	call_cstr(c, c->a_from, to, sizeof(to));
	call_cstr(c, c->a_call_id, cid, sizeof(cid));
	osip_message_t *m = b2b_request_new("BYE", ruri, from, to, cid, ++c->a_cseq, NULL, 70);
	if (m == NULL)
		return SY_ERR_INVAL;
	osip_message_set_content_length(m, "0");
	*out = m;
	(void)b;
	return SY_OK;
}

/* A response on the A leg, carrying our To tag and Contact, and the body of
 * body_from (the carrier's 183/200 SDP) when given. */
enum sy_rc b2b_a_response(struct b2bua *b, struct call *c, int code, const char *reason,
			  const osip_message_t *body_from, osip_message_t **out)
{
	char tag[48];
	const osip_message_t *req = sip_txn_request(c->a_ist);
	if (req == NULL)
		return SY_ERR_STATE;
	call_cstr(c, c->a_tag, tag, sizeof(tag));
	osip_message_t *m = NULL;
	enum sy_rc rc = sip_response_build(req, code, reason, code > 100 ? tag : NULL, &m);
	if (rc != SY_OK)
		return rc;
	if (code > 100 && code < 300)
		osip_message_set_contact(m, b->contact);
	if (body_from != NULL) {
		copy_body(m, body_from);
		set_content_length(m);
	}
	*out = m;
	return SY_OK;
}
