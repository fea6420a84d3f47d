package dev.quill.engine.grammar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CharsTest {

    @Test
    void rangesAreMergedAndSorted() {
        Chars c = Chars.ranges('x', 'z', 'a', 'c', 'd', 'f', 'b', 'b');
        assertThat(c).isEqualTo(Chars.ranges('a', 'f', 'x', 'z'));
        assertThat(c.rangeCount()).isEqualTo(2);
        assertThat(c.contains('e')).isTrue();
        assertThat(c.contains('g')).isFalse();
        assertThat(c.contains('z')).isTrue();
    }

    @Test
    void surrogatesAreNeverMembers() {
        assertThat(Chars.ANY.contains(0xD800)).isFalse();
        assertThat(Chars.ANY.contains(0xDFFF)).isFalse();
        assertThat(Chars.ANY.contains(0xE000)).isTrue();
        assertThat(Chars.of('a').negate().contains(0xDC00)).isFalse();
    }

    @Test
    void setAlgebra() {
        Chars letters = Chars.of('a', 'z');
        Chars vowels = Chars.anyOf("aeiou");
        assertThat(letters.minus(vowels).contains('b')).isTrue();
        assertThat(letters.minus(vowels).contains('e')).isFalse();
        assertThat(letters.intersect(Chars.of('x', '9' + 100)).contains('x')).isTrue();
        assertThat(letters.negate().negate()).isEqualTo(letters);
        assertThat(Chars.NONE.negate()).isEqualTo(Chars.ANY);
        assertThat(vowels.union(Chars.of('b'))).isEqualTo(Chars.anyOf("abeiou"));
    }

    @Test
    void badRangesAreRejected() {
        assertThatThrownBy(() -> Chars.of('z', 'a')).hasMessageContaining("U+007A..U+0061");
        assertThatThrownBy(() -> Chars.of(0, 0x110000)).isInstanceOf(IllegalArgumentException.class);
    }
}
