/* msg_fast.c: sip_msg_parse_fast (msg.h), the B2BUA's read of the plain
 * messages of a call without osip: 1xx and 2xx responses, ACK and BYE.
 * Each part of the message must have a strict shape, a subset of what RFC
 * 3261 25.1 and osip accept, so that whatever this path reads osip would
 * read the same (tests/test_sip_perf.c and fuzz/sip_msg_fuzz.c check it
 * field by field against sip_msg_parse); anything else goes to osip, with
 * its errors. A failed match is no error: the message is osip's. */
#include "core/sip/msg.h"

#include "core/sip/wire.h"

#include <string.h>
#include <strings.h>

/* The characters of each part the fast path accepts: a strict subset of
 * what RFC 3261 25.1 and osip take, so that whatever it accepts osip
 * accepts too, with the same fields. Anything else goes to osip. */
#define FC_TOKEN 0x01u /* token: alphanum and -.!%*_+`'~ (no %: osip unescapes) */
#define FC_USER	 0x02u /* URI user part */
#define FC_HOST	 0x04u /* host name or IPv4 address */
#define FC_WORD	 0x08u /* Call-ID word */
#define FC_TEXT	 0x10u /* reason phrase */

static uint8_t fc_tab[256];

void sip_msg__fast_init(void)
{
	for (int c = 0x20; c < 0x7f; c++)
		fc_tab[c] = FC_TEXT;
	for (int c = 0; c < 256; c++) {
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (alnum || strchr("-._!*+`'~", c) != NULL)
			fc_tab[c] |= FC_TOKEN;
		if (alnum || strchr("-._!~*'+", c) != NULL)
			fc_tab[c] |= FC_USER;
		if (alnum || c == '-' || c == '.')
			fc_tab[c] |= FC_HOST;
		if (alnum || strchr("-._!~*'+", c) != NULL)
			fc_tab[c] |= FC_WORD;
	}
	fc_tab[0] = 0;
}

/* Advances *p over a non-empty run of class `k`; false when there is none. */
static bool fc_run(const char **p, const char *end, uint8_t k)
{
	const char *s = *p;
	while (*p < end && (fc_tab[(uint8_t) * *p] & k))
		(*p)++;
	return *p > s;
}

static bool fc_lit(const char **p, const char *end, const char *lit, size_t n)
{
	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

/* host [":" port], port 1..5 digits; *host and *port (p NULL: none). */
static bool fc_hostport2(const char **p, const char *end, struct sy_str *host, struct sy_str *port)
{
	const char *h = *p;
	if (!fc_run(p, end, FC_HOST))
		return false;
	*host = (struct sy_str){h, (size_t)(*p - h)};
	*port = SY_STR_NULL;
	if (*p < end && **p == ':') {
		(*p)++;
		const char *s = *p;
		while (*p < end && **p >= '0' && **p <= '9')
			(*p)++;
		if (*p == s || *p - s > 5)
			return false;
		*port = (struct sy_str){s, (size_t)(*p - s)};
	}
	return true;
}

static bool fc_hostport(const char **p, const char *end)
{
	struct sy_str h, pt;
	return fc_hostport2(p, end, &h, &pt);
}

/* *(";" token ["=" token]) up to end; counts the parameters named `name`
 * and returns the value of the first. */
static bool fc_params(const char *p, const char *end, const char *name, int *count, struct sy_str *val)
{
	size_t nl = name != NULL ? strlen(name) : 0;
	*count = 0;
	while (p < end) {
		if (*p++ != ';')
			return false;
		const char *n = p;
		if (!fc_run(&p, end, FC_TOKEN))
			return false;
		size_t len = (size_t)(p - n);
		const char *v = p;
		if (p < end && *p == '=') {
			v = ++p;
			if (!fc_run(&p, end, FC_TOKEN))
				return false;
		}
		if (name != NULL && len == nl && strncasecmp(n, name, nl) == 0) {
			if ((*count)++ == 0)
				*val = (struct sy_str){v, (size_t)(p - v)};
		}
	}
	return true;
}

/* "sip:user@host[:port]*(;param)" filling [p, end) exactly. The user part
 * is required: osip refuses some URIs without one ("sip:b", found by the
 * differential check), so those are osip's to judge. */
static bool fc_sip_uri(const char *p, const char *end)
{
	if (!fc_lit(&p, end, "sip:", 4))
		return false;
	const char *at = memchr(p, '@', (size_t)(end - p));
	if (at == NULL || !fc_run(&p, at, FC_USER) || p != at)
		return false;
	p++;
	if (!fc_hostport(&p, end))
		return false;
	int n;
	struct sy_str unused;
	return fc_params(p, end, NULL, &n, &unused);
}

/* "<sip-uri>" then header parameters; *tag_n and *tag as fc_params for
 * "tag". */
static bool fc_name_addr(struct sy_str v, int *tag_n, struct sy_str *tag)
{
	const char *p = v.p, *end = v.p + v.len;
	if (!fc_lit(&p, end, "<", 1))
		return false;
	const char *gt = memchr(p, '>', (size_t)(end - p));
	if (gt == NULL || !fc_sip_uri(p, gt))
		return false;
	return fc_params(gt + 1, end, "tag", tag_n, tag);
}

/* "SIP/2.0/UDP host[:port];params" with exactly one branch (non-empty). */
static bool fc_via(struct sy_str v, struct sy_str *branch, struct sy_str *host, struct sy_str *port)
{
	const char *p = v.p, *end = v.p + v.len;
	int n;
	if (!fc_lit(&p, end, "SIP/2.0/", 8))
		return false;
	const char *t = p;
	while (p < end && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
		p++;
	if (p == t || !fc_lit(&p, end, " ", 1) || !fc_hostport2(&p, end, host, port))
		return false;
	return fc_params(p, end, "branch", &n, branch) && n == 1 && branch->len > 0;
}

/* word ["@" word] */
static bool fc_call_id(struct sy_str v)
{
	const char *p = v.p, *end = v.p + v.len;
	if (!fc_run(&p, end, FC_WORD))
		return false;
	if (p < end && *p == '@') {
		p++;
		if (!fc_run(&p, end, FC_WORD))
			return false;
	}
	return p == end;
}

/* A response header line the fast path takes; `name` is not one of the
 * headers it reads (Via, From, To, Call-ID, CSeq, Contact, Content-Type,
 * Content-Length). Headers osip parses into structures (Record-Route,
 * Allow, WWW-Authenticate ...) are not here: such responses go to osip. */
static bool fc_other_ok(struct sy_str name)
{
	static const char *const ok[] = {"supported", "require", "session-expires", "min-se", "server", "user-agent"};
	for (size_t i = 0; i < SY_ARRAY_LEN(ok); i++)
		if (name.len == strlen(ok[i]) && strncasecmp(name.p, ok[i], name.len) == 0)
			return true;
	return false;
}

/* "ACK sip-uri SIP/2.0" or "BYE ..." up to the line end: the method. */
static enum sip_method fc_request_line(const char **pp, const char *end)
{
	const char *p = *pp;
	enum sip_method m;
	if (fc_lit(&p, end, "ACK ", 4))
		m = SIP_M_ACK;
	else if (fc_lit(&p, end, "BYE ", 4))
		m = SIP_M_BYE;
	else
		return SIP_M_OTHER;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (nl == NULL || nl - p < 11 || memcmp(nl - 9, " SIP/2.0\r", 9) != 0 || !fc_sip_uri(p, nl - 9))
		return SIP_M_OTHER;
	*pp = nl + 1;
	return m;
}

enum { H_VIA, H_FROM, H_TO, H_CID, H_CSEQ, H_CONTACT, H_CTYPE, H_CLEN, H_MAXF, H_N };

/* "SIP/2.0 1xx reason" or "SIP/2.0 2xx ..." (*status), or an ACK or BYE
 * request line (*method), with its CRLF. */
static bool fc_start_line(const char **pp, const char *end, int *status, enum sip_method *method)
{
	const char *p = *pp;
	*status = 0;
	*method = SIP_M_OTHER;
	if (memcmp(p, "SIP/2.0 ", 8) != 0) {
		*method = fc_request_line(pp, end);
		return *method != SIP_M_OTHER;
	}
	p += 8;
	if ((p[0] != '1' && p[0] != '2') || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' || p[3] != ' ')
		return false;
	*status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	p += 4;
	const char *r = p;
	while (p < end && (fc_tab[(uint8_t)*p] & FC_TEXT))
		p++;
	if (p == r || r[0] == ' ' || p[-1] == ' ' || !fc_lit(&p, end, "\r\n", 2))
		return false;
	*pp = p;
	return true;
}

/* Which of v[] a header fills: -1 for an ignored one, -2 for one the fast
 * path does not take (the message goes to osip). */
static int fc_slot(struct sy_str name, bool response)
{
	switch (sip_raw_hdr_id(name)) {
	case SIP_H_VIA:
		return H_VIA;
	case SIP_H_FROM:
		return H_FROM;
	case SIP_H_TO:
		return H_TO;
	case SIP_H_CALL_ID:
		return H_CID;
	case SIP_H_CSEQ:
		return H_CSEQ;
	case SIP_H_CONTACT:
		return H_CONTACT;
	case SIP_H_CONTENT_TYPE:
		return H_CTYPE;
	case SIP_H_CONTENT_LENGTH:
		return H_CLEN;
	case SIP_H_MAX_FORWARDS:
		return response ? -2 : H_MAXF;
	case SIP_H_OTHER:
		return fc_other_ok(name) ? -1 : -2;
	default:
		return -2;
	}
}

/* One header line "Name: value" CRLF at *pp into v[]; *pp past it. The raw
 * scanner the builders use reads the line the same: one line (the next
 * starts with a token or is the blank line, so it is no continuation),
 * name and value trimmed as here. */
static bool fc_header(const char **pp, const char *end, bool response, struct sy_str *v)
{
	const char *p = *pp, *nl = memchr(p, '\n', (size_t)(end - p));
	if (nl == NULL || nl == p || nl[-1] != '\r')
		return false;
	const char *eol = nl - 1; /* the CR */
	const char *n = p;
	if (!fc_run(&p, eol, FC_TOKEN))
		return false;
	struct sy_str name = {n, (size_t)(p - n)};
	if (!fc_lit(&p, eol, ":", 1))
		return false;
	while (p < eol && *p == ' ')
		p++;
	struct sy_str val = {p, (size_t)(eol - p)};
	for (const char *q = p; q < eol; q++) /* no CR, control or 8-bit byte inside */
		if (!(fc_tab[(uint8_t)*q] & FC_TEXT))
			return false;
	if (val.len == 0 || val.p[val.len - 1] == ' ')
		return false;
	int k = fc_slot(name, response);
	if (k == -2 || (k >= 0 && v[k].p != NULL)) /* not ours, or a second one */
		return false;
	if (k >= 0)
		v[k] = val;
	*pp = nl + 1;
	return true;
}

/* A decimal of 1..max digits (no sign, no space) at most `limit`. */
static bool fc_uint(struct sy_str s, size_t max, uint64_t limit, uint64_t *out)
{
	uint64_t v = 0;
	if (s.len == 0 || s.len > max)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	*out = v;
	return v <= limit;
}

/* CSeq "1..10 digits below 2**31" SP "a method we know". */
static bool fc_cseq(struct sy_str v, uint32_t *num, enum sip_method *method)
{
	const char *sp = memchr(v.p, ' ', v.len);
	uint64_t n;
	if (sp == NULL || !fc_uint((struct sy_str){v.p, (size_t)(sp - v.p)}, 10, (1ull << 31) - 1, &n))
		return false;
	*num = (uint32_t)n;
	*method = sip_method_from((struct sy_str){sp + 1, (size_t)(v.p + v.len - sp - 1)});
	return *method != SIP_M_OTHER;
}

/* Content-Type "type/subtype", not multipart (osip parses those). */
static bool fc_ctype(struct sy_str v)
{
	const char *q = v.p, *qe = q + v.len;
	if (!fc_run(&q, qe, FC_TOKEN) || !fc_lit(&q, qe, "/", 1) || !fc_run(&q, qe, FC_TOKEN) || q != qe)
		return false;
	return !(v.len >= 9 && strncasecmp(v.p, "multipart", 9) == 0);
}

/* Each value read in its strict shape into out. */
static bool fc_values(const struct sy_str *v, int status, enum sip_method req_method, size_t body_avail,
		      struct sip_msg *out)
{
	struct sy_str ign;
	int ftag_n, ttag_n, cn;
	uint64_t clen, maxf = 0;
	for (int k = H_VIA; k <= H_CLEN; k++)
		if (v[k].p == NULL && k != H_CONTACT && k != H_CTYPE)
			return false;
	if (!fc_via(v[H_VIA], &out->branch, &out->via_host, &out->via_port) ||
	    !fc_name_addr(v[H_FROM], &ftag_n, &out->from_tag) || ftag_n > 1 ||
	    !fc_name_addr(v[H_TO], &ttag_n, &out->to_tag) || ttag_n > 1 || !fc_call_id(v[H_CID]))
		return false;
	if ((ftag_n == 1 && out->from_tag.len == 0) || (ttag_n == 1 && out->to_tag.len == 0))
		return false; /* osip's "Empty From tag": its error, not ours */
	if (v[H_CONTACT].p != NULL && (!fc_name_addr(v[H_CONTACT], &cn, &ign) || cn > 0))
		return false;
	if ((v[H_CTYPE].p != NULL && !fc_ctype(v[H_CTYPE])) || !fc_cseq(v[H_CSEQ], &out->cseq, &out->method))
		return false;
	if (status == 0 && out->method != req_method)
		return false;
	if (v[H_MAXF].p != NULL && !fc_uint(v[H_MAXF], 3, 255, &maxf))
		return false;
	out->max_forwards = v[H_MAXF].p != NULL ? (int)maxf : -1;
	out->status = status;
	out->call_id = v[H_CID];
	return fc_uint(v[H_CLEN], 9, body_avail, &clen);
}

/* The fast path: a 1xx or 2xx, or an ACK or BYE, of the plain shape every
 * UA on the switch's trunks sends, read without osip. false: not that
 * shape (not an error: osip decides). */
static bool parse_fast(const uint8_t *buf, size_t len, struct sip_msg *out)
{
	const char *p = (const char *)buf, *end = p + len;
	struct sy_str v[H_N] = {0};
	int status;
	enum sip_method req_method;
	if (len < 16 || len > SIP_MSG_LEN_MAX || !fc_start_line(&p, end, &status, &req_method))
		return false;
	while (!fc_lit(&p, end, "\r\n", 2)) /* up to the blank line */
		if (!fc_header(&p, end, status != 0, v))
			return false;
	*out = (struct sip_msg){.raw = {(const char *)buf, len}};
	return fc_values(v, status, req_method, (size_t)(end - p), out);
}

enum sy_rc sip_msg_parse_fast(const uint8_t *buf, size_t len, struct sip_msg *out, char *err, size_t errlen)
{
	/* fc_tab is filled by sip_global_init: without it, osip decides */
	if (fc_tab['a'] != 0 && buf != NULL && parse_fast(buf, len, out)) {
		if (err != NULL && errlen > 0)
			err[0] = '\0';
		return SY_OK;
	}
	return sip_msg_parse(buf, len, out, err, errlen);
}
