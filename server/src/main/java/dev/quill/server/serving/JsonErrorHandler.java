package dev.quill.server.serving;

import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.ErrorKind;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Answers the errors Jetty finds itself, before a request reaches the routes (a malformed request line, URI or
 * header, headers too large, an unsupported {@code Expect} or HTTP version, {@code OPTIONS *}), with the same JSON
 * envelope and {@code x-ms-error-code} header as every other error, instead of Jetty's HTML page.
 */
final class JsonErrorHandler extends ErrorHandler {

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = response.getStatus();
        String reason = request.getAttribute(ERROR_MESSAGE) instanceof String s ? s : null;
        if (request.getAttribute(ERROR_EXCEPTION) instanceof HttpException http) {
            status = http.getCode();
            if (http.getReason() != null) reason = http.getReason();
            // A bad URI comes as a bare "Bad Request" whose cause says what is wrong ("Bad URI % encoding").
            if (http instanceof Throwable t && t.getCause() instanceof IllegalArgumentException uri && uri.getMessage() != null
                    && (reason == null || reason.equalsIgnoreCase(HttpStatus.getMessage(status)))) {
                reason = uri.getMessage();
            }
        }
        int headerLimit = request.getConnectionMetaData().getHttpConfiguration().getRequestHeaderSize();
        ApiException e = describe(status, reason, request.getMethod(), request.getHttpURI().getPathQuery(), headerLimit);
        String body = QuillServer.errorBody(e);
        response.setStatus(e.status());
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put("x-ms-error-code", e.code());
        response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
        return true;
    }

    /**
     * The error for a status Jetty chose, with Jetty's reason when it says more than the status line (it names the
     * problem, e.g. "Illegal character CNTL=0x1" or "Duplicate Content-Length").
     */
    static ApiException describe(int status, String reason, String method, String target, int headerLimit) {
        String detail = reason == null || reason.isBlank() || reason.equalsIgnoreCase(HttpStatus.getMessage(status))
                ? null : reason;
        return switch (status) {
            case 400 -> ApiException.badRequest("malformed_request", "The HTTP request is malformed"
                    + (detail == null ? " (its request line, URI or headers could not be parsed)" : ": " + detail));
            case 404 -> ApiException.notFound("not_found", QuillServer.noRoute(method, target));
            case 408 -> ApiException.of(ErrorKind.REQUEST_TIMEOUT, "The request was not received in time");
            case 413 -> ApiException.of(ErrorKind.CONTENT_TOO_LARGE, "The request body is too large");
            case 414 -> ApiException.of(ErrorKind.URI_TOO_LONG,
                    "The request line is longer than the limit of " + headerLimit + " bytes");
            case 417 -> ApiException.of(ErrorKind.EXPECTATION_FAILED,
                    "The Expect header is not supported; the only expectation this server meets is '100-continue'");
            case 426, 505 -> new ApiException(status == 426 ? ErrorKind.UPGRADE_REQUIRED : ErrorKind.HTTP_VERSION_NOT_SUPPORTED,
                    null, "This server speaks HTTP/1.1 and HTTP/1.0 only", null, null, null);
            case 431 -> ApiException.of(ErrorKind.HEADERS_TOO_LARGE,
                    "The request headers are larger than the limit of " + headerLimit + " bytes");
            case 503 -> ApiException.of(ErrorKind.UNAVAILABLE, "The server is shutting down");
            default -> status >= 500 || status < 400
                    ? ApiException.of(ErrorKind.INTERNAL, "The server failed to handle this request; see the server log")
                    : ApiException.badRequest("malformed_request", "The HTTP request was refused"
                            + (detail == null ? "" : ": " + detail));
        };
    }
}
