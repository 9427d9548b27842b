/* pcap_fuzz.c: libFuzzer harness on core/pcap/read.h. The input goes
 * through the real reader as a whole capture file (libpcap over a cookie
 * FILE over the env's file operations, here a memory-backed env), then as
 * raw frames straight into the decoder for each link type it knows: the
 * input is cut into frames at 2-byte big-endian length prefixes, each
 * frame copied to an exact-size buffer so ASan sees any read past it, the
 * capture clock stepping by the prefix's spare bits (so fragment and TCP
 * timeouts fire too). Every message handed over is read byte by byte; its
 * counts must agree with the stats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pcap/read.h"

/* ---- a read-only env holding one file in memory ---- */

struct sy_file {
	const uint8_t *p;
	size_t n;
};

static struct sy_file mem_file;

static enum sy_rc mem_open(void *ctx, const char *path, unsigned flags, struct sy_file **out)
{
	if (strcmp(path, "fuzz.pcap") != 0 || (flags & SY_FILE_WRITE))
		return SY_ERR_NOTFOUND;
	*out = &mem_file;
	return SY_OK;
}

static enum sy_rc mem_read(void *ctx, struct sy_file *f, uint64_t off, void *buf, size_t len, size_t *got)
{
	*got = off >= f->n ? 0 : SY_MIN(len, (size_t)(f->n - off));
	if (*got > 0)
		memcpy(buf, f->p + off, *got);
	return SY_OK;
}

static enum sy_rc mem_size(void *ctx, struct sy_file *f, uint64_t *out)
{
	*out = f->n;
	return SY_OK;
}

static void mem_close(void *ctx, struct sy_file *f)
{
	SY_ASSERT(f == &mem_file);
}

static const struct sy_env_ops mem_ops = {
    .file_open = mem_open,
    .file_read = mem_read,
    .file_size = mem_size,
    .file_close = mem_close,
};

/* ---- what the reader hands over ---- */

struct seen {
	uint64_t sip, smpp, other, sum;
};

static enum sy_rc seen_fn(void *arg, const struct pcap_msg *m)
{
	struct seen *s = arg;
	SY_ASSERT(m->data != NULL || m->len == 0);
	SY_ASSERT(m->src.family == SY_AF_INET || m->src.family == SY_AF_INET6);
	for (size_t i = 0; i < m->len; i++)
		s->sum += m->data[i];
	if (m->app == PCAP_APP_SIP)
		s->sip++;
	else if (m->app == PCAP_APP_SMPP)
		s->smpp++;
	else
		s->other++;
	return SY_OK;
}

static void check_counts(const struct seen *s, const struct pcap_read_stats *st)
{
	SY_ASSERT(s->sip == st->msgs_sip && s->smpp == st->msgs_smpp && s->other == st->msgs_other);
	SY_ASSERT(st->reassembled <= st->fragments);
	SY_ASSERT(st->malformed == 0 || st->first_malformed_why[0] != '\0');
}

static void as_file(const uint8_t *data, size_t size)
{
	mem_file = (struct sy_file){.p = data, .n = size};
	struct sy_env env = {.ops = &mem_ops, .ctx = NULL, .log_level = SY_LOG_ERROR};
	struct pcap_read_cfg cfg = {.smpp_ports = {2775, 5060}, .tcp_buffer_max = 4096};
	struct pcap_read_stats st;
	struct seen s = {0};
	char err[256];
	enum sy_rc rc = pcap_read_file(&env, "fuzz.pcap", size % 2 ? &cfg : NULL, seen_fn, &s, &st, err, sizeof(err));
	SY_ASSERT(rc == SY_OK || rc == SY_ERR_PARSE);
	SY_ASSERT(rc == SY_OK || strncmp(err, "fuzz.pcap: ", 11) == 0);
	check_counts(&s, &st);
}

static void as_frames(const uint8_t *data, size_t size, uint32_t linktype)
{
	struct pcap_read_cfg cfg = {.tcp_buffer_max = 2048};
	struct pcap_read_stats st;
	struct seen s = {0};
	struct pcap_decoder *d = pcap_decoder_create(&cfg, linktype, seen_fn, &s, &st);
	SY_ASSERT(d != NULL);
	uint64_t ts = 1700000000ull * SY_NS_PER_S, frame = 0;
	for (size_t at = 0; at + 2 <= size;) {
		size_t len = (size_t)(data[at] & 0x0f) << 8 | data[at + 1];
		/* The prefix's high bits step the clock: 0, 1 ms, 10 s or 1000 s. */
		static const uint64_t step[4] = {0, SY_NS_PER_MS, 10 * SY_NS_PER_S, 1000 * SY_NS_PER_S};
		ts += step[data[at] >> 6];
		at += 2;
		len = SY_MIN(len, size - at);
		uint8_t *f = malloc(len ? len : 1);
		memcpy(f, data + at, len);
		SY_ASSERT(pcap_decoder_frame(d, ++frame, ts, f, len, len) == SY_OK);
		free(f);
		at += len;
	}
	SY_ASSERT(pcap_decoder_finish(d) == SY_OK);
	pcap_decoder_destroy(d);
	check_counts(&s, &st);
	SY_ASSERT(st.frames == frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t linktypes[] = {1, 113, 276, 101, 0, 108};
	as_file(data, size);
	for (size_t i = 0; i < SY_ARRAY_LEN(linktypes); i++)
		as_frames(data, size, linktypes[i]);
	return 0;
}
