/* fraud_sim.h: [attack] sections in a simulator run (fraud_sim.c): their
 * hosts and peers, the evaluator (fraud_eval.h), and the run with fraud
 * off behind `fraud.normal_asr_delta`. Called by run.c and report.c. */
#ifndef SIM_FRAUD_SIM_H
#define SIM_FRAUD_SIM_H

#include "fraud_eval.h"

struct sim_run;

/* Before the switch and its fraud component are built: the evaluator
 * (when the scenario has attacks), its CDR feed and its decision observer
 * (r->fraud_on_decision, run_fraud.c's seam). */
enum sy_rc sim_attacks_init(struct sim_run *r, char *err, size_t errlen);
/* After the callers and applications: the attacks' hosts and peers. */
enum sy_rc sim_attacks_create(struct sim_run *r, char *err, size_t errlen);
void sim_attacks_start(struct sim_run *r);
void sim_attacks_hangup(struct sim_run *r);
bool sim_attacks_busy(const struct sim_run *r);
/* When the last attack's traffic stops (virtual ns; 0 = none). */
uint64_t sim_attacks_end(const struct sim_run *r);
void sim_attacks_destroy(struct sim_run *r);

/* The figures as metrics (running the scenario again with fraud off
 * first when an [expect] line names fraud.normal_asr_*). */
void sim_attacks_metrics(struct sim_run *r, feval_put_fn put, void *arg);
void sim_attacks_text(struct sim_run *r, FILE *f);

#endif
