package dev.quill.engine.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.engine.scheduler.BlockManager.PrefixMatch;
import dev.quill.engine.scheduler.FakeLanguageModel.FakeKvCache;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BlockManagerTest {

    private static int[] range(int from, int to) {
        return IntStream.range(from, to).toArray();
    }

    /** Allocates a table for all tokens (using cached blocks) and marks them computed, as the engine would. */
    private static BlockTable compute(BlockManager m, int[] tokens) {
        BlockTable t = new BlockTable();
        assertThat(m.allocate(t, m.matchPrefix(tokens, tokens.length - 1), tokens.length)).isTrue();
        m.cacheFullBlocks(t, tokens, tokens.length);
        return t;
    }

    @Test
    void allocatesWholeBlocksAndFreesThemAll() {
        BlockManager m = new BlockManager(new FakeKvCache(10, 16), true);
        BlockTable t = new BlockTable();

        assertThat(m.allocate(t, PrefixMatch.NONE, 40)).isTrue();

        assertThat(t.size()).isEqualTo(3);
        assertThat(m.usedBlocks()).isEqualTo(3);
        assertThat(m.freeBlocks()).isEqualTo(7);
        assertThat(m.allocateSlots(t, 40, 49)).isTrue();
        assertThat(t.size()).as("position 48 is in block 3").isEqualTo(4);
        m.free(t);
        assertThat(t.size()).isZero();
        assertThat(m.freeBlocks()).as("nothing was registered, so nothing is cached").isEqualTo(10);
        assertThat(m.cachedBlocks()).isZero();
    }

    @Test
    void refusesAnAllocationThatDoesNotFitAndChangesNothing() {
        BlockManager m = new BlockManager(new FakeKvCache(4, 4), true);
        BlockTable a = new BlockTable();
        assertThat(m.allocate(a, PrefixMatch.NONE, 12)).isTrue();

        BlockTable b = new BlockTable();
        assertThat(m.allocate(b, PrefixMatch.NONE, 5)).isFalse();
        assertThat(b.size()).isZero();
        assertThat(m.allocateSlots(a, 12, 17)).isFalse();
        assertThat(a.size()).isEqualTo(3);
        assertThat(m.freeBlocks()).isEqualTo(1);
    }

    @Test
    void registersOnlyFullComputedBlocks() {
        BlockManager m = new BlockManager(new FakeKvCache(8, 4), true);
        int[] tokens = range(100, 110);
        BlockTable t = new BlockTable();
        m.allocate(t, PrefixMatch.NONE, 10);

        m.cacheFullBlocks(t, tokens, 7);
        assertThat(m.isCached(t.get(0))).isTrue();
        assertThat(m.isCached(t.get(1))).as("positions 4..7 are not all computed").isFalse();
        m.cacheFullBlocks(t, tokens, 10);
        assertThat(m.isCached(t.get(1))).isTrue();
        assertThat(m.isCached(t.get(2))).as("the last block holds only 2 of 4 tokens").isFalse();

        m.free(t);
        assertThat(m.cachedBlocks()).isEqualTo(2);
        assertThat(m.freeBlocks()).isEqualTo(6);
        assertThat(m.freeBlocks() + m.cachedBlocks()).isEqualTo(m.totalBlocks());
    }

    @Test
    void aLaterSequenceReusesTheCachedPrefixBlocks() {
        BlockManager m = new BlockManager(new FakeKvCache(8, 4), true);
        int[] first = range(0, 10);
        BlockTable a = compute(m, first);
        int[] aBlocks = a.toArray();
        m.free(a);

        int[] second = IntStream.concat(IntStream.range(0, 8), IntStream.of(50, 51, 52)).toArray();
        PrefixMatch match = m.matchPrefix(second, second.length - 1);
        assertThat(match.blockIds()).containsExactly(aBlocks[0], aBlocks[1]);

        BlockTable b = new BlockTable();
        assertThat(m.allocate(b, match, second.length)).isTrue();
        assertThat(b.get(0)).isEqualTo(aBlocks[0]);
        assertThat(b.get(1)).isEqualTo(aBlocks[1]);
        assertThat(m.cachedBlocks()).as("the hits are in use again").isZero();
        assertThat(m.prefixQueryTokens()).isEqualTo(9 + 10);
        assertThat(m.prefixHitTokens()).isEqualTo(8);
    }

    @Test
    void aMatchStopsAtTheLimitAndCoversWholeBlocksOnly() {
        BlockManager m = new BlockManager(new FakeKvCache(8, 4), true);
        int[] tokens = range(0, 12);
        m.free(compute(m, tokens));

        assertThat(m.matchPrefix(tokens, 12).blocks()).isEqualTo(3);
        assertThat(m.matchPrefix(tokens, 11).blocks()).as("the last prompt token must be computed for its logits").isEqualTo(2);
        assertThat(m.matchPrefix(tokens, 3).blocks()).isZero();
    }

    @Test
    void aBlockMatchesOnlyAfterTheSamePrefix() {
        BlockManager m = new BlockManager(new FakeKvCache(8, 4), true);
        m.free(compute(m, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}));

        int[] samSecondBlockOtherFirst = {0, 2, 3, 4, 5, 6, 7, 8, 9};
        assertThat(m.matchPrefix(samSecondBlockOtherFirst, 8).blocks()).isZero();
        int[] divergesInSecond = {1, 2, 3, 4, 5, 6, 7, 0, 9};
        assertThat(m.matchPrefix(divergesInSecond, 8).blocks()).isEqualTo(1);
    }

    @Test
    void evictsTheLeastRecentlyReleasedCachedBlockAndTailBlocksFirst() {
        BlockManager m = new BlockManager(new FakeKvCache(4, 2), true);
        int[] older = {1, 2, 3, 4, 0};
        int[] newer = {5, 6, 7, 8, 0};
        BlockTable a = new BlockTable();
        m.allocate(a, PrefixMatch.NONE, 4);
        m.cacheFullBlocks(a, older, 4);
        BlockTable b = new BlockTable();
        m.allocate(b, PrefixMatch.NONE, 4);
        m.cacheFullBlocks(b, newer, 4);
        m.free(a);
        m.free(b);
        assertThat(m.cachedBlocks()).isEqualTo(4);
        assertThat(m.freeBlocks()).isZero();

        BlockTable c = new BlockTable();
        assertThat(m.allocate(c, PrefixMatch.NONE, 2)).isTrue();
        assertThat(m.matchPrefix(older, 4).blocks()).as("the older sequence's tail went first").isEqualTo(1);
        assertThat(m.matchPrefix(newer, 4).blocks()).isEqualTo(2);

        assertThat(m.allocateSlots(c, 2, 4)).isTrue();
        assertThat(m.matchPrefix(older, 4).blocks()).isZero();
        assertThat(m.matchPrefix(newer, 4).blocks()).isEqualTo(2);

        assertThat(m.allocateSlots(c, 4, 6)).isTrue();
        assertThat(m.matchPrefix(newer, 4).blocks()).as("a tail block is evicted before its prefix").isEqualTo(1);
    }

    @Test
    void takingACachedBlockMovesItOutOfTheEvictionQueue() {
        BlockManager m = new BlockManager(new FakeKvCache(3, 2), true);
        int[] tokens = {1, 2, 3, 4, 5};
        m.free(compute(m, tokens));
        assertThat(m.cachedBlocks()).isEqualTo(2);

        BlockTable user = new BlockTable();
        assertThat(m.allocate(user, m.matchPrefix(tokens, 4), 5)).isTrue();
        assertThat(m.availableBlocks()).isZero();
        BlockTable other = new BlockTable();
        assertThat(m.allocate(other, PrefixMatch.NONE, 1)).as("blocks in use are never evicted").isFalse();
    }

    @Test
    void forkedSequencesShareBlocksAndCopyTheSharedPartialBlockOnWrite() {
        FakeKvCache cache = new FakeKvCache(10, 4);
        BlockManager m = new BlockManager(cache, true);
        int[] prompt = range(0, 6);
        BlockTable parent = compute(m, prompt);
        BlockTable child1 = new BlockTable();
        BlockTable child2 = new BlockTable();
        m.fork(parent, child1);
        m.fork(parent, child2);
        int full = parent.get(0);
        int partial = parent.get(1);
        assertThat(m.refCount(full)).isEqualTo(3);
        assertThat(m.refCount(partial)).isEqualTo(3);

        assertThat(m.allocateSlots(child1, 6, 7)).isTrue();
        assertThat(child1.get(0)).isEqualTo(full);
        assertThat(child1.get(1)).isNotEqualTo(partial);
        assertThat(cache.copies).hasSize(1);
        assertThat(cache.copies.getFirst()).containsExactly(partial, child1.get(1));

        assertThat(m.allocateSlots(child2, 6, 7)).isTrue();
        assertThat(m.allocateSlots(parent, 6, 7)).isTrue();
        assertThat(parent.get(1)).as("the last holder writes in place").isEqualTo(partial);
        assertThat(cache.copies).hasSize(2);
        assertThat(Set.of(parent.get(1), child1.get(1), child2.get(1))).hasSize(3);
        assertThat(m.refCount(full)).isEqualTo(3);
        assertThat(m.refCount(partial)).isEqualTo(1);

        m.free(parent);
        m.free(child1);
        m.free(child2);
        assertThat(m.usedBlocks()).isZero();
    }

    @Test
    void aCopyOnWriteThatDoesNotFitChangesNothing() {
        BlockManager m = new BlockManager(new FakeKvCache(2, 4), true);
        BlockTable parent = new BlockTable();
        m.allocate(parent, PrefixMatch.NONE, 6);
        BlockTable child = new BlockTable();
        m.fork(parent, child);

        assertThat(m.allocateSlots(child, 6, 7)).isFalse();
        assertThat(child.toArray()).containsExactly(parent.toArray());
        assertThat(m.refCount(parent.get(1))).isEqualTo(2);
    }

    @Test
    void aPrefixComputedTwiceAtOnceIsCachedOnceAndItsChainStaysReachable() {
        BlockManager m = new BlockManager(new FakeKvCache(8, 2), true);
        int[] tokens = {1, 2, 3, 4, 5};
        BlockTable a = new BlockTable();
        BlockTable b = new BlockTable();
        m.allocate(a, PrefixMatch.NONE, 5);
        m.allocate(b, PrefixMatch.NONE, 5);
        m.cacheFullBlocks(a, tokens, 2);
        m.cacheFullBlocks(b, tokens, 4);
        assertThat(m.isCached(b.get(0))).as("a's copy of block 0 is the cached one").isFalse();
        assertThat(m.isCached(b.get(1))).isTrue();

        assertThat(m.matchPrefix(tokens, 4).blockIds()).containsExactly(a.get(0), b.get(1));
        m.free(a);
        m.free(b);
        assertThat(m.cachedBlocks()).isEqualTo(2);
        assertThat(m.freeBlocks()).isEqualTo(6);
    }

    @Test
    void withPrefixCachingOffNothingIsKept() {
        BlockManager m = new BlockManager(new FakeKvCache(4, 2), false);
        int[] tokens = {1, 2, 3, 4, 5};
        m.free(compute(m, tokens));
        assertThat(m.cachedBlocks()).isZero();
        assertThat(m.matchPrefix(tokens, 4).blocks()).isZero();
        assertThat(m.freeBlocks()).isEqualTo(4);
    }

    @Test
    void rejectsAnEmptyCache() {
        assertThatThrownBy(() -> new BlockManager(new FakeKvCache(0, 16), true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0 blocks");
    }

    @Test
    void neverLeaksABlockOverThousandsOfRandomSequences() {
        Random random = new Random(42);
        BlockManager m = new BlockManager(new FakeKvCache(64, 4), true);
        List<BlockTable> live = new ArrayList<>();
        List<int[]> liveTokens = new ArrayList<>();
        List<Integer> liveComputed = new ArrayList<>();
        for (int op = 0; op < 20_000; op++) {
            int action = random.nextInt(10);
            if (action < 3) { // a new sequence over a tiny alphabet, so prefixes repeat
                int[] tokens = random.ints(1 + random.nextInt(40), 0, 3).toArray();
                BlockTable t = new BlockTable();
                int upTo = Math.min(tokens.length, 1 + random.nextInt(tokens.length));
                if (m.allocate(t, m.matchPrefix(tokens, upTo - 1), upTo)) {
                    m.cacheFullBlocks(t, tokens, upTo);
                    live.add(t);
                    liveTokens.add(tokens);
                    liveComputed.add(upTo);
                }
            } else if (action < 7 && !live.isEmpty()) { // advance one sequence
                int i = random.nextInt(live.size());
                int done = liveComputed.get(i);
                int[] tokens = liveTokens.get(i);
                if (done < tokens.length) {
                    int upTo = Math.min(tokens.length, done + 1 + random.nextInt(8));
                    if (m.allocateSlots(live.get(i), done, upTo)) {
                        m.cacheFullBlocks(live.get(i), tokens, upTo);
                        liveComputed.set(i, upTo);
                    }
                }
            } else if (action < 8 && !live.isEmpty()) { // fork
                int i = random.nextInt(live.size());
                BlockTable child = new BlockTable();
                m.fork(live.get(i), child);
                live.add(child);
                liveTokens.add(liveTokens.get(i).clone());
                liveComputed.add(liveComputed.get(i));
            } else if (!live.isEmpty()) { // finish or cancel
                int i = random.nextInt(live.size());
                m.free(live.remove(i));
                liveTokens.remove(i);
                liveComputed.remove(i);
            }
            long referenced = live.stream().mapToLong(BlockTable::size).sum();
            Set<Integer> distinct = new HashSet<>();
            live.forEach(t -> { for (int b : t.toArray()) distinct.add(b); });
            long refSum = distinct.stream().mapToLong(m::refCount).sum();
            assertThat(refSum).as("reference counts match the tables").isEqualTo(referenced);
            assertThat(m.usedBlocks()).isEqualTo(distinct.size());
            assertThat(m.freeBlocks() + m.cachedBlocks() + m.usedBlocks()).isEqualTo(64);
        }
        live.forEach(m::free);
        assertThat(m.usedBlocks()).isZero();
        assertThat(m.freeBlocks() + m.cachedBlocks()).isEqualTo(m.totalBlocks());
        assertThat(m.prefixHitTokens()).as("the workload did reuse prefixes").isPositive();
    }
}
