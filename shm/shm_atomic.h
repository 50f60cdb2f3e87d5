/* SPDX-License-Identifier: MIT */
/*
 * The only way shared words are accessed: explicit C11 atomics on plain
 * integer fields of the shared structs (shm_abi.h). Each caller comments
 * which release its acquire pairs with.
 */
#ifndef SHM_SHM_ATOMIC_H
#define SHM_SHM_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

#define shm_load_relaxed(p) atomic_load_explicit((_Atomic __typeof__(*(p)) *)(p), memory_order_relaxed)
#define shm_load_acquire(p) atomic_load_explicit((_Atomic __typeof__(*(p)) *)(p), memory_order_acquire)
#define shm_store_relaxed(p, v) atomic_store_explicit((_Atomic __typeof__(*(p)) *)(p), (v), memory_order_relaxed)
#define shm_store_release(p, v) atomic_store_explicit((_Atomic __typeof__(*(p)) *)(p), (v), memory_order_release)
#define shm_add_relaxed(p, v) atomic_fetch_add_explicit((_Atomic __typeof__(*(p)) *)(p), (v), memory_order_relaxed)
#define shm_fence_seq_cst() atomic_thread_fence(memory_order_seq_cst)

/* Strong CAS with acq_rel on success (the claim orders our later payload
 * stores after it and sees the collector's release of the slot), acquire
 * on failure (we then read the winner's word). */
#define shm_cas(p, expp, desired)                                                          \
	atomic_compare_exchange_strong_explicit((_Atomic __typeof__(*(p)) *)(p), (expp),     \
						(desired), memory_order_acq_rel,              \
						memory_order_acquire)

#endif
