package dev.quill.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
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

    @ParameterizedTest
    @FieldSource("NAMES")
    void decodingWhatWasEncodedGivesTheTextBack(String name) {
        Tokenizer tokenizer = ReferenceFixtures.tokenizer(name);
        Set<String> texts = new LinkedHashSet<>();
        for (ReferenceFixtures.Case c : ReferenceFixtures.cases(name)) texts.add(c.text());
        for (String text : texts) {
            // Qwen's tokenizer normalises to NFC.
            String expected = name.equals("qwen3") ? Normalizer.normalize(text, Normalizer.Form.NFC) : text;
            assertThat(tokenizer.decode(tokenizer.encode(text, false, false))).as(ReferenceFixtures.escape(text))
                    .isEqualTo(expected);
        }
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void streamingNeverSplitsACharacterAndAddsUpToTheTokenBytes(String name) {
        Tokenizer tokenizer = ReferenceFixtures.tokenizer(name);
        for (ReferenceFixtures.Case c : ReferenceFixtures.cases(name)) {
            Tokenizer.StreamingDecoder stream = tokenizer.newStreamingDecoder();
            StringBuilder streamed = new StringBuilder();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (int id : c.ids()) {
                String chunk = stream.next(id);
                assertThat(chunk).as(c.toString()).doesNotContain("\uFFFD");
                streamed.append(chunk);
                bytes.writeBytes(tokenizer.tokenBytes(id));
            }
            streamed.append(stream.finish());
            assertThat(streamed.toString()).as(c.toString()).isEqualTo(bytes.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void streamingHoldsAByteFallbackEmojiUntilComplete() {
        Tokenizer llama2 = ReferenceFixtures.tokenizer("llama2");
        int[] ids = llama2.encode("🦙", false, false);
        // "▁" then the four bytes F0 9F A6 99 as <0xNN> tokens.
        assertThat(ids).hasSize(5);
        assertThat(llama2.tokenPiece(ids[1])).isEqualTo("<0xF0>");
        Tokenizer.StreamingDecoder stream = llama2.newStreamingDecoder();
        assertThat(List.of(stream.next(ids[0]), stream.next(ids[1]), stream.next(ids[2]), stream.next(ids[3]),
                stream.next(ids[4]))).containsExactly(" ", "", "", "", "🦙");
    }

    @Test
    void recognisesSpecialTokensOnlyWhenAsked() {
        Tokenizer llama3 = ReferenceFixtures.tokenizer("llama3");
        int eot = llama3.tokenId("<|eot_id|>");
        assertThat(llama3.encode("hi<|eot_id|>", false, true)).endsWith(eot);
        int[] plain = llama3.encode("hi<|eot_id|>", false, false);
        assertThat(Arrays.stream(plain).noneMatch(llama3::isSpecial)).as(Arrays.toString(plain)).isTrue();
        assertThat(llama3.decode(plain)).isEqualTo("hi<|eot_id|>");

        Tokenizer qwen3 = ReferenceFixtures.tokenizer("qwen3");
        assertThat(qwen3.encode("<|im_start|>", false, true)).containsExactly(qwen3.tokenId("<|im_start|>"));
        assertThat(qwen3.encode("<|im_start|>", false, false)).hasSizeGreaterThan(1);
        // <think> is user-defined: recognised in any text, as llama.cpp and Hugging Face do.
        assertThat(qwen3.encode("<think>", false, false)).containsExactly(qwen3.tokenId("<think>"));
    }

    @Test
    void knowsEachModelsSpecialTokens() {
        Tokenizer llama3 = ReferenceFixtures.tokenizer("llama3");
        assertThat(llama3.bosId()).isEqualTo(128000);
        assertThat(llama3.eosId()).isEqualTo(128001);
        // Llama 3.0 has no <|eom_id|> yet; <|eot_id|> ends a chat turn.
        assertThat(llama3.endOfGenerationIds()).containsExactlyInAnyOrder(128001, llama3.tokenId("<|eot_id|>"));
        assertThat(llama3.vocabSize()).isEqualTo(128256);

        Tokenizer qwen3 = ReferenceFixtures.tokenizer("qwen3");
        assertThat(qwen3.eosId()).isEqualTo(qwen3.tokenId("<|im_end|>"));
        assertThat(qwen3.endOfGenerationIds()).containsExactlyInAnyOrder(
                qwen3.tokenId("<|im_end|>"), qwen3.tokenId("<|endoftext|>"), qwen3.tokenId("<|fim_pad|>"),
                qwen3.tokenId("<|repo_name|>"), qwen3.tokenId("<|file_sep|>"));

        Tokenizer gemma3 = ReferenceFixtures.tokenizer("gemma3");
        assertThat(gemma3.bosId()).isEqualTo(2);
        // </s> is an HTML tag in Gemma's vocabulary, a user-defined token: it does not end generation.
        assertThat(gemma3.endOfGenerationIds()).containsExactlyInAnyOrder(
                gemma3.tokenId("<end_of_turn>"), gemma3.tokenId("<eos>"));
        assertThat(gemma3.isSpecial(gemma3.tokenId("<start_of_turn>"))).isTrue();
        assertThat(gemma3.isSpecial(gemma3.tokenId("</s>"))).isFalse();

        Tokenizer llama2 = ReferenceFixtures.tokenizer("llama2");
        assertThat(llama2.endOfGenerationIds()).containsExactly(2);
        assertThat(llama2.tokenBytes(llama2.tokenId("▁the"))).isEqualTo(" the".getBytes(StandardCharsets.UTF_8));
        assertThat(llama3.tokenBytes(llama3.tokenId("Ġthe"))).isEqualTo(" the".getBytes(StandardCharsets.UTF_8));
    }
}
