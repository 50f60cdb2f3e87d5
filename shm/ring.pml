/*
 * shm/ring.pml: Promela model of the shmlog ring protocol ("claim with
 * owner", RING.md design A, with a hint instead of a CASed head), as
 * described at the top of shm/shm_abi.h. Checked by spin in CI through
 * tests/model/run_model.sh; change this model and the C code together.
 *
 * Writer: ring_claim(), ring_copy(), ring_publish() in shm/ring_write.h.
 *   1. t = tail (acquire); h = hint; if h < t then h = t
 *   2. load w = ctl[h % N] (acquire), then:
 *      CLAIMED/PUBLISHED(lap(h), n', o')  -> h += n' (walk the chain)
 *      FREE(lap(h) - 1) -> if h + n - t > N: t = tail; if h < t: h = t,
 *                          back to 2; if still h + n - t > N: drop
 *                          (-ENOBUFS); then CAS ctl[h % N]: FREE(lap(h)-1)
 *                          -> CLAIMED(lap(h), n, w); lost: back to 2
 *      a word of another lap -> t = tail; if h >= t and h + n - t > N:
 *                          drop (full); h = max(hint, t); back to 2
 *   3. hint = h + n (plain store; may regress the hint)
 *   4. payload stores into slots h .. h+n-1, one at a time
 *   5. ctl[h % N] = PUBLISHED(lap(h), n, w) (store-release)
 *   and it may die or stop at any point (see "Failure points"). The C
 *   code gives up after RING_MAX_STEPS turns of 2 (-EAGAIN); the model has
 *   no such bound, and L1 shows that the loop ends anyway.
 * Collector: drain_ring() reads PUBLISHED(lap(c)) records, skips
 * CLAIMED(lap(c)) ones whose owner is dead, waits on live owners;
 * drain_release(upto) frees [tail, upto): ctl[p] = FREE(lap(p)), then
 * tail = upto, for upto a cursor it had earlier (a record boundary);
 * flush() reads again from tail when the spool refuses a request.
 *
 * What is checked (RING.md):
 *   S1  the collector exports a record only if every slot of it holds what
 *       its owner wrote for that record (never torn, partial, foreign, or
 *       last lap's): assertion in Collector, "consume".
 *   S2  a slot belongs to one writer from its claim until the collector
 *       releases it, and a writer stores only into slots it holds (a late
 *       or resumed writer never scribbles on a recycled slot): ghost
 *       holder[], assertions at the claim and at every payload store.
 *   L1  (-DLIVENESS, pan -a -f) with writers that may die anywhere but do
 *       not stop, eventually every writer is done or dead, the collector
 *       has consumed or skipped every claimed record and the whole ring is
 *       released: ltl L1.
 * Not checked: S3 (no spool: a release may come any time after the
 * records were read, a weaker assumption), S4, drop counters, and memory
 * ordering: spin is sequentially consistent, so this checks the protocol
 * under the acquire/release orders of the C code, not weaker ones.
 *
 * Bounds: a ring of N = 4 slots; W writers (2 or 3), writer w writes RECS(w)
 * records of 1 or 2 slots (chosen nondeterministically); with 2 writers of
 * 3 records up to 12 positions = 3 laps, so the ring wraps twice and a
 * writer that resumes late meets words of a later lap (ABA). Positions are
 * free-running small integers, lap(pos) = pos / N + 1, as in the C code.
 *
 * Granularity: each load or store of shared memory by a writer is one
 * atomic step; the decision a writer takes on a loaded word is local and
 * goes with its load. The collector's steps are coarser where that hides
 * nothing (see the comments there).
 *
 * Bug variants (spin must report an error for each; see run_model.sh):
 *   BUG_NO_LAP         control words carry no lap (ABA): the collector
 *                      takes last lap's PUBLISHED word for this lap -> S1.
 *   BUG_SKIP_STOPPED   the collector treats the claim of a stopped writer
 *                      as abandoned (cannot tell stopped from dead); the
 *                      writer resumes into recycled slots -> S2.
 *   BUG_NO_FULL_CHECK  the claim looks only at its first slot's word, not
 *                      at the free space against tail -> S2.
 *   BUG_EARLY_PUBLISH  PUBLISHED stored before the payload -> S1.
 *   BUG_RELEASE_MID    drain_release() to a position inside a record: a
 *                      writer starts a record at the new tail, inside
 *                      the old one -> S2.
 *   BUG_WAIT_DEAD      the collector never skips a dead writer's claim
 *                      -> L1 (-DLIVENESS).
 *   BUG_FETCH_ADD      positions taken by fetch_add on a head counter and
 *                      the owner named after it: a drop on a full ring (or
 *                      a death in that window) leaves an ownerless hole the
 *                      collector waits on forever -> L1 (-DLIVENESS).
 */

#ifndef W
#define W 2             /* writers: 2 or 3 */
#endif
#ifndef R
#define R 3             /* records per writer */
#endif
#ifndef R0              /* or per writer: R0, R1, R2 */
#define R0 R
#endif
#ifndef R1
#define R1 R
#endif
#ifndef R2
#define R2 R
#endif
#define RECS(w) ((w) == 0 -> R0 : ((w) == 1 -> R1 : R2))
#define N 4             /* slots in the ring (rh_slots) */

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
bool is_stopped[W];     /* SIGSTOPped (alive, not progressing) */

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

/* Failure points. A writer may die (SIGKILL, exit() in another thread) or
 * stop (SIGSTOP, a debugger) at any instruction. Loads leave no trace, so
 * dying anywhere between two stores is the same as dying just before the
 * later store; dying before the claim is the same as dying at the start of
 * the record; and the bytes of an unpublished record are never read (its
 * claim is skipped, its slots overwritten), so dying between payload stores
 * or before the publish is the same as dying before the first payload
 * store. Hence the failure points: at the start of each record, after the
 * claim, and after the hint store.
 * A stop pauses the writer, alive, for as long as the rest of the system
 * likes, then it goes on (SIGCONT); a writer that is never continued is a
 * prefix of these runs, and interleaving already lets any writer pause
 * anywhere: the explicit stop only sets is_stopped[w], what a collector
 * that confuses stopped with dead would look at (BUG_SKIP_STOPPED). It is
 * offered while the writer holds a claim (elsewhere the flag is never
 * read). No stops in the liveness runs: L1 does not apply to stopped
 * writers. */
#if defined(LIVENESS) || defined(NO_STOP)
#define STOP_OPT(L)
#else
#define STOP_OPT(L) :: is_stopped[w] = 1; is_stopped[w] = 0; goto L
#endif
/* DIE_OR(L): the writer dies, stops for a while, or goes on at label L */
#define DIE_OR(L) \
	if \
	:: goto L \
	:: goto dead \
	STOP_OPT(L) \
	fi

proctype Writer(byte w)
{
	byte h, t, n, k, i;

	do
	:: k == RECS(w) -> break
	:: else ->
		/* death before the claim (anywhere in steps 1 and 2) */
		if
		:: goto dead
		:: n = 1
		:: n = 2
		fi;
#ifdef BUG_FETCH_ADD
		/* the broken design: take positions first, name the owner later */
		d_step { h = head; head = head + n; if :: head > ghost_head -> ghost_head = head :: else fi }
		/* the window: positions taken, nobody named */
		if
		:: goto dead
		:: t = tail
		fi;
		if
		:: h + n - t > N -> goto next  /* drop: the positions are lost */
		:: else
		fi;
		d_step {
			do
			:: i < n -> assert(holder[(h + i) % N] == NOBODY); holder[(h + i) % N] = w; i++
			:: else -> break
			od;
			i = 0; t = 0;
			ctl_st[h % N] = CLAIMED; ctl_lap[h % N] = LAP(h); ctl_n[h % N] = n; ctl_o[h % N] = w
		}
		goto claimed;
#else
		/* ring_claim(): t = tail (acquire); h = hint; if (h < t) h = t */
		t = tail;
		d_step { h = hint; if :: h < t -> h = t :: else fi }
walk:		/* w = ctl[h & mask] (acquire), and what ring_claim() decides on it
		 * (one step: the decision is local) */
		atomic {
			if
			:: (ctl_st[h % N] == CLAIMED || ctl_st[h % N] == PUBLISHED) &&
			   LAPEQ(ctl_lap[h % N], LAP(h)) ->
				/* a record of this lap: walk past it */
				h = h + ctl_n[h % N];
				goto walk
			:: ctl_st[h % N] == FREE && LAPEQ(ctl_lap[h % N] + 1, LAP(h)) ->
				/* FREE(lap(h) - 1): free for us if there is room */
#ifndef BUG_NO_FULL_CHECK
				if
				:: h + n - t > N -> goto no_room
				:: else
				fi
#endif
			:: else ->
				/* a word of another lap */
				goto stale
			fi
		}
cas:		/* CAS ctl[h & mask]: FREE(lap(h) - 1) -> CLAIMED(lap(h), n, w) */
		atomic {
			if
			:: ctl_st[h % N] == FREE && LAPEQ(ctl_lap[h % N] + 1, LAP(h)) ->
				d_step {
					ctl_st[h % N] = CLAIMED; ctl_lap[h % N] = LAP(h);
					ctl_n[h % N] = n; ctl_o[h % N] = w;
					/* S2: each slot claimed was released (or never used) */
					do
					:: i < n -> assert(holder[(h + i) % N] == NOBODY); holder[(h + i) % N] = w; i++
					:: else -> break
					od;
					i = 0; t = 0;
#ifdef LIVENESS
					if :: h + n > ghost_head -> ghost_head = h + n :: else fi
#endif
				}
			:: else -> goto walk    /* lost the race: re-read the word */
			fi
		}
		/* rh_hint = h + n: plain store, may regress the hint */
		DIE_OR(hint_store);
hint_store:
		hint = h + n;
		goto claimed;
no_room:	/* no room by our tail: reload it (acquire) */
		atomic {
			t = tail;
			if
			:: h < t -> h = t; goto walk
			:: h >= t && h + n - t > N -> goto next     /* -ENOBUFS: drop */
			:: else -> goto cas
			fi
		}
stale:		/* the ring is full (last lap's record still there), or h is
		 * behind the tail, or came from a regressed hint */
		atomic {
			t = tail;
			if
			:: h >= t && h + n - t > N -> goto next     /* -ENOBUFS: drop */
			:: else
			fi
		}
		d_step { h = hint; if :: h < t -> h = t :: else fi }
		goto walk;
#endif /* BUG_FETCH_ADD */
claimed:
#ifdef BUG_EARLY_PUBLISH
		ctl_st[h % N] = PUBLISHED;      /* BUG: published before the payload */
#endif
		DIE_OR(payload);
payload:
		/* 4. payload, one slot at a time: (writer, record position) */
		do
		:: i < n ->
			d_step {
				assert(holder[(h + i) % N] == w);      /* S2 */
				slot_w[(h + i) % N] = w; slot_pos[(h + i) % N] = h;
				i++
			}
		:: else -> break
		od;
#ifndef BUG_EARLY_PUBLISH
		/* 5. publish: ctl[h%N] = PUBLISHED(lap(h), n, w) (store-release) */
		ctl_st[h % N] = PUBLISHED;
#endif
		goto next;
next:		/* done with this record (published or dropped) */
		atomic { k++; h = 0; t = 0; n = 0; i = 0 }
	od;
	finished++;
	goto done;
dead:
	atomic { alive[w] = 0; finished++; h = 0; t = 0; n = 0; k = 0; i = 0 }
done:
	skip
}

#if defined(BUG_SKIP_STOPPED)
#define OWNER_GONE(o) (!alive[o] || is_stopped[o])      /* cannot tell stopped from dead */
#elif defined(BUG_WAIT_DEAD)
#define OWNER_GONE(o) false                             /* never skips */
#else
#define OWNER_GONE(o) (!alive[o])
#endif

/* The collector: drain_ring() and drain_release() in core/drain.c. Its
 * actions are enabled only when they do something; when none is, it waits
 * (a blocked process). Timing (CLAIM_GRACE_NS, the dead-owner check
 * interval) is abstracted away: a dead owner is noticed eventually. */
active proctype Collector()
{
	byte nn, o, p, i;

end:	do
	:: /* w = ctl[c] (acquire) == PUBLISHED(lap(c), n, o): copy the record
	    * out (copy_out()). One step with the payload loads: a store to
	    * these slots by anyone in between would be an S2 violation, caught
	    * there. (c - released >= slots: a whole ring read, stop.) */
		d_step {
			cursor - tail < N &&
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
	:: /* w == CLAIMED(lap(c), n, o) and o is dead: abandoned, skip n
	    * slots. While o is alive (running or stopped) the collector waits.
	    * The load and the liveness check are one step here; in the C code
	    * they are two, which adds one race: o publishes and dies in between,
	    * and its complete record is skipped. That loses a record and
	    * breaks neither S1 nor S2 (o is dead: it stores nothing more). */
		d_step {
			cursor - tail < N &&
			ctl_st[cursor % N] == CLAIMED && LAPEQ(ctl_lap[cursor % N], LAP(cursor)) &&
			OWNER_GONE(ctl_o[cursor % N]) ->
			cursor = cursor + ctl_n[cursor % N]
		}
	:: /* w == FREE(lap(c) - 1): nothing yet (no action). Any other word
	    * within a ring of the tail is "garbage" that drain_ring() skips
	    * and counts invalid: no honest writer may leave one. */
		d_step {
			cursor - tail < N &&
			!(ctl_st[cursor % N] == FREE && LAPEQ(ctl_lap[cursor % N] + 1, LAP(cursor))) &&
			!(ctl_st[cursor % N] != FREE && LAPEQ(ctl_lap[cursor % N], LAP(cursor))) ->
			assert(false)
		}
#ifndef LIVENESS
	:: /* flush(): the spool request failed; read again from the last
	    * release (core/collector.c). Left out of the liveness runs: a
	    * spool that fails forever stops everything. */
		atomic { cursor > tail -> cursor = tail }
#endif
	:: /* drain_release(upto): once the records below upto are in a
	    * fsynced spool file (any time here: S3 is not modelled). upto is
	    * a cursor the collector had when it submitted the spool request,
	    * so any record boundary in (tail, c]: found here by walking the
	    * read records from tail (a ghost walk, no step). Then
	    * ctl[p] = FREE(lap(p)) for p in [tail, upto), and tail = upto
	    * (store-release). The FREE stores are one step: a writer loads
	    * one word at a time, and one that finds a word freed still sees
	    * the old tail (stored after) and so cannot use the space; their
	    * order decides nothing. */
		atomic {
			cursor > tail ->
			p = tail;
			do
#ifdef BUG_RELEASE_MID
			:: p = p + 1;       /* BUG: upto may fall inside a record */
#else
			:: p = p + (ctl_n[p % N] > 0 -> ctl_n[p % N] : 1);
#endif
				if
				:: p >= cursor -> p = cursor; break
				:: else
				fi
			:: p > tail -> break
			od;
			/* p = upto */
			d_step {
				i = tail;
				do
				:: i < p ->
					ctl_st[i % N] = FREE; ctl_lap[i % N] = LAP(i);
					ctl_n[i % N] = 0; ctl_o[i % N] = 0;
					holder[i % N] = NOBODY;     /* S2 ghost: nobody holds it now */
					/* the bytes of a released slot are garbage: no
					 * record is read from them again (stale bytes never
					 * match (o, cursor) anyway); forget them so that
					 * states merge */
					slot_w[i % N] = NOBODY; slot_pos[i % N] = NOBODY;
					i++
				:: else -> break
				od;
				i = 0
			}
		}
		atomic { tail = p; p = 0 }
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
