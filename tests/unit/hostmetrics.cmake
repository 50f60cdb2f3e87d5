# Unit test of core/hostmetrics/: cgroup fixtures, and NVML through a
# stand-in library (fake_nvml) that the test dlopen()s by path.
if(TARGET hostmetrics)
	add_library(fake_nvml SHARED unit/fake_nvml.c)
	set_target_properties(fake_nvml PROPERTIES LIBRARY_OUTPUT_DIRECTORY
		${CMAKE_CURRENT_BINARY_DIR})
	shmlog_unit_test(test_hostmetrics SOURCES unit/test_hostmetrics.c
		LIBS hostmetrics ${CMAKE_DL_LIBS} m
		ARGS ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/hostmetrics $<TARGET_FILE:fake_nvml>)
	add_dependencies(test_hostmetrics fake_nvml)
endif()
