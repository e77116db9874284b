/*
 * test_layout.c
 *	  Segment plans for every code length the index accepts (1..250 words,
 *	  D up to 16,000) and a range of page geometries: items never overflow,
 *	  every word lands in exactly one item, the tail is never empty, and the
 *	  fewest items are used.
 */
#include "core/rq_layout.h"
#include "rq_test.h"

static void
test_every_length(void)
{
	/*
	 * (seg_max, tail_max): 8 kB pages with key areas from none to large,
	 * where the fewest items that can hold the words must be used, and a
	 * tiny tail where more items may be needed to split the words evenly
	 */
	static const int geometry[][3] = {{127, 124, 1}, {127, 116, 1}, {127, 60, 1}, {63, 60, 1}, {10, 3, 0}};

	for (size_t g = 0; g < sizeof(geometry) / sizeof(geometry[0]); g++)
	{
		int			seg_max = geometry[g][0],
					tail_max = geometry[g][1];

		for (int words = 1; words <= 250; words++)
		{
			rq_segment_plan p;
			int			fewest = 1;

			while (tail_max + (fewest - 1) * seg_max < words)
				fewest++;
			if (rq_plan_segments(words, seg_max, tail_max, 64, &p) != 0)
			{
				RQ_CHECK(0, "words %d: no plan", words);
				continue;
			}
			RQ_CHECK(p.nseg == fewest || !geometry[g][2], "words %d: %d items, %d would do",
					 words, p.nseg, fewest);
			RQ_CHECK(p.tail_words >= 1 && p.tail_words <= tail_max, "words %d: tail %d", words, p.tail_words);
			RQ_CHECK(p.nseg == 1 || (p.seg_words >= 1 && p.seg_words <= seg_max),
					 "words %d: segments of %d", words, p.seg_words);
			RQ_CHECK((p.nseg - 1) * p.seg_words + p.tail_words == words, "words %d: coverage", words);
		}
	}
}

static void
test_limits(void)
{
	rq_segment_plan p;

	RQ_CHECK(rq_plan_segments(250, 127, 124, 3, &p) == 0 && p.nseg == 2 && p.seg_words == 126 &&
			 p.tail_words == 124, "D=16000 in two items");
	RQ_CHECK(rq_plan_segments(125, 127, 124, 3, &p) == 0 && p.seg_words == 1 && p.tail_words == 124,
			 "one word over the tail's room (the bug this test pins)");
	RQ_CHECK(rq_plan_segments(1000, 127, 124, 3, &p) == -1, "too many items");
	RQ_CHECK(rq_plan_segments(10, 127, 0, 3, &p) == -1, "no room in the tail");
}

const rq_test_case rq_layout_tests[] = {
	{"layout/segment plans for 1..250 words", test_every_length, 0},
	{"layout/limits", test_limits, 0},
	{NULL, NULL, 0}
};
