# Unit tests of shm/ and core/ modules.
shmlog_unit_test(test_line_split SOURCES unit/test_line_split.c ../shm/line_split.c)
target_include_directories(test_line_split PRIVATE ${PROJECT_SOURCE_DIR}/shm)
shmlog_unit_test(test_utf8 SOURCES unit/test_utf8.c LIBS collector_core)
shmlog_unit_test(test_seg SOURCES unit/test_seg.c LIBS shm_seg
	ARGS ${CMAKE_CURRENT_SOURCE_DIR}/unit/abi_layout.golden)
shmlog_unit_test(test_ring SOURCES unit/test_ring.c LIBS collector_core otlp_proto shmlog
	Threads::Threads TIMEOUT 180)
target_include_directories(test_ring PRIVATE ${PROJECT_SOURCE_DIR}/shm)
shmlog_unit_test(test_tsc SOURCES unit/test_tsc.c LIBS collector_core shmlog)
shmlog_unit_test(test_producers SOURCES unit/test_producers.c LIBS collector_core otlp_proto)
shmlog_unit_test(test_log_batch SOURCES unit/test_log_batch.c LIBS collector_core otlp_proto)
shmlog_unit_test(test_multiline SOURCES unit/test_multiline.c ../shm/multiline.c
	../shm/line_split.c)
target_include_directories(test_multiline PRIVATE ${PROJECT_SOURCE_DIR}/shm)
shmlog_unit_test(test_exc_parse SOURCES unit/test_exc_parse.c LIBS collector_core)
shmlog_unit_test(test_identity SOURCES unit/test_identity.c LIBS collector_core)
shmlog_unit_test(test_audit SOURCES unit/test_audit.c LIBS collector_core otlp_proto)
shmlog_unit_test(test_spool_writer SOURCES unit/test_spool_writer.c LIBS collector_core otlp_proto)
# The full-ring slow path of libshmlog (SHMLOG_ON_FULL), on its own.
shmlog_unit_test(test_lib_full SOURCES unit/test_lib_full.c ../shm/lib_full.c LIBS shm_seg
	Threads::Threads)
target_include_directories(test_lib_full PRIVATE ${PROJECT_SOURCE_DIR}/shm)
# The drain against what a hostile producer writes (tests/fault/fault_hostile.py).
shmlog_unit_test(test_drain SOURCES unit/test_drain.c LIBS collector_core otlp_proto)
target_include_directories(test_drain PRIVATE ${PROJECT_SOURCE_DIR}/shm)
