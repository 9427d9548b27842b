/* smsq_log_fuzz.c: libFuzzer harness on the SMS queue's segment log
 * (core/store/smsq_log.c, replayed by core/store/smsq_seg.c). The input is
 * a segment file. First the pure decoder walks it: every record that
 * decodes must encode back to the same bytes. Then the bytes are written as
 * one or two segments of a store in a temp folder (the first byte picks
 * how, below: valid headers let the fuzzer reach the records quickly) and the
 * store is opened: the replay may refuse the file or cut a torn tail, never
 * crash; what it accepts must recover and read back. Built by `make fuzz`;
 * the corpus replays in `make test`. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/live/live.h"
#include "core/store/smsq.h"
#include "core/store/smsq_log.h"

static void decode_walk(const uint8_t *p, const uint8_t *end)
{
	static uint8_t enc[SMSQ_LOG_REC_MAX];
	struct smsq_seg_hdr h;
	if (smsq_log_hdr_decode(p, end, &h) == SY_OK)
		p += SMSQ_LOG_HDR_LEN;
	struct smsq_rec r;
	while (p < end && smsq_log_decode(p, end, &r) == SY_OK) {
		SY_ASSERT(r.len >= SMSQ_LOG_REC_HDR && r.len <= (size_t)(end - p));
		size_t n = r.type == SMSQ_REC_MARK
			       ? smsq_log_mark_encode(r.id, &r.u, enc)
			       : smsq_log_put_encode((enum smsq_rec_type)r.type, &r.m, r.m.body, enc);
		SY_ASSERT(n == r.len && memcmp(enc, p, n) == 0);
		p += r.len;
	}
}

static void on_done(void *arg, enum smsq_op op, uint64_t id, uint64_t token, enum sy_rc rc)
{
	(void)arg, (void)op, (void)id, (void)token, (void)rc;
}

static enum sy_rc visit(void *arg, const struct smsq_msg *m)
{
	struct smsq *q = arg;
	static uint8_t body[SMSQ_BODY_MAX];
	struct smsq_msg g;
	SY_ASSERT(m->body_len <= SMSQ_BODY_MAX && m->id != 0);
	SY_ASSERT(smsq_get(q, m->id, &g, body, sizeof body) == SY_OK && g.body_len == m->body_len);
	return SY_OK;
}

/* The live files without fdatasync: durability is not what is fuzzed, and
 * a sync per input would leave the fuzzer a few runs a second. */
static enum sy_rc nosync(void *ctx, struct sy_file *f)
{
	(void)ctx, (void)f;
	return SY_OK;
}

static const struct sy_env *files(void)
{
	static struct sy_env_ops ops;
	static struct sy_env env;
	if (env.ops == NULL) {
		ops = *sy_live_files()->ops;
		ops.file_sync = nosync;
		env = *sy_live_files();
		env.ops = &ops;
	}
	return &env;
}

static bool write_file(const char *path, const void *a, size_t an, const void *b, size_t bn)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return false;
	bool ok = fwrite(a, 1, an, f) == an && (bn == 0 || fwrite(b, 1, bn, f) == bn);
	return fclose(f) == 0 && ok;
}

/* Segment no of the store: a valid header then p (hdr_len < 0), or the
 * first hdr_len bytes of a valid header only (a header torn by a crash). */
static void write_seg(const char *dir, uint32_t no, int hdr_len, const uint8_t *p, size_t n)
{
	char path[96];
	uint8_t hdr[SMSQ_LOG_HDR_LEN];
	snprintf(path, sizeof path, "%s/%08u.log", dir, no);
	smsq_log_hdr_encode(&(struct smsq_seg_hdr){.version = SMSQ_LOG_VERSION, .seg_no = no, .last_id = 7}, hdr);
	bool ok =
	    hdr_len >= 0 ? write_file(path, hdr, (size_t)hdr_len, NULL, 0) : write_file(path, hdr, sizeof hdr, p, n);
	if (!ok)
		abort();
}

/* The first byte picks the files: 0x01 segment 1 = a valid header + the
 * rest; 0x02 the rest split in two segments with valid headers (a bad
 * record in the first is corruption); 0x03 as 0x01 plus a segment 2 whose
 * header is torn; anything else: segment 1 = the input as it is. */
static void replay(const uint8_t *data, size_t size)
{
	static char dir[64];
	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "/tmp/sy_fuzz_smsq.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
	}
	char path[96];
	snprintf(path, sizeof path, "%s/00000002.log", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/00000003.log", dir);
	unlink(path);
	uint8_t first[16] = {1};
	uint32_t crc = smsq_crc32c(0, first, 4);
	for (int i = 0; i < 4; i++)
		first[4 + i] = (uint8_t)(crc >> (8 * i));
	memcpy(first + 8, "SYSMSQF\n", 8);
	snprintf(path, sizeof path, "%s/first", dir);
	if (!write_file(path, first, sizeof first, NULL, 0))
		abort();
	uint8_t mode = size > 0 ? data[0] : 0;
	const uint8_t *rest = size > 0 ? data + 1 : data;
	size_t rest_n = size > 0 ? size - 1 : 0;
	if (mode == 0x01 || mode == 0x03) {
		write_seg(dir, 1, -1, rest, rest_n);
		if (mode == 0x03)
			write_seg(dir, 2, (int)(rest_n % SMSQ_LOG_HDR_LEN), NULL, 0);
	} else if (mode == 0x02) {
		write_seg(dir, 1, -1, rest, rest_n / 2);
		write_seg(dir, 2, -1, rest + rest_n / 2, rest_n - rest_n / 2);
	} else {
		snprintf(path, sizeof path, "%s/00000001.log", dir);
		if (!write_file(path, data, size, NULL, 0))
			abort();
	}
	char err[SMSQ_ERRMSG_MAX];
	struct smsq_opts o = {.on_done = on_done, .batch_max = 64, .err = err, .err_len = sizeof err};
	struct smsq *q;
	if (smsq_open(files(), dir, &o, &q) != SY_OK) {
		SY_ASSERT(q == NULL && err[0] != '\0');
		return;
	}
	SY_ASSERT(smsq_recover(q, visit, q) == SY_OK);
	SY_ASSERT(smsq_recover_dlr(q, visit, q) == SY_OK);
	/* The log takes new records after whatever the replay kept. */
	struct smsq_msg m = {
	    .id = smsq_last_id(q) < INT64_MAX ? smsq_last_id(q) + 1 : 1, .body = (const uint8_t *)"x", .body_len = 1};
	SY_ASSERT(smsq_put(q, &m, 1) == SY_OK);
	SY_ASSERT(smsq_close(q) == SY_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_walk(data, data + size);
	replay(data, size);
	return 0;
}
