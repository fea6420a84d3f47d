package dev.quill.engine.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SpeculationTest {

    @Test
    void guessesWhatFollowedTheLatestEarlierOccurrenceOfTheLastThreeTokens() {
        int[] tokens = {5, 6, 7, 1, 2, 5, 6, 7, 3, 4, 9, 5, 6, 7};
        assertThat(Speculation.lookup(tokens, tokens.length, 3)).containsExactly(3, 4, 9);
        assertThat(Speculation.lookup(tokens, tokens.length, 1)).containsExactly(3);
    }

    @Test
    void fallsBackToTheLastTwoTokensAndFindsNothingWithoutARepeat() {
        int[] tokens = {8, 1, 2, 4, 9, 3, 1, 2};
        assertThat(Speculation.lookup(tokens, tokens.length, 2)).containsExactly(4, 9);
        assertThat(Speculation.lookup(new int[] {1, 2, 3, 4, 5}, 5, 3)).isEmpty();
        assertThat(Speculation.lookup(new int[] {1, 2}, 2, 3)).isEmpty();
    }

    @Test
    void aRecentOccurrenceIsContinuedAsARepeatingPattern() {
        assertThat(Speculation.lookup(new int[] {4, 7, 7, 7}, 4, 4)).containsExactly(7, 7, 7, 7);
        assertThat(Speculation.lookup(new int[] {9, 1, 2, 1, 2, 1}, 6, 5)).containsExactly(2, 1, 2, 1, 2);
    }

    @Test
    void guessesMoreAsGuessesHoldAndStopsWhenTheyFail() {
        Speculation s = new Speculation();
        assertThat(s.guesses()).as("a fresh sequence tries one").isEqualTo(1);
        for (int i = 0; i < 6; i++) s.record(1, 1);
        assertThat(s.guesses()).isEqualTo(3);
        for (int i = 0; i < 6; i++) s.record(3, 0);
        assertThat(s.hitRate()).isLessThan(0.3);
        assertThat(s.guesses()).isZero();
    }

    @Test
    void aSequenceThatStoppedGuessingTriesOneAgainNowAndThen() {
        Speculation s = new Speculation();
        for (int i = 0; i < 8; i++) s.record(1, 0);
        int[] repeating = {3, 3, 3, 3};
        int tried = 0;
        for (int step = 0; step < 3 * (Speculation.RETRY_AFTER + 1); step++) {
            if (s.propose(repeating, 4, 4, new int[0], 3).length > 0) tried++;
        }
        assertThat(tried).isEqualTo(3);
    }

    @Test
    void aPredictionIsFollowedWhileTheOutputMatchesItAndRejoinedAfterwards() {
        int[] predicted = {10, 11, 12, 13, 14, 15, 16};
        int[] tokens = {1, 2, 10, 11, 0, 0, 0, 0};
        assertThat(Speculation.fromPrediction(tokens, 2, 2, predicted, 3)).as("nothing generated yet").containsExactly(10, 11, 12);
        assertThat(Speculation.fromPrediction(tokens, 4, 2, predicted, 3)).containsExactly(12, 13, 14);
        int[] edited = {1, 2, 10, 11, 99, 13, 14};
        assertThat(Speculation.fromPrediction(edited, 7, 2, predicted, 4)).as("rejoined after the edit").containsExactly(15, 16);
        assertThat(Speculation.fromPrediction(edited, 5, 2, predicted, 4)).as("no match right after it").isEmpty();
        assertThat(Speculation.fromPrediction(tokens, 4, 2, new int[0], 3)).isEmpty();
    }
}
