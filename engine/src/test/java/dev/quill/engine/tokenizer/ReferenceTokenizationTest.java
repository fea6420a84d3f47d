package dev.quill.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** Quill's tokenizers against the Hugging Face reference, on real vocabularies and a varied corpus. */
class ReferenceTokenizationTest {
    static final List<String> NAMES = ReferenceFixtures.NAMES;

    @ParameterizedTest
    @FieldSource("NAMES")
    void encodesExactlyLikeTheReference(String name) {
        Tokenizer tokenizer = ReferenceFixtures.tokenizer(name);
        List<String> mismatches = new ArrayList<>();
        for (ReferenceFixtures.Case c : ReferenceFixtures.cases(name)) {
            int[] ids = tokenizer.encode(c.text(), c.addSpecial(), c.parseSpecial());
            if (!Arrays.equals(ids, c.ids())) {
                mismatches.add(c + "\n   expected " + Arrays.toString(c.ids()) + "\n   actual   " + Arrays.toString(ids));
            }
        }
        assertThat(mismatches).as(name).isEmpty();
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void decodesExactlyLikeTheReference(String name) {
        Tokenizer tokenizer = ReferenceFixtures.tokenizer(name);
        List<String> mismatches = new ArrayList<>();
        for (ReferenceFixtures.Case c : ReferenceFixtures.cases(name)) {
            String decoded = tokenizer.decode(c.ids());
            if (!decoded.equals(c.decoded())) {
                mismatches.add(c + "\n   expected " + ReferenceFixtures.escape(c.decoded())
                        + "\n   actual   " + ReferenceFixtures.escape(decoded));
            }
        }
        assertThat(mismatches).as(name).isEmpty();
    }
}
