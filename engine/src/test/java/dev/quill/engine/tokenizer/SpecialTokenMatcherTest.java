package dev.quill.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.tokenizer.SpecialTokenMatcher.Segment;
import org.junit.jupiter.api.Test;

class SpecialTokenMatcherTest {
    // ids: 0 <unk> (unknown), 1 <s>, 2 </s>, 3 <|a|>, 4 <|a|><|b|> (control), 5 <b>, 6 \n\n (user-defined), 7 x
    private static final SpecialTokenMatcher MATCHER = new SpecialTokenMatcher(new Vocabulary(
            new String[] {"<unk>", "<s>", "</s>", "<|a|>", "<|a|><|b|>", "<b>", "\n\n", "x"},
            new TokenType[] {TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL,
                    TokenType.CONTROL, TokenType.USER_DEFINED, TokenType.USER_DEFINED, TokenType.NORMAL},
            new float[8], 1, 2, 0, -1, -1, false, false));

    @Test
    void findsControlAndUnknownTokensOnlyWhenParsingSpecials() {
        assertThat(MATCHER.split("x<s>y<unk>", true)).containsExactly(
                new Segment("x", -1), new Segment(null, 1), new Segment("y", -1), new Segment(null, 0));
        assertThat(MATCHER.split("x<s>y<unk>", false)).containsExactly(new Segment("x<s>y<unk>", -1));
    }

    @Test
    void alwaysFindsUserDefinedTokens() {
        assertThat(MATCHER.split("a<b>\n\nc", false)).containsExactly(
                new Segment("a", -1), new Segment(null, 5), new Segment(null, 6), new Segment("c", -1));
    }

    @Test
    void prefersTheLongestTokenAtAPosition() {
        assertThat(MATCHER.split("<|a|><|b|><|a|>", true)).containsExactly(new Segment(null, 4), new Segment(null, 3));
        assertThat(MATCHER.split("\n\n\n", false)).containsExactly(new Segment(null, 6), new Segment("\n", -1));
    }

    @Test
    void leavesTextWithoutSpecialsWholeAndEmptyTextEmpty() {
        assertThat(MATCHER.split("plain <text>", true)).containsExactly(new Segment("plain <text>", -1));
        assertThat(MATCHER.split("", true)).isEmpty();
    }
}
