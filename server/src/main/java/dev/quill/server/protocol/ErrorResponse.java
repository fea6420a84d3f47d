package dev.quill.server.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The error envelope every failed request gets, readable by the OpenAI SDKs ({@code error.message/type/param/code})
 * and the Azure SDK ({@code status}, {@code detail.loc}, {@code detail.value}); the {@code x-ms-error-code} header
 * carries {@code code}.
 */
public record ErrorResponse(Body error) {

    public record Body(String message, String type, String param, String code, int status,
                       @JsonInclude(JsonInclude.Include.NON_NULL) Detail detail) {}

    /** Where the problem is and what was sent there. */
    public record Detail(List<Object> loc, Object value) {}
}
