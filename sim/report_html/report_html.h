/* report_html.h: `switchyard report DIR`: a run's or a sweep's output folder
 * turned into DIR/report.html with plots drawn by gnuplot. The pages, the
 * data files and the gnuplot scripts are written here; running gnuplot (a
 * process, which the determinism lint keeps out of sim/) is the caller's
 * plot function (cmd/report.c). */
#ifndef SIM_REPORT_HTML_H
#define SIM_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Runs gnuplot on script (a file name inside dir, which is the working
 * directory); 0 on success, else a reason in err. */
typedef int (*rh_plot_fn)(void *ctx, const char *dir, const char *script, char *err, size_t errlen);

struct rh_opts {
	const char *dir; /* the run's or the sweep's output folder */
	rh_plot_fn plot;
	void *plot_ctx;
};

/* Writes DIR/report.html and its images under DIR/report-img/. 0 on
 * success; 2 with "file:line: reason" in err on bad input; 1 when gnuplot
 * failed. */
int report_html_write(const struct rh_opts *o, char *err, size_t errlen);

/* ---- shared by the parts (the files of sim/report_html/) ---- */

#define RH_COLS_MAX 96
#define RH_PATH_MAX 1024

/* A CSV file read whole: a header and rows of fields (quoted fields
 * allowed, "" inside quotes). */
struct rh_table {
	char path[RH_PATH_MAX];
	char *buf;	  /* the file, fields cut in place */
	char **cells;	  /* rows * ncols */
	size_t ncols, nrows, cap;
	char *names[RH_COLS_MAX];
};

/* 0, or 2 with "path:line: reason" in err (missing file, ragged row, empty);
 * on an error the table holds nothing to free. */
int rh_table_read(struct rh_table *t, const char *path, char *err, size_t errlen);
void rh_table_free(struct rh_table *t);
int rh_table_col(const struct rh_table *t, const char *name); /* -1 when absent */
const char *rh_table_cell(const struct rh_table *t, size_t row, int col);
/* A number, or false (row+2 is the line for errors). */
bool rh_num(const char *s, double *out);

/* The page: a header, paragraphs, images, tables; text is escaped. */
struct rh_page {
	FILE *f;
	const char *dir;     /* the folder the report describes */
	char img_dir[RH_PATH_MAX];
	int nplots;
	int failed_plots;
	rh_plot_fn plot;
	void *plot_ctx;
	char err[512];	     /* the first gnuplot failure */
};

void rh_html_text(FILE *f, const char *s); /* HTML-escaped */
/* A gnuplot single-quoted string: quotes doubled, control characters and
 * backquotes replaced, so file contents cannot reach gnuplot's command
 * substitution. */
void rh_gp_str(FILE *f, const char *s);
/* Opens report-img/NAME.dat for writing. */
FILE *rh_data_open(struct rh_page *p, const char *name);
/* Opens the gnuplot script for NAME.png with terminal, title and labels set. */
FILE *rh_plot_begin(struct rh_page *p, const char *name, const char *title, const char *xlabel, const char *ylabel);
/* Closes the script, runs gnuplot, and puts the image (or why it is missing) in the page. */
void rh_plot_end(struct rh_page *p, FILE *gp, const char *name, const char *caption);

/* The two kinds of folder (report_html/run.c, sweep.c). */
int rh_run_report(struct rh_page *p, char *err, size_t errlen);
int rh_sweep_report(struct rh_page *p, char *err, size_t errlen);

/* Small JSON lookups in a file read whole (report.json, sweep.json): the
 * value after the first "key": at or after from; strings unescaped. */
char *rh_slurp(const char *path, size_t *len);
const char *rh_json_find(const char *from, const char *key);
bool rh_json_num(const char *from, const char *key, double *out);
bool rh_json_str(const char *from, const char *key, char *out, size_t n);

/* Erlang-B blocking probability of n circuits offered a Erlangs. */
double rh_erlang_b(unsigned n, double a);

#endif
