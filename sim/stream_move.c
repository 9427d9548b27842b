/* stream_move.c: see stream_move.h. Kept out of stream.c: only the
 * cluster runner (run_nodes.c) moves streams. */
#include "sim/stream_move.h"

#include "sim/sim_int.h"

void sim_stream_move(struct sy_stream *st, struct sim_node *to)
{
	struct sim_end *e = (struct sim_end *)(void *)st;
	SY_ASSERT(to != NULL && to->sim == e->node->sim);
	e->node = to;
}
