/* live.c: the live backend's loop: event_base ownership, the cached clocks,
 * the timer heap driven by one libevent timer, seed, log, event trace and
 * signals. Sockets are in udp.c and tcp.c. */
#include "core/live/live_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <openssl/rand.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Timers fired per wakeup at most, so a burst of due timers cannot starve
 * the sockets; the rest fire on the next loop iteration, still in order. */
#define LIVE_TIMER_BATCH_MAX	65536u
#define LIVE_TIMERS_MAX_DEFAULT (1u << 20)

void live__link_init(struct live_link *head)
{
	head->prev = head->next = head;
}

void live__link_add(struct live_link *head, struct live_link *n)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}

void live__link_del(struct live_link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

socklen_t live__sockaddr(const struct sy_addr *a, bool v6_socket, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == SY_AF_INET6 || v6_socket) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		if (a->family == SY_AF_INET6) {
			memcpy(&s6->sin6_addr, a->ip, 16);
		} else { /* an IPv6 socket reaches IPv4 peers through ::ffff:a.b.c.d */
			s6->sin6_addr.s6_addr[10] = 0xff;
			s6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&s6->sin6_addr.s6_addr[12], a->ip, 4);
		}
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(a->port);
	memcpy(&s4->sin_addr, a->ip, 4);
	return sizeof(*s4);
}

void live__addr(const struct sockaddr *sa, struct sy_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		out->port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			out->family = SY_AF_INET;
			memcpy(out->ip, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			out->family = SY_AF_INET6;
			memcpy(out->ip, &s6->sin6_addr, 16);
		}
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		out->family = SY_AF_INET;
		out->port = ntohs(s4->sin_port);
		memcpy(out->ip, &s4->sin_addr, 4);
	}
}

/* --- clock ------------------------------------------------------------ */

static uint64_t live_clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * SY_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Every callback calls this first, so all work of one dispatch sees one
 * "now" (nginx's ngx_time_update): cheap to read, and consistent. */
void sy_live_time_update(struct sy_live *l)
{
	uint64_t now = live_clock_ns(CLOCK_MONOTONIC);
	if (now > l->now_ns)
		l->now_ns = now;
	l->wall_ns = live_clock_ns(CLOCK_REALTIME);
}

static uint64_t live_now_ns(void *ctx)
{
	return ((struct sy_live *)ctx)->now_ns;
}

static uint64_t live_wall_ns(void *ctx)
{
	return ((struct sy_live *)ctx)->wall_ns;
}

/* --- timers ----------------------------------------------------------- */

/* One libevent timer stands for the whole heap; it is re-armed only when
 * the earliest deadline moves earlier, so starting a timer is a heap push
 * and, usually, nothing else. */
/* A deadline moved up onto the slack grid (unchanged without slack). One
 * already due stays as it is: rounding it would hold a chain of overdue
 * timers (arrivals catching up) to one per step. */
static uint64_t live_timer_slot(const struct sy_live *l, uint64_t at)
{
	if (l->slack_ns == 0 || at <= l->now_ns || at > UINT64_MAX - l->slack_ns)
		return at;
	return (at + l->slack_ns - 1) / l->slack_ns * l->slack_ns;
}

static void live_timer_arm(struct sy_live *l)
{
	uint64_t at;
	if (!sy_tq_peek(&l->tq, &at)) {
		if (l->armed_ns != UINT64_MAX)
			event_del(l->timer_ev);
		l->armed_ns = UINT64_MAX;
		return;
	}
	at = live_timer_slot(l, at);
	if (at == l->armed_ns)
		return;
	uint64_t delay = at > l->now_ns ? at - l->now_ns : 0;
	uint64_t us = (delay + SY_NS_PER_US - 1) / SY_NS_PER_US; /* never early */
	struct timeval tv = {.tv_sec = (time_t)(us / 1000000u), .tv_usec = (suseconds_t)(us % 1000000u)};
	event_add(l->timer_ev, &tv);
	l->armed_ns = at;
}

static void live_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sy_live *l = arg;
	l->armed_ns = UINT64_MAX;
	sy_live_time_update(l);
	/* Timers started by this batch wait for the next one, even with delay
	 * 0, so a timer that restarts itself cannot spin here forever. */
	uint64_t seq_limit = l->tq.seq, at;
	sy_timer_fn fn;
	void *fn_arg;
	uint32_t n = 0;
	l->firing = true;
	while (n < LIVE_TIMER_BATCH_MAX && !l->stop && sy_tq_count(&l->tq) > 0) {
		uint64_t seq;
		if (!sy_tq_peek_seq(&l->tq, &seq) || seq > seq_limit)
			break;
		if (!sy_tq_pop(&l->tq, l->now_ns, &at, &fn, &fn_arg))
			break;
		n++;
		fn(fn_arg);
	}
	l->firing = false;
	l->st.timers_fired += n;
	live_timer_arm(l);
}

static sy_timer_id live_timer_start(void *ctx, uint64_t delay_ns, sy_timer_fn fn, void *arg)
{
	struct sy_live *l = ctx;
	uint64_t at = delay_ns > UINT64_MAX - l->now_ns ? UINT64_MAX : l->now_ns + delay_ns;
	sy_timer_id id = sy_tq_add(&l->tq, at, fn, arg);
	if (id == 0) {
		live__log(l, SY_LOG_WARN, "timer queue full (%u pending)", sy_tq_count(&l->tq));
		return 0;
	}
	if (!l->firing && live_timer_slot(l, at) < l->armed_ns)
		live_timer_arm(l);
	return id;
}

static void live_timer_cancel(void *ctx, sy_timer_id id)
{
	struct sy_live *l = ctx;
	/* A cancelled head leaves the libevent timer early: one spurious
	 * wakeup is cheaper than re-arming on every cancel. An empty heap
	 * disarms it so sy_live_run() can see there is nothing left. */
	if (sy_tq_cancel(&l->tq, id) && sy_tq_count(&l->tq) == 0 && !l->firing)
		live_timer_arm(l);
}

/* --- seed, log, event trace ------------------------------------------- */

static uint64_t live_seed(void *ctx)
{
	return ((struct sy_live *)ctx)->seed;
}

/* OpenSSL's CSPRNG (seeded from getrandom, reseeding itself), drawn 4 KB
 * at a time: each RAND_bytes call costs a getpid() system call (OpenSSL's
 * fork check) and a DRBG round, about 12% of the switch's CPU when every
 * tag, branch and Call-ID called it. The bytes wait in the process's own
 * memory, handed out once each, never reused; a byte is never served
 * twice, and the buffer is wiped as it is consumed. */
static void live_random(void *ctx, void *buf, size_t len)
{
	struct sy_live *l = ctx;
	uint8_t *out = buf;
	while (len > 0) {
		if (l->rnd_pos == sizeof(l->rnd)) {
			if (RAND_bytes(l->rnd, (int)sizeof(l->rnd)) != 1)
				SY_ASSERT(!"live: the OS CSPRNG gave no random bytes");
			l->rnd_pos = 0;
		}
		size_t k = sizeof(l->rnd) - l->rnd_pos;
		k = k < len ? k : len;
		memcpy(out, l->rnd + l->rnd_pos, k);
		memset(l->rnd + l->rnd_pos, 0, k);
		l->rnd_pos += k;
		out += k;
		len -= k;
	}
}

static const char *const live_level_name[] = {"ERROR", "WARN", "INFO", "DEBUG"};

static void live_vlog(struct sy_live *l, enum sy_log_level level, const char *fmt, va_list ap)
{
	if (level > l->log_level)
		return;
	/* Logging is off the hot path: read the wall clock fresh, so lines
	 * written outside the loop carry the right time too. */
	uint64_t wall = live_clock_ns(CLOCK_REALTIME);
	time_t sec = (time_t)(wall / SY_NS_PER_S);
	struct tm tm;
	char ts[32], msg[1024];
	gmtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	unsigned lv = (unsigned)level < SY_ARRAY_LEN(live_level_name) ? (unsigned)level : SY_LOG_DEBUG;
	fprintf(stderr, "%s.%06uZ %-5s %s%s%s\n", ts, (unsigned)(wall % SY_NS_PER_S / SY_NS_PER_US),
		live_level_name[lv], l->name, l->name[0] != '\0' ? ": " : "", msg);
}

static void live_log(void *ctx, enum sy_log_level level, const char *fmt, va_list ap)
{
	live_vlog(ctx, level, fmt, ap);
}

void live__log(struct sy_live *l, enum sy_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	live_vlog(l, level, fmt, ap);
	va_end(ap);
}

/* One line per event: monotonic ns, kind, length, then the data as text
 * when it is printable and as hex otherwise. */
static void live_event(void *ctx, const char *kind, const void *data, size_t len)
{
	struct sy_live *l = ctx;
	if (l->trace == NULL)
		return;
	const uint8_t *p = data;
	bool text = true;
	for (size_t i = 0; i < len && text; i++)
		text = p[i] >= 0x20 && p[i] < 0x7f;
	fprintf(l->trace, "%llu %s %zu %s", (unsigned long long)l->now_ns, kind, len, text ? "" : "0x");
	if (text)
		fwrite(p, 1, len, l->trace);
	else
		for (size_t i = 0; i < len; i++)
			fprintf(l->trace, "%02x", p[i]);
	fputc('\n', l->trace);
}

static const struct sy_env_ops live_ops = {
    .now_ns = live_now_ns,
    .wall_ns = live_wall_ns,
    .timer_start = live_timer_start,
    .timer_cancel = live_timer_cancel,
    .dgram_open = live__dgram_open,
    .dgram_send = live__dgram_send,
    .dgram_close = live__dgram_close,
    .dgram_local = live__dgram_local,
    .stream_listen = live__stream_listen,
    .listener_close = live__listener_close,
    .stream_connect = live__stream_connect,
    .stream_write = live__stream_write,
    .stream_set_arg = live__stream_set_arg,
    .stream_queued = live__stream_queued,
    .stream_close = live__stream_close,
    .stream_peer = live__stream_peer,
    .stream_local = live__stream_local,
    .seed = live_seed,
    .random = live_random,
    .log = live_log,
    .event = live_event,
    .file_open = live__file_open,
    .file_read = live__file_read,
    .file_write = live__file_write,
    .file_sync = live__file_sync,
    .file_sync_start = live__file_sync_start,
    .file_sync_wait = live__file_sync_wait,
    .file_size = live__file_size,
    .file_truncate = live__file_truncate,
    .file_close = live__file_close,
    .file_lock = live__file_lock,
    .file_unlink = live__file_unlink,
    .file_exists = live__file_exists,
    .dir_make = live__dir_make,
};

/* --- create, run, stop, destroy --------------------------------------- */

static void live_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sy_live *l = arg;
	sy_live_time_update(l);
	l->deadline_hit = true;
	event_base_loopbreak(l->base);
}

static struct event_base *live_base_new(uint64_t slack_ns)
{
	struct event_config *ec = event_config_new();
	if (ec == NULL)
		return NULL;
	/* PRECISE_TIMER makes libevent use CLOCK_MONOTONIC (and timerfd) as
	 * we do, so its timer does not wake us before our deadline. It costs a
	 * timerfd_settime per wait; with a slack of 1 ms or more epoll_wait's
	 * own millisecond timeout is as good (an early wakeup only re-arms). */
	int flags = EVENT_BASE_FLAG_NOLOCK;
	if (slack_ns < SY_NS_PER_MS)
		flags |= EVENT_BASE_FLAG_PRECISE_TIMER;
	event_config_set_flag(ec, flags);
	struct event_base *b = event_base_new_with_config(ec);
	event_config_free(ec);
	return b;
}

static enum sy_rc live_seed_init(struct sy_live *l, uint64_t seed)
{
	while (seed == 0) { /* 0 means "pick one", so never hand out 0 */
		ssize_t n = getrandom(&seed, sizeof(seed), 0);
		if (n != (ssize_t)sizeof(seed) && errno != EINTR)
			return SY_ERR_IO;
	}
	l->seed = seed;
	l->rnd_pos = sizeof(l->rnd);
	return SY_OK;
}

static void live_rx_init(struct sy_live *l)
{
	for (unsigned i = 0; i < LIVE_RX_BATCH; i++) {
		l->rx_iov[i].iov_base = l->rx_buf + (size_t)i * LIVE_RX_DGRAM_MAX;
		l->rx_iov[i].iov_len = LIVE_RX_DGRAM_MAX;
		l->rx_msg[i].msg_hdr.msg_iov = &l->rx_iov[i];
		l->rx_msg[i].msg_hdr.msg_iovlen = 1;
		l->rx_msg[i].msg_hdr.msg_name = &l->rx_name[i];
		l->rx_msg[i].msg_hdr.msg_control = l->rx_ctrl[i];
	}
}

enum sy_rc sy_live_create(const struct sy_live_cfg *cfg, struct sy_live **out)
{
	SY_ASSERT(cfg != NULL && out != NULL);
	*out = NULL;
	struct sy_live *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return SY_ERR_NOMEM;
	enum sy_rc rc = live_seed_init(l, cfg->seed);
	if (rc != SY_OK)
		goto out_free_live;
	rc = SY_ERR_NOMEM;
	if (sy_tq_init(&l->tq, 1024, cfg->timers_max ? cfg->timers_max : LIVE_TIMERS_MAX_DEFAULT) != SY_OK)
		goto out_free_live;
	l->slack_ns = cfg->timer_slack_ns;
	l->rx_buf = malloc((size_t)LIVE_RX_BATCH * LIVE_RX_DGRAM_MAX);
	l->base = live_base_new(l->slack_ns);
	if (l->rx_buf == NULL || l->base == NULL)
		goto out_free_all;
	l->timer_ev = evtimer_new(l->base, live_timer_cb, l);
	l->deadline_ev = evtimer_new(l->base, live_deadline_cb, l);
	if (l->timer_ev == NULL || l->deadline_ev == NULL)
		goto out_free_all;
	if (cfg->trace_path != NULL && (l->trace = fopen(cfg->trace_path, "w")) == NULL) {
		rc = SY_ERR_IO;
		goto out_free_all;
	}
	l->env = (struct sy_env){.ops = &live_ops, .ctx = l, .log_level = cfg->log_level};
	l->log_level = cfg->log_level;
	if (cfg->name != NULL)
		snprintf(l->name, sizeof(l->name), "%s", cfg->name);
	l->armed_ns = UINT64_MAX;
	live__link_init(&l->dgrams);
	live__link_init(&l->streams);
	live__link_init(&l->listeners);
	live__link_init(&l->tx_pending);
	live_rx_init(l);
	sy_live_time_update(l);
	*out = l;
	return SY_OK;
out_free_all:
	if (l->timer_ev != NULL)
		event_free(l->timer_ev);
	if (l->deadline_ev != NULL)
		event_free(l->deadline_ev);
	if (l->base != NULL)
		event_base_free(l->base);
	free(l->rx_buf);
	sy_tq_free(&l->tq);
out_free_live:
	free(l);
	return rc;
}

void sy_live_destroy(struct sy_live *l)
{
	if (l == NULL)
		return;
	live__dgram_flush_all(l); /* sends made after the last run still go */
	live__stream_close_all(l);
	live__dgram_close_all(l);
	live__syncer_destroy(l);
	live__mailbox_close(l);
	for (unsigned i = 0; i < SY_ARRAY_LEN(l->sig_ev); i++)
		if (l->sig_ev[i] != NULL)
			event_free(l->sig_ev[i]);
	if (l->hup_ev != NULL)
		event_free(l->hup_ev);
	event_free(l->timer_ev);
	event_free(l->deadline_ev);
	event_base_free(l->base);
	if (l->trace != NULL)
		fclose(l->trace);
	free(l->rx_buf);
	sy_tq_free(&l->tq);
	free(l);
}

const struct sy_env *sy_live_env(struct sy_live *l)
{
	return &l->env;
}

struct event_base *sy_live_base(struct sy_live *l)
{
	return l->base;
}

void sy_live_stats(const struct sy_live *l, struct sy_live_stats *out)
{
	*out = l->st;
}

int sy_live_stopped_by(const struct sy_live *l)
{
	return l->stopped_by;
}

void sy_live_stop(struct sy_live *l)
{
	l->stop = true;
	event_base_loopbreak(l->base);
}

/* Events the loop waits on besides our deadline timer: when none are left
 * the run is over, as event_base_dispatch() would decide. */
static bool live_has_events(struct sy_live *l)
{
	int n = event_base_get_num_events(l->base,
					  EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE | EVENT_BASE_COUNT_VIRTUAL);
	return n > (event_pending(l->deadline_ev, EV_TIMEOUT, NULL) ? 1 : 0);
}

/* One libevent iteration at a time (one wait, then its receive and timer
 * batches), and the datagrams they queued are flushed before the next wait:
 * a send is delayed by at most the rest of its iteration, never by a wait.
 * The flush before the first wait sends what was queued outside the loop. */
static enum sy_rc live_loop(struct sy_live *l)
{
	for (;;) {
		live__dgram_flush_all(l);
		if (l->stop || l->deadline_hit || !live_has_events(l))
			return SY_OK;
		if (event_base_loop(l->base, EVLOOP_ONCE) < 0) {
			live__dgram_flush_all(l);
			return SY_ERR_IO;
		}
	}
}

enum sy_rc sy_live_run(struct sy_live *l)
{
	l->stop = false;
	l->stopped_by = 0;
	l->deadline_hit = false;
	sy_live_time_update(l);
	return live_loop(l);
}

enum sy_rc sy_live_run_for(struct sy_live *l, uint64_t ns)
{
	l->stop = false;
	l->stopped_by = 0;
	l->deadline_hit = false;
	sy_live_time_update(l);
	uint64_t us = ns / SY_NS_PER_US;
	struct timeval tv = {.tv_sec = (time_t)(us / 1000000u), .tv_usec = (suseconds_t)(us % 1000000u)};
	if (event_add(l->deadline_ev, &tv) != 0)
		return SY_ERR_IO;
	enum sy_rc rc = live_loop(l);
	event_del(l->deadline_ev);
	return rc;
}

static void live_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct sy_live *l = arg;
	sy_live_time_update(l);
	live__log(l, SY_LOG_INFO, "signal %d: stopping", (int)sig);
	l->stopped_by = (int)sig;
	sy_live_stop(l);
}

enum sy_rc sy_live_handle_signals(struct sy_live *l)
{
	static const int sigs[] = {SIGINT, SIGTERM};
	_Static_assert(SY_ARRAY_LEN(sigs) == SY_ARRAY_LEN(((struct sy_live *)0)->sig_ev), "one event per signal");
	for (unsigned i = 0; i < SY_ARRAY_LEN(sigs); i++) {
		if (l->sig_ev[i] != NULL)
			continue;
		l->sig_ev[i] = evsignal_new(l->base, sigs[i], live_signal_cb, l);
		if (l->sig_ev[i] == NULL || event_add(l->sig_ev[i], NULL) != 0)
			return SY_ERR_IO;
	}
	return SY_OK;
}

static void live_hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct sy_live *l = arg;
	sy_live_time_update(l);
	live__log(l, SY_LOG_INFO, "signal %d (SIGHUP): reloading", (int)sig);
	l->hup_fn(l->hup_arg);
}

/* A persistent event: every SIGHUP reloads, not only the first. */
enum sy_rc sy_live_on_hup(struct sy_live *l, void (*fn)(void *arg), void *arg)
{
	SY_ASSERT(fn != NULL && l->hup_ev == NULL);
	l->hup_fn = fn;
	l->hup_arg = arg;
	l->hup_ev = evsignal_new(l->base, SIGHUP, live_hup_cb, l);
	if (l->hup_ev == NULL || event_add(l->hup_ev, NULL) != 0)
		return SY_ERR_IO;
	return SY_OK;
}

/* ---- readiness file ---- */

enum sy_rc sy_live_ready_clear(struct sy_live *l, const char *path)
{
	if (unlink(path) == 0 || errno == ENOENT)
		return SY_OK;
	live__log(l, SY_LOG_ERROR, "ready file %s: cannot remove: %s", path, strerror(errno));
	return SY_ERR_IO;
}

enum sy_rc sy_live_ready_write(struct sy_live *l, const char *path, const char *text)
{
	char tmp[4096];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		live__log(l, SY_LOG_ERROR, "ready file %s: path too long", path);
		return SY_ERR_INVAL;
	}
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		goto out_err;
	int w = fputs(text, f), c = fclose(f);
	if (w < 0 || c != 0 || rename(tmp, path) != 0) {
		int err = errno;
		unlink(tmp);
		errno = err;
		goto out_err;
	}
	return SY_OK;
out_err:
	live__log(l, SY_LOG_ERROR, "ready file %s: %s", path, strerror(errno));
	return SY_ERR_IO;
}
