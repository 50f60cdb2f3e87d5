# Unit tests of core/common (shmlog_common).
shmlog_unit_test(test_crc32c SOURCES unit/test_crc32c.c LIBS shmlog_common)
shmlog_unit_test(test_spool_file SOURCES unit/test_spool_file.c LIBS shmlog_common)
shmlog_unit_test(test_config SOURCES unit/test_config.c LIBS shmlog_common)
shmlog_unit_test(test_config_diff SOURCES unit/test_config_diff.c LIBS shmlog_common)
