/* faultfs.h: a files-only env for unit tests: the real files of
 * sy_live_files(), with switches that make the disk full (writes and
 * creations fail with SY_ERR_FULL) or fail every sync (SY_ERR_IO). */
#ifndef SY_TESTS_FAULTFS_H
#define SY_TESTS_FAULTFS_H

#include "core/env.h"

struct faultfs {
	struct sy_env env;
	bool full;
	bool sync_fail;
	uint64_t refused; /* writes, creations and syncs the switches failed */
};

void faultfs_init(struct faultfs *f);

#endif
