/* http_int.h: the pure parts of the USSD HTTP client (http_wire.c): the
 * service URL, the form-encoded request, and the response parser on
 * libhttp_parser with the "CON "/"END " body rule. No env, no IO: the
 * client (http.c) feeds them what its streams read, and so do the unit
 * tests and the fuzz harness (fuzz/ussd_http_fuzz.c). */
#ifndef SY_USSD_HTTP_INT_H
#define SY_USSD_HTTP_INT_H

#include <http_parser.h>

#include "core/ussd/http.h"

/* A reply body longer than this is refused (BAD) and its connection
 * closed: a USSD screen is at most 182 characters, so a real application
 * never comes near it. */
#define USSD_HTTP_BODY_MAX 4096
/* One request on the wire, headers and body (a request that does not fit
 * is refused BAD without being sent). */
#define USSD_HTTP_REQ_MAX  4096
#define USSD_HTTP_HOST_MAX (USSD_ADDR_MAX + 8)

/* http://host[:port]/path?query, parsed once at create. */
struct ussd_http_url {
	struct sy_addr addr;	       /* numeric, or localhost -> 127.0.0.1; port 80 when absent */
	char host[USSD_HTTP_HOST_MAX]; /* the Host header: the authority as written */
	char path[USSD_URL_MAX];       /* request target, "/" when the URL has none */
};

/* SY_ERR_INVAL with *why set (a static string) for anything else: another
 * scheme (https), userinfo, a host name other than localhost, a bad port,
 * a fragment, spaces or control characters. */
enum sy_rc ussd_http_url_parse(const char *url, struct ussd_http_url *out, const char **why);

/* Appends s percent-encoded as an HTML form does it
 * (application/x-www-form-urlencoded): ASCII letters, digits and "*-._"
 * kept, space as '+', every other byte %XX. Returns the bytes written, or
 * SIZE_MAX when cap is too small (nothing is promised about out then). */
size_t ussd_http_form_encode(struct sy_str s, char *out, size_t cap);
/* The whole POST (request line, Host, Content-Type, Content-Length,
 * Connection: keep-alive, the form body) into buf. SY_ERR_FULL when it
 * does not fit cap. */
enum sy_rc ussd_http_req_build(const struct ussd_http_url *u, const struct ussd_app_req *r, char *buf, size_t cap,
			       size_t *len);

/* One response, fed in pieces as they arrive. 1xx interim responses are
 * skipped; the body is kept up to USSD_HTTP_BODY_MAX. */
struct ussd_http_resp {
	http_parser p;
	uint16_t status;
	bool keep_alive; /* HTTP/1.1 without Connection: close (or 1.0 with keep-alive) */
	bool complete;
	bool too_long;
	bool started; /* a byte of it arrived */
	size_t body_len;
	char body[USSD_HTTP_BODY_MAX];
};

void ussd_http_resp_init(struct ussd_http_resp *r);
/* SY_AGAIN: not complete yet, every byte taken. SY_OK: complete; *used
 * bytes were this response's (the rest is not). SY_ERR_FULL: the body is
 * over the bound. SY_ERR_PARSE: not HTTP, or an upgrade. Nothing is fed
 * after an SY_OK or an error (init again for the next response). */
enum sy_rc ussd_http_resp_feed(struct ussd_http_resp *r, const uint8_t *p, size_t n, size_t *used);
/* The peer closed: SY_OK when that completes a body read to the end of the
 * connection (neither Content-Length nor chunked), else SY_ERR_PARSE. */
enum sy_rc ussd_http_resp_eof(struct ussd_http_resp *r);

/* A 2xx body: "CON <text>" or "END <text>" (also "CON"/"END" then a line
 * end). Line ends CR LF and a lone CR become LF and trailing ones are
 * dropped, rewriting body in place; text points into it and holds no CR.
 * SY_ERR_PARSE for any other body or text that is not UTF-8. */
enum sy_rc ussd_http_body_parse(char *body, size_t len, bool *end, struct sy_str *text);

#endif
