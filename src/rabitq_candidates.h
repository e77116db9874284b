/*
 * rabitq_candidates.h
 *	  A scan's candidates (rabitq_candidates.c): what an id in the re-rank
 *	  names, and the refining stage.
 *
 * An id is an index, with RABITQ_ID_REFINED set once its bound is the
 * B-bit one (or needs no refining): while probing, block ordinal * 8 +
 * lane; when ranking a tenant exactly, the posting's index.  Once its
 * exact distance is known it becomes RABITQ_ID_HEAP with the heap TID
 * (block << 16 | offset), so rows of equal distance come out in TID order,
 * whatever order the index's pages were probed in.
 */
#ifndef VECRABITQ_RABITQ_CANDIDATES_H
#define VECRABITQ_RABITQ_CANDIDATES_H

#include "rabitq.h"

#define RABITQ_ID_REFINED		(UINT64CONST(1) << 63)
#define RABITQ_ID_HEAP			(UINT64CONST(1) << 62)
#define RABITQ_CANDIDATE_MAX_BLOCKS (MaxAllocHugeSize / (RQ_BLOCK_LANES * sizeof(ItemPointerData)))

static inline uint64
RabitqCandidateIndex(uint64 id)
{
	return id & ~RABITQ_ID_REFINED;
}

/* The id of a candidate whose exact distance is known: its heap TID. */
static inline uint64
RabitqHeapId(ItemPointer tid)
{
	return RABITQ_ID_HEAP | RABITQ_ID_REFINED |
		((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) | ItemPointerGetOffsetNumberNoCheck(tid);
}

static inline uint64
RabitqCandidateBlock(uint64 id)
{
	return RabitqCandidateIndex(id) / RQ_BLOCK_LANES;
}

static inline int
RabitqCandidateLane(uint64 id)
{
	return (int) (RabitqCandidateIndex(id) % RQ_BLOCK_LANES);
}

typedef struct RabitqCandidates RabitqCandidates;

/* Candidates of a scan for the rotated query (kept), in the current memory context. */
extern RabitqCandidates *RabitqCandidatesCreate(Relation index, const RabitqCache *cache,
												const float *query);

/* Probing: a list about to be probed; returns its slot for RabitqCandidatesAddBlock. */
extern uint32 RabitqCandidatesAddList(RabitqCandidates *c, int list, const rq_residual_stats *st);

/* Probing: room for this many blocks without growing. */
extern void RabitqCandidatesReserve(RabitqCandidates *c, uint64 blocks);

/*
 * Probing: copies what a tail item (under its page's lock) says about its
 * lanes; returns the block ordinal, whose lane l is candidate ordinal * 8 + l.
 */
extern uint64 RabitqCandidatesAddBlock(RabitqCandidates *c, uint32 list_slot, char *tail);

/*
 * Probing: the estimates and lower bounds at eps of candidates ids[0, n)
 * from their B-bit codes (one at a time, or many in list order).
 */
#define RABITQ_REFINE_MAX 64	/* n at most */
extern void RabitqCandidatesRefine(RabitqCandidates *c, const uint64 *ids, int n, float eps,
								   float *est, float *lb);

/* The heap TID of candidate id. */
extern ItemPointerData RabitqCandidateTid(const RabitqCandidates *c, uint64 id);

/*
 * Exact ranking: the candidates are postings (RabitqPostingSize bytes each,
 * kept); with ex-codes, prepares the refining query from the origin.
 */
extern void RabitqCandidatesSetPostings(RabitqCandidates *c, const char *postings);

/* Exact ranking, with ex-codes: the lower bound at eps of posting i. */
extern float RabitqCandidatePostingBound(RabitqCandidates *c, int i, float eps);

#endif							/* VECRABITQ_RABITQ_CANDIDATES_H */
