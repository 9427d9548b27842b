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
	uint64_t at_ns;	   /* since the dialog's first message */
	uint64_t frame;	   /* frame number in the capture */
	uint8_t from;	   /* enum pcap_side: who sent it */
	bool request;
	bool retrans;	   /* a copy of an earlier message of its transaction */
	uint16_t code;	   /* status of a response; 0 for a request */
	uint32_t cseq;
	uint32_t txn;	   /* index into the dialog's txns */
	char method[16];   /* the request's method; a response's CSeq method */
	const uint8_t *text; /* the message as captured (owned by the flows) */
	size_t len;
};

/* One transaction: a request and its responses. */
struct pcap_sip_txn {
	uint8_t from;		/* enum pcap_side of the request's sender */
	char method[16];
	uint32_t cseq;
	uint16_t final_code;	/* 0: no final response was captured */
	uint32_t provisional_n; /* distinct provisional responses (not retransmissions) */
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
	bool complete; /* the first request got a final response */
};

/* One SMPP PDU of a bind. */
struct pcap_smpp {
	uint64_t at_ns;
	uint64_t frame;
	uint8_t from; /* PCAP_SIDE_CALLER: the ESME (it opened the connection or sent the bind) */
	uint32_t command_id, status, seq;
	const uint8_t *pdu; /* the whole PDU, header included */
	size_t len;
};

struct pcap_smpp_bind {
	struct sy_addr esme, smsc;
	const char *system_id;	/* "" when the bind itself was not captured */
	uint32_t bind_command;	/* bind_transmitter/receiver/transceiver; 0 if not captured */
	uint32_t bind_status;
	uint64_t start_ns, duration_ns;
	struct pcap_smpp *pdus;
	uint32_t pdu_n;
	uint32_t submits, submit_resps, delivers, deliver_resps;
};

struct pcap_flows {
	struct pcap_read_stats stats;
	struct pcap_dialog *dialogs; /* by start time */
	uint32_t dialog_n;
	struct pcap_smpp_bind *binds;
	uint32_t bind_n;
	uint64_t sip_malformed; /* SIP payloads that did not parse as SIP */
	uint64_t first_sip_malformed_frame;
	uint64_t start_ns, end_ns; /* first and last message of the capture */
	void *impl;		   /* the builder's arena and indexes */
};

/* Reads a capture (pcap_read_file) and builds its flows. */
enum sy_rc pcap_flows_load(const struct sy_env *env, const char *path, const struct pcap_read_cfg *cfg,
			   struct pcap_flows **out, char *err, size_t errlen);
/* Building by hand, message by message (unit tests, and the loader). */
struct pcap_flows *pcap_flows_create(void);
enum sy_rc pcap_flows_add(struct pcap_flows *f, const struct pcap_msg *m);
void pcap_flows_finish(struct pcap_flows *f);
void pcap_flows_free(struct pcap_flows *f);

#endif
