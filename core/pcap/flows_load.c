/* flows_load.c: a capture file into flows, through the reader
 * (core/pcap/read.h). Apart from flows.c so that code building flows by
 * hand does not link the reader. */
#include <stdio.h>

#include "core/pcap/flows.h"

static enum sy_rc load_one(void *arg, const struct pcap_msg *m)
{
	return pcap_flows_add(arg, m);
}

enum sy_rc pcap_flows_load(const struct sy_env *env, const char *path, const struct pcap_read_cfg *cfg,
			   struct pcap_flows **out, char *err, size_t errlen)
{
	*out = NULL;
	struct pcap_flows *f = pcap_flows_create();
	if (f == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return SY_ERR_NOMEM;
	}
	enum sy_rc rc = pcap_read_file(env, path, cfg, load_one, f, &f->stats, err, errlen);
	if (rc == SY_ERR_NOMEM)
		snprintf(err, errlen, "%s: out of memory building the flows", path);
	if (rc != SY_OK) {
		pcap_flows_free(f);
		return rc;
	}
	pcap_flows_finish(f);
	*out = f;
	return SY_OK;
}
