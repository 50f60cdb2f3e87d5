/* SPDX-License-Identifier: MIT */
/*
 * shmtop's output: a snapshot (shmtop_read.h) as a screen of text or as
 * one JSON object. Rates need two snapshots of the same segment: prev is
 * the earlier one, or NULL (rates are then unknown: "-" / null).
 *
 * JSON keys (also in shmtop --help):
 *   namespace, time_unix_ms, rate_window_ms (null without prev)
 *   segment   {abi, epoch, created_unix_ms, ring_slots, rings, rings_read,
 *              max_producers}
 *   rings     [{index, ok, slots, used, fill_pct, records, rate_per_s,
 *               drops, drop_bytes, invalid, abandoned}]    every ring read
 *   producers [{index, pid, uid, alive, exe, service, container, drops,
 *               attached_unix_ms}]                         READY entries
 *   producers_skipped   entries taken but not READY, or changing
 *   collector {pid, alive, heartbeat_age_ms (null: never), producers_live,
 *              records_in, records_spooled, invalid, abandoned, lag_ms,
 *              rate_per_s}
 *   dictionary {instruments, max_instruments, series, max_series,
 *              registrations_refused, overflow_measurements, complete}
 *              instruments / series: entries taken (claim word non-zero);
 *              registrations_refused: sh_dict_full (dictionary full);
 *              overflow_measurements: sh_overflow (put in overflow series);
 *              complete: false when part of a table lies past the file's end
 *   spool     {dir, files, bytes, dropped_requests, dropped_records,
 *              log_files_now (null: unreadable)}
 *   exporter  null (no status file) or {pid, alive, age_ms, endpoint,
 *              protocol, compression, last_http_status, last_error,
 *              last_latency_ms, sent_requests, sent_records, retries,
 *              dropped_requests, dropped_records, rejected_records,
 *              quarantined_files, spool_files, spool_bytes}
 * Strings are valid UTF-8 (the reader replaced anything else by '?').
 * Called from shmtop's main thread; not thread-safe (writes to f).
 */
#ifndef TOOLS_SHMTOP_PRINT_H
#define TOOLS_SHMTOP_PRINT_H

#include <stdio.h>

#include "shmtop_read.h"

/* Text for a terminal or a log. Rings with no record, drop or fill are
 * listed only when all is set (a count of the hidden ones is printed). */
void shmtop_print_text(FILE *f, const struct shmtop_snap *cur, const struct shmtop_snap *prev,
		       int all);

/* One JSON object and a newline; keys above. */
void shmtop_print_json(FILE *f, const struct shmtop_snap *cur, const struct shmtop_snap *prev);

#endif
