package dev.quill.engine.grammar;

import dev.quill.engine.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.Random;

/**
 * Constrained "generation" by a model that picks uniformly among the allowed tokens, the end-of-generation tokens
 * included: the most erratic sampler there is, so what holds for it (every output valid, every output finished)
 * does not rely on a model's good manners. Follows the scheduler's protocol: mask with the tokens left, accept, stop
 * on an end-of-generation token or when the matcher says the generation is finished.
 */
final class RandomWalks {

    /** @param stopped ended complete (by an end-of-generation token or the grammar), not by running out of tokens */
    record Walk(String text, boolean stopped, int tokens) {}

    private RandomWalks() {}

    static Walk walk(Grammar grammar, Tokenizer tokenizer, long seed, int maxTokens) {
        Random random = new Random(seed);
        GrammarMatcher m = grammar.matcher(tokenizer);
        BitSet mask = new BitSet(tokenizer.vocabSize());
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        for (int generated = 0; generated < maxTokens; generated++) {
            int tokensLeft = maxTokens - generated;
            m.fillMask(mask, tokensLeft);
            int token = nth(mask, random.nextInt(mask.cardinality()));
            if (tokenizer.endOfGenerationIds().contains(token)) return new Walk(utf8(text), true, generated + 1);
            if (!m.acceptToken(token)) throw new AssertionError("the mask allowed token " + token + " but the matcher refused it");
            text.writeBytes(tokenizer.tokenBytes(token));
            if (m.isFinished(tokensLeft - 1)) return new Walk(utf8(text), true, generated + 1);
        }
        return new Walk(utf8(text), false, maxTokens);
    }

    private static int nth(BitSet bits, int n) {
        int i = bits.nextSetBit(0);
        for (int k = 0; k < n; k++) i = bits.nextSetBit(i + 1);
        return i;
    }

    private static String utf8(ByteArrayOutputStream bytes) {
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
