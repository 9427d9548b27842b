/* bench.h: what the benchmark programs (bench/NAME.c) share: a clock and the
 * process's resident set. Live code only: benchmarks measure the machine. */
#ifndef SY_BENCH_BENCH_H
#define SY_BENCH_BENCH_H
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Clock id (CLOCK_MONOTONIC for elapsed time, CLOCK_PROCESS_CPUTIME_ID for
 * CPU) in ns. */
static inline uint64_t bench_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The process's resident set in bytes (/proc/self/statm), 0 if unknown. */
static inline uint64_t bench_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0, res = 0;
	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * 4096;
}
#endif
