/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of shm/seg.c and the ABI layout: create, reuse, attach; a
 * segment of another ABI or with a lying header is refused; and every
 * struct's offsets match the checked-in golden file (argv[1]), so that a
 * layout change shows up in review.
 */
#include "seg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_help.h"

static char ns[64];

static void cleanup(void)
{
	(void)seg_unlink(ns);
}

#define F(st, f) fprintf(out, "%s.%s %zu %zu\n", #st, #f, offsetof(struct st, f), sizeof(((struct st *)0)->f))

static void print_layout(FILE *out)
{
	fprintf(out, "abi %d.%d slot %d\n", SHM_ABI_MAJOR, SHM_ABI_MINOR, SHM_ABI_SLOT_SIZE);
	fprintf(out, "shm_seg_hdr %zu\n", sizeof(struct shm_seg_hdr));
	F(shm_seg_hdr, sh_magic); F(shm_seg_hdr, sh_abi_major); F(shm_seg_hdr, sh_abi_minor);
	F(shm_seg_hdr, sh_hdr_size); F(shm_seg_hdr, sh_endian); F(shm_seg_hdr, sh_seg_size);
	F(shm_seg_hdr, sh_features); F(shm_seg_hdr, sh_state); F(shm_seg_hdr, sh_nrings);
	F(shm_seg_hdr, sh_ring_slots); F(shm_seg_hdr, sh_max_producers);
	F(shm_seg_hdr, sh_max_threads); F(shm_seg_hdr, sh_dead_check_ms);
	F(shm_seg_hdr, sh_prod_off); F(shm_seg_hdr, sh_thr_off); F(shm_seg_hdr, sh_ring_off);
	F(shm_seg_hdr, sh_ring_stride); F(shm_seg_hdr, sh_epoch); F(shm_seg_hdr, sh_create_ns);
	F(shm_seg_hdr, sh_max_instruments); F(shm_seg_hdr, sh_max_series);
	F(shm_seg_hdr, sh_inst_off); F(shm_seg_hdr, sh_series_off);
	F(shm_seg_hdr, sh_heartbeat_ns); F(shm_seg_hdr, sh_collector_pid);
	F(shm_seg_hdr, sh_producers_live); F(shm_seg_hdr, sh_records_in);
	F(shm_seg_hdr, sh_records_spooled); F(shm_seg_hdr, sh_invalid);
	F(shm_seg_hdr, sh_abandoned); F(shm_seg_hdr, sh_spool_files);
	F(shm_seg_hdr, sh_spool_bytes); F(shm_seg_hdr, sh_spool_dropped);
	F(shm_seg_hdr, sh_spool_dropped_records); F(shm_seg_hdr, sh_lag_ns);
	F(shm_seg_hdr, sh_dict_full); F(shm_seg_hdr, sh_overflow);
	F(shm_seg_hdr, sh_drop_noprod);
	F(shm_seg_hdr, sh_wake); F(shm_seg_hdr, sh_spool_dir);
	F(shm_seg_hdr, sh_tsc_seq); F(shm_seg_hdr, sh_tsc_base); F(shm_seg_hdr, sh_tsc_base_ns);
	F(shm_seg_hdr, sh_tsc_mult); F(shm_seg_hdr, sh_tsc_max_delta);
	fprintf(out, "shm_producer %zu\n", sizeof(struct shm_producer));
	F(shm_producer, pe_claim); F(shm_producer, pe_gen); F(shm_producer, pe_pid);
	F(shm_producer, pe_uid); F(shm_producer, pe_ppid); F(shm_producer, pe_start_ticks);
	F(shm_producer, pe_drops); F(shm_producer, pe_drop_nothr); F(shm_producer, pe_attach_ns);
	F(shm_producer, pe_full_waits); F(shm_producer, pe_full_wait_ms);
	F(shm_producer, pe_exe); F(shm_producer, pe_service); F(shm_producer, pe_container);
	F(shm_producer, pe_cmdline); F(shm_producer, pe_res_attrs);
	fprintf(out, "shm_thread %zu\n", sizeof(struct shm_thread));
	F(shm_thread, te_tid); F(shm_thread, te_pid); F(shm_thread, te_start_ticks);
	F(shm_thread, te_producer); F(shm_thread, te_pgen); F(shm_thread, te_ready);
	fprintf(out, "shm_ring_hdr %zu\n", sizeof(struct shm_ring_hdr));
	F(shm_ring_hdr, rh_magic); F(shm_ring_hdr, rh_index); F(shm_ring_hdr, rh_slots);
	F(shm_ring_hdr, rh_shift); F(shm_ring_hdr, rh_hint); F(shm_ring_hdr, rh_drops);
	F(shm_ring_hdr, rh_drop_bytes); F(shm_ring_hdr, rh_tail); F(shm_ring_hdr, rh_cursor);
	F(shm_ring_hdr, rh_records); F(shm_ring_hdr, rh_invalid); F(shm_ring_hdr, rh_abandoned);
	fprintf(out, "shm_rec_hdr %zu\n", sizeof(struct shm_rec_hdr));
	F(shm_rec_hdr, rec_type); F(shm_rec_hdr, rec_severity); F(shm_rec_hdr, rec_flags);
	F(shm_rec_hdr, rec_len); F(shm_rec_hdr, rec_producer); F(shm_rec_hdr, rec_pgen);
	F(shm_rec_hdr, rec_time_ns);
	fprintf(out, "shm_log_hdr %zu\n", sizeof(struct shm_log_hdr));
	F(shm_log_hdr, lg_body_len); F(shm_log_hdr, lg_sevtext_len); F(shm_log_hdr, lg_nattrs);
	F(shm_log_hdr, lg_attrs_len); F(shm_log_hdr, lg_part);
	fprintf(out, "shm_instrument %zu\n", sizeof(struct shm_instrument));
	F(shm_instrument, in_claim); F(shm_instrument, in_kind); F(shm_instrument, in_nbounds);
	F(shm_instrument, in_name); F(shm_instrument, in_unit); F(shm_instrument, in_desc);
	F(shm_instrument, in_bounds);
	fprintf(out, "shm_series %zu\n", sizeof(struct shm_series));
	F(shm_series, se_claim); F(shm_series, se_instrument); F(shm_series, se_attrs_len);
	F(shm_series, se_nattrs); F(shm_series, se_attrs);
	fprintf(out, "shm_metric %zu\n", sizeof(struct shm_metric));
	F(shm_metric, mt_series); F(shm_metric, mt_kind); F(shm_metric, mt_value);
	fprintf(out, "shm_log_trace %zu\n", sizeof(struct shm_log_trace));
	F(shm_log_trace, lt_trace_id); F(shm_log_trace, lt_span_id); F(shm_log_trace, lt_flags);
	fprintf(out, "ctl %llx\n", (unsigned long long)SHM_CTL_MAKE(7, SHM_CTL_PUBLISHED, 3, 5));
}

static void test_golden(const char *golden)
{
	char got[8192], want[8192];
	FILE *f = fmemopen(got, sizeof(got), "w");
	FILE *g;
	size_t n;

	T_ASSERT(f);
	print_layout(f);
	fclose(f);
	if (getenv("SHMLOG_WRITE_GOLDEN")) {
		g = fopen(golden, "w");
		T_ASSERT(g);
		fputs(got, g);
		fclose(g);
	}
	g = fopen(golden, "r");
	T_ASSERT(g);
	n = fread(want, 1, sizeof(want) - 1, g);
	fclose(g);
	want[n] = '\0';
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "layout differs from %s; got:\n%s", golden, got);
		exit(1);
	}
}

static void test_create_attach_reuse(void)
{
	struct seg_geometry g = { .nrings = 3, .ring_slots = 1024, .max_producers = 16,
				  .max_threads = 64, .dead_check_ms = 1000,
				  .max_instruments = 32, .max_series = 128 };
	struct seg a, b, c;
	int reused = -1;

	T_EQ_INT(seg_create(&a, ns, &g, 0600, &reused), 0);
	T_EQ_INT(reused, 0);
	T_EQ_INT(a.replaced[0], 0); /* nothing was there */
	T_EQ_INT(a.nrings, 3);
	T_EQ_INT(a.slots, 1024);
	T_EQ_INT(a.shift, 10);
	seg_ring(&a, 2)->rh_tail = 77; /* state that must survive a reuse */
	T_EQ_INT(seg_attach(&b, ns, 0), 0);
	T_EQ_INT(b.nrings, 3);
	T_EQ_INT(seg_ring(&b, 2)->rh_magic, SHM_RING_MAGIC);
	seg_detach(&b);
	seg_detach(&a);
	T_EQ_INT(seg_create(&c, ns, &g, 0600, &reused), 0);
	T_EQ_INT(reused, 1);
	T_EQ_INT(c.replaced[0], 0);
	T_EQ_INT(seg_ring(&c, 2)->rh_tail, 77);
	seg_detach(&c);
	/* another geometry: replaced, fresh */
	g.ring_slots = 2048;
	T_EQ_INT(seg_create(&c, ns, &g, 0600, &reused), 0);
	T_EQ_INT(reused, 0);
	T_ASSERT(strstr(c.replaced, "other geometry (3 rings of 1024 slots"));
	T_EQ_INT(seg_ring(&c, 2)->rh_tail, 0);
	T_EQ_INT(c.kept[0], 0);
	/* another geometry, but a record not yet spooled at a ring's tail:
	 * kept in its own geometry, the record with it */
	seg_ring(&c, 1)->rh_tail = 5;
	seg_ring_ctl(&c, seg_ring(&c, 1))[5] = SHM_CTL_MAKE(1, SHM_CTL_PUBLISHED, 1, 3);
	g.ring_slots = 4096;
	T_EQ_INT(seg_create(&b, ns, &g, 0600, &reused), 0);
	T_EQ_INT(reused, 1);
	T_EQ_INT(b.slots, 2048);
	T_ASSERT(strstr(b.kept, "3 rings of 2048 slots"));
	T_ASSERT(strstr(b.kept, "0 live producers, 1 rings with records not yet spooled"));
	T_EQ_INT(b.replaced[0], 0);
	seg_detach(&b);
	/* released: nothing is lost, replaced */
	seg_ring_ctl(&c, seg_ring(&c, 1))[5] = SHM_CTL_MAKE(1, SHM_CTL_FREE, 0, 0);
	seg_ring(&c, 1)->rh_tail = 6;
	/* but a live producer (this process) keeps it too */
	seg_producer(&c, 7)->pe_claim = SHM_PE_CLAIM(getpid(), SHM_PE_READY);
	T_EQ_INT(seg_create(&b, ns, &g, 0600, &reused), 0);
	T_EQ_INT(reused, 1);
	T_ASSERT(strstr(b.kept, "1 live producers, 0 rings"));
	seg_detach(&b);
	seg_producer(&c, 7)->pe_claim = 0;
	T_EQ_INT(seg_create(&b, ns, &g, 0600, &reused), 0);
	T_EQ_INT(reused, 0);
	T_EQ_INT(b.slots, 4096);
	T_EQ_INT(b.kept[0], 0);
	seg_detach(&b);
	seg_detach(&c);
}

static void test_refused(void)
{
	struct seg_geometry g = { .nrings = 2, .ring_slots = 1024, .max_producers = 16,
				  .max_threads = 64, .dead_check_ms = 1000,
				  .max_instruments = 32, .max_series = 128 };
	struct seg a, b;
	int reused;

	T_EQ_INT(seg_create(&a, ns, &g, 0600, &reused), 0);
	a.hdr->sh_abi_major = SHM_ABI_MAJOR + 1;
	T_EQ_INT(seg_attach(&b, ns, 1), -EPROTO);
	a.hdr->sh_abi_major = SHM_ABI_MAJOR;
	a.hdr->sh_ring_off += 4096; /* lying offset */
	T_EQ_INT(seg_attach(&b, ns, 1), -EPROTO);
	a.hdr->sh_ring_off -= 4096;
	a.hdr->sh_nrings = 100000; /* beyond the mapping */
	T_EQ_INT(seg_attach(&b, ns, 1), -EPROTO);
	a.hdr->sh_nrings = 2;
	a.hdr->sh_ring_slots = 1000; /* not a power of two */
	T_EQ_INT(seg_attach(&b, ns, 1), -EPROTO);
	a.hdr->sh_ring_slots = 1024;
	a.hdr->sh_state = SHM_SEG_INIT;
	T_EQ_INT(seg_attach(&b, ns, 1), -EAGAIN);
	a.hdr->sh_magic = 0; /* still zero: being built */
	T_EQ_INT(seg_attach(&b, ns, 1), -EAGAIN);
	a.hdr->sh_magic = 0x4b4e554a; /* junk is junk whatever its state */
	T_EQ_INT(seg_attach(&b, ns, 1), -EPROTO);
	a.hdr->sh_magic = SHM_ABI_MAGIC;
	a.hdr->sh_abi_major = SHM_ABI_MAJOR + 1;
	T_EQ_INT(seg_attach(&b, ns, 1), -EPROTO);
	a.hdr->sh_abi_major = SHM_ABI_MAJOR;
	a.hdr->sh_state = SHM_SEG_READY;
	T_EQ_INT(seg_attach(&b, ns, 1), 0);
	seg_detach(&b);
	/* a stale segment of another ABI is replaced by the collector */
	a.hdr->sh_abi_major = 99;
	T_EQ_INT(seg_create(&b, ns, &g, 0600, &reused), 0);
	T_EQ_INT(reused, 0);
	T_ASSERT(strstr(b.replaced, "ABI 99."));
	T_EQ_INT(b.hdr->sh_abi_major, SHM_ABI_MAJOR);
	seg_detach(&b);
	seg_detach(&a);
	/* bad magic, a truncated one, one never finished: each replaced, said */
	T_EQ_INT(seg_create(&a, ns, &g, 0600, &reused), 0);
	a.hdr->sh_magic = 0xdeadbeef;
	T_EQ_INT(seg_create(&b, ns, &g, 0600, &reused), 0);
	T_ASSERT(strstr(b.replaced, "bad magic 0xdeadbeef"));
	seg_detach(&a);
	b.hdr->sh_state = SHM_SEG_INIT;
	T_EQ_INT(seg_create(&a, ns, &g, 0600, &reused), 0);
	T_ASSERT(strstr(a.replaced, "never finished"));
	seg_detach(&b);
	{
		char path[128];

		snprintf(path, sizeof(path), "/dev/shm/shmlog-%s", ns);
		T_EQ_INT(truncate(path, 8192), 0);
		T_EQ_INT(seg_create(&b, ns, &g, 0600, &reused), 0);
		T_ASSERT(strstr(b.replaced, "corrupt or truncated (8192 bytes"));
		seg_detach(&b);
		T_EQ_INT(truncate(path, 100), 0);
		T_EQ_INT(seg_create(&b, ns, &g, 0600, &reused), 0);
		T_ASSERT(strstr(b.replaced, "truncated: 100 bytes"));
		T_EQ_INT(reused, 0);
		seg_detach(&b);
	}
	seg_detach(&a);
	T_EQ_INT(seg_attach(&b, "no-such-namespace-xyz", 0), -ENOENT);
	T_EQ_INT(seg_attach(&b, "bad/name", 0), -EINVAL);
	T_EQ_INT(seg_attach(&b, "", 0), -EINVAL);
}

int main(int argc, char **argv)
{
	snprintf(ns, sizeof(ns), "test-seg-%d", (int)getpid());
	atexit(cleanup);
	T_ASSERT(argc > 1);
	T_RUN(test_create_attach_reuse);
	T_RUN(test_refused);
	test_golden(argv[1]);
	fprintf(stderr, "ok test_golden\n");
	return 0;
}
