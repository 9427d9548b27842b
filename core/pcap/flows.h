/* flows.h: what a capture holds, as a replayer needs it. SIP messages are
 * grouped into dialogs (by Call-ID) and transactions (top Via branch and
 * CSeq, or CSeq alone for RFC 2543 peers), each dialog's caller (the
 * sender of its first request) and callee told apart by address, every
 * message timed from its dialog's start; SMPP PDUs into binds (one per TCP
 * connection) with their submit/deliver exchanges. `switchyard pcap info`
 * prints it; peers/replay*.c replays it. */
#ifndef SY_PCAP_FLOWS_H
#define SY_PCAP_FLOWS_H

#include "core/pcap/read.h"

enum pcap_side { PCAP_SIDE_CALLER = 0, PCAP_SIDE_CALLEE = 1 };

/* One SIP message of a dialog, as captured. */
struct pcap_sip {
	uint64_t at_ns; /* since the dialog's first message */
	uint64_t frame; /* frame number in the capture */
	uint8_t from;	/* enum pcap_side: who sent it */
	bool request;
	bool retrans;  /* a copy of an earlier message of its transaction */
	uint16_t code; /* status of a response; 0 for a request */
	uint32_t cseq;
	uint32_t txn;	     /* index into the dialog's txns */
	uint8_t leg;	     /* index into the dialog's legs: which address pair carried it */
	char method[16];     /* the request's method; a response's CSeq method */
	const uint8_t *text; /* the message as captured (owned by the flows) */
	size_t len;
};

/* One hop of a dialog: the pair of addresses that carried some of its
 * messages. Leg 0 is the first request's (caller -> callee); a capture
 * taken at a proxy sees the same Call-ID on more legs (the proxy's other
 * side). On every leg, "caller" is the end that sent the leg's first
 * request (or received its first response). */
struct pcap_sip_leg {
	struct sy_addr caller, callee;
	uint32_t msg_n;
};

/* One transaction: a request and its responses. Keyed by (leg, top Via
 * branch, CSeq method) when the branch has RFC 3261's magic cookie, else by
 * (leg, CSeq number, CSeq method) (RFC 2543). The ACK of a 3xx-6xx belongs
 * to its INVITE's transaction; the ACK of a 2xx is a transaction of its own
 * (no response), whatever its branch. */
struct pcap_sip_txn {
	uint8_t from; /* enum pcap_side of the request's sender */
	uint8_t leg;
	bool has_request; /* false: only responses were captured */
	char method[16];
	uint32_t cseq;
	uint16_t final_code;	/* 0: no final response was captured */
	uint32_t provisional_n; /* distinct provisional responses (not retransmissions) */
	uint32_t msg_n;		/* messages, retransmissions included */
	uint32_t first_msg;	/* index into the dialog's msgs */
	uint32_t final_msg;	/* the first final response's index; UINT32_MAX: none */
};

struct pcap_dialog {
	const char *call_id;
	const char *from_user, *to_user; /* user parts of From and of the first request's URI ("" if none) */
	const char *method;		 /* of the first request: INVITE, REGISTER, OPTIONS, ... */
	struct sy_addr caller, callee;	 /* addresses of the two sides */
	enum pcap_proto proto;
	uint64_t start_ns;    /* capture time of its first message */
	uint64_t duration_ns; /* first to last message */
	struct pcap_sip *msgs;
	uint32_t msg_n;
	struct pcap_sip_txn *txns;
	uint32_t txn_n;
	bool complete;		       /* the first request got a final response */
	const char *from_tag, *to_tag; /* the caller's tag and the callee's first ("" if none) */
	struct pcap_sip_leg *legs;     /* legs[0]: caller -> callee */
	uint32_t leg_n;
	uint32_t retrans_n;    /* messages marked retrans */
	uint64_t max_gap_ns;   /* the largest gap between two of its messages */
	uint64_t ts_backwards; /* messages stamped before the one before (at_ns kept from it) */
};

/* One SMPP PDU of a bind. */
struct pcap_smpp {
	uint64_t at_ns;
	uint64_t frame;
	uint8_t from; /* PCAP_SIDE_CALLER: the ESME (it opened the connection or sent the bind) */
	uint32_t command_id, status, seq;
	const uint8_t *pdu; /* the whole PDU, header included */
	size_t len;
	uint32_t pair; /* the response of a request, the request of a response (index into pdus); UINT32_MAX: none */
};

struct pcap_smpp_bind {
	struct sy_addr esme, smsc;
	const char *system_id; /* "" when the bind itself was not captured */
	uint32_t bind_command; /* bind_transmitter/receiver/transceiver; 0 if not captured */
	uint32_t bind_status;
	uint64_t start_ns, duration_ns;
	struct pcap_smpp *pdus;
	uint32_t pdu_n;
	uint32_t submits, submit_resps, delivers, deliver_resps;
	uint32_t submit_errors, deliver_errors; /* responses with a command_status other than ESME_ROK */
	uint32_t unanswered;			/* requests without a captured response */
};

/* An address that sent or received SIP or SMPP messages. */
struct pcap_host {
	struct sy_addr addr;
	uint64_t sent, received;
};

/* A gap between two consecutive messages of the capture larger than this
 * is implausible for signalling (pcaps/sip_ipv6_udp.pcap jumps years):
 * counted in ts_jumps, so `pcap info` warns and a replayer clamps. */
#define PCAP_FLOWS_JUMP_NS (3600ull * SY_NS_PER_S)
/* The longest SIP message or SMPP PDU kept; a longer one is counted
 * malformed (it bounds what one message costs the flows). */
#define PCAP_FLOWS_MSG_MAX (64u * 1024)

struct pcap_flows {
	struct pcap_read_stats stats;
	struct pcap_dialog *dialogs; /* by start time */
	uint32_t dialog_n;
	struct pcap_smpp_bind *binds;
	uint32_t bind_n;
	uint64_t sip_malformed; /* SIP payloads that did not parse as SIP */
	uint64_t first_sip_malformed_frame;
	uint64_t start_ns, end_ns;    /* first and last message of the capture */
	uint64_t sip_msgs, smpp_pdus; /* messages kept (malformed ones are not) */
	uint64_t smpp_malformed;      /* SMPP payloads shorter than a header or with a wrong command_length */
	uint64_t first_smpp_malformed_frame;
	/* Timing, over the messages in capture order: stamps earlier than the
	 * message before; gaps over PCAP_FLOWS_JUMP_NS (and the frame after the
	 * first); the largest gap inside one dialog or bind, and its frame. */
	uint64_t ts_backwards, ts_jumps, first_ts_jump_frame;
	uint64_t max_gap_ns, max_gap_frame;
	struct pcap_host *hosts; /* in order of first appearance */
	uint32_t host_n;
	void *impl; /* the builder's arena and indexes */
};

/* Reads a capture (pcap_read_file) and builds its flows. */
enum sy_rc pcap_flows_load(const struct sy_env *env, const char *path, const struct pcap_read_cfg *cfg,
			   struct pcap_flows **out, char *err, size_t errlen);
/* Building by hand, message by message (unit tests, and the loader).
 * create: NULL when out of memory. add: SY_OK (a malformed payload is
 * counted, not an error), SY_ERR_NOMEM; messages must come in capture
 * order. finish: sorts dialogs and binds by start time; no add after it. */
struct pcap_flows *pcap_flows_create(void);
enum sy_rc pcap_flows_add(struct pcap_flows *f, const struct pcap_msg *m);
void pcap_flows_finish(struct pcap_flows *f);
void pcap_flows_free(struct pcap_flows *f);

#endif
