/* live.h: the real backend. struct sy_live owns a libevent event_base and
 * implements every op of struct sy_env (core/env.h) with the OS clock, UDP
 * and TCP sockets, signals and getrandom. It is the only part of core/ that
 * may touch the OS; everything else sees it through the env seam. */
#ifndef SY_LIVE_H
#define SY_LIVE_H

#include "core/env.h"

struct event_base;
struct sy_live;

struct sy_live_cfg {
	uint64_t seed;		     /* 0: draw one from getrandom() */
	enum sy_log_level log_level; /* messages above it are skipped */
	const char *trace_path;	     /* NULL: sy_env_event() is a no-op */
	uint32_t timers_max;	     /* 0: a default (1M pending timers) */
	/* Timers fire on a grid of this step (rounded up, never early), so
	 * timers due within one step share one wakeup and their sends one
	 * sendmmsg: a load generator at 5,000 CPS otherwise wakes, re-arms its
	 * timerfd and sends alone for each arrival. 0: exact (serve). */
	uint64_t timer_slack_ns;
	/* Put before each log line ("smsc-2"), when several loops share the
	 * process's stderr; NULL: none. */
	const char *name;
};

/* Counters since create. Drops are split by where they happened so a test
 * can account for every datagram: tx_dropped (socket buffer full),
 * tx_errors (any other send failure), rx_overflow (the kernel dropped
 * datagrams because our receive buffer was full, from SO_RXQ_OVFL).
 * dgram_tx counts datagrams the kernel took, so a queued one (see
 * "Datagram sends" below) shows in dgram_tx or a drop only once flushed. */
struct sy_live_stats {
	uint64_t dgram_rx, dgram_rx_bytes, dgram_rx_truncated, dgram_rx_overflow;
	uint64_t dgram_tx, dgram_tx_bytes, dgram_tx_dropped, dgram_tx_errors;
	uint64_t stream_rx_bytes, stream_tx_bytes, streams_opened, streams_closed;
	uint64_t timers_fired;
};

enum sy_rc sy_live_create(const struct sy_live_cfg *cfg, struct sy_live **out);
/* Closes every socket still open (without callbacks) and frees the base. */
void sy_live_destroy(struct sy_live *l);
/* An env with the file operations only (real files, no loop, no clock), for
 * tools and tests that read or write files outside a running node. */
const struct sy_env *sy_live_files(void);
/* The env to hand to components; valid until sy_live_destroy(). */
const struct sy_env *sy_live_env(struct sy_live *l);
/* For adding other libevent users (evhttp) to the same loop. */
struct event_base *sy_live_base(struct sy_live *l);

/* Datagram sends (sy_env_dgram_send) are batched: a datagram of up to
 * LIVE_TX_SLOT bytes (live_int.h, 2 KB) is copied into its socket's queue
 * and SY_OK returned; the queue goes to the kernel with one sendmmsg() at
 * the end of the loop iteration, when it holds LIVE_TX_QUEUE (64), before
 * the socket is closed, at the start of a run and in sy_live_destroy().
 * So a full socket buffer at flush time is no longer reported as SY_AGAIN
 * to the sender: it counts in dgram_tx_dropped (other kernel refusals in
 * dgram_tx_errors). Errors known at once are still returned: SY_ERR_INVAL
 * for an address family the socket cannot reach, and any result of a
 * larger datagram, which is sent at once with sendto() (after the queue,
 * so the order is kept). Why: one sendto() per datagram made the kernel
 * a third of the switch's CPU at a few thousand calls per second. */

/* Runs until sy_live_stop(), a handled signal, or nothing is left to wait on. */
enum sy_rc sy_live_run(struct sy_live *l);
/* As sy_live_run(), but also returns after ns of monotonic time. */
enum sy_rc sy_live_run_for(struct sy_live *l, uint64_t ns);
/* Makes the running loop return after the current callback. Call it from
 * loop context (a callback); signals go through sy_live_handle_signals(). */
void sy_live_stop(struct sy_live *l);
/* SIGINT and SIGTERM stop the loop (via libevent's signal pipe, so the
 * handler itself stays async-signal-safe). The signal events count as
 * events: after this, sy_live_run() only ends by stop or signal. */
enum sy_rc sy_live_handle_signals(struct sy_live *l);
/* SIGHUP calls fn(arg) from the loop (a callback like any other), for a
 * reload; the loop goes on. Without it SIGHUP keeps its default action. */
enum sy_rc sy_live_on_hup(struct sy_live *l, void (*fn)(void *arg), void *arg);
/* The signal that stopped the loop, or 0. */
int sy_live_stopped_by(const struct sy_live *l);

/* Re-reads the clocks; the loop does it before each callback batch. */
void sy_live_time_update(struct sy_live *l);
void sy_live_stats(const struct sy_live *l, struct sy_live_stats *out);
/* The address a listener is bound to (the real port when 0 was asked). */
void sy_live_listener_local(struct sy_live *l, struct sy_listener *ls, struct sy_addr *out);

/* Readiness for supervisors and tests (`--ready-file PATH`): a process
 * removes a stale file at start (a restart must not look ready before it
 * is), writes text to PATH once every listener is open (to PATH.tmp, then
 * rename, so a reader sees the whole file or none), and removes it when it
 * stops. Errors are logged and returned: a supervisor would wait forever. */
enum sy_rc sy_live_ready_clear(struct sy_live *l, const char *path);
enum sy_rc sy_live_ready_write(struct sy_live *l, const char *path, const char *text);

/* ---- Several loops in one process (serve's SMSC instances, one per core) ----
 *
 * Each loop stays single-threaded: only its own thread runs it and touches
 * what is on it. Other threads reach it in two ways only. */

/* A call for l's loop, posted from any thread (l's own included): fn(ctx,
 * data, len) runs on l's thread as one of its callbacks, with a copy of
 * the len bytes (at most SY_LIVE_POST_MAX), in the order posted. The loop
 * must have a mailbox (sy_live_mailbox_open, on its thread, before anyone
 * posts; it then waits on it, so sy_live_run only ends by stop or signal).
 * Records not run when the loop is destroyed are dropped: a poster that
 * needs an answer must tell a stopped loop from a slow one itself.
 * SY_ERR_NOMEM only; the queue grows as needed. */
#define SY_LIVE_POST_MAX 128
typedef void (*sy_live_post_fn)(void *ctx, const void *data, size_t len);
enum sy_rc sy_live_mailbox_open(struct sy_live *l);
enum sy_rc sy_live_post(struct sy_live *l, sy_live_post_fn fn, void *ctx, const void *data, size_t len);
/* Runs the records posted and not yet run, now, on the calling thread:
 * for the loop's owner once the loop's thread has ended (a shutdown that
 * must release what the records hold). */
void sy_live_mailbox_drain(struct sy_live *l);
/* Records posted and not yet taken by the loop (any thread). */
uint64_t sy_live_mailbox_pending(struct sy_live *l);

/* Moving an open stream to another loop: from inside one of st's own
 * callbacks on l (the SMSC hands an ESME stream over at its bind), st
 * leaves l: no more callbacks, the handle is gone when the callback
 * returns, and its socket stays open. What the other loop needs is in the
 * returned record: the socket, the peer, the callbacks, the output not yet
 * sent and the input read but not handed out (the bytes after the chunk
 * being delivered, which the owner has not seen). On the other loop's
 * thread, sy_live_stream_import() makes it a stream there (no on_open; the
 * pending output is sent first); then the owner feeds the unread bytes
 * (sy_live_moved_unread) before its loop reads the socket again, so the
 * byte order is kept. sy_live_moved_free() releases the record, closing the
 * socket unless it was imported. */
struct sy_live_moved;
enum sy_rc sy_live_stream_export(struct sy_live *l, struct sy_stream *st, struct sy_live_moved **out);
enum sy_rc sy_live_stream_import(struct sy_live *l, struct sy_live_moved *m, void *arg, struct sy_stream **out);
size_t sy_live_moved_unread(const struct sy_live_moved *m, const uint8_t **buf);
void sy_live_moved_free(struct sy_live_moved *m);

/* The process's RSS, CPU time, open descriptors and heap (process.h),
 * for the API's /metrics (api_cfg.process). */
#include "core/metrics/process.h"
void sy_live_process_stats(struct sy_process_stats *out);

#endif
