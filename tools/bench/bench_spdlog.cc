// SPDX-License-Identifier: MIT
//
// bench_spdlog: the spdlog peer of `./build.sh bench` (a benchmark, never
// a test; C++ because spdlog is, and built only for the benchmark). The
// async logger (its thread pool: one worker, a queue of QUEUE messages,
// overrun_oldest so that a full queue never blocks the caller, as our
// ring never does) logs the benchmark record, "{} seq={}" with the 64-byte
// message and an int64, at info, N calls on 1 then 2 threads, timed as
// every case is (bench_common.h). Calls go in bursts of half the queue;
// between bursts, untimed, the program waits for the queue to empty (our
// cases wait for the collector the same way). Records lost are the thread
// pool's overrun counter.
//
//   bench_spdlog N file PATH   to a basic_file_sink_mt at PATH
//   bench_spdlog N null        to a null_sink_mt
//
// One JSON object on stdout.
#include <memory>
#include <string>

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "bench_common.h"

#define QUEUE 65536

static std::shared_ptr<spdlog::logger> logger;
static std::shared_ptr<spdlog::details::thread_pool> pool;

static inline int log_one(struct bc_thr *t, uint64_t i)
{
	(void)t;
	logger->info("{} seq={}", bc_body64, (int64_t)i);
	return 0;
}

BC_THREAD(log_thread, log_one)

static void wait_queue(void *ctx)
{
	(void)ctx;
	for (int i = 0; pool->queue_size() > 0 && i < 1000000; i++)
		bc_sleep_us(100);
}

int main(int argc, char **argv)
{
	struct bc_stats one, two[2];
	std::string kind;
	uint64_t n;

	if (argc < 3 || (std::string(argv[2]) == "file" && argc != 4)) {
		fprintf(stderr, "usage: bench_spdlog N file PATH | N null\n");
		return 2;
	}
	n = bc_parse_n(argv[1]);
	kind = argv[2];
	pool = std::make_shared<spdlog::details::thread_pool>(QUEUE, 1);
	if (kind == "file") {
		auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(argv[3], true);
		logger = std::make_shared<spdlog::async_logger>("bench", sink, pool,
								spdlog::async_overflow_policy::overrun_oldest);
	} else {
		auto sink = std::make_shared<spdlog::sinks::null_sink_mt>();
		logger = std::make_shared<spdlog::async_logger>("bench", sink, pool,
								spdlog::async_overflow_policy::overrun_oldest);
	}
	logger->set_level(spdlog::level::info);
	bc_calibrate();
	bc_run(1, n, QUEUE / 2, log_thread, wait_queue, NULL, &one);
	bc_run(2, n, QUEUE / 2, log_thread, wait_queue, NULL, two);
	wait_queue(NULL);
	logger->flush();
	bc_print_case(kind == "file" ? "spdlog_file" : "spdlog_null", n, &one, two);
	printf(",\"queue\":%d,\"lost\":%zu", QUEUE, pool->overrun_counter());
	bc_end_case();
	logger.reset();
	pool.reset();
	return 0;
}
