/* ussd_net_int.h: what the two parts of the simulated USSD node share
 * (ussd_net.c: creation, the SMPP sessions and what the gateway sends;
 * ussd_net_dlg.c: the dialogue records, the timer wheel, arrivals, sends
 * and ends). Not for other modules. */
#ifndef SY_PEERS_USSD_NET_INT_H
#define SY_PEERS_USSD_NET_INT_H

#include "ussd_net.h"

#include "core/rng.h"
#include "core/smpp/session.h"
#include "core/ussd/codec.h"

#define UN_NIL	     UINT32_MAX
#define UN_SLAB_BITS 16
#define UN_SLAB	     (1u << UN_SLAB_BITS)
#define UN_SLABS_MAX 256    /* 16.7 million dialogues open at once */
#define UN_WHEEL     65536u /* slots: 65.5 s at 1 ms; later deadlines wait their turn in a slot */

enum un_state { D_FREE = 0, D_WAIT, D_THINK, D_RELEASING };
enum un_send { SEND_NONE = 0, SEND_DIAL, SEND_INPUT, SEND_RELEASE, SEND_DROP /* ended: not sent, freed */ };
enum { F_WHEEL = 1u << 0, F_ABANDON = 1u << 1 };

/* One open dialogue: 64 bytes (asserted in ussd_net_dlg.c). */
struct un_dlg {
	uint32_t handset;
	uint32_t w_prev, w_next; /* in the wheel's slot list while F_WHEEL */
	uint32_t q_next;	 /* in the send queue while send != SEND_NONE */
	uint32_t deadline;	 /* wheel tick of the think or no-answer deadline */
	uint32_t gen;		 /* bumped when freed: a late deliver_sm_resp finds a stale tag */
	uint16_t code, path;
	uint16_t ref;
	uint8_t step;  /* inputs sent so far, the dialled ones included */
	uint8_t state; /* enum un_state */
	uint8_t seq;   /* its_session_info sequence number of our next message */
	uint8_t send;  /* enum un_send: queued for a window slot */
	uint8_t flags;
	uint8_t pad;
	uint64_t sent_ns;   /* the last dial or input, for the step latency */
	uint64_t begin_ns;  /* the dial */
	struct un_log *log; /* the transcript, while a hook is set */
};

/* A path, parsed once and shared: input i is text[off[i] .. off[i+1] - 1). */
struct un_path {
	uint8_t n, dialled; /* inputs; of them, how many go into the dial string */
	uint16_t off[USSD_NET_INPUTS_MAX + 1];
	char text[USSD_NET_PATH_MAX];
};

struct un_log {
	struct ussd_net_log_step steps[USSD_NET_LOG_STEPS];
	uint16_t off[USSD_NET_LOG_STEPS];
	uint32_t n, len;
	bool truncated;
	char dialled[USSD_CODE_MAX + USSD_NET_PATH_MAX];
	char text[USSD_NET_LOG_TEXT_MAX];
};

struct un_bind {
	struct ussd_net *n;
	struct smpp_session *s; /* NULL while waiting to reconnect (BIND) or free (ACCEPT) */
	bool bound, ever_bound;
	bool broken; /* a send failed: the session is going away, on_close follows */
	uint32_t fails;
	sy_timer_id t_rebind;
};

struct ussd_net {
	const struct sy_env *env;
	struct ussd_net_cfg cfg;
	struct ussd_codec_cfg codec;
	struct sy_rng rng;
	ussd_net_end_fn on_end;
	void *on_end_arg;
	struct smpp_pool *pool;
	struct un_bind binds[USSD_NET_BINDS_MAX];
	uint32_t bind_n, rr;
	/* paths and code weights */
	struct un_path paths[USSD_NET_PATHS_MAX];
	uint64_t code_total, path_total[USSD_NET_CODES_MAX];
	/* handsets: MSISDN pattern, busy table, reference counters */
	char msisdn[USSD_MSISDN_MAX];
	uint8_t x_pos[USSD_MSISDN_MAX], x_n, msisdn_len;
	uint32_t *hs_dlg; /* handset -> open dialogue, UN_NIL when idle */
	uint16_t *hs_ref; /* handset -> its last session reference */
	uint32_t hs_next; /* where the search for an idle handset starts */
	/* dialogue records, in slabs that grow with the peak */
	struct un_dlg *slabs[UN_SLABS_MAX];
	uint32_t slab_n, dlg_free;
	/* the send queue (window full) */
	uint32_t q_head, q_tail;
	/* the timer wheel: 1 env timer for every think and no-answer deadline */
	uint32_t *wheel;
	uint64_t origin_ns;
	uint64_t done_tick; /* every slot up to this tick has fired */
	uint64_t wheel_count;
	sy_timer_id t_wheel;
	/* arrivals */
	uint64_t start_ns, stop_at_ns, next_arrival_ns, arrival_k;
	sy_timer_id t_arrival;
	bool started, stopping, unbinding;
	bool wait_bind; /* started, arrivals not yet armed: no SMPP session bound so far */
	struct ussd_net_stats st;
	struct ussd_msg tx, rx; /* scratch */
	uint8_t pdu_buf[2 * USSD_TEXT_UTF8_MAX + 64];
};

static inline struct un_dlg *un_dlg_at(const struct ussd_net *n, uint32_t i)
{
	return &n->slabs[i >> UN_SLAB_BITS][i & (UN_SLAB - 1)];
}

/* ussd_net_dlg.c */
enum sy_rc un__tables_init(struct ussd_net *n);
void un__tables_free(struct ussd_net *n);
void un__schedule_arrival(struct ussd_net *n);
void un__pump(struct ussd_net *n);
/* A message from the gateway for the dialogue of m->msisdn / m->ref. */
void un__on_msg(struct ussd_net *n, const struct ussd_msg *m);
/* A deliver_sm we sent was refused or not answered (tag from the send). */
void un__send_failed(struct ussd_net *n, uint64_t tag);
/* Ends every open dialogue (release sent when release is true and a
 * session is bound). */
void un__end_all(struct ussd_net *n, enum ussd_net_end why, bool release);

/* ussd_net.c */
/* A bound session with a free window slot, or NULL. */
struct un_bind *un__bind_ready(struct ussd_net *n);
/* Sends m as deliver_sm on b; SY_OK or the session's error (b is then
 * marked broken). */
enum sy_rc un__send_msg(struct ussd_net *n, struct un_bind *b, const struct ussd_msg *m, uint64_t tag);

#endif
