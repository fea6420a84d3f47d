package dev.quill.server.tools;

import dev.quill.engine.grammar.Grammar;
import dev.quill.engine.grammar.GrammarMatcher;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random texts of a grammar, for property tests that need no model: a walk over bytes that picks any allowed byte
 * (printable ASCII most of the time, so texts stay readable) and, after {@code softLimit} bytes, only bytes that
 * bring the end closest, so every walk ends with a complete text.
 */
public final class GrammarSampler {

    private GrammarSampler() {}

    public static String sample(Grammar grammar, Random random, int softLimit) {
        GrammarMatcher m = grammar.matcher();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int step = 0; ; step++) {
            boolean late = step >= softLimit;
            if (m.isComplete() && (!m.canContinue() || late || random.nextInt(8) == 0)) break;
            List<Integer> allowed = new ArrayList<>();
            List<Integer> closest = new ArrayList<>();
            int best = Integer.MAX_VALUE;
            for (int b = 0; b < 256; b++) {
                GrammarMatcher next = m.copy();
                if (!next.acceptBytes(new byte[] {(byte) b})) continue;
                allowed.add(b);
                int distance = next.minBytesToComplete();
                if (distance < best) {
                    best = distance;
                    closest.clear();
                }
                if (distance == best) closest.add(b);
            }
            if (allowed.isEmpty()) throw new AssertionError("the grammar allows no byte after " + out.toString(StandardCharsets.UTF_8));
            List<Integer> pool = late ? closest : allowed;
            List<Integer> printable = pool.stream().filter(b -> b >= 0x20 && b < 0x7f).toList();
            if (!printable.isEmpty() && random.nextInt(10) > 0) pool = printable;
            int b = pool.get(random.nextInt(pool.size()));
            m.acceptBytes(new byte[] {(byte) b});
            out.write(b);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
