# Unit tests of tools/ (shmtop's reader and printer).
shmlog_unit_test(test_shmtop SOURCES unit/test_shmtop.c LIBS shmtop_core shm_seg)
shmlog_unit_test(test_shmtop_rate SOURCES unit/test_shmtop_rate.c LIBS shmtop_core)
