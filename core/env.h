/* env.h: THE SEAM. Everything that is not pure computation (time, timers,
 * datagram and stream transport, files, the random seed, logging, the event log)
 * goes through struct sy_env, filled in by a backend: sim/ (virtual time,
 * modelled network) or core/live/ (libevent, real sockets). Components get
 * the env passed in explicitly; there is no global env, because the
 * simulator runs many nodes in one process. */
#ifndef SY_ENV_H
#define SY_ENV_H

#include <stdarg.h>

#include "base.h"

/* A transport address. IPv4 uses ip[0..3]; port is in host order. In the
 * simulator addresses are virtual but have the same shape. */
enum { SY_AF_INET = 4, SY_AF_INET6 = 6 };
struct sy_addr {
	uint8_t family;
	uint16_t port;
	uint8_t ip[16];
};

#define SY_ADDR_STRLEN 56
enum sy_rc sy_addr_parse(const char *s, uint16_t default_port, struct sy_addr *out);
/* Formats "1.2.3.4:5060" or "[::1]:5060"; returns the length written. */
size_t sy_addr_fmt(const struct sy_addr *a, char *buf, size_t n);
/* Formats the host part only ("1.2.3.4" or "::1" without brackets). */
size_t sy_addr_fmt_host(const struct sy_addr *a, char *buf, size_t n);
bool sy_addr_eq(const struct sy_addr *a, const struct sy_addr *b);
struct sy_addr sy_addr_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);

enum sy_log_level { SY_LOG_ERROR = 0, SY_LOG_WARN, SY_LOG_INFO, SY_LOG_DEBUG };

typedef uint64_t sy_timer_id; /* 0 is never a valid id */
typedef void (*sy_timer_fn)(void *arg);

struct sy_dgram;  /* a bound datagram socket, owned by the backend */
struct sy_stream; /* a connected byte stream, owned by the backend */
struct sy_listener;
struct sy_file; /* an open file, owned by the backend */

/* File open flags. A file opened for writing is created when missing with
 * SY_FILE_CREATE; SY_FILE_APPEND writes go to the end whatever the offset. */
enum {
	SY_FILE_READ = 1 << 0,
	SY_FILE_WRITE = 1 << 1,
	SY_FILE_CREATE = 1 << 2,
	SY_FILE_APPEND = 1 << 3,
};

/* Byte-range locks (POSIX record locks, advisory, between processes). */
enum sy_file_lock { SY_LOCK_NONE = 0, SY_LOCK_READ, SY_LOCK_WRITE };

/* The end of an asynchronous fdatasync (sy_env_file_sync_start). */
typedef void (*sy_file_sync_fn)(void *arg, enum sy_rc rc);

typedef void (*sy_dgram_recv_fn)(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf,
				 size_t len);

/* Stream callbacks. Accepted streams start with the listener's arg; the
 * owner may switch it with sy_env_stream_set_arg() in on_open. After
 * on_close the stream handle is gone. */
struct sy_stream_cbs {
	void (*on_open)(void *arg, struct sy_stream *s);
	void (*on_data)(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len);
	void (*on_close)(void *arg, struct sy_stream *s, enum sy_rc why);
};

/* An operation added here is forwarded by the capture tap too
 * (core/pcap/tap.c; test_pcap_write fails on one it leaves NULL). */
struct sy_env_ops {
	/* Monotonic time (virtual in sim), cached per event dispatch. */
	uint64_t (*now_ns)(void *ctx);
	/* Wall-clock time since the Unix epoch, for CDRs (virtual in sim). */
	uint64_t (*wall_ns)(void *ctx);

	sy_timer_id (*timer_start)(void *ctx, uint64_t delay_ns, sy_timer_fn fn, void *arg);
	void (*timer_cancel)(void *ctx, sy_timer_id id);

	enum sy_rc (*dgram_open)(void *ctx, const struct sy_addr *local, sy_dgram_recv_fn fn, void *arg,
				 struct sy_dgram **out);
	enum sy_rc (*dgram_send)(void *ctx, struct sy_dgram *s, const struct sy_addr *to, const void *buf, size_t len);
	void (*dgram_close)(void *ctx, struct sy_dgram *s);
	/* The address a socket is bound to (the real port when 0 was asked). */
	void (*dgram_local)(void *ctx, struct sy_dgram *s, struct sy_addr *out);

	enum sy_rc (*stream_listen)(void *ctx, const struct sy_addr *local, const struct sy_stream_cbs *cbs, void *arg,
				    struct sy_listener **out);
	void (*listener_close)(void *ctx, struct sy_listener *l);
	enum sy_rc (*stream_connect)(void *ctx, const struct sy_addr *remote, const struct sy_stream_cbs *cbs,
				     void *arg, struct sy_stream **out);
	enum sy_rc (*stream_write)(void *ctx, struct sy_stream *s, const void *buf, size_t len);
	void (*stream_set_arg)(void *ctx, struct sy_stream *s, void *arg);
	/* Bytes written but not yet taken by the peer: backpressure. */
	size_t (*stream_queued)(void *ctx, struct sy_stream *s);
	void (*stream_close)(void *ctx, struct sy_stream *s);
	void (*stream_peer)(void *ctx, struct sy_stream *s, struct sy_addr *out);
	/* The stream's own address (getsockname); may be NULL in a backend
	 * without one (sy_env_stream_local then gives a zeroed address). */
	void (*stream_local)(void *ctx, struct sy_stream *s, struct sy_addr *out);

	/* The run's master seed; components derive their own stream from it
	 * with sy_rng_init_split(), so adding one does not shift the others. */
	uint64_t (*seed)(void *ctx);
	/* Unpredictable bytes for what an attacker must not guess: Call-IDs,
	 * tags, branches, nonces, hash seeds. Live: the OS CSPRNG (OpenSSL's
	 * RAND_bytes, seeded by getrandom); sim: a stream of the node's seed,
	 * so a run stays reproducible. Never fails (live aborts if the OS
	 * has no entropy to give: nothing secure can be made without it). */
	void (*random)(void *ctx, void *buf, size_t len);

	void (*log)(void *ctx, enum sy_log_level level, const char *fmt, va_list ap);

	/* Files: the disk is behind the seam like the network, so the simulator
	 * can make it slow, full or failing. Errors: SY_ERR_NOTFOUND (no such
	 * file), SY_ERR_FULL (no space left), SY_ERR_IO (anything else). A write
	 * writes all of len or fails; a read returns fewer bytes only at the end
	 * of the file. sync is fdatasync: the data is durable when it returns. */
	enum sy_rc (*file_open)(void *ctx, const char *path, unsigned flags, struct sy_file **out);
	enum sy_rc (*file_read)(void *ctx, struct sy_file *f, uint64_t off, void *buf, size_t len, size_t *got);
	enum sy_rc (*file_write)(void *ctx, struct sy_file *f, uint64_t off, const void *buf, size_t len);
	enum sy_rc (*file_sync)(void *ctx, struct sy_file *f);
	/* Optional: an fdatasync that does not block the loop. The backend
	 * runs it elsewhere (live: a sync thread; sim: an event after the
	 * modelled disk time) and calls fn(arg, rc) from the loop when it is
	 * done, exactly once, never from inside file_sync_start. At most one
	 * per file at a time; writes to the file meanwhile may or may not be
	 * covered. Closing the file waits for it and drops fn. SY_AGAIN: no
	 * asynchronous sync here (NULL op, or a loopless backend): use
	 * file_sync. */
	enum sy_rc (*file_sync_start)(void *ctx, struct sy_file *f, sy_file_sync_fn fn, void *arg);
	/* Waits for the file's sync in flight, if any, and calls its fn now
	 * (shutdown, a flush that must be durable when it returns). */
	void (*file_sync_wait)(void *ctx, struct sy_file *f);
	enum sy_rc (*file_size)(void *ctx, struct sy_file *f, uint64_t *out);
	enum sy_rc (*file_truncate)(void *ctx, struct sy_file *f, uint64_t size);
	void (*file_close)(void *ctx, struct sy_file *f);
	/* Sets the lock on [off, off + len) without waiting: SY_AGAIN when
	 * another process holds a conflicting one. */
	enum sy_rc (*file_lock)(void *ctx, struct sy_file *f, uint64_t off, uint64_t len, enum sy_file_lock how);
	/* By path: unlink (SY_ERR_NOTFOUND when missing), exists, and making
	 * one directory level (SY_OK when it is already there). */
	enum sy_rc (*file_unlink)(void *ctx, const char *path);
	bool (*file_exists)(void *ctx, const char *path);
	enum sy_rc (*dir_make)(void *ctx, const char *path);

	/* Appends an application event (a CDR, a state change) to the run's
	 * ordered event log; the simulator hashes it into the digest. */
	void (*event)(void *ctx, const char *kind, const void *data, size_t len);
};

struct sy_env {
	const struct sy_env_ops *ops;
	void *ctx;
	enum sy_log_level log_level; /* messages above this level are skipped */
};

/* One inline wrapper per operation: asserts and tracing live here. */

static inline uint64_t sy_env_now_ns(const struct sy_env *e)
{
	return e->ops->now_ns(e->ctx);
}
static inline uint64_t sy_env_now_us(const struct sy_env *e)
{
	return e->ops->now_ns(e->ctx) / SY_NS_PER_US;
}
static inline uint64_t sy_env_now_ms(const struct sy_env *e)
{
	return e->ops->now_ns(e->ctx) / SY_NS_PER_MS;
}
static inline uint64_t sy_env_wall_ns(const struct sy_env *e)
{
	return e->ops->wall_ns(e->ctx);
}
static inline sy_timer_id sy_env_timer_start(const struct sy_env *e, uint64_t delay_ns, sy_timer_fn fn, void *arg)
{
	SY_ASSERT(fn != NULL);
	sy_timer_id id = e->ops->timer_start(e->ctx, delay_ns, fn, arg);
	return id;
}
/* Cancelling 0 or an already fired timer is allowed and does nothing. */
static inline void sy_env_timer_cancel(const struct sy_env *e, sy_timer_id id)
{
	if (id != 0)
		e->ops->timer_cancel(e->ctx, id);
}
static inline enum sy_rc sy_env_dgram_open(const struct sy_env *e, const struct sy_addr *local, sy_dgram_recv_fn fn,
					   void *arg, struct sy_dgram **out)
{
	SY_ASSERT(local != NULL && fn != NULL && out != NULL);
	return e->ops->dgram_open(e->ctx, local, fn, arg, out);
}
static inline enum sy_rc sy_env_dgram_send(const struct sy_env *e, struct sy_dgram *s, const struct sy_addr *to,
					   const void *buf, size_t len)
{
	SY_ASSERT(s != NULL && to != NULL && buf != NULL);
	return e->ops->dgram_send(e->ctx, s, to, buf, len);
}
static inline void sy_env_dgram_close(const struct sy_env *e, struct sy_dgram *s)
{
	if (s != NULL)
		e->ops->dgram_close(e->ctx, s);
}
static inline void sy_env_dgram_local(const struct sy_env *e, struct sy_dgram *s, struct sy_addr *out)
{
	e->ops->dgram_local(e->ctx, s, out);
}
static inline enum sy_rc sy_env_stream_listen(const struct sy_env *e, const struct sy_addr *local,
					      const struct sy_stream_cbs *cbs, void *arg, struct sy_listener **out)
{
	SY_ASSERT(cbs != NULL && out != NULL);
	return e->ops->stream_listen(e->ctx, local, cbs, arg, out);
}
static inline void sy_env_listener_close(const struct sy_env *e, struct sy_listener *l)
{
	if (l != NULL)
		e->ops->listener_close(e->ctx, l);
}
static inline enum sy_rc sy_env_stream_connect(const struct sy_env *e, const struct sy_addr *remote,
					       const struct sy_stream_cbs *cbs, void *arg, struct sy_stream **out)
{
	SY_ASSERT(cbs != NULL && out != NULL);
	return e->ops->stream_connect(e->ctx, remote, cbs, arg, out);
}
static inline enum sy_rc sy_env_stream_write(const struct sy_env *e, struct sy_stream *s, const void *buf, size_t len)
{
	SY_ASSERT(s != NULL);
	return e->ops->stream_write(e->ctx, s, buf, len);
}
static inline void sy_env_stream_set_arg(const struct sy_env *e, struct sy_stream *s, void *arg)
{
	e->ops->stream_set_arg(e->ctx, s, arg);
}
static inline size_t sy_env_stream_queued(const struct sy_env *e, struct sy_stream *s)
{
	return e->ops->stream_queued(e->ctx, s);
}
static inline void sy_env_stream_close(const struct sy_env *e, struct sy_stream *s)
{
	if (s != NULL)
		e->ops->stream_close(e->ctx, s);
}
static inline void sy_env_stream_peer(const struct sy_env *e, struct sy_stream *s, struct sy_addr *out)
{
	e->ops->stream_peer(e->ctx, s, out);
}
static inline void sy_env_stream_local(const struct sy_env *e, struct sy_stream *s, struct sy_addr *out)
{
	if (e->ops->stream_local != NULL)
		e->ops->stream_local(e->ctx, s, out);
	else
		memset(out, 0, sizeof(*out));
}
static inline uint64_t sy_env_seed(const struct sy_env *e)
{
	return e->ops->seed(e->ctx);
}
static inline void sy_env_random(const struct sy_env *e, void *buf, size_t len)
{
	SY_ASSERT(buf != NULL || len == 0);
	e->ops->random(e->ctx, buf, len);
}
static inline uint64_t sy_env_random_u64(const struct sy_env *e)
{
	uint64_t v;
	e->ops->random(e->ctx, &v, sizeof(v));
	return v;
}
static inline void sy_env_event(const struct sy_env *e, const char *kind, const void *data, size_t len)
{
	if (e->ops->event != NULL)
		e->ops->event(e->ctx, kind, data, len);
}

static inline enum sy_rc sy_env_file_open(const struct sy_env *e, const char *path, unsigned flags,
					  struct sy_file **out)
{
	SY_ASSERT(path != NULL && out != NULL && e->ops->file_open != NULL);
	*out = NULL;
	return e->ops->file_open(e->ctx, path, flags, out);
}
static inline enum sy_rc sy_env_file_read(const struct sy_env *e, struct sy_file *f, uint64_t off, void *buf,
					  size_t len, size_t *got)
{
	SY_ASSERT(f != NULL && got != NULL);
	return e->ops->file_read(e->ctx, f, off, buf, len, got);
}
static inline enum sy_rc sy_env_file_write(const struct sy_env *e, struct sy_file *f, uint64_t off, const void *buf,
					   size_t len)
{
	SY_ASSERT(f != NULL && (buf != NULL || len == 0));
	return e->ops->file_write(e->ctx, f, off, buf, len);
}
static inline enum sy_rc sy_env_file_sync(const struct sy_env *e, struct sy_file *f)
{
	SY_ASSERT(f != NULL);
	return e->ops->file_sync(e->ctx, f);
}
/* SY_OK: fn(arg, rc) comes later from the loop; SY_AGAIN: the backend has
 * no asynchronous sync (call sy_env_file_sync); other rcs: not started. */
static inline enum sy_rc sy_env_file_sync_start(const struct sy_env *e, struct sy_file *f, sy_file_sync_fn fn,
						void *arg)
{
	SY_ASSERT(f != NULL && fn != NULL);
	if (e->ops->file_sync_start == NULL)
		return SY_AGAIN;
	return e->ops->file_sync_start(e->ctx, f, fn, arg);
}
static inline void sy_env_file_sync_wait(const struct sy_env *e, struct sy_file *f)
{
	SY_ASSERT(f != NULL);
	if (e->ops->file_sync_wait != NULL)
		e->ops->file_sync_wait(e->ctx, f);
}
static inline enum sy_rc sy_env_file_size(const struct sy_env *e, struct sy_file *f, uint64_t *out)
{
	SY_ASSERT(f != NULL && out != NULL);
	return e->ops->file_size(e->ctx, f, out);
}
static inline enum sy_rc sy_env_file_truncate(const struct sy_env *e, struct sy_file *f, uint64_t size)
{
	SY_ASSERT(f != NULL);
	return e->ops->file_truncate(e->ctx, f, size);
}
static inline enum sy_rc sy_env_file_lock(const struct sy_env *e, struct sy_file *f, uint64_t off, uint64_t len,
					  enum sy_file_lock how)
{
	SY_ASSERT(f != NULL && len > 0);
	return e->ops->file_lock(e->ctx, f, off, len, how);
}
static inline void sy_env_file_close(const struct sy_env *e, struct sy_file *f)
{
	if (f != NULL)
		e->ops->file_close(e->ctx, f);
}
static inline enum sy_rc sy_env_file_unlink(const struct sy_env *e, const char *path)
{
	return e->ops->file_unlink(e->ctx, path);
}
static inline bool sy_env_file_exists(const struct sy_env *e, const char *path)
{
	return e->ops->file_exists(e->ctx, path);
}
static inline enum sy_rc sy_env_dir_make(const struct sy_env *e, const char *path)
{
	return e->ops->dir_make(e->ctx, path);
}
/* A file operation's rc in an operator's words. */
static inline const char *sy_env_file_err(enum sy_rc rc)
{
	switch (rc) {
	case SY_ERR_NOTFOUND:
		return "No such file or directory";
	case SY_ERR_FULL:
		return "No space left on device";
	case SY_ERR_IO:
		return "I/O error";
	default:
		return sy_rc_str(rc);
	}
}
/* Reads a whole file (at most max bytes) into a malloc'd buffer, NUL
 * appended; SY_ERR_FULL when it is larger than max. */
enum sy_rc sy_env_file_slurp(const struct sy_env *e, const char *path, size_t max, char **out, size_t *len);

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void sy_env_log(const struct sy_env *e, enum sy_log_level level, const char *fmt, ...);

#define SY_LOG(env, lvl, ...)                                                                                          \
	do {                                                                                                           \
		if ((lvl) <= (env)->log_level)                                                                         \
			sy_env_log((env), (lvl), __VA_ARGS__);                                                         \
	} while (0)

/* A message that can repeat every few milliseconds (a store failing while
 * the disk is full) is logged once per SY_LOG_LIMIT_NS per site; the next
 * line says how many were held back, so an outage costs a few lines, not
 * thousands. One struct sy_log_limit per site, zeroed. */
#define SY_LOG_LIMIT_NS (10ull * 1000000000ull)
struct sy_log_limit {
	uint64_t next_ns;    /* no line before this (env time) */
	uint64_t suppressed; /* lines held back since the last one */
};
/* True when this site may log now; it then reports what was held back. */
bool sy_log_limit_pass(const struct sy_env *e, struct sy_log_limit *l, enum sy_log_level lvl);
#define SY_LOG_LIMITED(env, lim, lvl, ...)                                                                             \
	do {                                                                                                           \
		if ((lvl) <= (env)->log_level && sy_log_limit_pass((env), (lim), (lvl)))                               \
			sy_env_log((env), (lvl), __VA_ARGS__);                                                         \
	} while (0)

#endif
