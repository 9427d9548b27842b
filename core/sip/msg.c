/* msg.c: SIP message parsing, checking and building on libosip2. The parser
 * is osip's; what we add is the RFC 3261 validation a message needs before
 * the transaction layer may trust it, and the builders a UA needs.
 *
 * osip earns its place at the switch's trust boundary only: the full parse
 * and validation of every received datagram (sip_stack_recv), the URIs
 * routing and billing read, the Record-Route set a B leg keeps. What the
 * switch sends, and everything the peers read and write, is the raw text
 * layer of wire.h (one scanner, one writer), which is cheaper than building
 * and serializing osip messages. osip's memory comes from a bounded pool
 * (osip_pool.c). */
#include "core/sip/msg.h"

#include "core/sip/osip_pool.h"
#include "core/sip/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static bool parser_ready;

static void trace_drop(const char *fi, int li, osip_trace_level_t level, const char *chfr, va_list ap)
{
}

void sip_global_init(void)
{
	/* osip builds its header-name tables once per process. */
	if (!parser_ready) {
		parser_init();
		/* osip prints every parse failure to stderr; hostile input would
		 * turn that into a flood. Failures are counted by the stack. */
		osip_trace_initialize_func(OSIP_FATAL, trace_drop);
		for (int l = 0; l < END_TRACE_LEVEL; l++)
			osip_trace_disable_level((osip_trace_level_t)l);
		sip_msg__fast_init();
		parser_ready = true;
	}
}

static const char *const method_names[] = {
    [SIP_M_OTHER] = "OTHER",   [SIP_M_INVITE] = "INVITE",   [SIP_M_ACK] = "ACK",	   [SIP_M_BYE] = "BYE",
    [SIP_M_CANCEL] = "CANCEL", [SIP_M_OPTIONS] = "OPTIONS", [SIP_M_REGISTER] = "REGISTER", [SIP_M_INFO] = "INFO",
    [SIP_M_UPDATE] = "UPDATE", [SIP_M_PRACK] = "PRACK",
};

/* Method names are case-sensitive in SIP (RFC 3261 7.1). */
enum sip_method sip_method_from(struct sy_str s)
{
	for (size_t i = 1; i < SY_ARRAY_LEN(method_names); i++)
		if (sy_str_eq(s, sy_str_from(method_names[i])))
			return (enum sip_method)i;
	return SIP_M_OTHER;
}

const char *sip_method_name(enum sip_method m)
{
	return (size_t)m < SY_ARRAY_LEN(method_names) ? method_names[m] : "OTHER";
}

static void set_err(char *err, size_t errlen, const char *text)
{
	if (err != NULL && errlen > 0) {
		size_t n = SY_MIN(strlen(text), errlen - 1);
		memcpy(err, text, n);
		err[n] = '\0';
	}
}

/* A decimal of 1..max_digits digits and nothing else. */
static bool parse_uint(const char *s, unsigned max_digits, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = 0;
	if (s == NULL)
		return false;
	for (; *s >= '0' && *s <= '9'; s++, n++) {
		if (n >= max_digits)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (n == 0 || *s != '\0')
		return false;
	*out = v;
	return true;
}

static struct sy_str param_value(osip_list_t *params, const char *name)
{
	osip_generic_param_t *p = NULL;
	if (osip_generic_param_get_byname(params, (char *)name, &p) != 0 || p == NULL || p->gvalue == NULL)
		return SY_STR_NULL;
	return sy_str_from(p->gvalue);
}

/* "tag=" or a bare "tag": RFC 3261 25.1 makes a tag a non-empty token.
 * Taken as absent, the To of an INVITE would reach the replies as it came
 * (the raw builder sees a tag there and adds none of ours), so the dialog
 * would be set up with an empty tag no later request can name. */
static bool param_empty(osip_list_t *params, const char *name)
{
	osip_generic_param_t *p = NULL;
	if (osip_generic_param_get_byname(params, (char *)name, &p) != 0 || p == NULL)
		return false;
	return p->gvalue == NULL || p->gvalue[0] == '\0';
}

/* Bytes after the blank line that ends the headers; 0 when there is none. */
static size_t body_avail(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		const uint8_t *nl = memchr(buf + i, '\n', len - 1 - i);
		if (nl == NULL)
			return 0;
		i = (size_t)(nl - buf);
		if (buf[i + 1] == '\n')
			return len - (i + 2);
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return len - (i + 3);
	}
	return 0;
}

/* Call-ID "a@b" is split by osip; join it so one slice covers it. */
static bool join_call_id(osip_call_id_t *c)
{
	if (c->host == NULL)
		return true;
	size_t a = strlen(c->number), b = strlen(c->host);
	char *j = osip_malloc(a + b + 2);
	if (j == NULL)
		return false;
	memcpy(j, c->number, a);
	j[a] = '@';
	memcpy(j + a + 1, c->host, b + 1);
	osip_free(c->number);
	osip_free(c->host);
	c->number = j;
	c->host = NULL;
	return true;
}

static const char *check_via_from_to(struct sip_msg *out)
{
	osip_message_t *m = out->m;
	osip_via_t *via = osip_list_get(&m->vias, 0);
	if (via == NULL)
		return "Missing Via";
	if (via->host == NULL || via->protocol == NULL || via->version == NULL)
		return "Malformed Via";
	out->branch = param_value(&via->via_params, "branch");
	out->via_host = sy_str_from(via->host);
	out->via_port = via->port != NULL ? sy_str_from(via->port) : SY_STR_NULL;
	if (m->from == NULL)
		return "Missing From";
	if (m->from->url == NULL)
		return "Malformed From";
	if (param_empty(&m->from->gen_params, "tag"))
		return "Empty From tag";
	out->from_tag = param_value(&m->from->gen_params, "tag");
	if (m->to == NULL)
		return "Missing To";
	if (m->to->url == NULL)
		return "Malformed To";
	if (param_empty(&m->to->gen_params, "tag"))
		return "Empty To tag";
	out->to_tag = param_value(&m->to->gen_params, "tag");
	return NULL;
}

static const char *check_callid_cseq(struct sip_msg *out)
{
	osip_message_t *m = out->m;
	uint64_t v;
	if (m->call_id == NULL || m->call_id->number == NULL || m->call_id->number[0] == '\0')
		return "Missing Call-ID";
	if (!join_call_id(m->call_id))
		return "Out of memory";
	out->call_id = sy_str_from(m->call_id->number);
	/* osip drops spaces around the @ of a Call-ID ("a @h" -> "a@h") and may pick
	 * another of several; replies copy the raw header (wire.h), so a
	 * Call-ID the two read differently would answer another call. RFC 3261
	 * 25.1: callid = word ["@" word], no spaces. (Found by fuzz/sip_msg.) */
	struct sy_str raw_cid;
	if (!sip_raw_find(out->raw, SIP_H_CALL_ID, &raw_cid) || !sy_str_eq(raw_cid, out->call_id))
		return "Malformed Call-ID";
	if (m->cseq == NULL)
		return "Missing CSeq";
	/* RFC 3261 8.1.1.5: the sequence number is below 2**31. */
	if (!parse_uint(m->cseq->number, 10, &v) || v >= (1ull << 31))
		return "Bad CSeq number";
	out->cseq = (uint32_t)v;
	if (m->cseq->method == NULL || m->cseq->method[0] == '\0')
		return "Bad CSeq method";
	if (MSG_IS_REQUEST(m) && strcmp(m->cseq->method, m->sip_method) != 0)
		return "CSeq method does not match request method";
	if (MSG_IS_RESPONSE(m))
		out->method = sip_method_from(sy_str_from(m->cseq->method));
	return NULL;
}

static const char *check_lengths(struct sip_msg *out, const uint8_t *buf, size_t len)
{
	osip_message_t *m = out->m;
	osip_header_t *h = NULL;
	uint64_t v;
	if (m->content_length != NULL) {
		if (!parse_uint(m->content_length->value, 9, &v))
			return "Bad Content-Length";
		if (v > body_avail(buf, len))
			return "Content-Length exceeds body";
	}
	if (osip_message_get_max_forwards(m, 0, &h) >= 0 && h != NULL) {
		if (!parse_uint(h->hvalue, 3, &v) || v > 255)
			return "Bad Max-Forwards";
		out->max_forwards = (int)v;
	}
	return NULL;
}

static const char *check_start_line(struct sip_msg *out)
{
	osip_message_t *m = out->m;
	if (MSG_IS_RESPONSE(m)) {
		if (m->status_code < 100 || m->status_code > 699)
			return "Bad status code";
		out->status = m->status_code;
		return NULL;
	}
	if (m->sip_method == NULL || m->req_uri == NULL)
		return "Bad request line";
	if (m->sip_version == NULL || osip_strcasecmp(m->sip_version, "SIP/2.0") != 0)
		return "Unsupported SIP version";
	out->method = sip_method_from(sy_str_from(m->sip_method));
	return NULL;
}

/* osip ends a request line where it finds the SIP version, so it takes
 * "INVITE sip:a\r\n\r\nx SIP/2.0" for one line with CR LF in the
 * Request-URI and reads headers after the blank line. The raw scanner
 * (wire.h), which copies Via, From, To, Call-ID and CSeq into our replies
 * and the B2BUA's requests, ends the line at its first line end, as RFC
 * 3261 7.1 does, and finds no headers: replies without them went out.
 * A message the two would read differently is not SIP. */
static bool start_line_is_one_line(const osip_message_t *m, struct sy_str raw)
{
	struct sy_str line = sip_raw_start_line(raw);
	size_t n = m->sip_version != NULL ? strlen(m->sip_version) : 0;
	if (n == 0 || line.len <= n)
		return false;
	if (MSG_IS_RESPONSE(m)) /* "SIP/2.0 200 OK" */
		return strncasecmp(line.p, m->sip_version, n) == 0 && line.p[n] == ' ';
	/* "INVITE sip:a@b SIP/2.0": the version osip read ends the line */
	return strncasecmp(line.p + line.len - n, m->sip_version, n) == 0 && line.p[line.len - n - 1] == ' ';
}

/* A CR not followed by LF in the headers ends a line for osip but not for
 * the raw scanner (wire.h), which splits at LF: "From: a;tag=1\rTo: b" was
 * two headers to osip and one From with no To to the builder of our
 * replies (found by fuzz/sip_msg). RFC 3261 7: lines end in CRLF. The body
 * after the blank line may hold any byte. */
static bool has_bare_cr(const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl != NULL ? nl : end;
		size_t n = (size_t)(eol - p);
		if (n == 0 || (n == 1 && p[0] == '\r'))
			return false;
		const uint8_t *cr = memchr(p, '\r', n);
		if (cr != NULL && (cr != eol - 1 || nl == NULL))
			return true;
		p = eol + 1;
	}
	return false;
}

enum sy_rc sip_msg_parse(const uint8_t *buf, size_t len, struct sip_msg *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->max_forwards = -1;
	set_err(err, errlen, "");
	if (buf == NULL || len < 8 || len > SIP_MSG_LEN_MAX) {
		set_err(err, errlen, "Bad datagram length");
		return SY_ERR_PARSE;
	}
	osip_message_t *m = NULL;
	uint64_t refused = sip_osip_pool_refused();
	if (osip_message_init(&m) != 0) {
		set_err(err, errlen, "Out of memory");
		return SY_ERR_FULL;
	}
	int prc = osip_message_parse(m, (const char *)buf, len);
	if (sip_osip_pool_refused() != refused)
		goto out_full;
	if (prc != 0 || (m->sip_method == NULL && m->status_code == 0) ||
	    !start_line_is_one_line(m, (struct sy_str){(const char *)buf, len}) || has_bare_cr(buf, len)) {
		osip_message_free(m);
		set_err(err, errlen, "Unparseable message");
		return SY_ERR_PARSE;
	}
	out->m = m;
	out->raw = (struct sy_str){(const char *)buf, len};
	const char *why = check_start_line(out);
	if (why == NULL)
		why = check_via_from_to(out);
	if (why == NULL)
		why = check_callid_cseq(out);
	if (why == NULL)
		why = check_lengths(out, buf, len);
	if (sip_osip_pool_refused() != refused)
		goto out_full;
	if (why != NULL) {
		set_err(err, errlen, why);
		return SY_ERR_INVAL;
	}
	return SY_OK;
out_full:
	/* osip's pool is at its bound (osip_pool.h): not the sender's fault,
	 * and nothing may be answered with memory we do not have. */
	osip_message_free(m);
	*out = (struct sip_msg){.max_forwards = -1};
	set_err(err, errlen, "Out of memory");
	return SY_ERR_FULL;
}

void sip_msg_free(struct sip_msg *msg)
{
	if (msg->m != NULL)
		osip_message_free(msg->m);
	msg->m = NULL;
}

enum sy_rc sip_msg_to_buf(osip_message_t *m, char **buf, size_t *len)
{
	/* osip caches the parsed bytes; every caller here may have edited m. */
	osip_message_force_update(m);
	*buf = NULL;
	*len = 0;
	if (osip_message_to_str(m, buf, len) != 0 || *buf == NULL) {
		*buf = NULL;
		return SY_ERR_INVAL;
	}
	return SY_OK;
}

static const struct {
	int code;
	const char *phrase;
} reasons[] = {
    {100, "Trying"},
    {180, "Ringing"},
    {181, "Call Is Being Forwarded"},
    {182, "Queued"},
    {183, "Session Progress"},
    {199, "Early Dialog Terminated"},
    {200, "OK"},
    {202, "Accepted"},
    {204, "No Notification"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Moved Temporarily"},
    {305, "Use Proxy"},
    {380, "Alternative Service"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {410, "Gone"},
    {412, "Conditional Request Failed"},
    {413, "Request Entity Too Large"},
    {414, "Request-URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Unsupported URI Scheme"},
    {417, "Unknown Resource-Priority"},
    {420, "Bad Extension"},
    {421, "Extension Required"},
    {422, "Session Interval Too Small"},
    {423, "Interval Too Brief"},
    {428, "Use Identity Header"},
    {429, "Provide Referrer Identity"},
    {433, "Anonymity Disallowed"},
    {436, "Bad Identity-Info"},
    {437, "Unsupported Certificate"},
    {438, "Invalid Identity Header"},
    {480, "Temporarily Unavailable"},
    {481, "Call/Transaction Does Not Exist"},
    {482, "Loop Detected"},
    {483, "Too Many Hops"},
    {484, "Address Incomplete"},
    {485, "Ambiguous"},
    {486, "Busy Here"},
    {487, "Request Terminated"},
    {488, "Not Acceptable Here"},
    {489, "Bad Event"},
    {491, "Request Pending"},
    {493, "Undecipherable"},
    {494, "Security Agreement Required"},
    {500, "Server Internal Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Server Time-out"},
    {505, "Version Not Supported"},
    {513, "Message Too Large"},
    {580, "Precondition Failure"},
    {600, "Busy Everywhere"},
    {603, "Decline"},
    {604, "Does Not Exist Anywhere"},
    {606, "Not Acceptable"},
    {607, "Unwanted"},
    {608, "Rejected"},
};

const char *sip_reason_phrase(int status)
{
	static const char *const by_class[] = {"Unknown",      "Provisional",  "Success",	"Redirection",
					       "Client Error", "Server Error", "Global Failure"};
	for (size_t i = 0; i < SY_ARRAY_LEN(reasons); i++)
		if (reasons[i].code == status)
			return reasons[i].phrase;
	if (status >= 100 && status <= 699)
		return by_class[status / 100];
	return by_class[0];
}

static int clone_via(void *src, void **dst)
{
	return osip_via_clone(src, (osip_via_t **)dst);
}

static int clone_route(void *src, void **dst)
{
	return osip_from_clone(src, (osip_from_t **)dst);
}

/* Copies From, To, Call-ID from src; each present one must clone. */
static bool copy_dialog_headers(const osip_message_t *src, osip_message_t *dst)
{
	if (src->from != NULL && osip_from_clone(src->from, &dst->from) != 0)
		return false;
	if (src->to != NULL && osip_to_clone(src->to, &dst->to) != 0)
		return false;
	if (src->call_id != NULL && osip_call_id_clone(src->call_id, &dst->call_id) != 0)
		return false;
	return true;
}

enum sy_rc sip_response_build(const osip_message_t *req, int status, const char *reason, const char *to_tag,
			      osip_message_t **out)
{
	osip_message_t *r = NULL;
	osip_generic_param_t *tag = NULL;
	*out = NULL;
	if (req == NULL || status < 100 || status > 699 || osip_message_init(&r) != 0)
		return SY_ERR_INVAL;
	osip_message_set_version(r, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(r, status);
	osip_message_set_reason_phrase(r, osip_strdup(reason != NULL ? reason : sip_reason_phrase(status)));
	if (osip_list_clone(&req->vias, &r->vias, clone_via) != 0 || !copy_dialog_headers(req, r))
		goto out_free;
	if (req->cseq != NULL && osip_cseq_clone(req->cseq, &r->cseq) != 0)
		goto out_free;
	if (to_tag != NULL && r->to != NULL && (osip_to_get_tag(r->to, &tag) != 0 || tag == NULL))
		osip_to_set_tag(r->to, osip_strdup(to_tag));
	if (osip_message_set_content_length(r, "0") != 0)
		goto out_free;
	osip_message_force_update(r);
	*out = r;
	return SY_OK;
out_free:
	osip_message_free(r);
	return SY_ERR_INVAL;
}

/* The shared skeleton of ACK and CANCEL (RFC 3261 9.1 and 17.1.1.3). */
static enum sy_rc build_from_invite(const osip_message_t *inv, const char *method, osip_message_t **out)
{
	osip_message_t *r = NULL;
	osip_uri_t *uri = NULL;
	osip_via_t *via = osip_list_get(&inv->vias, 0), *v2 = NULL;
	*out = NULL;
	if (via == NULL || inv->req_uri == NULL || inv->cseq == NULL || osip_message_init(&r) != 0)
		return SY_ERR_INVAL;
	osip_message_set_version(r, osip_strdup("SIP/2.0"));
	osip_message_set_method(r, osip_strdup(method));
	if (osip_uri_clone(inv->req_uri, &uri) != 0)
		goto out_free;
	osip_message_set_uri(r, uri);
	if (osip_via_clone(via, &v2) != 0)
		goto out_free;
	osip_list_add(&r->vias, v2, -1);
	if (!copy_dialog_headers(inv, r) || osip_list_clone(&inv->routes, &r->routes, clone_route) != 0)
		goto out_free;
	if (osip_cseq_init(&r->cseq) != 0)
		goto out_free;
	osip_cseq_set_number(r->cseq, osip_strdup(inv->cseq->number));
	osip_cseq_set_method(r->cseq, osip_strdup(method));
	osip_message_set_max_forwards(r, "70");
	osip_message_set_content_length(r, "0");
	osip_message_force_update(r);
	*out = r;
	return SY_OK;
out_free:
	osip_message_free(r);
	return SY_ERR_INVAL;
}

enum sy_rc sip_ack_build(const osip_message_t *invite, const osip_message_t *resp, osip_message_t **out)
{
	enum sy_rc rc = build_from_invite(invite, "ACK", out);
	if (rc != SY_OK)
		return rc;
	if (resp != NULL && resp->to != NULL) {
		osip_to_free((*out)->to);
		(*out)->to = NULL;
		if (osip_to_clone(resp->to, &(*out)->to) != 0) {
			osip_message_free(*out);
			*out = NULL;
			return SY_ERR_INVAL;
		}
	}
	return SY_OK;
}

enum sy_rc sip_cancel_build(const osip_message_t *invite, osip_message_t **out)
{
	return build_from_invite(invite, "CANCEL", out);
}

enum sy_rc sip_via_push(osip_message_t *req, const struct sy_addr *local, const char *branch)
{
	char host[SY_ADDR_STRLEN], port[8];
	osip_via_t *via = NULL;
	if (req == NULL || branch == NULL || osip_via_init(&via) != 0)
		return SY_ERR_INVAL;
	sy_addr_fmt_host(local, host, sizeof(host));
	snprintf(port, sizeof(port), "%u", local->port);
	osip_via_set_version(via, osip_strdup("2.0"));
	osip_via_set_protocol(via, osip_strdup("UDP"));
	osip_via_set_host(via, osip_strdup(host));
	osip_via_set_port(via, osip_strdup(port));
	osip_via_set_branch(via, osip_strdup(branch));
	osip_via_param_add(via, osip_strdup("rport"), NULL);
	if (osip_list_add(&req->vias, via, 0) < 0) {
		osip_via_free(via);
		return SY_ERR_INVAL;
	}
	osip_message_force_update(req);
	return SY_OK;
}

void sip_branch_make(char *out, size_t n, uint64_t id)
{
	static const char hex[] = "0123456789abcdef";
	SY_ASSERT(out != NULL && n >= 24);
	memcpy(out, "z9hG4bK", 7);
	for (int i = 15; i >= 0; i--, id >>= 4)
		out[7 + i] = hex[id & 15];
	out[23] = '\0';
}

enum sy_rc sip_via_fix_received(osip_message_t *req, const struct sy_addr *from)
{
	osip_via_t *via = req ? osip_list_get(&req->vias, 0) : NULL;
	osip_generic_param_t *rport = NULL;
	char buf[SY_ADDR_STRLEN];
	struct sip_wbuf w;
	if (via == NULL || via->host == NULL)
		return SY_ERR_INVAL;
	if (osip_via_param_get_byname(via, "rport", &rport) != 0 || rport == NULL || rport->gvalue != NULL)
		return SY_OK;
	sip_w_init(&w, buf, sizeof(buf) - 1);
	sip_w_u64(&w, from->port);
	buf[w.len] = '\0';
	rport->gvalue = osip_strdup(buf);
	sip_w_init(&w, buf, sizeof(buf) - 1);
	sip_w_host(&w, from);
	buf[w.len] = '\0';
	osip_generic_param_t *rcv = NULL;
	if (strcmp(via->host, buf) != 0 && (osip_via_param_get_byname(via, "received", &rcv) != 0 || rcv == NULL))
		osip_via_set_received(via, osip_strdup(buf));
	osip_message_force_update(req);
	return SY_OK;
}

void sip_response_dest(const osip_message_t *resp, const struct sy_addr *from, struct sy_addr *out)
{
	/* Symmetric response (RFC 3581 behaviour whether or not the Via asks
	 * for it): the Via's sent-by is the sender's word, and sending to it
	 * would let anyone aim our responses at a third party. The packet's
	 * source is where a NATed caller listens anyway. */
	(void)resp;
	*out = *from;
}
