package dev.quill.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TokenCountsTest {

    private static Map<Integer, Integer> asMap(TokenCounts counts) {
        var map = new HashMap<Integer, Integer>();
        for (int i = 0; i < counts.size(); i++) {
            assertThat(map.put(counts.token(i), counts.count(i))).as("token %d listed twice", counts.token(i)).isNull();
        }
        return map;
    }

    @Test
    void keepsOneEntryPerDistinctTokenInFirstSeenOrder() {
        var counts = new TokenCounts();
        counts.add(7, 0);
        counts.add(3, 1);
        counts.add(7, 1);
        counts.add(3, 1);
        assertThat(counts.size()).isEqualTo(2);
        assertThat(counts.token(0)).isEqualTo(7);
        assertThat(counts.count(0)).isEqualTo(1);
        assertThat(counts.token(1)).isEqualTo(3);
        assertThat(counts.count(1)).isEqualTo(2);
    }

    @Test
    void matchesAHashMapThroughManyGrowths() {
        var counts = new TokenCounts();
        var expected = new HashMap<Integer, Integer>();
        var random = new SplittableRandom(5);
        for (int i = 0; i < 50_000; i++) {
            int token = random.nextInt(152_064);
            int generated = random.nextInt(2);
            counts.add(token, generated);
            expected.merge(token, generated, Integer::sum);
        }
        assertThat(asMap(counts)).isEqualTo(expected);
    }
}
