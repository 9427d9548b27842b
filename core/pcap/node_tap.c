/* node_tap.c: one node's capture as the commands set it up (tap.h): the
 * tap is made only when a sink is added, so a node captured by nothing
 * keeps its env unwrapped and pays nothing. */
#include "core/pcap/tap.h"

#include <stdio.h>

#define FLUSH_EVERY_NS SY_NS_PER_S

void pcap_node_tap_init(struct pcap_node_tap *nt, const struct sy_env *inner)
{
	*nt = (struct pcap_node_tap){.inner = inner};
}

enum sy_rc pcap_node_tap_add(struct pcap_node_tap *nt, struct pcap_sink sink)
{
	if (nt->tap == NULL && (nt->tap = pcap_tap_create(nt->inner, &nt->env)) == NULL)
		return SY_ERR_NOMEM;
	return pcap_tap_add_sink(nt->tap, sink);
}

/* A capture cut short (a kill -9, a power cut) keeps all but the last
 * second: the writer's buffer reaches the file at least this often. */
static void flush_fire(void *arg)
{
	struct pcap_node_tap *nt = arg;
	pcap_writer_flush(nt->writer);
	nt->flush_timer = sy_env_timer_start(nt->timer_env, FLUSH_EVERY_NS, flush_fire, nt);
}

enum sy_rc pcap_node_tap_pcap(struct pcap_node_tap *nt, const struct sy_env *file_env, const char *path,
			      const struct sy_env *timer_env, char *err, size_t errlen)
{
	SY_ASSERT(nt->writer == NULL);
	enum sy_rc rc = pcap_writer_open(file_env, path, &nt->writer, err, errlen);
	if (rc != SY_OK)
		return rc;
	if ((rc = pcap_node_tap_add(nt, pcap_writer_sink(nt->writer))) != SY_OK) {
		snprintf(err, errlen, "%s: %s", path, sy_rc_str(rc));
		pcap_writer_close(nt->writer);
		nt->writer = NULL;
		return rc;
	}
	nt->timer_env = timer_env;
	if (timer_env != NULL)
		nt->flush_timer = sy_env_timer_start(timer_env, FLUSH_EVERY_NS, flush_fire, nt);
	return SY_OK;
}

const struct sy_env *pcap_node_tap_env(const struct pcap_node_tap *nt)
{
	return nt->tap != NULL ? &nt->env : nt->inner;
}

enum sy_rc pcap_node_tap_close(struct pcap_node_tap *nt)
{
	if (nt->timer_env != NULL)
		sy_env_timer_cancel(nt->timer_env, nt->flush_timer);
	pcap_tap_destroy(nt->tap);
	enum sy_rc rc = pcap_writer_close(nt->writer);
	*nt = (struct pcap_node_tap){.inner = nt->inner};
	return rc;
}
