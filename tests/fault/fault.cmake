# Fault tests (issue 4): each a Python 3 script on tests/e2e/harness.py that
# counts records published, delivered and counted as dropped, prints one
# ACCOUNT line per case and asserts that they add up (accounting.py).
# Label fault; the harness stops itself 15 s before the CTest TIMEOUT.
set(FAULT_DIR ${CMAKE_CURRENT_LIST_DIR})

find_program(SHMLOG_FAULT_PYTHON3 python3)
if(NOT SHMLOG_FAULT_PYTHON3 OR NOT TARGET e2e_api_producer)
	message(STATUS "fault tests: python3 or the e2e workloads missing, not registered")
	return()
endif()

# shmlog_fault_test(NAME SCRIPT TIMEOUT [PROCESSORS n] [ARGS ...])
function(shmlog_fault_test name script timeout)
	cmake_parse_arguments(T "" "PROCESSORS" "ARGS" ${ARGN})
	math(EXPR deadline "${timeout} - 15")
	add_test(NAME ${name} COMMAND ${SHMLOG_FAULT_PYTHON3} ${FAULT_DIR}/${script}
		--build ${CMAKE_BINARY_DIR} --src ${PROJECT_SOURCE_DIR}
		--api-producer $<TARGET_FILE:e2e_api_producer>
		--metrics-producer $<TARGET_FILE:e2e_metrics_producer> --deadline ${deadline} ${T_ARGS})
	if(NOT T_PROCESSORS)
		set(T_PROCESSORS 1)
	endif()
	set_tests_properties(${name} PROPERTIES LABELS fault TIMEOUT ${timeout}
		SKIP_RETURN_CODE 77 PROCESSORS ${T_PROCESSORS})
endfunction()

# Item 3: a hostile producer writes random bytes into ring slots, control
# words, the producer table and the metric dictionary while honest
# producers run. With the ASan build's collector too, when build-asan/ has
# one (the release libshmlog for the producers).
add_executable(fault_hostile_producer ${FAULT_DIR}/workloads/hostile_producer.c)
target_link_libraries(fault_hostile_producer PRIVATE shm_seg)
set_target_properties(fault_hostile_producer PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fault)
shmlog_fault_test(fault_hostile fault_hostile.py 200 PROCESSORS 2
	ARGS --hostile $<TARGET_FILE:fault_hostile_producer>)

# Item 7: SHMLOG_ON_FULL=drop | wait:<ms> with a collector stopped by
# SIGSTOP (fault_bp_producer logs through the C API, never retrying).
add_executable(fault_bp_producer ${FAULT_DIR}/workloads/bp_producer.c)
target_link_libraries(fault_bp_producer PRIVATE shmlog)
set_target_properties(fault_bp_producer PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fault)
shmlog_fault_test(fault_backpressure fault_backpressure.py 120
	ARGS --bp-producer $<TARGET_FILE:fault_bp_producer>)
