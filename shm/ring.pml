/*
 * shm/ring.pml: Promela model of the shmlog ring protocol ("claim with
 * owner", RING.md design A, with a hint instead of a CASed head), as
 * described at the top of shm/shm_abi.h. Checked by spin in CI through
 * tests/model/run_model.sh; change this model and the C code together.
 *
 * What is checked (RING.md):
 *   S1  the collector exports a record only if every slot of it holds what
 *       its owner wrote for that record (never torn, partial, foreign, or
 *       last lap's): assertion in Collector, step "consume".
 *   S2  a slot belongs to one writer from the claim until the collector
 *       releases it; a writer only ever writes slots it holds (a late or
 *       resumed writer never scribbles on a recycled slot): ghost holder[],
 *       assertions at the claim (CAS) and at every payload store.
 *   L1  (-DLIVENESS, pan -a -f) with writers that may die anywhere but do
 *       not stop, the collector eventually consumes or skips every claimed
 *       record and releases the whole ring: ltl L1 below.
 * Not checked: S3 (the spool is not modelled: "release" may happen any time
 * after consumption, which is the weaker assumption), S4, memory ordering
 * (spin is sequentially consistent: every shared access is one atomic step,
 * so this models the acquire/release orders of the C code, not weaker ones).
 *
 * Bounds: a ring of N = 4 slots, W writers (default 3), each writing R
 * records (default 2) of 1 or 2 slots (chosen nondeterministically), so up
 * to 12 positions = 3 laps: the ring wraps at least twice and a writer that
 * resumes late meets words of a later lap (ABA). Positions are free-running
 * small integers, lap(pos) = pos / N + 1, exactly as in the C code.
 *
 * Each shared-memory access of the C code is one atomic step here. Steps
 * that touch only local variables are merged into a neighbouring d_step;
 * that is sound because nothing else can observe them.
 *
 * Bug variants (each must make spin report an error; see run_model.sh):
 *   BUG_FETCH_ADD      positions are taken by fetch_add on a head counter, the
 *                      owner is written after it: a full ring or a death in
 *                      that window leaves an ownerless hole -> L1 fails.
 *   BUG_NO_LAP         control words carry no lap (ABA) -> S1/S2 fail.
 *   BUG_SKIP_STOPPED   the collector treats a stopped writer's claim as
 *                      abandoned (cannot tell dead from stopped) -> S2 fails.
 *   BUG_NO_FULL_CHECK  the claim checks only the first slot's word, not the
 *                      free space against tail -> S2 fails.
 *   BUG_EARLY_PUBLISH  publish before the payload stores -> S1 fails.
 */

#ifndef W
#define W 3             /* writers */
#endif
#ifndef R
#define R 2             /* records per writer */
#endif
#define N 4             /* slots in the ring (rh_slots) */
#ifndef MAXSPIN
#define MAXSPIN 2       /* stale-hint reloads before a writer gives up (drop) */
#endif

#define NOBODY 255
#define LAP(p) ((p) / N + 1)

/* control word ctl[s] = (lap, state, nslots, owner), SHM_CTL_MAKE */
#define FREE      0
#define CLAIMED   1
#define PUBLISHED 2

#ifdef BUG_NO_LAP
#define LAPEQ(a, b) true
#else
#define LAPEQ(a, b) ((a) == (b))
#endif

byte ctl_st[N];         /* state; the zeroed segment reads FREE(0) */
byte ctl_lap[N];
byte ctl_n[N];
byte ctl_o[N];

/* slot payload: which writer wrote it, for the record starting at which
 * position (this names the record exactly, its lap included) */
byte slot_w[N];
byte slot_pos[N];

byte hint;              /* rh_hint: relaxed plain stores, may regress */
byte tail;              /* rh_tail: collector store-release, writers acquire */
byte cursor;            /* the collector's read position */

bool alive[W];          /* what the collector's liveness check of an owner returns */
bool is_stopped[W];        /* SIGSTOPped (alive, not progressing) */

/* ghosts */
byte holder[N];         /* S2: which writer holds slot s, from claim to release */
byte ghost_head;        /* end of the highest claimed record */
byte finished;          /* writers that returned or died */
#ifdef BUG_FETCH_ADD
byte head;              /* the head counter of the fetch_add design */
#endif

#ifdef LIVENESS
/* L1: eventually every writer is done or dead, the collector has consumed
 * or skipped everything that was claimed, and the ring is all released. */
ltl L1 { <> (finished == W && cursor == ghost_head && tail == cursor) }
#endif

/* A writer may die at any step. Dying between a load and the next store is
 * indistinguishable from dying just before that store (loads leave no
 * trace), so failure points sit before each store to shared memory. A
 * stopped writer is alive and makes no progress until it is continued;
 * never being continued is a prefix of these runs. Stops are left out of
 * the liveness run: L1 does not apply to stopped writers. */
#if defined(LIVENESS) || defined(NO_STOP)
#define STOP_OPT
#else
#define STOP_OPT :: is_stopped[w] = 1; is_stopped[w] = 0
#endif
#define FAIL_POINT \
	if \
	:: skip \
	:: goto dead \
	STOP_OPT \
	fi

proctype Writer(byte w)
{
	byte h, t, n, k, spins, i;
	byte st, lp, nn;        /* w_ctl: the word read in step 2 */
	bool ok;

	do
	:: k == R -> break
	:: else ->
		FAIL_POINT;
		if
		:: n = 1
		:: n = 2
		fi;
#ifdef BUG_FETCH_ADD
		/* the broken design: take positions first, name the owner later */
		d_step { h = head; head = head + n; if :: head > ghost_head -> ghost_head = head :: else fi }
		FAIL_POINT;     /* the window: positions taken, nobody named */
		t = tail;
		if
		:: h + n - t > N -> goto next  /* drop: the positions are lost */
		:: else
		fi;
		d_step {
			i = 0;
			do
			:: i < n -> assert(holder[(h + i) % N] == NOBODY); holder[(h + i) % N] = w; i++
			:: else -> break
			od;
			i = 0;
			ctl_st[h % N] = CLAIMED; ctl_lap[h % N] = LAP(h); ctl_n[h % N] = n; ctl_o[h % N] = w
		}
#else
		/* 1. h = hint; t = tail (acquire); if h < t then h = t */
		h = hint;
		d_step { t = tail; if :: h < t -> h = t :: else fi }
walk:		/* 2. read w_ctl = ctl[h % N] */
		atomic { st = ctl_st[h % N]; lp = ctl_lap[h % N]; nn = ctl_n[h % N] }
		if
		:: (st == CLAIMED || st == PUBLISHED) && LAPEQ(lp, LAP(h)) ->
			/* a record of this lap: walk the chain */
			d_step { h = h + nn; st = 0; lp = 0; nn = 0 }
			goto walk
		:: st == FREE && LAPEQ(lp + 1, LAP(h)) ->
			/* free for lap(h): check the space against tail, then CAS */
#ifdef BUG_NO_FULL_CHECK
			if
			:: false -> goto next
#else
			if
			:: h + n - t > N -> goto next  /* ring full: drop */
#endif
			:: else ->
				/* CAS ctl[h%N]: FREE(lap(h)-1) -> CLAIMED(lap(h), n, w) */
				d_step {
					if
					:: ctl_st[h % N] == FREE && LAPEQ(ctl_lap[h % N] + 1, LAP(h)) ->
						ctl_st[h % N] = CLAIMED; ctl_lap[h % N] = LAP(h);
						ctl_n[h % N] = n; ctl_o[h % N] = w;
						/* S2: every slot claimed was released (or never used) */
						i = 0;
						do
						:: i < n -> assert(holder[(h + i) % N] == NOBODY); holder[(h + i) % N] = w; i++
						:: else -> break
						od;
						i = 0;
						if :: h + n > ghost_head -> ghost_head = h + n :: else fi;
						ok = 1
					:: else -> ok = 0
					fi;
					st = 0; lp = 0; nn = 0
				}
				if
				:: ok -> ok = 0
				:: else -> goto walk    /* lost the race: re-read */
				fi
			fi
		:: else ->
			/* stale h (released, or a word of another lap): reload */
			d_step { st = 0; lp = 0; nn = 0; spins++ }
			if
			:: spins > MAXSPIN -> goto next        /* give up: drop */
			:: else
			fi;
			t = tail;
			d_step { h = hint; if :: h < t -> h = t :: else fi }
			goto walk
		fi;
		/* claimed [h, h+n) */
		FAIL_POINT;
		/* 3. hint = h + n: plain store, may regress the hint */
		hint = h + n;
#endif /* BUG_FETCH_ADD */
		FAIL_POINT;
#ifdef BUG_EARLY_PUBLISH
		ctl_st[h % N] = PUBLISHED;
		FAIL_POINT;
#endif
		/* 4. payload, one slot at a time */
		do
		:: i < n ->
			d_step {
				assert(holder[(h + i) % N] == w);      /* S2 */
				slot_w[(h + i) % N] = w; slot_pos[(h + i) % N] = h;
				i++
			}
			FAIL_POINT
		:: else -> break
		od;
#ifndef BUG_EARLY_PUBLISH
		/* 5. publish: ctl[h%N] = PUBLISHED(lap(h), n, w) (store-release) */
		ctl_st[h % N] = PUBLISHED;
#endif
next:		/* done with this record (published or dropped) */
		atomic { k++; h = 0; t = 0; n = 0; i = 0; spins = 0; st = 0; lp = 0; nn = 0 }
	od;
	finished++;
	goto done;
dead:
	atomic { alive[w] = 0; finished++; h = 0; t = 0; n = 0; k = 0; i = 0; spins = 0; st = 0; lp = 0; nn = 0; ok = 0 }
done:
	skip
}

active proctype Collector()
{
	byte nn, o, p, i;

end:	do
	:: /* load-acquire ctl[c]: PUBLISHED(lap(c), n, o): copy the record out.
	    * Done in one step with the payload reads: a store to these slots by
	    * anyone is an S2 violation and is caught there. */
		d_step {
			ctl_st[cursor % N] == PUBLISHED && LAPEQ(ctl_lap[cursor % N], LAP(cursor)) ->
			nn = ctl_n[cursor % N]; o = ctl_o[cursor % N];
			i = 0;
			do
			:: i < nn ->
				/* S1: the slot holds what o wrote for the record at cursor */
				assert(slot_w[(cursor + i) % N] == o && slot_pos[(cursor + i) % N] == cursor);
				i++
			:: else -> break
			od;
			cursor = cursor + nn;       /* consumed */
			nn = 0; o = 0; i = 0
		}
	:: /* CLAIMED(lap(c), n, o): is the owner alive? (a separate step) */
		d_step {
			ctl_st[cursor % N] == CLAIMED && LAPEQ(ctl_lap[cursor % N], LAP(cursor)) ->
			nn = ctl_n[cursor % N]; o = ctl_o[cursor % N]
		}
		if
#ifdef BUG_SKIP_STOPPED
		:: d_step { (!alive[o] || is_stopped[o]) -> cursor = cursor + nn; nn = 0; o = 0 }
		:: d_step { (alive[o] && !is_stopped[o]) -> nn = 0; o = 0 }
#else
		:: d_step { !alive[o] -> cursor = cursor + nn; nn = 0; o = 0 }  /* abandoned: skip */
		:: d_step { alive[o] -> nn = 0; o = 0 }                         /* wait */
#endif
		fi
	:: /* FREE(lap(c) - 1): nothing yet (no step). Release, once the records
	    * below the cursor are safe in the spool: ctl[p] = FREE(lap(p)) for
	    * p in [tail, c), then tail = c (store-release). */
		cursor > tail ->
		p = tail;
		do
		:: p < cursor ->
			d_step {
				ctl_st[p % N] = FREE; ctl_lap[p % N] = LAP(p); ctl_n[p % N] = 0; ctl_o[p % N] = 0;
				holder[p % N] = NOBODY;
				p++
			}
		:: else -> break
		od;
		atomic { tail = cursor; p = 0 }
	od
}

init
{
	byte w;
	d_step {
		w = 0;
		do
		:: w < W -> alive[w] = 1; w++
		:: else -> break
		od;
		w = 0;
		do
		:: w < N -> holder[w] = NOBODY; slot_w[w] = NOBODY; slot_pos[w] = NOBODY; w++
		:: else -> break
		od;
		w = 0
	}
	atomic {
		w = 0;
		do
		:: w < W -> run Writer(w); w++
		:: else -> break
		od;
		w = 0
	}
}
