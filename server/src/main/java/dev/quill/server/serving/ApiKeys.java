package dev.quill.server.serving;

import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.ErrorKind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The API keys clients must present ({@code Authorization: Bearer KEY}, also {@code Bearer: KEY}, or {@code api-key: KEY}). Keys are kept
 * only as SHA-256 digests and compared in constant time; a key never appears in a message or a log.
 */
public final class ApiKeys {

    public static final String ENVIRONMENT_VARIABLE = "QUILL_API_KEYS";

    private final List<byte[]> digests;

    private ApiKeys(List<String> keys) {
        List<byte[]> out = new ArrayList<>();
        for (String key : keys) {
            if (!key.isBlank()) out.add(digest(key.strip()));
        }
        this.digests = List.copyOf(out);
    }

    /** The configured keys plus those in {@code QUILL_API_KEYS} (comma-separated). */
    public static ApiKeys of(List<String> configured, String environmentValue) {
        List<String> keys = new ArrayList<>(configured);
        if (environmentValue != null) keys.addAll(List.of(environmentValue.split(",")));
        return new ApiKeys(keys);
    }

    public boolean enabled() {
        return !digests.isEmpty();
    }

    /** Throws 401 unless one of the headers carries a configured key. */
    public void check(String authorization, String apiKeyHeader) {
        if (!enabled()) return;
        String presented = null;
        if (apiKeyHeader != null && !apiKeyHeader.isBlank()) {
            presented = apiKeyHeader.strip();
        } else if (authorization != null && !authorization.isBlank()) {
            presented = bearerToken(authorization.strip());
            if (presented == null) {
                // Neither the scheme nor the rest is repeated: a bare key sent without a scheme would be echoed.
                throw unauthorized("invalid_api_key", "The Authorization header is not a Bearer token: send "
                        + "'Authorization: Bearer <key>' or 'api-key: <key>'");
            }
            if (presented.isEmpty()) {
                throw unauthorized("missing_api_key", "The Authorization header has no key after 'Bearer': send "
                        + "'Authorization: Bearer <key>'");
            }
        }
        if (presented == null) {
            throw unauthorized("missing_api_key", "No API key: send it as 'Authorization: Bearer <key>' or 'api-key: <key>'");
        }
        byte[] candidate = digest(presented);
        boolean match = false;
        for (byte[] known : digests) match |= MessageDigest.isEqual(known, candidate);
        if (!match) {
            throw unauthorized("invalid_api_key", "The API key is not valid");
        }
    }

    /** A 401; it names the scheme the client should use (RFC 9110). */
    private static ApiException unauthorized(String code, String message) {
        return new ApiException(ErrorKind.UNAUTHORIZED, code, message, null, null, java.util.Map.of("WWW-Authenticate", "Bearer"));
    }

    /**
     * The key of a Bearer credential ("" when there is none), or null when the header is not one. The scheme is
     * matched in any case and may be followed by a colon, as in "Bearer: KEY", the form Azure's reference pages show.
     */
    static String bearerToken(String authorization) {
        if (!authorization.regionMatches(true, 0, "Bearer", 0, 6)) return null;
        String rest = authorization.substring(6);
        if (rest.startsWith(":")) return rest.substring(1).strip();
        if (rest.isEmpty()) return "";
        return Character.isWhitespace(rest.charAt(0)) ? rest.strip() : null;
    }

    private static byte[] digest(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
