# Fault tests (issue 4): the real daemons against faults -- a receiver that
# is down, throttles, resets, stalls or refuses; a full spool disk -- each
# printing ACCOUNT lines and asserting delivered + dropped_counted ==
# published (tests/fault/accounting.py). Python scripts over
# tests/e2e/harness.py, run through shmlog_e2e_test() (e2e.cmake), with
# the label fault instead of e2e.
set(FAULT_DIR ${CMAKE_CURRENT_LIST_DIR})

if(NOT COMMAND shmlog_e2e_test OR NOT TARGET e2e_api_producer)
	message(STATUS "fault tests: the e2e helper is not available, not registered")
	return()
endif()

# shmlog_fault_test(NAME SCRIPT TIMEOUT [ARGS ...]): a script of tests/fault.
function(shmlog_fault_test name script timeout)
	shmlog_e2e_test(${name} ../fault/${script} ${timeout} ${ARGN})
	set_tests_properties(${name} PROPERTIES LABELS fault)
endfunction()

shmlog_fault_test(fault_receiver_outage fault_receiver.py 150 ARGS --case outage)
shmlog_fault_test(fault_receiver_errors fault_receiver.py 150 ARGS --case errors)
shmlog_fault_test(fault_spool_full fault_spool_full.py 150)
