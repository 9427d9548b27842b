/* sim_int.h: what the simulator's own files share (sim.c: the world, event
 * records and timers; map.c: the address maps; dgram.c and stream.c: the
 * modelled sockets; disk.c: the modelled disk). Not for components. */
#ifndef SIM_SIM_INT_H
#define SIM_SIM_INT_H

#include "core/rng.h"
#include "core/timerq.h"
#include "sim/digest.h"
#include "sim/sim.h"

#define EV_CHUNK_SHIFT	 12
#define EV_CHUNK	 (1u << EV_CHUNK_SHIFT)
#define EV_NONE		 UINT32_MAX
#define SIM_DGRAM_MAX	 65535u
#define SIM_SEG_MAX	 65536u
#define SIM_EPHEMERAL_LO 49152u

enum { BUF_CLASSES = 4 };

struct sim_buf {
	struct sim_buf *next; /* free list */
	uint8_t cls;
	struct sy_addr src, dst;
	uint8_t data[];
};

enum st_what { ST_SYN = 1, ST_SYNACK, ST_DATA, ST_FIN, ST_RST };
enum end_state { END_IDLE = 0, END_CONNECTING, END_OPEN, END_CLOSED };

struct sim_conn;

/* What an event is, so what runs when it is reached (sim.c: ev_run). */
enum ev_kind { EV_TIMER = 1, EV_DGRAM, EV_STREAM };

/* One cache line: 64 bytes, 64-aligned in its chunk. */
struct sim_ev {
	/* First, so the queue node's address is the record's (intrusive event
	 * queue); qn.seq != 0 while queued. */
	struct sy_tq_node qn;
	struct sim_node *node; /* the node whose crash cancels it (timers) or that receives it */
	uint32_t idx, gen;
	uint32_t epoch; /* node epoch at scheduling time */
	uint32_t link;	/* free: the next free record; in a CPU FIFO: the next waiting (EV_NONE: none) */
	uint32_t len;	/* EV_DGRAM, EV_STREAM: payload bytes */
	uint8_t kind;	/* enum ev_kind */
	/* the CPU model (cpu.c): waiting in its node's FIFO, since first_ns */
	bool cpu_wait, cancelled; /* cancelled: a timer cancelled while it waited */
	uint8_t what;		  /* EV_STREAM: enum st_what | the sending end << 7 */
	uint64_t first_ns;
	union {
		struct {
			sy_timer_fn fn;
			void *arg;
		} t;
		struct {
			struct sim_buf *buf;
		} d;
		struct {
			struct sim_conn *c;
			struct sim_buf *buf;
		} s;
	} u;
};

struct sim_sock {
	struct sim_node *node;
	struct sy_addr local;
	sy_dgram_recv_fn fn;
	void *arg;
	bool bound;
	struct sim_sock *prev, *next;
};

struct sim_lsn {
	struct sim_node *node;
	struct sy_addr local;
	struct sy_stream_cbs cbs;
	void *arg;
	bool bound;
	struct sim_lsn *prev, *next;
};

struct sim_end {
	struct sim_conn *c;
	struct sim_node *node;
	struct sy_stream_cbs cbs;
	void *arg;
	uint8_t state;
	bool zombie; /* closed by a crash; the owner may still hold the handle */
	uint64_t queued;
	uint64_t last_tx_ns; /* segments never arrive before this: byte order */
	/* The last data segment sent, while it may take more bytes: writes at
	 * one virtual instant travel in one segment (stream.c: seg_coalesce). */
	uint64_t tail_at_ns; /* the instant it was sent */
	uint32_t tail_idx, tail_gen; /* its event; tail_gen 0: none */
	struct sy_addr local, peer;
};

struct sim_conn {
	struct sim_end end[2]; /* [0] connected, [1] accepted */
	uint32_t inflight;     /* events and callbacks that still reference it */
	struct sim_conn *prev, *next;
};

/* Open addressing, linear probing, backward-shift delete; keys are never 0. */
struct sim_map {
	uint64_t *keys;
	void **vals;
	uint32_t cap, n;
};

#define SIM_DISK_FAULTS_MAX 32

struct sim_disk_fault {
	struct sim *sim;
	enum sim_disk_mode mode;
	uint64_t slow_ns;
};

/* One overwritten range of a tracked file: its bytes before the write (or
 * before a truncation cut them off). */
struct sim_undo {
	uint64_t off;
	size_t len;
	uint8_t *old;
};

/* A tracked file, by path (it outlives its handles: a closed file's
 * unsynced writes are lost too). */
struct sim_pfile {
	struct sim_pfile *next;
	struct sim_node *node; /* whose power cut undoes it: the first to open it */
	char *path;
	bool synced_exists;   /* false: created since tracking began and never synced */
	bool gone;	      /* unlinked while open; a new file of that path is another */
	uint32_t open_n;      /* handles open on it */
	uint64_t size;	      /* now */
	uint64_t synced_size; /* at the last sync */
	struct sim_undo *undo;
	uint32_t undo_n, undo_cap;
	uint64_t unsynced_writes, unsynced_bytes; /* since the last sync */
};

struct sim_disk {
	enum sim_disk_mode mode;
	uint64_t slow_ns;
	struct sim_disk_stats st;
	struct sim_disk_fault faults[SIM_DISK_FAULTS_MAX];
	uint32_t faults_n;
	bool track;		  /* power-loss tracking (sim_disk_track) */
	struct sim_pfile *pfiles; /* tracked files, newest first */
};

struct sim_node {
	struct sim *sim;
	struct sy_env env;
	uint32_t idx;
	uint32_t ip; /* IPv4, host order */
	uint32_t epoch;
	bool up;
	uint16_t next_port;
	uint64_t seed;
	struct sy_rng rnd; /* env random: a stream of seed */
	sim_node_hook on_crash, on_restart;
	void *hook_arg;
	uint64_t timer_late_ns;	  /* the loaded-event-loop fault */
	uint64_t stall_until_ns;  /* a slow disk blocked the node until then */
	uint64_t disk_last_event; /* 1 + the event that last stalled it */
	bool power_off;		  /* in a power cut's crash: its disk refuses the closing components' writes */
	struct sim_cpu_cost cpu;  /* all zero: the CPU model is off */
	bool cpu_on;
	uint64_t busy_until_ns;		      /* the CPU model: busy with earlier work until then */
	uint64_t rcvbuf_used;		      /* bytes of datagrams waiting for the CPU */
	struct sim_ev *wait_head, *wait_tail; /* what came due while it was busy */
	struct sim_cpu_stats cpu_st;
	char name[48];
};

struct sim {
	uint64_t now_ns, seed, epoch_ns;
	enum sy_log_level log_level;
	struct sy_tq q;
	struct sim_ev **chunks;
	uint32_t nchunks, ev_free;
	struct sim_buf *buf_free[BUF_CLASSES];
	struct sim_node **nodes;
	uint32_t nnodes, cap_nodes;
	struct sim_node world;
	struct sim_map by_ip, socks_by_addr, lsns_by_addr;
	struct sim_sock *socks;
	struct sim_lsn *lsns;
	struct sim_conn *conns;
	struct sim_net *net;
	struct sim_digest digest;
	struct sim_stats stats;
	struct sim_disk disk;
};

static inline uint32_t sim_addr_ip(const struct sy_addr *a)
{
	return (uint32_t)a->ip[0] << 24 | (uint32_t)a->ip[1] << 16 | (uint32_t)a->ip[2] << 8 | a->ip[3];
}

static inline uint64_t sim_addr_key(const struct sy_addr *a)
{
	return (uint64_t)sim_addr_ip(a) << 16 | a->port;
}

void *sim_map_get(const struct sim_map *m, uint64_t key);
void sim_map_put(struct sim_map *m, uint64_t key, void *val);
void sim_map_del(struct sim_map *m, uint64_t key);
void sim_map_free(struct sim_map *m);

static inline struct sim_ev *sim_ev_at(struct sim *s, uint32_t idx)
{
	return &s->chunks[idx >> EV_CHUNK_SHIFT][idx & (EV_CHUNK - 1)];
}
uint16_t sim_node_ephemeral(struct sim_node *n, const struct sim_map *taken);
enum sy_rc sim_node_bind_addr(struct sim_node *n, const struct sy_addr *want, const struct sim_map *taken,
			      struct sy_addr *out);
enum sy_rc sim_dgram_open(void *ctx, const struct sy_addr *local, sy_dgram_recv_fn fn, void *arg,
			  struct sy_dgram **out);
void sim_sock_unbind(struct sim *s, struct sim_sock *k);
void sim_dgram_close(void *ctx, struct sy_dgram *d);
void sim_dgram_local(void *ctx, struct sy_dgram *d, struct sy_addr *out);
void sim_ev_dgram_fire(void *arg);
enum sy_rc sim_dgram_send(void *ctx, struct sy_dgram *d, const struct sy_addr *to, const void *buf, size_t len);
void sim_ev_stream_fire(void *arg);
enum sy_rc sim_stream_connect(void *ctx, const struct sy_addr *remote, const struct sy_stream_cbs *cbs, void *arg,
			      struct sy_stream **out);
enum sy_rc sim_stream_write(void *ctx, struct sy_stream *st, const void *buf, size_t len);
void sim_stream_close(void *ctx, struct sy_stream *st);
void sim_stream_set_arg(void *ctx, struct sy_stream *st, void *arg);
size_t sim_stream_queued(void *ctx, struct sy_stream *st);
void sim_stream_peer(void *ctx, struct sy_stream *st, struct sy_addr *out);
void sim_stream_local(void *ctx, struct sy_stream *st, struct sy_addr *out);
enum sy_rc sim_stream_listen(void *ctx, const struct sy_addr *local, const struct sy_stream_cbs *cbs, void *arg,
			     struct sy_listener **out);
void sim_lsn_unbind(struct sim *s, struct sim_lsn *l);
void sim_listener_close(void *ctx, struct sy_listener *lh);
void sim_node_drop_streams(struct sim *s, struct sim_node *n);
struct sim_ev *sim_ev_alloc(struct sim *s, struct sim_node *node);
void sim_ev_release(struct sim *s, struct sim_ev *ev);
bool sim_ev_queue(struct sim *s, struct sim_ev *ev, uint64_t at_ns);
struct sim_buf *sim_buf_get(struct sim *s, size_t len);
void sim_buf_put(struct sim *s, struct sim_buf *b);
size_t sim_buf_cap(const struct sim_buf *b);

/* disk.c */
enum sy_rc sim_file_open(void *ctx, const char *path, unsigned flags, struct sy_file **out);
enum sy_rc sim_file_read(void *ctx, struct sy_file *f, uint64_t off, void *buf, size_t len, size_t *got);
enum sy_rc sim_file_write(void *ctx, struct sy_file *f, uint64_t off, const void *buf, size_t len);
enum sy_rc sim_file_sync(void *ctx, struct sy_file *f);
enum sy_rc sim_file_sync_start(void *ctx, struct sy_file *f, sy_file_sync_fn fn, void *arg);
void sim_file_sync_wait(void *ctx, struct sy_file *f);
enum sy_rc sim_file_size(void *ctx, struct sy_file *f, uint64_t *out);
enum sy_rc sim_file_truncate(void *ctx, struct sy_file *f, uint64_t size);
void sim_file_close(void *ctx, struct sy_file *f);
enum sy_rc sim_file_lock(void *ctx, struct sy_file *f, uint64_t off, uint64_t len, enum sy_file_lock how);
enum sy_rc sim_file_unlink(void *ctx, const char *path);
bool sim_file_exists(void *ctx, const char *path);
enum sy_rc sim_dir_make(void *ctx, const char *path);
uint64_t sim_node_stall_ns(const struct sim_node *n);

/* cpu.c */
bool sim_cpu_timer(struct sim_node *n, struct sim_ev *ev, bool skip);
enum sim_cpu_verdict { SIM_CPU_RUN = 0, SIM_CPU_WAIT, SIM_CPU_DROP };
enum sim_cpu_verdict sim_cpu_rx(struct sim_node *n, struct sim_ev *ev, uint32_t len);
uint64_t sim_cpu_tx(struct sim_node *n);
void sim_cpu_reset(struct sim_node *n);
void sim_cpu_discard(struct sim_node *n);

#endif
