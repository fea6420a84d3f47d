package dev.quill.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.engine.gguf.GgufException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class MergeTableTest {
    private static final String[] PIECES = {"a", "b", "ab", "Ġ", "Ġab"};

    private static Vocabulary vocabulary() {
        TokenType[] types = new TokenType[PIECES.length];
        Arrays.fill(types, TokenType.NORMAL);
        return new Vocabulary(PIECES, types, new float[PIECES.length], -1, -1, -1, -1, -1, false, false);
    }

    @Test
    void ranksRulesByTheirPositionAndNamesTheResult() {
        MergeTable table = new MergeTable(new String[] {"a b", "Ġ ab"}, vocabulary());
        assertThat(table.rank(0, 1)).isEqualTo(0);
        assertThat(table.mergedId(0)).isEqualTo(2);
        assertThat(table.rank(3, 2)).isEqualTo(1);
        assertThat(table.mergedId(1)).isEqualTo(4);
        assertThat(table.rank(1, 0)).isEqualTo(-1);
    }

    @Test
    void keepsTheFirstRankOfARepeatedRuleAndSkipsRulesOverNonTokens() {
        MergeTable table = new MergeTable(new String[] {"x y", "a b", "a b"}, vocabulary());
        assertThat(table.rank(0, 1)).isEqualTo(1);
    }

    @Test
    void rejectsARuleWithoutTwoSides() {
        assertThatThrownBy(() -> new MergeTable(new String[] {"a b", "ab"}, vocabulary()))
                .isInstanceOf(GgufException.class)
                .hasMessageContaining("tokenizer.ggml.merges[1] = 'ab'");
    }
}
