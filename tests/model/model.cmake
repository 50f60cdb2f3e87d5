# Model checking of the ring protocol: shm/ring.pml with spin (Debian
# package spin). The script exits 77 (skipped) when spin is not installed.
# Run alone: ctest -L model, or bash tests/model/run_model.sh.
add_test(NAME model_ring_spin
	COMMAND bash ${PROJECT_SOURCE_DIR}/tests/model/run_model.sh ${PROJECT_SOURCE_DIR}/shm/ring.pml)
set_tests_properties(model_ring_spin PROPERTIES LABELS model TIMEOUT 600 SKIP_RETURN_CODE 77)
