# Unit tests of exporter/ (one per module). Paths are relative to tests/.
set(EXP ../exporter)

shmlog_unit_test(test_retry SOURCES unit/test_retry.c ${EXP}/retry.c LIBS shmlog_common)
target_include_directories(test_retry PRIVATE ${PROJECT_SOURCE_DIR}/exporter)

shmlog_unit_test(test_endpoint SOURCES unit/test_endpoint.c ${EXP}/endpoint.c)
target_include_directories(test_endpoint PRIVATE ${PROJECT_SOURCE_DIR}/exporter)

shmlog_unit_test(test_compress SOURCES unit/test_compress.c ${EXP}/compress.c
	LIBS shmlog_common PkgConfig::ZSTD PkgConfig::ZLIB)
target_include_directories(test_compress PRIVATE ${PROJECT_SOURCE_DIR}/exporter)

shmlog_unit_test(test_json_encode SOURCES unit/test_json_encode.c ${EXP}/json_encode.c
	${EXP}/json_metrics.c ${EXP}/json_buf.c LIBS shmlog_common otlp_proto)
target_include_directories(test_json_encode PRIVATE ${PROJECT_SOURCE_DIR}/exporter)

shmlog_unit_test(test_response SOURCES unit/test_response.c ${EXP}/response.c
	LIBS shmlog_common otlp_proto)
target_include_directories(test_response PRIVATE ${PROJECT_SOURCE_DIR}/exporter)

# gRPC framing, status, RetryInfo; links exporter_core for compress.c,
# response.c and request_body.c around it.
shmlog_unit_test(test_grpc_frame SOURCES unit/test_grpc_frame.c LIBS exporter_core)

# These two drive the whole exporter context (exporter_core).
shmlog_unit_test(test_http_send SOURCES unit/test_http_send.c LIBS exporter_core Threads::Threads
	TIMEOUT 120)
shmlog_unit_test(test_exporter SOURCES unit/test_exporter.c LIBS exporter_core)
