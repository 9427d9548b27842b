/* hep.c: the HEPv3 encoder and decoder (hep.h). Pure: every length from
 * the wire is checked before it is used; nothing is allocated. */
#include "core/pcap/decode_int.h"
#include "core/pcap/hep.h"

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* A generic chunk: header, then len bytes of value. */
static uint8_t *put_chunk(uint8_t *p, uint16_t type, const void *v, size_t len)
{
	p = put16(p, 0);
	p = put16(p, type);
	p = put16(p, (uint16_t)(HEP_HDR_LEN + len));
	if (len > 0)
		memcpy(p, v, len);
	return p + len;
}

static uint8_t *put_u8(uint8_t *p, uint16_t type, uint8_t v)
{
	return put_chunk(p, type, &v, 1);
}

static uint8_t *put_u16(uint8_t *p, uint16_t type, uint16_t v)
{
	uint8_t b[2];
	put16(b, v);
	return put_chunk(p, type, b, 2);
}

static uint8_t *put_u32(uint8_t *p, uint16_t type, uint32_t v)
{
	uint8_t b[4];
	put32(b, v);
	return put_chunk(p, type, b, 4);
}

size_t hep_encoded_len(const struct hep_msg *m)
{
	size_t ip = m->src.family == SY_AF_INET6 ? 16 : 4;
	size_t n = HEP_HDR_LEN;
	n += 2 * (HEP_HDR_LEN + 1);  /* family, protocol */
	n += 2 * (HEP_HDR_LEN + ip); /* addresses */
	n += 2 * (HEP_HDR_LEN + 2);  /* ports */
	n += 2 * (HEP_HDR_LEN + 4);  /* time */
	n += HEP_HDR_LEN + 1;	     /* protocol type */
	n += HEP_HDR_LEN + 4;	     /* capture id */
	if (m->auth_key.len > 0)
		n += HEP_HDR_LEN + m->auth_key.len;
	if (m->node_name.len > 0)
		n += HEP_HDR_LEN + m->node_name.len;
	return n + HEP_HDR_LEN + m->payload_len;
}

size_t hep_encode(const struct hep_msg *m, uint8_t *buf, size_t cap)
{
	SY_ASSERT(m->src.family == m->dst.family);
	SY_ASSERT(m->src.family == SY_AF_INET || m->src.family == SY_AF_INET6);
	size_t n = hep_encoded_len(m);
	/* each chunk's length is 16 bits too, and none is longer than the whole */
	if (n > cap || n > HEP_PACKET_MAX)
		return 0;
	bool v6 = m->src.family == SY_AF_INET6;
	size_t ip = v6 ? 16 : 4;
	uint8_t *p = buf;
	memcpy(p, "HEP3", 4);
	p = put16(p + 4, (uint16_t)n);
	p = put_u8(p, HEP_CH_IP_FAMILY, v6 ? HEP_FAMILY_IP6 : HEP_FAMILY_IP4);
	p = put_u8(p, HEP_CH_IP_PROTO, m->ip_proto);
	p = put_chunk(p, v6 ? HEP_CH_SRC_IP6 : HEP_CH_SRC_IP4, m->src.ip, ip);
	p = put_chunk(p, v6 ? HEP_CH_DST_IP6 : HEP_CH_DST_IP4, m->dst.ip, ip);
	p = put_u16(p, HEP_CH_SRC_PORT, m->src.port);
	p = put_u16(p, HEP_CH_DST_PORT, m->dst.port);
	p = put_u32(p, HEP_CH_TS_SEC, m->ts_sec);
	p = put_u32(p, HEP_CH_TS_USEC, m->ts_usec);
	p = put_u8(p, HEP_CH_PROTO_TYPE, m->proto_type);
	p = put_u32(p, HEP_CH_CAPTURE_ID, m->capture_id);
	if (m->auth_key.len > 0)
		p = put_chunk(p, HEP_CH_AUTH_KEY, m->auth_key.p, m->auth_key.len);
	if (m->node_name.len > 0)
		p = put_chunk(p, HEP_CH_NODE_NAME, m->node_name.p, m->node_name.len);
	/* last: some decoders (hep-js) take the payload as the packet's rest */
	p = put_chunk(p, HEP_CH_PAYLOAD, m->payload, m->payload_len);
	SY_ASSERT((size_t)(p - buf) == n);
	return n;
}

/* ---- decoding ---- */

/* The size a known generic chunk must have; 0: any (octets); -1: unknown. */
static int chunk_size(uint16_t type)
{
	switch (type) {
	case HEP_CH_IP_FAMILY:
	case HEP_CH_IP_PROTO:
	case HEP_CH_PROTO_TYPE:
		return 1;
	case HEP_CH_SRC_PORT:
	case HEP_CH_DST_PORT:
		return 2;
	case HEP_CH_SRC_IP4:
	case HEP_CH_DST_IP4:
	case HEP_CH_TS_SEC:
	case HEP_CH_TS_USEC:
	case HEP_CH_CAPTURE_ID:
		return 4;
	case HEP_CH_SRC_IP6:
	case HEP_CH_DST_IP6:
		return 16;
	case HEP_CH_AUTH_KEY:
	case HEP_CH_PAYLOAD:
	case HEP_CH_NODE_NAME:
		return 0;
	default:
		return -1;
	}
}

/* Stores one known chunk's value v (its size already checked). */
static void chunk_take(struct hep_msg *m, uint16_t type, const uint8_t *v, size_t len)
{
	switch (type) {
	case HEP_CH_IP_FAMILY:
		m->src.family = m->dst.family = v[0] == HEP_FAMILY_IP6 ? SY_AF_INET6 : SY_AF_INET;
		break;
	case HEP_CH_IP_PROTO:
		m->ip_proto = v[0];
		break;
	case HEP_CH_PROTO_TYPE:
		m->proto_type = v[0];
		break;
	case HEP_CH_SRC_PORT:
		m->src.port = get16(v);
		break;
	case HEP_CH_DST_PORT:
		m->dst.port = get16(v);
		break;
	case HEP_CH_SRC_IP4:
	case HEP_CH_SRC_IP6:
		memcpy(m->src.ip, v, len);
		break;
	case HEP_CH_DST_IP4:
	case HEP_CH_DST_IP6:
		memcpy(m->dst.ip, v, len);
		break;
	case HEP_CH_TS_SEC:
		m->ts_sec = get32(v);
		break;
	case HEP_CH_TS_USEC:
		m->ts_usec = get32(v);
		break;
	case HEP_CH_CAPTURE_ID:
		m->capture_id = get32(v);
		break;
	case HEP_CH_AUTH_KEY:
		m->auth_key = (struct sy_str){(const char *)v, len};
		break;
	case HEP_CH_NODE_NAME:
		m->node_name = (struct sy_str){(const char *)v, len};
		break;
	case HEP_CH_PAYLOAD:
		m->payload = v;
		m->payload_len = len;
		break;
	default:
		SY_ASSERT(false);
	}
}

#define BIT(t) (UINT32_C(1) << (t))
/* What a packet must carry; the addresses are checked against the family. */
static const uint32_t hep_required = BIT(HEP_CH_IP_FAMILY) | BIT(HEP_CH_IP_PROTO) | BIT(HEP_CH_SRC_PORT) |
				     BIT(HEP_CH_DST_PORT) | BIT(HEP_CH_TS_SEC) | BIT(HEP_CH_TS_USEC) |
				     BIT(HEP_CH_PROTO_TYPE) | BIT(HEP_CH_CAPTURE_ID) | BIT(HEP_CH_PAYLOAD);

static const char *hep_check_seen(const struct hep_msg *m, uint32_t seen)
{
	if ((seen & hep_required) != hep_required)
		return "a required chunk is missing";
	uint32_t want = m->src.family == SY_AF_INET6 ? BIT(HEP_CH_SRC_IP6) | BIT(HEP_CH_DST_IP6)
						     : BIT(HEP_CH_SRC_IP4) | BIT(HEP_CH_DST_IP4);
	uint32_t any = BIT(HEP_CH_SRC_IP4) | BIT(HEP_CH_DST_IP4) | BIT(HEP_CH_SRC_IP6) | BIT(HEP_CH_DST_IP6);
	if ((seen & any) != want)
		return "addresses missing or not of the packet's family";
	return NULL;
}

enum sy_rc hep_decode(const uint8_t *buf, size_t len, struct hep_msg *out, size_t *used, const char **why)
{
	memset(out, 0, sizeof(*out));
	*used = 0;
	*why = NULL;
	if (len < HEP_HDR_LEN)
		return memcmp(buf, "HEP3", SY_MIN(len, 4)) == 0 ? SY_AGAIN : (*why = "not HEP3", SY_ERR_PARSE);
	if (memcmp(buf, "HEP3", 4) != 0)
		return *why = "not HEP3", SY_ERR_PARSE;
	size_t total = get16(buf + 4);
	if (total < HEP_HDR_LEN)
		return *why = "total length below the header's", SY_ERR_PARSE;
	if (total > len)
		return SY_AGAIN;
	uint32_t seen = 0;
	for (size_t at = HEP_HDR_LEN; at < total;) {
		if (total - at < HEP_HDR_LEN)
			return *why = "a chunk header is cut off", SY_ERR_PARSE;
		uint16_t vendor = get16(buf + at), type = get16(buf + at + 2), clen = get16(buf + at + 4);
		if (clen < HEP_HDR_LEN || clen > total - at)
			return *why = "a chunk's length is out of the packet", SY_ERR_PARSE;
		int want = vendor == 0 ? chunk_size(type) : -1;
		size_t vlen = clen - HEP_HDR_LEN;
		if (want > 0 && vlen != (size_t)want)
			return *why = "a chunk has the wrong size for its type", SY_ERR_PARSE;
		if (want >= 0) {
			if (seen & BIT(type))
				return *why = "a chunk is repeated", SY_ERR_PARSE;
			seen |= BIT(type);
			chunk_take(out, type, buf + at + HEP_HDR_LEN, vlen);
		}
		at += clen;
	}
	if ((*why = hep_check_seen(out, seen)) != NULL)
		return SY_ERR_PARSE;
	*used = total;
	return SY_OK;
}

/* ---- telling SIP ---- */

bool hep_looks_sip(const uint8_t *p, size_t len)
{
	return pcap__sip_start(p, len) == 1; /* the reader's test (core/pcap/frame.c) */
}
