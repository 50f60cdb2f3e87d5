# Fault tests (issue 4): producers killed and stopped, partial records, a
# full producer table; daemons SIGKILLed and restarted, stale segments,
# corrupt spool files; a receiver that is down, throttles, resets, stalls
# or refuses; a full spool disk. Each is a Python script on
# tests/e2e/harness.py that prints ACCOUNT lines and checks delivered +
# counted drops == published (accounting.py; README.md has the table). Label `fault`; exit 77 (skip) only without
# tests/e2e/node_modules.
set(FAULT_DIR ${CMAKE_CURRENT_LIST_DIR})

if(NOT TARGET shmlog)
	return()
endif()
add_executable(fault_writer ${FAULT_DIR}/workloads/fault_writer.c)
target_link_libraries(fault_writer PRIVATE shmlog shm_seg)
set_target_properties(fault_writer PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fault)

find_program(SHMLOG_NODE node)
find_program(SHMLOG_PYTHON3 python3)
# accounting.py itself against a fake Env: needs neither node nor daemons.
if(SHMLOG_PYTHON3)
	add_test(NAME fault_accounting_selftest
		COMMAND ${SHMLOG_PYTHON3} ${FAULT_DIR}/accounting_selftest.py)
	set_tests_properties(fault_accounting_selftest PROPERTIES LABELS fault TIMEOUT 30)
endif()
if(NOT SHMLOG_NODE OR NOT SHMLOG_PYTHON3 OR NOT TARGET e2e_api_producer)
	message(STATUS "fault tests: node, python3 or the e2e workloads missing, not registered")
	return()
endif()

# shmlog_fault_test(NAME SCRIPT TIMEOUT [PROCESSORS n] [ARGS ...]): as
# shmlog_e2e_test() in tests/e2e/e2e.cmake, plus --fault-writer (the one
# fault workload, workloads/fault_writer.c, all its modes); the
# harness stops itself 15 s before TIMEOUT so that it can still clean up.
# With SHMLOG_E2E_RELEASE_DIR (the ASan+UBSan run of build.sh test) the
# daemons are this build's and every producer -- the preloaded library,
# the e2e workloads (E2E_PRODUCERS, e2e.cmake) and the fault workloads --
# the release build's: an ASan program or library cannot be preloaded.
if(SHMLOG_E2E_RELEASE_DIR)
	set(FAULT_BIN ${SHMLOG_E2E_RELEASE_DIR}/tests/fault)
	set(FAULT_WRITER ${FAULT_BIN}/fault_writer)
	set(FAULT_HOSTILE ${FAULT_BIN}/fault_hostile_producer)
	set(FAULT_BP ${FAULT_BIN}/fault_bp_producer)
else()
	set(FAULT_WRITER $<TARGET_FILE:fault_writer>)
	set(FAULT_HOSTILE $<TARGET_FILE:fault_hostile_producer>)
	set(FAULT_BP $<TARGET_FILE:fault_bp_producer>)
endif()

function(shmlog_fault_test name script timeout)
	cmake_parse_arguments(T "" "PROCESSORS" "ARGS" ${ARGN})
	math(EXPR deadline "${timeout} - 15")
	add_test(NAME ${name} COMMAND ${SHMLOG_PYTHON3} ${FAULT_DIR}/${script}
		--build ${CMAKE_BINARY_DIR} --src ${PROJECT_SOURCE_DIR}
		${E2E_PRODUCERS} --fault-writer ${FAULT_WRITER} --deadline ${deadline} ${T_ARGS})
	if(NOT T_PROCESSORS)
		set(T_PROCESSORS 1)
	endif()
	set_tests_properties(${name} PROPERTIES LABELS fault TIMEOUT ${timeout}
		SKIP_RETURN_CODE 77 PROCESSORS ${T_PROCESSORS})
endfunction()

shmlog_fault_test(fault_producer_kill fault_producer_kill.py 180 PROCESSORS 2)
shmlog_fault_test(fault_producer_stop fault_producer_stop.py 120)
shmlog_fault_test(fault_partial_record fault_partial_record.py 90)
shmlog_fault_test(fault_producer_table fault_producer_table.py 90)
shmlog_fault_test(fault_daemon_kill fault_daemon_kill.py 240 PROCESSORS 2)
shmlog_fault_test(fault_stale_segment fault_stale_segment.py 120)
shmlog_fault_test(fault_spool_corrupt fault_spool_corrupt.py 120)
shmlog_fault_test(fault_receiver_outage fault_receiver.py 150 ARGS --case outage)
shmlog_fault_test(fault_receiver_errors fault_receiver.py 150 ARGS --case errors)
shmlog_fault_test(fault_spool_full fault_spool_full.py 150)
shmlog_fault_test(fault_exporter_reload fault_exporter_reload.py 150)
shmlog_fault_test(fault_secrets fault_secrets.py 150)

# Item 3: a hostile producer writes random bytes into ring slots, control
# words, the producer table and the metric dictionary while honest
# producers run. With the ASan build's collector too, when build-asan/ has
# one (the release libshmlog for the producers).
add_executable(fault_hostile_producer ${FAULT_DIR}/workloads/hostile_producer.c)
target_link_libraries(fault_hostile_producer PRIVATE shm_seg)
set_target_properties(fault_hostile_producer PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fault)
shmlog_fault_test(fault_hostile fault_hostile.py 200 PROCESSORS 2
	ARGS --hostile ${FAULT_HOSTILE})

# Item 7: SHMLOG_ON_FULL=drop | wait:<ms> with a collector stopped by
# SIGSTOP (fault_bp_producer logs through the C API, never retrying).
add_executable(fault_bp_producer ${FAULT_DIR}/workloads/bp_producer.c)
target_link_libraries(fault_bp_producer PRIVATE shmlog)
set_target_properties(fault_bp_producer PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fault)
shmlog_fault_test(fault_backpressure fault_backpressure.py 120
	ARGS --bp-producer ${FAULT_BP})
