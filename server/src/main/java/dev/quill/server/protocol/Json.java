package dev.quill.server.protocol;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The one JSON configuration of the wire protocol: snake_case names, strict parsing. */
public final class Json {

    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private Json() {}

    /**
     * Parses a request body; malformed JSON is a 400 whose message says where parsing stopped. The body must be UTF-8
     * (RFC 8259) and its strings valid Unicode: an invalid byte sequence or a lone surrogate escape is a 400 too,
     * rather than text silently changed.
     */
    public static JsonNode parse(byte[] body) {
        if (body.length == 0) throw ApiException.badRequest("invalid_json", "The request body is empty; send a JSON object");
        try {
            // Parsed from decoded text so that Jackson cannot guess another encoding (UTF-16, UTF-32) from the bytes.
            JsonNode node = MAPPER.readTree(utf8(body));
            // Whitespace alone reads as a missing node: the same mistake as no body at all.
            if (node == null || node.isMissingNode()) {
                throw ApiException.badRequest("invalid_json", "The request body is empty (only whitespace); send a JSON object");
            }
            rejectLoneSurrogates(node, Loc.of("body"));
            return node;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw ApiException.badRequest("invalid_json", "The request body is not valid JSON" + where + ": " + plain(e.getOriginalMessage()));
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("invalid_json", "The request body could not be read: " + e.getMessage());
        }
    }

    private static final Pattern TRAILING = Pattern.compile("^Trailing token.*");
    private static final Pattern LIMIT_SOURCE = Pattern.compile("\\((\\d+), from `[^`]*`\\)");
    private static final Pattern SOURCE_LOCATION = Pattern.compile("start marker at \\[Source: [^;]*; line: (\\d+), column: (\\d+)\\]");
    private static final Pattern COMMENT = Pattern.compile("maybe a \\(non-standard\\) comment\\? \\(not recognized[^)]*\\)");
    private static final Pattern ENABLE_FEATURE = Pattern.compile(":? *enable `[^`]*` to allow");
    private static final Pattern BACKTICKED = Pattern.compile(" *\\(?[^ (]*`[^`]*`\\)?");

    /**
     * Jackson's parse message without its internals (class, feature and constraint names, which mean nothing to a
     * client): what is wrong, in JSON terms. The line and column are added by the caller.
     */
    static String plain(String message) {
        if (message == null) return "unexpected content";
        if (TRAILING.matcher(message).matches()) return "unexpected content after the JSON value (a body holds exactly one value)";
        String out = LIMIT_SOURCE.matcher(message).replaceAll("($1)");
        out = SOURCE_LOCATION.matcher(out).replaceAll("opened at line $1, column $2");
        out = COMMENT.matcher(out).replaceAll("JSON does not allow comments");
        if (out.contains("ALLOW_NON_NUMERIC_NUMBERS")) {
            out = ENABLE_FEATURE.matcher(out).replaceAll("; JSON numbers cannot be NaN or Infinity");
        }
        out = ENABLE_FEATURE.matcher(out).replaceAll("");
        // Whatever else still names a Jackson type or setting goes.
        return BACKTICKED.matcher(out).replaceAll("").strip();
    }

    /** The body as text, without a UTF-8 byte order mark; a 400 naming the offset of the first byte that is not UTF-8. */
    private static String utf8(byte[] body) {
        int start = body.length >= 3 && (body[0] & 0xFF) == 0xEF && (body[1] & 0xFF) == 0xBB && (body[2] & 0xFF) == 0xBF ? 3 : 0;
        ByteBuffer in = ByteBuffer.wrap(body, start, body.length - start);
        CharBuffer out = CharBuffer.allocate(body.length - start);
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) result = decoder.flush(out);
        if (result.isError()) {
            int offset = in.position();
            boolean utf16 = body.length >= 2 && ((body[0] & 0xFF) == 0xFE && (body[1] & 0xFF) == 0xFF
                    || (body[0] & 0xFF) == 0xFF && (body[1] & 0xFF) == 0xFE);
            throw ApiException.badRequest("invalid_json", "The request body is not valid UTF-8: byte 0x"
                    + String.format("%02X", body[offset] & 0xFF) + " at offset " + offset + " does not start a valid "
                    + "UTF-8 sequence" + (utf16 ? " (the body starts with a UTF-16 byte order mark)" : "")
                    + "; JSON bodies must be UTF-8");
        }
        return out.flip().toString();
    }

    /** Throws a 400 pointing at the first string or field name holding a surrogate that is not part of a pair. */
    private static void rejectLoneSurrogates(JsonNode node, List<Object> loc) {
        if (node.isTextual()) {
            if (hasLoneSurrogate(node.textValue())) throw loneSurrogate("the string at " + Loc.param(loc), loc);
        } else if (node.isObject()) {
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                if (hasLoneSurrogate(field.getKey())) {
                    throw loneSurrogate("a field name in " + (loc.size() == 1 ? "the body" : Loc.param(loc)), loc);
                }
                rejectLoneSurrogates(field.getValue(), Loc.append(loc, field.getKey()));
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) rejectLoneSurrogates(node.get(i), Loc.append(loc, i));
        }
    }

    private static ApiException loneSurrogate(String where, List<Object> loc) {
        return ApiException.badRequest("invalid_json", "The request body has a lone surrogate escape (a \\uD800-\\uDFFF "
                + "that is not part of a high-low pair) in " + where + "; JSON strings must be valid Unicode", loc, null);
    }

    private static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
