/* ussd_net.h: a simulated operator USSD node carrying many handsets'
 * dialogues over SMPP 3.4 to a USSD gateway (switchyard's core/ussd/ or any
 * other), written only against the env seam so the same code runs in the
 * simulator and as the live load generator (`switchyard load`).
 *
 * The node either binds to the gateway as a transceiver (the gateway's
 * accept-mode link: system_id/password) or listens for the gateway's bind
 * (its bind-mode link). Handsets dial at a rate (Poisson or even arrivals),
 * pick a service code and a path through its menu by weight, think before
 * each answer, may abandon at any step (the release goes out as the link's
 * release signal) and give up when the gateway stays silent too long. The
 * wire, as agreed for the gateway (docs/ussd.md):
 *
 *   dial      deliver_sm  src MSISDN, dst = short_message = "*123#" (or
 *                         "*123*1*2#"), ussd_service_op 1 (PSSR indication)
 *   screen    submit_sm   dst MSISDN, ussd_service_op 2 (USSR request):
 *                         answered submit_sm_resp, then the handset thinks
 *   input     deliver_sm  ussd_service_op 18 (USSR confirm), the input text
 *   end       submit_sm   ussd_service_op 17 (PSSR response) + END text
 *   release   deliver_sm  release_op (default 0x20), or the its_session_info
 *                         end bit when release_op is 0
 *
 * with the session reference per MSISDN from a counter (its_session_info's
 * 8-bit session number, or the 16-bit user_message_reference). A handset
 * never has two dialogues at once.
 *
 * Memory: an open dialogue is one fixed record (USSD_NET_SESS_BYTES) in
 * slabs that grow with the peak; a handset costs 6 bytes whether busy or
 * not; paths are shared by every dialogue, never copied. Think and no-answer
 * deadlines live in the node's own timer wheel (one env timer for all), so
 * a million open dialogues do not mean a million env timers. */
#ifndef SY_PEERS_USSD_NET_H
#define SY_PEERS_USSD_NET_H

#include "core/dist.h"
#include "core/env.h"
#include "core/metrics/counters.h"
#include "core/metrics/hist.h"
#include "core/ussd/ussd.h"

#define USSD_NET_CODES_MAX	16
#define USSD_NET_PATHS_MAX	64  /* over all codes */
#define USSD_NET_PATH_MAX	128 /* a path's text, "2*0722000111*100*1", with the NUL */
#define USSD_NET_INPUTS_MAX	32  /* inputs in one path */
#define USSD_NET_BINDS_MAX	16
#define USSD_NET_LOG_STEPS	64   /* transcript entries kept per dialogue (on_session_end) */
#define USSD_NET_LOG_TEXT_MAX	4096 /* transcript text bytes kept per dialogue */
#define USSD_NET_FAIL_TEXTS_MAX 4

enum ussd_net_mode {
	USSD_NET_BIND = 0, /* the node binds to the gateway (the gateway's accept-mode link) */
	USSD_NET_ACCEPT,   /* the node listens; the gateway binds to it (its bind-mode link) */
};

enum ussd_net_arrivals { USSD_NET_POISSON = 0, USSD_NET_EVEN };

/* One way through a service's menu: the inputs, in order, joined by '*'
 * ("2*0722000111*100*1"). Inputs before a '#' are dialled with the code
 * ("1*2#100" dials "*123*1*2#" and then answers "100"); "" is a dial and
 * nothing else (a one-screen service). */
struct ussd_net_path {
	const char *inputs; /* outlives the node */
	uint32_t weight;    /* relative, among the paths of its code */
};

struct ussd_net_code {
	const char *code; /* "*123#" (outlives the node) */
	uint32_t weight;  /* relative, among the codes */
	/* the code's paths: cfg.paths[path_first .. path_first + path_n) */
	uint16_t path_first, path_n;
};

/* Zero fields take the defaults given. */
struct ussd_net_cfg {
	const char *name; /* for logs (default "ussd-node") */
	uint32_t index;	  /* rng stream: sy_rng_init_split(seed, "ussd_net", index) */
	enum ussd_net_mode mode;
	struct sy_addr gateway; /* BIND: where the gateway listens */
	struct sy_addr listen;	/* ACCEPT: where the gateway binds to us */
	/* BIND: what we bind with; ACCEPT: what the gateway must bind with
	 * (password checked in constant time; "" = any password) */
	const char *system_id; /* required, <= 15 chars */
	const char *password;  /* <= 8 chars (default "") */
	uint32_t binds;	 /* BIND: transceiver sessions (default 1); ACCEPT: sessions accepted at most (default 4) */
	uint32_t window; /* our outstanding deliver_sm per session (default 1000) */
	enum ussd_ref_kind ref;
	uint8_t
	    release_op; /* ussd_service_op of a release (default 0x20; USSD_NET_RELEASE_END_BIT: the end bit only) */

	/* traffic */
	uint64_t rate_milli; /* new dialogues per 1000 s; required */
	enum ussd_net_arrivals arrivals;
	uint64_t start_ns;     /* first arrival start_ns after the first SMPP session is bound */
	uint64_t stop_ns;      /* no arrivals from that first bind + stop_ns; 0 = never */
	uint64_t sessions_max; /* arrivals at most; 0 = unbounded */
	struct ussd_net_code codes[USSD_NET_CODES_MAX];
	uint32_t code_n; /* >= 1 */
	struct ussd_net_path paths[USSD_NET_PATHS_MAX];
	uint32_t path_n;
	struct sy_dist think;	     /* screen received -> answer sent (default fixed 2 s) */
	uint32_t abandon_ppm;	     /* per screen: the user releases instead of answering */
	uint64_t handset_timeout_ns; /* no screen this long after a send: give up, release (default 200 s) */
	/* END texts that mean the gateway gave up (its timeout, error, busy
	 * and unknown-service texts): such an END is an early end even after
	 * the whole path. The handset cannot tell them apart otherwise. */
	const char *fail_texts[USSD_NET_FAIL_TEXTS_MAX];
	uint32_t fail_text_n;

	/* handsets: MSISDN = msisdn with its X digits replaced by the handset's
	 * index, zero-padded ("2547XXXXXXXX": 254700000000, 254700000001, ...) */
	const char *msisdn; /* default "2547XXXXXXXX"; <= 20 chars, at least one X */
	uint32_t handsets;  /* default 100,000; <= 10^(X count) */
	uint32_t open_max;  /* dialogues open at once (default handsets); beyond: skipped */
	uint64_t tick_ns;   /* the timer wheel's resolution (default 1 ms) */

	/* the SMPP sessions */
	uint64_t resp_timeout_ns;     /* deliver_sm_resp due within (session default 10 s) */
	uint64_t enquire_interval_ns; /* keepalive (session default 30 s) */
	uint64_t rebind_min_ns;	      /* BIND: first reconnect delay after a drop (default 500 ms) */
	uint64_t rebind_max_ns;	      /* BIND: doubling stops here (default 8 s) */
};
#define USSD_NET_RELEASE_END_BIT 0xFF

/* How a handset's dialogue ended. */
enum ussd_net_end {
	USSD_NET_END_NONE = 0,
	USSD_NET_END_COMPLETED, /* an END (PSSR response or end bit) after the whole path, not a fail_texts one */
	USSD_NET_END_EARLY,	/* an END or release from the gateway before the path was done (a timeout, error or
				   busy text) */
	USSD_NET_END_ABANDONED, /* the user released instead of answering (abandon_ppm) */
	USSD_NET_END_NO_ANSWER, /* the gateway stayed silent for handset_timeout_ns; we released */
	USSD_NET_END_OVERRUN,	/* a screen after the path's last input: the user had nothing more to say; we
				   released */
	USSD_NET_END_FAILED,	/* a deliver_sm answered with an error status or not at all */
	USSD_NET_END_LINK_LOST, /* the last SMPP session went away with the dialogue open */
	USSD_NET_END_STOPPED,	/* ussd_net_stop_all() with the dialogue open; we released */
	USSD_NET_END_COUNT
};
/* "completed", "ended_early", ... */
const char *ussd_net_end_name(enum ussd_net_end e);

/* A transcript entry: what the handset sent or received, in order. */
struct ussd_net_log_step {
	bool rx;	  /* true: from the gateway (a screen or the END text); false: dial or input */
	uint8_t op;	  /* ussd_service_op as on the wire */
	bool release;	  /* a release (or the end bit) */
	const char *text; /* UTF-8, NUL-terminated; valid during the callback only */
};

struct ussd_net_session_log {
	const char *msisdn, *code, *path; /* the handset, the code as configured, the path's inputs */
	const char *dialled;		  /* "*123*1#" as sent */
	uint16_t ref;
	enum ussd_net_end end;
	uint64_t begin_ns, end_ns; /* env time */
	uint32_t step_n;
	bool truncated; /* more than USSD_NET_LOG_STEPS entries or USSD_NET_LOG_TEXT_MAX bytes */
	const struct ussd_net_log_step *steps;
};
/* Called once per dialogue, when it ends (transcripts are kept only while
 * a hook is set: set it before ussd_net_start()). */
typedef void (*ussd_net_end_fn)(void *arg, const struct ussd_net_session_log *log);

struct ussd_net_stats {
	uint64_t arrivals;	  /* dialogues drawn (started + skipped) */
	uint64_t started;	  /* dials sent */
	uint64_t skipped_busy;	  /* no idle handset, or open_max reached */
	uint64_t skipped_unbound; /* no bound SMPP session */
	uint64_t ended[USSD_NET_END_COUNT];
	uint64_t inputs;	   /* USSR confirms sent */
	uint64_t screens;	   /* USSR requests received (CON) */
	uint64_t ends;		   /* PSSR responses / end bits received (END) */
	uint64_t notifications;	   /* USSN requests received (answered with a USSN confirm) */
	uint64_t releases;	   /* releases sent */
	uint64_t rx_msgs, tx_msgs; /* submit_sm received, deliver_sm sent */
	uint64_t rx_bad;	   /* submit_sm that did not decode (answered with its status) */
	uint64_t stray;		   /* a message for no open dialogue of that MSISDN and reference (answered) */
	uint64_t resp_errors;	   /* deliver_sm_resp with an error status */
	uint64_t resp_timeouts;	   /* no deliver_sm_resp in time */
	uint64_t window_waits;	   /* sends that waited for a window slot */
	uint64_t binds_ok, bind_failures, session_drops;
	uint64_t open, open_peak; /* gauges: dialogues open */
	uint64_t bytes;		  /* gauge: memory held (records, handset table, wheel) */
	struct sy_hist step;	  /* a send (dial or input) -> the gateway's next screen or END */
	struct sy_hist dialogue;  /* dial -> the end, completed dialogues */
};

/* The counters' table (ussd_net_counters.c): handsets.* in reports. */
extern const struct sy_counter_table ussd_net_counters;

struct ussd_net;

/* Copies cfg (its strings must outlive the node) and allocates the tables;
 * ACCEPT mode listens here. SY_ERR_INVAL on a bad cfg (err says what),
 * SY_ERR_NOMEM, or the transport's error. Nothing is sent before start. */
enum sy_rc ussd_net_create(const struct sy_env *env, const struct ussd_net_cfg *cfg, struct ussd_net **out, char *err,
			   size_t errlen);
void ussd_net_on_session_end(struct ussd_net *n, ussd_net_end_fn fn, void *arg);
/* BIND mode: binds; both: the arrivals start once a session is bound. */
void ussd_net_start(struct ussd_net *n);
/* No new dialogues; the open ones go on to their end. */
void ussd_net_stop(struct ussd_net *n);
/* Stops arrivals and releases every open dialogue now (end STOPPED). */
void ussd_net_stop_all(struct ussd_net *n);
/* Unbinds (BIND mode) or closes the accepted sessions; no rebinds after. */
void ussd_net_unbind(struct ussd_net *n);
const struct ussd_net_stats *ussd_net_stats(const struct ussd_net *n);
/* Dialogues open now (0 when the run drained). */
uint64_t ussd_net_open(const struct ussd_net *n);
/* Bound SMPP sessions now. */
uint32_t ussd_net_bound(const struct ussd_net *n);
/* Bytes one open dialogue's record takes (the bench's bytes per handset session). */
size_t ussd_net_sess_bytes(void);
void ussd_net_destroy(struct ussd_net *n);

#endif
