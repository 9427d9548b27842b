/* smsq_log.c: encoding and decoding of the SMS queue's segment log records
 * (format in smsq_log.h). Pure: every length read from the bytes is checked
 * against the end before it is used, so replay survives any input. */
#include "smsq_log.h"

static const uint32_t smsq_crc_tab[256] = {
    0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c, 0x26a1e7e8, 0xd4ca64eb, 0x8ad958cf,
    0x78b2dbcc, 0x6be22838, 0x9989ab3b, 0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24, 0x105ec76f, 0xe235446c,
    0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384, 0x9a879fa0, 0x68ec1ca3, 0x7bbcef57,
    0x89d76c54, 0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b, 0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
    0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35, 0xaa64d611, 0x580f5512, 0x4b5fa6e6, 0xb93425e5, 0x6dfe410e,
    0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa, 0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad,
    0x1642ae59, 0xe4292d5a, 0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a, 0x7da08661, 0x8fcb0562, 0x9c9bf696,
    0x6ef07595, 0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
    0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f, 0xed03a29b, 0x1f682198, 0x5125dad3,
    0xa34e59d0, 0xb01eaa24, 0x42752927, 0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38, 0xdbfc821c, 0x2997011f,
    0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7, 0x61c69362, 0x93ad1061, 0x80fde395,
    0x72966096, 0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789, 0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
    0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46, 0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9, 0xb602c312,
    0x44694011, 0x5739b3e5, 0xa55230e6, 0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de,
    0xdde0eb2a, 0x2f8b6829, 0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c, 0x456cac67, 0xb7072f64, 0xa457dc90,
    0x563c5f93, 0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
    0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc, 0x1871a4d8,
    0xea1a27db, 0xf94ad42f, 0x0b21572c, 0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033, 0xa24bb5a6, 0x502036a5,
    0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d, 0x2892ed69, 0xdaf96e6a, 0xc9a99d9e,
    0x3bc21e9d, 0xef087a76, 0x1d63f975, 0x0e330a81, 0xfc588982, 0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
    0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622, 0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2, 0xff56bd19,
    0x0d3d3e1a, 0x1e6dcdee, 0xec064eed, 0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8,
    0xe52cc12c, 0x1747422f, 0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff, 0x8ecee914, 0x7ca56a17, 0x6ff599e3,
    0x9d9e1ae0, 0xd3d3e1ab, 0x21b862a8, 0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
    0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f, 0xe330a81a,
    0x115b2b19, 0x020bd8ed, 0xf0605bee, 0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1, 0x69e9f0d5, 0x9b8273d6,
    0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e, 0xf36e6f75, 0x0105ec76, 0x12551f82,
    0xe03e9c81, 0x34f4f86a, 0xc69f7b69, 0xd5cf889d, 0x27a40b9e, 0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
    0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

static const uint8_t smsq_log_magic[8] = {'S', 'Y', 'S', 'M', 'S', 'Q', 'L', '\n'};

uint32_t smsq_crc32c_sw(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	crc = ~crc;
	for (size_t i = 0; i < n; i++)
		crc = smsq_crc_tab[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>

/* SSE4.2's crc32 instruction computes the same CRC-32C, 8 bytes a step. */
__attribute__((target("sse4.2"))) static uint32_t smsq_crc32c_hw(uint32_t crc, const uint8_t *b, size_t n)
{
	uint64_t c = ~crc;
	for (; n >= 8; n -= 8, b += 8) {
		uint64_t v;
		memcpy(&v, b, sizeof v);
		c = _mm_crc32_u64(c, v);
	}
	uint32_t c32 = (uint32_t)c;
	for (; n > 0; n--, b++)
		c32 = _mm_crc32_u8(c32, *b);
	return ~c32;
}

uint32_t smsq_crc32c(uint32_t crc, const void *p, size_t n)
{
	if (__builtin_cpu_supports("sse4.2"))
		return smsq_crc32c_hw(crc, p, n);
	return smsq_crc32c_sw(crc, p, n);
}
#else
uint32_t smsq_crc32c(uint32_t crc, const void *p, size_t n)
{
	return smsq_crc32c_sw(crc, p, n);
}
#endif

/* ---- little-endian writers and a bounds-checked reader ---- */

static uint8_t *w8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static uint8_t *wn(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + n;
}

static uint8_t *wstr(uint8_t *p, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap - 1);
	*p++ = (uint8_t)n;
	memcpy(p, s, n);
	return p + n;
}

struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t rn(struct rd *r, int n)
{
	if (r->bad || r->end - r->p < n) {
		r->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

/* A string of at most cap - 1 bytes, NUL-terminated into dst. */
static void rstr(struct rd *r, char *dst, size_t cap)
{
	size_t n = (size_t)rn(r, 1);
	/* No NUL inside: the encoder writes strnlen() bytes, so a record
	 * decodes to one encoding only. */
	if (r->bad || n >= cap || (size_t)(r->end - r->p) < n || memchr(r->p, 0, n) != NULL) {
		r->bad = true;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, r->p, n);
	dst[n] = '\0';
	r->p += n;
}

/* ---- segment header ---- */

void smsq_log_hdr_encode(const struct smsq_seg_hdr *h, uint8_t out[SMSQ_LOG_HDR_LEN])
{
	memset(out, 0, SMSQ_LOG_HDR_LEN);
	memcpy(out, smsq_log_magic, sizeof smsq_log_magic);
	uint8_t *p = wn(out + 8, h->version, 4);
	p = wn(p, h->seg_no, 4);
	p = wn(p, h->last_id, 8);
	wn(p, smsq_crc32c(0, out, (size_t)(p - out)), 4);
}

enum sy_rc smsq_log_hdr_decode(const uint8_t *p, const uint8_t *end, struct smsq_seg_hdr *out)
{
	if (end - p < SMSQ_LOG_HDR_LEN)
		return SY_AGAIN;
	struct rd r = {p + 8, end, false};
	out->version = (uint32_t)rn(&r, 4);
	out->seg_no = (uint32_t)rn(&r, 4);
	out->last_id = rn(&r, 8);
	uint32_t crc = (uint32_t)rn(&r, 4);
	if (memcmp(p, smsq_log_magic, sizeof smsq_log_magic) != 0 || crc != smsq_crc32c(0, p, 24) ||
	    out->version != SMSQ_LOG_VERSION)
		return SY_ERR_PARSE;
	return SY_OK;
}

/* ---- records ---- */

/* Fills in len and crc of the record [out, p). */
static size_t seal(uint8_t *out, uint8_t *p)
{
	size_t len = (size_t)(p - out);
	wn(out, len, 4);
	uint32_t crc = smsq_crc32c(0, out + 8, len - 8);
	wn(out + 4, smsq_crc32c(crc, out, 4), 4);
	return len;
}

size_t smsq_log_put_size(const struct smsq_msg *m)
{
	return SMSQ_LOG_PUT_FIXED + strnlen(m->system_id, sizeof m->system_id - 1) +
	       strnlen(m->src.digits, sizeof m->src.digits - 1) + strnlen(m->dst.digits, sizeof m->dst.digits - 1) +
	       strnlen(m->carrier, sizeof m->carrier - 1) + strnlen(m->upstream_id, sizeof m->upstream_id - 1) +
	       m->body_len;
}

size_t smsq_log_put_encode(enum smsq_rec_type type, const struct smsq_msg *m, const uint8_t *body, uint8_t *out)
{
	SY_ASSERT(type == SMSQ_REC_PUT || type == SMSQ_REC_COPY);
	SY_ASSERT(m->body_len <= SMSQ_BODY_MAX && (unsigned)m->state < SMSQ_STATE_COUNT);
	uint8_t *p = w8(out + 8, (uint8_t)type);
	p = wn(p, m->id, 8);
	p = wn(p, m->submit_ns, 8);
	p = wn(p, m->expiry_ns, 8);
	p = wn(p, m->next_attempt_ns, 8);
	p = wn(p, m->done_ns, 8);
	p = wn(p, m->attempts, 4);
	p = wn(p, m->error_code, 4);
	p = wn(p, m->seg_ref, 2);
	p = wn(p, m->body_len, 2);
	const uint8_t u8s[11] = {m->src.ton,
				 m->src.npi,
				 m->dst.ton,
				 m->dst.npi,
				 m->data_coding,
				 m->esm_class,
				 m->registered_delivery,
				 m->seg_total,
				 m->seg_seq,
				 (uint8_t)m->state,
				 m->dlr_pending};
	memcpy(p, u8s, sizeof u8s);
	p += sizeof u8s;
	p = wstr(p, m->system_id, sizeof m->system_id);
	p = wstr(p, m->src.digits, sizeof m->src.digits);
	p = wstr(p, m->dst.digits, sizeof m->dst.digits);
	p = wstr(p, m->carrier, sizeof m->carrier);
	p = wstr(p, m->upstream_id, sizeof m->upstream_id);
	if (m->body_len > 0)
		memcpy(p, body, m->body_len);
	return seal(out, p + m->body_len);
}

size_t smsq_log_mark_encode(uint64_t id, const struct smsq_update *u, uint8_t *out)
{
	SY_ASSERT((unsigned)u->state < SMSQ_STATE_COUNT);
	uint8_t *p = w8(out + 8, SMSQ_REC_MARK);
	p = wn(p, id, 8);
	p = w8(p, (uint8_t)u->state);
	p = w8(p, (uint8_t)(u->set & SMSQ_SET_ALL));
	if (u->set & SMSQ_SET_ATTEMPTS)
		p = wn(p, u->attempts, 4);
	if (u->set & SMSQ_SET_NEXT_ATTEMPT)
		p = wn(p, u->next_attempt_ns, 8);
	if (u->set & SMSQ_SET_CARRIER)
		p = wstr(p, u->carrier, sizeof u->carrier);
	if (u->set & SMSQ_SET_UPSTREAM_ID)
		p = wstr(p, u->upstream_id, sizeof u->upstream_id);
	if (u->set & SMSQ_SET_DLR_PENDING)
		p = w8(p, u->dlr_pending);
	if (u->set & SMSQ_SET_ERROR)
		p = wn(p, u->error_code, 4);
	if (u->set & SMSQ_SET_DONE)
		p = wn(p, u->done_ns, 8);
	return seal(out, p);
}

static bool decode_put(struct rd *r, struct smsq_rec *out)
{
	struct smsq_msg *m = &out->m;
	memset(m, 0, sizeof *m);
	m->id = rn(r, 8);
	m->submit_ns = rn(r, 8);
	m->expiry_ns = rn(r, 8);
	m->next_attempt_ns = rn(r, 8);
	m->done_ns = rn(r, 8);
	m->attempts = (uint32_t)rn(r, 4);
	m->error_code = (uint32_t)rn(r, 4);
	m->seg_ref = (uint16_t)rn(r, 2);
	m->body_len = (uint32_t)rn(r, 2);
	m->src.ton = (uint8_t)rn(r, 1);
	m->src.npi = (uint8_t)rn(r, 1);
	m->dst.ton = (uint8_t)rn(r, 1);
	m->dst.npi = (uint8_t)rn(r, 1);
	m->data_coding = (uint8_t)rn(r, 1);
	m->esm_class = (uint8_t)rn(r, 1);
	m->registered_delivery = (uint8_t)rn(r, 1);
	m->seg_total = (uint8_t)rn(r, 1);
	m->seg_seq = (uint8_t)rn(r, 1);
	uint64_t state = rn(r, 1), dlr = rn(r, 1);
	rstr(r, m->system_id, sizeof m->system_id);
	rstr(r, m->src.digits, sizeof m->src.digits);
	rstr(r, m->dst.digits, sizeof m->dst.digits);
	rstr(r, m->carrier, sizeof m->carrier);
	rstr(r, m->upstream_id, sizeof m->upstream_id);
	if (r->bad || state >= SMSQ_STATE_COUNT || dlr > 1 || (uint64_t)(r->end - r->p) != m->body_len)
		return false;
	m->state = (enum smsq_state)state;
	m->dlr_pending = dlr != 0;
	m->body = r->p;
	out->id = m->id;
	return true;
}

static bool decode_mark(struct rd *r, struct smsq_rec *out)
{
	struct smsq_update *u = &out->u;
	memset(u, 0, sizeof *u);
	out->id = rn(r, 8);
	uint64_t state = rn(r, 1);
	u->set = (uint32_t)rn(r, 1);
	if (r->bad || state >= SMSQ_STATE_COUNT || (u->set & ~(uint32_t)SMSQ_SET_ALL) != 0)
		return false;
	u->state = (enum smsq_state)state;
	if (u->set & SMSQ_SET_ATTEMPTS)
		u->attempts = (uint32_t)rn(r, 4);
	if (u->set & SMSQ_SET_NEXT_ATTEMPT)
		u->next_attempt_ns = rn(r, 8);
	if (u->set & SMSQ_SET_CARRIER)
		rstr(r, u->carrier, sizeof u->carrier);
	if (u->set & SMSQ_SET_UPSTREAM_ID)
		rstr(r, u->upstream_id, sizeof u->upstream_id);
	uint64_t dlr = u->set & SMSQ_SET_DLR_PENDING ? rn(r, 1) : 0;
	if (u->set & SMSQ_SET_ERROR)
		u->error_code = (uint32_t)rn(r, 4);
	if (u->set & SMSQ_SET_DONE)
		u->done_ns = rn(r, 8);
	u->dlr_pending = dlr != 0;
	return !r->bad && dlr <= 1 && r->p == r->end;
}

enum sy_rc smsq_log_decode(const uint8_t *p, const uint8_t *end, struct smsq_rec *out)
{
	if (end - p < 4)
		return SY_AGAIN;
	struct rd r = {p, end, false};
	uint32_t len = (uint32_t)rn(&r, 4);
	if (len < SMSQ_LOG_REC_HDR + 8 || len > SMSQ_LOG_REC_MAX)
		return SY_ERR_PARSE;
	if ((uint64_t)(end - p) < len)
		return SY_AGAIN;
	uint32_t crc = (uint32_t)rn(&r, 4);
	if (crc != smsq_crc32c(smsq_crc32c(0, p + 8, len - 8), p, 4))
		return SY_ERR_PARSE;
	r.end = p + len;
	out->type = (uint8_t)rn(&r, 1);
	out->len = len;
	bool ok = false;
	if (out->type == SMSQ_REC_PUT || out->type == SMSQ_REC_COPY)
		ok = decode_put(&r, out);
	else if (out->type == SMSQ_REC_MARK)
		ok = decode_mark(&r, out);
	if (!ok || out->id == 0 || out->id > INT64_MAX)
		return SY_ERR_PARSE;
	return SY_OK;
}

void smsq_log_apply(struct smsq_msg *m, const struct smsq_update *u)
{
	m->state = u->state;
	if (u->set & SMSQ_SET_ATTEMPTS)
		m->attempts = u->attempts;
	if (u->set & SMSQ_SET_NEXT_ATTEMPT)
		m->next_attempt_ns = u->next_attempt_ns;
	if (u->set & SMSQ_SET_CARRIER) {
		memcpy(m->carrier, u->carrier, sizeof m->carrier);
		m->carrier[sizeof m->carrier - 1] = '\0';
	}
	if (u->set & SMSQ_SET_UPSTREAM_ID) {
		memcpy(m->upstream_id, u->upstream_id, sizeof m->upstream_id);
		m->upstream_id[sizeof m->upstream_id - 1] = '\0';
	}
	if (u->set & SMSQ_SET_DLR_PENDING)
		m->dlr_pending = u->dlr_pending;
	if (u->set & SMSQ_SET_ERROR)
		m->error_code = u->error_code;
	if (u->set & SMSQ_SET_DONE)
		m->done_ns = u->done_ns;
}
