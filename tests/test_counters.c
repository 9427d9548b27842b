/* test_counters.c: the counter tables (core/metrics/counters.h): every
 * entry of every component renders in the Prometheus exposition, in the
 * report entries and in the JSON object, reading the field its line names;
 * names are unique and well-formed; the names users and tests depend on
 * are still there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/api/api.h"
#include "core/billing/callbill.h"
#include "core/fraud/fraud.h"
#include "core/metrics/counters.h"
#include "core/pcap/hep.h"
#include "core/sip/b2bua.h"
#include "core/sip/switch.h"
#include "core/sip/txn.h"
#include "core/smpp/smsc.h"
#include "core/ussd/http.h"

/* Each table and the size of the stats struct it indexes. */
static const struct {
	const struct sy_counter_table *t;
	size_t size;
} tables[] = {
    {&b2bua_counters, sizeof(struct b2bua_stats)},	 {&sip_stack_counters, sizeof(struct sip_stack_stats)},
    {&vswitch_counters, sizeof(struct vswitch)},	 {&vswitch_disk_counters, sizeof(struct vswitch_disk_stats)},	 {&smsc_counters, sizeof(struct smsc_stats)},
    {&callbill_counters, sizeof(struct callbill_stats)},
    {&sip_auth_counters, sizeof(struct sip_auth_stats)},
    {&api_http_counters, sizeof(struct api_http_stats)},
    {&process_counters, sizeof(struct sy_process_stats)},
    {&hep_counters, sizeof(struct hep_stats)},
    {&fraud_counters, sizeof(struct fraud_stats)},
    {&ussd_http_counters, sizeof(struct ussd_http_stats)},
};

#define PAGE_MAX (256 * 1024)

static bool name_ok(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || strchr(extra, *s)))
			return false;
	return true;
}

/* Prometheus names and report keys are each unique over every table, and
 * each entry is exported or reported (or both), with help and a sane name. */
static void test_names_unique(void **state)
{
	const char *prom[256], *key[256];
	size_t np = 0, nk = 0;
	for (size_t t = 0; t < SY_ARRAY_LEN(tables); t++)
		for (size_t i = 0; i < tables[t].t->n; i++) {
			const struct sy_counter *c = &tables[t].t->c[i];
			assert_true(c->prom != NULL || c->key != NULL);
			assert_true(c->help != NULL && c->help[0] != '\0' && strchr(c->help, '\n') == NULL);
			assert_true(c->field != SY_CTR_FN || c->get != NULL);
			assert_true((c->type == SY_CTR_HIST) == (c->field == SY_CTR_HISTF));
			if (c->prom != NULL) {
				/* ours, or the process_* names every Prometheus client exports */
				assert_true((strncmp(c->prom, "switchyard_", 11) == 0 || strncmp(c->prom, "process_", 8) == 0) &&
					    name_ok(c->prom, ""));
				/* Prometheus naming: counters of events or seconds end in
				 * _total, others (gauges, money sums) do not */
				size_t n = strlen(c->prom);
				bool total = n > 6 && strcmp(c->prom + n - 6, "_total") == 0;
				assert_true(total == (c->type == SY_CTR_COUNTER &&
						      (c->unit == SY_UNIT_COUNT || c->unit == SY_UNIT_NS)));
				for (size_t k = 0; k < np; k++)
					if (strcmp(prom[k], c->prom) == 0)
						fail_msg("Prometheus name %s twice", c->prom);
				prom[np++] = c->prom;
			}
			if (c->key != NULL) {
				assert_true(name_ok(c->key, "."));
				for (size_t k = 0; k < nk; k++)
					if (strcmp(key[k], c->key) == 0)
						fail_msg("report key %s twice", c->key);
				key[nk++] = c->key;
			}
		}
	assert_true(np > 30 && nk > 20);
}

/* Writes a distinct value into every plain field a table names, so a
 * wrong offset or width shows as a wrong number. */
static void fill(const struct sy_counter_table *t, void *stats)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct sy_counter *c = &t->c[i];
		char *p = (char *)stats + c->off;
		uint64_t u = 1000 + 7 * i;
		int64_t s = -(int64_t)(1000 + 7 * i) * 1000;
		uint32_t w = (uint32_t)(1000 + 7 * i);
		if (c->field == SY_CTR_U64)
			memcpy(p, &u, sizeof(u));
		else if (c->field == SY_CTR_I64)
			memcpy(p, &s, sizeof(s));
		else if (c->field == SY_CTR_U32)
			memcpy(p, &w, sizeof(w));
		else if (c->field == SY_CTR_HISTF) {
			struct sy_hist *h = (struct sy_hist *)(void *)p;
			sy_hist_init(h);
			for (uint64_t k = 1; k <= 100; k++)
				sy_hist_add(h, k * 1000000); /* 1..100 ms */
		}
	}
}

/* What fill() wrote for entry i: a rendered value that differs means the
 * line reads another entry's field (two lines naming one field). */
static int64_t filled(const struct sy_counter *c, size_t i, const void *stats)
{
	if (c->field == SY_CTR_U64 || c->field == SY_CTR_U32)
		return (int64_t)(1000 + 7 * i);
	if (c->field == SY_CTR_I64)
		return -(int64_t)(1000 + 7 * i) * 1000;
	return sy_counter_value(c, stats); /* accessors: checked in test_values */
}

/* The value line of name in a Prometheus page, or NULL. */
static const char *prom_line(const char *page, const char *name, char *out, size_t n)
{
	size_t len = strlen(name);
	for (const char *l = page; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, len) == 0 && (l[len] == ' ' || l[len] == '{')) {
			size_t e = strcspn(l, "\n");
			snprintf(out, n, "%.*s", (int)e, l);
			return out;
		}
	return NULL;
}

static void check_prom(const struct sy_counter_table *t, const void *stats, const char *page)
{
	char want[160], got[160], type[160];
	for (size_t i = 0; i < t->n; i++) {
		const struct sy_counter *c = &t->c[i];
		if (c->prom == NULL)
			continue;
		const char *ty = c->type == SY_CTR_HIST ? "summary" : c->type == SY_CTR_GAUGE ? "gauge" : "counter";
		snprintf(type, sizeof(type), "# TYPE %s %s\n", c->prom, ty);
		assert_non_null(strstr(page, type));
		assert_non_null(prom_line(page, c->prom, got, sizeof(got)));
		int64_t v = filled(c, i, stats);
		if (c->type == SY_CTR_HIST) {
			snprintf(want, sizeof(want), "%s_count %" PRId64, c->prom, v);
			assert_non_null(prom_line(page, c->prom, got, sizeof(got)));
			assert_non_null(strstr(page, want));
			assert_int_equal(v, 100);
		} else if (c->unit == SY_UNIT_COUNT) {
			snprintf(want, sizeof(want), "%s %" PRId64, c->prom, v);
			assert_string_equal(got, want);
		} else if (c->unit == SY_UNIT_PPM) { /* a ratio, 0..1 */
			snprintf(want, sizeof(want), "%s %.6f", c->prom, (double)v / 1e6);
			assert_string_equal(got, want);
		}
	}
}

static void check_json_text(const struct sy_counter_table *t, const void *stats, const char *json, const char *text)
{
	char want[160];
	assert_true(json[0] == '{' && json[strlen(json) - 1] == '}');
	for (size_t i = 0; i < t->n; i++) {
		const struct sy_counter *c = &t->c[i];
		if (c->key == NULL)
			continue;
		if (c->type == SY_CTR_HIST)
			snprintf(want, sizeof(want), "\"%s.p99\":", c->key);
		else if (c->unit == SY_UNIT_COUNT)
			snprintf(want, sizeof(want), "\"%s\":%" PRId64, c->key, filled(c, i, stats));
		else
			snprintf(want, sizeof(want), "\"%s\":", c->key);
		if (strstr(json, want) == NULL)
			fail_msg("%s: %s not in %s", t->component, want, json);
		snprintf(want, sizeof(want), " %s ", c->key);
		if (c->type != SY_CTR_HIST && strstr(text, want) == NULL)
			fail_msg("%s: %s not in the text lines", t->component, c->key);
	}
}

/* Every entry of every table, filled with distinct values, renders with
 * its own value in the Prometheus page, the JSON object and the text. */
static void test_every_entry_renders(void **state)
{
	char *page = malloc(PAGE_MAX), *json = malloc(PAGE_MAX), *text = malloc(PAGE_MAX);
	assert_true(page && json && text);
	for (size_t t = 0; t < SY_ARRAY_LEN(tables); t++) {
		void *stats = calloc(1, tables[t].size);
		assert_non_null(stats);
		fill(tables[t].t, stats);
		struct sy_ctr_out p = {page, PAGE_MAX, 0, false}, j = {json, PAGE_MAX, 0, false},
				  x = {text, PAGE_MAX, 0, false};
		sy_counters_prom(&p, tables[t].t, stats);
		sy_counters_json(&j, tables[t].t, stats);
		sy_counters_text(&x, tables[t].t->component, tables[t].t, stats, 100);
		assert_false(p.cut || j.cut || x.cut);
		check_prom(tables[t].t, stats, page);
		check_json_text(tables[t].t, stats, json, text);
		for (const char *l = text; *l; l = strchr(l, '\n') + 1)
			assert_true(strcspn(l, "\n") <= 100 || strchr(l, ',') == NULL);
		free(stats);
	}
	free(page);
	free(json);
	free(text);
}

/* Derived values and units: accessors, money, ms, percent, summaries. */
static void test_values(void **state)
{
	static struct b2bua_stats b;
	memset(&b, 0, sizeof(b));
	b.attempts = 8, b.answered = 6, b.active = 3;
	sy_hist_init(&b.pdd);
	sy_hist_init(&b.setup);
	sy_hist_add(&b.pdd, 250000000); /* 250 ms */
	char buf[8192];
	struct sy_ctr_out o = {buf, sizeof(buf), 0, false};
	sy_counters_json(&o, &b2bua_counters, &b);
	assert_non_null(strstr(buf, "\"calls.attempted\":8,\"calls.answered\":6,"));
	assert_non_null(strstr(buf, "\"asr\":75.0000,"));
	assert_non_null(strstr(buf, "\"pdd.max\":250.000,"));
	o = (struct sy_ctr_out){buf, sizeof(buf), 0, false};
	sy_counters_prom(&o, &b2bua_counters, &b);
	assert_non_null(strstr(buf, "# TYPE switchyard_calls_active gauge\nswitchyard_calls_active 3\n"));
	assert_non_null(strstr(buf, "# TYPE switchyard_pdd_seconds summary\n"));
	assert_non_null(strstr(buf, "switchyard_pdd_seconds_count 1\n"));
	assert_null(strstr(buf, "asr")); /* a ratio is the scraper's to compute */
	struct callbill_stats cb = {.revenue_micros = 2500000, .cost_micros = 3750001};
	o = (struct sy_ctr_out){buf, sizeof(buf), 0, false};
	sy_counters_json(&o, &callbill_counters, &cb);
	assert_non_null(strstr(buf, "\"billing.revenue\":2.500000,\"billing.cost\":3.750001,"
				    "\"billing.margin\":-1.250001,"));
	struct sip_stack_stats ss = {.rx_bad_dropped = 2, .rx_bad_400 = 3};
	o = (struct sy_ctr_out){buf, sizeof(buf), 0, false};
	sy_counters_prom(&o, &sip_stack_counters, &ss);
	assert_non_null(strstr(buf, "\nswitchyard_sip_malformed_total 5\n"));
}

/* A page that does not fit is cut, never overrun, and says so. */
static void test_cut(void **state)
{
	static struct smsc_stats m;
	char buf[200];
	memset(buf, 'x', sizeof(buf));
	struct sy_ctr_out o = {buf, 100, 0, false};
	sy_counters_prom(&o, &smsc_counters, &m);
	assert_true(o.cut);
	assert_true(o.len < 100 && buf[o.len] == '\0');
	assert_int_equal(buf[100], 'x');
}

/* Names that tests/it_*.sh, docs and dashboards read: renaming one is a
 * breaking change, so it must be deliberate (edit this list too). */
static void test_names_kept(void **state)
{
	static const char *const prom[] = {"switchyard_calls_attempted_total",
					   "switchyard_calls_answered_total",
					   "switchyard_calls_completed_total",
					   "switchyard_calls_failed_total",
					   "switchyard_calls_no_route_total",
					   "switchyard_calls_congestion_total",
					   "switchyard_calls_failovers_total",
					   "switchyard_cdrs_written_total",
					   "switchyard_sip_rx_total",
					   "switchyard_sip_tx_total",
					   "switchyard_sip_retransmits_total",
					   "switchyard_sip_malformed_total",
					   "switchyard_sms_submitted_total",
					   "switchyard_sms_accepted_total",
					   "switchyard_sms_rejected_total",
					   "switchyard_sms_throttled_total",
					   "switchyard_sms_delivered_total",
					   "switchyard_sms_undeliverable_total",
					   "switchyard_sms_expired_total",
					   "switchyard_sms_upstream_retries_total",
					   "switchyard_sms_dlr_sent_total",
					   "switchyard_sms_http_submitted_total",
					   "switchyard_sms_in_flight",
					   "switchyard_calls_active",
					   "switchyard_pdd_seconds"};
	for (size_t i = 0; i < SY_ARRAY_LEN(prom); i++) {
		bool found = false;
		for (size_t t = 0; t < SY_ARRAY_LEN(tables); t++)
			for (size_t k = 0; k < tables[t].t->n; k++)
				found |= tables[t].t->c[k].prom != NULL && strcmp(tables[t].t->c[k].prom, prom[i]) == 0;
		if (!found)
			fail_msg("%s is gone from the counter tables", prom[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_unique), cmocka_unit_test(test_every_entry_renders),
	    cmocka_unit_test(test_values),	 cmocka_unit_test(test_cut),
	    cmocka_unit_test(test_names_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
