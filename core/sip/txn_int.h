/* txn_int.h: what the transaction layer's files share (txn.c: the pool,
 * hash table, timers and stack; txn_client.c: ICT/NICT; txn_server.c:
 * IST/NIST and the receive path). Not for use outside core/sip/txn*.c. */
#ifndef SY_SIP_TXN_INT_H
#define SY_SIP_TXN_INT_H

#include "core/pool.h"
#include "core/sip/txn.h"

#define NEVER	     UINT64_MAX
#define MAGIC_COOKIE "z9hG4bK"

enum {
	F_INTERNAL = 1 << 0,	   /* a CANCEL the stack sent: no TU callbacks */
	F_CANCEL_PENDING = 1 << 1, /* ICT: send CANCEL on the first 1xx */
	F_CANCEL_SENT = 1 << 2,
	F_ACKED = 1 << 3, /* IST Accepted: the TU saw the 2xx's ACK */
	F_IN_CB = 1 << 4, /* inside on_request: defer freeing req */
	F_DROP_REQ = 1 << 5,
	F_LINGER = 1 << 6,    /* final response done: counted in txn_lingering */
	F_STATELESS = 1 << 7, /* on the C stack, not pooled: no timer, nothing kept */
};

/* Kept small: at 10K calls/s a NIST sits 32 s in Completed, so this struct
 * and the last response's bytes are all a finished transaction holds; a
 * NIST whose final response is made from its request alone (a BYE's 200)
 * keeps not even those: it rebuilds the response from each retransmission
 * whose bytes hash like the original request (sip_txn_reply). */
struct sip_txn {
	struct sip_stack *stack;
	uint32_t hnext; /* next index + 1 in the bucket chain or free list */
	uint32_t self;	/* own index + 1 in the pool */
	/* Packed in one word (and peer right after it): 1.2 M of these linger
	 * at 10K calls/s, so each 8 bytes here is ~10 MB. */
	uint32_t kind : 2;     /* enum sip_txn_kind */
	uint32_t state : 3;    /* enum sip_txn_state */
	uint32_t method : 5;   /* enum sip_method */
	uint32_t endq : 3;     /* 1 + the end queue it waits on (txn.c), 0: none */
	uint32_t rebuild : 10; /* NIST Completed: the final status, rebuilt per retransmission (buf NULL) */
	uint32_t flags : 8;    /* F_* */
	struct sy_addr peer;
	uint64_t key;	     /* hash of the branch (or RFC 2543 identity) */
	uint64_t sent_by;    /* server: hash of the top Via sent-by */
	osip_message_t *req; /* see sip_txn_request() in txn.h */
	char *raw;	     /* server: the request's bytes (Via fixed), as long as req */
	char *buf;	     /* bytes to retransmit: request, ACK or last response */
	uint32_t buf_len, raw_len;
	union {
		uint64_t retx_ival_ns; /* ICT, NICT, IST: the current retransmission interval */
		uint64_t req_hash; /* NIST with rebuild (never retransmits): hash of the request's bytes (Via fixed) */
	};
	uint64_t retx_at_ns, end_at_ns, timer_at_ns;
	union { /* endq != 0: on an end queue, else maybe an env timer */
		sy_timer_id timer;
		struct {
			uint32_t endq_prev, endq_next; /* index + 1 on the end queue, 0: none */
		};
	};
	void *user;
};

/* Transactions whose only deadline is their end (Timers D I J K M, an
 * ACKed L) wait on one of these FIFOs, ordered by end_at_ns, instead of an
 * env timer each: at 10K calls/s a million of them linger, and one timer
 * per queue for its head is all the event loop then holds for them. A
 * queue takes one length of wait from now (32 s for D J M, T4 for I K,
 * 32 s - T1 for an L ACKed before its first 2xx retransmission), so its
 * ends fall in the order they are queued; a wait no queue takes goes on
 * an env timer of its own. */
#define ENDQ_N 4

struct txn_endq {
	struct sip_stack *stack;
	uint32_t head, tail; /* index + 1, 0: empty */
	sy_timer_id timer;   /* for the head's end */
	uint64_t wait_ns;    /* end_at_ns - the time each was queued */
};

struct sip_stack {
	struct sip_stack_cfg cfg;
	const struct sy_env *env;
	struct sy_pool pool;
	uint32_t *buckets; /* index + 1 of the chain head, 0 = empty */
	uint32_t mask;
	uint32_t free_head; /* index + 1 of a recycled txn; 0: grow the pool */
	uint64_t hash_seed;
	const struct sy_addr *rx_from; /* the datagram being received, or NULL */
	char sent_by[SY_ADDR_STRLEN];  /* our Via sent-by, "host:port" */
	size_t sent_by_len;
	uint32_t txn_cap;		  /* pool objects: txn_max, or what mem_max holds */
	uint64_t held_bytes;		  /* raw and buf of live transactions, as allocated */
	uint64_t lag_win_ns;		  /* start of the current 1 s lag window */
	uint64_t lag_cur_ns, lag_prev_ns; /* latest timer in this window, the one before */
	struct txn_endq endq[ENDQ_N];
	struct sip_stack_stats stats;
};

/* Who wants a transaction: new work stops at admit_pct of the limits,
 * work inside a dialog may use the reserve above it. */
enum txn_class { TXN_NEW, TXN_DIALOG };

_Static_assert(sizeof(struct sip_txn) <= 136, "keep transactions small");
_Static_assert(SIP_TS_TERMINATED < 8 && SIP_M_PRACK < 32 && ENDQ_N < 8, "sip_txn's bit-fields hold these");

struct sip_txn *sip_txn__hash_find(struct sip_stack *s, uint64_t key, bool server, uint64_t sent_by,
				   enum sip_method method);
void sip_txn__hash_insert(struct sip_stack *s, struct sip_txn *t);
bool sip_txn__is_server(const struct sip_txn *t);
uint64_t sip_txn__now_ns(const struct sip_stack *s);
void sip_txn__recv_response(struct sip_stack *s, const struct sip_msg *resp);
char *sip_txn__reply_bytes(struct sy_str req, const struct sip_reply *r, uint32_t *len);
void sip_txn__send_bytes(struct sip_stack *s, const struct sy_addr *to, const char *buf, size_t len);
enum sy_rc sip_txn__send_msg(struct sip_stack *s, osip_message_t *m, const struct sy_addr *to, char **keep,
			     uint32_t *keep_len);
/* The top Via's sent-by (sip_msg via_host, via_port), hashed. */
uint64_t sip_txn__sent_by_hash(const struct sip_stack *s, const struct sip_msg *m);
void sip_txn__server_sent(struct sip_txn *st, int code, char *buf, uint32_t len);
struct sip_txn *sip_txn__alloc(struct sip_stack *s, enum txn_class cls);
void sip_txn__held(struct sip_stack *s, int64_t delta);
int64_t sip_txn__held_of(const char *p, uint32_t len);
uint64_t sip_txn__lag_recent(const struct sip_stack *s, uint64_t now);
void sip_txn__linger(struct sip_txn *t);
void sip_txn__arm(struct sip_txn *t);
void sip_txn__free_req(struct sip_txn *t);
void sip_txn__keep(struct sip_txn *t, char *buf, uint32_t len);
uint64_t sip_txn__key(const struct sip_stack *s, const struct sip_msg *m);
enum sy_rc sip_txn__respond_stateless(struct sip_stack *s, const struct sip_msg *req, const struct sy_addr *from,
				      const struct sip_reply *r);
void sip_txn__tag(struct sip_stack *s, const char *prefix, struct sip_wbuf *w, char *buf, size_t n);
size_t sip_txn__retry_after(const struct sip_stack *s, char *buf, size_t n);

#endif
