package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.server.protocol.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Requests Jetty refuses before any route sees them get the JSON error envelope, written over a raw socket. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MalformedHttpTest {

    private TestServer server;

    @BeforeAll
    void start() {
        server = TestServer.of(new FakeEngine());
    }

    @AfterAll
    void stop() {
        server.close();
    }

    record RawResponse(int status, Map<String, String> headers, String body) {
        JsonNode error() {
            return Json.parse(body.getBytes(StandardCharsets.UTF_8)).get("error");
        }
    }

    /** Sends bytes as they are and reads one response (up to its Content-Length, or to the connection's end). */
    private RawResponse raw(String request) throws IOException {
        return raw(request, false);
    }

    /** With {@code endSending}, the client then shuts its sending side, as one whose body broke off. */
    private RawResponse raw(String request, boolean endSending) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            if (endSending) socket.shutdownOutput();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) break;
                head.write(b);
            }
            String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
            int status = Integer.parseInt(lines[0].split(" ")[1]);
            Map<String, String> headers = new TreeMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) headers.put(lines[i].substring(0, colon).toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
            }
            byte[] body = headers.containsKey("content-length")
                    ? in.readNBytes(Integer.parseInt(headers.get("content-length")))
                    : in.readAllBytes();
            return new RawResponse(status, headers, new String(body, StandardCharsets.UTF_8));
        }
    }

    /** Asserts the envelope with its status, type and code, and returns the error's message. */
    private static String assertEnvelope(RawResponse response, int status, String type, String code) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().get("content-type")).startsWith("application/json");
        assertThat(response.headers().get("x-ms-error-code")).isEqualTo(code);
        JsonNode error = response.error();
        assertThat(error.get("status").asInt()).isEqualTo(status);
        assertThat(error.get("type").asText()).isEqualTo(type);
        assertThat(error.get("code").asText()).isEqualTo(code);
        assertThat(response.body()).doesNotContain("<html").doesNotContain("Exception").doesNotContain("jetty");
        return error.get("message").asText();
    }

    @Test
    void aControlCharacterInAHeaderValueIs400NamingIt() throws IOException {
        RawResponse response = raw("GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n");
        assertThat(assertEnvelope(response, 400, "BadRequestError", "malformed_request")).contains("Illegal character");
    }

    @Test
    void aBadlyEncodedOrIllegalPathIs400() throws IOException {
        assertThat(assertEnvelope(raw("GET /% HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "BadRequestError", "malformed_request"))
                .contains("% encoding");
        assertEnvelope(raw("GET /v1/chat/completions%00 HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "BadRequestError", "malformed_request");
    }

    @Test
    void conflictingOrInvalidFramingHeadersAre400() throws IOException {
        assertEnvelope(raw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                400, "BadRequestError", "malformed_request");
        assertEnvelope(raw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"),
                400, "BadRequestError", "malformed_request");
        assertEnvelope(raw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
                400, "BadRequestError", "malformed_request");
        assertThat(assertEnvelope(raw("GET /health HTTP/1.1\r\n\r\n"), 400, "BadRequestError", "malformed_request"))
                .contains("No Host");
    }

    @Test
    void headersOrARequestLineOverTheLimitAre431And414() throws IOException {
        assertThat(assertEnvelope(raw("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(9000) + "\r\n\r\n"),
                431, "RequestHeaderFieldsTooLargeError", "headers_too_large")).contains("8192 bytes");
        assertThat(assertEnvelope(raw("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n"),
                414, "UriTooLongError", "uri_too_long")).contains("8192 bytes");
    }

    @Test
    void anUnknownExpectationIs417() throws IOException {
        assertThat(assertEnvelope(raw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nExpect: 999-nope\r\nContent-Length: 2\r\n\r\n{}"),
                417, "ExpectationFailedError", "expectation_failed")).contains("100-continue");
    }

    @Test
    void anHttp2RequestLineIs426() throws IOException {
        assertEnvelope(raw("GET /health HTTP/2.0\r\nHost: x\r\n\r\n"), 426, "UpgradeRequiredError", "unsupported_http_version");
    }

    @Test
    void optionsStarIs404WithTheEnvelope() throws IOException {
        assertThat(assertEnvelope(raw("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), 404, "NotFoundError", "not_found"))
                .startsWith("No route OPTIONS *");
    }

    @Test
    void aBodyWithAnInvalidChunkSizeIs400SayingTheChunkedEncodingIsMalformed() throws IOException {
        RawResponse response = raw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n");
        assertThat(assertEnvelope(response, 400, "BadRequestError", "invalid_body"))
                .startsWith("The request body is malformed: its chunked encoding is invalid").doesNotContain("Early EOF");
    }

    @Test
    void aTransferCodingOtherThanChunkedIs400NamingIt() throws IOException {
        String body = "{\"prompt\":\"hi\",\"max_tokens\":1}";
        RawResponse response = raw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: gzip, chunked\r\n\r\n" + Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n");
        assertThat(assertEnvelope(response, 400, "BadRequestError", "invalid_body"))
                .startsWith("Transfer-Encoding 'gzip' is not supported");
    }

    @Test
    void aChunkedBodyThatBreaksOffIs400() throws IOException {
        RawResponse response = raw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"prompt\"", true);
        assertThat(assertEnvelope(response, 400, "BadRequestError", "invalid_body")).contains("chunked encoding");
    }

    @Test
    void aBodyShorterThanItsContentLengthIs400SayingHowMuchArrived() throws IOException {
        RawResponse response = raw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"prompt\":\"hi\"}", true);
        assertThat(assertEnvelope(response, 400, "BadRequestError", "invalid_body"))
                .isEqualTo("The request body was cut short: Content-Length is 100 bytes but only 15 arrived before the connection ended");
    }

    @Test
    void aBadlyPercentEncodedApiVersionIsInvalidNotMissing() throws IOException {
        String body = "{\"prompt\":\"hi\",\"max_tokens\":1}";
        RawResponse response = raw("POST /completions?api-version=%zz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body);
        assertThat(assertEnvelope(response, 400, "BadRequestError", "invalid_api_version"))
                .contains("not valid percent-encoding: '%zz'");
        assertThat(response.error().get("detail").get("value").asText()).isEqualTo("%zz");
    }
}
