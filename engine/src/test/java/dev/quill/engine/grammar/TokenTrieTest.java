package dev.quill.engine.grammar;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TokenTrieTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3"})
    void everyTextTokenSitsAtTheEndOfItsBytes(String vocabulary) {
        Tokenizer tokenizer = Vocabularies.load(vocabulary);
        TokenTrie trie = TokenTrie.of(tokenizer);
        assertThat(TokenTrie.of(tokenizer)).as("cached per tokenizer").isSameAs(trie);
        byte[][] path = new byte[trie.maxDepth + 1][];
        path[0] = new byte[0];
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < trie.nodeCount(); i++) {
            int depth = trie.node[i] >>> 8;
            path[depth] = Arrays.copyOf(path[depth - 1], depth);
            path[depth][depth - 1] = (byte) trie.node[i];
            assertThat(trie.skip[i]).isGreaterThan(i);
            if (trie.skip[i] < trie.nodeCount()) assertThat(trie.node[trie.skip[i]] >>> 8).isLessThanOrEqualTo(depth);
            for (int k = trie.tokenOffset[i]; k < trie.tokenOffset[i + 1]; k++) {
                int id = trie.tokens[k];
                assertThat(tokenizer.tokenBytes(id)).isEqualTo(path[depth]);
                assertThat(seen.add(id)).isTrue();
            }
        }
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            boolean text = !tokenizer.isSpecial(id) && !tokenizer.endOfGenerationIds().contains(id) && tokenizer.tokenBytes(id).length > 0;
            assertThat(seen.contains(id)).as("token %d (%s)", id, tokenizer.tokenPiece(id)).isEqualTo(text);
        }
        for (int eog : tokenizer.endOfGenerationIds()) assertThat(trie.isEndOfGeneration(eog)).isTrue();
    }
}
