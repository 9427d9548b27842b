/* sipfast.h: a small SIP-over-UDP codec for the simulated peers (test
 * equipment, like SIPp's templates): a zero-copy scanner for the headers a
 * UA needs and bounds-checked builders. The switch under test uses libosip2;
 * this exists because the peers must cost far less than the switch. */
#ifndef SY_SIM_SIPFAST_H
#define SY_SIM_SIPFAST_H

#include "core/base.h"

#define SIPFAST_VIA_MAX 16 /* more Vias than this is SY_ERR_PARSE */
#define SIPFAST_RR_MAX 8   /* more Record-Route values than this is SY_ERR_PARSE */

/* Everything is a slice into the scanned buffer; absent means len == 0. */
struct sipfast_msg {
	bool is_request;
	struct sy_str method; /* request method */
	struct sy_str ruri;   /* request URI */
	int status;	      /* response status, 0 for requests */
	struct sy_str reason;

	struct sy_str via[SIPFAST_VIA_MAX]; /* every Via value, top first */
	size_t via_n;
	struct sy_str branch; /* branch of the top Via */
	struct sy_str from, from_tag;
	struct sy_str to, to_tag;
	struct sy_str call_id;
	uint32_t cseq;
	struct sy_str cseq_method;
	struct sy_str contact_uri; /* first Contact's URI, without <> */
	struct sy_str rr[SIPFAST_RR_MAX]; /* Record-Route values, in order */
	size_t rr_n;
	bool has_content_length;
	size_t content_length;
	struct sy_str body;
};

/* Scans one datagram. Pure: no allocation, never reads outside [p, p+len).
 * SY_ERR_PARSE on anything malformed, including a missing Via, From, To,
 * Call-ID or CSeq, and a body shorter than Content-Length. Bare LF line
 * ends and folded header lines are accepted, as RFC 3261 tolerant parsers do. */
enum sy_rc sipfast_parse(const char *p, size_t len, struct sipfast_msg *out);

/* True when a slice equals a C string, case-insensitively (method names). */
bool sipfast_is(struct sy_str s, const char *lit);

/* The URI inside a name-addr or addr-spec header value ("<sip:a@h>;tag=x"
 * gives "sip:a@h"). */
struct sy_str sipfast_uri_of(struct sy_str value);

/* A request. from/to are header values without their tag ("<sip:a@h>");
 * the tags, when non-empty, are appended as ";tag=". cseq_method defaults
 * to method. route values are copied as Route headers in order. */
struct sipfast_req {
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
 * scanned sipfast_msg). to_tag is appended when `to` has no tag yet. */
struct sipfast_resp {
	int status;
	struct sy_str reason; /* defaults to the RFC 3261 phrase */
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
enum sy_rc sipfast_build_request(const struct sipfast_req *r, char *buf, size_t cap, size_t *out_len);
enum sy_rc sipfast_build_response(const struct sipfast_resp *r, char *buf, size_t cap, size_t *out_len);

/* Fills the header fields of a response from a scanned request. */
void sipfast_resp_from_msg(struct sipfast_resp *r, const struct sipfast_msg *m, int status);

/* A small audio offer/answer (PCMU, PCMA, telephone-event). ip is a bare
 * host; ipv6 selects "IN IP6". Returns the length, 0 if it does not fit. */
size_t sipfast_sdp(char *buf, size_t cap, const char *ip, bool ipv6, uint16_t port, uint64_t sess_id);

const char *sipfast_reason(int status);

#endif
