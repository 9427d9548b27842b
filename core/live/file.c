/* file.c: the env's file operations on the real filesystem (POSIX fds),
 * for the live env and for tools and tests that need files but no loop
 * (sy_live_files()). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/live/live_int.h"

struct sy_file {
	int fd;
	bool append;
	bool stream; /* a pipe or terminal (stdin of `rate`): offsets are ignored */
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
