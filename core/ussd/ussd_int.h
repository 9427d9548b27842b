/* ussd_int.h: the gateway's parts inside core/ussd/: the session engine
 * (ussd.c, sess.c: the sessions, their states and timers, the applications,
 * charging, records) and the links (link.c: SMPP toward the operators' USSD
 * nodes: accepting their binds with authentication and per-source limits,
 * or binding to them; PDUs <-> struct ussd_msg through codec.h; a queue per
 * link while the window is full). */
#ifndef SY_USSD_INT_H
#define SY_USSD_INT_H

#include "core/ussd/codec.h"
#include "core/ussd/http.h"
#include "core/ussd/ussd.h"

struct ussd_links;

/* ---- link.c, called by the engine ---- */

struct ussd_links_cfg {
	const struct sy_env *env;
	const struct ussd_cfg *cfg;
	struct ussd *u;	       /* for the callbacks below */
	struct ussd_stats *st; /* counters the links keep: rx_msgs, tx_msgs, rx_bad, links_up, binds_*, tx_queue_full */
	/* The engine's half below, called through these (required): ussd.c
	 * sets .on_msg = ussd__on_msg, .on_link_down = ussd__on_link_down.
	 * link.c never names those functions, so tests drive the links alone
	 * and libsycore.a links without the engine. */
	uint32_t (*on_msg)(struct ussd *u, uint16_t li, const struct ussd_msg *m);
	void (*on_link_down)(struct ussd *u, uint16_t li);
};
enum sy_rc ussd_links_create(const struct ussd_links_cfg *c, struct ussd_links **out, char *err, size_t errlen);
/* Listens on cfg->listen (accept-mode links) and starts binding the
 * bind-mode links (reconnecting with backoff, 1 s doubling to 30 s). */
enum sy_rc ussd_links_start(struct ussd_links *l, char *err, size_t errlen);
/* Unbinds every session; no callbacks after it. */
void ussd_links_stop(struct ussd_links *l);
void ussd_links_destroy(struct ussd_links *l);
/* Sends m toward the node of link li (as submit_sm on one of its bound
 * SMPP sessions; queued while the windows are full). SY_OK: sent or queued.
 * SY_ERR_STATE: the link has no bound session. SY_ERR_FULL: its queue is
 * full (counted tx_queue_full). */
enum sy_rc ussd_link_send(struct ussd_links *l, uint16_t li, const struct ussd_msg *m);
/* Memory the links hold (pools, queues), for stats.bytes. */
uint64_t ussd_links_bytes(const struct ussd_links *l);

/* ---- ussd.c, called by the links (through ussd_links_cfg.on_msg/on_link_down) ---- */

/* A dialogue message from link li (decoded). Returns the status for the
 * deliver_sm_resp: ESME_ROK, or ESME_RMSGQFUL/ESME_RSYSERR when it cannot be
 * taken at all (the engine answers refusals in the dialogue itself, with a
 * release text, and returns ESME_ROK). */
uint32_t ussd__on_msg(struct ussd *u, uint16_t li, const struct ussd_msg *m);
/* The last bound SMPP session of link li went away: its open sessions end
 * NETWORK_ABORT (nothing can be sent to their handsets). */
void ussd__on_link_down(struct ussd *u, uint16_t li);

/* ---- seams for tests (tests/test_ussd_session.c) ---- */

/* Outgoing dialogue messages go to fn instead of ussd_link_send (fn NULL:
 * back to the links). fn's rc is taken as ussd_link_send's. */
typedef enum sy_rc (*ussd_tx_fn)(void *arg, uint16_t li, const struct ussd_msg *m);
void ussd__set_tx(struct ussd *u, ussd_tx_fn fn, void *arg);

/* HTTP services' requests go to request/cancel instead of the HTTP client
 * (request NULL: back to it); the test answers by calling ussd__app_done
 * with the token, as the client would. request's rc as ussd_http_request's. */
struct ussd_app_seam {
	enum sy_rc (*request)(void *arg, uint16_t service, uint64_t token, const struct ussd_app_req *req);
	void (*cancel)(void *arg, uint64_t token);
	void *arg;
};
void ussd__set_app(struct ussd *u, const struct ussd_app_seam *s);
/* The HTTP client's done callback (arg is the struct ussd). */
void ussd__app_done(void *arg, uint64_t token, const struct ussd_app_reply *reply);

#endif
