/* disk.c: the simulated disk behind the env's file operations. Files pass
 * through to the real filesystem (a run writes real output folders), but
 * durability and timing are modelled: sync never calls fdatasync (the
 * simulated power never fails), and a scheduled fault makes the disk slow,
 * full or failing its syncs, the same way for every node at the same
 * virtual time, so a seed replays a disk fault byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/sim_int.h"

struct sy_file {
	int fd;
	bool append;
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

enum sy_rc sim_file_open(void *ctx, const char *path, unsigned flags, struct sy_file **out)
{
	struct sim_node *n = ctx;
	int oflags = O_CLOEXEC;
	if ((flags & SY_FILE_WRITE) != 0)
		oflags |= (flags & SY_FILE_READ) != 0 ? O_RDWR : O_WRONLY;
	if ((flags & SY_FILE_APPEND) != 0)
		oflags |= O_APPEND;
	if ((flags & SY_FILE_CREATE) != 0) {
		/* A full disk has no inode to give a new file. */
		if (n->sim->disk.mode == SIM_DISK_FULL && access(path, F_OK) != 0) {
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
	if (d->mode == SIM_DISK_FULL && len > 0) {
		d->st.full_errors++;
		return SY_ERR_FULL; /* nothing written, as ENOSPC on the first byte */
	}
	disk_stall(n);
	d->st.writes++;
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
	return SY_OK;
}

enum sy_rc sim_file_sync(void *ctx, struct sy_file *f)
{
	struct sim_node *n = ctx;
	struct sim_disk *d = &n->sim->disk;
	d->st.syncs++;
	if (d->mode == SIM_DISK_FSYNC_FAIL) {
		d->st.sync_errors++;
		return SY_ERR_IO;
	}
	disk_stall(n);
	return SY_OK;
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
	return ftruncate(f->fd, (off_t)size) == 0 ? SY_OK : disk_rc(errno);
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
	close(f->fd);
	free(f);
}

enum sy_rc sim_file_unlink(void *ctx, const char *path)
{
	return unlink(path) == 0 ? SY_OK : disk_rc(errno);
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
