/* sim.h: the discrete-event backend. A `struct sim` is one world: a virtual
 * clock, one event queue ordered by (time, seq), the master seed, a network
 * model and the determinism digest. A `struct sim_node` is one host in it
 * with its own struct sy_env, so core components run on it unchanged. */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stdio.h>

#include "core/env.h"

struct sim;
struct sim_node;
struct sim_net;
struct sim_digest;

struct sim_stats {
	uint64_t events;	   /* callbacks dispatched (timers, deliveries, world events) */
	uint64_t timers_fired;	   /* node timers that ran */
	uint64_t timers_dropped;   /* node timers discarded because their node crashed */
	uint64_t dgrams_sent;	   /* dgram_send calls accepted */
	uint64_t dgrams_delivered; /* recv callbacks run */
	uint64_t dgrams_lost;	   /* lost by the link model */
	uint64_t dgrams_down;	   /* dropped on a down link */
	uint64_t dgrams_dup;	   /* extra copies made by the link model */
	uint64_t dgrams_no_socket; /* arrived where nothing was bound */
	uint64_t dgrams_no_route;  /* destination IP owned by no node */
	uint64_t streams_opened;   /* connections accepted by a listener */
	uint64_t streams_refused;  /* connects to an address nobody listens on */
	uint64_t stream_bytes;	   /* bytes delivered by on_data */
	uint64_t stream_dropped;   /* bytes that arrived at a closed end */
	uint64_t stream_coalesced; /* writes that joined a segment sent at the same instant */
};

/* Limits; 0 picks the default (queue 64M entries). */
struct sim_opts {
	uint32_t queue_max;
	enum sy_log_level log_level; /* node log lines at or below go to stderr (default WARN) */
};

/* A world. epoch_ns is the virtual wall clock at t=0 (wall_ns = epoch + now). */
struct sim *sim_create(uint64_t seed, uint64_t epoch_ns);
struct sim *sim_create_opts(uint64_t seed, uint64_t epoch_ns, const struct sim_opts *opts);
void sim_destroy(struct sim *sim);

uint64_t sim_now(const struct sim *sim);
uint64_t sim_seed(const struct sim *sim);
const struct sim_stats *sim_stats(const struct sim *sim);
struct sim_net *sim_net_of(struct sim *sim);
struct sim_digest *sim_digest_of(struct sim *sim);
void sim_set_log_level(struct sim *sim, enum sy_log_level level);
/* Writes the event log as text to f (debug aid); NULL turns it off. */
void sim_set_event_text(struct sim *sim, FILE *f);
/* Entries in the event queue (includes timers of crashed nodes not yet reached). */
uint32_t sim_pending(const struct sim *sim);

/* Adds a host. ip is "10.0.0.7" or NULL for the next free 10.0.x.y.
 * Returns NULL when the name or IP is taken or the IP is not IPv4. */
struct sim_node *sim_node_add(struct sim *sim, const char *name, const char *ip);
struct sim_node *sim_node_find(struct sim *sim, const char *name);
struct sy_env *sim_node_env(struct sim_node *node);
const char *sim_node_name(const struct sim_node *node);
uint32_t sim_node_index(const struct sim_node *node);
/* The node's IP with the given port. */
struct sy_addr sim_node_addr(const struct sim_node *node, uint16_t port);
bool sim_node_is_up(const struct sim_node *node);

/* Crash: the node's pending timers never fire, its sockets and listeners are
 * unbound, its streams close (peers get on_close(SY_ERR_IO) after latency).
 * on_crash runs first so the owner can free its components; the old handles
 * are dead and must not be used again, except that dgram_close and
 * listener_close on them are harmless. Restart: marks the node up and runs
 * on_restart so the owner re-creates its components on the same env. */
typedef void (*sim_node_hook)(void *arg, struct sim_node *node);
void sim_node_set_hooks(struct sim_node *node, sim_node_hook on_crash, sim_node_hook on_restart, void *arg);
void sim_node_crash(struct sim_node *node);
void sim_node_restart(struct sim_node *node);
/* A loaded event loop (a fault): every timer the node starts from now on
 * fires late_ns after its deadline, as when the process is busy or
 * descheduled. 0 (the default) fires timers on time. */
void sim_node_set_timer_late(struct sim_node *node, uint64_t late_ns);
/* The CPU model (sim/cpu.c): a node is one single-threaded event loop.
 * Each datagram it receives costs rx_ns of virtual CPU, each it sends tx_ns,
 * each timer callback timer_ns. While the node is busy, what arrives waits
 * (in arrival order) and its timers fire late; what it sends leaves when
 * the work before it is done. Datagrams waiting hold up to rcvbuf_bytes of
 * the socket's receive buffer (each counted as its length + 768 bytes of
 * kernel overhead, as an skb's truesize); beyond it they are dropped, as
 * the kernel drops them. All zero (the default) is a free, infinitely fast
 * node. */
struct sim_cpu_cost {
	uint64_t rx_ns, tx_ns, timer_ns;
	uint64_t rcvbuf_bytes; /* 0: unbounded */
};
struct sim_cpu_stats {
	uint64_t rx, tx, timers; /* datagrams received and sent, timer callbacks (counted with the model off too) */
	uint64_t busy_ns;	 /* virtual CPU time spent */
	uint64_t waited;	 /* callbacks that found the node busy */
	uint64_t wait_max_ns;	 /* the longest any of them waited */
	uint64_t rcvbuf_drops;	 /* datagrams dropped on a full receive buffer */
	uint64_t rcvbuf_max;	 /* the most bytes ever waiting */
};
void sim_node_set_cpu(struct sim_node *node, const struct sim_cpu_cost *cost);
const struct sim_cpu_stats *sim_node_cpu_stats(const struct sim_node *node);
/* World-level helpers: crash at t, restart at t + down_ns. */
void sim_node_crash_at(struct sim_node *node, uint64_t t_ns, uint64_t down_ns);

/* A world-level event (fault, traffic start) at absolute time t_ns (clamped to
 * now if in the past). Returns 0 when the queue is full. */
sy_timer_id sim_at(struct sim *sim, uint64_t t_ns, sy_timer_fn fn, void *arg);
void sim_cancel(struct sim *sim, sy_timer_id id);

/* The simulated disk (sim/disk.c): one for the world, shared by every
 * node. Files pass through to the real filesystem; the modes model faults:
 * SLOW stalls a node by slow_ns for each event-loop callback that writes or
 * syncs (its later timers and sends are shifted by the stall); FULL fails
 * every write and every file or directory creation with SY_ERR_FULL
 * (ENOSPC); FSYNC_FAIL fails every sync with SY_ERR_IO. */
enum sim_disk_mode { SIM_DISK_OK = 0, SIM_DISK_SLOW, SIM_DISK_FULL, SIM_DISK_FSYNC_FAIL };
struct sim_disk_stats {
	uint64_t writes, syncs; /* calls that went through */
	uint64_t full_errors;	/* writes and creations refused by a full disk */
	uint64_t sync_errors;	/* failed syncs */
	uint64_t slow_ops;	/* stalls of a slow disk */
	uint64_t stall_ns;	/* their total */
	/* power loss (sim_node_power_loss_at), counted only while tracking */
	uint64_t power_losses;	       /* power cuts */
	uint64_t power_undone_writes;  /* writes made since their file's last sync, undone by a cut */
	uint64_t power_undone_bytes;   /* the bytes those writes wrote */
	uint64_t power_files_removed;  /* files created and never synced, gone after a cut */
	uint64_t power_tracked_writes; /* writes whose undo was remembered (0 with tracking off) */
};
void sim_disk_set(struct sim *sim, enum sim_disk_mode mode, uint64_t slow_ns);
/* The mode from t_ns for for_ns (0: to the end of the run), then back to OK.
 * false when more than 32 disk faults are scheduled or the queue is full. */
bool sim_disk_fault_at(struct sim *sim, uint64_t t_ns, uint64_t for_ns, enum sim_disk_mode mode, uint64_t slow_ns);
const struct sim_disk_stats *sim_disk_stats(const struct sim *sim);
/* Power loss. With tracking on, the disk remembers for every file what a
 * power cut would undo: the bytes each write overwrote since the file's last
 * sync (an undo log) and its size at that sync; a file created and never
 * synced is gone after a cut. Tracking costs a read before each overwrite
 * and the memory of the undo logs, so it is off unless a run schedules a
 * power loss; turn it on before the first file is opened. Turning it off
 * forgets every file's state. */
void sim_disk_track(struct sim *sim, bool on);
bool sim_disk_tracking(const struct sim *sim);
/* Cuts the node's power now: the node crashes (its on_crash hook runs, and
 * whatever its components write or sync while they close is refused, the
 * disk being gone), then every file the node wrote is put back as it was at
 * its last sync, closed files too. It stays down until sim_node_power_on()
 * (or a restart). Without tracking it is a crash only. */
void sim_node_power_loss(struct sim_node *node);
/* Power back: the node restarts (its on_restart hook) on what survived. */
void sim_node_power_on(struct sim_node *node);
/* A power cut at t_ns, power back at t_ns + down_ns. */
void sim_node_power_loss_at(struct sim_node *node, uint64_t t_ns, uint64_t down_ns);
/* An env for the world itself (files only are meaningful: the run's report
 * reads the stores back through it). */
struct sy_env *sim_world_env(struct sim *sim);

/* Dispatches every event with time <= t_ns in (time, seq) order, then sets
 * the clock to t_ns. Returns the number of events dispatched. */
uint64_t sim_run_until(struct sim *sim, uint64_t t_ns);
/* Runs until the queue is empty or max_events were dispatched. */
uint64_t sim_run_until_idle(struct sim *sim, uint64_t max_events);

#endif
