/* decode.c: a captured frame from its link layer to its transport: the
 * link types of read.h, VLAN tags, IPv4 (options skipped) and IPv6
 * (extension headers followed), fragments handed to ipfrag.c, TCP to
 * tcp.c, UDP payloads classified and handed to the caller here. Every
 * length is checked against what was captured; a frame that does not
 * decode is counted as malformed and skipped, never trusted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pcap/decode_int.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void pcap__malformed(struct pcap_decoder *d, const char *why)
{
	struct pcap_read_stats *s = d->stats;
	if (s->malformed++ == 0) {
		s->first_malformed_frame = d->cur.frame;
		snprintf(s->first_malformed_why, sizeof(s->first_malformed_why), "%s", why);
	}
}

void pcap__emit(struct pcap_decoder *d, const struct pcap_ip *ip, uint16_t sport, uint16_t dport, enum pcap_proto proto,
		enum pcap_app app, const uint8_t *p, size_t n)
{
	if (d->stop != SY_OK)
		return;
	struct pcap_msg m = {
	    .frame = d->cur.frame, .ts_ns = d->cur.ts_ns, .proto = proto, .app = app, .data = p, .len = n};
	m.src.family = m.dst.family = ip->family;
	m.src.port = sport;
	m.dst.port = dport;
	memcpy(m.src.ip, ip->src, ip->family == SY_AF_INET ? 4 : 16);
	memcpy(m.dst.ip, ip->dst, ip->family == SY_AF_INET ? 4 : 16);
	if (app == PCAP_APP_SIP)
		d->stats->msgs_sip++;
	else if (app == PCAP_APP_SMPP)
		d->stats->msgs_smpp++;
	else
		d->stats->msgs_other++;
	enum sy_rc rc = d->fn(d->arg, &m);
	if (rc != SY_OK)
		d->stop = rc;
}

/* ---- transport ---- */

static void udp_datagram(struct pcap_decoder *d, const struct pcap_ip *ip, const uint8_t *p, size_t n)
{
	d->stats->udp++;
	if (n < 8) {
		pcap__malformed(d, "udp: header cut short");
		return;
	}
	size_t len = be16(p + 4);
	if (len < 8 || len > n) {
		pcap__malformed(d, "udp: length field beyond the datagram");
		return;
	}
	/* SIP by content, whatever the port (RFC 3261 leaves it free); SMPP
	 * is defined over TCP only. */
	enum pcap_app app = pcap__sip_start(p + 8, len - 8) == 1 ? PCAP_APP_SIP : PCAP_APP_OTHER;
	pcap__emit(d, ip, be16(p), be16(p + 2), PCAP_PROTO_UDP, app, p + 8, len - 8);
}

static bool ipv6_ext_header(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60;
}

bool pcap__ipv6_ext(uint8_t nh, const uint8_t *p, size_t n, uint8_t *proto, size_t *off, size_t *frag_off)
{
	size_t at = 0;
	*frag_off = SIZE_MAX;
	for (int i = 0; i <= PCAP_IPV6_EXT_MAX; i++) {
		if (!ipv6_ext_header(nh) || nh == 44) {
			if (nh == 44)
				*frag_off = at;
			*proto = nh;
			*off = at;
			return nh != 44 || n - at >= 8;
		}
		if (n - at < 8)
			return false;
		/* AH counts its length in 4-byte units less 2, the others in
		 * 8-byte units less 1 (RFC 4302, RFC 8200). */
		size_t len = nh == 51 ? ((size_t)p[at + 1] + 2) * 4 : ((size_t)p[at + 1] + 1) * 8;
		if (len > n - at)
			return false;
		nh = p[at];
		at += len;
	}
	return false;
}

void pcap__transport(struct pcap_decoder *d, const struct pcap_ip *ip, const uint8_t *p, size_t n)
{
	struct pcap_ip t = *ip;
	if (ip->family == SY_AF_INET6 && ipv6_ext_header(ip->proto)) {
		/* A reassembled IPv6 datagram: its fragmentable part may open
		 * with extension headers of its own. */
		size_t off, frag_off;
		if (!pcap__ipv6_ext(ip->proto, p, n, &t.proto, &off, &frag_off) || frag_off != SIZE_MAX) {
			pcap__malformed(d, "ipv6: bad extension header after reassembly");
			return;
		}
		p += off;
		n -= off;
	}
	if (t.proto == 17)
		udp_datagram(d, &t, p, n);
	else if (t.proto == 6)
		pcap__tcp_segment(d, &t, p, n);
	else
		d->stats->other++;
}

/* ---- network ---- */

static void ipv4_packet(struct pcap_decoder *d, const uint8_t *p, size_t n)
{
	d->stats->ipv4++;
	if (n < 20 || p[0] >> 4 != 4) {
		pcap__malformed(d, "ipv4: header cut short");
		return;
	}
	size_t ihl = (size_t)(p[0] & 15) * 4, total = be16(p + 2);
	if (ihl < 20 || total < ihl) {
		pcap__malformed(d, "ipv4: bad header or total length");
		return;
	}
	if (total > n) {
		pcap__malformed(d, "ipv4: packet cut short (snaplen?)");
		return;
	}
	/* total < n: Ethernet padding after a short packet. */
	struct pcap_ip ip = {.family = SY_AF_INET, .proto = p[9]};
	memcpy(ip.src, p + 12, 4);
	memcpy(ip.dst, p + 16, 4);
	uint16_t fo = be16(p + 6);
	bool more = (fo & 0x2000) != 0;
	size_t off = (size_t)(fo & 0x1fff) * 8;
	if (more || off != 0) {
		d->stats->fragments++;
		pcap__frag_add(d, &ip, be16(p + 4), off, !more, p + ihl, total - ihl);
		return;
	}
	pcap__transport(d, &ip, p + ihl, total - ihl);
}

static void ipv6_fragment(struct pcap_decoder *d, struct pcap_ip *ip, const uint8_t *f, size_t n)
{
	d->stats->fragments++;
	uint16_t offlg = be16(f + 2);
	size_t off = offlg & 0xfff8;
	bool more = (offlg & 1) != 0;
	ip->proto = f[0];
	if (off == 0 && !more) {
		/* An atomic fragment (RFC 6946): the whole datagram, alone. */
		d->stats->reassembled++;
		pcap__transport(d, ip, f + 8, n - 8);
		return;
	}
	pcap__frag_add(d, ip, be32(f + 4), off, !more, f + 8, n - 8);
}

static void ipv6_packet(struct pcap_decoder *d, const uint8_t *p, size_t n)
{
	d->stats->ipv6++;
	if (n < 40 || p[0] >> 4 != 6) {
		pcap__malformed(d, "ipv6: header cut short");
		return;
	}
	size_t plen = be16(p + 4);
	if (plen == 0) {
		pcap__malformed(d, "ipv6: jumbogram or no payload length");
		return;
	}
	if (40 + plen > n) {
		pcap__malformed(d, "ipv6: packet cut short (snaplen?)");
		return;
	}
	struct pcap_ip ip = {.family = SY_AF_INET6};
	memcpy(ip.src, p + 8, 16);
	memcpy(ip.dst, p + 24, 16);
	size_t off, frag_off;
	if (!pcap__ipv6_ext(p[6], p + 40, plen, &ip.proto, &off, &frag_off)) {
		pcap__malformed(d, "ipv6: bad extension header");
		return;
	}
	if (frag_off != SIZE_MAX)
		ipv6_fragment(d, &ip, p + 40 + frag_off, plen - frag_off);
	else
		pcap__transport(d, &ip, p + 40 + off, plen - off);
}

static void ip_by_version(struct pcap_decoder *d, const uint8_t *p, size_t n)
{
	if (n >= 1 && p[0] >> 4 == 4)
		ipv4_packet(d, p, n);
	else if (n >= 1 && p[0] >> 4 == 6)
		ipv6_packet(d, p, n);
	else
		pcap__malformed(d, "raw ip: neither IPv4 nor IPv6");
}

/* ---- link ---- */

static void by_ethertype(struct pcap_decoder *d, uint16_t type, const uint8_t *p, size_t n)
{
	/* 802.1Q, 802.1ad (QinQ) and the old 0x9100 outer tag. */
	for (int tags = 0; type == 0x8100 || type == 0x88a8 || type == 0x9100; tags++) {
		if (tags == PCAP_VLAN_TAGS_MAX || n < 4) {
			pcap__malformed(d, tags == PCAP_VLAN_TAGS_MAX ? "vlan: too many tags" : "vlan: tag cut short");
			return;
		}
		type = be16(p + 2);
		p += 4;
		n -= 4;
	}
	if (type == 0x0800)
		ipv4_packet(d, p, n);
	else if (type == 0x86dd)
		ipv6_packet(d, p, n);
	else
		d->stats->other++; /* ARP, LLDP, 802.3 lengths, ... */
}

/* BSD loopback: the address family, in the capturing host's byte order
 * (NULL) or in network order (LOOP). IPv6 has a different number on
 * every BSD. */
static void loopback(struct pcap_decoder *d, const uint8_t *p, size_t n, bool net_order)
{
	if (n < 4) {
		pcap__malformed(d, "loopback: header cut short");
		return;
	}
	uint32_t af =
	    net_order ? be32(p) : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	if (!net_order && af > 0xffff)
		af = be32(p); /* written on a big-endian host */
	if (af == 2)
		ipv4_packet(d, p + 4, n - 4);
	else if (af == 10 || af == 24 || af == 28 || af == 30)
		ipv6_packet(d, p + 4, n - 4);
	else
		d->stats->other++;
}

static void link_frame(struct pcap_decoder *d, const uint8_t *p, size_t n)
{
	switch (d->linktype) {
	case PCAP_LT_ETHERNET:
		if (n < 14)
			pcap__malformed(d, "ethernet: header cut short");
		else
			by_ethertype(d, be16(p + 12), p + 14, n - 14);
		return;
	case PCAP_LT_SLL:
		if (n < 16)
			pcap__malformed(d, "sll: header cut short");
		else
			by_ethertype(d, be16(p + 14), p + 16, n - 16);
		return;
	case PCAP_LT_SLL2:
		if (n < 20)
			pcap__malformed(d, "sll2: header cut short");
		else
			by_ethertype(d, be16(p), p + 20, n - 20);
		return;
	case PCAP_LT_RAW:
	case PCAP_LT_IPV4:
	case PCAP_LT_IPV6:
		ip_by_version(d, p, n);
		return;
	case PCAP_LT_NULL:
	case PCAP_LT_LOOP:
		loopback(d, p, n, d->linktype == PCAP_LT_LOOP);
		return;
	default:
		d->stats->other++;
		return;
	}
}

uint32_t pcap__linktype(int dlt)
{
	/* libpcap hands LINKTYPE_RAW out as DLT_RAW, 12 (14 on OpenBSD). */
	if (dlt == 12 || dlt == 14)
		return PCAP_LT_RAW;
	return dlt < 0 ? UINT32_MAX : (uint32_t)dlt;
}

const char *pcap_linktype_name(uint32_t linktype, char *buf, size_t n)
{
	switch (linktype == 12 || linktype == 14 ? PCAP_LT_RAW : linktype) {
	case PCAP_LT_NULL:
		return "BSD loopback (NULL)";
	case PCAP_LT_ETHERNET:
		return "Ethernet";
	case PCAP_LT_RAW:
		return "raw IP";
	case PCAP_LT_LOOP:
		return "BSD loopback (LOOP)";
	case PCAP_LT_SLL:
		return "Linux cooked (SLL)";
	case PCAP_LT_IPV4:
		return "raw IPv4";
	case PCAP_LT_IPV6:
		return "raw IPv6";
	case PCAP_LT_SLL2:
		return "Linux cooked (SLL2)";
	default:
		snprintf(buf, n, "LINKTYPE %u", linktype);
		return buf;
	}
}

/* ---- the decoder ---- */

struct pcap_decoder *pcap_decoder_create(const struct pcap_read_cfg *cfg, uint32_t linktype, pcap_msg_fn fn, void *arg,
					 struct pcap_read_stats *stats)
{
	SY_ASSERT(fn != NULL && stats != NULL);
	struct pcap_decoder *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	if (cfg != NULL)
		d->cfg = *cfg;
	if (d->cfg.tcp_buffer_max == 0)
		d->cfg.tcp_buffer_max = 1u << 20;
	if (d->cfg.tcp_total_max == 0)
		d->cfg.tcp_total_max = 256u << 20;
	bool ports = false;
	for (size_t i = 0; i < SY_ARRAY_LEN(d->cfg.smpp_ports); i++)
		ports |= d->cfg.smpp_ports[i] != 0;
	if (!ports)
		d->cfg.smpp_ports[0] = 2775;
	d->cfg.filter = NULL; /* the caller's string: not kept */
	d->linktype = linktype == 12 || linktype == 14 ? PCAP_LT_RAW : linktype;
	d->fn = fn;
	d->arg = arg;
	d->stats = stats;
	memset(stats, 0, sizeof(*stats));
	stats->linktype = d->linktype;
	if (sy_htab_init(&d->tcp, 4096) != SY_OK) {
		free(d);
		return NULL;
	}
	return d;
}

enum sy_rc pcap_decoder_frame(struct pcap_decoder *d, uint64_t frame, uint64_t ts_ns, const uint8_t *data,
			      size_t caplen, size_t wire_len)
{
	SY_ASSERT(data != NULL || caplen == 0);
	if (d->stop != SY_OK)
		return d->stop;
	struct pcap_read_stats *s = d->stats;
	if (s->frames == 0)
		s->first_ts_ns = ts_ns;
	else if (ts_ns < s->last_ts_ns)
		s->ts_backwards++;
	s->frames++;
	s->bytes += caplen;
	s->last_ts_ns = ts_ns;
	d->cur = (struct pcap_cur){.frame = frame, .ts_ns = ts_ns};
	(void)wire_len; /* a frame cut by the snaplen shows in the IP lengths */
	link_frame(d, data, caplen);
	return d->stop;
}

enum sy_rc pcap_decoder_finish(struct pcap_decoder *d)
{
	if (d->stop == SY_OK)
		pcap__tcp_finish(d);
	pcap__frag_free_all(d);
	return d->stop;
}

void pcap_decoder_destroy(struct pcap_decoder *d)
{
	if (d == NULL)
		return;
	pcap__tcp_free_all(d);
	pcap__frag_free_all(d);
	SY_ASSERT(d->tcp_held == 0 && d->frag_bytes == 0 && d->frag_n == 0);
	sy_htab_free(&d->tcp);
	free(d);
}
