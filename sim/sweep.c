/* sweep.c: the pure parts of `switchyard sweep` (sweep.h). */
#include "sweep.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_num(const char *s, size_t n, double *out, bool *integer)
{
	char buf[64];
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *end;
	*out = strtod(buf, &end);
	if (*end != '\0' || !isfinite(*out))
		return false;
	*integer = strpbrk(buf, ".eE") == NULL;
	return true;
}

int sweep_range_parse(const char *spec, struct sweep_range *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *eq = strchr(spec, '='), *dots = eq ? strstr(eq, "..") : NULL;
	const char *slash = dots ? strchr(dots, '/') : NULL;
	if (eq == NULL || dots == NULL || slash == NULL || eq == spec) {
		snprintf(err, errlen, "--vary '%s': expected KEY=A..B/N (e.g. traffic.voice.cps=1000..20000/10)", spec);
		return -1;
	}
	size_t kl = (size_t)(eq - spec);
	if (kl >= sizeof(out->key) || memchr(spec, '.', kl) == NULL) {
		snprintf(err, errlen, "--vary '%s': the key is section.key (traffic.voice.cps, carrier.NAME.capacity)",
			 spec);
		return -1;
	}
	memcpy(out->key, spec, kl);
	bool ia, ib;
	char *end;
	unsigned long n = strtoul(slash + 1, &end, 10);
	if (!parse_num(eq + 1, (size_t)(dots - eq - 1), &out->a, &ia) ||
	    !parse_num(dots + 2, (size_t)(slash - dots - 2), &out->b, &ib) || slash[1] == '\0' || *end != '\0' ||
	    n < 1 || n > SWEEP_POINTS_MAX || out->b < out->a || (n == 1 && out->b != out->a)) {
		snprintf(err, errlen,
			 "--vary '%s': A..B/N needs numbers A <= B and 1 <= N <= %d (N = 1 only with A = B)", spec,
			 SWEEP_POINTS_MAX);
		return -1;
	}
	out->n = (unsigned)n;
	out->integer = ia && ib;
	return 0;
}

double sweep_range_value(const struct sweep_range *r, unsigned i)
{
	double v = r->n < 2 ? r->a : r->a + (r->b - r->a) * (double)i / (double)(r->n - 1);
	if (i + 1 == r->n)
		v = r->b; /* exactly B, whatever the rounding */
	return r->integer ? floor(v + 0.5) : v;
}

void sweep_value_fmt(const struct sweep_range *r, double v, char *buf, size_t n)
{
	if (r->integer)
		snprintf(buf, n, "%.0f", v);
	else
		snprintf(buf, n, "%.6g", v);
}

/* "[ traffic   voice ]" -> "traffic.voice" (at most n-1 characters). */
static bool header_name(const char *line, size_t len, char *out, size_t n)
{
	size_t i = 0, o = 0;
	while (i < len && isspace((unsigned char)line[i]))
		i++;
	if (i >= len || line[i] != '[')
		return false;
	i++;
	bool sep = false;
	for (; i < len && line[i] != ']'; i++) {
		if (isspace((unsigned char)line[i])) {
			sep = o > 0;
			continue;
		}
		if (o + 2 >= n)
			return false;
		if (sep)
			out[o++] = '.';
		sep = false;
		out[o++] = line[i];
	}
	out[o] = '\0';
	return i < len;
}

/* Does the line set key ("  cps = 5" for "cps")? */
static bool line_sets(const char *line, size_t len, const char *key)
{
	size_t i = 0, kl = strlen(key);
	while (i < len && isspace((unsigned char)line[i]))
		i++;
	if (len - i < kl || strncmp(line + i, key, kl) != 0)
		return false;
	i += kl;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < len && line[i] == '=';
}

struct text_out {
	char *p;
	size_t n, cap;
};

static void put_text(struct text_out *t, const char *s, size_t n)
{
	memcpy(t->p + t->n, s, n);
	t->n += n;
}

char *sweep_override(const char *text, size_t len, const char *key, const char *value, char *err, size_t errlen)
{
	const char *dot = strrchr(key, '.');
	if (dot == NULL || dot == key || dot[1] == '\0' || dot - key >= 80) {
		snprintf(err, errlen, "override '%s': expected section.key", key);
		return NULL;
	}
	char section[80], name[SWEEP_KEY_MAX], hdr[80];
	snprintf(section, sizeof(section), "%.*s", (int)(dot - key), key);
	snprintf(name, sizeof(name), "%s", dot + 1);
	size_t vl = strlen(value), nl = strlen(name);
	struct text_out t = {.cap = len + nl + vl + 8};
	if ((t.p = malloc(t.cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	int state = 0; /* 0 before the section, 1 in it, 2 done */
	size_t pos = 0;
	while (pos < len) {
		const char *nlp = memchr(text + pos, '\n', len - pos);
		size_t ll = nlp ? (size_t)(nlp - (text + pos)) : len - pos;
		const char *line = text + pos;
		bool is_hdr = header_name(line, ll, hdr, sizeof(hdr));
		if (state == 1 && is_hdr) { /* the key was absent: add it at the section's end */
			put_text(&t, name, nl), put_text(&t, " = ", 3), put_text(&t, value, vl), put_text(&t, "\n", 1);
			state = 2;
		}
		if (state == 1 && line_sets(line, ll, name)) {
			put_text(&t, name, nl), put_text(&t, " = ", 3), put_text(&t, value, vl);
			state = 2;
		} else {
			put_text(&t, line, ll);
		}
		if (nlp)
			put_text(&t, "\n", 1);
		if (state == 0 && is_hdr && strcmp(hdr, section) == 0)
			state = 1;
		pos += ll + (nlp ? 1 : 0);
	}
	if (state == 1) { /* the section is the last one and lacks the key */
		if (t.n > 0 && t.p[t.n - 1] != '\n')
			put_text(&t, "\n", 1);
		put_text(&t, name, nl), put_text(&t, " = ", 3), put_text(&t, value, vl), put_text(&t, "\n", 1);
	}
	if (state == 0) {
		for (char *c = section; *c; c++)
			*c = *c == '.' ? ' ' : *c; /* as the header is written */
		snprintf(err, errlen, "override '%s': the scenario has no [%s] section", key, section);
		free(t.p);
		return NULL;
	}
	t.p[t.n] = '\0';
	return t.p;
}

double sweep_t95(unsigned df)
{
	static const double t[] = {0,	  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
				   2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
				   2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
	if (df == 0)
		return INFINITY;
	if (df <= 30)
		return t[df];
	if (df <= 40)
		return 2.021;
	if (df <= 60)
		return 2.000;
	if (df <= 120)
		return 1.980;
	return 1.960;
}

void sweep_mean_ci(const double *x, size_t n, double *mean, double *ci95)
{
	double s = 0, ss = 0;
	for (size_t i = 0; i < n; i++)
		s += x[i];
	*mean = n ? s / (double)n : 0;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - *mean) * (x[i] - *mean);
	*ci95 = n < 2 ? 0 : sweep_t95((unsigned)n - 1) * sqrt(ss / (double)(n - 1)) / sqrt((double)n);
}

void sweep_wilson(unsigned k, unsigned n, double z, double *lo, double *hi)
{
	if (n == 0) {
		*lo = 0, *hi = 1;
		return;
	}
	double p = (double)k / n, z2 = z * z, d = 1 + z2 / n;
	double c = (p + z2 / (2.0 * n)) / d, h = z * sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / d;
	*lo = c - h < 0 ? 0 : c - h;
	*hi = c + h > 1 ? 1 : c + h;
}

double sweep_erlang_b(unsigned n, double a)
{
	double b = 1.0;
	for (unsigned i = 1; i <= n; i++)
		b = a * b / ((double)i + a * b);
	return b;
}

struct sweep_knee sweep_knee_find(const struct sweep_point_pass *p, size_t n, double frac)
{
	struct sweep_knee k = {.index = -1, .first_fail = -1, .confidence = 0};
	for (size_t i = 0; i < n; i++) {
		bool pass = p[i].runs > 0 && (double)p[i].passed >= frac * (double)p[i].runs - 1e-9;
		if (!pass) {
			k.first_fail = (int)i;
			break;
		}
		k.index = (int)i;
	}
	if (k.index >= 0) {
		double hi;
		sweep_wilson(p[k.index].passed, p[k.index].runs, 1.96, &k.confidence, &hi);
	}
	return k;
}

bool sweep_json_metric(const char *json, const char *name, double *out)
{
	const char *m = strstr(json, "\"metrics\":{");
	if (m == NULL)
		return false;
	const char *end = strchr(m, '}'), *p = m;
	size_t nl = strlen(name);
	while ((p = strstr(p + 1, name)) != NULL && p < end) {
		if (p[-1] == '"' && p[nl] == '"' && p[nl + 1] == ':') {
			char *e;
			*out = strtod(p + nl + 2, &e);
			return e != p + nl + 2;
		}
	}
	return false;
}
