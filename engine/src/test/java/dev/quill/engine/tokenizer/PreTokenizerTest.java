package dev.quill.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.engine.gguf.GgufException;
import org.junit.jupiter.api.Test;

class PreTokenizerTest {

    @Test
    void llama3GroupsDigitsByThreeAndKeepsContractionsApart() {
        assertThat(PreTokenizer.forName("llama-bpe").split("I'll pay 1234567 now!!\n\n  ok"))
                .containsExactly("I", "'ll", " pay", " ", "123", "456", "7", " now", "!!\n\n", " ", " ok");
    }

    @Test
    void llama3MatchesContractionsInAnyCase() {
        assertThat(PreTokenizer.forName("llama3").split("WE'VE")).containsExactly("WE", "'VE");
    }

    @Test
    void qwen2SplitsEveryDigitAndNormalisesToNfc() {
        PreTokenizer qwen = PreTokenizer.forName("qwen2");
        assertThat(qwen.split("ab 123")).containsExactly("ab", " ", "1", "2", "3");
        assertThat(qwen.split("Cafe\u0301")).containsExactly("Caf\u00e9");
    }

    @Test
    void gpt2KeepsTheSpaceWithTheFollowingWord() {
        assertThat(PreTokenizer.forName("gpt-2").split("Hello  world 42\tx"))
                .containsExactly("Hello", " ", " world", " 42", "\t", "x");
    }

    @Test
    void smollmSplitsDigitsBeforeTheGpt2Rules() {
        assertThat(PreTokenizer.forName("smollm").split("x 123")).containsExactly("x", " ", "1", "2", "3");
    }

    @Test
    void defaultChainsPunctuationWordsAndNumbers() {
        // Each regex splits the pieces of the previous one: the last cuts numbers after every third digit.
        assertThat(PreTokenizer.forName("default").split("hi, 12345!")).containsExactly("hi", ",", " ", "123", "45", "!");
        assertThat(PreTokenizer.forName(null)).isEqualTo(PreTokenizer.forName("default"));
    }

    @Test
    void wordsConcatenateBackToTheText() {
        String text = "\n \n\n \t\t x  y\r\n🦙🦙 我想在apple工作 3.14 ----";
        for (String name : new String[] {"llama-bpe", "qwen2", "gpt-2", "smollm", "default"}) {
            assertThat(String.join("", PreTokenizer.forName(name).split(text))).as(name).isEqualTo(text);
        }
    }

    @Test
    void rejectsUnknownNamesListingTheKnownOnes() {
        assertThatThrownBy(() -> PreTokenizer.forName("tekken"))
                .isInstanceOf(GgufException.class)
                .hasMessageContaining("'tekken'")
                .hasMessageContaining("llama-bpe");
    }
}
