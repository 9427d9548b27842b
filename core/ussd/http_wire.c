/* http_wire.c: what the USSD HTTP client puts on the wire and reads back,
 * as pure functions: the service URL, the form-encoded POST, the response
 * (libhttp_parser, fed in pieces) and the "CON "/"END " body rule. */
#include "core/ussd/http_int.h"

#include <stdio.h>

/* ---- the URL ---- */

static bool url_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

enum sy_rc ussd_http_url_parse(const char *url, struct ussd_http_url *out, const char **why)
{
	static const char scheme[] = "http://";
	memset(out, 0, sizeof(*out));
	if (strncmp(url, scheme, sizeof(scheme) - 1) != 0) {
		*why = strncmp(url, "https://", 8) == 0 ? "https is not supported (terminate TLS in front of the "
							  "application, or reach it over plain HTTP)"
							: "not an http:// URL";
		return SY_ERR_INVAL;
	}
	const char *auth = url + sizeof(scheme) - 1;
	size_t an = strcspn(auth, "/?#");
	const char *rest = auth + an;
	for (const char *c = url; *c; c++)
		if (!url_char_ok((unsigned char)*c)) {
			*why = "spaces or control characters in the URL";
			return SY_ERR_INVAL;
		}
	if (an == 0 || an >= sizeof(out->host)) {
		*why = "no host, or a host too long";
		return SY_ERR_INVAL;
	}
	if (memchr(auth, '@', an) != NULL) {
		*why = "user information in the URL is not supported";
		return SY_ERR_INVAL;
	}
	if (strchr(rest, '#') != NULL) {
		*why = "a fragment (#) in the URL";
		return SY_ERR_INVAL;
	}
	memcpy(out->host, auth, an);
	out->host[an] = '\0';
	if (sy_addr_parse(out->host, 80, &out->addr) != SY_OK || out->addr.port == 0) {
		*why = "the host must be a numeric IPv4 or [IPv6] address or localhost, the port 1..65535";
		return SY_ERR_INVAL;
	}
	int n = snprintf(out->path, sizeof(out->path), "%s%s", rest[0] == '/' ? "" : "/", rest);
	if (n < 0 || (size_t)n >= sizeof(out->path)) {
		*why = "the path is too long";
		return SY_ERR_INVAL;
	}
	return SY_OK;
}

/* ---- the request ---- */

static bool form_keep(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '*' || c == '-' ||
	       c == '.' || c == '_';
}

size_t ussd_http_form_encode(struct sy_str s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		size_t need = form_keep(c) || c == ' ' ? 1 : 3;
		if (cap - o < need)
			return SIZE_MAX;
		if (form_keep(c)) {
			out[o++] = (char)c;
		} else if (c == ' ') {
			out[o++] = '+';
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

/* "name=" and the encoded value at body + *at; false when it does not fit. */
static bool form_field(char *body, size_t cap, size_t *at, const char *name, struct sy_str v)
{
	int n = snprintf(body + *at, cap - *at, "%s%s=", *at > 0 ? "&" : "", name);
	if (n < 0 || (size_t)n >= cap - *at)
		return false;
	*at += (size_t)n;
	size_t e = ussd_http_form_encode(v, body + *at, cap - *at);
	if (e == SIZE_MAX)
		return false;
	*at += e;
	return true;
}

enum sy_rc ussd_http_req_build(const struct ussd_http_url *u, const struct ussd_app_req *r, char *buf, size_t cap,
			       size_t *len)
{
	char body[USSD_HTTP_REQ_MAX], id[24];
	size_t bl = 0;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)r->session_id);
	if (!form_field(body, sizeof(body), &bl, "sessionId", sy_str_from(id)) ||
	    !form_field(body, sizeof(body), &bl, "serviceCode", r->code) ||
	    !form_field(body, sizeof(body), &bl, "phoneNumber", r->msisdn) ||
	    !form_field(body, sizeof(body), &bl, "text", r->text))
		return SY_ERR_FULL;
	int n = snprintf(buf, cap,
			 "POST %s HTTP/1.1\r\n"
			 "Host: %s\r\n"
			 "User-Agent: switchyard-ussd\r\n"
			 "Accept: text/plain\r\n"
			 "Content-Type: application/x-www-form-urlencoded\r\n"
			 "Content-Length: %zu\r\n"
			 "Connection: keep-alive\r\n"
			 "\r\n",
			 u->path, u->host, bl);
	if (n < 0 || (size_t)n >= cap || cap - (size_t)n < bl)
		return SY_ERR_FULL;
	memcpy(buf + n, body, bl);
	*len = (size_t)n + bl;
	return SY_OK;
}

/* ---- the response ---- */

static int resp_on_begin(http_parser *p)
{
	struct ussd_http_resp *r = p->data;
	r->body_len = 0;
	r->too_long = false;
	return 0;
}

static int resp_on_headers(http_parser *p)
{
	struct ussd_http_resp *r = p->data;
	r->status = (uint16_t)p->status_code;
	r->keep_alive = http_should_keep_alive(p) != 0;
	return 0;
}

static int resp_on_body(http_parser *p, const char *at, size_t n)
{
	struct ussd_http_resp *r = p->data;
	if (n > sizeof(r->body) - r->body_len) {
		r->too_long = true;
		return 1; /* stops the parser: nothing more of this reply is wanted */
	}
	memcpy(r->body + r->body_len, at, n);
	r->body_len += n;
	return 0;
}

static int resp_on_complete(http_parser *p)
{
	struct ussd_http_resp *r = p->data;
	/* 100 Continue and friends come before the real reply; 101 is an
	 * upgrade, which the parser reports itself. */
	if (r->status >= 100 && r->status < 200 && r->status != 101)
		return 0;
	r->complete = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings resp_settings = {
    .on_message_begin = resp_on_begin,
    .on_headers_complete = resp_on_headers,
    .on_body = resp_on_body,
    .on_message_complete = resp_on_complete,
};

void ussd_http_resp_init(struct ussd_http_resp *r)
{
	r->status = 0;
	r->keep_alive = false;
	r->complete = false;
	r->too_long = false;
	r->started = false;
	r->body_len = 0;
	http_parser_init(&r->p, HTTP_RESPONSE);
	r->p.data = r;
}

enum sy_rc ussd_http_resp_feed(struct ussd_http_resp *r, const uint8_t *p, size_t n, size_t *used)
{
	SY_ASSERT(!r->complete);
	*used = 0;
	if (n == 0)
		return SY_AGAIN;
	r->started = true;
	size_t k = http_parser_execute(&r->p, &resp_settings, (const char *)p, n);
	*used = k;
	if (r->complete)
		return SY_OK;
	if (r->too_long)
		return SY_ERR_FULL;
	if (HTTP_PARSER_ERRNO(&r->p) != HPE_OK || r->p.upgrade || k != n)
		return SY_ERR_PARSE;
	return SY_AGAIN;
}

enum sy_rc ussd_http_resp_eof(struct ussd_http_resp *r)
{
	if (r->complete)
		return SY_OK;
	if (!r->started || HTTP_PARSER_ERRNO(&r->p) != HPE_OK)
		return SY_ERR_PARSE;
	(void)http_parser_execute(&r->p, &resp_settings, NULL, 0);
	return r->complete ? SY_OK : SY_ERR_PARSE;
}

/* ---- the body ---- */

/* Strict UTF-8: no overlongs, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i - 1 < k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

enum sy_rc ussd_http_body_parse(char *body, size_t len, bool *end, struct sy_str *text)
{
	if (len < 4)
		return SY_ERR_PARSE;
	if (memcmp(body, "CON", 3) == 0)
		*end = false;
	else if (memcmp(body, "END", 3) == 0)
		*end = true;
	else
		return SY_ERR_PARSE;
	size_t at = 3;
	if (body[at] == ' ' || body[at] == '\n')
		at++;
	else if (body[at] == '\r' && at + 1 < len && body[at + 1] == '\n')
		at += 2;
	else
		return SY_ERR_PARSE;
	/* CR LF -> LF and a lone CR -> LF, in place (the text only gets
	 * shorter): a handset shows lines, and no CR reaches it. */
	size_t o = at;
	for (size_t i = at; i < len; i++) {
		if (body[i] == '\r' && i + 1 < len && body[i + 1] == '\n')
			continue;
		body[o++] = body[i] == '\r' ? '\n' : body[i];
	}
	while (o > at && body[o - 1] == '\n')
		o--;
	if (!utf8_valid((const unsigned char *)body + at, o - at))
		return SY_ERR_PARSE;
	*text = (struct sy_str){body + at, o - at};
	return SY_OK;
}
