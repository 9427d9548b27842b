/* ipfrag.c: IPv4 and IPv6 fragment reassembly for the decoder. Datagrams
 * are keyed as the RFCs say (IPv4: source, destination, protocol, id;
 * IPv6: source, destination, id), bounded in number and in bytes, and given
 * up PCAP_FRAG_TIMEOUT_NS of capture time after their first fragment, as a
 * host would. Overlaps keep the bytes that came first (an attacker's
 * second copy cannot rewrite what was already received) and are counted;
 * fragments that contradict the datagram's end drop it. */
#include <stdlib.h>
#include <string.h>

#include "core/pcap/decode_int.h"

#define FRAG_MAP_BYTES ((PCAP_FRAG_DGRAM_MAX + 7) / 8)

struct pcap_frag {
	struct pcap_frag *next; /* younger */
	uint8_t family, proto;
	bool proto_known; /* IPv6: the first fragment's next header was seen */
	bool total_known; /* the last fragment was seen */
	uint8_t src[16], dst[16];
	uint32_t id;
	uint64_t first_ns;
	size_t total, filled; /* datagram length once known; bytes received */
	size_t max_end;	      /* past the highest byte received */
	uint8_t *buf;
	size_t cap;
	uint8_t have[FRAG_MAP_BYTES]; /* one bit per byte received */
};

static void frag_unlink(struct pcap_decoder *d, struct pcap_frag *f)
{
	for (struct pcap_frag **pp = &d->frags; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	d->frag_n--;
	d->frag_bytes -= f->cap + sizeof(*f);
	free(f->buf);
	free(f);
}

/* A datagram given up: timed out, over a bound, contradictory, or still
 * incomplete when the capture ended. */
static void frag_drop(struct pcap_decoder *d, struct pcap_frag *f)
{
	d->stats->frag_dropped++;
	frag_unlink(d, f);
}

static void frag_expire(struct pcap_decoder *d)
{
	while (d->frags != NULL && d->frags->first_ns + PCAP_FRAG_TIMEOUT_NS < d->cur.ts_ns)
		frag_drop(d, d->frags);
}

static bool frag_key_eq(const struct pcap_frag *f, const struct pcap_ip *ip, uint32_t id)
{
	size_t alen = ip->family == SY_AF_INET ? 4 : 16;
	return f->family == ip->family && f->id == id && (ip->family == SY_AF_INET6 || f->proto == ip->proto) &&
	       memcmp(f->src, ip->src, alen) == 0 && memcmp(f->dst, ip->dst, alen) == 0;
}

static struct pcap_frag *frag_get(struct pcap_decoder *d, const struct pcap_ip *ip, uint32_t id)
{
	struct pcap_frag **tail = &d->frags;
	for (struct pcap_frag *f = d->frags; f != NULL; f = f->next) {
		if (frag_key_eq(f, ip, id))
			return f;
		tail = &f->next;
	}
	if (d->frag_n == PCAP_FRAG_DGRAMS_MAX) {
		frag_drop(d, d->frags);
		return frag_get(d, ip, id); /* the tail moved */
	}
	struct pcap_frag *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->family = ip->family;
	f->proto = ip->proto;
	f->proto_known = ip->family == SY_AF_INET;
	memcpy(f->src, ip->src, 16);
	memcpy(f->dst, ip->dst, 16);
	f->id = id;
	f->first_ns = d->cur.ts_ns;
	*tail = f;
	d->frag_n++;
	d->frag_bytes += sizeof(*f);
	return f;
}

/* Room for [0, end) in f's buffer, within the bytes bound. */
static bool frag_room(struct pcap_decoder *d, struct pcap_frag *f, size_t end)
{
	if (end <= f->cap)
		return true;
	size_t cap = SY_MAX(end, SY_MIN(f->cap * 2, (size_t)PCAP_FRAG_DGRAM_MAX));
	while (d->frag_bytes + (cap - f->cap) > PCAP_FRAG_BYTES_MAX && d->frags != f)
		frag_drop(d, d->frags);
	if (d->frag_bytes + (cap - f->cap) > PCAP_FRAG_BYTES_MAX)
		return false;
	uint8_t *b = realloc(f->buf, cap);
	if (b == NULL)
		return false;
	d->frag_bytes += cap - f->cap;
	f->buf = b;
	f->cap = cap;
	return true;
}

/* Copies the bytes of [off, off + n) not received yet; true if some were. */
static bool frag_fill(struct pcap_frag *f, size_t off, const uint8_t *p, size_t n)
{
	bool overlap = false;
	for (size_t i = 0; i < n; i++) {
		size_t at = off + i;
		uint8_t bit = (uint8_t)(1u << (at & 7));
		if (f->have[at >> 3] & bit) {
			overlap = true;
			continue;
		}
		f->have[at >> 3] |= bit;
		f->buf[at] = p[i];
		f->filled++;
	}
	return overlap;
}

/* A last fragment that moves the end, or data past a known end: the
 * datagram cannot be rebuilt honestly. */
static bool frag_contradicts(const struct pcap_frag *f, size_t end, bool last)
{
	if (last)
		return (f->total_known && f->total != end) || f->max_end > end;
	return f->total_known && end > f->total;
}

static void frag_complete(struct pcap_decoder *d, struct pcap_frag *f)
{
	struct pcap_ip ip = {.family = f->family, .proto = f->proto};
	memcpy(ip.src, f->src, 16);
	memcpy(ip.dst, f->dst, 16);
	d->stats->reassembled++;
	/* Unlinked first: the transport may not see it half-freed. */
	uint8_t *buf = f->buf;
	size_t total = f->total;
	f->buf = NULL;
	d->frag_bytes -= f->cap;
	f->cap = 0;
	frag_unlink(d, f);
	pcap__transport(d, &ip, buf, total);
	free(buf);
}

void pcap__frag_add(struct pcap_decoder *d, const struct pcap_ip *ip, uint32_t id, size_t off, bool last,
		    const uint8_t *p, size_t n)
{
	frag_expire(d);
	size_t end = off + n;
	if (end > PCAP_FRAG_DGRAM_MAX || (!last && n % 8 != 0)) {
		pcap__malformed(d, end > PCAP_FRAG_DGRAM_MAX ? "ip fragment: past 64 KiB"
							     : "ip fragment: length not a multiple of 8");
		return;
	}
	struct pcap_frag *f = frag_get(d, ip, id);
	if (f == NULL)
		return;
	if (frag_contradicts(f, end, last)) {
		d->stats->frag_overlaps++;
		frag_drop(d, f);
		return;
	}
	if (!frag_room(d, f, end)) {
		frag_drop(d, f);
		return;
	}
	if (frag_fill(f, off, p, n))
		d->stats->frag_overlaps++;
	f->max_end = SY_MAX(f->max_end, end);
	if (last) {
		f->total = end;
		f->total_known = true;
	}
	if (off == 0 && ip->family == SY_AF_INET6) {
		f->proto = ip->proto;
		f->proto_known = true;
	}
	if (f->total_known && f->proto_known && f->filled == f->total)
		frag_complete(d, f);
}

void pcap__frag_free_all(struct pcap_decoder *d)
{
	while (d->frags != NULL)
		frag_drop(d, d->frags);
}
