package dev.quill.engine.scheduler;

import dev.quill.engine.model.KvCache;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * Hands out the KV cache's fixed-size blocks to sequences and keeps finished prefixes for reuse.
 *
 * <p>A block is in exactly one of three states: <em>free</em> (no useful content), <em>in use</em> (referenced by
 * one or more block tables) or <em>cached</em> (unreferenced, but holding a full block of a known prefix). Every full
 * block a sequence computes is registered under a hash of all tokens up to and including it; a later sequence with
 * the same leading tokens takes those blocks instead of recomputing them. Cached blocks are evicted least recently
 * released first, and only when no free block is left.
 *
 * <p>Sequences may share blocks (prefix hits, forked sequences of one request); a shared block about to be written
 * is copied first. Not thread-safe: the engine loop is its only user.
 */
public final class BlockManager {

    private static final class Block {
        final int id;
        int refCount;
        /** Identity in the prefix cache, unique for all time; 0 when the block is not registered. */
        long cacheId;
        long hash;
        /** {@link #cacheId} of the block before this one in the prefix, 0 for a first block. */
        long parentCacheId;
        /** This block's own tokens, compared on every hash hit so that a collision can never reuse wrong KV. */
        int[] tokens;

        Block(int id) {
            this.id = id;
        }
    }

    /**
     * Cached blocks that hold the leading tokens of a sequence, found by {@link #matchPrefix}. Holds no references:
     * pass it straight to {@link #allocate(BlockTable, PrefixMatch, int)}.
     */
    public record PrefixMatch(int[] blockIds, long chainHash, long chainId, int queriedTokens) {
        public static final PrefixMatch NONE = new PrefixMatch(new int[0], 0, 0, 0);

        public int blocks() {
            return blockIds.length;
        }
    }

    private final KvCache cache;
    private final int blockSize;
    private final boolean prefixCaching;
    private final Block[] blocks;
    private final ArrayDeque<Block> free = new ArrayDeque<>();
    /** Cached, unreferenced blocks; iteration order is eviction order (least recently released first). */
    private final LinkedHashSet<Block> evictable = new LinkedHashSet<>();
    private final Map<Long, Block> cachedByHash = new HashMap<>();
    private long nextCacheId = 1;
    private long prefixQueryTokens;
    private long prefixHitTokens;

    public BlockManager(KvCache cache, boolean prefixCaching) {
        if (cache.numBlocks() < 1 || cache.blockSize() < 1) {
            throw new IllegalArgumentException("KV cache needs at least one block of at least one token, got "
                    + cache.numBlocks() + " blocks of " + cache.blockSize());
        }
        this.cache = cache;
        this.blockSize = cache.blockSize();
        this.prefixCaching = prefixCaching;
        this.blocks = new Block[cache.numBlocks()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = new Block(i);
            free.addLast(blocks[i]);
        }
    }

    public int blockSize() {
        return blockSize;
    }

    public int totalBlocks() {
        return blocks.length;
    }

    /** Blocks holding nothing useful. */
    public int freeBlocks() {
        return free.size();
    }

    /** Unreferenced blocks kept for prefix reuse; they become free when memory is needed. */
    public int cachedBlocks() {
        return evictable.size();
    }

    /** Blocks referenced by at least one sequence. */
    public int usedBlocks() {
        return blocks.length - free.size() - evictable.size();
    }

    /** Blocks an allocation could get right now (free plus evictable). */
    public int availableBlocks() {
        return free.size() + evictable.size();
    }

    /** Prompt tokens looked up in the prefix cache by admitted sequences. */
    public long prefixQueryTokens() {
        return prefixQueryTokens;
    }

    /** Of {@link #prefixQueryTokens()}, those found cached. */
    public long prefixHitTokens() {
        return prefixHitTokens;
    }

    /** Number of blocks needed to hold {@code tokens} positions. */
    public int blocksFor(int tokens) {
        return (tokens + blockSize - 1) / blockSize;
    }

    /**
     * Finds the cached blocks holding the longest prefix of {@code tokens[0 .. limit)} made of whole blocks. Changes
     * nothing; the blocks are only taken by {@link #allocate(BlockTable, PrefixMatch, int)}.
     */
    public PrefixMatch matchPrefix(int[] tokens, int limit) {
        if (!prefixCaching) return PrefixMatch.NONE;
        int maxBlocks = Math.min(limit, tokens.length) / blockSize;
        int[] hits = new int[maxBlocks];
        int found = 0;
        long hash = 0;
        long id = 0;
        for (; found < maxBlocks; found++) {
            long h = chain(hash, tokens, found * blockSize, blockSize);
            Block b = cachedByHash.get(h);
            if (b == null || b.parentCacheId != id || !sameTokens(b.tokens, tokens, found * blockSize)) break;
            hits[found] = b.id;
            hash = h;
            id = b.cacheId;
        }
        return new PrefixMatch(Arrays.copyOf(hits, found), hash, id, limit);
    }

    /**
     * Starts an empty table: takes the matched prefix blocks and enough new blocks to hold positions
     * {@code [0, upTo)}. Returns false, changing nothing, when not enough blocks are available.
     */
    public boolean allocate(BlockTable table, PrefixMatch match, int upTo) {
        if (table.size() != 0) throw new IllegalStateException("allocate needs an empty block table, got " + table);
        int needed = Math.max(0, blocksFor(upTo) - match.blocks());
        int revived = 0;
        for (int id : match.blockIds()) {
            if (blocks[id].refCount == 0) revived++;
        }
        if (needed > availableBlocks() - revived) return false;
        for (int id : match.blockIds()) {
            Block b = blocks[id];
            if (b.refCount++ == 0) evictable.remove(b);
            table.add(id);
        }
        table.hashedBlocks = match.blocks();
        table.chainHash = match.chainHash();
        table.chainId = match.chainId();
        for (int i = 0; i < needed; i++) table.add(take().id);
        prefixQueryTokens += match.queriedTokens();
        prefixHitTokens += (long) match.blocks() * blockSize;
        return true;
    }

    /**
     * Makes the table cover positions {@code [0, upTo)} before a forward pass writes positions
     * {@code [writeFrom, upTo)}: appends new blocks and copies any shared block in the written range so that other
     * sequences keep their contents. Returns false, changing nothing, when not enough blocks are available.
     */
    public boolean allocateSlots(BlockTable table, int writeFrom, int upTo) {
        int target = blocksFor(upTo);
        int needed = Math.max(0, target - table.size());
        int firstWritten = writeFrom / blockSize;
        int lastExisting = Math.min(table.size(), target);
        int copies = 0;
        for (int i = firstWritten; i < lastExisting; i++) {
            if (blocks[table.get(i)].refCount > 1) copies++;
        }
        if (needed + copies > availableBlocks()) return false;
        for (int i = firstWritten; i < lastExisting; i++) {
            Block shared = blocks[table.get(i)];
            if (shared.refCount > 1) {
                Block copy = take();
                cache.copyBlock(shared.id, copy.id);
                shared.refCount--;
                table.set(i, copy.id);
            }
        }
        for (int i = 0; i < needed; i++) table.add(take().id);
        return true;
    }

    /** Makes {@code child} share all of {@code parent}'s blocks (sequences of one request after their prompt). */
    public void fork(BlockTable parent, BlockTable child) {
        if (child.size() != 0) throw new IllegalStateException("fork needs an empty child table, got " + child);
        for (int i = 0; i < parent.size(); i++) blocks[parent.get(i)].refCount++;
        child.copyFrom(parent);
    }

    /**
     * Registers the table's full blocks among its first {@code computedTokens} positions (whose KV is now written)
     * in the prefix cache. {@code tokens} are the sequence's tokens, at least {@code computedTokens} of them.
     */
    public void cacheFullBlocks(BlockTable table, int[] tokens, int computedTokens) {
        if (!prefixCaching) return;
        int full = Math.min(computedTokens / blockSize, table.size());
        while (table.hashedBlocks < full && !table.chainBroken) {
            int index = table.hashedBlocks;
            int from = index * blockSize;
            Block b = blocks[table.get(index)];
            long h = chain(table.chainHash, tokens, from, blockSize);
            long identity;
            if (b.cacheId != 0) {
                identity = b.cacheId; // shared with another sequence that registered it already
            } else {
                Block existing = cachedByHash.get(h);
                if (existing == null) {
                    b.cacheId = nextCacheId++;
                    b.hash = h;
                    b.parentCacheId = table.chainId;
                    b.tokens = Arrays.copyOfRange(tokens, from, from + blockSize);
                    cachedByHash.put(h, b);
                    identity = b.cacheId;
                } else if (existing.parentCacheId == table.chainId && sameTokens(existing.tokens, tokens, from)) {
                    identity = existing.cacheId; // computed twice at once; the first copy stays the cached one
                } else {
                    table.chainBroken = true; // a genuine 64-bit collision: stop caching this sequence
                    return;
                }
            }
            table.hashedBlocks++;
            table.chainHash = h;
            table.chainId = identity;
        }
    }

    /**
     * Releases all of the table's blocks and empties it. Blocks nobody references any more stay cached when
     * registered (tail blocks are released first, so they are evicted before the prefix they extend).
     */
    public void free(BlockTable table) {
        for (int i = table.size() - 1; i >= 0; i--) {
            Block b = blocks[table.get(i)];
            if (b.refCount <= 0) throw new IllegalStateException("block " + b.id + " released more often than taken");
            if (--b.refCount == 0) {
                if (b.cacheId != 0) evictable.add(b);
                else free.addLast(b);
            }
        }
        table.clear();
    }

    /** How many tables reference the block (for tests and diagnostics). */
    int refCount(int blockId) {
        return blocks[blockId].refCount;
    }

    /** Whether the block is registered in the prefix cache. */
    boolean isCached(int blockId) {
        return blocks[blockId].cacheId != 0;
    }

    private Block take() {
        Block b = free.pollFirst();
        if (b == null) {
            Iterator<Block> lru = evictable.iterator();
            b = lru.next(); // callers checked availableBlocks()
            lru.remove();
            cachedByHash.remove(b.hash, b);
            b.cacheId = 0;
            b.tokens = null;
        }
        b.refCount = 1;
        return b;
    }

    private boolean sameTokens(int[] blockTokens, int[] tokens, int from) {
        return Arrays.equals(blockTokens, 0, blockSize, tokens, from, from + blockSize);
    }

    /** Hash of a block's tokens chained onto the hash of everything before it. */
    static long chain(long parentHash, int[] tokens, int from, int count) {
        long h = parentHash;
        for (int i = from; i < from + count; i++) h = mix(h + 0x9E3779B97F4A7C15L + tokens[i]);
        return h;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
