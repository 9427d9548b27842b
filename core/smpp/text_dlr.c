/* text_dlr.c: SMPP time strings (YYMMDDhhmm[ss][tnnp]) and delivery receipt
 * text (SMPP 3.4 Appendix B), the half of text.h that is not about
 * alphabets; split from text.c. */
#include "core/smpp/text.h"

#include "core/smpp/pdu.h"

/* ---- SMPP time strings ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), so no gmtime/mktime is needed. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void smpp_time_fmt10(uint64_t epoch_ns, char out[11])
{
	uint64_t s = epoch_ns / SY_NS_PER_S;
	int64_t y;
	unsigned m, d;
	civil_from_days((int64_t)(s / 86400), &y, &m, &d);
	unsigned sod = (unsigned)(s % 86400);
	unsigned f[5] = {(unsigned)(y % 100), m, d, sod / 3600, sod / 60 % 60};
	for (int i = 0; i < 5; i++) {
		out[2 * i] = (char)('0' + f[i] / 10);
		out[2 * i + 1] = (char)('0' + f[i] % 10);
	}
	out[10] = '\0';
}

/* n decimal digits at p, or -1. */
static int digits(const char *p, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* YYMMDDhhmm[ss] at p as UTC 20YY; false on a bad field. */
static bool ymdhms(const char *p, bool with_s, uint64_t *epoch_s)
{
	static const uint8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int yy = digits(p, 2), mo = digits(p + 2, 2), dd = digits(p + 4, 2);
	int hh = digits(p + 6, 2), mi = digits(p + 8, 2), ss = with_s ? digits(p + 10, 2) : 0;
	if (yy < 0 || mo < 1 || mo > 12 || dd < 1 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59)
		return false;
	int64_t y = 2000 + yy;
	if (dd > dim[mo - 1] + (mo == 2 && leap(y)))
		return false;
	*epoch_s =
	    (uint64_t)days_from_civil(y, (unsigned)mo, (unsigned)dd) * 86400 + (uint64_t)(hh * 3600 + mi * 60 + ss);
	return true;
}

enum sy_rc smpp_time_parse10(struct sy_str s, uint64_t *epoch_ns)
{
	SY_ASSERT(epoch_ns != NULL);
	uint64_t t;
	if ((s.len != 10 && s.len != 12) || !ymdhms(s.p, s.len == 12, &t))
		return SY_ERR_PARSE;
	*epoch_ns = t * SY_NS_PER_S;
	return SY_OK;
}

static enum sy_rc time_relative(const char *p, uint64_t now, uint64_t *epoch_ns)
{
	int v[6];
	for (int i = 0; i < 6; i++)
		if ((v[i] = digits(p + 2 * i, 2)) < 0)
			return SY_ERR_PARSE;
	uint64_t s = (uint64_t)v[0] * 365 * 86400 + (uint64_t)v[1] * 30 * 86400 + (uint64_t)v[2] * 86400 +
		     (uint64_t)v[3] * 3600 + (uint64_t)v[4] * 60 + (uint64_t)v[5];
	*epoch_ns = now + s * SY_NS_PER_S;
	return SY_OK;
}

enum sy_rc smpp_time_parse(struct sy_str s, uint64_t now_epoch_ns, uint64_t *epoch_ns)
{
	SY_ASSERT(epoch_ns != NULL);
	if (s.len == 0)
		return SY_DECLINED;
	if (s.len != 16 || digits(s.p + 12, 1) < 0)
		return SY_ERR_PARSE;
	char p = s.p[15];
	if (p == 'R')
		return time_relative(s.p, now_epoch_ns, epoch_ns);
	int nn = digits(s.p + 13, 2);
	uint64_t t;
	if ((p != '+' && p != '-') || nn < 0 || nn > 48 || !ymdhms(s.p, true, &t))
		return SY_ERR_PARSE;
	/* The time is local, nn quarter hours ahead of (+) or behind (-) UTC. */
	uint64_t off = (uint64_t)nn * 900;
	if (p == '+' && off > t)
		return SY_ERR_PARSE;
	t = p == '+' ? t - off : t + off;
	*epoch_ns = t * SY_NS_PER_S + (uint64_t)digits(s.p + 12, 1) * (SY_NS_PER_S / 10);
	return SY_OK;
}

/* ---- delivery receipt text ---- */

static const struct {
	uint8_t state;
	const char *name;
} dlr_stats[] = {
    {SMPP_STATE_ENROUTE, "ENROUTE"}, {SMPP_STATE_DELIVERED, "DELIVRD"},	    {SMPP_STATE_EXPIRED, "EXPIRED"},
    {SMPP_STATE_DELETED, "DELETED"}, {SMPP_STATE_UNDELIVERABLE, "UNDELIV"}, {SMPP_STATE_ACCEPTED, "ACCEPTD"},
    {SMPP_STATE_UNKNOWN, "UNKNOWN"}, {SMPP_STATE_REJECTED, "REJECTD"},
};

const char *smpp_dlr_stat_name(uint8_t message_state)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(dlr_stats); i++)
		if (dlr_stats[i].state == message_state)
			return dlr_stats[i].name;
	return "UNKNOWN";
}

/* s (any case) equals lower, a lowercase ASCII literal of s.len bytes. */
static bool dlr_ieq_lower(const char *s, const char *lower, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			c += 32;
		if (c != (unsigned char)lower[i])
			return false;
	}
	return true;
}

bool smpp_dlr_stat_parse(struct sy_str s, uint8_t *message_state)
{
	static const char lower[][8] = {"enroute", "delivrd", "expired", "deleted",
					"undeliv", "acceptd", "unknown", "rejectd"};
	_Static_assert(SY_ARRAY_LEN(lower) == SY_ARRAY_LEN(dlr_stats), "one lowercase name per state");
	if (s.len != 7) /* every name has 7 letters */
		return false;
	for (size_t i = 0; i < SY_ARRAY_LEN(dlr_stats); i++)
		if (dlr_ieq_lower(s.p, lower[i], 7)) {
			*message_state = dlr_stats[i].state;
			return true;
		}
	return false;
}

/* The byte length of the first `chars` UTF-8 characters of s (continuation
 * bytes never start a character, so a cut never splits one). */
static size_t utf8_prefix(struct sy_str s, size_t chars)
{
	size_t i = 0, n = 0;
	for (; i < s.len; i++) {
		if (((uint8_t)s.p[i] & 0xC0) != 0x80 && n++ == chars)
			break;
	}
	return i;
}

static char *dlr_put3(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 100);
	p[1] = (char)('0' + v / 10 % 10);
	p[2] = (char)('0' + v % 10);
	return p + 3;
}

#define DLR_LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

/* The fixed words, two dates, the longest id and stat fit this. */
#define DLR_BUILD_MAX 256

/* Formatted by hand (a receipt per message: no printf in the hot path),
 * byte for byte as "id:%.*s sub:%03u dlvrd:%03u submit date:%s done
 * date:%s stat:%s err:%03u text:%.*s" (test_smpp_text checks), whole into
 * a local buffer, then cut to cap as snprintf would. */
enum sy_rc smpp_dlr_build(const struct smpp_dlr *d, char *out, size_t cap, size_t *len)
{
	SY_ASSERT(d != NULL && len != NULL && (out != NULL || cap == 0));
	if (d->id.len > SMPP_MESSAGE_ID_MAX || d->sub > 999 || d->dlvrd > 999 || d->err > 999)
		return SY_ERR_INVAL;
	size_t tlen = utf8_prefix(d->text, SMPP_DLR_TEXT_CHARS);
	const char *stat = smpp_dlr_stat_name(d->state);
	size_t slen = strlen(stat);
	_Static_assert(SMPP_MESSAGE_ID_MAX + 7 + 100 <= DLR_BUILD_MAX, "receipt buffer");
	SY_ASSERT(slen == 7);
	char buf[DLR_BUILD_MAX], *p = buf;
	p = DLR_LIT(p, "id:");
	if (d->id.len > 0)
		memcpy(p, d->id.p, d->id.len);
	p += d->id.len;
	p = DLR_LIT(p, " sub:");
	p = dlr_put3(p, (unsigned)d->sub);
	p = DLR_LIT(p, " dlvrd:");
	p = dlr_put3(p, (unsigned)d->dlvrd);
	p = DLR_LIT(p, " submit date:");
	smpp_time_fmt10(d->submit_ns, p); /* 10 digits and a NUL the next bytes overwrite */
	p += 10;
	p = DLR_LIT(p, " done date:");
	smpp_time_fmt10(d->done_ns, p);
	p += 10;
	p = DLR_LIT(p, " stat:");
	memcpy(p, stat, slen);
	p += slen;
	p = DLR_LIT(p, " err:");
	p = dlr_put3(p, (unsigned)d->err);
	p = DLR_LIT(p, " text:");
	/* The text goes straight to out: not UTF-8, it may be longer than 20
	 * characters' worth. */
	size_t head = (size_t)(p - buf), n = head + tlen;
	SY_ASSERT(head < DLR_BUILD_MAX);
	if (cap > 0) {
		size_t keep = n < cap ? n : cap - 1;
		memcpy(out, buf, SY_MIN(head, keep));
		if (keep > head)
			memcpy(out + head, d->text.p, keep - head);
		out[keep] = '\0';
	}
	*len = n;
	return n >= cap ? SY_ERR_FULL : SY_OK;
}

enum dlr_key { K_ID, K_SUB, K_DLVRD, K_SUBMIT, K_DONE, K_STAT, K_ERR, K_TEXT, K_N };

/* Which key starts at p (case-insensitive), or K_N. Keyed on the first
 * letter (a receipt has eight keys and is parsed once per message at the
 * switch and once at the application): at most three candidates. */
static enum dlr_key dlr_key_at(const char *p, size_t left, size_t *klen)
{
#define DLR_TRY(lit, key)                                                                                              \
	do {                                                                                                           \
		if (sizeof(lit) - 1 <= left && dlr_ieq_lower(p, lit, sizeof(lit) - 1)) {                               \
			*klen = sizeof(lit) - 1;                                                                       \
			return key;                                                                                    \
		}                                                                                                      \
	} while (0)
	switch (p[0] | 0x20) { /* only a letter can start a key; others fail the compare */
	case 'i':
		DLR_TRY("id:", K_ID);
		break;
	case 's':
		DLR_TRY("sub:", K_SUB);
		DLR_TRY("submit date:", K_SUBMIT);
		DLR_TRY("stat:", K_STAT);
		break;
	case 'd':
		DLR_TRY("dlvrd:", K_DLVRD);
		DLR_TRY("done date:", K_DONE);
		break;
	case 'e':
		DLR_TRY("err:", K_ERR);
		break;
	case 't':
		DLR_TRY("text:", K_TEXT);
		break;
	default:
		break;
	}
#undef DLR_TRY
	return K_N;
}

/* A decimal count of 1..3 digits; err may also come in hex from some SMSCs. */
static bool dlr_num(struct sy_str v, bool hex_ok, uint32_t *out)
{
	if (v.len < 1 || v.len > 3)
		return false;
	int dec = digits(v.p, v.len);
	if (dec >= 0) {
		*out = (uint32_t)dec;
		return true;
	}
	uint32_t x = 0;
	for (size_t i = 0; hex_ok && i < v.len; i++) {
		char c = v.p[i];
		int h = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (h < 0)
			return false;
		x = x << 4 | (uint32_t)h;
	}
	*out = x;
	return hex_ok;
}

static bool dlr_field(enum dlr_key k, struct sy_str v, struct smpp_dlr *d)
{
	uint32_t x = 0;
	switch (k) {
	case K_ID:
		d->id = v;
		return v.len >= 1 && v.len <= SMPP_MESSAGE_ID_MAX;
	case K_SUB:
		return dlr_num(v, false, &d->sub);
	case K_DLVRD:
		return dlr_num(v, false, &d->dlvrd);
	case K_SUBMIT:
		return smpp_time_parse10(v, &d->submit_ns) == SY_OK;
	case K_DONE:
		return smpp_time_parse10(v, &d->done_ns) == SY_OK;
	case K_STAT:
		/* An unrecognised stat word is kept as UNKNOWN, not refused:
		 * losing a receipt is worse than not knowing its detail. */
		if (v.len == 0)
			return false;
		if (!smpp_dlr_stat_parse(v, &d->state))
			d->state = SMPP_STATE_UNKNOWN;
		return true;
	case K_ERR:
		if (!dlr_num(v, true, &x))
			return false;
		d->err = (uint16_t)x;
		return true;
	default:
		return false;
	}
}

enum sy_rc smpp_dlr_parse(struct sy_str s, struct smpp_dlr *out)
{
	SY_ASSERT(out != NULL && (s.p != NULL || s.len == 0));
	memset(out, 0, sizeof(*out));
	unsigned seen = 0;
	size_t i = 0;
	while (i < s.len) {
		if (s.p[i] == ' ') {
			i++;
			continue;
		}
		size_t klen = 0;
		enum dlr_key k = dlr_key_at(s.p + i, s.len - i, &klen);
		i += klen;
		/* The value runs to the next space (text: to the end). */
		const char *sp = k == K_TEXT || i >= s.len ? NULL : memchr(s.p + i, ' ', s.len - i);
		size_t j = sp != NULL ? (size_t)(sp - s.p) : s.len;
		struct sy_str v = {s.p + i, j - i};
		if (k == K_TEXT)
			out->text = v;
		else if (k != K_N && !dlr_field(k, v, out))
			return SY_ERR_PARSE;
		if (k != K_N)
			seen |= 1u << k;
		i = j;
	}
	if (!(seen & (1u << K_ID)) || !(seen & (1u << K_STAT)))
		return SY_ERR_PARSE;
	return SY_OK;
}
