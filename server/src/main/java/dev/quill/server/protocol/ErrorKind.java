package dev.quill.server.protocol;

/**
 * The kinds of error the API returns: HTTP status, the error {@code type} name (the Azure AI model inference names,
 * which the OpenAI SDKs ignore and the Azure SDK shows) and the default {@code code}.
 */
public enum ErrorKind {
    BAD_REQUEST(400, "BadRequestError", "bad_request"),
    UNAUTHORIZED(401, "UnauthorizedError", "unauthorized"),
    NOT_FOUND(404, "NotFoundError", "not_found"),
    METHOD_NOT_ALLOWED(405, "MethodNotAllowedError", "method_not_allowed"),
    REQUEST_TIMEOUT(408, "TimeoutError", "timeout"),
    CONTENT_TOO_LARGE(413, "ContentTooLargeError", "content_too_large"),
    URI_TOO_LONG(414, "UriTooLongError", "uri_too_long"),
    UNSUPPORTED_MEDIA_TYPE(415, "UnsupportedMediaTypeError", "unsupported_content_encoding"),
    EXPECTATION_FAILED(417, "ExpectationFailedError", "expectation_failed"),
    UNPROCESSABLE(422, "UnprocessableContentError", "invalid_value"),
    UPGRADE_REQUIRED(426, "UpgradeRequiredError", "unsupported_http_version"),
    TOO_MANY_REQUESTS(429, "TooManyRequestsError", "too_many_requests"),
    HEADERS_TOO_LARGE(431, "RequestHeaderFieldsTooLargeError", "headers_too_large"),
    INTERNAL(500, "InternalServerError", "internal_error"),
    UNAVAILABLE(503, "ServiceUnavailableError", "service_unavailable"),
    HTTP_VERSION_NOT_SUPPORTED(505, "HttpVersionNotSupportedError", "unsupported_http_version");

    public final int status;
    public final String type;
    public final String defaultCode;

    ErrorKind(int status, String type, String defaultCode) {
        this.status = status;
        this.type = type;
        this.defaultCode = defaultCode;
    }
}
