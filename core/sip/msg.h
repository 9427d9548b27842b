/* msg.h: SIP messages on libosip2. Parsing wraps osip_message_parse() and
 * checks what RFC 3261 requires before a message may enter the transaction
 * layer; builders make the responses and in-dialog requests a UA needs.
 * Accessors return zero-copy slices into the parsed osip structures. */
#ifndef SY_SIP_MSG_H
#define SY_SIP_MSG_H

#include <osipparser2/osip_parser.h>

#include "core/env.h"

enum sip_method {
	SIP_M_OTHER = 0,
	SIP_M_INVITE,
	SIP_M_ACK,
	SIP_M_BYE,
	SIP_M_CANCEL,
	SIP_M_OPTIONS,
	SIP_M_REGISTER,
	SIP_M_INFO,
	SIP_M_UPDATE,
	SIP_M_PRACK,
};

/* A parsed message. The osip_message_t is owned by this struct. */
struct sip_msg {
	osip_message_t *m;
	enum sip_method method; /* request method; for a response, the CSeq method */
	int status;		/* 0 for requests */
	uint32_t cseq;
	struct sy_str branch; /* top Via branch parameter */
	struct sy_str call_id;
	struct sy_str from_tag;
	struct sy_str to_tag; /* empty when absent */
	int max_forwards;     /* -1 when absent */
	struct sy_str raw;    /* the bytes parsed (the caller's buffer) */
	/* the top Via's sent-by: host, and port (p NULL when it has none) */
	struct sy_str via_host, via_port;
};

/* Call once per process before any parsing (osip's parser tables). */
void sip_global_init(void);

enum sip_method sip_method_from(struct sy_str s);
const char *sip_method_name(enum sip_method m);

/* Parses buf into out.
 *  SY_OK         a well-formed message with Via, From, To, Call-ID, CSeq
 *                (and, for a response, a status) present and consistent
 *                (CSeq method == request method).
 *  SY_ERR_INVAL  parsed, but a mandatory header is missing or malformed:
 *                `out` is filled as far as possible (out->m may be used to
 *                answer 400) and err names the problem ("missing Call-ID").
 *  SY_ERR_PARSE  not parseable at all: drop it. out->m is NULL.
 *  SY_ERR_FULL   osip's memory pool is at its limit (osip_pool.h): drop
 *                it and count it as overload. out->m is NULL.
 * Never crashes on any input. */
enum sy_rc sip_msg_parse(const uint8_t *buf, size_t len, struct sip_msg *out, char *err, size_t errlen);
void sip_msg_free(struct sip_msg *msg);
/* sip_msg_parse for a TU that reads messages from their raw bytes (the
 * B2BUA): a 1xx or 2xx response, or an ACK or BYE, of the plain shape
 * trunks send (Request-URI "sip:user@host", one Via, From and To
 * "<sip:user@host>;tag=t", a token Call-ID, CSeq, Max-Forwards, Contact
 * without parameters, Content-Type type/subtype, Content-Length; no Route or
 * Record-Route, no header osip parses into a structure) is read without
 * osip: SY_OK with out->m NULL and every other field as sip_msg_parse fills
 * it. The shape is a strict subset of what osip accepts; anything else
 * (other methods, 3xx-6xx, any other byte) is sip_msg_parse's, with its
 * errors. */
enum sy_rc sip_msg_parse_fast(const uint8_t *buf, size_t len, struct sip_msg *out, char *err, size_t errlen);
/* Fills msg_fast.c's character classes (sip_global_init calls it). */
void sip_msg__fast_init(void);

/* Serializes with osip_message_to_str; *buf is freed with osip_free(). */
enum sy_rc sip_msg_to_buf(osip_message_t *m, char **buf, size_t *len);

/* A response to req per RFC 3261 8.2.6: Via (all, in order), From, To (with
 * to_tag added when non-NULL and To has none), Call-ID, CSeq copied;
 * Content-Length 0. reason NULL picks the standard phrase. */
enum sy_rc sip_response_build(const osip_message_t *req, int status, const char *reason, const char *to_tag,
			      osip_message_t **out);
const char *sip_reason_phrase(int status);

/* A new top Via "SIP/2.0/UDP host:port;branch=<branch>;rport" for a request
 * this node sends. */
enum sy_rc sip_via_push(osip_message_t *req, const struct sy_addr *local, const char *branch);
/* Writes a fresh RFC 3261 branch ("z9hG4bK" + 16 hex digits of n). */
void sip_branch_make(char *out, size_t n, uint64_t id);

/* Where to send a response: always the request's source address `from`
 * (RFC 3581's symmetric response, with or without rport), never a Via
 * host that differs from it: a forged Via must not turn the switch into
 * a reflector (docs/security.md). */
void sip_response_dest(const osip_message_t *resp, const struct sy_addr *from, struct sy_addr *out);

/* ---- extensions (h1) ---- */

/* Datagrams longer than this are refused unparsed (the UDP maximum). */
#define SIP_MSG_LEN_MAX 65535

/* RFC 3581 / 18.2.1 on a received request: when the top Via carries an
 * empty rport, sets rport to the source port and adds received=<source ip>
 * so responses (built by cloning Vias) carry them back. No-op otherwise. */
enum sy_rc sip_via_fix_received(osip_message_t *req, const struct sy_addr *from);

/* The ACK of RFC 3261 17.1.1.3 for a 3xx-6xx to invite: same Request-URI,
 * Call-ID, From, CSeq number, top Via and Route headers as the INVITE, To
 * from the response; Max-Forwards 70, Content-Length 0. */
enum sy_rc sip_ack_build(const osip_message_t *invite, const osip_message_t *resp, osip_message_t **out);
/* The CANCEL of RFC 3261 9.1 for invite (same top Via, so it shares the
 * INVITE's branch, and the same Route headers). */
enum sy_rc sip_cancel_build(const osip_message_t *invite, osip_message_t **out);

#endif
