/* wire.h: the one SIP text layer of the hot path. SIP text for the messages
 * this node sends, written straight into a buffer; a header scanner over the
 * raw bytes of a message osip already validated; and the user-agent side
 * the peers use (wire_ua.c: a strict whole-datagram scan on the same line
 * scanner, and builders on the same writer). At 10K calls/s, building an
 * osip_message_t (setters re-parse every string) and serializing it cost
 * more than parsing what we receive; Kamailio builds replies from the raw
 * request the same way. See wire.c for where libosip2 stays. */
#ifndef SY_SIP_WIRE_H
#define SY_SIP_WIRE_H

#include "core/env.h"

/* ---- writer: bounded, never fails mid-way; check `over` at the end ---- */

struct sip_wbuf {
	char *p;
	size_t len, cap;
	bool over; /* something did not fit: the contents are unusable */
};

static inline void sip_w_init(struct sip_wbuf *w, char *p, size_t cap)
{
	*w = (struct sip_wbuf){.p = p, .cap = cap};
}

static inline void sip_w_mem(struct sip_wbuf *w, const void *s, size_t n)
{
	if (n > w->cap - w->len) {
		w->over = true;
		return;
	}
	if (n == 0) /* s may be NULL (an empty slice) */
		return;
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

#define sip_w_lit(w, lit) sip_w_mem((w), (lit), sizeof(lit) - 1)

static inline void sip_w_str(struct sip_wbuf *w, struct sy_str s)
{
	sip_w_mem(w, s.p, s.len);
}

static inline void sip_w_cstr(struct sip_wbuf *w, const char *s)
{
	sip_w_mem(w, s, strlen(s));
}

void sip_w_u64(struct sip_wbuf *w, uint64_t v);
/* Exactly 16 lower-case hex digits (branches, tags). */
void sip_w_hex64(struct sip_wbuf *w, uint64_t v);
/* Hex digits without leading zeros ("0" for 0). */
void sip_w_hex(struct sip_wbuf *w, uint64_t v);
/* "1.2.3.4" or "::1" (no brackets), as sy_addr_fmt_host but without printf. */
void sip_w_host(struct sip_wbuf *w, const struct sy_addr *a);
/* "1.2.3.4:5060" or "[::1]:5060", as sy_addr_fmt. */
void sip_w_addr(struct sip_wbuf *w, const struct sy_addr *a);
/* A NUL-terminated copy of w's text in a fresh osip_malloc() block (the
 * stack keeps it and frees it with osip_free); NULL when w overflowed. */
char *sip_w_dup(const struct sip_wbuf *w);

/* ---- scanner over a raw message osip accepted ---- */

enum sip_hdr {
	SIP_H_OTHER = 0,
	SIP_H_VIA,
	SIP_H_FROM,
	SIP_H_TO,
	SIP_H_CALL_ID,
	SIP_H_CSEQ,
	SIP_H_CONTACT,
	SIP_H_CONTENT_TYPE,
	SIP_H_CONTENT_LENGTH,
	SIP_H_ROUTE,
	SIP_H_RECORD_ROUTE,
	SIP_H_MAX_FORWARDS,
};

struct sip_raw_hdr {
	enum sip_hdr id; /* compact forms (v f t i m c l) map to the full name */
	struct sy_str name;
	struct sy_str value; /* trimmed; folded lines stay inside */
};

/* The id of a header name (compact forms included), as the scanner sets it. */
enum sip_hdr sip_raw_hdr_id(struct sy_str name);
/* The start line without its line end. */
struct sy_str sip_raw_start_line(struct sy_str msg);
/* Iterates header fields: *pos starts at 0; false at the blank line that
 * ends the headers or at the end of msg (then *pos is where the body
 * starts, or msg.len). Never reads outside msg. */
bool sip_raw_next(struct sy_str msg, size_t *pos, struct sip_raw_hdr *h);
/* The one line scanner under sip_raw_next and sip_ua_parse (wire_ua.c):
 * one step from *pos (the start of a header line). SIP_RAW_HDR fills h;
 * SIP_RAW_NOCOLON is a line that is not a header; SIP_RAW_END is the blank
 * line (*pos is then where the body starts); SIP_RAW_EOF is the end of msg
 * without a blank line. Never reads outside msg. */
enum sip_raw_line { SIP_RAW_HDR, SIP_RAW_NOCOLON, SIP_RAW_END, SIP_RAW_EOF };
enum sip_raw_line sip_raw_scan(struct sy_str msg, size_t *pos, struct sip_raw_hdr *h);
/* Where the first header line starts (after the start line's line end). */
size_t sip_raw_headers_at(struct sy_str msg);
/* The first header with this id; false when absent. */
bool sip_raw_find(struct sy_str msg, enum sip_hdr id, struct sy_str *value);
/* Content-Type value and body (Content-Length bytes, or the rest when the
 * header is absent). Both empty when there is no body. */
void sip_raw_body(struct sy_str msg, struct sy_str *ctype, struct sy_str *body);
/* The URI of a name-addr or addr-spec ("\"A\" <sip:a@h>;x" -> "sip:a@h"). */
struct sy_str sip_raw_uri_of(struct sy_str value);
/* True when a From/To value carries a tag parameter. */
bool sip_raw_has_tag(struct sy_str value);
/* The tag parameter's value of a From/To value; empty when absent. */
struct sy_str sip_raw_tag(struct sy_str value);
/* Iterates the items of a comma-separated value (commas inside quotes and
 * <> do not count): *pos starts at 0; each item is trimmed and may be empty
 * ("a,,b"); false after the last one. An empty value has one empty item. */
bool sip_raw_list_next(struct sy_str value, size_t *pos, struct sy_str *item);
/* The top Via value of a Via header value (up to the first top-level ','). */
struct sy_str sip_raw_top_via(struct sy_str value);

/* The branch parameter's value in a (top) Via value; empty when absent. */
struct sy_str sip_raw_via_branch(struct sy_str via);

/* ---- builders ---- */

/* What a response adds to the headers copied from its request. */
struct sip_reply {
	int status;
	const char *reason;    /* NULL: the standard phrase */
	struct sy_str to_tag;  /* added to To when it has no tag; empty: none */
	struct sy_str contact; /* a Contact value ("<sip:...>"); empty: none */
	struct sy_str extra;   /* whole header lines, each ending in CRLF */
	struct sy_str content_type, body;
};

/* A response to req per RFC 3261 8.2.6: status line, every Via (in order),
 * From, To (+ tag), Call-ID and CSeq copied from req, then Contact, extra,
 * Content-Type and Content-Length, and the body. */
void sip_raw_response(struct sip_wbuf *w, struct sy_str req, const struct sip_reply *r);

/* A request this node sends (RFC 3261 8.1.1). The stack writes the Via. */
struct sip_request {
	const char *method;
	struct sy_str ruri;
	struct sy_str from, to, call_id; /* header values, tags included */
	uint32_t cseq;
	int max_forwards;
	const struct sy_str *routes; /* Route values, in order */
	size_t route_n;
	struct sy_str contact; /* a Contact value; empty: none */
	struct sy_str extra;   /* whole header lines, each ending in CRLF */
	struct sy_str content_type, body;
};

/* Writes rq with the top Via "SIP/2.0/UDP <sent_by>;branch=<branch>;rport". */
void sip_raw_request(struct sip_wbuf *w, struct sy_str sent_by, struct sy_str branch, const struct sip_request *rq);

/* The CANCEL (RFC 3261 9.1) or the ACK of a 3xx-6xx (17.1.1.3) for the raw
 * INVITE inv this node sent: same Request-URI, top Via, Route, From,
 * Call-ID and CSeq number; To from inv, or resp_to when non-empty. */
void sip_raw_cancel_ack(struct sip_wbuf *w, struct sy_str inv, const char *method, struct sy_str resp_to);

/* Copies a received request into out and, as sip_via_fix_received does on
 * the parsed message (RFC 3581), fills an empty rport of the top Via with
 * the source port and adds received=<source ip> when the sent-by host
 * differs. Returns the length, or 0 when it does not fit in cap. */
size_t sip_raw_fix_via(struct sy_str msg, const struct sy_addr *from, char *out, size_t cap);

/* ---- the user-agent side (wire_ua.c): what the peers send and read ---- */

#define SIP_UA_VIA_MAX 16 /* more Vias than this is SY_ERR_PARSE */
#define SIP_UA_RR_MAX  8  /* more Record-Route values than this is SY_ERR_PARSE */

/* One scanned datagram: slices into it; absent means len == 0. */
struct sip_ua_msg {
	bool is_request;
	struct sy_str method; /* request method */
	struct sy_str ruri;   /* request URI */
	int status;	      /* response status, 0 for requests */
	struct sy_str reason;

	struct sy_str via[SIP_UA_VIA_MAX]; /* every Via value, top first */
	size_t via_n;
	struct sy_str branch; /* branch of the top Via */
	struct sy_str from, from_tag;
	struct sy_str to, to_tag;
	struct sy_str call_id;
	uint32_t cseq;
	struct sy_str cseq_method;
	struct sy_str contact_uri;	 /* first Contact's URI, without <> */
	struct sy_str rr[SIP_UA_RR_MAX]; /* Record-Route values, in order */
	size_t rr_n;
	bool has_content_length;
	size_t content_length;
	struct sy_str body;
};

/* Scans one datagram with sip_raw_scan. Pure: no allocation, never reads
 * outside [p, p+len). SY_ERR_PARSE on anything malformed: a line that is not
 * a header, no blank line, a missing Via, From, To, Call-ID or CSeq, a body
 * shorter than Content-Length. Bare LF line ends and folded header lines are
 * accepted, as RFC 3261 tolerant parsers do. */
enum sy_rc sip_ua_parse(const char *p, size_t len, struct sip_ua_msg *out);

/* A request. from/to are header values without their tag ("<sip:a@h>");
 * the tags, when non-empty, are appended as ";tag=". cseq_method defaults
 * to method. route values are copied as Route headers in order. */
struct sip_ua_req {
	struct sy_str method, ruri;
	struct sy_str via_host; /* sent-by, "1.2.3.4:5060" or "[::1]:5060" */
	struct sy_str branch;	/* must start with z9hG4bK */
	struct sy_str from, from_tag, to, to_tag;
	struct sy_str call_id;
	uint32_t cseq;
	struct sy_str cseq_method;
	struct sy_str contact; /* a URI, written as <uri>; optional */
	const struct sy_str *route;
	size_t route_n;
	struct sy_str content_type; /* defaults to application/sdp if body */
	struct sy_str body;
};

/* A response to a request whose headers are given (usually straight from a
 * scanned sip_ua_msg). to_tag is appended when `to` has no tag yet. */
struct sip_ua_resp {
	int status;
	struct sy_str reason; /* defaults to sip_reason_phrase() */
	const struct sy_str *via;
	size_t via_n;
	const struct sy_str *rr; /* Record-Route copied back (dialog forming) */
	size_t rr_n;
	struct sy_str from, to, to_tag, call_id;
	uint32_t cseq;
	struct sy_str cseq_method;
	struct sy_str contact; /* a URI, written as <uri>; optional */
	struct sy_str content_type;
	struct sy_str body;
};

/* Builders write into buf[0..cap) and set *out_len. SY_ERR_FULL when the
 * message does not fit, SY_ERR_INVAL on a missing mandatory field. */
enum sy_rc sip_ua_request(const struct sip_ua_req *r, char *buf, size_t cap, size_t *out_len);
enum sy_rc sip_ua_response(const struct sip_ua_resp *r, char *buf, size_t cap, size_t *out_len);

/* Fills the header fields of a response from a scanned request. */
void sip_ua_resp_from_msg(struct sip_ua_resp *r, const struct sip_ua_msg *m, int status);

/* The simulated callers' Call-IDs are "N-S@NAME" (N the call number, S
 * its slot): parses one, false when it is not of that form or not NAME's. */
bool sip_ua_cid_parse(struct sy_str cid, const char *name, uint64_t *n, uint64_t *slot);
/* A small audio offer/answer (PCMU, PCMA, telephone-event). ip is a bare
 * host; ipv6 selects "IN IP6". Returns the length (the text is also
 * NUL-terminated), 0 if it does not fit. */
size_t sip_ua_sdp(char *buf, size_t cap, const char *ip, bool ipv6, uint16_t port, uint64_t sess_id);

#endif
