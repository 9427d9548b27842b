/* live_int.h: what the files of the live backend share (live.c: loop, clock,
 * timers, log; udp.c: datagram sockets; tcp.c: streams). Not for users. */
#ifndef SY_LIVE_INT_H
#define SY_LIVE_INT_H

#include <stdio.h>
#include <sys/socket.h>

#include "core/live/live.h"
#include "core/timerq.h"

/* recvmmsg batch: datagrams per call, and calls per wakeup so a flood on
 * one socket cannot starve the timers or the other sockets. */
#define LIVE_RX_BATCH	   32
#define LIVE_RX_CALLS_MAX  8
#define LIVE_RX_DGRAM_MAX  65536
#define LIVE_SOCKBUF_BYTES (4 * 1024 * 1024)

/* sendmmsg batch: datagrams queued per socket before it is flushed early,
 * and the largest one that is copied into the queue (SIP over UDP stays
 * under the path MTU; bigger ones go out at once with sendto). */
#define LIVE_TX_QUEUE 64
#define LIVE_TX_SLOT  2048

/* An intrusive list of open objects, so destroy can close what is left. */
struct live_link {
	struct live_link *prev, *next;
};

struct sy_live {
	struct sy_env env;
	struct event_base *base;
	uint64_t now_ns, wall_ns, seed;
	enum sy_log_level log_level;
	char name[24]; /* sy_live_cfg.name, "" for none */
	FILE *trace;
	uint8_t rnd[4096]; /* live_random: CSPRNG bytes not yet handed out */
	size_t rnd_pos;	   /* sizeof(rnd): empty */

	struct sy_tq tq;
	struct event *timer_ev;
	uint64_t armed_ns; /* deadline timer_ev is set for; UINT64_MAX: not armed */
	uint64_t slack_ns; /* sy_live_cfg.timer_slack_ns */
	bool firing;	   /* inside the timer batch: re-arm once at its end */

	struct event *sig_ev[2];
	struct event *hup_ev; /* sy_live_on_hup() */
	void (*hup_fn)(void *arg);
	void *hup_arg;
	struct event *deadline_ev; /* sy_live_run_for() */
	int stopped_by;
	bool stop, deadline_hit;

	struct live_syncer *syncer;   /* file.c: the sync thread, started by the first async sync */
	struct live_mailbox *mailbox; /* post.c: calls from other threads (sy_live_mailbox_open) */

	struct sy_live_stats st;
	struct live_link dgrams, streams, listeners;
	struct live_link tx_pending; /* datagram sockets with queued sends */

	/* One receive area for every socket: the core is single-threaded and
	 * a datagram is only valid during its callback. */
	uint8_t *rx_buf;
	struct mmsghdr rx_msg[LIVE_RX_BATCH];
	struct iovec rx_iov[LIVE_RX_BATCH];
	struct sockaddr_storage rx_name[LIVE_RX_BATCH];
	uint64_t rx_ctrl[LIVE_RX_BATCH][8];
};

void live__link_init(struct live_link *head);

/* file.c: the env's file operations on real files. */
enum sy_rc live__file_open(void *ctx, const char *path, unsigned flags, struct sy_file **out);
enum sy_rc live__file_read(void *ctx, struct sy_file *f, uint64_t off, void *buf, size_t len, size_t *got);
enum sy_rc live__file_write(void *ctx, struct sy_file *f, uint64_t off, const void *buf, size_t len);
enum sy_rc live__file_sync(void *ctx, struct sy_file *f);
enum sy_rc live__file_sync_start(void *ctx, struct sy_file *f, sy_file_sync_fn fn, void *arg);
void live__file_sync_wait(void *ctx, struct sy_file *f);
/* Stops the sync thread (after the syncs queued) and frees what is left. */
void live__syncer_destroy(struct sy_live *l);
enum sy_rc live__file_size(void *ctx, struct sy_file *f, uint64_t *out);
enum sy_rc live__file_truncate(void *ctx, struct sy_file *f, uint64_t size);
void live__file_close(void *ctx, struct sy_file *f);
enum sy_rc live__file_lock(void *ctx, struct sy_file *f, uint64_t off, uint64_t len, enum sy_file_lock how);
enum sy_rc live__file_unlink(void *ctx, const char *path);
bool live__file_exists(void *ctx, const char *path);
enum sy_rc live__dir_make(void *ctx, const char *path);
void live__link_add(struct live_link *head, struct live_link *n);
void live__link_del(struct live_link *n);

void live__log(struct sy_live *l, enum sy_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* sockaddr <-> sy_addr; v4-mapped IPv6 addresses come back as IPv4. */
socklen_t live__sockaddr(const struct sy_addr *a, bool v6_socket, struct sockaddr_storage *ss);
void live__addr(const struct sockaddr *sa, struct sy_addr *out);

/* udp.c */
enum sy_rc live__dgram_open(void *ctx, const struct sy_addr *local, sy_dgram_recv_fn fn, void *arg,
			    struct sy_dgram **out);
enum sy_rc live__dgram_send(void *ctx, struct sy_dgram *s, const struct sy_addr *to, const void *buf, size_t len);
void live__dgram_close(void *ctx, struct sy_dgram *s);
void live__dgram_local(void *ctx, struct sy_dgram *s, struct sy_addr *out);
void live__dgram_close_all(struct sy_live *l);
/* Hands every queued datagram to the kernel; the loop calls it before each
 * wait, so a send waits at most for the end of its loop iteration. */
void live__dgram_flush_all(struct sy_live *l);

/* tcp.c */
enum sy_rc live__stream_listen(void *ctx, const struct sy_addr *local, const struct sy_stream_cbs *cbs, void *arg,
			       struct sy_listener **out);
void live__listener_close(void *ctx, struct sy_listener *ls);
enum sy_rc live__stream_connect(void *ctx, const struct sy_addr *remote, const struct sy_stream_cbs *cbs, void *arg,
				struct sy_stream **out);
enum sy_rc live__stream_write(void *ctx, struct sy_stream *s, const void *buf, size_t len);
void live__stream_set_arg(void *ctx, struct sy_stream *s, void *arg);
size_t live__stream_queued(void *ctx, struct sy_stream *s);
void live__stream_close(void *ctx, struct sy_stream *s);
void live__stream_peer(void *ctx, struct sy_stream *s, struct sy_addr *out);
void live__stream_local(void *ctx, struct sy_stream *s, struct sy_addr *out);
void live__stream_close_all(struct sy_live *l);

/* post.c: frees the mailbox; records never run are dropped. */
void live__mailbox_close(struct sy_live *l);

#endif
