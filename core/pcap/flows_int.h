/* flows_int.h: what the flows builder keeps beside the public struct: an
 * arena for the copied text, growable arrays, and one hash index shared by
 * Call-IDs, transaction keys, hosts and connections (each kind tells its
 * entries apart by `kind`). Shared by flows.c (SIP),
 * flows_smpp.c and flows_mem.c. */
#ifndef SY_PCAP_FLOWS_INT_H
#define SY_PCAP_FLOWS_INT_H

#include "core/pcap/flows.h"

enum flows_key_kind {
	FLOWS_K_CALL_ID = 1, /* a = dialog */
	FLOWS_K_TXN,	     /* a = dialog, b = txn */
	FLOWS_K_HOST,	     /* a = host */
	FLOWS_K_CONN,	     /* a = bind */
	FLOWS_K_SMPP_REQ,    /* a = bind, b = PDU: a request, by sequence number */
};

struct flows_slot {
	uint64_t hash; /* 0: empty */
	uint32_t kind, a, b;
};

struct flows_index {
	struct flows_slot *slots;
	uint32_t cap, n; /* cap: a power of two */
};

struct flows_chunk {
	struct flows_chunk *next;
	size_t used, cap;
	uint8_t data[];
};

/* Per transaction, while building. */
struct flows_txn {
	const char *key;   /* its branch or "#CSEQ" (arena text) */
	uint32_t last_msg; /* its latest message: the head of the msgs' prev chain */
};

/* Per message, while building: the retransmission check walks a
 * transaction's messages back through prev, comparing hashes first. */
struct flows_msg {
	uint64_t hash;
	uint32_t prev; /* the transaction's message before; UINT32_MAX at its first */
};

/* How many earlier messages of its transaction a message is compared with:
 * an INVITE's retransmissions are a handful (RFC 3261 timer B), so this
 * only bounds what a hostile capture can make one message cost. */
#define FLOWS_RETRANS_WINDOW 32

/* Per dialog, while building. */
struct flows_dlg {
	uint32_t msg_cap, txn_cap, leg_cap, tx_cap, mx_cap;
	struct flows_txn *tx;
	struct flows_msg *mx;
	uint32_t first_txn; /* the first request's transaction; UINT32_MAX before it */
	uint64_t last_ns;   /* the last message's time as kept (never decreasing) */
	bool has_request;
};

/* Per bind, while building. */
struct flows_bind {
	uint32_t pdu_cap;
	bool esme_known; /* a PDU only an ESME (or only an SMSC) sends was seen */
	uint64_t last_ns;
};

struct flows_impl {
	struct flows_chunk *arena;
	struct flows_index idx;
	struct flows_dlg *dlgs;
	uint32_t dialog_cap, dlg_cap;
	struct flows_bind *bnds;
	uint32_t bind_cap, bnd_cap, host_cap;
	uint64_t last_ts_ns; /* of the previous message, for the capture's timing */
	bool any, finished;
};

static inline struct flows_impl *flows_impl(const struct pcap_flows *f)
{
	return f->impl;
}

/* flows_mem.c */
void *flows_alloc(struct pcap_flows *f, size_t n);
const char *flows_strdup(struct pcap_flows *f, struct sy_str s);
/* Grows *arr (of elem bytes each) so that index n fits; false when out of memory. */
bool flows_grow(void **arr, uint32_t *cap, uint32_t n, size_t elem);
uint64_t flows_hash(uint32_t kind, uint32_t a, struct sy_str s);
/* Walks the slots holding hash h: *pos starts at 0. NULL after the last. */
struct flows_slot *flows_idx_next(struct flows_index *x, uint64_t h, uint32_t *pos);
bool flows_idx_put(struct flows_index *x, uint64_t h, uint32_t kind, uint32_t a, uint32_t b);
void flows_idx_free(struct flows_index *x);
/* The index of the host with this address, added when new; UINT32_MAX when out of memory. */
uint32_t flows_host(struct pcap_flows *f, const struct sy_addr *a);
struct sy_str flows_conn_key(const struct sy_addr *x, const struct sy_addr *y, uint8_t buf[38]);
/* Capture-wide timing checks for one message in capture order. */
void flows_timing(struct pcap_flows *f, const struct pcap_msg *m);
/* The gap from *last_ns to ts (0 when ts is earlier), and *last_ns moved
 * forward to ts; the capture's largest gap is kept with its frame. */
uint64_t flows_step(struct pcap_flows *f, uint64_t *last_ns, uint64_t ts, uint64_t frame);

/* flows_smpp.c */
enum sy_rc flows_smpp_add(struct pcap_flows *f, const struct pcap_msg *m);
void flows_smpp_finish(struct pcap_flows *f);
void flows_smpp_free(struct pcap_flows *f);

#endif
