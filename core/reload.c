/* SPDX-License-Identifier: MIT */
/*
 * SIGHUP configuration reload (see reload.h). One table lists every
 * collector key with its field and whether it can change live; the live
 * ones are read afresh by the loop at each use (schedule delay, batch
 * limits, poll interval, export and sample intervals, audit switches),
 * and the log level is set by config_load() itself.
 */
#include "reload.h"

#include "config_diff.h"

#define K(n, f, l) CONFIG_DIFF_KEY(n, f, l)

static const struct config_diff_key reload_keys[] = {
	K("log.level", log_level, 1),
	K("collector.schedule_delay_ms", coll_schedule_delay_ms, 1),
	K("collector.max_export_batch_size", coll_max_batch, 1),
	K("collector.max_batch_bytes", coll_max_batch_bytes, 1),
	K("collector.high_water_pct", coll_high_water_pct, 1),
	K("collector.poll_max_ms", coll_poll_max_ms, 1),
	K("collector.audit_events", coll_audit_events, 1),
	K("collector.audit_interval_ms", coll_audit_interval_ms, 1),
	K("collector.verify_producers", coll_verify_producers, 1),
	K("collector.unverifiable_producers", coll_unverifiable, 1),
	K("metrics.export_interval_ms", met_export_interval_ms, 1),
	K("metrics.sample_interval_ms", met_sample_interval_ms, 1),
	K("shm.namespace", shm_namespace, 0),
	K("shm.ring_slots", shm_ring_slots, 0),
	K("shm.max_producers", shm_max_producers, 0),
	K("shm.max_threads", shm_max_threads, 0),
	K("shm.dead_check_ms", shm_dead_check_ms, 0),
	K("shm.max_instruments", shm_max_instruments, 0),
	K("shm.max_series", shm_max_series, 0),
	K("spool.dir", spool_dir, 0),
	K("spool.max_bytes", spool_max_bytes, 0),
	K("resource.attributes", res_attributes, 0),
	K("resource.host_name", res_host_name, 0),
	K("resource.service_name", service_name, 0),
	K("metrics.temporality", met_temporality, 0),
	K("metrics.grouping", met_grouping, 0),
	K("metrics.cardinality_limit", met_cardinality_limit, 0),
	K("metrics.host_metrics", met_host_metrics, 0),
	K("metrics.naming", met_naming, 0),
	K("metrics.container_id", met_container_id, 0),
	K("metrics.environment_name", met_environment_name, 0),
	K("metrics.workspace_name", met_workspace_name, 0),
	K("metrics.cgroup_root", met_cgroup_root, 0),
	K("metrics.proc_root", met_proc_root, 0),
	K("metrics.nvml_library", met_nvml_library, 0),
};

#define RELOAD_NKEYS (sizeof(reload_keys) / sizeof(reload_keys[0]))

int reload_diff(const struct shmlog_config *old, const struct shmlog_config *nc, char *changed,
		size_t changedlen, char *restart, size_t restartlen)
{
	return config_diff(reload_keys, RELOAD_NKEYS, old, nc, changed, changedlen, restart,
			   restartlen);
}

void reload_apply(struct shmlog_config *running, const struct shmlog_config *nc)
{
	config_diff_copy(reload_keys, RELOAD_NKEYS, running, nc, 1);
}
