# Unit tests of tools/ (shmtop's reader and printer).
shmlog_unit_test(test_shmtop SOURCES unit/test_shmtop.c LIBS shmtop_core shm_seg)
