package dev.quill.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class ErrorResponseTest {

    @Test
    void aValidationErrorSerializesToTheEnvelopeBothSdksRead() {
        ApiException e = ApiException.invalid(Loc.of("body", "messages", 2, "content"), 5, "content must be a string");
        JsonNode json = Json.parse(Json.write(e.toResponse()).getBytes());
        JsonNode error = json.get("error");
        assertThat(error.get("message").asText()).isEqualTo("content must be a string");
        assertThat(error.get("type").asText()).isEqualTo("UnprocessableContentError");
        assertThat(error.get("param").asText()).isEqualTo("messages[2].content");
        assertThat(error.get("code").asText()).isEqualTo("invalid_value");
        assertThat(error.get("status").asInt()).isEqualTo(422);
        assertThat(error.get("detail").get("loc").toString()).isEqualTo("[\"body\",\"messages\",2,\"content\"]");
        assertThat(error.get("detail").get("value").asInt()).isEqualTo(5);
        // The Azure pages' top-level fields repeat the same facts.
        assertThat(json.get("message").asText()).isEqualTo("content must be a string");
        assertThat(json.get("code").asText()).isEqualTo("invalid_value");
        assertThat(json.get("status").asInt()).isEqualTo(422);
        assertThat(json.get("detail")).isEqualTo(error.get("detail"));
    }

    @Test
    void anErrorWithoutLocationHasANullParamAndNoDetail() {
        JsonNode error = Json.parse(Json.write(ApiException.notFound("model_not_found", "no such model").toResponse()).getBytes())
                .get("error");
        assertThat(error.get("param").isNull()).isTrue();
        assertThat(error.has("detail")).isFalse();
        assertThat(error.get("type").asText()).isEqualTo("NotFoundError");
        assertThat(error.get("status").asInt()).isEqualTo(404);
    }

    @Test
    void theHandWrittenFallbackHasTheSameShape() {
        JsonNode json = Json.parse(ErrorResponse.minimal("m \"q\"", "NotFoundError", "not_found", 404).getBytes());
        assertThat(json.get("error").get("message").asText()).isEqualTo("m \"q\"");
        assertThat(json.get("error").get("param").isNull()).isTrue();
        assertThat(json.get("message").asText()).isEqualTo("m \"q\"");
        assertThat(json.get("code").asText()).isEqualTo("not_found");
        assertThat(json.get("status").asInt()).isEqualTo(404);
    }

    @Test
    void malformedJsonIsABadRequestSayingWhere() {
        assertThatThrownBy(() -> Json.parse("{\"a\": }".getBytes()))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.getMessage()).contains("line 1, column");
                });
        assertThatThrownBy(() -> Json.parse("{\"a\":1,\"a\":2}".getBytes()))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getMessage()).contains("Duplicate field"));
        assertThatThrownBy(() -> Json.parse("{} {}".getBytes())).isInstanceOf(ApiException.class);
        assertThatThrownBy(() -> Json.parse(new byte[0])).isInstanceOf(ApiException.class);
    }

    @Test
    void aWhitespaceOnlyBodyIsEmptyLikeNoBodyAtAll() {
        assertThatThrownBy(() -> Json.parse(" \r\n\t ".getBytes()))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.code()).isEqualTo("invalid_json");
                    assertThat(e.getMessage()).startsWith("The request body is empty");
                });
    }

    @Test
    void detailValueEchoesSmallValuesAsSent() {
        JsonNode value = Json.parse("{\"a\":[1,2,{\"b\":\"c\"}]}".getBytes());
        assertThat(ErrorResponse.echo(value)).isSameAs(value);
        assertThat(ErrorResponse.echo("short")).isEqualTo("short");
        assertThat(ErrorResponse.echo(7)).isEqualTo(7);
        assertThat(ErrorResponse.echo(null)).isNull();
    }

    @Test
    void detailValueDescribesValuesNestedTooDeepInsteadOfEchoingThem() {
        JsonNode deep = Json.parse(("[".repeat(998) + "]".repeat(998)).getBytes());
        assertThat(ErrorResponse.echo(deep)).isEqualTo("(array nested more than 16 levels deep; not echoed)");
        JsonNode justDeepEnough = Json.parse(("[".repeat(16) + "]".repeat(16)).getBytes());
        assertThat(ErrorResponse.echo(justDeepEnough)).isSameAs(justDeepEnough);
    }

    @Test
    void detailValueDescribesLargeValuesInsteadOfEchoingThem() {
        assertThat(ErrorResponse.echo("x".repeat(5000))).isEqualTo("(string of more than 4096 characters; not echoed)");
        JsonNode big = Json.parse(("{\"a\":[" + "1,".repeat(3000) + "1]}").getBytes());
        assertThat(ErrorResponse.echo(big)).isEqualTo("(object of more than 4096 characters; not echoed)");
    }

    @Test
    void anErrorAboutADeeplyNestedValueStillSerializes() {
        JsonNode deep = Json.parse(("{\"prompt\":" + "[".repeat(998) + "]".repeat(998) + "}").getBytes());
        ApiException e = ApiException.invalid(Loc.of("body"), deep, "bad");
        JsonNode error = Json.parse(Json.write(e.toResponse()).getBytes()).get("error");
        assertThat(error.get("detail").get("value").asText()).isEqualTo("(object nested more than 16 levels deep; not echoed)");
    }

    @Test
    void theMinimalEnvelopeIsValidJsonWhateverTheMessage() {
        String message = "quote \" backslash \\ newline \n control \u0001 lone \ud800 pair \ud83d\ude00";
        JsonNode error = Json.parse(ErrorResponse.minimal(message, "UnprocessableContentError", "invalid_value", 422)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)).get("error");
        assertThat(error.get("message").asText())
                .isEqualTo("quote \" backslash \\ newline \n control \u0001 lone \ufffd pair \ud83d\ude00");
        assertThat(error.get("type").asText()).isEqualTo("UnprocessableContentError");
        assertThat(error.get("code").asText()).isEqualTo("invalid_value");
        assertThat(error.get("status").asInt()).isEqualTo(422);
        assertThat(error.get("param").isNull()).isTrue();
    }

    private static ApiException parseError(byte[] body) {
        try {
            Json.parse(body);
        } catch (ApiException e) {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("invalid_json");
            return e;
        }
        throw new AssertionError("parsed: " + new String(body, java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) out[i] = (byte) values[i];
        return out;
    }

    @Test
    void aBodyThatIsNotUtf8IsRejectedAtTheOffsetOfTheFirstBadByte() {
        byte[] prefix = "{\"prompt\":\"a".getBytes();
        // An overlong encoding of '/' (0xC0 0xAF), which a lax decoder would read as a slash.
        byte[] overlong = java.util.Arrays.copyOf(prefix, prefix.length + 4);
        System.arraycopy(bytes(0xC0, 0xAF, '"', '}'), 0, overlong, prefix.length, 4);
        assertThat(parseError(overlong).getMessage()).contains("not valid UTF-8: byte 0xC0 at offset 12");
        // A surrogate encoded directly (CESU-8) is not UTF-8 either.
        byte[] encodedSurrogate = java.util.Arrays.copyOf(prefix, prefix.length + 5);
        System.arraycopy(bytes(0xED, 0xA0, 0x80, '"', '}'), 0, encodedSurrogate, prefix.length, 5);
        assertThat(parseError(encodedSurrogate).getMessage()).contains("at offset 12");
    }

    @Test
    void aUtf16BodyIsNotGuessedButRejected() {
        byte[] utf16 = "\uFEFF{\"prompt\":\"hi\"}".getBytes(java.nio.charset.StandardCharsets.UTF_16BE);
        assertThat(parseError(utf16).getMessage()).contains("offset 0").contains("UTF-16 byte order mark");
    }

    @Test
    void aUtf8ByteOrderMarkIsSkipped() {
        byte[] body = "\uFEFF{\"prompt\":\"h\u00e9\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(Json.parse(body).get("prompt").asText()).isEqualTo("h\u00e9");
    }

    @Test
    void aLoneSurrogateEscapeIsRejectedNamingTheField() {
        ApiException e = parseError("{\"messages\":[{\"role\":\"user\",\"content\":\"a\\ud800b\"}]}".getBytes());
        assertThat(e.getMessage()).contains("lone surrogate").contains("messages[0].content");
        assertThat(e.loc()).containsExactly("body", "messages", 0, "content");
        assertThat(parseError("{\"a\\ud800\":1}".getBytes()).getMessage()).contains("surrogate");
        assertThat(parseError("{\"a\\udc00\":1}".getBytes()).getMessage()).contains("surrogate");
        assertThat(parseError("{\"p\":\"\\ud800\"}".getBytes()).getMessage()).contains("the string at p");
        // A proper pair, escaped or not, is fine.
        assertThat(Json.parse("{\"p\":\"\\ud83d\\ude00 \ud83d\ude00\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .get("p").asText()).isEqualTo("\ud83d\ude00 \ud83d\ude00");
    }

    @Test
    void parseMessagesSayWhatIsWrongWithoutNamingParserInternals() {
        String[] bodies = {"{\"a\": NaN}", "{\"a\": +1}", "{} {}", "{\"a\": 1", "/* c */ {}",
                "[".repeat(1001) + "]".repeat(1001), "{\"a\": " + "1".repeat(1200) + "}"};
        for (String body : bodies) {
            assertThat(parseError(body.getBytes()).getMessage()).as(body)
                    .doesNotContain("`").doesNotContain("Feature").doesNotContain("com.fasterxml")
                    .doesNotContain("StreamReadConstraints").doesNotContain("bound as").doesNotContain("Source");
        }
        assertThat(parseError("{\"a\": NaN}".getBytes()).getMessage())
                .isEqualTo("The request body is not valid JSON at line 1, column 10: Non-standard token 'NaN'; "
                        + "JSON numbers cannot be NaN or Infinity");
        assertThat(parseError("{} {}".getBytes()).getMessage())
                .isEqualTo("The request body is not valid JSON at line 1, column 4: unexpected content after the JSON value "
                        + "(a body holds exactly one value)");
        assertThat(parseError("{\"a\": 1".getBytes()).getMessage()).endsWith("(opened at line 1, column 1)");
        assertThat(parseError("/* c */ {}".getBytes()).getMessage()).endsWith("JSON does not allow comments");
        assertThat(parseError(("[".repeat(1001) + "]".repeat(1001)).getBytes()).getMessage())
                .endsWith("nesting depth (1001) exceeds the maximum allowed (1000)");
    }
}
