/* stream_move.h: handing an open stream's end to another simulated host. */
#ifndef SIM_STREAM_MOVE_H
#define SIM_STREAM_MOVE_H

#include "core/env.h"
#include "sim/sim.h"

/* Moves the end st (an accepted or connected stream, open) to host `to`:
 * from now on its segments leave from `to` (its links, its CPU), arrive
 * there, and its crash closes it. Its addresses stay: in one process, a
 * connection handed from one event loop to another keeps its socket. What
 * was already in flight towards it arrives as it was scheduled. */
void sim_stream_move(struct sy_stream *st, struct sim_node *to);

#endif
