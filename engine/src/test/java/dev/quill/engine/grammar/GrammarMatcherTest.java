package dev.quill.engine.grammar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class GrammarMatcherTest {

    /** Whether the whole text matches: accepted and complete. */
    static boolean matches(Grammar g, String text) {
        GrammarMatcher m = g.matcher();
        return m.acceptString(text) && m.isComplete();
    }

    /** Whether the text is the beginning of some match. */
    static boolean isPrefix(Grammar g, String text) {
        return g.matcher().acceptString(text);
    }

    static Grammar gbnf(String text) {
        return Grammars.gbnf(text);
    }

    @Nested
    class Constructs {
        @Test
        void literalMatchesExactlyItsText() {
            Grammar g = gbnf("root ::= \"hello\"");
            assertThat(matches(g, "hello")).isTrue();
            assertThat(matches(g, "hell")).isFalse();
            assertThat(isPrefix(g, "hell")).isTrue();
            assertThat(isPrefix(g, "hello!")).isFalse();
            assertThat(isPrefix(g, "help")).isFalse();
        }

        @Test
        void alternativesAndSequences() {
            Grammar g = gbnf("root ::= (\"a\" | \"bc\") \"-\" (\"x\" | \"\")");
            assertThat(matches(g, "a-")).isTrue();
            assertThat(matches(g, "bc-x")).isTrue();
            assertThat(matches(g, "b-")).isFalse();
            assertThat(matches(g, "a-y")).isFalse();
        }

        @Test
        void characterClassesWithRangesAndNegation() {
            Grammar g = gbnf("root ::= [a-c0-9_] [^a-z]");
            assertThat(matches(g, "b5")).isTrue();
            assertThat(matches(g, "_Z")).isTrue();
            assertThat(matches(g, "9é")).isTrue();
            assertThat(matches(g, "dZ")).isFalse();
            assertThat(matches(g, "aq")).isFalse();
        }

        @Test
        void classesRangeOverUnicodeCodePoints() {
            Grammar g = gbnf("root ::= [α-ω]+ [^\\x00-\\x7F]");
            assertThat(matches(g, "λμ日")).isTrue();
            assertThat(matches(g, "λ😀")).isTrue();
            assertThat(matches(g, "λa")).isFalse();
            assertThat(matches(g, "aλ")).isFalse();
        }

        @Test
        void anyCharacterIncludesEveryCodePointButNoInvalidUtf8() {
            Grammar g = gbnf("root ::= . .");
            assertThat(matches(g, "\n😀")).isTrue();
            GrammarMatcher m = g.matcher();
            assertThat(m.acceptBytes(new byte[] {(byte) 0xC0, (byte) 0x80})).as("overlong encoding").isFalse();
            assertThat(m.acceptBytes(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})).as("surrogate").isFalse();
            assertThat(m.acceptBytes(new byte[] {(byte) 0xF4, (byte) 0x90})).as("above U+10FFFF").isFalse();
            assertThat(m.acceptBytes(new byte[] {(byte) 0x80})).as("lone continuation byte").isFalse();
        }

        @Test
        void repetitionOperators() {
            Grammar star = gbnf("root ::= \"a\"*");
            assertThat(matches(star, "")).isTrue();
            assertThat(matches(star, "aaaa")).isTrue();
            Grammar plus = gbnf("root ::= \"a\"+");
            assertThat(matches(plus, "")).isFalse();
            assertThat(matches(plus, "aaa")).isTrue();
            Grammar optional = gbnf("root ::= \"a\"? \"b\"");
            assertThat(matches(optional, "b")).isTrue();
            assertThat(matches(optional, "ab")).isTrue();
            assertThat(matches(optional, "aab")).isFalse();
        }

        @Test
        void boundedRepetition() {
            Grammar g = gbnf("root ::= [0-9]{2,4}");
            assertThat(matches(g, "1")).isFalse();
            assertThat(matches(g, "12")).isTrue();
            assertThat(matches(g, "1234")).isTrue();
            assertThat(isPrefix(g, "12345")).isFalse();
            assertThat(matches(gbnf("root ::= \"ab\"{3}"), "ababab")).isTrue();
            assertThat(matches(gbnf("root ::= \"ab\"{3}"), "abab")).isFalse();
            assertThat(matches(gbnf("root ::= \"x\"{2,}"), "xxxxxxx")).isTrue();
            assertThat(matches(gbnf("root ::= \"x\"{2,}"), "x")).isFalse();
            assertThat(matches(gbnf("root ::= \"x\"{0}"), "")).isTrue();
        }

        @Test
        void recursiveRules() {
            Grammar g = gbnf("""
                    root ::= list
                    list ::= "[" (item ("," item)*)? "]"
                    item ::= [0-9] | list
                    """);
            assertThat(matches(g, "[]")).isTrue();
            assertThat(matches(g, "[1,[2,[]],[[3]]]")).isTrue();
            assertThat(matches(g, "[1,]")).isFalse();
            assertThat(matches(g, "[[1]")).isFalse();
            assertThat(isPrefix(g, "[[[[[[[[[[")).isTrue();
        }

        @Test
        void nullableLoopsTerminate() {
            Grammar g = gbnf("root ::= (\"a\"? \"b\"?)* \"c\"");
            assertThat(matches(g, "c")).isTrue();
            assertThat(matches(g, "abbac")).isTrue();
            assertThat(matches(g, "abx")).isFalse();
        }

        @Test
        void ambiguousGrammarsKeepEveryParse() {
            Grammar g = gbnf("root ::= \"a\"* \"a\"* \"b\" | \"aa\" \"c\"");
            assertThat(matches(g, "aaab")).isTrue();
            assertThat(matches(g, "aac")).isTrue();
            assertThat(matches(g, "aaac")).isFalse();
        }
    }

    @Nested
    class BytesAndCharacters {
        @Test
        void oneStepMayCoverSeveralSymbolsAndRules() {
            Grammar g = gbnf("""
                    root ::= "{" key ":" value "}"
                    key ::= [a-z]+
                    value ::= [0-9]+
                    """);
            GrammarMatcher m = g.matcher();
            assertThat(m.acceptString("{ab")).isTrue();
            assertThat(m.acceptString("c:1")).isTrue();
            assertThat(m.acceptString("2}")).isTrue();
            assertThat(m.isComplete()).isTrue();
        }

        @Test
        void aMultiByteCharacterMaySplitAcrossSteps() {
            Grammar g = gbnf("root ::= \"é\" [日-月] \"😀\"");
            byte[] text = "é日😀".getBytes(StandardCharsets.UTF_8);
            GrammarMatcher m = g.matcher();
            // Feed one byte at a time: every prefix is accepted, and only the whole text completes.
            for (int i = 0; i < text.length; i++) {
                assertThat(m.isComplete()).isFalse();
                assertThat(m.acceptBytes(new byte[] {text[i]})).as("byte %d", i).isTrue();
            }
            assertThat(m.isComplete()).isTrue();
        }

        @Test
        void partialCharactersAreCheckedByteByByte() {
            Grammar g = gbnf("root ::= [а-я]"); // Cyrillic: D0 B0 .. D1 8F
            assertThat(g.matcher().acceptBytes(new byte[] {(byte) 0xD0})).isTrue();
            assertThat(g.matcher().acceptBytes(new byte[] {(byte) 0xD0, (byte) 0xB0})).isTrue();
            assertThat(g.matcher().acceptBytes(new byte[] {(byte) 0xD0, (byte) 0x90})).as("А, upper case").isFalse();
            assertThat(g.matcher().acceptBytes(new byte[] {(byte) 0xD2})).isFalse();
        }

        @Test
        void aRejectedStepLeavesTheMatcherUnchanged() {
            GrammarMatcher m = gbnf("root ::= \"abc\"").matcher();
            assertThat(m.acceptString("a")).isTrue();
            assertThat(m.acceptString("bx")).isFalse();
            assertThat(m.acceptString("bc")).isTrue();
            assertThat(m.isComplete()).isTrue();
        }
    }

    @Nested
    class State {
        @Test
        void copiesAreIndependent() {
            GrammarMatcher a = gbnf("root ::= \"x\" (\"1\" | \"2\")").matcher();
            a.acceptString("x");
            GrammarMatcher b = a.copy();
            assertThat(a.acceptString("1")).isTrue();
            assertThat(b.isComplete()).isFalse();
            assertThat(b.acceptString("2")).isTrue();
            assertThat(a.isComplete()).isTrue();
            assertThat(b.isComplete()).isTrue();
        }

        @Test
        void completeAndContinuing() {
            GrammarMatcher m = gbnf("root ::= [0-9]+").matcher();
            assertThat(m.isComplete()).isFalse();
            m.acceptString("4");
            assertThat(m.isComplete()).isTrue();
            assertThat(m.canContinue()).isTrue();
            assertThat(m.isFinished(10)).isFalse();
            assertThat(m.isFinished(0)).as("complete with no budget left").isTrue();
            GrammarMatcher closed = gbnf("root ::= \"ok\"").matcher();
            closed.acceptString("ok");
            assertThat(closed.canContinue()).isFalse();
            assertThat(closed.isFinished(10)).isTrue();
        }

        @Test
        void minBytesToCompleteFollowsTheShortestCompletion() {
            GrammarMatcher m = gbnf("root ::= \"{\" (\"ab\" | \"abcdef\" | \"xyz\") \"}\"").matcher();
            assertThat(m.minBytesToComplete()).isEqualTo(4);
            m.acceptString("{a");
            assertThat(m.minBytesToComplete()).isEqualTo(2);
            m.acceptString("bc");
            assertThat(m.minBytesToComplete()).as("\"def}\"").isEqualTo(4);
        }

        @Test
        void textThatCanNeverCompleteIsRejected() {
            // "b" leads into a rule that never ends: not a prefix of any match.
            Grammar g = gbnf("""
                    root ::= "a" | "b" loop
                    loop ::= "x" loop
                    """);
            assertThat(isPrefix(g, "a")).isTrue();
            assertThat(isPrefix(g, "b")).isFalse();
        }
    }

    @Nested
    class Rejections {
        @Test
        void leftRecursionIsRejected() {
            assertThatThrownBy(() -> gbnf("root ::= root \"a\" | \"b\""))
                    .isInstanceOf(GrammarSyntaxException.class).hasMessageContaining("left-recursive").hasMessageContaining("'root'");
            assertThatThrownBy(() -> gbnf("root ::= x\nx ::= \"\"? y \"a\"\ny ::= x | \"b\""))
                    .isInstanceOf(GrammarSyntaxException.class).hasMessageContaining("left-recursive");
        }

        @Test
        void aRootThatCanNeverCompleteIsRejected() {
            assertThatThrownBy(() -> gbnf("root ::= \"a\" root"))
                    .isInstanceOf(GrammarSyntaxException.class).hasMessageContaining("never complete");
        }

        @Test
        void matchersWithoutATokenizerMatchBytesOnly() {
            GrammarMatcher m = gbnf("root ::= \"a\"").matcher();
            assertThatThrownBy(() -> m.fillMask(new java.util.BitSet()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("without a tokenizer");
        }
    }

    @Test
    void grammarsPrintAsGbnfThatReadsBack() {
        Grammar g = gbnf("""
                root ::= "a\\"\\n" [^\\]\\-x-z] item{2,3} ("p" | "q")* .?
                item ::= [0-9]+ | "\\\\"
                """);
        Grammar again = Grammars.gbnf(g.toGbnf());
        for (String text : new String[] {"a\"\nw12\\", "a\"\n-\\\\\\pq", "a\"\nx11", "a\"\n]1\\qqq日"}) {
            assertThat(matches(again, text)).as(text).isEqualTo(matches(g, text));
        }
        assertThat(matches(g, "a\"\nw12\\")).isTrue();
        assertThat(Arrays.asList(g.toGbnf().split("\n"))).first().asString().startsWith("root ::=");
    }
}
