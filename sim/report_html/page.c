/* page.c: report.html itself: which kind of folder DIR is, the page around
 * the plots, HTML escaping, and the gnuplot scripts' common part (terminal,
 * title, labels, legend) with every inserted text made inert. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "report_html.h"

void rh_html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

void rh_gp_str(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\'')
			fputs("''", f);
		else if (c < 0x20 || c == 0x7f || c == '`')
			fputc(' ', f);
		else
			fputc(c, f);
	}
	fputc('\'', f);
}

FILE *rh_data_open(struct rh_page *p, const char *name)
{
	char path[RH_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s.dat", p->img_dir, name);
	return fopen(path, "w");
}

FILE *rh_plot_begin(struct rh_page *p, const char *name, const char *title, const char *xlabel, const char *ylabel)
{
	char path[RH_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s.gp", p->img_dir, name);
	FILE *gp = fopen(path, "w");
	if (gp == NULL)
		return NULL;
	fprintf(gp, "set terminal pngcairo size 960,520 font 'sans,11' noenhanced\n");
	fprintf(gp, "set output '%s.png'\nset datafile separator ','\nset termoption noenhanced\n", name);
	fprintf(gp, "set title ");
	rh_gp_str(gp, title);
	fprintf(gp, " font 'sans,13'\nset xlabel ");
	rh_gp_str(gp, xlabel);
	fprintf(gp, "\nset ylabel ");
	rh_gp_str(gp, ylabel);
	fprintf(gp, "\nset grid\nset key at screen 0.5, screen 0.015 center bottom horizontal Left reverse box opaque maxrows 2\nset bmargin 7\nset style textbox opaque noborder\nset border 3\nset tics nomirror\n");
	fprintf(gp, "set style line 1 lw 2 lc rgb '#1f77b4'\nset style line 2 lw 2 lc rgb '#ff7f0e'\n"
		    "set style line 3 lw 2 lc rgb '#2ca02c'\nset style line 4 lw 2 lc rgb '#d62728'\n"
		    "set style line 5 lw 2 lc rgb '#9467bd'\nset style line 6 lw 2 lc rgb '#8c564b'\n"
		    "set style line 7 lw 2 lc rgb '#7f7f7f'\n");
	return gp;
}

void rh_plot_end(struct rh_page *p, FILE *gp, const char *name, const char *caption)
{
	char script[96], err[512] = "";
	snprintf(script, sizeof(script), "%s.gp", name);
	bool ok = gp != NULL && fclose(gp) == 0 && p->plot(p->plot_ctx, p->img_dir, script, err, sizeof(err)) == 0;
	fprintf(p->f, "<figure>\n");
	if (ok) {
		fprintf(p->f, "<img src=\"report-img/");
		rh_html_text(p->f, name);
		fprintf(p->f, ".png\" alt=\"");
		rh_html_text(p->f, caption);
		fprintf(p->f, "\">\n");
		p->nplots++;
	} else {
		fprintf(p->f, "<p class=\"bad\">plot %s failed: ", name);
		rh_html_text(p->f, err[0] ? err : "cannot write its script");
		fprintf(p->f, "</p>\n");
		if (p->failed_plots++ == 0)
			snprintf(p->err, sizeof(p->err), "%.60s: %.400s", name, err[0] ? err : "cannot write its script");
	}
	fprintf(p->f, "<figcaption>");
	rh_html_text(p->f, caption);
	fprintf(p->f, "</figcaption>\n</figure>\n");
}

static bool is_file(const char *dir, const char *name)
{
	char path[RH_PATH_MAX + 64];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char STYLE[] =
	"<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
	"p.summary{font-size:1.2em;background:#eef4fb;padding:.8em;border-left:4px solid #1f77b4}"
	"table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
	"td.num{text-align:right}.bad{color:#b00}.ok{color:#080}figure{margin:1.5em 0}"
	"img{max-width:100%}figcaption{color:#555}</style>\n";

int report_html_write(const struct rh_opts *o, char *err, size_t errlen)
{
	struct stat st;
	if (stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s:1: not a folder: %s", o->dir, stat(o->dir, &st) ? strerror(errno) : "a file");
		return 2;
	}
	bool sweep = is_file(o->dir, "sweep.csv");
	if (!sweep && !is_file(o->dir, "series.csv") && !is_file(o->dir, "report.json")) {
		snprintf(err, errlen, "%s/sweep.csv:1: missing, and no series.csv or report.json either: "
				      "not the output folder of a run (--out) or of a sweep", o->dir);
		return 2;
	}
	struct rh_page p = {.dir = o->dir, .plot = o->plot, .plot_ctx = o->plot_ctx};
	snprintf(p.img_dir, sizeof(p.img_dir), "%s/report-img", o->dir);
	if (mkdir(p.img_dir, 0777) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s:1: cannot create: %s", p.img_dir, strerror(errno));
		return 1;
	}
	char tmp[RH_PATH_MAX + 64], path[RH_PATH_MAX + 64];
	snprintf(tmp, sizeof(tmp), "%s/report.html.tmp", o->dir);
	snprintf(path, sizeof(path), "%s/report.html", o->dir);
	p.f = fopen(tmp, "w");
	if (p.f == NULL) {
		snprintf(err, errlen, "%s:1: cannot write: %s", tmp, strerror(errno));
		return 1;
	}
	fprintf(p.f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>switchyard %s report</title>\n%s"
		     "</head><body>\n", sweep ? "sweep" : "run", STYLE);
	int rc = sweep ? rh_sweep_report(&p, err, errlen) : rh_run_report(&p, err, errlen);
	fprintf(p.f, "<p><small>Written by switchyard report; plots by gnuplot.</small></p>\n</body></html>\n");
	if (fclose(p.f) != 0 && rc == 0) {
		snprintf(err, errlen, "%s:1: write failed", tmp);
		rc = 1;
	}
	if (rc != 0) {
		remove(tmp);
		return rc;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s:1: cannot write: %s", path, strerror(errno));
		return 1;
	}
	if (p.failed_plots) {
		snprintf(err, errlen, "%d plot(s) failed, the first %s", p.failed_plots, p.err);
		return 1;
	}
	return 0;
}
