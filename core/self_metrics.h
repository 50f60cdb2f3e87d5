/* SPDX-License-Identifier: MIT */
/*
 * The agent's own metrics, exported like any other under its own resource
 * (service.name from [resource] service_name): records read, invalid,
 * abandoned and refused (identity check); producers refused; audit
 * events emitted and suppressed; records dropped per ring and per
 * producer; dictionary use and refusals; overflow measurements; spool bytes, files and budget
 * drops; and, from <spool>/exporter.status, requests by outcome, retries
 * and the export latency histogram. Collector thread only.
 */
#ifndef CORE_SELF_METRICS_H
#define CORE_SELF_METRICS_H

#include <stdint.h>

struct collector;

/* Samples every figure into c->metrics at now_ns (CLOCK_REALTIME). */
void self_metrics_sample(struct collector *c, uint64_t now_ns);

#endif
