package dev.quill.server.protocol;

import java.util.List;

/**
 * What to do with request-body fields this API does not define, chosen per request by the {@code extra-parameters}
 * header (Azure AI model inference semantics).
 */
public enum ExtraParameters {
    /** Reject the request with 422, naming each extra field (the default). */
    ERROR,
    /** Remove extra fields before serving ({@code drop}, and its synonym {@code ignore}). */
    DROP,
    /** Hand extra fields to the engine, which honours the ones it knows and reports the rest. */
    PASS_THROUGH;

    public static final String HEADER = "extra-parameters";

    /** Parses the header value; null or blank means {@link #ERROR}. */
    public static ExtraParameters fromHeader(String value) {
        if (value == null || value.isBlank()) return ERROR;
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "error" -> ERROR;
            case "drop", "ignore" -> DROP;
            case "pass-through", "pass_through", "passthrough" -> PASS_THROUGH;
            default -> throw ApiException.badRequest("invalid_header",
                    "Header 'extra-parameters' must be one of error, drop, ignore, pass-through; got '" + value + "'",
                    List.of("header", HEADER), value);
        };
    }
}
