/* replay.h: captured traffic played again (docs/pcap.md, "Replay"). The
 * input is a capture's flows (core/pcap/flows.h); two simulated peers,
 * written against the env like peers/uac.c and peers/uas.c, so `sim`,
 * `load --target` and `switchyard replay` run the same code:
 *
 *   replay_uac (role = callers): each captured dialog is a script; copies
 *   run concurrently against a target with their Call-ID, tags, branches,
 *   Via, Contact and addresses rewritten, CSeq, methods, bodies and the
 *   captured in-dialog timing kept; the final codes that come back are
 *   compared with the capture's, dialog by dialog.
 *
 *   replay_uas (role = carriers): INVITEs (and other initial requests) are
 *   answered the way the capture's callee answered: provisional sequence,
 *   final code, delays, and a callee BYE at its captured offset.
 *
 * Everything that shapes the text sent is in replay_rw.c, pure, so the
 * unit tests check the rewriting without a network. */
#ifndef SY_PEERS_REPLAY_H
#define SY_PEERS_REPLAY_H

#include "core/env.h"
#include "core/metrics/counters.h"
#include "core/pcap/flows.h"

#define REPLAY_DIVERGENCES_MAX 5  /* kept for the report */
#define REPLAY_SEQ_MAX	       96 /* "INVITE 200, BYE 200" */
#define REPLAY_MAX_GAP_NS      (5 * SY_NS_PER_S)

enum replay_role { REPLAY_CALLERS = 0, REPLAY_CARRIERS };
enum replay_pace { REPLAY_PACE_ORIGINAL = 0, REPLAY_PACE_RATE, REPLAY_PACE_FACTOR };
enum replay_key { REPLAY_KEY_NUMBER = 0, REPLAY_KEY_ROUND_ROBIN };

struct replay_cfg {
	const char *name; /* in Call-IDs, tags, branches: token chars (default "rp") */
	const struct pcap_flows *flows;
	struct sy_addr local;
	struct sy_addr target; /* callers: where every request goes */
	enum replay_pace pace;
	uint64_t rate_milli;   /* REPLAY_PACE_RATE: dialogs per 1000 s */
	uint32_t factor_milli; /* REPLAY_PACE_FACTOR: x1000 (x10 = 10000) */
	uint32_t loop;	       /* passes over the capture; 0 = 1 */
	uint64_t limit;	       /* at most this many dialogs started; 0 = loop x dialogs */
	uint64_t max_gap_ns;   /* a captured gap longer than this is cut to it; 0 = 5 s */
	enum replay_key key;   /* carriers: called number or round-robin */
	uint32_t calls_max;    /* concurrent dialogs; 0 = sized from the pace */
	uint64_t t1_ns;	       /* default 500 ms */
	uint64_t start_ns;     /* first dialog this long after replay_uac_start() */
	const char *system_id, *password; /* SMPP: our bind's credentials (the capture's are not ours) */
};

/* One dialog whose final codes differed from the capture's. */
struct replay_divergence {
	char call_id[64]; /* the captured Call-ID */
	uint64_t copy;	  /* which copy (1-based, in start order) */
	char want[REPLAY_SEQ_MAX], got[REPLAY_SEQ_MAX];
};

struct replay_stats {
	uint64_t dialogs;      /* started */
	uint64_t completed;    /* ran to their end: matching + divergent */
	uint64_t matching;     /* every final code as captured */
	uint64_t divergent;    /* a final code differed (or a transaction the capture had did not happen) */
	uint64_t failed;       /* timed out: a response or a request the capture had never came */
	uint64_t skipped;      /* copies not started: the pool was full */
	uint64_t active;       /* dialogs in progress now */
	uint64_t requests;     /* requests sent (first copies) */
	uint64_t retransmits;  /* requests or responses sent again by timer */
	uint64_t answered;     /* requests of the far side answered with the captured code */
	uint64_t unmatched;    /* carriers: initial requests no captured dialog answers (404) */
	uint64_t gaps_clamped; /* captured gaps cut to max_gap */
	uint64_t rx_bad;       /* datagrams that did not scan or matched nothing */
	uint32_t div_n;
	struct replay_divergence div[REPLAY_DIVERGENCES_MAX];
};

extern const struct sy_counter_table replay_counters; /* struct replay_stats */

/* ---- callers ---- */
struct replay_uac;
enum sy_rc replay_uac_create(const struct sy_env *env, const struct replay_cfg *cfg, struct replay_uac **out);
void replay_uac_start(struct replay_uac *u);
/* True once every copy has been started and has ended. */
bool replay_uac_done(const struct replay_uac *u);
/* When the last copy starts, relative to replay_uac_start(). */
uint64_t replay_uac_span_ns(const struct replay_uac *u);
const struct replay_stats *replay_uac_stats(const struct replay_uac *u);
void replay_uac_destroy(struct replay_uac *u);

/* ---- callers of SMPP binds (replay_esme.c): an ESME per captured bind ---- */
struct replay_esme;
enum sy_rc replay_esme_create(const struct sy_env *env, const struct replay_cfg *cfg, struct replay_esme **out);
void replay_esme_start(struct replay_esme *e);
bool replay_esme_done(const struct replay_esme *e);
uint64_t replay_esme_span_ns(const struct replay_esme *e);
const struct replay_stats *replay_esme_stats(const struct replay_esme *e);
void replay_esme_destroy(struct replay_esme *e);

/* ---- carriers ---- */
struct replay_uas;
enum sy_rc replay_uas_create(const struct sy_env *env, const struct replay_cfg *cfg, struct replay_uas **out);
void replay_uas_local(const struct replay_uas *s, struct sy_addr *out);
const struct replay_stats *replay_uas_stats(const struct replay_uas *s);
void replay_uas_destroy(struct replay_uas *s);

/* ---- the pure parts (replay_rw.c) ---- */

/* A captured gap as replayed: divided by the pace factor, cut to max_gap
 * (*clamped set when it was). */
uint64_t replay_gap(const struct replay_cfg *cfg, uint64_t captured_ns, bool *clamped);
/* Where each captured dialog starts within one pass over the capture
 * (captured gaps between starts, as replay_gap makes them), offs[0..n),
 * and a pass's length, offs[n]: its last start plus that dialog's own
 * length. offs holds flows->dialog_n + 1 values. */
void replay_offsets(const struct replay_cfg *cfg, uint64_t *offs);
/* When copy number i (0-based, over loop passes) starts, relative to the
 * replay's start. */
uint64_t replay_start_at(const struct replay_cfg *cfg, const uint64_t *offs, uint64_t i);
/* Total copies the cfg asks for. */
uint64_t replay_total(const struct replay_cfg *cfg);

#define REPLAY_TXN_MAX 16 /* transactions of a dialog that are compared */
/* A dialog's final codes, transaction by transaction in order, ACK left
 * out: "INVITE 200, BYE 200"; a 0 code prints "-" (it never came).
 * codes[i] is for d->txns[i]; NULL takes the capture's own. */
size_t replay_seq_fmt(const struct pcap_dialog *d, const uint16_t *codes, char *buf, size_t cap);

/* What replay_rw_request puts in place of the capture's. */
struct replay_rw {
	struct sy_str ruri;	/* the whole new Request-URI */
	struct sy_str via_host; /* our sent-by, "ip:port" */
	struct sy_str branch;	/* z9hG4bK... */
	struct sy_str call_id;
	struct sy_str from_tag;	     /* replaces From's tag */
	struct sy_str to_tag;	     /* replaces To's tag; empty: To goes without one */
	struct sy_str from_host;     /* From's URI host:port ("" = keep) */
	struct sy_str to_host;	     /* To's URI host:port ("" = keep) */
	struct sy_str contact_host;  /* our "ip:port" for Contact */
	const struct sy_str *routes; /* Route values to write (in-dialog), in order */
	size_t route_n;
	const struct sy_addr *sdp_from; /* the capture's address in SDP c=/o= (NULL = none) */
	const char *sdp_to;		/* ours, bare */
	bool sdp_ipv6;			/* ours is IPv6 */
};

/* Rewrites one captured request (see docs/pcap.md for the rules). Returns
 * the length written, 0 when it does not fit or does not scan. */
size_t replay_rw_request(struct sy_str msg, const struct replay_rw *rw, char *out, size_t cap);
/* A SIP URI with its host:port replaced and a transport parameter dropped
 * ("sip:201@10.33.6.101;user=phone" -> "sip:201@HOST;user=phone"). 0 when
 * it is not a sip:/sips: URI or does not fit. */
size_t replay_rw_uri(struct sy_str uri, struct sy_str hostport, char *out, size_t cap);
/* An SDP body with "IN IP4|IP6 <from>" in c= and o= lines made ours. */
size_t replay_rw_sdp(struct sy_str body, const struct sy_addr *from, const char *to, bool ipv6, char *out, size_t cap);

#endif
