package dev.quill.server.protocol;

import java.util.List;
import java.util.Map;

/**
 * An error the API reports to the client: everything needed to write the error envelope. Thrown anywhere between
 * reading a request and starting a response; the server turns it into {@link ErrorResponse}.
 */
public final class ApiException extends RuntimeException {

    private final ErrorKind kind;
    private final String code;
    private final List<Object> loc;
    private final Object value;
    private final Map<String, String> headers;

    public ApiException(ErrorKind kind, String code, String message, List<Object> loc, Object value,
                        Map<String, String> headers) {
        super(message, null, false, false);
        this.kind = kind;
        this.code = code == null ? kind.defaultCode : code;
        this.loc = loc == null ? null : List.copyOf(loc);
        this.value = value;
        this.headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    /** 422: a field's value is invalid. {@code loc} points at it, e.g. ["body","messages",2,"content"]. */
    public static ApiException invalid(List<Object> loc, Object value, String message) {
        return new ApiException(ErrorKind.UNPROCESSABLE, "invalid_value", message, loc, value, null);
    }

    public static ApiException missing(List<Object> loc) {
        return new ApiException(ErrorKind.UNPROCESSABLE, "missing_field",
                "Field '" + Loc.param(loc) + "' is required", loc, null, null);
    }

    public static ApiException badRequest(String code, String message) {
        return new ApiException(ErrorKind.BAD_REQUEST, code, message, null, null, null);
    }

    public static ApiException badRequest(String code, String message, List<Object> loc, Object value) {
        return new ApiException(ErrorKind.BAD_REQUEST, code, message, loc, value, null);
    }

    public static ApiException notFound(String code, String message) {
        return new ApiException(ErrorKind.NOT_FOUND, code, message, null, null, null);
    }

    public static ApiException of(ErrorKind kind, String message) {
        return new ApiException(kind, null, message, null, null, null);
    }

    public ErrorKind kind() {
        return kind;
    }

    public int status() {
        return kind.status;
    }

    public String code() {
        return code;
    }

    /** Location of the offending input, or null. */
    public List<Object> loc() {
        return loc;
    }

    public Object value() {
        return value;
    }

    /** Extra response headers (e.g. Retry-After). */
    public Map<String, String> headers() {
        return headers;
    }

    public ErrorResponse toResponse() {
        ErrorResponse.Detail detail = loc == null ? null : new ErrorResponse.Detail(loc, ErrorResponse.echo(value));
        return new ErrorResponse(new ErrorResponse.Body(getMessage(), kind.type, loc == null ? null : Loc.param(loc),
                code, kind.status, detail));
    }
}
