/* replay_rw.c: the pure parts of a replay (replay.h): pacing, the final
 * code sequences compared, and the rewriting of captured text. A copy of a
 * captured dialog must not collide with the other copies running at the
 * same time, nor send the capture's addresses to a switch that has never
 * seen them: Call-ID, tags, branches, Via, Contact, the URIs' hosts and
 * the SDP's addresses are ours; the rest of the text is kept as captured. */
#include "replay.h"

#include <stdio.h>

#include "core/sip/wire.h"

/* ---- pacing ---- */

uint64_t replay_gap(const struct replay_cfg *cfg, uint64_t captured_ns, bool *clamped)
{
	uint64_t g = captured_ns;
	uint64_t max = cfg->max_gap_ns ? cfg->max_gap_ns : REPLAY_MAX_GAP_NS;
	if (cfg->pace == REPLAY_PACE_FACTOR && cfg->factor_milli != 0)
		g = g / cfg->factor_milli * 1000 + g % cfg->factor_milli * 1000 / cfg->factor_milli;
	*clamped = g > max;
	return *clamped ? max : g;
}

void replay_offsets(const struct replay_cfg *cfg, uint64_t *offs)
{
	const struct pcap_flows *f = cfg->flows;
	bool cl;
	uint64_t at = 0;
	for (uint32_t k = 0; k < f->dialog_n; k++) {
		if (k > 0) {
			uint64_t a = f->dialogs[k - 1].start_ns, b = f->dialogs[k].start_ns;
			at += replay_gap(cfg, b > a ? b - a : 0, &cl);
		}
		offs[k] = at;
	}
	/* the next pass starts when the last dialog of this one has ended */
	uint64_t last = f->dialog_n ? replay_gap(cfg, f->dialogs[f->dialog_n - 1].duration_ns, &cl) : 0;
	offs[f->dialog_n] = at + last + SY_NS_PER_MS;
}

uint64_t replay_total(const struct replay_cfg *cfg)
{
	uint64_t n = (uint64_t)cfg->flows->dialog_n * (cfg->loop ? cfg->loop : 1);
	return cfg->limit != 0 && cfg->limit < n ? cfg->limit : n;
}

uint64_t replay_start_at(const struct replay_cfg *cfg, const uint64_t *offs, uint64_t i)
{
	uint32_t n = cfg->flows->dialog_n;
	if (cfg->pace == REPLAY_PACE_RATE && cfg->rate_milli != 0) {
		/* i / rate without overflow for any i a run can reach */
		uint64_t per_s = cfg->rate_milli;
		return i / per_s * 1000 * SY_NS_PER_S + i % per_s * 1000 * SY_NS_PER_S / per_s;
	}
	if (n == 0)
		return 0;
	return i / n * offs[n] + offs[i % n];
}

/* ---- final code sequences ---- */

size_t replay_seq_fmt(const struct pcap_dialog *d, const uint16_t *codes, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < d->txn_n && i < REPLAY_TXN_MAX; i++) {
		const struct pcap_sip_txn *t = &d->txns[i];
		if (strcmp(t->method, "ACK") == 0)
			continue;
		uint16_t code = codes ? codes[i] : t->final_code;
		char c[8] = "-";
		if (code != 0)
			snprintf(c, sizeof(c), "%u", code);
		int w = snprintf(buf + len, cap - len, "%s%s %s", len ? ", " : "", t->method, c);
		if (w < 0 || (size_t)w >= cap - len) {
			buf[len] = '\0';
			return len;
		}
		len += (size_t)w;
	}
	return len;
}

/* ---- URIs ---- */

static bool starts_ci(struct sy_str s, const char *p)
{
	size_t n = strlen(p);
	return s.len >= n && sy_str_ieq((struct sy_str){s.p, n}, (struct sy_str){p, n});
}

static size_t find_ch(struct sy_str s, size_t from, char ch)
{
	for (size_t i = from; i < s.len; i++)
		if (s.p[i] == ch)
			return i;
	return s.len;
}

/* URI parameters without transport=...: ";user=phone;lr". */
static void write_params(struct sip_wbuf *w, struct sy_str params)
{
	size_t i = 0;
	while (i < params.len) {
		size_t e = find_ch(params, i + 1, ';');
		struct sy_str p = {params.p + i, e - i}; /* ";name=value" */
		if (!starts_ci((struct sy_str){p.p + 1, p.len ? p.len - 1 : 0}, "transport="))
			sip_w_str(w, p);
		i = e;
	}
}

size_t replay_rw_uri(struct sy_str uri, struct sy_str hostport, char *out, size_t cap)
{
	size_t skip = starts_ci(uri, "sip:") ? 4 : starts_ci(uri, "sips:") ? 5 : 0;
	if (skip == 0)
		return 0;
	struct sy_str rest = {uri.p + skip, uri.len - skip};
	size_t q = find_ch(rest, 0, '?');
	size_t at = q;
	while (at > 0 && rest.p[at - 1] != '@')
		at--;
	size_t host = at; /* 0 when there is no user part */
	size_t semi = host;
	if (semi < q && rest.p[semi] == '[')
		semi = find_ch(rest, semi, ']');
	while (semi < q && rest.p[semi] != ';')
		semi++;
	struct sip_wbuf w;
	sip_w_init(&w, out, cap);
	sip_w_lit(&w, "sip:");
	sip_w_mem(&w, rest.p, host);
	sip_w_str(&w, hostport);
	write_params(&w, (struct sy_str){rest.p + semi, q - semi});
	sip_w_mem(&w, rest.p + q, rest.len - q);
	return w.over ? 0 : w.len;
}

/* ---- header values ---- */

/* A name-addr or addr-spec split: display part, URI, header parameters. */
struct naddr {
	struct sy_str display, uri, params;
};

static void naddr_split(struct sy_str v, struct naddr *n)
{
	size_t lt = find_ch(v, 0, '<');
	if (lt < v.len) {
		size_t gt = find_ch(v, lt, '>');
		n->display = (struct sy_str){v.p, lt};
		n->uri = (struct sy_str){v.p + lt + 1, gt > lt ? gt - lt - 1 : 0};
		n->params = gt < v.len ? (struct sy_str){v.p + gt + 1, v.len - gt - 1} : SY_STR_NULL;
		return;
	}
	size_t semi = find_ch(v, 0, ';');
	n->display = SY_STR_NULL;
	n->uri = (struct sy_str){v.p, semi};
	n->params = (struct sy_str){v.p + semi, v.len - semi};
}

/* params without ";tag=...". */
static void write_params_notag(struct sip_wbuf *w, struct sy_str params)
{
	size_t i = find_ch(params, 0, ';');
	while (i < params.len) {
		size_t e = find_ch(params, i + 1, ';');
		struct sy_str p = {params.p + i + 1, e - i - 1};
		if (!starts_ci(p, "tag="))
			sip_w_mem(w, params.p + i, e - i);
		i = e;
	}
}

/* From/To/Contact: "<URI with host replaced>" with the display part kept,
 * the tag replaced (tag.p != NULL) and the other parameters kept. */
static void write_naddr(struct sip_wbuf *w, struct sy_str v, struct sy_str host, struct sy_str tag, bool set_tag)
{
	struct naddr n;
	char u[256];
	naddr_split(v, &n);
	size_t ul = host.len ? replay_rw_uri(n.uri, host, u, sizeof(u)) : 0;
	sip_w_str(w, n.display);
	sip_w_lit(w, "<");
	if (ul)
		sip_w_mem(w, u, ul);
	else
		sip_w_str(w, n.uri);
	sip_w_lit(w, ">");
	if (!set_tag) {
		sip_w_str(w, n.params);
		return;
	}
	write_params_notag(w, n.params);
	if (tag.len) {
		sip_w_lit(w, ";tag=");
		sip_w_str(w, tag);
	}
}

static void write_hdr(struct sip_wbuf *w, const char *name, struct sy_str v)
{
	sip_w_cstr(w, name);
	sip_w_lit(w, ": ");
	sip_w_str(w, v);
	sip_w_lit(w, "\r\n");
}

/* ---- SDP ---- */

/* "IN IP4 1.2.3.4" at p: the address token when it is `from`. */
static bool sdp_addr_is(struct sy_str tok, const struct sy_addr *from)
{
	char buf[SY_ADDR_STRLEN];
	struct sy_addr a;
	if (tok.len == 0 || tok.len >= sizeof(buf))
		return false;
	memcpy(buf, tok.p, tok.len);
	buf[tok.len] = '\0';
	if (sy_addr_parse(buf, 0, &a) != SY_OK || a.family != from->family)
		return false;
	return memcmp(a.ip, from->ip, a.family == SY_AF_INET ? 4 : 16) == 0;
}

static void sdp_line(struct sip_wbuf *w, struct sy_str line, const struct sy_addr *from, const char *to, bool ipv6)
{
	size_t k = 0;
	bool cand = line.len > 2 && (line.p[0] == 'c' || line.p[0] == 'o') && line.p[1] == '=';
	for (; cand && k + 7 <= line.len; k++)
		if (memcmp(line.p + k, "IN IP", 5) == 0 && (line.p[k + 5] == '4' || line.p[k + 5] == '6') &&
		    line.p[k + 6] == ' ')
			break;
	if (!cand || k + 7 > line.len) {
		sip_w_str(w, line);
		return;
	}
	size_t a = k + 7, e = a;
	while (e < line.len && line.p[e] != ' ' && line.p[e] != '\r' && line.p[e] != '\n' && line.p[e] != '/')
		e++;
	if (from == NULL || !sdp_addr_is((struct sy_str){line.p + a, e - a}, from)) {
		sip_w_str(w, line);
		return;
	}
	sip_w_mem(w, line.p, k);
	sip_w_cstr(w, ipv6 ? "IN IP6 " : "IN IP4 ");
	sip_w_cstr(w, to);
	sip_w_mem(w, line.p + e, line.len - e);
}

size_t replay_rw_sdp(struct sy_str body, const struct sy_addr *from, const char *to, bool ipv6, char *out, size_t cap)
{
	struct sip_wbuf w;
	sip_w_init(&w, out, cap);
	size_t i = 0;
	while (i < body.len) {
		size_t e = find_ch(body, i, '\n');
		e = e < body.len ? e + 1 : e;
		sdp_line(&w, (struct sy_str){body.p + i, e - i}, from, to, ipv6);
		i = e;
	}
	return w.over ? 0 : w.len;
}

/* ---- requests ---- */

static bool drop_hdr(const struct sip_raw_hdr *h)
{
	switch (h->id) {
	case SIP_H_VIA:
	case SIP_H_ROUTE:
	case SIP_H_RECORD_ROUTE:
	case SIP_H_CONTENT_LENGTH:
		return true;
	default: /* captured credentials are for another switch's nonce */
		return sy_str_ieq(h->name, SY_STR("Authorization")) ||
		       sy_str_ieq(h->name, SY_STR("Proxy-Authorization"));
	}
}

static void rw_hdr(struct sip_wbuf *w, const struct sip_raw_hdr *h, const struct replay_rw *rw)
{
	switch (h->id) {
	case SIP_H_FROM:
		sip_w_lit(w, "From: ");
		write_naddr(w, h->value, rw->from_host, rw->from_tag, true);
		sip_w_lit(w, "\r\n");
		break;
	case SIP_H_TO:
		sip_w_lit(w, "To: ");
		write_naddr(w, h->value, rw->to_host, rw->to_tag, true);
		sip_w_lit(w, "\r\n");
		break;
	case SIP_H_CALL_ID:
		write_hdr(w, "Call-ID", rw->call_id);
		break;
	case SIP_H_CONTACT:
		sip_w_lit(w, "Contact: ");
		if (h->value.len == 1 && h->value.p[0] == '*')
			sip_w_lit(w, "*");
		else
			write_naddr(w, h->value, rw->contact_host, SY_STR_NULL, false);
		sip_w_lit(w, "\r\n");
		break;
	default:
		sip_w_str(w, h->name);
		sip_w_lit(w, ": ");
		sip_w_str(w, h->value);
		sip_w_lit(w, "\r\n");
	}
}

size_t replay_rw_request(struct sy_str msg, const struct replay_rw *rw, char *out, size_t cap)
{
	struct sy_str sl = sip_raw_start_line(msg);
	size_t sp = find_ch(sl, 0, ' ');
	if (sp == 0 || sp >= sl.len)
		return 0;
	struct sip_wbuf w;
	sip_w_init(&w, out, cap);
	sip_w_mem(&w, sl.p, sp + 1);
	sip_w_str(&w, rw->ruri);
	sip_w_lit(&w, " SIP/2.0\r\nVia: SIP/2.0/UDP ");
	sip_w_str(&w, rw->via_host);
	sip_w_lit(&w, ";branch=");
	sip_w_str(&w, rw->branch);
	sip_w_lit(&w, ";rport\r\n");
	for (size_t i = 0; i < rw->route_n; i++)
		write_hdr(&w, "Route", rw->routes[i]);
	struct sip_raw_hdr h;
	size_t pos = 0;
	while (sip_raw_next(msg, &pos, &h))
		if (!drop_hdr(&h))
			rw_hdr(&w, &h, rw);
	struct sy_str ctype, body;
	sip_raw_body(msg, &ctype, &body);
	char sdp[2048];
	if (body.len && rw->sdp_from != NULL) {
		size_t n = replay_rw_sdp(body, rw->sdp_from, rw->sdp_to, rw->sdp_ipv6, sdp, sizeof(sdp));
		if (n != 0)
			body = (struct sy_str){sdp, n};
	}
	sip_w_lit(&w, "Content-Length: ");
	sip_w_u64(&w, body.len);
	sip_w_lit(&w, "\r\n\r\n");
	sip_w_str(&w, body);
	return w.over ? 0 : w.len;
}
