package dev.quill.engine.grammar;

import static dev.quill.engine.grammar.GrammarMatcherTest.matches;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RegexParserTest {

    /** The grammar accepts a string exactly when java.util.regex matches it whole. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiterString = " => ", quoteCharacter = '`', textBlock = """
            [a-c]+x? => a,abcx,x,abx,bbbbbb,
            (ab|cd){2,3} => abab,abcdab,ab,abcdabcdab,cdcdcd
            \\d{3}-\\d{4} => 555-1234,55-1234,555-12345,abc-defg
            [^0-9\\s]+ => abc,a b,x9,é😀,\\t
            a.c => abc,a\\nc,aéc,ac
            (?:x|y)*z => z,xyxz,xyx,zz
            (?<word>\\w+)@\\w+\\.com => a_1@b.com,a@b.org,@b.com
            colou?r => color,colour,colouur
            [\\]\\-a]{2} => ]-,aa,-],ab
            \\x41\\u00e9😀+ => Aé😀😀,Ae😀
            a{2,}?b => aab,ab,aaaab
            ^abc$ => abc,abcd
            """)
    void acceptsWhatJavaRegexMatches(String regex, String examples) {
        Grammar g = Grammars.regex(regex);
        Pattern p = Pattern.compile(regex);
        for (String example : List.of(examples.split(",", -1))) {
            String text = example.replace("\\n", "\n").replace("\\t", "\t");
            assertThat(matches(g, text)).as("'%s' against /%s/", text, regex).isEqualTo(p.matcher(text).matches());
        }
    }

    @Test
    void braceUnicodeEscapes() {
        assertThat(matches(Grammars.regex("\\u{1F600}+"), "😀😀")).isTrue();
    }

    @Test
    void aNegatedClassExcludesWhitespaceOfEitherEngine() {
        // ECMAScript's \s includes U+00A0, Java's does not: generate only what both engines accept.
        assertThat(matches(Grammars.regex("[^\\s]"), "\u00A0")).isFalse();
        assertThat(matches(Grammars.regex("[^\\s]"), "x")).isTrue();
        assertThat(matches(Grammars.regex("[^\\S]"), " ")).isTrue();
        assertThat(matches(Grammars.regex("[^\\S]"), "\u00A0")).isFalse();
        assertThat(matches(Grammars.regex("x[^\\s\\S]?y"), "xy")).as("an impossible optional part is fine").isTrue();
    }

    @Test
    void topLevelAlternativesKeepTheirOwnAnchors() {
        List<RegexParser.Branch> branches = RegexParser.parse("^a|b$|c");
        assertThat(branches).extracting(RegexParser.Branch::anchoredStart).containsExactly(true, false, false);
        assertThat(branches).extracting(RegexParser.Branch::anchoredEnd).containsExactly(false, true, false);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiterString = " => ", quoteCharacter = '`', textBlock = """
            (?=a)b => look-around
            (?i)abc => look-around or flags
            \\bword => word boundary
            (a)\\1 => back-references
            \\p{L} => Unicode property
            a++ => possessive
            a(b$) => inside a group
            a^b => only supported at the start
            (ab => missing ')'
            ab) => unbalanced ')'
            [abc => unterminated character class
            *a => nothing to repeat
            a{5,2} => max < min
            [^\\s\\S] => matches no string
            a(?:[^\\d\\D])+b|[^\\w\\W] => matches no string
            """)
    void unsupportedOrBrokenPatternsAreRejectedByName(String regex, String message) {
        assertThatThrownBy(() -> Grammars.regex(regex)).isInstanceOf(GrammarSyntaxException.class).hasMessageContaining(message);
    }
}
