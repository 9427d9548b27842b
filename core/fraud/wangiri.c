/* wangiri.c: the Wangiri detector (wangiri.h). Two fixed tables: the source
 * ranges that sent short calls (an ftab: per range a sliding window of short
 * calls and the last distinct_min distinct callees), and the ranges under
 * callback protection (a small table of its own, so that a protected range
 * is not pushed out by the churn of ranges that merely sent a short call). */
#include "core/fraud/wangiri.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/fraud/ftab.h"
#include "core/fraud/fwin.h"
#include "core/fraud/mix.h"

/* A range under protection; key 0 = a free slot. */
struct wg_prot {
	uint64_t key;
	uint64_t until_ns;	   /* protected while now < until_ns */
	uint64_t last_ns;	   /* the latest crossing */
	uint32_t shorts, distinct; /* at the latest crossing, for the reason */
};

struct fraud_wangiri {
	struct fraud_wangiri_cfg cfg;
	uint64_t seed;
	struct fraud_fwin_geom geom;
	uint32_t set_n; /* callees kept per range: distinct_min */
	size_t win_off; /* the window's offset in a range's blob (after the set) */
	struct fraud_ftab *ranges;
	struct wg_prot *prot;
	uint64_t prot_mask;
	uint32_t prot_max, prot_n; /* entries allowed, held (expired ones until swept) */
	uint64_t next_expiry;	   /* no held entry expires before this */
};

/* The most buckets (<= 12) that divide the window: an event leaves its
 * window at most a bucket (window / B) early. */
static uint32_t pick_buckets(uint64_t window_ns)
{
	static const uint32_t c[] = {12, 10, 8, 6, 5, 4, 3, 2};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (window_ns % c[i] == 0)
			return c[i];
	return 1;
}

bool fraud_wangiri_cfg_check(const struct fraud_wangiri_cfg *c, char *err, size_t errlen)
{
	const char *why = NULL;
	if (c->source_digits < 1 || c->source_digits > FRAUD_NUM_MAX)
		why = "wangiri_source_digits must be 1 to 15";
	else if (c->flood.max > 0 && c->flood.window_ns == 0)
		why = "wangiri_flood needs a window";
	else if (c->distinct_min > FRAUD_WANGIRI_DISTINCT_MAX)
		why = "wangiri_distinct must be at most 64 (the callees each range keeps)";
	else if (c->ranges_max < 1 || c->ranges_max > (1u << 28))
		why = "wangiri_ranges must be 1 to 268435456";
	if (why != NULL && err != NULL)
		snprintf(err, errlen, "%s", why);
	return why == NULL;
}

static enum sy_rc make_tables(struct fraud_wangiri *w)
{
	const struct fraud_wangiri_cfg *c = &w->cfg;
	uint64_t window_ns = c->flood.window_ns > 0 ? c->flood.window_ns : SY_NS_PER_S; /* flood off: unused */
	enum sy_rc rc = fraud_fwin_geom_init(&w->geom, window_ns, pick_buckets(window_ns));
	if (rc != SY_OK)
		return rc;
	w->set_n = c->distinct_min;
	w->win_off = ((size_t)w->set_n * sizeof(uint32_t) + 7) & ~(size_t)7;
	struct fraud_ftab_cfg tc = {
	    .keys = c->ranges_max,
	    .blob = (uint32_t)(w->win_off + fraud_fwin_bytes(w->geom.buckets)),
	    .seed = w->seed,
	};
	rc = fraud_ftab_create(&tc, &w->ranges);
	if (rc != SY_OK)
		return rc;
	w->prot_max = c->ranges_max / 64 < 16 ? 16 : c->ranges_max / 64;
	uint64_t slots = 32;
	while (slots < 2ull * w->prot_max)
		slots <<= 1;
	w->prot = calloc(slots, sizeof(w->prot[0]));
	if (w->prot == NULL)
		return SY_ERR_NOMEM;
	w->prot_mask = slots - 1;
	w->next_expiry = UINT64_MAX;
	return SY_OK;
}

enum sy_rc fraud_wangiri_create(const struct fraud_wangiri_cfg *cfg, uint64_t seed, struct fraud_wangiri **out)
{
	if (cfg->on && !fraud_wangiri_cfg_check(cfg, NULL, 0))
		return SY_ERR_INVAL;
	struct fraud_wangiri *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return SY_ERR_NOMEM;
	w->cfg = *cfg;
	w->seed = seed;
	if (cfg->on) {
		enum sy_rc rc = make_tables(w);
		if (rc != SY_OK) {
			fraud_wangiri_destroy(w);
			return rc;
		}
	}
	*out = w;
	return SY_OK;
}

void fraud_wangiri_destroy(struct fraud_wangiri *w)
{
	if (w == NULL)
		return;
	fraud_ftab_destroy(w->ranges);
	free(w->prot);
	free(w);
}

uint64_t fraud_wangiri_src_key(const struct fraud_wangiri *w, struct sy_str caller)
{
	if (caller.len < w->cfg.source_digits || w->cfg.source_digits == 0)
		return 0;
	uint64_t k = sy_hash64(caller.p, w->cfg.source_digits, w->seed ^ 0x5752414e47495249ull);
	return k == 0 ? 1 : k;
}

static bool is_short(const struct fraud_wangiri_cfg *c, const struct fraud_call_end *e)
{
	return e->answered ? e->duration_ns < c->short_ns : e->ring_ns < c->short_ns;
}

/* ---- a range's callee set: the last set_n distinct callees, each as a
 * 24-bit fingerprint and the low 8 bits of the window bucket it was last
 * called in (0 = empty). Ages are taken modulo 256, which is exact because
 * an entry older than B (<= 12) buckets is dropped by the next scan, and a
 * scan sees the set at most B buckets after the previous one (an idle
 * window empties the whole set first). */

static uint32_t *set_of(uint8_t *blob)
{
	return (uint32_t *)(void *)blob;
}

static struct fraud_fwin *win_of(const struct fraud_wangiri *w, uint8_t *blob)
{
	return (struct fraud_fwin *)(void *)(blob + w->win_off);
}

/* The bucket now falls in, as the window sees it (never before its head). */
static uint64_t bucket_now(const struct fraud_wangiri *w, const struct fraud_fwin *win, uint64_t now_ns)
{
	uint64_t k = now_ns / w->geom.bucket_ns;
	return k < win->head ? win->head : k;
}

static bool set_live(const struct fraud_wangiri *w, uint32_t e, uint64_t cur)
{
	return e != 0 && (uint8_t)((uint8_t)cur - (uint8_t)e) < w->geom.buckets;
}

/* Distinct callees in the window ending at bucket cur. */
static uint32_t set_count(const struct fraud_wangiri *w, const uint32_t *set, const struct fraud_fwin *win,
			  uint64_t cur)
{
	if (cur - win->head >= w->geom.buckets)
		return 0;
	uint32_t n = 0;
	for (uint32_t i = 0; i < w->set_n; i++)
		n += set_live(w, set[i], cur);
	return n;
}

/* Records a call to fp at bucket cur; returns the distinct callees in the
 * window after it. A full set replaces its least recently called entry. */
static uint32_t set_add(const struct fraud_wangiri *w, uint32_t *set, const struct fraud_fwin *win, uint64_t cur,
			uint32_t fp)
{
	if (w->set_n == 0)
		return 0;
	if (cur - win->head >= w->geom.buckets)
		memset(set, 0, w->set_n * sizeof(uint32_t));
	uint32_t live = 0, pick = UINT32_MAX, pick_age = 0, stamp = fp << 8 | (uint8_t)cur;
	bool found = false;
	for (uint32_t i = 0; i < w->set_n; i++) {
		if (!set_live(w, set[i], cur))
			set[i] = 0;
		if (set[i] == 0) {
			pick = pick == UINT32_MAX || set[pick] != 0 ? i : pick;
			continue;
		}
		live++;
		if (set[i] >> 8 == fp) {
			set[i] = stamp, found = true;
			continue;
		}
		uint32_t age = (uint8_t)((uint8_t)cur - (uint8_t)set[i]);
		if (pick == UINT32_MAX || (set[pick] != 0 && age > pick_age))
			pick = i, pick_age = age;
	}
	if (found)
		return live;
	live += set[pick] == 0;
	set[pick] = stamp;
	return live;
}

static uint32_t fingerprint(const struct fraud_wangiri *w, uint64_t callee_key)
{
	uint32_t fp = (uint32_t)(fraud_mix64(callee_key ^ w->seed) >> 40);
	return fp == 0 ? 1 : fp;
}

static bool flooding(const struct fraud_wangiri *w, uint64_t shorts, uint32_t distinct)
{
	return w->cfg.flood.max > 0 && shorts > w->cfg.flood.max && distinct >= w->cfg.distinct_min;
}

/* ---- the protection table: open addressing, linear probing, backward
 * shift on delete (no tombstones), at most half full. */

static uint64_t prot_home(const struct fraud_wangiri *w, uint64_t key)
{
	return fraud_mix64(key ^ w->seed ^ 0x70726f74ull) & w->prot_mask;
}

static struct wg_prot *prot_find(const struct fraud_wangiri *w, uint64_t key)
{
	for (uint64_t i = prot_home(w, key);; i = (i + 1) & w->prot_mask) {
		if (w->prot[i].key == key)
			return &w->prot[i];
		if (w->prot[i].key == 0)
			return NULL;
	}
}

static void prot_del_at(struct fraud_wangiri *w, uint64_t i)
{
	uint64_t m = w->prot_mask;
	for (uint64_t j = (i + 1) & m; w->prot[j].key != 0; j = (j + 1) & m) {
		uint64_t h = prot_home(w, w->prot[j].key);
		/* j may move to the hole i when its home is not in (i, j]. */
		if (((j - h) & m) >= ((j - i) & m)) {
			w->prot[i] = w->prot[j];
			i = j;
		}
	}
	w->prot[i].key = 0;
	w->prot_n--;
}

/* Drops the expired entries and finds the next expiry: O(slots), once per
 * expiry (or after the first-to-expire entry was extended). */
static void prot_sweep(struct fraud_wangiri *w, uint64_t now_ns)
{
	uint64_t next = UINT64_MAX;
	for (uint64_t i = 0; i <= w->prot_mask;) {
		struct wg_prot *p = &w->prot[i];
		if (p->key != 0 && p->until_ns <= now_ns) {
			prot_del_at(w, i); /* something else may have moved into i */
			continue;
		}
		if (p->key != 0 && p->until_ns < next)
			next = p->until_ns;
		i++;
	}
	w->next_expiry = next;
}

/* Full: the entry that expires first makes room. */
static void prot_evict(struct fraud_wangiri *w)
{
	uint64_t pick = UINT64_MAX;
	for (uint64_t i = 0; i <= w->prot_mask; i++)
		if (w->prot[i].key != 0 && (pick == UINT64_MAX || w->prot[i].until_ns < w->prot[pick].until_ns))
			pick = i;
	prot_del_at(w, pick);
	w->next_expiry = 0; /* recomputed by the next sweep */
}

static void protect(struct fraud_wangiri *w, uint64_t key, uint64_t now_ns, uint64_t shorts, uint32_t distinct)
{
	if (now_ns >= w->next_expiry)
		prot_sweep(w, now_ns);
	struct wg_prot *p = prot_find(w, key);
	if (p == NULL) {
		if (w->prot_n >= w->prot_max)
			prot_evict(w);
		uint64_t i = prot_home(w, key);
		while (w->prot[i].key != 0)
			i = (i + 1) & w->prot_mask;
		p = &w->prot[i];
		p->key = key;
		w->prot_n++;
	}
	p->until_ns = now_ns + w->cfg.callback_ns < now_ns ? UINT64_MAX : now_ns + w->cfg.callback_ns;
	p->last_ns = now_ns;
	p->shorts = shorts > UINT32_MAX ? UINT32_MAX : (uint32_t)shorts;
	p->distinct = distinct;
	if (p->until_ns < w->next_expiry)
		w->next_expiry = p->until_ns;
}

void fraud_wangiri_call_end_keys(struct fraud_wangiri *w, uint64_t src_key, uint64_t callee_key,
				 const struct fraud_call_end *e, uint64_t now_ns)
{
	if (!w->cfg.on || src_key == 0 || !is_short(&w->cfg, e))
		return;
	uint8_t *blob = fraud_ftab_get(w->ranges, src_key, now_ns, NULL);
	struct fraud_fwin *win = win_of(w, blob);
	uint64_t cur = bucket_now(w, win, now_ns);
	uint32_t distinct = set_add(w, set_of(blob), win, cur, fingerprint(w, callee_key));
	uint64_t shorts = fraud_fwin_add(&w->geom, win, now_ns, 1);
	if (flooding(w, shorts, distinct))
		protect(w, src_key, now_ns, shorts, distinct);
}

void fraud_wangiri_call_end(struct fraud_wangiri *w, struct sy_str caller, struct sy_str callee,
			    const struct fraud_call_end *e, uint64_t now_ns)
{
	if (!w->cfg.on)
		return;
	uint64_t callee_key = sy_hash64(callee.p, callee.len, w->seed ^ 0x63616c6c6565ull);
	fraud_wangiri_call_end_keys(w, fraud_wangiri_src_key(w, caller), callee_key, e, now_ns);
}

/* "60s", "5m", "2h", "3d": ns floored to the largest unit that keeps at
 * least 2 of it (or ms under a second). */
static void fmt_dur(char *buf, size_t len, uint64_t ns)
{
	uint64_t s = ns / SY_NS_PER_S;
	if (s == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / SY_NS_PER_MS));
	else if (s < 120)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 120 * 60)
		snprintf(buf, len, "%llum", (unsigned long long)(s / 60));
	else if (s < 48 * 3600)
		snprintf(buf, len, "%lluh", (unsigned long long)(s / 3600));
	else
		snprintf(buf, len, "%llud", (unsigned long long)(s / 86400));
}

enum fraud_action fraud_wangiri_inbound(struct fraud_wangiri *w, struct sy_str caller, uint64_t now_ns, char *reason,
					size_t reason_len)
{
	uint64_t key = w->cfg.on ? fraud_wangiri_src_key(w, caller) : 0;
	uint8_t *blob = key != 0 ? fraud_ftab_find(w->ranges, key) : NULL;
	if (blob == NULL)
		return FRAUD_ALLOW;
	struct fraud_fwin *win = win_of(w, blob);
	uint64_t shorts = fraud_fwin_sum(&w->geom, win, now_ns);
	uint32_t distinct = set_count(w, set_of(blob), win, bucket_now(w, win, now_ns));
	if (!flooding(w, shorts, distinct))
		return FRAUD_ALLOW;
	char win_s[24];
	fmt_dur(win_s, sizeof(win_s), w->cfg.flood.window_ns);
	snprintf(reason, reason_len, "wangiri.flood: %llu short calls in %s from %.*s to %u%s numbers",
		 (unsigned long long)shorts, win_s, (int)w->cfg.source_digits, caller.p, distinct,
		 distinct == w->set_n && distinct > 0 ? "+" : "");
	return w->cfg.flood.action;
}

enum fraud_action fraud_wangiri_callback(struct fraud_wangiri *w, struct sy_str callee, uint64_t now_ns, char *reason,
					 size_t reason_len)
{
	uint64_t key = w->cfg.on ? fraud_wangiri_src_key(w, callee) : 0;
	if (key == 0 || w->prot_n == 0)
		return FRAUD_ALLOW;
	if (now_ns >= w->next_expiry)
		prot_sweep(w, now_ns);
	const struct wg_prot *p = prot_find(w, key);
	if (p == NULL || now_ns >= p->until_ns)
		return FRAUD_ALLOW;
	char ago[24];
	fmt_dur(ago, sizeof(ago), now_ns > p->last_ns ? now_ns - p->last_ns : 0);
	snprintf(reason, reason_len, "wangiri.callback: +%.*s... flooded us %s ago (%u short calls to %u%s numbers)",
		 (int)w->cfg.source_digits, callee.p, ago, p->shorts, p->distinct,
		 p->distinct == w->set_n && p->distinct > 0 ? "+" : "");
	return w->cfg.callback;
}

uint64_t fraud_wangiri_protected(const struct fraud_wangiri *w, uint64_t now_ns)
{
	if (!w->cfg.on || now_ns < w->next_expiry)
		return w->prot_n;
	uint64_t n = 0;
	for (uint64_t i = 0; i <= w->prot_mask; i++)
		n += w->prot[i].key != 0 && w->prot[i].until_ns > now_ns;
	return n;
}

size_t fraud_wangiri_bytes(const struct fraud_wangiri *w)
{
	size_t n = sizeof(*w);
	if (w->cfg.on)
		n += fraud_ftab_bytes(w->ranges) + (w->prot_mask + 1) * sizeof(w->prot[0]);
	return n;
}
