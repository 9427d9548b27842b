/* wire.c: the raw SIP writer and header scanner of wire.h, the one SIP text
 * layer of the hot path: the switch writes everything it sends with it, and
 * the peers (wire_ua.c) scan and write every datagram with it.
 *
 * Where libosip2 stays (core/sip/msg.c), and why: every datagram the switch
 * receives is parsed and checked by osip first (sip_msg_parse, called from
 * txn_server.c), because the switch must not trust what it routes and
 * bills: the transaction and dialog keys (branch, Call-ID, tags, CSeq) come
 * from that validated parse; osip's URI parser gives the numbers routing
 * and billing use (b2b_number) and its Record-Route list the route set
 * (b2bua_msg.c). The switch's raw reads here only copy header values out of
 * a message osip accepted, so they can stay simple; they still check every
 * length so no input makes them read past the buffer. */
#include "core/sip/wire.h"

#include "core/sip/msg.h"

#include <osipparser2/osip_port.h>
#include <stdlib.h> /* osip_malloc() is malloc() */
#include <strings.h>

static const char hexdig[] = "0123456789abcdef";

void sip_w_u64(struct sip_wbuf *w, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	sip_w_mem(w, tmp + sizeof(tmp) - n, n);
}

void sip_w_hex64(struct sip_wbuf *w, uint64_t v)
{
	char tmp[16];
	for (int i = 15; i >= 0; i--, v >>= 4)
		tmp[i] = hexdig[v & 15];
	sip_w_mem(w, tmp, sizeof(tmp));
}

void sip_w_hex(struct sip_wbuf *w, uint64_t v)
{
	char tmp[16];
	size_t n = 0;
	do {
		tmp[sizeof(tmp) - 1 - n++] = hexdig[v & 15];
		v >>= 4;
	} while (v != 0);
	sip_w_mem(w, tmp + sizeof(tmp) - n, n);
}

void sip_w_host(struct sip_wbuf *w, const struct sy_addr *a)
{
	if (a->family == SY_AF_INET6) {
		char tmp[SY_ADDR_STRLEN];
		size_t n = sy_addr_fmt_host(a, tmp, sizeof(tmp));
		sip_w_mem(w, tmp, n);
		return;
	}
	for (int i = 0; i < 4; i++) {
		if (i > 0)
			sip_w_lit(w, ".");
		sip_w_u64(w, a->ip[i]);
	}
}

void sip_w_addr(struct sip_wbuf *w, const struct sy_addr *a)
{
	if (a->family == SY_AF_INET6)
		sip_w_lit(w, "[");
	sip_w_host(w, a);
	if (a->family == SY_AF_INET6)
		sip_w_lit(w, "]");
	sip_w_lit(w, ":");
	sip_w_u64(w, a->port);
}

char *sip_w_dup(const struct sip_wbuf *w)
{
	if (w->over)
		return NULL;
	char *p = osip_malloc(w->len + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, w->p, w->len);
	p[w->len] = '\0';
	return p;
}

/* ---- scanner ---- */

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool ieq(struct sy_str a, const char *lit, size_t n)
{
	if (a.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(a.p[i]) != lit[i])
			return false;
	return true;
}

#define IEQ(s, lit) ieq((s), (lit), sizeof(lit) - 1)

static inline enum sip_hdr hdr_id(struct sy_str n)
{
	if (n.len == 0)
		return SIP_H_OTHER;
	/* dispatch on the first letter: one or two comparisons per header */
	switch (lower(n.p[0])) {
	case 'v':
		return n.len == 1 || IEQ(n, "via") ? SIP_H_VIA : SIP_H_OTHER;
	case 'f':
		return n.len == 1 || IEQ(n, "from") ? SIP_H_FROM : SIP_H_OTHER;
	case 't':
		return n.len == 1 || IEQ(n, "to") ? SIP_H_TO : SIP_H_OTHER;
	case 'i':
		return n.len == 1 ? SIP_H_CALL_ID : SIP_H_OTHER;
	case 'm':
		if (n.len == 1)
			return SIP_H_CONTACT;
		return IEQ(n, "max-forwards") ? SIP_H_MAX_FORWARDS : SIP_H_OTHER;
	case 'l':
		return n.len == 1 ? SIP_H_CONTENT_LENGTH : SIP_H_OTHER;
	case 'r':
		if (IEQ(n, "route"))
			return SIP_H_ROUTE;
		return IEQ(n, "record-route") ? SIP_H_RECORD_ROUTE : SIP_H_OTHER;
	case 'c':
		if (n.len == 1)
			return SIP_H_CONTENT_TYPE;
		if (IEQ(n, "call-id"))
			return SIP_H_CALL_ID;
		if (IEQ(n, "cseq"))
			return SIP_H_CSEQ;
		if (IEQ(n, "contact"))
			return SIP_H_CONTACT;
		if (IEQ(n, "content-type"))
			return SIP_H_CONTENT_TYPE;
		return IEQ(n, "content-length") ? SIP_H_CONTENT_LENGTH : SIP_H_OTHER;
	default:
		return SIP_H_OTHER;
	}
}

enum sip_hdr sip_raw_hdr_id(struct sy_str n)
{
	return hdr_id(n);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static struct sy_str trim(const char *p, const char *end)
{
	while (p < end && (is_ws(*p) || *p == '\r' || *p == '\n'))
		p++;
	while (end > p && (is_ws(end[-1]) || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	return (struct sy_str){p, (size_t)(end - p)};
}

/* End of the line starting at i (index after its '\n', or len). The empty
 * message may be {NULL, 0}, and NULL + 0 is undefined: no arithmetic at
 * the end (found by fuzz/sip_msg_fuzz.c under clang's UBSan). */
static size_t line_end(struct sy_str m, size_t i)
{
	if (i >= m.len)
		return m.len;
	const char *nl = memchr(m.p + i, '\n', m.len - i);
	return nl != NULL ? (size_t)(nl - m.p) + 1 : m.len;
}

struct sy_str sip_raw_start_line(struct sy_str msg)
{
	if (msg.len == 0)
		return SY_STR_NULL;
	return trim(msg.p, msg.p + line_end(msg, 0));
}

enum sip_raw_line sip_raw_scan(struct sy_str m, size_t *pos, struct sip_raw_hdr *h)
{
	size_t i = *pos;
	if (i >= m.len)
		return SIP_RAW_EOF;
	if (m.p[i] == '\n' || (m.p[i] == '\r' && i + 1 < m.len && m.p[i + 1] == '\n')) {
		*pos = i + (m.p[i] == '\n' ? 1 : 2);
		return SIP_RAW_END;
	}
	size_t e = line_end(m, i);
	while (e < m.len && is_ws(m.p[e])) /* folded continuation lines */
		e = line_end(m, e);
	*pos = e;
	const char *colon = memchr(m.p + i, ':', e - i);
	if (colon == NULL)
		return SIP_RAW_NOCOLON;
	h->name = trim(m.p + i, colon);
	h->value = trim(colon + 1, m.p + e);
	h->id = hdr_id(h->name);
	return SIP_RAW_HDR;
}

size_t sip_raw_headers_at(struct sy_str m)
{
	return line_end(m, 0);
}

bool sip_raw_next(struct sy_str m, size_t *pos, struct sip_raw_hdr *h)
{
	size_t i = *pos == 0 ? line_end(m, 0) : *pos;
	for (;;) {
		switch (sip_raw_scan(m, &i, h)) {
		case SIP_RAW_HDR:
			*pos = i;
			return true;
		case SIP_RAW_NOCOLON:
			continue; /* not a header: skip it like osip would */
		case SIP_RAW_END:
		case SIP_RAW_EOF:
			*pos = i;
			return false;
		}
	}
}

bool sip_raw_find(struct sy_str msg, enum sip_hdr id, struct sy_str *value)
{
	struct sip_raw_hdr h;
	size_t pos = 0;
	while (sip_raw_next(msg, &pos, &h))
		if (h.id == id) {
			*value = h.value;
			return true;
		}
	return false;
}

static bool parse_len(struct sy_str s, size_t *out)
{
	size_t v = 0;
	if (s.len == 0 || s.len > 9)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (size_t)(s.p[i] - '0');
	}
	*out = v;
	return true;
}

void sip_raw_body(struct sy_str msg, struct sy_str *ctype, struct sy_str *body)
{
	struct sip_raw_hdr h;
	size_t pos = 0, clen = SIZE_MAX;
	*ctype = *body = SY_STR_NULL;
	while (sip_raw_next(msg, &pos, &h)) {
		if (h.id == SIP_H_CONTENT_TYPE)
			*ctype = h.value;
		else if (h.id == SIP_H_CONTENT_LENGTH && !parse_len(h.value, &clen))
			clen = 0;
	}
	size_t avail = msg.len - pos;
	if (avail == 0) {
		*ctype = SY_STR_NULL;
		return;
	}
	body->p = msg.p + pos;
	body->len = SY_MIN(avail, clen);
	if (body->len == 0)
		*ctype = SY_STR_NULL;
}

/* Skips a quoted string starting at p (on the opening quote). */
static const char *skip_quoted(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return end;
}

/* Where the header parameters of a name-addr / addr-spec start looking. */
static const char *after_uri(struct sy_str v, const char **uri_start)
{
	const char *p = v.p, *end = v.p + v.len;
	while (p < end) {
		if (*p == '"') {
			p = skip_quoted(p, end);
			continue;
		}
		if (*p == '<') {
			const char *gt = memchr(p, '>', (size_t)(end - p));
			*uri_start = p + 1;
			return gt != NULL ? gt : end;
		}
		p++;
	}
	*uri_start = NULL;
	return v.p;
}

struct sy_str sip_raw_uri_of(struct sy_str v)
{
	if (v.len == 0)
		return SY_STR_NULL;
	const char *start;
	const char *gt = after_uri(v, &start);
	if (start != NULL)
		return trim(start, gt);
	const char *semi = memchr(v.p, ';', v.len);
	return trim(v.p, semi != NULL ? semi : v.p + v.len);
}

/* Finds the tag parameter of a From/To value; *val is its value (empty for
 * a bare ";tag="). Parameters start after the URI's '>' (or at the start of
 * an addr-spec); quoted strings among them are skipped. */
static bool find_tag(struct sy_str v, struct sy_str *val)
{
	*val = SY_STR_NULL;
	if (v.len == 0)
		return false;
	const char *start;
	const char *p = after_uri(v, &start), *end = v.p + v.len;
	for (; p < end; p++) {
		if (*p == '"') {
			p = skip_quoted(p, end) - 1;
			continue;
		}
		if (*p != ';')
			continue;
		const char *q = p + 1;
		while (q < end && is_ws(*q))
			q++;
		if ((size_t)(end - q) >= 3 && IEQ(((struct sy_str){q, 3}), "tag")) {
			q += 3;
			while (q < end && is_ws(*q))
				q++;
			if (q < end && *q == '=') {
				const char *s = ++q;
				while (q < end && *q != ';')
					q++;
				*val = trim(s, q);
				return true;
			}
		}
	}
	return false;
}

bool sip_raw_has_tag(struct sy_str v)
{
	struct sy_str val;
	return find_tag(v, &val);
}

struct sy_str sip_raw_tag(struct sy_str v)
{
	struct sy_str val;
	find_tag(v, &val);
	return val;
}

bool sip_raw_list_next(struct sy_str v, size_t *pos, struct sy_str *item)
{
	size_t i = *pos, j;
	bool quoted = false;
	int angle = 0;
	if (i > v.len)
		return false;
	for (j = i; j < v.len; j++) {
		char c = v.p[j];
		if (quoted) {
			if (c == '\\')
				j++;
			else if (c == '"')
				quoted = false;
		} else if (c == ',' && angle == 0) {
			break;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '<') {
			angle++;
		} else if (c == '>' && angle > 0) {
			angle--;
		}
	}
	j = SY_MIN(j, v.len);
	*item = j > i ? trim(v.p + i, v.p + j) : SY_STR_NULL;
	*pos = j + 1;
	return true;
}

struct sy_str sip_raw_top_via(struct sy_str v)
{
	if (v.len == 0)
		return SY_STR_NULL;
	const char *p = v.p, *end = v.p + v.len;
	while (p < end && *p != ',')
		p = *p == '"' ? skip_quoted(p, end) : p + 1;
	return trim(v.p, p);
}

/* The sent-by host of a top Via value ("SIP/2.0/UDP h:p;..."), without
 * brackets; *rest is where its port and parameters start. */
static struct sy_str via_host(struct sy_str via, const char **rest)
{
	const char *p = via.p, *end = via.p + via.len;
	for (int slashes = 0; p < end && slashes < 2; p++)
		if (*p == '/')
			slashes++;
	while (p < end && is_ws(*p))
		p++;
	while (p < end && !is_ws(*p)) /* transport */
		p++;
	while (p < end && is_ws(*p))
		p++;
	const char *h = p;
	if (p < end && *p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		*rest = rb != NULL ? rb + 1 : end;
		return (struct sy_str){h + 1, (size_t)((rb != NULL ? rb : end) - h - 1)};
	}
	while (p < end && *p != ':' && *p != ';' && !is_ws(*p))
		p++;
	*rest = p;
	return (struct sy_str){h, (size_t)(p - h)};
}

/* In a top Via value: the end of a bare "rport" parameter (NULL when there
 * is none or it has a value) and whether "received" is present. */
static const char *bare_rport(const char *p, const char *end, bool *has_received)
{
	const char *at = NULL;
	*has_received = false;
	while ((p = memchr(p, ';', (size_t)(end - p))) != NULL) {
		const char *n = ++p;
		while (p < end && *p != '=' && *p != ';')
			p++;
		struct sy_str name = trim(n, p);
		if (IEQ(name, "rport") && (p == end || *p == ';'))
			at = name.p + name.len;
		else if (IEQ(name, "received"))
			*has_received = true;
	}
	return at;
}

size_t sip_raw_fix_via(struct sy_str msg, const struct sy_addr *from, char *out, size_t cap)
{
	struct sy_str via, host;
	const char *rest, *at = NULL;
	bool has_received = false;
	struct sip_wbuf w;
	sip_w_init(&w, out, cap);
	if (sip_raw_find(msg, SIP_H_VIA, &via) && (via = sip_raw_top_via(via)).len > 0) {
		host = via_host(via, &rest);
		at = bare_rport(rest, via.p + via.len, &has_received);
	}
	if (at == NULL) {
		sip_w_str(&w, msg);
		return w.over ? 0 : w.len;
	}
	size_t head = (size_t)(at - msg.p);
	sip_w_mem(&w, msg.p, head);
	sip_w_lit(&w, "=");
	sip_w_u64(&w, from->port);
	char ip[SY_ADDR_STRLEN];
	struct sip_wbuf iw;
	sip_w_init(&iw, ip, sizeof(ip));
	sip_w_host(&iw, from);
	if (!has_received && host.len > 0 && !(host.len == iw.len && strncasecmp(host.p, ip, iw.len) == 0)) {
		sip_w_lit(&w, ";received=");
		sip_w_mem(&w, ip, iw.len);
	}
	sip_w_mem(&w, at, msg.len - head);
	return w.over ? 0 : w.len;
}

struct sy_str sip_raw_via_branch(struct sy_str via)
{
	const char *rest;
	via = sip_raw_top_via(via);
	if (via.len == 0)
		return SY_STR_NULL;
	via_host(via, &rest);
	const char *p = rest, *end = via.p + via.len;
	while ((p = memchr(p, ';', (size_t)(end - p))) != NULL) {
		const char *n = ++p;
		while (p < end && *p != '=' && *p != ';')
			p++;
		if (p == end || *p != '=' || !IEQ(trim(n, p), "branch"))
			continue;
		const char *v = ++p;
		while (p < end && *p != ';' && !is_ws(*p))
			p++;
		return trim(v, p);
	}
	return SY_STR_NULL;
}

/* ---- builders ---- */

static void w_header(struct sip_wbuf *w, const char *name, struct sy_str value)
{
	sip_w_cstr(w, name);
	sip_w_str(w, value);
	sip_w_lit(w, "\r\n");
}

/* Content-Type, Content-Length, the blank line and the body. */
static void w_tail(struct sip_wbuf *w, struct sy_str ctype, struct sy_str body)
{
	if (body.len > 0)
		w_header(w, "Content-Type: ", ctype.len > 0 ? ctype : SY_STR("application/sdp"));
	sip_w_lit(w, "Content-Length: ");
	sip_w_u64(w, body.len);
	sip_w_lit(w, "\r\n\r\n");
	sip_w_str(w, body);
}

void sip_raw_response(struct sip_wbuf *w, struct sy_str req, const struct sip_reply *r)
{
	struct sip_raw_hdr h;
	size_t pos = 0;
	sip_w_lit(w, "SIP/2.0 ");
	sip_w_u64(w, (uint64_t)r->status);
	sip_w_lit(w, " ");
	sip_w_cstr(w, r->reason != NULL ? r->reason : sip_reason_phrase(r->status));
	sip_w_lit(w, "\r\n");
	while (sip_raw_next(req, &pos, &h)) {
		switch (h.id) {
		case SIP_H_VIA:
			w_header(w, "Via: ", h.value);
			break;
		case SIP_H_FROM:
			w_header(w, "From: ", h.value);
			break;
		case SIP_H_CALL_ID:
			w_header(w, "Call-ID: ", h.value);
			break;
		case SIP_H_CSEQ:
			w_header(w, "CSeq: ", h.value);
			break;
		case SIP_H_TO:
			sip_w_lit(w, "To: ");
			sip_w_str(w, h.value);
			if (r->to_tag.len > 0 && !sip_raw_has_tag(h.value)) {
				sip_w_lit(w, ";tag=");
				sip_w_str(w, r->to_tag);
			}
			sip_w_lit(w, "\r\n");
			break;
		default:
			break;
		}
	}
	if (r->contact.len > 0)
		w_header(w, "Contact: ", r->contact);
	sip_w_str(w, r->extra);
	w_tail(w, r->content_type, r->body);
}

void sip_raw_request(struct sip_wbuf *w, struct sy_str sent_by, struct sy_str branch, const struct sip_request *rq)
{
	sip_w_cstr(w, rq->method);
	sip_w_lit(w, " ");
	sip_w_str(w, rq->ruri);
	sip_w_lit(w, " SIP/2.0\r\nVia: SIP/2.0/UDP ");
	sip_w_str(w, sent_by);
	sip_w_lit(w, ";branch=");
	sip_w_str(w, branch);
	sip_w_lit(w, ";rport\r\nMax-Forwards: ");
	sip_w_u64(w, (uint64_t)(rq->max_forwards >= 0 ? rq->max_forwards : 70));
	sip_w_lit(w, "\r\n");
	for (size_t i = 0; i < rq->route_n; i++)
		w_header(w, "Route: ", rq->routes[i]);
	w_header(w, "From: ", rq->from);
	w_header(w, "To: ", rq->to);
	w_header(w, "Call-ID: ", rq->call_id);
	sip_w_lit(w, "CSeq: ");
	sip_w_u64(w, rq->cseq);
	sip_w_lit(w, " ");
	sip_w_cstr(w, rq->method);
	sip_w_lit(w, "\r\n");
	if (rq->contact.len > 0)
		w_header(w, "Contact: ", rq->contact);
	sip_w_str(w, rq->extra);
	w_tail(w, rq->content_type, rq->body);
}

/* The Request-URI of a request line "METHOD uri SIP/2.0". */
static struct sy_str request_uri(struct sy_str line)
{
	if (line.len == 0)
		return SY_STR_NULL;
	const char *sp = memchr(line.p, ' ', line.len), *end = line.p + line.len;
	if (sp == NULL)
		return SY_STR_NULL;
	const char *last = end;
	while (last > sp && last[-1] != ' ')
		last--;
	return trim(sp + 1, last > sp + 1 ? last : end);
}

/* The CSeq number of a CSeq value ("314 INVITE" -> "314"). */
static struct sy_str cseq_number(struct sy_str v)
{
	size_t n = 0;
	while (n < v.len && v.p[n] >= '0' && v.p[n] <= '9')
		n++;
	return (struct sy_str){v.p, n};
}

void sip_raw_cancel_ack(struct sip_wbuf *w, struct sy_str inv, const char *method, struct sy_str resp_to)
{
	struct sip_raw_hdr h;
	size_t pos = 0;
	bool via_done = false;
	sip_w_cstr(w, method);
	sip_w_lit(w, " ");
	sip_w_str(w, request_uri(sip_raw_start_line(inv)));
	sip_w_lit(w, " SIP/2.0\r\n");
	while (sip_raw_next(inv, &pos, &h)) {
		switch (h.id) {
		case SIP_H_VIA:
			if (!via_done)
				w_header(w, "Via: ", sip_raw_top_via(h.value));
			via_done = true;
			break;
		case SIP_H_ROUTE:
			w_header(w, "Route: ", h.value);
			break;
		case SIP_H_FROM:
			w_header(w, "From: ", h.value);
			break;
		case SIP_H_TO:
			w_header(w, "To: ", resp_to.len > 0 ? resp_to : h.value);
			break;
		case SIP_H_CALL_ID:
			w_header(w, "Call-ID: ", h.value);
			break;
		case SIP_H_CSEQ:
			sip_w_lit(w, "CSeq: ");
			sip_w_str(w, cseq_number(h.value));
			sip_w_lit(w, " ");
			sip_w_cstr(w, method);
			sip_w_lit(w, "\r\n");
			break;
		default:
			break;
		}
	}
	sip_w_lit(w, "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
}
