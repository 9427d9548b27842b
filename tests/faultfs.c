/* faultfs.c: see faultfs.h. */
#include "core/rng.h"
#include "tests/faultfs.h"

#include "core/live/live.h"

static const struct sy_env_ops *real(void)
{
	return sy_live_files()->ops;
}

static enum sy_rc ff_open(void *ctx, const char *path, unsigned flags, struct sy_file **out)
{
	struct faultfs *f = ctx;
	if (f->full && (flags & SY_FILE_CREATE) != 0 && !real()->file_exists(NULL, path)) {
		f->refused++;
		return SY_ERR_FULL;
	}
	return real()->file_open(NULL, path, flags, out);
}

static enum sy_rc ff_read(void *ctx, struct sy_file *h, uint64_t off, void *buf, size_t len, size_t *got)
{
	return real()->file_read(NULL, h, off, buf, len, got);
}

static enum sy_rc ff_write(void *ctx, struct sy_file *h, uint64_t off, const void *buf, size_t len)
{
	struct faultfs *f = ctx;
	if (f->full && len > 0) {
		f->refused++;
		return SY_ERR_FULL;
	}
	return real()->file_write(NULL, h, off, buf, len);
}

static enum sy_rc ff_sync(void *ctx, struct sy_file *h)
{
	struct faultfs *f = ctx;
	if (f->sync_fail) {
		f->refused++;
		return SY_ERR_IO;
	}
	return real()->file_sync(NULL, h);
}

static enum sy_rc ff_size(void *ctx, struct sy_file *h, uint64_t *out)
{
	return real()->file_size(NULL, h, out);
}

static enum sy_rc ff_truncate(void *ctx, struct sy_file *h, uint64_t size)
{
	return real()->file_truncate(NULL, h, size);
}

static enum sy_rc ff_lock(void *ctx, struct sy_file *h, uint64_t off, uint64_t len, enum sy_file_lock how)
{
	return real()->file_lock(NULL, h, off, len, how);
}

static void ff_close(void *ctx, struct sy_file *h)
{
	real()->file_close(NULL, h);
}

static enum sy_rc ff_unlink(void *ctx, const char *path)
{
	return real()->file_unlink(NULL, path);
}

static bool ff_exists(void *ctx, const char *path)
{
	return real()->file_exists(NULL, path);
}

static enum sy_rc ff_dir_make(void *ctx, const char *path)
{
	struct faultfs *f = ctx;
	if (f->full && !real()->file_exists(NULL, path)) {
		f->refused++;
		return SY_ERR_FULL;
	}
	return real()->dir_make(NULL, path);
}

/* Reproducible filler: nothing here needs unpredictable bytes. */
static void ff_random(void *ctx, void *buf, size_t len)
{
	static uint64_t st = 1;
	uint8_t *b = buf;
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)sy_splitmix64(&st);
}

static uint64_t ff_seed(void *ctx)
{
	return 1;
}

static uint64_t ff_wall_ns(void *ctx)
{
	return 1700000000ull * SY_NS_PER_S;
}

static void ff_log(void *ctx, enum sy_log_level level, const char *fmt, va_list ap)
{
}

static const struct sy_env_ops ff_ops = {
    .wall_ns = ff_wall_ns,
    .seed = ff_seed, .random = ff_random,
    .log = ff_log,
    .file_open = ff_open,
    .file_read = ff_read,
    .file_write = ff_write,
    .file_sync = ff_sync,
    .file_size = ff_size,
    .file_truncate = ff_truncate,
    .file_close = ff_close,
    .file_lock = ff_lock,
    .file_unlink = ff_unlink,
    .file_exists = ff_exists,
    .dir_make = ff_dir_make,
};

void faultfs_init(struct faultfs *f)
{
	*f = (struct faultfs){.env = {&ff_ops, f, SY_LOG_ERROR}};
}
