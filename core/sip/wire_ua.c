/* wire_ua.c: the user-agent side of the SIP text layer, for the peers (test
 * equipment that must cost far less than the switch, like SIPp's templates):
 * a whole-datagram scan on the same line scanner as the switch's
 * (sip_raw_scan), and builders through the same bounded writer. Unlike the
 * switch's raw reads, which follow osip's validation, this scan is the only
 * check a peer makes, so it is strict: any byte string is safe input. */
#include "core/sip/wire.h"

#include "core/sip/msg.h"

static struct sy_str sub(struct sy_str s, size_t from, size_t to)
{
	return (struct sy_str){s.p + from, to - from};
}

static bool parse_u32(struct sy_str s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (s.len == 0 || s.len > 10)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Splits a comma list into out[]; false if more than max or an empty item. */
static bool split_list(struct sy_str v, struct sy_str *out, size_t *n, size_t max)
{
	size_t pos = 0;
	struct sy_str item;
	while (sip_raw_list_next(v, &pos, &item)) {
		if (item.len == 0 || *n >= max)
			return false;
		out[(*n)++] = item;
	}
	return true;
}

static enum sy_rc parse_start(struct sy_str line, struct sip_ua_msg *m)
{
	size_t sp1 = 0, sp2;
	while (sp1 < line.len && line.p[sp1] != ' ')
		sp1++;
	if (sp1 == 0 || sp1 >= line.len)
		return SY_ERR_PARSE;
	sp2 = sp1 + 1;
	while (sp2 < line.len && line.p[sp2] != ' ')
		sp2++;
	struct sy_str first = sub(line, 0, sp1), second = sub(line, sp1 + 1, sp2);
	if (sy_str_ieq(first, SY_STR("SIP/2.0"))) {
		uint32_t code;
		if (second.len != 3 || !parse_u32(second, 699, &code) || code < 100)
			return SY_ERR_PARSE;
		m->status = (int)code;
		m->reason = sp2 < line.len ? sub(line, sp2 + 1, line.len) : SY_STR_NULL;
		return SY_OK;
	}
	if (sp2 >= line.len || second.len == 0 || !sy_str_ieq(sub(line, sp2 + 1, line.len), SY_STR("SIP/2.0")))
		return SY_ERR_PARSE;
	for (size_t i = 0; i < first.len; i++)
		if (first.p[i] <= ' ' || first.p[i] > '~')
			return SY_ERR_PARSE;
	m->is_request = true;
	m->method = first;
	m->ruri = second;
	return SY_OK;
}

static enum sy_rc parse_cseq(struct sy_str v, struct sip_ua_msg *m)
{
	size_t i = 0;
	while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9')
		i++;
	if (!parse_u32(sub(v, 0, i), 0x7fffffffu, &m->cseq))
		return SY_ERR_PARSE;
	struct sy_str rest = sub(v, i, v.len);
	size_t k = 0;
	while (k < rest.len && (rest.p[k] == ' ' || rest.p[k] == '\t' || rest.p[k] == '\r' || rest.p[k] == '\n'))
		k++;
	m->cseq_method = sub(rest, k, rest.len); /* the value is trimmed at its end */
	return (k > 0 && m->cseq_method.len > 0) ? SY_OK : SY_ERR_PARSE;
}

static enum sy_rc on_header(const struct sip_raw_hdr *h, struct sip_ua_msg *m)
{
	struct sy_str v = h->value;
	switch (h->id) {
	case SIP_H_VIA:
		return split_list(v, m->via, &m->via_n, SIP_UA_VIA_MAX) ? SY_OK : SY_ERR_PARSE;
	case SIP_H_RECORD_ROUTE:
		return split_list(v, m->rr, &m->rr_n, SIP_UA_RR_MAX) ? SY_OK : SY_ERR_PARSE;
	case SIP_H_CSEQ:
		return m->cseq_method.len == 0 ? parse_cseq(v, m) : SY_OK;
	case SIP_H_FROM:
		if (m->from.len == 0) {
			m->from = v;
			m->from_tag = sip_raw_tag(v);
		}
		return SY_OK;
	case SIP_H_TO:
		if (m->to.len == 0) {
			m->to = v;
			m->to_tag = sip_raw_tag(v);
		}
		return SY_OK;
	case SIP_H_CALL_ID:
		if (m->call_id.len == 0)
			m->call_id = v;
		return SY_OK;
	case SIP_H_CONTACT:
		if (m->contact_uri.len == 0) {
			size_t pos = 0;
			struct sy_str first = SY_STR_NULL;
			sip_raw_list_next(v, &pos, &first);
			m->contact_uri = sip_raw_uri_of(first);
		}
		return SY_OK;
	case SIP_H_CONTENT_LENGTH: {
		uint32_t cl;
		if (!parse_u32(v, 0x7fffffffu, &cl))
			return SY_ERR_PARSE;
		m->has_content_length = true;
		m->content_length = cl;
		return SY_OK;
	}
	default:
		return SY_OK;
	}
}

/* Every header up to the blank line; *body is where the body starts. A
 * line that is not a header, or no blank line, is malformed. */
static enum sy_rc parse_headers(struct sy_str msg, struct sip_ua_msg *m, size_t *body)
{
	struct sip_raw_hdr h;
	size_t pos = sip_raw_headers_at(msg);
	for (;;) {
		switch (sip_raw_scan(msg, &pos, &h)) {
		case SIP_RAW_END:
			*body = pos;
			return SY_OK;
		case SIP_RAW_EOF:
		case SIP_RAW_NOCOLON:
			return SY_ERR_PARSE;
		case SIP_RAW_HDR:
			if (h.name.len == 0 || on_header(&h, m) != SY_OK)
				return SY_ERR_PARSE;
			break;
		}
	}
}

enum sy_rc sip_ua_parse(const char *p, size_t len, struct sip_ua_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (p == NULL || len == 0)
		return SY_ERR_PARSE;
	const char *nl = memchr(p, '\n', len);
	if (nl == NULL)
		return SY_ERR_PARSE;
	struct sy_str msg = {p, len}, start = {p, (size_t)(nl - p)};
	if (start.len > 0 && start.p[start.len - 1] == '\r')
		start.len--;
	size_t body;
	if (parse_start(start, m) != SY_OK || parse_headers(msg, m, &body) != SY_OK)
		return SY_ERR_PARSE;
	if (m->via_n == 0 || m->from.len == 0 || m->to.len == 0 || m->call_id.len == 0 || m->cseq_method.len == 0)
		return SY_ERR_PARSE;
	size_t rest = len - body;
	if (m->has_content_length) {
		if (m->content_length > rest)
			return SY_ERR_PARSE; /* truncated datagram */
		rest = m->content_length;
	}
	m->body = (struct sy_str){rest ? p + body : NULL, rest};
	m->branch = sip_raw_via_branch(m->via[0]);
	return SY_OK;
}

/* ---- builders ---- */

static void w_hdr(struct sip_wbuf *w, const char *name, struct sy_str v)
{
	sip_w_cstr(w, name);
	sip_w_str(w, v);
	sip_w_lit(w, "\r\n");
}

static void w_tagged(struct sip_wbuf *w, const char *name, struct sy_str v, struct sy_str tag)
{
	sip_w_cstr(w, name);
	sip_w_str(w, v);
	if (tag.len) {
		sip_w_lit(w, ";tag=");
		sip_w_str(w, tag);
	}
	sip_w_lit(w, "\r\n");
}

static void w_cseq(struct sip_wbuf *w, uint32_t n, struct sy_str method)
{
	sip_w_lit(w, "CSeq: ");
	sip_w_u64(w, n);
	sip_w_lit(w, " ");
	sip_w_str(w, method);
	sip_w_lit(w, "\r\n");
}

static void w_tail(struct sip_wbuf *w, struct sy_str contact, struct sy_str ctype, struct sy_str body)
{
	if (contact.len) {
		sip_w_lit(w, "Contact: <");
		sip_w_str(w, contact);
		sip_w_lit(w, ">\r\n");
	}
	if (body.len)
		w_hdr(w, "Content-Type: ", ctype.len ? ctype : SY_STR("application/sdp"));
	sip_w_lit(w, "Content-Length: ");
	sip_w_u64(w, body.len);
	sip_w_lit(w, "\r\n\r\n");
	sip_w_str(w, body);
}

static enum sy_rc finish(const struct sip_wbuf *w, size_t *out_len)
{
	*out_len = w->over ? 0 : w->len;
	return w->over ? SY_ERR_FULL : SY_OK;
}

enum sy_rc sip_ua_request(const struct sip_ua_req *r, char *buf, size_t cap, size_t *out_len)
{
	*out_len = 0;
	if (r->method.len == 0 || r->ruri.len == 0 || r->via_host.len == 0 || r->branch.len < 7 ||
	    memcmp(r->branch.p, "z9hG4bK", 7) != 0 || r->from.len == 0 || r->to.len == 0 || r->call_id.len == 0)
		return SY_ERR_INVAL;
	struct sip_wbuf w;
	sip_w_init(&w, buf, cap);
	sip_w_str(&w, r->method);
	sip_w_lit(&w, " ");
	sip_w_str(&w, r->ruri);
	sip_w_lit(&w, " SIP/2.0\r\nVia: SIP/2.0/UDP ");
	sip_w_str(&w, r->via_host);
	sip_w_lit(&w, ";rport;branch=");
	sip_w_str(&w, r->branch);
	sip_w_lit(&w, "\r\n");
	for (size_t i = 0; i < r->route_n; i++)
		w_hdr(&w, "Route: ", r->route[i]);
	sip_w_lit(&w, "Max-Forwards: 70\r\n");
	w_tagged(&w, "From: ", r->from, r->from_tag);
	w_tagged(&w, "To: ", r->to, r->to_tag);
	w_hdr(&w, "Call-ID: ", r->call_id);
	w_cseq(&w, r->cseq, r->cseq_method.len ? r->cseq_method : r->method);
	w_tail(&w, r->contact, r->content_type, r->body);
	return finish(&w, out_len);
}

enum sy_rc sip_ua_response(const struct sip_ua_resp *r, char *buf, size_t cap, size_t *out_len)
{
	*out_len = 0;
	if (r->status < 100 || r->status > 699 || r->via_n == 0 || r->from.len == 0 || r->to.len == 0 ||
	    r->call_id.len == 0 || r->cseq_method.len == 0)
		return SY_ERR_INVAL;
	struct sip_wbuf w;
	sip_w_init(&w, buf, cap);
	sip_w_lit(&w, "SIP/2.0 ");
	sip_w_u64(&w, (uint64_t)r->status);
	sip_w_lit(&w, " ");
	sip_w_str(&w, r->reason.len ? r->reason : sy_str_from(sip_reason_phrase(r->status)));
	sip_w_lit(&w, "\r\n");
	for (size_t i = 0; i < r->via_n; i++)
		w_hdr(&w, "Via: ", r->via[i]);
	for (size_t i = 0; i < r->rr_n; i++)
		w_hdr(&w, "Record-Route: ", r->rr[i]);
	w_hdr(&w, "From: ", r->from);
	w_tagged(&w, "To: ", r->to, sip_raw_tag(r->to).len > 0 ? SY_STR_NULL : r->to_tag);
	w_hdr(&w, "Call-ID: ", r->call_id);
	w_cseq(&w, r->cseq, r->cseq_method);
	w_tail(&w, r->contact, r->content_type, r->body);
	return finish(&w, out_len);
}

void sip_ua_resp_from_msg(struct sip_ua_resp *r, const struct sip_ua_msg *m, int status)
{
	*r = (struct sip_ua_resp){
	    .status = status,
	    .via = m->via,
	    .via_n = m->via_n,
	    .from = m->from,
	    .to = m->to,
	    .call_id = m->call_id,
	    .cseq = m->cseq,
	    .cseq_method = m->cseq_method,
	};
}

static void w_sdp_addr(struct sip_wbuf *w, const char *af, const char *ip)
{
	sip_w_lit(w, "IN ");
	sip_w_cstr(w, af);
	sip_w_lit(w, " ");
	sip_w_cstr(w, ip);
	sip_w_lit(w, "\r\n");
}

size_t sip_ua_sdp(char *buf, size_t cap, const char *ip, bool ipv6, uint16_t port, uint64_t sess_id)
{
	const char *af = ipv6 ? "IP6" : "IP4";
	struct sip_wbuf w;
	sip_w_init(&w, buf, cap);
	sip_w_lit(&w, "v=0\r\no=- ");
	sip_w_u64(&w, sess_id);
	sip_w_lit(&w, " ");
	sip_w_u64(&w, sess_id);
	sip_w_lit(&w, " ");
	w_sdp_addr(&w, af, ip);
	sip_w_lit(&w, "s=-\r\nc=");
	w_sdp_addr(&w, af, ip);
	sip_w_lit(&w, "t=0 0\r\nm=audio ");
	sip_w_u64(&w, port);
	sip_w_lit(&w, " RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
		      "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n");
	/* snprintf's contract, which the peers were written against: the text
	 * and its NUL must fit, else 0. */
	if (w.over || w.len >= cap)
		return 0;
	buf[w.len] = '\0';
	return w.len;
}

bool sip_ua_cid_parse(struct sy_str cid, const char *name, uint64_t *n_out, uint64_t *slot_out)
{
	uint64_t n = 0, s = 0;
	size_t i = 0, name_len = strlen(name);
	for (; i < cid.len && cid.p[i] >= '0' && cid.p[i] <= '9' && n < UINT64_MAX / 10; i++)
		n = n * 10 + (uint64_t)(cid.p[i] - '0');
	if (i == 0 || i >= cid.len || cid.p[i++] != '-')
		return false;
	size_t j = i;
	for (; i < cid.len && cid.p[i] >= '0' && cid.p[i] <= '9' && s < UINT32_MAX; i++)
		s = s * 10 + (uint64_t)(cid.p[i] - '0');
	if (i == j || cid.len - i != name_len + 1 || cid.p[i] != '@' || memcmp(cid.p + i + 1, name, name_len) != 0)
		return false;
	*n_out = n;
	*slot_out = s;
	return true;
}
