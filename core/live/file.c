/* file.c: the env's file operations on the real filesystem (POSIX fds),
 * for the live env and for tools and tests that need files but no loop
 * (sy_live_files()). */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/live/live_int.h"

struct live_sync_job;

struct sy_file {
	int fd;
	bool append;
	bool stream;		   /* a pipe or terminal (stdin of `rate`): offsets are ignored */
	struct live_sync_job *job; /* the asynchronous sync in flight, if any */
};

/* ---- asynchronous fdatasync: a sync thread per loop ----
 *
 * The loop queues a job (the fd, the callback) and goes on; the thread runs
 * fdatasync and moves the job to the done list, then writes the eventfd;
 * the loop's event on it calls the callbacks. A job lives until the loop
 * has taken it from the done list; the file forgets it when its callback
 * runs or it is dropped (close, wait). */
struct live_sync_job {
	struct live_sync_job *next;
	struct sy_file *f; /* NULL once dropped: the callback is not called */
	int fd;
	sy_file_sync_fn fn;
	void *arg;
	enum sy_rc rc;
	bool done;
};

struct live_syncer {
	struct sy_live *l;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, done_cv;
	struct live_sync_job *queue, **queue_tail; /* FIFO of jobs to sync */
	struct live_sync_job *done;		   /* LIFO: reversed when taken */
	int efd;
	struct event *ev;
	bool stop;
};

static enum sy_rc live_file_rc(int e)
{
	if (e == ENOENT)
		return SY_ERR_NOTFOUND;
	if (e == ENOSPC || e == EDQUOT)
		return SY_ERR_FULL;
	return SY_ERR_IO;
}

enum sy_rc live__file_open(void *ctx, const char *path, unsigned flags, struct sy_file **out)
{
	int oflags = O_CLOEXEC;
	if ((flags & SY_FILE_WRITE) != 0)
		oflags |= (flags & SY_FILE_READ) != 0 ? O_RDWR : O_WRONLY;
	else
		oflags |= O_RDONLY;
	if ((flags & SY_FILE_CREATE) != 0)
		oflags |= O_CREAT;
	if ((flags & SY_FILE_APPEND) != 0)
		oflags |= O_APPEND;
	struct sy_file *f = malloc(sizeof *f);
	if (f == NULL)
		return SY_ERR_NOMEM;
	f->fd = open(path, oflags, 0644);
	if (f->fd < 0) {
		int e = errno;
		free(f);
		return live_file_rc(e);
	}
	f->append = (flags & SY_FILE_APPEND) != 0;
	f->stream = lseek(f->fd, 0, SEEK_CUR) < 0;
	f->job = NULL;
	*out = f;
	return SY_OK;
}

enum sy_rc live__file_read(void *ctx, struct sy_file *f, uint64_t off, void *buf, size_t len, size_t *got)
{
	*got = 0;
	while (*got < len) {
		char *p = (char *)buf + *got;
		ssize_t n = f->stream ? read(f->fd, p, len - *got) : pread(f->fd, p, len - *got, (off_t)(off + *got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return live_file_rc(errno);
		if (n == 0)
			break; /* end of file */
		*got += (size_t)n;
	}
	return SY_OK;
}

enum sy_rc live__file_write(void *ctx, struct sy_file *f, uint64_t off, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		const char *p = (const char *)buf + done;
		ssize_t n = f->append || f->stream ? write(f->fd, p, len - done)
						   : pwrite(f->fd, p, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return live_file_rc(errno);
		if (n == 0)
			return SY_ERR_IO;
		done += (size_t)n;
	}
	return SY_OK;
}

enum sy_rc live__file_sync(void *ctx, struct sy_file *f)
{
	return fdatasync(f->fd) == 0 ? SY_OK : live_file_rc(errno);
}

static void *live_sync_main(void *arg)
{
	struct live_syncer *y = arg;
	pthread_mutex_lock(&y->mu);
	for (;;) {
		while (y->queue == NULL && !y->stop)
			pthread_cond_wait(&y->work, &y->mu);
		if (y->queue == NULL)
			break;
		struct live_sync_job *j = y->queue;
		y->queue = j->next;
		if (y->queue == NULL)
			y->queue_tail = &y->queue;
		pthread_mutex_unlock(&y->mu);
		enum sy_rc rc = fdatasync(j->fd) == 0 ? SY_OK : live_file_rc(errno);
		pthread_mutex_lock(&y->mu);
		j->rc = rc;
		j->done = true;
		j->next = y->done;
		y->done = j;
		pthread_cond_broadcast(&y->done_cv);
		uint64_t one = 1;
		ssize_t w = write(y->efd, &one, sizeof one); /* a full counter still wakes the loop */
		(void)w;
	}
	pthread_mutex_unlock(&y->mu);
	return NULL;
}

/* The loop: the callbacks of every finished job, in the order they finished. */
static void live_sync_event(evutil_socket_t fd, short what, void *arg)
{
	struct live_syncer *y = arg;
	uint64_t v;
	ssize_t r = read(y->efd, &v, sizeof v);
	(void)r;
	pthread_mutex_lock(&y->mu);
	struct live_sync_job *j = y->done, *rev = NULL;
	y->done = NULL;
	pthread_mutex_unlock(&y->mu);
	while (j != NULL) {
		struct live_sync_job *n = j->next;
		j->next = rev;
		rev = j;
		j = n;
	}
	sy_live_time_update(y->l);
	while (rev != NULL) {
		j = rev;
		rev = j->next;
		if (j->f != NULL) {
			j->f->job = NULL;
			j->fn(j->arg, j->rc);
		}
		free(j);
	}
}

static struct live_syncer *live_syncer_get(struct sy_live *l)
{
	if (l->syncer != NULL)
		return l->syncer;
	struct live_syncer *y = calloc(1, sizeof *y);
	if (y == NULL)
		return NULL;
	y->l = l;
	y->queue_tail = &y->queue;
	y->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (y->efd < 0)
		goto fail;
	y->ev = event_new(l->base, y->efd, EV_READ | EV_PERSIST, live_sync_event, y);
	if (y->ev == NULL || event_add(y->ev, NULL) != 0)
		goto fail;
	pthread_mutex_init(&y->mu, NULL);
	pthread_cond_init(&y->work, NULL);
	pthread_cond_init(&y->done_cv, NULL);
	if (pthread_create(&y->thread, NULL, live_sync_main, y) != 0) {
		pthread_mutex_destroy(&y->mu);
		pthread_cond_destroy(&y->work);
		pthread_cond_destroy(&y->done_cv);
		goto fail;
	}
	l->syncer = y;
	return y;
fail:
	if (y->ev != NULL)
		event_free(y->ev);
	if (y->efd >= 0)
		close(y->efd);
	free(y);
	return NULL;
}

enum sy_rc live__file_sync_start(void *ctx, struct sy_file *f, sy_file_sync_fn fn, void *arg)
{
	struct sy_live *l = ctx;
	SY_ASSERT(f->job == NULL);
	struct live_syncer *y = l != NULL && !f->stream ? live_syncer_get(l) : NULL;
	if (y == NULL)
		return SY_AGAIN;
	struct live_sync_job *j = calloc(1, sizeof *j);
	if (j == NULL)
		return SY_AGAIN;
	*j = (struct live_sync_job){.f = f, .fd = f->fd, .fn = fn, .arg = arg};
	f->job = j;
	pthread_mutex_lock(&y->mu);
	*y->queue_tail = j;
	y->queue_tail = &j->next;
	pthread_cond_signal(&y->work);
	pthread_mutex_unlock(&y->mu);
	return SY_OK;
}

/* Waits until f's job is done and detaches it: the loop frees it later. */
static struct live_sync_job *live_sync_detach(struct sy_live *l, struct sy_file *f)
{
	struct live_sync_job *j = f->job;
	if (j == NULL)
		return NULL;
	struct live_syncer *y = l->syncer;
	pthread_mutex_lock(&y->mu);
	while (!j->done)
		pthread_cond_wait(&y->done_cv, &y->mu);
	j->f = NULL;
	pthread_mutex_unlock(&y->mu);
	f->job = NULL;
	return j;
}

void live__file_sync_wait(void *ctx, struct sy_file *f)
{
	struct live_sync_job *j = live_sync_detach(ctx, f);
	if (j != NULL)
		j->fn(j->arg, j->rc);
}

void live__syncer_destroy(struct sy_live *l)
{
	struct live_syncer *y = l->syncer;
	if (y == NULL)
		return;
	pthread_mutex_lock(&y->mu);
	y->stop = true;
	pthread_cond_signal(&y->work);
	pthread_mutex_unlock(&y->mu);
	pthread_join(y->thread, NULL); /* it finishes the jobs queued first */
	for (struct live_sync_job *j = y->done, *n; j != NULL; j = n) {
		n = j->next;
		if (j->f != NULL)
			j->f->job = NULL;
		free(j);
	}
	event_free(y->ev);
	close(y->efd);
	pthread_mutex_destroy(&y->mu);
	pthread_cond_destroy(&y->work);
	pthread_cond_destroy(&y->done_cv);
	free(y);
	l->syncer = NULL;
}

enum sy_rc live__file_size(void *ctx, struct sy_file *f, uint64_t *out)
{
	struct stat sb;
	if (fstat(f->fd, &sb) != 0)
		return live_file_rc(errno);
	*out = (uint64_t)sb.st_size;
	return SY_OK;
}

enum sy_rc live__file_truncate(void *ctx, struct sy_file *f, uint64_t size)
{
	return ftruncate(f->fd, (off_t)size) == 0 ? SY_OK : live_file_rc(errno);
}

enum sy_rc live__file_lock(void *ctx, struct sy_file *f, uint64_t off, uint64_t len, enum sy_file_lock how)
{
	struct flock fl = {.l_type = how == SY_LOCK_WRITE  ? F_WRLCK
				     : how == SY_LOCK_READ ? F_RDLCK
							   : F_UNLCK,
			   .l_whence = SEEK_SET,
			   .l_start = (off_t)off,
			   .l_len = (off_t)len};
	if (fcntl(f->fd, F_SETLK, &fl) == 0)
		return SY_OK;
	return errno == EACCES || errno == EAGAIN ? SY_AGAIN : live_file_rc(errno);
}

void live__file_close(void *ctx, struct sy_file *f)
{
	if (f->job != NULL)
		(void)live_sync_detach(ctx, f); /* its callback is dropped */
	close(f->fd);
	free(f);
}

enum sy_rc live__file_unlink(void *ctx, const char *path)
{
	return unlink(path) == 0 ? SY_OK : live_file_rc(errno);
}

bool live__file_exists(void *ctx, const char *path)
{
	return access(path, F_OK) == 0;
}

enum sy_rc live__dir_make(void *ctx, const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return SY_OK;
	return live_file_rc(errno);
}

static void files_log(void *ctx, enum sy_log_level level, const char *fmt, va_list ap)
{
	(void)ctx;
	(void)level;
	(void)fmt;
	(void)ap;
}

static uint64_t files_seed(void *ctx)
{
	return 0; /* tools need no randomness; sqlite's temp names use none here */
}

static uint64_t files_wall_ns(void *ctx)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * SY_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static const struct sy_env_ops files_ops = {
    .wall_ns = files_wall_ns,
    .seed = files_seed,
    .log = files_log,
    .file_open = live__file_open,
    .file_read = live__file_read,
    .file_write = live__file_write,
    .file_sync = live__file_sync,
    .file_size = live__file_size,
    .file_truncate = live__file_truncate,
    .file_close = live__file_close,
    .file_lock = live__file_lock,
    .file_unlink = live__file_unlink,
    .file_exists = live__file_exists,
    .dir_make = live__dir_make,
};

static const struct sy_env files_env = {&files_ops, NULL, SY_LOG_ERROR};

const struct sy_env *sy_live_files(void)
{
	return &files_env;
}
