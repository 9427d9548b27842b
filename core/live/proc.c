/* proc.c: the process's own figures for /metrics (core/metrics/process.h),
 * from /proc/self and glibc's mallinfo2. Read at scrape time only. */
#include "core/live/live.h"

#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

static uint64_t rss_bytes(void)
{
	unsigned long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return 0;
	uint64_t n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n > 0 ? n - 1 : 0; /* the directory's own descriptor */
}

/* Under ASan, malloc is the sanitizer's and mallinfo2 reports zeros: its
 * own figures are the heap then (weak: absent in a plain build). */
extern size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));
extern size_t __sanitizer_get_heap_size(void) __attribute__((weak));

void sy_live_process_stats(struct sy_process_stats *out)
{
	struct rusage ru;
	*out = (struct sy_process_stats){.rss_bytes = rss_bytes(), .open_fds = open_fds()};
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		out->cpu_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * SY_NS_PER_S +
			      ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
	if (__sanitizer_get_current_allocated_bytes != NULL && __sanitizer_get_heap_size != NULL) {
		out->heap_inuse_bytes = __sanitizer_get_current_allocated_bytes();
		out->heap_bytes = __sanitizer_get_heap_size();
		return;
	}
	struct mallinfo2 mi = mallinfo2();
	out->heap_inuse_bytes = mi.uordblks + mi.hblkhd;
	out->heap_bytes = mi.arena + mi.hblkhd;
}
