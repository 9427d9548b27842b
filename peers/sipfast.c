/* sipfast.c: the peers' SIP scanner and builders. The scanner walks the
 * datagram once, keeping slices; every step checks the end pointer, so any
 * byte string is safe input. Builders append through one bounded writer. */
#include "sipfast.h"

#include <stdio.h>

/* ---- small scanning helpers ---- */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool sipfast_is(struct sy_str s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s.p[i]) != lower(lit[i]))
			return false;
	return true;
}

static struct sy_str trim(struct sy_str s)
{
	while (s.len > 0 && is_ws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && is_ws(s.p[s.len - 1]))
		s.len--;
	return s;
}

static struct sy_str sub(struct sy_str s, size_t from, size_t to)
{
	return (struct sy_str){s.p + from, to - from};
}

/* Index of c in s at top level (outside quotes and <>), or s.len. */
static size_t find_top(struct sy_str s, char c, size_t from)
{
	bool q = false;
	int angle = 0;
	for (size_t i = from; i < s.len; i++) {
		char ch = s.p[i];
		if (q) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				q = false;
		} else if (ch == c && angle == 0) {
			return i;
		} else if (ch == '"') {
			q = true;
		} else if (ch == '<') {
			angle++;
		} else if (ch == '>' && angle > 0) {
			angle--;
		}
	}
	return s.len;
}

/* Value of parameter `name` in ";a=b;name=v;c" (params starts at a ';'). */
static struct sy_str param(struct sy_str params, const char *name)
{
	size_t i = find_top(params, ';', 0);
	while (i < params.len) {
		size_t next = find_top(params, ';', i + 1);
		struct sy_str one = sub(params, i + 1, next);
		size_t eq = find_top(one, '=', 0);
		if (sipfast_is(trim(sub(one, 0, eq)), name))
			return eq < one.len ? trim(sub(one, eq + 1, one.len)) : SY_STR_NULL;
		i = next;
	}
	return SY_STR_NULL;
}

/* The header parameters of a name-addr/addr-spec value: after '>' if there
 * is one, else from the first ';'. */
static struct sy_str addr_params(struct sy_str v)
{
	size_t lt = find_top(v, '<', 0);
	if (lt < v.len) {
		for (size_t i = lt; i < v.len; i++)
			if (v.p[i] == '>')
				return sub(v, i + 1, v.len);
		return SY_STR_NULL;
	}
	return sub(v, find_top(v, ';', 0), v.len);
}

struct sy_str sipfast_uri_of(struct sy_str v)
{
	size_t lt = find_top(v, '<', 0);
	if (lt < v.len) {
		for (size_t i = lt + 1; i < v.len; i++)
			if (v.p[i] == '>')
				return sub(v, lt + 1, i);
		return SY_STR_NULL;
	}
	return trim(sub(v, 0, find_top(v, ';', 0)));
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
	size_t i = 0;
	while (i <= v.len) {
		size_t c = find_top(v, ',', i);
		struct sy_str item = trim(sub(v, i, c));
		if (item.len == 0 || *n >= max)
			return false;
		out[(*n)++] = item;
		i = c + 1;
	}
	return true;
}

/* ---- start line and headers ---- */

static enum sy_rc parse_start(struct sy_str line, struct sipfast_msg *m)
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
	if (sipfast_is(first, "SIP/2.0")) {
		uint32_t code;
		if (second.len != 3 || !parse_u32(second, 699, &code) || code < 100)
			return SY_ERR_PARSE;
		m->status = (int)code;
		m->reason = sp2 < line.len ? sub(line, sp2 + 1, line.len) : SY_STR_NULL;
		return SY_OK;
	}
	if (sp2 >= line.len || second.len == 0 || !sipfast_is(sub(line, sp2 + 1, line.len), "SIP/2.0"))
		return SY_ERR_PARSE;
	for (size_t i = 0; i < first.len; i++)
		if (first.p[i] <= ' ' || first.p[i] > '~')
			return SY_ERR_PARSE;
	m->is_request = true;
	m->method = first;
	m->ruri = second;
	return SY_OK;
}

static bool name_is(struct sy_str n, const char *full, char compact)
{
	return sipfast_is(n, full) || (compact && n.len == 1 && lower(n.p[0]) == compact);
}

static enum sy_rc parse_cseq(struct sy_str v, struct sipfast_msg *m)
{
	size_t i = 0;
	while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9')
		i++;
	if (!parse_u32(sub(v, 0, i), 0x7fffffffu, &m->cseq))
		return SY_ERR_PARSE;
	m->cseq_method = trim(sub(v, i, v.len));
	return (i < v.len && is_ws(v.p[i]) && m->cseq_method.len > 0) ? SY_OK : SY_ERR_PARSE;
}

static enum sy_rc on_header(struct sy_str n, struct sy_str v, struct sipfast_msg *m)
{
	if (name_is(n, "via", 'v'))
		return split_list(v, m->via, &m->via_n, SIPFAST_VIA_MAX) ? SY_OK : SY_ERR_PARSE;
	if (name_is(n, "record-route", 0))
		return split_list(v, m->rr, &m->rr_n, SIPFAST_RR_MAX) ? SY_OK : SY_ERR_PARSE;
	if (name_is(n, "from", 'f') && m->from.len == 0) {
		m->from = v;
		m->from_tag = param(addr_params(v), "tag");
	} else if (name_is(n, "to", 't') && m->to.len == 0) {
		m->to = v;
		m->to_tag = param(addr_params(v), "tag");
	} else if (name_is(n, "call-id", 'i') && m->call_id.len == 0) {
		m->call_id = v;
	} else if (name_is(n, "cseq", 0) && m->cseq_method.len == 0) {
		return parse_cseq(v, m);
	} else if (name_is(n, "contact", 'm') && m->contact_uri.len == 0) {
		size_t c = find_top(v, ',', 0);
		m->contact_uri = sipfast_uri_of(sub(v, 0, c));
	} else if (name_is(n, "content-length", 'l')) {
		uint32_t cl;
		if (!parse_u32(v, 0x7fffffffu, &cl))
			return SY_ERR_PARSE;
		m->has_content_length = true;
		m->content_length = cl;
	}
	return SY_OK;
}

/* The '\n' ending the line at p, or NULL if the buffer ends first. */
static const char *line_end(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

static enum sy_rc parse_headers(const char *p, const char *end, struct sipfast_msg *m, const char **body)
{
	for (;;) {
		const char *nl = line_end(p, end);
		if (nl == NULL)
			return SY_ERR_PARSE; /* no empty line before the end */
		struct sy_str line = {p, (size_t)(nl - p)};
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			line.len--;
		if (line.len == 0) {
			*body = nl + 1;
			return SY_OK;
		}
		/* Fold continuation lines into this header's value. */
		const char *q = nl + 1;
		while (q < end && (*q == ' ' || *q == '\t')) {
			const char *nl2 = line_end(q, end);
			if (nl2 == NULL)
				return SY_ERR_PARSE;
			nl = nl2;
			q = nl + 1;
		}
		struct sy_str whole = {p, (size_t)(nl - p)};
		size_t colon = 0;
		while (colon < whole.len && whole.p[colon] != ':')
			colon++;
		struct sy_str name = trim(sub(whole, 0, colon));
		if (colon >= whole.len || name.len == 0)
			return SY_ERR_PARSE;
		enum sy_rc rc = on_header(name, trim(sub(whole, colon + 1, whole.len)), m);
		if (rc != SY_OK)
			return rc;
		p = q;
	}
}

enum sy_rc sipfast_parse(const char *p, size_t len, struct sipfast_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (p == NULL || len == 0)
		return SY_ERR_PARSE;
	const char *end = p + len;
	const char *nl = memchr(p, '\n', len);
	if (nl == NULL)
		return SY_ERR_PARSE;
	struct sy_str start = {p, (size_t)(nl - p)};
	if (start.len > 0 && start.p[start.len - 1] == '\r')
		start.len--;
	if (parse_start(start, m) != SY_OK)
		return SY_ERR_PARSE;
	const char *body;
	if (parse_headers(nl + 1, end, m, &body) != SY_OK)
		return SY_ERR_PARSE;
	if (m->via_n == 0 || m->from.len == 0 || m->to.len == 0 || m->call_id.len == 0 || m->cseq_method.len == 0)
		return SY_ERR_PARSE;
	size_t rest = (size_t)(end - body);
	if (m->has_content_length) {
		if (m->content_length > rest)
			return SY_ERR_PARSE; /* truncated datagram */
		rest = m->content_length;
	}
	m->body = (struct sy_str){rest ? body : NULL, rest};
	size_t sp = find_top(m->via[0], ';', 0);
	m->branch = param(sub(m->via[0], sp, m->via[0].len), "branch");
	return SY_OK;
}

/* ---- builders ---- */

struct wbuf {
	char *p;
	size_t len, cap;
	bool full;
};

static void put(struct wbuf *w, struct sy_str s)
{
	if (w->full || s.len > w->cap - w->len) {
		w->full = true;
		return;
	}
	if (s.len)
		memcpy(w->p + w->len, s.p, s.len);
	w->len += s.len;
}

static void puts_(struct wbuf *w, const char *s)
{
	put(w, sy_str_from(s));
}

static void put_u(struct wbuf *w, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	put(w, (struct sy_str){tmp, (size_t)n});
}

static void put_hdr(struct wbuf *w, const char *name, struct sy_str v)
{
	puts_(w, name);
	put(w, v);
	puts_(w, "\r\n");
}

static void put_tagged(struct wbuf *w, const char *name, struct sy_str v, struct sy_str tag)
{
	puts_(w, name);
	put(w, v);
	if (tag.len) {
		puts_(w, ";tag=");
		put(w, tag);
	}
	puts_(w, "\r\n");
}

static void put_tail(struct wbuf *w, struct sy_str contact, struct sy_str ctype, struct sy_str body)
{
	if (contact.len) {
		puts_(w, "Contact: <");
		put(w, contact);
		puts_(w, ">\r\n");
	}
	if (body.len)
		put_hdr(w, "Content-Type: ", ctype.len ? ctype : SY_STR("application/sdp"));
	puts_(w, "Content-Length: ");
	put_u(w, body.len);
	puts_(w, "\r\n\r\n");
	put(w, body);
}

static enum sy_rc finish(struct wbuf *w, size_t *out_len)
{
	*out_len = w->full ? 0 : w->len;
	return w->full ? SY_ERR_FULL : SY_OK;
}

enum sy_rc sipfast_build_request(const struct sipfast_req *r, char *buf, size_t cap, size_t *out_len)
{
	if (r->method.len == 0 || r->ruri.len == 0 || r->via_host.len == 0 || r->branch.len < 7 ||
	    memcmp(r->branch.p, "z9hG4bK", 7) != 0 || r->from.len == 0 || r->to.len == 0 || r->call_id.len == 0)
		return SY_ERR_INVAL;
	struct wbuf w = {buf, 0, cap, false};
	put(&w, r->method);
	puts_(&w, " ");
	put(&w, r->ruri);
	puts_(&w, " SIP/2.0\r\nVia: SIP/2.0/UDP ");
	put(&w, r->via_host);
	puts_(&w, ";rport;branch=");
	put(&w, r->branch);
	puts_(&w, "\r\n");
	for (size_t i = 0; i < r->route_n; i++)
		put_hdr(&w, "Route: ", r->route[i]);
	puts_(&w, "Max-Forwards: 70\r\n");
	put_tagged(&w, "From: ", r->from, r->from_tag);
	put_tagged(&w, "To: ", r->to, r->to_tag);
	put_hdr(&w, "Call-ID: ", r->call_id);
	puts_(&w, "CSeq: ");
	put_u(&w, r->cseq);
	puts_(&w, " ");
	put(&w, r->cseq_method.len ? r->cseq_method : r->method);
	puts_(&w, "\r\n");
	put_tail(&w, r->contact, r->content_type, r->body);
	return finish(&w, out_len);
}

enum sy_rc sipfast_build_response(const struct sipfast_resp *r, char *buf, size_t cap, size_t *out_len)
{
	if (r->status < 100 || r->status > 699 || r->via_n == 0 || r->from.len == 0 || r->to.len == 0 ||
	    r->call_id.len == 0 || r->cseq_method.len == 0)
		return SY_ERR_INVAL;
	struct wbuf w = {buf, 0, cap, false};
	puts_(&w, "SIP/2.0 ");
	put_u(&w, (uint64_t)r->status);
	puts_(&w, " ");
	put(&w, r->reason.len ? r->reason : sy_str_from(sipfast_reason(r->status)));
	puts_(&w, "\r\n");
	for (size_t i = 0; i < r->via_n; i++)
		put_hdr(&w, "Via: ", r->via[i]);
	for (size_t i = 0; i < r->rr_n; i++)
		put_hdr(&w, "Record-Route: ", r->rr[i]);
	put_hdr(&w, "From: ", r->from);
	bool has_tag = param(addr_params(r->to), "tag").len > 0;
	put_tagged(&w, "To: ", r->to, has_tag ? SY_STR_NULL : r->to_tag);
	put_hdr(&w, "Call-ID: ", r->call_id);
	puts_(&w, "CSeq: ");
	put_u(&w, r->cseq);
	puts_(&w, " ");
	put(&w, r->cseq_method);
	puts_(&w, "\r\n");
	put_tail(&w, r->contact, r->content_type, r->body);
	return finish(&w, out_len);
}

void sipfast_resp_from_msg(struct sipfast_resp *r, const struct sipfast_msg *m, int status)
{
	memset(r, 0, sizeof(*r));
	r->status = status;
	r->via = m->via;
	r->via_n = m->via_n;
	r->from = m->from;
	r->to = m->to;
	r->call_id = m->call_id;
	r->cseq = m->cseq;
	r->cseq_method = m->cseq_method;
}

size_t sipfast_sdp(char *buf, size_t cap, const char *ip, bool ipv6, uint16_t port, uint64_t sess_id)
{
	const char *af = ipv6 ? "IP6" : "IP4";
	int n = snprintf(buf, cap,
			 "v=0\r\no=- %llu %llu IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
			 "m=audio %u RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
			 "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n",
			 (unsigned long long)sess_id, (unsigned long long)sess_id, af, ip, af, ip, (unsigned)port);
	return (n < 0 || (size_t)n >= cap) ? 0 : (size_t)n;
}

const char *sipfast_reason(int status)
{
	switch (status) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 183: return "Session Progress";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 500: return "Server Internal Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 603: return "Decline";
	default: break;
	}
	return status < 200 ? "Progress" : status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error"
	       : status < 600 ? "Server Error" : "Global Failure";
}
