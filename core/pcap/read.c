/* read.c: a capture file through libpcap, fed to the decoder. libpcap
 * reads a glibc cookie FILE whose reads are the env's file reads, so core/
 * opens nothing itself and a capture reads the same in live, in sim and in
 * the tests. libpcap knows pcap (either byte order, micro or nanosecond
 * stamps) and pcapng; it is asked for nanoseconds throughout. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pcap/decode_int.h"

struct rd_cookie {
	const struct sy_env *env;
	struct sy_file *f;
	uint64_t off;
	enum sy_rc err; /* the first read error: libpcap only sees "short read" */
};

static ssize_t rd_read(void *arg, char *buf, size_t size)
{
	struct rd_cookie *c = arg;
	size_t got = 0;
	enum sy_rc rc = sy_env_file_read(c->env, c->f, c->off, buf, size, &got);
	if (rc != SY_OK) {
		if (c->err == SY_OK)
			c->err = rc;
		return -1;
	}
	c->off += got;
	return (ssize_t)got;
}

static int rd_seek(void *arg, off64_t *pos, int whence)
{
	struct rd_cookie *c = arg;
	uint64_t size = 0;
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)c->off : -1;
	if (whence == SEEK_END) {
		if (sy_env_file_size(c->env, c->f, &size) != SY_OK)
			return -1;
		base = (int64_t)size;
	}
	if (base < 0 || base + *pos < 0)
		return -1;
	c->off = (uint64_t)(base + *pos);
	*pos = (off64_t)c->off;
	return 0;
}

static int rd_close(void *arg)
{
	struct rd_cookie *c = arg;
	sy_env_file_close(c->env, c->f);
	free(c);
	return 0;
}

/* A FILE over PATH's env file; NULL with *rc set. */
static FILE *rd_open(const struct sy_env *env, const char *path, struct rd_cookie **out, enum sy_rc *rc)
{
	struct sy_file *f;
	*rc = sy_env_file_open(env, path, SY_FILE_READ, &f);
	if (*rc != SY_OK)
		return NULL;
	struct rd_cookie *c = calloc(1, sizeof(*c));
	FILE *fp = NULL;
	if (c != NULL) {
		*c = (struct rd_cookie){.env = env, .f = f};
		fp = fopencookie(c, "r", (cookie_io_functions_t){.read = rd_read, .seek = rd_seek, .close = rd_close});
	}
	if (fp == NULL) {
		free(c);
		sy_env_file_close(env, f);
		*rc = SY_ERR_NOMEM;
		return NULL;
	}
	*out = c;
	return fp;
}

struct rd_run {
	const char *path;
	pcap_t *pc;
	struct bpf_program prog;
	bool filtered;
	struct pcap_decoder *dec;
	struct rd_cookie *cookie;
	uint64_t frames_max;
};

/* The frames, in file order; their numbers are the file's (as tshark's),
 * whether or not the filter passes them. */
static enum sy_rc rd_frames(struct rd_run *r, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t frame = 0;
	int got;
	while ((got = pcap_next_ex(r->pc, &h, &data)) == 1) {
		frame++;
		if (r->frames_max != 0 && frame > r->frames_max)
			return SY_OK;
		if (r->filtered && pcap_offline_filter(&r->prog, h, data) == 0)
			continue;
		/* A classic pcap stores seconds in 32 bits that libpcap reads as
		 * signed: a stamp past 2038 comes back negative. The format means
		 * them unsigned (tshark reads them so); pcapng's are 64-bit. */
		int64_t sec = (int64_t)h->ts.tv_sec;
		uint64_t secs = sec < 0 && sec >= INT32_MIN ? (uint64_t)(uint32_t)sec : sec < 0 ? 0 : (uint64_t)sec;
		uint64_t ts = secs * SY_NS_PER_S + (uint64_t)h->ts.tv_usec;
		enum sy_rc rc = pcap_decoder_frame(r->dec, frame, ts, data, h->caplen, h->len);
		if (rc != SY_OK) {
			snprintf(err, errlen, "%s: frame %llu: stopped (%s)", r->path, (unsigned long long)frame,
				 sy_rc_str(rc));
			return rc;
		}
	}
	if (got == PCAP_ERROR_BREAK)
		return SY_OK;
	if (r->cookie->err != SY_OK) {
		snprintf(err, errlen, "%s: frame %llu: %s", r->path, (unsigned long long)frame + 1,
			 sy_env_file_err(r->cookie->err));
		return SY_ERR_IO;
	}
	const char *why = pcap_geterr(r->pc);
	snprintf(err, errlen, "%s: frame %llu: %s (libpcap: %s)", r->path, (unsigned long long)frame + 1,
		 strstr(why, "truncated") != NULL ? "truncated" : "unreadable", why);
	return SY_ERR_PARSE;
}

static enum sy_rc rd_filter(struct rd_run *r, const char *filter, char *err, size_t errlen)
{
	if (filter == NULL || filter[0] == '\0')
		return SY_OK;
	if (pcap_compile(r->pc, &r->prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "%s: filter \"%s\": %s", r->path, filter, pcap_geterr(r->pc));
		return SY_ERR_INVAL;
	}
	r->filtered = true;
	return SY_OK;
}

enum sy_rc pcap_read_file(const struct sy_env *env, const char *path, const struct pcap_read_cfg *cfg, pcap_msg_fn fn,
			  void *arg, struct pcap_read_stats *stats, char *err, size_t errlen)
{
	SY_ASSERT(env != NULL && path != NULL && fn != NULL && stats != NULL);
	static const struct pcap_read_cfg none;
	cfg = cfg != NULL ? cfg : &none;
	memset(stats, 0, sizeof(*stats));
	if (errlen > 0)
		err[0] = '\0';
	struct rd_run r = {.path = path, .frames_max = cfg->frames_max};
	enum sy_rc rc;
	FILE *fp = rd_open(env, path, &r.cookie, &rc);
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, sy_env_file_err(rc));
		return rc;
	}
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	r.pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (r.pc == NULL) {
		bool io = r.cookie->err != SY_OK;
		snprintf(err, errlen, "%s: %s (libpcap: %s)", path,
			 io ? sy_env_file_err(r.cookie->err) : "not a capture", ebuf);
		fclose(fp); /* libpcap leaves a FILE it rejects to its opener */
		return io ? SY_ERR_IO : SY_ERR_PARSE;
	}
	rc = rd_filter(&r, cfg->filter, err, errlen);
	if (rc != SY_OK)
		goto out_close;
	stats->linktype = pcap__linktype(pcap_datalink(r.pc));
	r.dec = pcap_decoder_create(cfg, stats->linktype, fn, arg, stats);
	if (r.dec == NULL) {
		rc = SY_ERR_NOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out_free_prog;
	}
	rc = rd_frames(&r, err, errlen);
	if (rc == SY_OK)
		rc = pcap_decoder_finish(r.dec);
	pcap_decoder_destroy(r.dec);
out_free_prog:
	if (r.filtered)
		pcap_freecode(&r.prog);
out_close:
	pcap_close(r.pc); /* closes fp, and with it the env file */
	return rc;
}
