# Fault tests (issue 4): the real daemons and producers under faults --
# daemons SIGKILLed and restarted, stale segments, corrupt spool files.
# Python scripts on tests/e2e/harness.py; each prints its ACCOUNT line
# (accounting.py) and checks delivered + counted drops == published.
# Label fault; they skip (77) without tests/e2e/node_modules.
set(FAULT_DIR ${CMAKE_CURRENT_LIST_DIR})

if(TARGET shmlog)
	add_executable(fault_producer ${FAULT_DIR}/fault_producer.c)
	target_include_directories(fault_producer PRIVATE ${PROJECT_SOURCE_DIR}/shm)
	target_link_libraries(fault_producer PRIVATE shmlog)
	set_target_properties(fault_producer PROPERTIES
		RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fault)
endif()

find_program(SHMLOG_NODE node)
find_program(SHMLOG_PYTHON3 python3)
if(NOT SHMLOG_NODE OR NOT SHMLOG_PYTHON3 OR NOT TARGET e2e_api_producer)
	message(STATUS "fault tests: node, python3 or the e2e workloads missing, not registered")
	return()
endif()

# shmlog_fault_test(NAME SCRIPT TIMEOUT [PROCESSORS n] [ARGS ...]): as
# shmlog_e2e_test() (the harness stops itself 15 s before TIMEOUT), plus
# --fault-producer.
function(shmlog_fault_test name script timeout)
	cmake_parse_arguments(T "" "PROCESSORS" "ARGS" ${ARGN})
	math(EXPR deadline "${timeout} - 15")
	add_test(NAME ${name} COMMAND ${SHMLOG_PYTHON3} ${FAULT_DIR}/${script}
		--build ${CMAKE_BINARY_DIR} --src ${PROJECT_SOURCE_DIR}
		--api-producer $<TARGET_FILE:e2e_api_producer>
		--metrics-producer $<TARGET_FILE:e2e_metrics_producer>
		--fault-producer $<TARGET_FILE:fault_producer> --deadline ${deadline} ${T_ARGS})
	if(NOT T_PROCESSORS)
		set(T_PROCESSORS 1)
	endif()
	set_tests_properties(${name} PROPERTIES LABELS fault TIMEOUT ${timeout}
		SKIP_RETURN_CODE 77 PROCESSORS ${T_PROCESSORS})
endfunction()

shmlog_fault_test(fault_daemon_kill fault_daemon_kill.py 240 PROCESSORS 2)
shmlog_fault_test(fault_stale_segment fault_stale_segment.py 120)
shmlog_fault_test(fault_spool_corrupt fault_spool_corrupt.py 120)
