package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.GeneratedToken;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SequenceOutputTest {

    private final FakeTokenizer tokenizer = new FakeTokenizer(false);

    private GeneratedToken token(String piece) {
        return new GeneratedToken(tokenizer.tokenId(piece), piece, -0.5f, List.of());
    }

    /** Feeds pieces one token each; returns the released texts per step, then the finish text. */
    private List<String> feed(SequenceOutput output, String... pieces) {
        List<String> released = new ArrayList<>();
        for (String piece : pieces) {
            if (output.ended()) break;
            released.add(output.accept(token(piece)).text());
        }
        released.add(output.finish().text());
        return released;
    }

    private SequenceOutput output(String... stops) {
        return new SequenceOutput(tokenizer, List.of(stops), false, true, Set.of(FakeTokenizer.EOS), ContentFilter.NONE);
    }

    /** An output whose content filter blocks these terms (and, optionally, with these stop strings). */
    private SequenceOutput filtered(List<String> stops, boolean includeStop, String... terms) {
        return new SequenceOutput(tokenizer, stops, includeStop, true, Set.of(FakeTokenizer.EOS), new ContentFilter(List.of(terms)));
    }

    @Test
    void withoutStopStringsEveryTokenIsReleasedAtOnce() {
        assertThat(feed(output(), "a", "b", "c")).containsExactly("a", "b", "c", "");
    }

    @Test
    void holdsBackTextThatMayStartAStopString() {
        // "b", "r", "ow", "n": the stop "rown" spans three tokens.
        assertThat(feed(output("rown"), "b", "r", "ow", "n", "!")).containsExactly("b", "", "", "", "");
    }

    @Test
    void releasesHeldTextWhenTheMatchFails() {
        assertThat(feed(output("rown"), "b", "r", "a", "t")).containsExactly("b", "", "ra", "t", "");
    }

    @Test
    void cutsATokenWhoseTextContainsTheStop() {
        SequenceOutput output = output("o");
        assertThat(feed(output, "b", "r", "ow", "n")).containsExactly("b", "r", "", "");
        assertThat(output.matchedStop()).isEqualTo("o");
        assertThat(output.generated()).isEqualTo(3);
    }

    @Test
    void theEarliestMatchWinsAmongSeveralStops() {
        SequenceOutput output = output("ab", "b");
        output.accept(token("a"));
        SequenceOutput.Piece piece = output.accept(token("b"));
        assertThat(piece.text()).isEmpty();
        assertThat(output.matchedStop()).isEqualTo("ab");
    }

    @Test
    void canKeepTheStopStringInTheOutput() {
        SequenceOutput output = new SequenceOutput(tokenizer, List.of("ow"), true, true, Set.of(), ContentFilter.NONE);
        assertThat(feed(output, "b", "r", "ow", "n")).containsExactly("b", "r", "ow", "");
    }

    @Test
    void releasedTokensCarryTheirOffsetsAndTheCutTokenIsIncluded() {
        SequenceOutput output = output("wn");
        output.accept(token("b"));
        SequenceOutput.Piece held = output.accept(token("ow"));
        assertThat(held.tokens()).isEmpty();
        SequenceOutput.Piece last = output.accept(token("n"));
        assertThat(last.text()).isEqualTo("o");
        assertThat(last.tokens()).extracting(e -> e.token().text()).containsExactly("ow", "n");
        assertThat(last.tokens()).extracting(SequenceOutput.Emitted::start).containsExactly(0, 1);
    }

    @Test
    void endOfGenerationAndSkippedSpecialTokensAddNoText() {
        SequenceOutput output = output();
        SequenceOutput.Piece eos = output.accept(new GeneratedToken(FakeTokenizer.EOS, "</s>", -1, List.of()));
        assertThat(eos.text()).isEmpty();
        assertThat(eos.tokens()).hasSize(1);
        assertThat(output.accept(new GeneratedToken(FakeTokenizer.IM_START, "<|im_start|>", -1, List.of())).text()).isEmpty();
        SequenceOutput keep = new SequenceOutput(tokenizer, List.of(), false, false, Set.of(), ContentFilter.NONE);
        assertThat(keep.accept(new GeneratedToken(FakeTokenizer.IM_START, "<|im_start|>", -1, List.of())).text()).isEqualTo("<|im_start|>");
    }

    @Test
    void aStopStringOverlappingHeldTextIsFoundAcrossSteps() {
        // Held "ab" could start "abc" or "abd"; "d" completes the second.
        SequenceOutput output = output("abc", "abd");
        assertThat(feed(output, "x", "a", "b", "d", "e")).containsExactly("x", "", "", "", "");
        assertThat(output.matchedStop()).isEqualTo("abd");
    }

    @Test
    void aBlockedTermIsHeldBackAcrossTokensIgnoringCaseAndCutBeforeItsStart() {
        SequenceOutput output = filtered(List.of(), false, "ROWN");
        assertThat(feed(output, "b", "r", "ow", "n", "!")).containsExactly("b", "", "", "", "");
        assertThat(output.filtered()).isTrue();
        assertThat(output.matchedStop()).isNull();
        assertThat(output.generated()).isEqualTo(4);
    }

    @Test
    void textThatStopsLookingLikeABlockedTermIsReleased() {
        SequenceOutput output = filtered(List.of(), false, "rown");
        assertThat(feed(output, "b", "R", "a", "t")).containsExactly("b", "", "Ra", "t", "");
        assertThat(output.filtered()).isFalse();
    }

    @Test
    void tokensHoldingPartOfABlockedTermAreLeftOutOfTheCutPiece() {
        SequenceOutput output = filtered(List.of(), false, "wn");
        output.accept(token("b"));
        SequenceOutput.Piece held = output.accept(token("ow"));
        assertThat(held.text()).isEmpty();
        SequenceOutput.Piece last = output.accept(token("n"));
        assertThat(last.text()).isEqualTo("o");
        assertThat(last.tokens()).as("'ow' would show the w").isEmpty();
        assertThat(output.finish()).isEqualTo(SequenceOutput.Piece.EMPTY);
    }

    @Test
    void theEarlierOfAStopStringAndABlockedTermEndsTheSequence() {
        SequenceOutput stopFirst = filtered(List.of("b"), false, "cd");
        assertThat(feed(stopFirst, "a", "b", "c", "d")).containsExactly("a", "", "");
        assertThat(stopFirst.matchedStop()).isEqualTo("b");
        assertThat(stopFirst.filtered()).isFalse();

        SequenceOutput termFirst = filtered(List.of("cd"), false, "b");
        assertThat(feed(termFirst, "a", "b", "c", "d")).containsExactly("a", "", "");
        assertThat(termFirst.filtered()).isTrue();
        assertThat(termFirst.matchedStop()).isNull();
    }

    @Test
    void aStopStringKeptInTheOutputMustNotBringABlockedTermWithIt() {
        SequenceOutput output = filtered(List.of("xyz"), true, "y");
        assertThat(feed(output, "a", "x", "y", "z")).containsExactly("a", "", "x", "");
        assertThat(output.filtered()).isTrue();
    }
}
