# Fault tests (issue 4): the real daemons under injected faults, each
# printing ACCOUNT lines (tests/fault/accounting.py). Registered through
# e2e.cmake's shmlog_e2e_test() with the label fault added.
set(FAULT_DIR ${CMAKE_CURRENT_LIST_DIR})

if(NOT COMMAND shmlog_e2e_test OR NOT TARGET e2e_api_producer)
	return()
endif()

# shmlog_fault_test(NAME SCRIPT TIMEOUT [ARGS ...])
function(shmlog_fault_test name script timeout)
	shmlog_e2e_test(${name} ../fault/${script} ${timeout} ${ARGN})
	set_tests_properties(${name} PROPERTIES LABELS "fault")
endfunction()

shmlog_fault_test(fault_exporter_reload fault_exporter_reload.py 150)
shmlog_fault_test(fault_secrets fault_secrets.py 150)
