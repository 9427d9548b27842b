/* disk.c: the simulated disk behind the env's file operations. Files pass
 * through to the real filesystem (a run writes real output folders), but
 * durability and timing are modelled: sync never calls fdatasync; a
 * scheduled fault makes the disk slow, full or failing its syncs, the same
 * way for every node at the same virtual time, so a seed replays a disk
 * fault byte for byte; and a power cut puts back every file of a node as it
 * was at its last sync, from an undo log kept while power loss is tracked. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/sim_int.h"

struct sy_file {
	int fd;
	bool append;
	struct sim_pfile *pf; /* NULL: power loss not tracked */
	struct sim_node *node;
	sy_timer_id sync_t; /* an asynchronous sync in flight (its completion event) */
	sy_file_sync_fn sync_fn;
	void *sync_arg;
};

static enum sy_rc disk_rc(int e)
{
	if (e == ENOENT)
		return SY_ERR_NOTFOUND;
	if (e == ENOSPC || e == EDQUOT)
		return SY_ERR_FULL;
	return SY_ERR_IO;
}

/* A slow disk stalls the single-threaded node that waits on it: every
 * event-loop callback that writes or syncs costs slow_ns once, and what the
 * node does after it (timers it arms, packets it sends) is shifted by the
 * stall, as a blocking fsync would shift it in a live process. */
static void disk_stall(struct sim_node *n)
{
	struct sim *s = n->sim;
	if (s->disk.mode != SIM_DISK_SLOW || n->disk_last_event == s->stats.events + 1)
		return;
	n->disk_last_event = s->stats.events + 1;
	n->stall_until_ns = SY_MAX(n->stall_until_ns, s->now_ns) + s->disk.slow_ns;
	s->disk.st.slow_ops++;
	s->disk.st.stall_ns += s->disk.slow_ns;
}

uint64_t sim_node_stall_ns(const struct sim_node *n)
{
	uint64_t now = n->sim->now_ns;
	return n->stall_until_ns > now ? n->stall_until_ns - now : 0;
}

/* ---- power-loss tracking ---- */

static struct sim_pfile *pfile_find(struct sim_disk *d, const char *path)
{
	for (struct sim_pfile *pf = d->pfiles; pf != NULL; pf = pf->next)
		if (!pf->gone && strcmp(pf->path, path) == 0)
			return pf;
	return NULL;
}

static void pfile_forget_undo(struct sim_pfile *pf)
{
	for (uint32_t i = 0; i < pf->undo_n; i++)
		free(pf->undo[i].old);
	pf->undo_n = 0;
	pf->unsynced_writes = pf->unsynced_bytes = 0;
}

static void pfile_free(struct sim_pfile *pf)
{
	pfile_forget_undo(pf);
	free(pf->undo);
	free(pf->path);
	free(pf);
}

static void pfile_unlink_from(struct sim_disk *d, struct sim_pfile *pf)
{
	for (struct sim_pfile **pp = &d->pfiles; *pp != NULL; pp = &(*pp)->next)
		if (*pp == pf) {
			*pp = pf->next;
			return;
		}
}

/* The file's state when a handle opens it: a path seen before keeps its
 * state (closed files lose their unsynced writes too); a new one is synced
 * as it is now, unless this open creates it. */
static enum sy_rc pfile_attach(struct sim_node *n, struct sy_file *f, const char *path, bool created)
{
	struct sim_disk *d = &n->sim->disk;
	struct sim_pfile *pf = pfile_find(d, path);
	if (pf == NULL) {
		struct stat sb;
		pf = calloc(1, sizeof *pf);
		if (pf == NULL || (pf->path = strdup(path)) == NULL || fstat(f->fd, &sb) != 0) {
			if (pf != NULL)
				free(pf->path);
			free(pf);
			return SY_ERR_NOMEM;
		}
		pf->node = n;
		pf->synced_exists = !created;
		pf->size = pf->synced_size = created ? 0 : (uint64_t)sb.st_size;
		pf->next = d->pfiles;
		d->pfiles = pf;
	}
	pf->open_n++;
	f->pf = pf;
	return SY_OK;
}

/* Before a write of [off, off + len) or a truncation to off (len 0: to the
 * end): what it overwrites or cuts, while it is still there. Bytes past the
 * file's end are new and need no undo: the cut truncates them away. */
static enum sy_rc pfile_save(struct sim_pfile *pf, int fd, uint64_t off, uint64_t len)
{
	uint64_t end = len == 0 ? pf->size : SY_MIN(off + len, pf->size);
	if (off >= end)
		return SY_OK;
	if (pf->undo_n == pf->undo_cap) {
		uint32_t cap = pf->undo_cap ? pf->undo_cap * 2 : 16;
		struct sim_undo *u = realloc(pf->undo, cap * sizeof *u);
		if (u == NULL)
			return SY_ERR_NOMEM;
		pf->undo = u;
		pf->undo_cap = cap;
	}
	struct sim_undo *u = &pf->undo[pf->undo_n];
	u->off = off;
	u->len = (size_t)(end - off);
	if ((u->old = malloc(u->len)) == NULL)
		return SY_ERR_NOMEM;
	size_t got = 0;
	while (got < u->len) {
		ssize_t r = pread(fd, u->old + got, u->len - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(u->old);
			return r < 0 ? disk_rc(errno) : SY_ERR_IO;
		}
		got += (size_t)r;
	}
	pf->undo_n++;
	return SY_OK;
}

/* Puts one file back as it was at its last sync: the undo log applied
 * newest first, then the synced size. A file never synced is removed (and
 * true returned: its state is to be forgotten once no handle holds it). */
static bool pfile_restore(struct sim_disk *d, struct sim_pfile *pf)
{
	d->st.power_undone_writes += pf->unsynced_writes;
	d->st.power_undone_bytes += pf->unsynced_bytes;
	if (!pf->synced_exists) {
		if (unlink(pf->path) == 0)
			d->st.power_files_removed++;
		pf->gone = true; /* a later open of the path creates another */
		pfile_forget_undo(pf);
		return true;
	}
	int fd = open(pf->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) { /* removed behind the simulator's back: nothing to put back */
		pfile_forget_undo(pf);
		return false;
	}
	for (uint32_t i = pf->undo_n; i-- > 0;) {
		const struct sim_undo *u = &pf->undo[i];
		SY_ASSERT(pwrite(fd, u->old, u->len, (off_t)u->off) == (ssize_t)u->len);
	}
	SY_ASSERT(ftruncate(fd, (off_t)pf->synced_size) == 0);
	close(fd);
	pf->size = pf->synced_size;
	pfile_forget_undo(pf);
	return false;
}

void sim_disk_track(struct sim *s, bool on)
{
	struct sim_disk *d = &s->disk;
	d->track = on;
	if (on)
		return;
	/* Forget every file; one still open keeps its state until it closes. */
	struct sim_pfile **pp = &d->pfiles;
	while (*pp != NULL) {
		struct sim_pfile *pf = *pp;
		if (pf->open_n > 0) {
			pf->gone = true;
			pp = &pf->next;
			continue;
		}
		*pp = pf->next;
		pfile_free(pf);
	}
}

bool sim_disk_tracking(const struct sim *s)
{
	return s->disk.track;
}

void sim_node_power_loss(struct sim_node *n)
{
	struct sim *s = n->sim;
	if (!n->up)
		return;
	n->power_off = true;
	s->disk.st.power_losses++;
	sim_digest_event(&s->digest, s->now_ns, n->name, "sim.power-loss", NULL, 0);
	sim_node_crash(n);
	struct sim_pfile **pp = &s->disk.pfiles;
	while (*pp != NULL) {
		struct sim_pfile *pf = *pp;
		if (pf->node == n && !pf->gone && pfile_restore(&s->disk, pf) && pf->open_n == 0) {
			*pp = pf->next;
			pfile_free(pf);
			continue;
		}
		pp = &pf->next;
	}
	/* Nothing runs on the node until it restarts: the disk is back, and a
	 * restart that comes early (a crash fault's) finds it as power-on will. */
	n->power_off = false;
}

void sim_node_power_on(struct sim_node *n)
{
	sim_node_restart(n);
}

static void power_loss_fn(void *arg)
{
	sim_node_power_loss(arg);
}

static void power_on_fn(void *arg)
{
	sim_node_power_on(arg);
}

void sim_node_power_loss_at(struct sim_node *n, uint64_t t_ns, uint64_t down_ns)
{
	SY_ASSERT(sim_at(n->sim, t_ns, power_loss_fn, n) != 0);
	SY_ASSERT(sim_at(n->sim, t_ns + down_ns, power_on_fn, n) != 0);
}

/* ---- files ---- */

enum sy_rc sim_file_open(void *ctx, const char *path, unsigned flags, struct sy_file **out)
{
	struct sim_node *n = ctx;
	int oflags = O_CLOEXEC;
	bool created = false;
	if ((flags & SY_FILE_WRITE) != 0)
		oflags |= (flags & SY_FILE_READ) != 0 ? O_RDWR : O_WRONLY;
	if ((flags & SY_FILE_APPEND) != 0)
		oflags |= O_APPEND;
	if ((flags & SY_FILE_CREATE) != 0) {
		created = access(path, F_OK) != 0;
		/* A full disk has no inode to give a new file; a dead one none either. */
		if (created && n->power_off)
			return SY_ERR_IO;
		if (n->sim->disk.mode == SIM_DISK_FULL && created) {
			n->sim->disk.st.full_errors++;
			return SY_ERR_FULL;
		}
		oflags |= O_CREAT;
	}
	struct sy_file *f = malloc(sizeof *f);
	if (f == NULL)
		return SY_ERR_NOMEM;
	f->fd = open(path, oflags, 0644);
	if (f->fd < 0) {
		int e = errno;
		free(f);
		return disk_rc(e);
	}
	f->append = (flags & SY_FILE_APPEND) != 0;
	f->pf = NULL;
	f->node = n;
	f->sync_t = 0;
	if (n->sim->disk.track && (flags & SY_FILE_WRITE) != 0 && pfile_attach(n, f, path, created) != SY_OK) {
		close(f->fd);
		free(f);
		return SY_ERR_NOMEM;
	}
	*out = f;
	return SY_OK;
}

enum sy_rc sim_file_read(void *ctx, struct sy_file *f, uint64_t off, void *buf, size_t len, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t r = pread(f->fd, (char *)buf + *got, len - *got, (off_t)(off + *got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return disk_rc(errno);
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return SY_OK;
}

enum sy_rc sim_file_write(void *ctx, struct sy_file *f, uint64_t off, const void *buf, size_t len)
{
	struct sim_node *n = ctx;
	struct sim_disk *d = &n->sim->disk;
	if (n->power_off)
		return SY_ERR_IO;
	if (d->mode == SIM_DISK_FULL && len > 0) {
		d->st.full_errors++;
		return SY_ERR_FULL; /* nothing written, as ENOSPC on the first byte */
	}
	disk_stall(n);
	d->st.writes++;
	struct sim_pfile *pf = f->pf;
	if (pf != NULL) {
		if (f->append)
			off = pf->size;
		enum sy_rc rc = len > 0 ? pfile_save(pf, f->fd, off, len) : SY_OK;
		if (rc != SY_OK)
			return rc;
		d->st.power_tracked_writes++;
	}
	size_t done = 0;
	while (done < len) {
		const char *p = (const char *)buf + done;
		ssize_t w = f->append ? write(f->fd, p, len - done) : pwrite(f->fd, p, len - done, (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? disk_rc(errno) : SY_ERR_IO;
		done += (size_t)w;
	}
	if (pf != NULL) {
		pf->size = SY_MAX(pf->size, off + len);
		pf->unsynced_writes++;
		pf->unsynced_bytes += len;
	}
	return SY_OK;
}

/* The sync itself: what a fault makes of it, and the file's synced state.
 * stall: the node waits for it (a blocking fdatasync). */
static enum sy_rc disk_sync(struct sim_node *n, struct sy_file *f, bool stall)
{
	struct sim_disk *d = &n->sim->disk;
	if (n->power_off)
		return SY_ERR_IO;
	d->st.syncs++;
	if (d->mode == SIM_DISK_FSYNC_FAIL) {
		d->st.sync_errors++;
		return SY_ERR_IO;
	}
	if (stall)
		disk_stall(n);
	struct sim_pfile *pf = f->pf;
	if (pf != NULL) { /* on stable storage: a cut no longer undoes it */
		pf->synced_exists = true;
		pf->synced_size = pf->size;
		pfile_forget_undo(pf);
	}
	return SY_OK;
}

enum sy_rc sim_file_sync(void *ctx, struct sy_file *f)
{
	return disk_sync(ctx, f, true);
}

/* An asynchronous sync completes as an event of the node after the disk's
 * time (a slow disk's slow_ns; none otherwise): the node goes on meanwhile,
 * and what it wrote is durable only at the event (a power cut before it
 * undoes the writes; a crash drops the event with the node's timers). */
static void disk_sync_fire(void *arg)
{
	struct sy_file *f = arg;
	f->sync_t = 0;
	enum sy_rc rc = disk_sync(f->node, f, false);
	f->sync_fn(f->sync_arg, rc);
}

enum sy_rc sim_file_sync_start(void *ctx, struct sy_file *f, sy_file_sync_fn fn, void *arg)
{
	struct sim_node *n = ctx;
	SY_ASSERT(f->sync_t == 0);
	const struct sim_disk *d = &n->sim->disk;
	uint64_t delay = d->mode == SIM_DISK_SLOW ? d->slow_ns : 0;
	f->sync_fn = fn;
	f->sync_arg = arg;
	f->sync_t = sy_env_timer_start(&n->env, delay, disk_sync_fire, f);
	return f->sync_t != 0 ? SY_OK : SY_AGAIN;
}

/* Now instead of at its event: the node waited for the disk. */
void sim_file_sync_wait(void *ctx, struct sy_file *f)
{
	if (f->sync_t == 0)
		return;
	sy_env_timer_cancel(&f->node->env, f->sync_t);
	f->sync_t = 0;
	enum sy_rc rc = disk_sync(f->node, f, true);
	f->sync_fn(f->sync_arg, rc);
}

enum sy_rc sim_file_size(void *ctx, struct sy_file *f, uint64_t *out)
{
	struct stat sb;
	if (fstat(f->fd, &sb) != 0)
		return disk_rc(errno);
	*out = (uint64_t)sb.st_size;
	return SY_OK;
}

enum sy_rc sim_file_truncate(void *ctx, struct sy_file *f, uint64_t size)
{
	struct sim_node *n = ctx;
	if (n->power_off)
		return SY_ERR_IO;
	struct sim_pfile *pf = f->pf;
	if (pf != NULL && size < pf->size) {
		enum sy_rc rc = pfile_save(pf, f->fd, size, 0);
		if (rc != SY_OK)
			return rc;
	}
	if (ftruncate(f->fd, (off_t)size) != 0)
		return disk_rc(errno);
	if (pf != NULL) {
		pf->size = size;
		pf->unsynced_writes++;
	}
	return SY_OK;
}

/* Real record locks: the run's folder must not be opened by another
 * process meanwhile either. */
enum sy_rc sim_file_lock(void *ctx, struct sy_file *f, uint64_t off, uint64_t len, enum sy_file_lock how)
{
	struct flock fl = {.l_type = how == SY_LOCK_WRITE  ? F_WRLCK
				     : how == SY_LOCK_READ ? F_RDLCK
							   : F_UNLCK,
			   .l_whence = SEEK_SET,
			   .l_start = (off_t)off,
			   .l_len = (off_t)len};
	if (fcntl(f->fd, F_SETLK, &fl) == 0)
		return SY_OK;
	return errno == EACCES || errno == EAGAIN ? SY_AGAIN : disk_rc(errno);
}

void sim_file_close(void *ctx, struct sy_file *f)
{
	struct sim_node *n = ctx;
	struct sim_pfile *pf = f->pf;
	if (f->sync_t != 0)
		sy_env_timer_cancel(&n->env, f->sync_t); /* dropped: never reported */
	close(f->fd);
	free(f);
	/* A tracked file keeps its state after its last close, unless it is
	 * forgotten (unlinked, removed by a cut, or tracking turned off). */
	if (pf != NULL && --pf->open_n == 0 && pf->gone) {
		pfile_unlink_from(&n->sim->disk, pf);
		pfile_free(pf);
	}
}

/* An unlink is durable at once (the model journals metadata); refused
 * with the power off, so a closing component cannot lose a file a cut
 * would have kept. */
enum sy_rc sim_file_unlink(void *ctx, const char *path)
{
	struct sim_node *n = ctx;
	if (n->power_off)
		return SY_ERR_IO;
	if (unlink(path) != 0)
		return disk_rc(errno);
	struct sim_pfile *pf = pfile_find(&n->sim->disk, path);
	if (pf != NULL) {
		pfile_forget_undo(pf);
		pf->gone = true;
		if (pf->open_n == 0) {
			pfile_unlink_from(&n->sim->disk, pf);
			pfile_free(pf);
		}
	}
	return SY_OK;
}

bool sim_file_exists(void *ctx, const char *path)
{
	return access(path, F_OK) == 0;
}

enum sy_rc sim_dir_make(void *ctx, const char *path)
{
	struct sim_node *n = ctx;
	if (access(path, F_OK) == 0)
		return SY_OK;
	if (n->power_off)
		return SY_ERR_IO;
	if (n->sim->disk.mode == SIM_DISK_FULL) {
		n->sim->disk.st.full_errors++;
		return SY_ERR_FULL;
	}
	return mkdir(path, 0755) == 0 || errno == EEXIST ? SY_OK : disk_rc(errno);
}

/* ---- faults ---- */

void sim_disk_set(struct sim *s, enum sim_disk_mode mode, uint64_t slow_ns)
{
	static const char *names[] = {"ok", "slow", "full", "fsync-fail"};
	s->disk.mode = mode;
	s->disk.slow_ns = mode == SIM_DISK_SLOW ? slow_ns : 0;
	const char *name = names[mode <= SIM_DISK_FSYNC_FAIL ? mode : 0];
	sim_digest_event(&s->digest, s->now_ns, "world", "sim.disk", name, strlen(name));
}

static void disk_fault_start(void *arg)
{
	struct sim_disk_fault *f = arg;
	sim_disk_set(f->sim, f->mode, f->slow_ns);
}

static void disk_fault_end(void *arg)
{
	struct sim_disk_fault *f = arg;
	if (f->sim->disk.mode == f->mode) /* a later fault may have replaced it */
		sim_disk_set(f->sim, SIM_DISK_OK, 0);
}

bool sim_disk_fault_at(struct sim *s, uint64_t t_ns, uint64_t for_ns, enum sim_disk_mode mode, uint64_t slow_ns)
{
	if (s->disk.faults_n == SIM_DISK_FAULTS_MAX)
		return false;
	struct sim_disk_fault *f = &s->disk.faults[s->disk.faults_n++];
	*f = (struct sim_disk_fault){s, mode, slow_ns};
	if (sim_at(s, t_ns, disk_fault_start, f) == 0)
		return false;
	return for_ns == 0 || sim_at(s, t_ns + for_ns, disk_fault_end, f) != 0;
}

const struct sim_disk_stats *sim_disk_stats(const struct sim *s)
{
	return &s->disk.st;
}
