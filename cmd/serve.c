/* serve.c: `switchyard serve CONFIG`: the voice switch on real sockets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "core/live/live.h"
#include "core/sip/switch.h"

struct serve {
	struct sy_live *live;
	const struct sy_env *env;
	struct vswitch *sw;
	uint64_t last_attempts;
	sy_timer_id status_timer;
};

#define STATUS_EVERY_NS (10 * SY_NS_PER_S)

/* A status line every 10 s so an operator sees the switch is alive. */
static void status_fire(void *arg)
{
	struct serve *s = arg;
	const struct b2bua_stats *st = b2bua_stats(s->sw->b2bua);
	const struct sip_stack_stats *ss = sip_stack_stats(b2bua_stack(s->sw->b2bua));
	uint64_t d = st->attempts - s->last_attempts;
	s->last_attempts = st->attempts;
	SY_LOG(s->env, SY_LOG_INFO,
	       "status: cps=%.1f active=%llu attempts=%llu answered=%llu failed=%llu cdrs=%llu rx=%llu bad=%llu",
	       (double)d / 10.0, (unsigned long long)st->active, (unsigned long long)st->attempts,
	       (unsigned long long)st->answered, (unsigned long long)st->failed,
	       (unsigned long long)vswitch_cdrs_written(s->sw), (unsigned long long)ss->rx_msgs,
	       (unsigned long long)(ss->rx_bad_dropped + ss->rx_bad_400));
	s->status_timer = sy_env_timer_start(s->env, STATUS_EVERY_NS, status_fire, s);
}

static int check_addresses(const struct scn *scn, struct sy_addr *addrs)
{
	for (uint32_t i = 0; i < scn->carrier_n; i++) {
		const struct scn_carrier *c = &scn->carriers[i];
		if (c->address[0] == '\0') {
			fprintf(stderr, "%s:%u: [carrier %s] has no address (serve needs host:port)\n", scn->file,
				c->line, c->name);
			return -1;
		}
		addrs[i] = c->addr;
	}
	return 0;
}

int cmd_serve(const struct cmd_opts *o)
{
	char err[512];
	struct scn *scn = NULL;
	struct sy_addr addrs[SCN_CARRIERS_MAX];
	struct serve s;
	memset(&s, 0, sizeof(s));
	if (scn_parse_file(o->file, &scn, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (check_addresses(scn, addrs) != 0) {
		scn_free(scn);
		return 2;
	}
	struct sy_live_cfg lc = {.seed = o->seed_set ? o->seed : 0,
				 .log_level = o->verbose ? SY_LOG_DEBUG : SY_LOG_INFO,
				 .trace_path = o->trace};
	if (sy_live_create(&lc, &s.live) != SY_OK) {
		fprintf(stderr, "switchyard: cannot start the event loop\n");
		scn_free(scn);
		return 1;
	}
	s.env = sy_live_env(s.live);
	sy_live_handle_signals(s.live);
	const char *out = o->out ? o->out : scn->node.out[0] ? scn->node.out : "out/serve";
	struct vswitch_cfg vc = {.env = s.env, .scn = scn, .listen = scn->node.sip_addr, .out_dir = out,
				 .carrier_addrs = addrs};
	if (vswitch_create(&vc, &s.sw, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "switchyard: %s\n", err);
		sy_live_destroy(s.live);
		scn_free(scn);
		return 1;
	}
	SY_LOG(s.env, SY_LOG_INFO, "serving SIP on udp:%s, %u carriers, CDRs in %s", scn->node.sip, scn->carrier_n,
	       out);
	s.status_timer = sy_env_timer_start(s.env, STATUS_EVERY_NS, status_fire, &s);
	sy_live_run(s.live);
	SY_LOG(s.env, SY_LOG_INFO, "stopping (signal %d): ending calls, flushing CDRs", sy_live_stopped_by(s.live));
	sy_env_timer_cancel(s.env, s.status_timer);
	b2bua_hangup_all(s.sw->b2bua);
	int rc = vswitch_flush(s.sw) == SY_OK ? 0 : 1;
	const struct b2bua_stats *st = b2bua_stats(s.sw->b2bua);
	SY_LOG(s.env, SY_LOG_INFO, "done: attempts=%llu answered=%llu completed=%llu failed=%llu cdrs=%llu lost=%llu",
	       (unsigned long long)st->attempts, (unsigned long long)st->answered,
	       (unsigned long long)st->completed, (unsigned long long)st->failed,
	       (unsigned long long)vswitch_cdrs_written(s.sw), (unsigned long long)vswitch_cdrs_lost(s.sw));
	vswitch_destroy(s.sw);
	sy_live_destroy(s.live);
	scn_free(scn);
	return rc;
}
