/* input.c: what the report reads: CSV tables (series.csv, cdrs.csv,
 * mdrs.csv, sweep.csv) with file:line errors, the few JSON values it needs
 * from report.json and sweep.json, and the Erlang-B formula. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_html.h"

char *rh_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap + 1);
	while (b != NULL) {
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		char *nb = realloc(b, cap * 2 + 1);
		if (nb == NULL) {
			free(b);
			b = NULL;
			break;
		}
		b = nb;
		cap *= 2;
	}
	fclose(f);
	if (b != NULL) {
		b[n] = '\0';
		*len = n;
	}
	return b;
}

/* Cuts one field starting at *pp; quoted fields are unquoted in place. */
static char *next_field(char **pp, bool *eol)
{
	char *p = *pp, *start = p;
	if (*p == '"') {
		char *w = start;
		for (p++;; p++) {
			if (*p == '\0')
				break;
			if (*p == '"' && p[1] == '"') {
				*w++ = '"';
				p++;
			} else if (*p == '"') {
				p++;
				break;
			} else {
				*w++ = *p;
			}
		}
		char *end = w;
		while (*p != ',' && *p != '\n' && *p != '\0')
			p++;
		*eol = *p != ',';
		*pp = *p ? p + 1 : p;
		*end = '\0';
		return start;
	}
	while (*p != ',' && *p != '\n' && *p != '\0')
		p++;
	*eol = *p != ',';
	char *end = p > start && p[-1] == '\r' && *p != ',' ? p - 1 : p;
	*pp = *p ? p + 1 : p;
	*end = '\0';
	return start;
}

static int table_err(char *err, size_t errlen, const char *path, size_t line, const char *why)
{
	snprintf(err, errlen, "%s:%zu: %s", path, line, why);
	return 2;
}

static int read_header(struct rh_table *t, char **p, char *err, size_t errlen)
{
	bool eol = false;
	while (!eol) {
		if (t->ncols == RH_COLS_MAX)
			return table_err(err, errlen, t->path, 1, "more columns than the report reads (96)");
		char *name = next_field(p, &eol);
		if (*name == '\0')
			return table_err(err, errlen, t->path, 1, "an empty column name in the header");
		t->names[t->ncols++] = name;
	}
	return 0;
}

static int read_rows(struct rh_table *t, char *p, char *err, size_t errlen)
{
	for (size_t line = 2; *p != '\0'; line++) {
		if (*p == '\n' || (*p == '\r' && p[1] == '\n')) { /* blank line */
			p += *p == '\n' ? 1 : 2;
			continue;
		}
		if ((t->nrows + 1) * t->ncols > t->cap) {
			size_t cap = t->cap ? t->cap * 2 : t->ncols * 256;
			char **c = realloc(t->cells, cap * sizeof(*c));
			if (c == NULL)
				return table_err(err, errlen, t->path, line, "out of memory");
			t->cells = c;
			t->cap = cap;
		}
		bool eol = false;
		size_t i = 0;
		for (; !eol; i++) {
			char *f = next_field(&p, &eol);
			if (i < t->ncols)
				t->cells[t->nrows * t->ncols + i] = f;
		}
		if (i != t->ncols) {
			char why[96];
			snprintf(why, sizeof(why), "%zu fields, the header has %zu", i, t->ncols);
			return table_err(err, errlen, t->path, line, why);
		}
		t->nrows++;
	}
	return 0;
}

int rh_table_read(struct rh_table *t, const char *path, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s", path);
	size_t len;
	t->buf = rh_slurp(path, &len);
	if (t->buf == NULL) {
		snprintf(err, errlen, "%s:1: cannot read: %s", path, strerror(errno));
		return 2;
	}
	int rc = 0;
	if (len == 0 || memchr(t->buf, '\0', len) != NULL)
		rc = table_err(err, errlen, path, 1, len ? "a NUL byte: not a CSV file" : "empty: no header");
	char *p = t->buf;
	if (rc == 0)
		rc = read_header(t, &p, err, errlen);
	if (rc == 0)
		rc = read_rows(t, p, err, errlen);
	if (rc != 0) /* the caller has nothing to free */
		rh_table_free(t);
	return rc;
}

void rh_table_free(struct rh_table *t)
{
	free(t->buf);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

int rh_table_col(const struct rh_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *rh_table_cell(const struct rh_table *t, size_t row, int col)
{
	return col < 0 || (size_t)col >= t->ncols || row >= t->nrows ? "" : t->cells[row * t->ncols + (size_t)col];
}

bool rh_num(const char *s, double *out)
{
	if (s == NULL || *s == '\0')
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end != '\0' || errno != 0 || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/* ---- JSON values by key ---- */

const char *rh_json_find(const char *from, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = from; (p = strchr(p, '"')) != NULL; p++) {
		if (strncmp(p + 1, key, kl) == 0 && p[kl + 1] == '"') {
			const char *q = p + kl + 2;
			while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
				q++;
			if (*q == ':') {
				q++;
				while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
					q++;
				return q;
			}
		}
		if (p[1] == '\\' || p[1] == '\0') /* never start a key inside an escape */
			p++;
	}
	return NULL;
}

bool rh_json_num(const char *from, const char *key, double *out)
{
	const char *v = from ? rh_json_find(from, key) : NULL;
	if (v == NULL)
		return false;
	char *end;
	double d = strtod(v, &end);
	if (end == v || !isfinite(d))
		return false;
	*out = d;
	return true;
}

/* \uXXXX outside ASCII becomes '?': the report only shows these strings. */
bool rh_json_str(const char *from, const char *key, char *out, size_t n)
{
	const char *v = from ? rh_json_find(from, key) : NULL;
	if (v == NULL || *v != '"' || n == 0)
		return false;
	size_t w = 0;
	for (v++; *v != '"'; v++) {
		if (*v == '\0')
			return false;
		char c = *v;
		if (c == '\\') {
			v++;
			switch (*v) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': case 'f': c = ' '; break;
			case 'u': {
				unsigned cp = 0;
				for (int i = 1; i <= 4; i++) {
					char h = v[i];
					if (h == '\0')
						return false;
					cp = cp * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
				}
				v += 4;
				c = cp < 0x80 ? (char)cp : '?';
				break;
			}
			case '\0': return false;
			default: c = *v;
			}
		}
		if (w + 1 < n)
			out[w++] = c;
	}
	out[w] = '\0';
	return true;
}

/* The recurrence B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)): stable for
 * any N, unlike the factorial form. */
double rh_erlang_b(unsigned n, double a)
{
	double b = 1.0;
	for (unsigned k = 1; k <= n; k++)
		b = a * b / ((double)k + a * b);
	return b;
}
