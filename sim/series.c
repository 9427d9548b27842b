/* series.c: per-second integer columns and their CSV form; see series.h.
 * Columns grow by doubling up to seconds_max, never per sample. */
#include "sim/series.h"

#include <inttypes.h>
#include <stdlib.h>

void sim_series_init(struct sim_series *s, uint32_t seconds_max)
{
	memset(s, 0, sizeof(*s));
	s->seconds_max = seconds_max ? seconds_max : 86400;
}

void sim_series_free(struct sim_series *s)
{
	for (uint32_t i = 0; i < s->ncols; i++) {
		free(s->cols[i].v);
		free(s->cols[i].has);
	}
	memset(s, 0, sizeof(*s));
}

int sim_series_col_find(const struct sim_series *s, const char *name)
{
	for (uint32_t i = 0; i < s->ncols; i++)
		if (strcmp(s->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

int sim_series_col_add(struct sim_series *s, const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= SIM_SERIES_NAME_MAX || strpbrk(name, ",\"\r\n") != NULL)
		return -1;
	int id = sim_series_col_find(s, name);
	if (id >= 0)
		return id;
	if (s->ncols == SIM_SERIES_COLS_MAX)
		return -1;
	memcpy(s->cols[s->ncols].name, name, n + 1);
	return (int)s->ncols++;
}

static bool col_reserve(struct sim_series_col *c, uint32_t sec)
{
	if (sec < c->cap)
		return true;
	uint32_t ncap = c->cap ? c->cap : 64;
	while (ncap <= sec)
		ncap *= 2;
	int64_t *v = realloc(c->v, sizeof(*v) * ncap);
	if (v == NULL)
		return false;
	c->v = v;
	uint8_t *h = realloc(c->has, ncap);
	if (h == NULL)
		return false;
	c->has = h;
	memset(v + c->cap, 0, sizeof(*v) * (ncap - c->cap));
	memset(h + c->cap, 0, ncap - c->cap);
	c->cap = ncap;
	return true;
}

static struct sim_series_col *cell(struct sim_series *s, int col, uint64_t t_ns, uint32_t *sec)
{
	if (col < 0 || (uint32_t)col >= s->ncols)
		return NULL;
	uint64_t t_s = t_ns / SY_NS_PER_S;
	if (t_s >= s->seconds_max)
		return NULL;
	struct sim_series_col *c = &s->cols[col];
	if (!col_reserve(c, (uint32_t)t_s))
		return NULL;
	*sec = (uint32_t)t_s;
	if (*sec + 1 > s->seconds)
		s->seconds = *sec + 1;
	return c;
}

enum sy_rc sim_series_add(struct sim_series *s, int col, uint64_t t_ns, int64_t value)
{
	uint32_t sec;
	struct sim_series_col *c = cell(s, col, t_ns, &sec);
	if (c == NULL)
		return col < 0 || (uint32_t)col >= s->ncols ? SY_ERR_INVAL : SY_ERR_FULL;
	c->v[sec] += value;
	c->has[sec] = 1;
	return SY_OK;
}

enum sy_rc sim_series_set(struct sim_series *s, int col, uint64_t t_ns, int64_t value)
{
	uint32_t sec;
	struct sim_series_col *c = cell(s, col, t_ns, &sec);
	if (c == NULL)
		return col < 0 || (uint32_t)col >= s->ncols ? SY_ERR_INVAL : SY_ERR_FULL;
	c->gauge = true;
	c->v[sec] = value;
	c->has[sec] = 1;
	return SY_OK;
}

int64_t sim_series_get(const struct sim_series *s, int col, uint32_t second)
{
	if (col < 0 || (uint32_t)col >= s->ncols)
		return 0;
	const struct sim_series_col *c = &s->cols[col];
	if (!c->gauge)
		return second < c->cap ? c->v[second] : 0;
	/* A gauge repeats its last sample until the next one. */
	for (uint32_t i = SY_MIN(second + 1, c->cap); i-- > 0;)
		if (c->has[i])
			return c->v[i];
	return 0;
}

void sim_series_extend(struct sim_series *s, uint32_t seconds)
{
	if (seconds > s->seconds_max)
		seconds = s->seconds_max;
	if (seconds > s->seconds)
		s->seconds = seconds;
}

enum sy_rc sim_series_write_csv(const struct sim_series *s, FILE *f)
{
	fputs("t_s", f);
	for (uint32_t i = 0; i < s->ncols; i++)
		fprintf(f, ",%s", s->cols[i].name);
	fputc('\n', f);
	int64_t *last = calloc(s->ncols ? s->ncols : 1, sizeof(*last));
	if (last == NULL)
		return SY_ERR_NOMEM;
	for (uint32_t t = 0; t < s->seconds; t++) {
		fprintf(f, "%" PRIu32, t);
		for (uint32_t i = 0; i < s->ncols; i++) {
			const struct sim_series_col *c = &s->cols[i];
			int64_t v = t < c->cap ? c->v[t] : 0;
			if (c->gauge) { /* carried forward without rescanning */
				if (t < c->cap && c->has[t])
					last[i] = v;
				v = last[i];
			}
			fprintf(f, ",%" PRId64, v);
		}
		fputc('\n', f);
	}
	free(last);
	return ferror(f) ? SY_ERR_IO : SY_OK;
}
