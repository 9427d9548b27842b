/* series.h: per-second time series for a run's CSV output. The owner
 * registers named integer columns, then adds to them (counters, summed per
 * virtual second) or sets them (gauges, last value wins and carries forward
 * into seconds with no sample). Written as "t_s,col1,col2,..." rows. */
#ifndef SIM_SERIES_H
#define SIM_SERIES_H

#include <stdio.h>

#include "core/base.h"

#define SIM_SERIES_COLS_MAX 64
#define SIM_SERIES_NAME_MAX 48

struct sim_series_col {
	char name[SIM_SERIES_NAME_MAX];
	bool gauge;	  /* set() was used: carry the last value forward */
	int64_t *v;	  /* one value per second */
	uint8_t *has;	  /* gauge: a sample exists for that second */
	uint32_t cap;	  /* seconds allocated */
};

struct sim_series {
	struct sim_series_col cols[SIM_SERIES_COLS_MAX];
	uint32_t ncols;
	uint32_t seconds;      /* rows: highest second touched + 1 */
	uint32_t seconds_max;  /* bound on memory: samples later than this are ignored */
};

/* seconds_max 0 means one day. */
void sim_series_init(struct sim_series *s, uint32_t seconds_max);
void sim_series_free(struct sim_series *s);
/* Returns the column id, or -1 when the table is full, the name is empty,
 * too long or has a comma, quote or newline. Adding an existing name
 * returns its id. */
int sim_series_col_add(struct sim_series *s, const char *name);
int sim_series_col_find(const struct sim_series *s, const char *name);
/* Adds value to the column's cell for the second holding t_ns. */
enum sy_rc sim_series_add(struct sim_series *s, int col, uint64_t t_ns, int64_t value);
/* Sets the cell (gauge); later seconds without a sample repeat it. */
enum sy_rc sim_series_set(struct sim_series *s, int col, uint64_t t_ns, int64_t value);
/* The value as it will be written (0 for unknown cells). */
int64_t sim_series_get(const struct sim_series *s, int col, uint32_t second);
/* Makes the table at least this many rows long (e.g. the run's duration). */
void sim_series_extend(struct sim_series *s, uint32_t seconds);
/* Header "t_s,name,..." then one row per second 0..seconds-1. */
enum sy_rc sim_series_write_csv(const struct sim_series *s, FILE *f);

#endif
