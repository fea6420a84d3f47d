package dev.quill.engine.tokenizer;

import static dev.quill.engine.tokenizer.TestVocabularies.CONTROL;
import static dev.quill.engine.tokenizer.TestVocabularies.USER_DEFINED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.gguf.Metadata;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SentencePieceTokenizerTest {

    /** ▁ a b c with pieces ab (score -2), bc (-1), abc (-3), ▁a (-4); <0xNN> bytes; no dummy prefix unless asked. */
    private static TestVocabularies.Builder letters() {
        return TestVocabularies.spm(true)
                .normal("▁", -10).normal("a", -10).normal("b", -10).normal("c", -10)
                .normal("ab", -2).normal("bc", -1).normal("abc", -3).normal("▁a", -4);
    }

    private static Tokenizer tokenizer(TestVocabularies.Builder b, boolean addSpacePrefix) {
        Metadata m = b.metadata("llama").putBool(Tokenizers.ADD_SPACE_PREFIX, addSpacePrefix);
        return Tokenizers.fromMetadata(m);
    }

    @Test
    void mergesTheHighestScoringPairFirst() {
        TestVocabularies.Builder b = letters();
        Tokenizer t = tokenizer(b, false);
        // "bc" (-1) beats "ab" (-2); then "a"+"bc" = "abc" exists and merges.
        assertThat(t.encode("abc", false, false)).containsExactly(b.id("abc"));
        // "ab" then nothing: "abb" has no piece for "ab"+"b", and "bb" is not a piece.
        assertThat(t.encode("abb", false, false)).containsExactly(b.id("ab"), b.id("b"));
    }

    @Test
    void equalScoresMergeLeftmostFirst() {
        TestVocabularies.Builder b = TestVocabularies.spm(true).normal("a", -10).normal("aa", -1);
        Tokenizer t = tokenizer(b, false);
        assertThat(t.encode("aaa", false, false)).containsExactly(b.id("aa"), b.id("a"));
    }

    @Test
    void spellsSpacesAsTheMarkAndAddsTheDummyPrefix() {
        TestVocabularies.Builder b = letters();
        Tokenizer t = tokenizer(b, true);
        assertThat(t.encode("a a", false, false)).containsExactly(b.id("▁a"), b.id("▁a"));
        assertThat(tokenizer(b, false).encode("a a", false, false)).containsExactly(b.id("a"), b.id("▁a"));
    }

    @Test
    void prefixesTextAfterEverySpecialTokenButNotElsewhere() {
        TestVocabularies.Builder b = letters();
        Tokenizer t = tokenizer(b, true);
        assertThat(t.encode("a</s>a", false, true)).containsExactly(b.id("▁a"), 2, b.id("▁a"));
        assertThat(t.encode("a</s>a", true, true)).containsExactly(1, b.id("▁a"), 2, b.id("▁a"));
    }

    @Test
    void fallsBackToUtf8ByteTokens() {
        TestVocabularies.Builder b = letters();
        Tokenizer t = tokenizer(b, false);
        // 'é' is C3 A9, the llama emoji F0 9F A6 99: neither has a piece.
        assertThat(t.encode("é", false, false)).containsExactly(b.id("<0xC3>"), b.id("<0xA9>"));
        assertThat(t.encode("a🦙", false, false))
                .containsExactly(b.id("a"), b.id("<0xF0>"), b.id("<0x9F>"), b.id("<0xA6>"), b.id("<0x99>"));
    }

    @Test
    void usesTheUnknownTokenWhenThereAreNoByteTokens() {
        TestVocabularies.Builder b = TestVocabularies.spm(false).normal("a", -1);
        Tokenizer t = tokenizer(b, false);
        assertThat(t.encode("aéa🦙", false, false)).containsExactly(b.id("a"), 0, b.id("a"), 0);
    }

    @Test
    void encodesTheEmptyStringToNothingOrJustBos() {
        Tokenizer t = tokenizer(letters(), true);
        assertThat(t.encode("", false, false)).isEmpty();
        assertThat(t.encode("", true, false)).containsExactly(1);
    }

    @Test
    void neverMergesUserTextIntoAControlToken() {
        TestVocabularies.Builder b = TestVocabularies.spm(true).normal("<", -1).normal("/", -1).normal("s", -1)
                .normal(">", -1).normal("</", -1).normal("s>", -1);
        Tokenizer t = tokenizer(b, false);
        assertThat(t.encode("</s>", false, false)).containsExactly(b.id("</"), b.id("s>"));
        assertThat(t.encode("</s>", false, true)).containsExactly(2);
    }

    @Test
    void alwaysSplitsOutUserDefinedTokens() {
        TestVocabularies.Builder b = letters().token("<b>", -1000, USER_DEFINED).token("<ctl>", -1000, CONTROL);
        Tokenizer t = tokenizer(b, false);
        assertThat(t.encode("a<b>a", false, false)).containsExactly(b.id("a"), b.id("<b>"), b.id("a"));
        assertThat(t.encode("<ctl>", false, false)).doesNotContain(b.id("<ctl>"));
        assertThat(t.encode("<ctl>", false, true)).containsExactly(b.id("<ctl>"));
    }

    @Test
    void decodeDropsTheDummyPrefixButNotAfterBos() {
        TestVocabularies.Builder b = letters();
        Tokenizer t = tokenizer(b, true);
        int[] ids = t.encode("a a", false, false);
        assertThat(t.decode(ids)).isEqualTo("a a");
        assertThat(t.decode(t.encode("a a", true, false))).isEqualTo("<s> a a");
        assertThat(tokenizer(b, false).decode(ids)).isEqualTo(" a a");
    }

    @Test
    void tokenBytesMapTheSpaceMarkAndByteTokens() {
        TestVocabularies.Builder b = letters();
        Tokenizer t = tokenizer(b, true);
        assertThat(t.tokenBytes(b.id("▁a"))).isEqualTo(" a".getBytes(StandardCharsets.UTF_8));
        assertThat(t.tokenBytes(b.id("<0xC3>"))).containsExactly((byte) 0xC3);
        assertThat(t.tokenBytes(2)).isEqualTo("</s>".getBytes(StandardCharsets.UTF_8));
        assertThat(t.tokenPiece(b.id("▁a"))).isEqualTo("▁a");
        assertThat(t.tokenId("▁a")).isEqualTo(b.id("▁a"));
    }

    @Test
    void roundTripsTextThroughByteFallback() {
        Tokenizer t = tokenizer(letters(), true);
        String text = "abc é 🦙 a\n\tb";
        assertThat(t.decode(t.encode(text, false, false))).isEqualTo(text);
    }

    @Test
    void streamingHoldsBackAnEmojiUntilItsLastByte() {
        TestVocabularies.Builder b = letters();
        Tokenizer t = tokenizer(b, true);
        Tokenizer.StreamingDecoder stream = t.newStreamingDecoder();
        assertThat(stream.next(b.id("▁a"))).isEqualTo(" a");
        assertThat(stream.next(b.id("<0xF0>"))).isEmpty();
        assertThat(stream.next(b.id("<0x9F>"))).isEmpty();
        assertThat(stream.next(b.id("<0xA6>"))).isEmpty();
        assertThat(stream.next(b.id("<0x99>"))).isEqualTo("🦙");
        assertThat(stream.finish()).isEmpty();
    }
}
