/* vfs.c: a sqlite VFS on the env's file operations (vfs.h). One VFS object
 * per connection, registered under a name of its own, carries the env: the
 * simulator runs many nodes, each with its env, in one process. */
#include "vfs.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/rng.h"

struct store_vfs {
	sqlite3_vfs base;
	const struct sy_env *env;
	struct sy_rng rng;
	char name[40];
};

struct store_vfs_file {
	sqlite3_file base;
	const struct sy_env *env;
	struct sy_file *f;
	int lock; /* SQLITE_LOCK_*: what this connection holds */
	bool readonly;
};

/* sqlite's lock bytes (os_unix.c), so a sqlite of another process (the
 * sqlite3 shell, a second node on the same folder) sees our locks: it gets
 * SQLITE_BUSY instead of checkpointing or truncating a WAL we still write. */
#define VFS_PENDING_BYTE  0x40000000ull
#define VFS_RESERVED_BYTE (VFS_PENDING_BYTE + 1)
#define VFS_SHARED_FIRST  (VFS_PENDING_BYTE + 2)
#define VFS_SHARED_SIZE	  510ull

static struct store_vfs_file *vfs_file(sqlite3_file *f)
{
	return (struct store_vfs_file *)f;
}

static int vfs_close(sqlite3_file *file)
{
	struct store_vfs_file *f = vfs_file(file);
	if (f->lock != SQLITE_LOCK_NONE)
		(void)sy_env_file_lock(f->env, f->f, VFS_PENDING_BYTE, 2 + VFS_SHARED_SIZE, SY_LOCK_NONE);
	sy_env_file_close(f->env, f->f);
	f->f = NULL;
	return SQLITE_OK;
}

static int vfs_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
	struct store_vfs_file *f = vfs_file(file);
	size_t got = 0;
	if (sy_env_file_read(f->env, f->f, (uint64_t)off, buf, (size_t)amt, &got) != SY_OK)
		return SQLITE_IOERR_READ;
	if (got < (size_t)amt) {
		/* sqlite requires the unread tail zeroed on a short read. */
		memset((char *)buf + got, 0, (size_t)amt - got);
		return SQLITE_IOERR_SHORT_READ;
	}
	return SQLITE_OK;
}

static int vfs_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
	struct store_vfs_file *f = vfs_file(file);
	enum sy_rc rc = sy_env_file_write(f->env, f->f, (uint64_t)off, buf, (size_t)amt);
	if (rc == SY_OK)
		return SQLITE_OK;
	return rc == SY_ERR_FULL ? SQLITE_FULL : SQLITE_IOERR_WRITE;
}

static int vfs_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct store_vfs_file *f = vfs_file(file);
	return sy_env_file_truncate(f->env, f->f, (uint64_t)size) == SY_OK ? SQLITE_OK : SQLITE_IOERR_TRUNCATE;
}

static int vfs_sync(sqlite3_file *file, int flags)
{
	struct store_vfs_file *f = vfs_file(file);
	return sy_env_file_sync(f->env, f->f) == SY_OK ? SQLITE_OK : SQLITE_IOERR_FSYNC;
}

static int vfs_file_size(sqlite3_file *file, sqlite3_int64 *out)
{
	struct store_vfs_file *f = vfs_file(file);
	uint64_t size = 0;
	if (sy_env_file_size(f->env, f->f, &size) != SY_OK)
		return SQLITE_IOERR_FSTAT;
	*out = (sqlite3_int64)size;
	return SQLITE_OK;
}

static enum sy_rc vfs_range(struct store_vfs_file *f, uint64_t off, uint64_t len, enum sy_file_lock how)
{
	/* A read-only handle cannot hold a write lock (POSIX); a read lock on
	 * the same bytes still keeps other processes' writers out, and a
	 * read-only connection writes nothing. sqlite asks a reader of a WAL
	 * database in exclusive mode for EXCLUSIVE all the same. */
	if (f->readonly && how == SY_LOCK_WRITE)
		how = SY_LOCK_READ;
	return sy_env_file_lock(f->env, f->f, off, len, how);
}

/* sqlite's protocol (os_unix.c unixLock): SHARED is a read lock on the
 * shared range taken under a read lock of the pending byte; RESERVED a write
 * lock on the reserved byte; EXCLUSIVE the pending byte, then the whole
 * shared range, for writing. In exclusive locking mode a connection keeps
 * what it took until it closes. */
static int vfs_lock(sqlite3_file *file, int level)
{
	struct store_vfs_file *f = vfs_file(file);
	if (f->lock >= level)
		return SQLITE_OK;
	enum sy_rc rc = SY_OK;
	if (level == SQLITE_LOCK_SHARED) {
		if ((rc = vfs_range(f, VFS_PENDING_BYTE, 1, SY_LOCK_READ)) != SY_OK)
			return SQLITE_BUSY;
		rc = vfs_range(f, VFS_SHARED_FIRST, VFS_SHARED_SIZE, SY_LOCK_READ);
		(void)vfs_range(f, VFS_PENDING_BYTE, 1, SY_LOCK_NONE);
	} else if (level == SQLITE_LOCK_RESERVED) {
		rc = vfs_range(f, VFS_RESERVED_BYTE, 1, SY_LOCK_WRITE);
	} else if (level == SQLITE_LOCK_EXCLUSIVE) {
		if (f->lock < SQLITE_LOCK_PENDING && (rc = vfs_range(f, VFS_PENDING_BYTE, 1, SY_LOCK_WRITE)) != SY_OK)
			return SQLITE_BUSY;
		f->lock = SQLITE_LOCK_PENDING;
		rc = vfs_range(f, VFS_SHARED_FIRST, VFS_SHARED_SIZE, SY_LOCK_WRITE);
	}
	if (rc == SY_AGAIN)
		return SQLITE_BUSY;
	if (rc != SY_OK)
		return SQLITE_IOERR_LOCK;
	f->lock = level;
	return SQLITE_OK;
}

static int vfs_unlock(sqlite3_file *file, int level)
{
	struct store_vfs_file *f = vfs_file(file);
	if (f->lock <= level)
		return SQLITE_OK;
	enum sy_rc rc = SY_OK;
	if (level == SQLITE_LOCK_SHARED) {
		if (f->lock > SQLITE_LOCK_SHARED)
			rc = vfs_range(f, VFS_SHARED_FIRST, VFS_SHARED_SIZE, SY_LOCK_READ);
		if (rc == SY_OK)
			rc = vfs_range(f, VFS_PENDING_BYTE, 2, SY_LOCK_NONE);
	} else {
		rc = vfs_range(f, VFS_PENDING_BYTE, 2 + VFS_SHARED_SIZE, SY_LOCK_NONE);
	}
	if (rc != SY_OK)
		return SQLITE_IOERR_UNLOCK;
	f->lock = level;
	return SQLITE_OK;
}

/* Only our own state: with its locks kept for the connection's life, a
 * hot journal of another process is not our case (WAL, exclusive mode). */
static int vfs_check_reserved(sqlite3_file *file, int *out)
{
	*out = vfs_file(file)->lock >= SQLITE_LOCK_RESERVED;
	return SQLITE_OK;
}

static int vfs_file_control(sqlite3_file *file, int op, void *arg)
{
	return SQLITE_NOTFOUND;
}

static int vfs_sector_size(sqlite3_file *file)
{
	return 4096;
}

static int vfs_device_caps(sqlite3_file *file)
{
	return 0;
}

static const sqlite3_io_methods vfs_io = {
    .iVersion = 1, /* no shared memory: WAL index in the heap (exclusive mode) */
    .xClose = vfs_close,
    .xRead = vfs_read,
    .xWrite = vfs_write,
    .xTruncate = vfs_truncate,
    .xSync = vfs_sync,
    .xFileSize = vfs_file_size,
    .xLock = vfs_lock,
    .xUnlock = vfs_unlock,
    .xCheckReservedLock = vfs_check_reserved,
    .xFileControl = vfs_file_control,
    .xSectorSize = vfs_sector_size,
    .xDeviceCharacteristics = vfs_device_caps,
};

static int vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
	struct store_vfs *v = vfs->pAppData;
	struct store_vfs_file *f = vfs_file(file);
	f->base.pMethods = NULL; /* sqlite calls xClose only when set */
	if (name == NULL)
		return SQLITE_CANTOPEN; /* temp files: temp_store=MEMORY keeps them away */
	unsigned mode = SY_FILE_READ;
	if ((flags & SQLITE_OPEN_READWRITE) != 0)
		mode |= SY_FILE_WRITE;
	if ((flags & SQLITE_OPEN_CREATE) != 0)
		mode |= SY_FILE_CREATE;
	enum sy_rc rc = sy_env_file_open(v->env, name, mode, &f->f);
	if (rc != SY_OK)
		return rc == SY_ERR_FULL ? SQLITE_FULL : SQLITE_CANTOPEN;
	f->env = v->env;
	f->lock = SQLITE_LOCK_NONE;
	f->readonly = (mode & SY_FILE_WRITE) == 0;
	f->base.pMethods = &vfs_io;
	if (out_flags != NULL)
		*out_flags = flags;
	return SQLITE_OK;
}

static int vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	struct store_vfs *v = vfs->pAppData;
	enum sy_rc rc = sy_env_file_unlink(v->env, name);
	if (rc == SY_ERR_NOTFOUND)
		return SQLITE_IOERR_DELETE_NOENT;
	return rc == SY_OK ? SQLITE_OK : SQLITE_IOERR_DELETE;
}

static int vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	struct store_vfs *v = vfs->pAppData;
	*out = sy_env_file_exists(v->env, name);
	return SQLITE_OK;
}

static int vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	int len = snprintf(out, (size_t)n, "%s", name);
	return len >= 0 && len < n ? SQLITE_OK : SQLITE_CANTOPEN;
}

static int vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	struct store_vfs *v = vfs->pAppData;
	for (int i = 0; i < n; i++)
		out[i] = (char)sy_rng_next(&v->rng);
	return n;
}

static int vfs_sleep(sqlite3_vfs *vfs, int us)
{
	return us; /* exclusive mode: nobody to wait for */
}

static int vfs_current_time(sqlite3_vfs *vfs, double *out)
{
	struct store_vfs *v = vfs->pAppData;
	/* Julian day number of the env's wall clock. */
	*out = 2440587.5 + (double)sy_env_wall_ns(v->env) / (86400.0 * SY_NS_PER_S);
	return SQLITE_OK;
}

static int vfs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return 0;
}

static struct store_vfs *vfs_new(const struct sy_env *env)
{
	struct store_vfs *v = calloc(1, sizeof *v);
	if (v == NULL)
		return NULL;
	v->env = env;
	sy_rng_init_split(&v->rng, sy_env_seed(env), "store.vfs", 0);
	snprintf(v->name, sizeof v->name, "sy-env-%p", (void *)v);
	v->base = (sqlite3_vfs){
	    .iVersion = 1,
	    .szOsFile = (int)sizeof(struct store_vfs_file),
	    .mxPathname = 1024,
	    .zName = v->name,
	    .pAppData = v,
	    .xOpen = vfs_open,
	    .xDelete = vfs_delete,
	    .xAccess = vfs_access,
	    .xFullPathname = vfs_full_pathname,
	    .xRandomness = vfs_randomness,
	    .xSleep = vfs_sleep,
	    .xCurrentTime = vfs_current_time,
	    .xGetLastError = vfs_last_error,
	};
	if (sqlite3_vfs_register(&v->base, 0) != SQLITE_OK) {
		free(v);
		return NULL;
	}
	return v;
}

static void vfs_free(struct store_vfs *v)
{
	if (v == NULL)
		return;
	sqlite3_vfs_unregister(&v->base);
	free(v);
}

enum sy_rc store_vfs_open(const struct sy_env *env, const char *path, int flags, sqlite3 **out, char *err,
			  size_t err_len)
{
	SY_ASSERT(env != NULL && path != NULL && out != NULL);
	*out = NULL;
	struct store_vfs *v = vfs_new(env);
	if (v == NULL) {
		if (err != NULL)
			snprintf(err, err_len, "sqlite open %s: cannot register the env VFS", path);
		return SY_ERR_NOMEM;
	}
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags, v->name);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA temp_store=MEMORY", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		if (err != NULL)
			snprintf(err, err_len, "sqlite open %s: %s", path,
				 db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		vfs_free(v);
		return SY_ERR_IO;
	}
	*out = db;
	return SY_OK;
}

void store_vfs_close(sqlite3 *db)
{
	if (db == NULL)
		return;
	sqlite3_vfs *vfs = NULL;
	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) != SQLITE_OK)
		vfs = NULL;
	/* A handle with live statements stays open (a caller's bug); its VFS
	 * must then stay registered too. */
	if (sqlite3_close(db) == SQLITE_OK && vfs != NULL)
		vfs_free(vfs->pAppData);
}
