/* world_model.c: [model], how fast the simulated switch's host is. The
 * switch is one thread on an event loop; `cpu` gives what its work costs
 * (per datagram received, per datagram sent, per timer callback), `rcvbuf`
 * its UDP receive buffer. The defaults are calibrated from the live switch
 * on the reference machine (docs/operations.md, "Capacity in the
 * simulator"); `cpu = off` is a switch with infinite CPU, as the simulator
 * was before the model. */
#include "core/dist.h"
#include "peers/world.h"

/* "rx 8us tx 5us timer 1us" (any order, each optional) or "off". */
static enum sy_rc k_cpu(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_model *m = obj;
	struct sy_str rest = v, name, val;
	if (sy_str_eq(scn_trim(v), SY_STR("off"))) {
		m->rx_ns = m->tx_ns = m->timer_ns = 0;
		return SY_OK;
	}
	uint64_t got[3] = {m->rx_ns, m->tx_ns, m->timer_ns};
	bool any = false;
	while (scn_next_tok(&rest, &name, false)) {
		int i = sy_str_eq(name, SY_STR("rx"))	   ? 0
			: sy_str_eq(name, SY_STR("tx"))	   ? 1
			: sy_str_eq(name, SY_STR("timer")) ? 2
							   : -1;
		if (i < 0 || !scn_next_tok(&rest, &val, false))
			return scn_fail(c, "expected 'cpu = off' or 'cpu = rx 8us tx 5us timer 1us', got '%.*s'",
					SCN_SV(v));
		if (sy_duration_parse_str(val, &got[i]) != SY_OK || got[i] > SY_NS_PER_S)
			return scn_bad(c, "cost (a duration up to 1s, e.g. 8us)", val, k);
		any = true;
	}
	if (!any)
		return scn_fail(c, "expected 'cpu = off' or 'cpu = rx 8us tx 5us timer 1us', got '%.*s'", SCN_SV(v));
	m->rx_ns = got[0];
	m->tx_ns = got[1];
	m->timer_ns = got[2];
	return SY_OK;
}

/* "50%": the share of one core the switch gets (a cgroup CPU quota, a
 * busier or slower host). Every cost is divided by it when the run starts. */
static enum sy_rc k_share(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_model *m = obj;
	uint32_t ppm;
	if (!scn_parse_pct(scn_trim(v), &ppm) || ppm < 10000)
		return scn_bad(c, "share of a core (1% to 100%, e.g. 50%)", v, k);
	m->share_ppm = ppm;
	return SY_OK;
}

#define MODEL(f) offsetof(struct world_model, f)
static const struct scn_key_def model_keys[] = {
    {"cpu", k_cpu, 0, 0, false},
    {"rcvbuf", scn_key_u64, MODEL(rcvbuf_bytes), 0, false},
    {"share", k_share, 0, 0, false},
};

static void *model_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct world *w = arg;
	return &w->model;
}

const struct scn_sec_def world_model_sec = {
    "model", NULL, model_keys, SY_ARRAY_LEN(model_keys), model_begin, NULL, NULL, false,
};

void world_model_init(struct world_model *m)
{
	m->rx_ns = WORLD_CPU_RX_NS;
	m->tx_ns = WORLD_CPU_TX_NS;
	m->timer_ns = WORLD_CPU_TIMER_NS;
	m->rcvbuf_bytes = WORLD_RCVBUF_BYTES;
	m->share_ppm = 1000000;
}

uint64_t world_model_cost(const struct world_model *m, uint64_t ns)
{
	return (ns * 1000000u + m->share_ppm - 1) / m->share_ppm;
}
