/* vfs.h: sqlite on the env's files. Every database the stores open goes
 * through a sqlite VFS whose reads, writes, syncs and deletes are the env's
 * file operations (core/env.h), so the simulator's disk faults reach sqlite
 * as they would on a real disk: a full disk is SQLITE_FULL, a failed fsync
 * is SQLITE_IOERR_FSYNC.
 *
 * The VFS has no shared memory: each database is opened with
 * locking_mode=EXCLUSIVE (the WAL index lives in the connection's heap) and
 * keeps sqlite's own byte-range locks (the env's file_lock) for its life,
 * so another process's sqlite (the shell, a second node on the folder) is
 * refused with SQLITE_BUSY while the node runs. A reader in the same process
 * may open it read-only (POSIX locks do not separate one process's
 * connections). Temporary tables stay in memory; randomness and the clock
 * come from the env. */
#ifndef SY_STORE_VFS_H
#define SY_STORE_VFS_H

#include <sqlite3.h>

#include "core/env.h"

/* Opens path with flags (SQLITE_OPEN_*) on a VFS of its own built on env,
 * already in exclusive locking mode. On failure *out is NULL and err says
 * why. env must outlive the handle. */
enum sy_rc store_vfs_open(const struct sy_env *env, const char *path, int flags, sqlite3 **out, char *err,
			  size_t err_len);
/* Closes a handle of store_vfs_open() (its statements must be finalized)
 * and frees its VFS. db may be NULL. */
void store_vfs_close(sqlite3 *db);

#endif
