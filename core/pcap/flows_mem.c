/* flows_mem.c: the flows' memory and bookkeeping: an arena for copied text
 * (freed at once with the flows), growable arrays, the one hash index, the
 * hosts, and the timing checks every message goes through. */
#include <stdlib.h>
#include <string.h>

#include "core/pcap/flows_int.h"

#define FLOWS_CHUNK (64u * 1024)

void *flows_alloc(struct pcap_flows *f, size_t n)
{
	struct flows_impl *im = flows_impl(f);
	n = (n + 7) & ~(size_t)7;
	struct flows_chunk *c = im->arena;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = SY_MAX(n, (size_t)FLOWS_CHUNK);
		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = im->arena;
		im->arena = c;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

const char *flows_strdup(struct pcap_flows *f, struct sy_str s)
{
	char *p = flows_alloc(f, s.len + 1);
	if (p == NULL)
		return NULL;
	if (s.len > 0)
		memcpy(p, s.p, s.len);
	p[s.len] = '\0';
	return p;
}

bool flows_grow(void **arr, uint32_t *cap, uint32_t n, size_t elem)
{
	if (n < *cap)
		return true;
	if (n >= UINT32_MAX / 2)
		return false;
	uint32_t ncap = *cap ? *cap : 4;
	while (ncap <= n)
		ncap *= 2;
	void *p = realloc(*arr, (size_t)ncap * elem);
	if (p == NULL)
		return false;
	memset((char *)p + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
	*arr = p;
	*cap = ncap;
	return true;
}

uint64_t flows_hash(uint32_t kind, uint32_t a, struct sy_str s)
{
	/* The keys come from a capture someone else made; a hostile file can at
	 * worst slow an offline reading down, so a fixed seed will do. */
	uint64_t h = sy_hash64(s.p, s.len, 0x9e3779b97f4a7c15ull ^ ((uint64_t)kind << 32 | a));
	return h != 0 ? h : 1;
}

struct flows_slot *flows_idx_next(struct flows_index *x, uint64_t h, uint32_t *pos)
{
	if (x->cap == 0)
		return NULL;
	for (;;) {
		if (*pos >= x->cap)
			return NULL;
		struct flows_slot *s = &x->slots[(h + *pos) & (x->cap - 1)];
		(*pos)++;
		if (s->hash == 0)
			return NULL;
		if (s->hash == h)
			return s;
	}
}

static void idx_place(struct flows_slot *slots, uint32_t cap, const struct flows_slot *e)
{
	for (uint32_t i = 0;; i++) {
		struct flows_slot *s = &slots[(e->hash + i) & (cap - 1)];
		if (s->hash == 0) {
			*s = *e;
			return;
		}
	}
}

bool flows_idx_put(struct flows_index *x, uint64_t h, uint32_t kind, uint32_t a, uint32_t b)
{
	SY_ASSERT(h != 0);
	if ((uint64_t)(x->n + 1) * 2 > x->cap) {
		if (x->cap >= (1u << 30))
			return false;
		uint32_t ncap = x->cap ? x->cap * 2 : 1024;
		struct flows_slot *ns = calloc(ncap, sizeof(*ns));
		if (ns == NULL)
			return false;
		for (uint32_t i = 0; i < x->cap; i++)
			if (x->slots[i].hash != 0)
				idx_place(ns, ncap, &x->slots[i]);
		free(x->slots);
		x->slots = ns;
		x->cap = ncap;
	}
	idx_place(x->slots, x->cap, &(struct flows_slot){.hash = h, .kind = kind, .a = a, .b = b});
	x->n++;
	return true;
}

void flows_idx_free(struct flows_index *x)
{
	free(x->slots);
	*x = (struct flows_index){0};
}

/* An address as hash key bytes (struct sy_addr has a padding byte). */
static struct sy_str addr_key(const struct sy_addr *a, uint8_t buf[19])
{
	buf[0] = a->family;
	buf[1] = (uint8_t)(a->port >> 8);
	buf[2] = (uint8_t)a->port;
	memset(buf + 3, 0, 16); /* sy_addr_eq reads 4 bytes of an IPv4 address */
	memcpy(buf + 3, a->ip, a->family == SY_AF_INET6 ? 16 : 4);
	return (struct sy_str){(const char *)buf, 19};
}

uint32_t flows_host(struct pcap_flows *f, const struct sy_addr *a)
{
	struct flows_impl *im = flows_impl(f);
	uint8_t kb[19];
	uint64_t h = flows_hash(FLOWS_K_HOST, 0, addr_key(a, kb));
	uint32_t pos = 0;
	struct flows_slot *s;
	while ((s = flows_idx_next(&im->idx, h, &pos)) != NULL)
		if (s->kind == FLOWS_K_HOST && sy_addr_eq(&f->hosts[s->a].addr, a))
			return s->a;
	uint32_t i = f->host_n;
	if (!flows_grow((void **)&f->hosts, &im->host_cap, i, sizeof(*f->hosts)) ||
	    !flows_idx_put(&im->idx, h, FLOWS_K_HOST, i, 0))
		return UINT32_MAX;
	f->hosts[i] = (struct pcap_host){.addr = *a};
	f->host_n++;
	return i;
}

/* The key of a TCP connection: its two ends, the lower first, so both
 * directions find it. */
struct sy_str flows_conn_key(const struct sy_addr *x, const struct sy_addr *y, uint8_t buf[38])
{
	uint8_t a[19], b[19];
	addr_key(x, a);
	addr_key(y, b);
	bool swap = memcmp(a, b, sizeof(a)) > 0;
	memcpy(buf, swap ? b : a, 19);
	memcpy(buf + 19, swap ? a : b, 19);
	return (struct sy_str){(const char *)buf, 38};
}

void flows_timing(struct pcap_flows *f, const struct pcap_msg *m)
{
	struct flows_impl *im = flows_impl(f);
	if (!im->any) {
		im->any = true;
		f->start_ns = f->end_ns = m->ts_ns;
	} else {
		if (m->ts_ns < im->last_ts_ns)
			f->ts_backwards++;
		else if (m->ts_ns - im->last_ts_ns > PCAP_FLOWS_JUMP_NS && f->ts_jumps++ == 0)
			f->first_ts_jump_frame = m->frame;
		f->start_ns = SY_MIN(f->start_ns, m->ts_ns);
		f->end_ns = SY_MAX(f->end_ns, m->ts_ns);
	}
	im->last_ts_ns = m->ts_ns;
}

uint64_t flows_step(struct pcap_flows *f, uint64_t *last_ns, uint64_t ts, uint64_t frame)
{
	if (ts <= *last_ns)
		return 0;
	uint64_t gap = ts - *last_ns;
	*last_ns = ts;
	if (gap > f->max_gap_ns) {
		f->max_gap_ns = gap;
		f->max_gap_frame = frame;
	}
	return gap;
}
