/* SPDX-License-Identifier: MIT */
/*
 * Formats shmtop snapshots (keys and rules in shmtop_print.h). Everything
 * here is process-local: the reader already bounded and sanitized every
 * value, so this file only does arithmetic that cannot overflow or divide
 * by zero on any input; rates come from shmtop_rate.c. Called by shmtop.c.
 */
#include "shmtop_print.h"

#include <inttypes.h>
#include <stdint.h>
#include <time.h>

#include "shmtop_rate.h"

static double fill_pct(const struct shmtop_ring *r)
{
	return r->slots ? (double)r->used * 100.0 / (double)r->slots : 0;
}

/* Milliseconds from then_ns to now_ns, 0 when then is in the future. */
static uint64_t age_ms(uint64_t now_ns, uint64_t then_ns)
{
	return now_ns > then_ns ? (now_ns - then_ns) / 1000000 : 0;
}

static uint64_t exporter_age_ms(const struct shmtop_snap *s)
{
	uint64_t now_ms = s->now_ns / 1000000;

	return now_ms > s->exp.updated_unix_ms ? now_ms - s->exp.updated_unix_ms : 0;
}

static int ring_idle(const struct shmtop_ring *r)
{
	return r->ok && !r->records && !r->drops && !r->used && !r->invalid && !r->abandoned;
}

/* ---- text ------------------------------------------------------------ */

static void text_rate(FILE *f, double rate)
{
	if (rate < 0)
		fprintf(f, " %9s", "-");
	else
		fprintf(f, " %9.1f", rate);
}

void shmtop_print_text(FILE *f, const struct shmtop_snap *s, const struct shmtop_snap *prev,
		       int all)
{
	const struct exporter_status *e = &s->exp;
	char when[32] = "?";
	time_t t = (time_t)(s->now_ns / 1000000000ull);
	struct tm tm;
	uint32_t hidden = 0;
	double rate;

	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "shmtop  namespace '%s'  %s  epoch %" PRIu64 "\n", s->ns, when, s->epoch);

	fprintf(f, "collector  pid %" PRIu32 " (%s)  heartbeat ", s->coll_pid,
		s->coll_alive ? "running" : "not running");
	if (s->heartbeat_ns)
		fprintf(f, "%" PRIu64 " ms ago", age_ms(s->now_ns, s->heartbeat_ns));
	else
		fprintf(f, "never");
	fprintf(f, "  producers live %" PRIu32 "\n", s->producers_live);
	fprintf(f,
		"           records in %" PRIu64 "  spooled %" PRIu64 "  invalid %" PRIu64
		"  abandoned %" PRIu64 "  lag %" PRIu64 " ms",
		s->records_in, s->records_spooled, s->invalid, s->abandoned, s->lag_ns / 1000000);
	rate = shmtop_rate_total(s, prev);
	if (rate >= 0)
		fprintf(f, "  %.1f rec/s", rate);
	fputc('\n', f);

	fprintf(f, "spool      %s  files %" PRIu64 "  bytes %" PRIu64,
		s->spool_dir[0] ? s->spool_dir : "(unknown)", s->spool_files, s->spool_bytes);
	if (s->spool_logs_now >= 0)
		fprintf(f, "  logs/ now %lld", s->spool_logs_now);
	fprintf(f, "  dropped %" PRIu64 " req / %" PRIu64 " rec\n", s->spool_dropped,
		s->spool_dropped_records);

	fprintf(f,
		"dictionary instruments %" PRIu32 "/%" PRIu32 "  series %" PRIu32 "/%" PRIu32
		"  registrations refused %" PRIu64 "  overflow measurements %" PRIu64 "%s\n",
		s->inst_used, s->inst_max, s->series_used, s->series_max, s->dict_full, s->overflow,
		s->dict_cut ? "  (tables cut short: entries past the file's end not counted)" : "");

	if (!e->present) {
		fprintf(f, "exporter   no status file in the spool\n");
	} else {
		fprintf(f, "exporter   pid %" PRIu32 " (%s)  status %" PRIu64 " ms old  %s %s %s\n",
			e->pid, e->alive ? "running" : "not running", exporter_age_ms(s),
			e->endpoint[0] ? e->endpoint : "files in <spool>/out", e->protocol,
			e->compression);
		if (e->last_http_status > 0)
			fprintf(f, "           last HTTP %lld  %.1f ms", e->last_http_status,
				e->last_latency_ms);
		else
			fprintf(f, "           last HTTP %s",
				e->last_http_status < 0 ? "connection error" : "- (none yet)");
		if (e->last_grpc_status >= 0)
			fprintf(f, "  gRPC status %lld", e->last_grpc_status);
		fprintf(f, "  error %s\n", e->last_error[0] ? e->last_error : "-");
		fprintf(f,
			"           sent %" PRIu64 " req / %" PRIu64 " rec  retries %" PRIu64
			"  dropped %" PRIu64 " req / %" PRIu64 " rec  rejected %" PRIu64
			"  quarantined %" PRIu64 "\n",
			e->sent_requests, e->sent_records, e->retries, e->dropped_requests,
			e->dropped_records, e->rejected_records, e->quarantined_files);
	}

	fprintf(f, "\nRING  FILL%%         USED/SLOTS    RECORDS     REC/S      DROPS    INVALID"
		   "  ABANDONED\n");
	for (uint32_t k = 0; k < s->nrings_read; k++) {
		const struct shmtop_ring *r = &s->rings[k];

		if (!all && ring_idle(r)) {
			hidden++;
			continue;
		}
		fprintf(f, "%4" PRIu32 " %5.1f%% %9" PRIu64 "/%-8" PRIu64 " %10" PRIu64, r->index,
			fill_pct(r), r->used, r->slots, r->records);
		text_rate(f, shmtop_rate_ring(s, prev, k));
		fprintf(f, " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "%s\n", r->drops, r->invalid,
			r->abandoned, r->ok ? "" : "  CORRUPT HEADER");
	}
	if (hidden)
		fprintf(f, "  (%" PRIu32 " idle ring%s not shown)\n", hidden,
			hidden == 1 ? "" : "s");
	if (s->nrings_read < s->nrings)
		fprintf(f, "  (%" PRIu32 " rings beyond the end of the segment file not read)\n",
			s->nrings - s->nrings_read);

	fprintf(f, "\nPRODUCERS %" PRIu32 " of %" PRIu32 " entries", s->nprods, s->max_producers);
	if (s->producers_other)
		fprintf(f, "  (%" PRIu32 " not ready, skipped)", s->producers_other);
	fprintf(f, "\n IDX      PID  ALIVE      DROPS      WAITS    WAIT_MS  EXE              SERVICE\n");
	for (uint32_t i = 0; i < s->nprods; i++) {
		const struct shmtop_producer *p = &s->prods[i];

		fprintf(f, "%4" PRIu32 " %8" PRIu32 "  %-5s %10" PRIu64 " %10" PRIu32 " %10" PRIu32
			"  %-16s %s\n", p->index, p->pid, p->alive ? "yes" : "no", p->drops,
			p->full_waits, p->full_wait_ms, p->exe, p->service);
	}
}

/* ---- JSON ------------------------------------------------------------ */

/* s is valid UTF-8 without control characters (text_clean()), but
 * escape every control character anyway: this file must not trust that. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_rate(FILE *f, double rate)
{
	if (rate < 0)
		fputs("null", f);
	else
		fprintf(f, "%.1f", rate);
}

static void json_bool(FILE *f, int b)
{
	fputs(b ? "true" : "false", f);
}

static void json_rings(FILE *f, const struct shmtop_snap *s, const struct shmtop_snap *prev)
{
	fputs("\"rings\":[", f);
	for (uint32_t k = 0; k < s->nrings_read; k++) {
		const struct shmtop_ring *r = &s->rings[k];

		fprintf(f, "%s{\"index\":%" PRIu32 ",\"ok\":", k ? "," : "", r->index);
		json_bool(f, r->ok);
		fprintf(f,
			",\"slots\":%" PRIu64 ",\"used\":%" PRIu64 ",\"fill_pct\":%.1f"
			",\"records\":%" PRIu64 ",\"rate_per_s\":",
			r->slots, r->used, fill_pct(r), r->records);
		json_rate(f, shmtop_rate_ring(s, prev, k));
		fprintf(f,
			",\"drops\":%" PRIu64 ",\"drop_bytes\":%" PRIu64 ",\"invalid\":%" PRIu64
			",\"abandoned\":%" PRIu64 "}",
			r->drops, r->drop_bytes, r->invalid, r->abandoned);
	}
	fputs("]", f);
}

static void json_producers(FILE *f, const struct shmtop_snap *s)
{
	fputs("\"producers\":[", f);
	for (uint32_t i = 0; i < s->nprods; i++) {
		const struct shmtop_producer *p = &s->prods[i];

		fprintf(f,
			"%s{\"index\":%" PRIu32 ",\"pid\":%" PRIu32 ",\"uid\":%" PRIu32
			",\"alive\":",
			i ? "," : "", p->index, p->pid, p->uid);
		json_bool(f, p->alive);
		fputs(",\"exe\":", f);
		json_str(f, p->exe);
		fputs(",\"service\":", f);
		json_str(f, p->service);
		fputs(",\"container\":", f);
		json_str(f, p->container);
		fprintf(f, ",\"drops\":%" PRIu64 ",\"full_waits\":%" PRIu32
			",\"full_wait_ms\":%" PRIu32 ",\"attached_unix_ms\":%" PRIu64 "}", p->drops,
			p->full_waits, p->full_wait_ms, p->attach_ns / 1000000);
	}
	fprintf(f, "],\"producers_skipped\":%" PRIu32, s->producers_other);
}

static void json_exporter(FILE *f, const struct shmtop_snap *s)
{
	const struct exporter_status *e = &s->exp;

	if (!e->present) {
		fputs("\"exporter\":null", f);
		return;
	}
	fprintf(f, "\"exporter\":{\"pid\":%" PRIu32 ",\"alive\":", e->pid);
	json_bool(f, e->alive);
	fprintf(f, ",\"age_ms\":%" PRIu64 ",\"endpoint\":", exporter_age_ms(s));
	json_str(f, e->endpoint);
	fputs(",\"protocol\":", f);
	json_str(f, e->protocol);
	fputs(",\"compression\":", f);
	json_str(f, e->compression);
	fprintf(f, ",\"last_http_status\":%lld,\"last_error\":", e->last_http_status);
	json_str(f, e->last_error);
	fprintf(f,
		",\"last_latency_ms\":%.1f,\"sent_requests\":%" PRIu64 ",\"sent_records\":%" PRIu64
		",\"retries\":%" PRIu64 ",\"dropped_requests\":%" PRIu64
		",\"dropped_records\":%" PRIu64 ",\"rejected_records\":%" PRIu64
		",\"quarantined_files\":%" PRIu64 ",\"spool_files\":%" PRIu64
		",\"spool_bytes\":%" PRIu64 ",\"last_grpc_status\":%lld}",
		e->last_latency_ms, e->sent_requests, e->sent_records, e->retries,
		e->dropped_requests, e->dropped_records, e->rejected_records, e->quarantined_files,
		e->spool_files, e->spool_bytes, e->last_grpc_status);
}

void shmtop_print_json(FILE *f, const struct shmtop_snap *s, const struct shmtop_snap *prev)
{
	fputs("{\"namespace\":", f);
	json_str(f, s->ns);
	fprintf(f, ",\"time_unix_ms\":%" PRIu64 ",\"rate_window_ms\":", s->now_ns / 1000000);
	if (prev && s->mono_ns > prev->mono_ns)
		fprintf(f, "%" PRIu64, (s->mono_ns - prev->mono_ns) / 1000000);
	else
		fputs("null", f);
	fprintf(f,
		",\"segment\":{\"abi\":\"%" PRIu32 ".%" PRIu32 "\",\"epoch\":%" PRIu64
		",\"created_unix_ms\":%" PRIu64 ",\"ring_slots\":%" PRIu32 ",\"rings\":%" PRIu32
		",\"rings_read\":%" PRIu32 ",\"max_producers\":%" PRIu32 "},",
		s->abi_major, s->abi_minor, s->epoch, s->create_ns / 1000000, s->slots, s->nrings,
		s->nrings_read, s->max_producers);
	json_rings(f, s, prev);
	fputc(',', f);
	json_producers(f, s);
	fprintf(f, ",\"collector\":{\"pid\":%" PRIu32 ",\"alive\":", s->coll_pid);
	json_bool(f, s->coll_alive);
	fputs(",\"heartbeat_age_ms\":", f);
	if (s->heartbeat_ns)
		fprintf(f, "%" PRIu64, age_ms(s->now_ns, s->heartbeat_ns));
	else
		fputs("null", f);
	fprintf(f,
		",\"producers_live\":%" PRIu32 ",\"records_in\":%" PRIu64
		",\"records_spooled\":%" PRIu64 ",\"invalid\":%" PRIu64 ",\"abandoned\":%" PRIu64
		",\"lag_ms\":%" PRIu64 ",\"rate_per_s\":",
		s->producers_live, s->records_in, s->records_spooled, s->invalid, s->abandoned,
		s->lag_ns / 1000000);
	json_rate(f, shmtop_rate_total(s, prev));
	fprintf(f,
		"},\"dictionary\":{\"instruments\":%" PRIu32 ",\"max_instruments\":%" PRIu32
		",\"series\":%" PRIu32 ",\"max_series\":%" PRIu32
		",\"registrations_refused\":%" PRIu64 ",\"overflow_measurements\":%" PRIu64
		",\"complete\":",
		s->inst_used, s->inst_max, s->series_used, s->series_max, s->dict_full, s->overflow);
	json_bool(f, !s->dict_cut);
	fputs("},\"spool\":{\"dir\":", f);
	json_str(f, s->spool_dir);
	fprintf(f,
		",\"files\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"dropped_requests\":%" PRIu64
		",\"dropped_records\":%" PRIu64 ",\"log_files_now\":",
		s->spool_files, s->spool_bytes, s->spool_dropped, s->spool_dropped_records);
	if (s->spool_logs_now >= 0)
		fprintf(f, "%lld", s->spool_logs_now);
	else
		fputs("null", f);
	fputs("},", f);
	json_exporter(f, s);
	fputs("}\n", f);
}
