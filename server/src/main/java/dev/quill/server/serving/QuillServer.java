package dev.quill.server.serving;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.ChatCompletionRequest;
import dev.quill.server.protocol.CompletionRequest;
import dev.quill.server.protocol.ErrorKind;
import dev.quill.server.protocol.ErrorResponse;
import dev.quill.server.protocol.ExtraParameters;
import dev.quill.server.protocol.Json;
import dev.quill.server.protocol.ModelCard;
import dev.quill.server.protocol.RequestParser;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.time.Duration;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server: routes, authentication, body limits and the error envelope around the completion and chat
 * services. Every error a client can cause is answered with the JSON envelope and its {@code x-ms-error-code}
 * header; anything unexpected is a 500 with a generic message (details go to the log, never to the client).
 */
public final class QuillServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QuillServer.class);
    private static final Pattern API_VERSION = Pattern.compile("^\\d{4}-\\d{2}-\\d{2}(-preview)?$");
    private static final String ERROR_WRITTEN = "quill.error-written";
    /** The status a request is counted with when its status line could not say it (see {@link #countedStatus}). */
    private static final String OUTCOME_STATUS = "quill.outcome-status";
    /** How long {@link #close()} lets requests in flight finish before cancelling them. */
    public static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);
    /** How long stopping waits for responses still being written. */
    private static final Duration RESPONSE_COMPLETION_WAIT = Duration.ofSeconds(5);

    /** The header that marks the server's own warm-up requests ({@link #warmUp}). */
    static final String WARMUP_HEADER = "x-quill-warmup";

    private final ServerConfig config;
    private final Deployments deployments;
    /** The warm-up header's value: a secret of this process, so that no client can pass for the warm-up. */
    private final String warmupToken = java.util.UUID.randomUUID().toString();
    private final ApiKeys apiKeys;
    private final long created = System.currentTimeMillis() / 1000;
    private final Metrics metrics;
    private final Exchange.InFlight inFlight = new Exchange.InFlight();
    private final List<Route> routes = new ArrayList<>();
    private final Javalin app;

    private QuillServer(ServerConfig config, Deployments deployments, ApiKeys apiKeys) {
        this.config = config;
        this.deployments = deployments;
        this.apiKeys = apiKeys;
        this.metrics = new Metrics(deployments);
        this.app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.startup.showOldJavalinVersionWarning = false;
            c.http.maxRequestSize = config.maxBodyBytes();
            c.http.prefer405over404 = true;
            c.http.compressionStrategy = CompressionStrategy.NONE;
            c.concurrency.useVirtualThreads = true;
            if (!config.corsOrigins().isEmpty()) {
                // Browser clients on these origins may call the API: preflights are answered, and responses name the
                // origin and expose Quill's headers to the page.
                c.bundledPlugins.enableCors(cors -> cors.addRule(rule -> {
                    List<String> origins = config.corsOrigins();
                    if (origins.contains("*")) {
                        rule.anyHost();
                    } else {
                        rule.allowHost(origins.getFirst(), origins.subList(1, origins.size()).toArray(String[]::new));
                    }
                    for (String header : List.of("x-request-id", "x-quill-ignored-params", "x-ms-error-code", "Retry-After")) {
                        rule.exposeHeader(header);
                    }
                }));
            }
            // On stop, Jetty lets responses being written complete (those of drained requests end just before).
            c.jetty.modifyServer(server -> {
                server.setStopTimeout(RESPONSE_COMPLETION_WAIT.toMillis());
                // Requests Jetty refuses before routing (malformed HTTP) get the JSON envelope too.
                server.setErrorHandler(new JsonErrorHandler());
            });
            c.jetty.modifyServletContextHandler(handler -> handler.insertHandler(new GracefulHandler()));
            c.requestLogger.http((ctx, ms) -> metrics.requestAnswered(endpoint(ctx), ctx.method().name(), countedStatus(ctx)));

            c.routes.before(this::authenticate);
            get(c, "/health", ctx -> json(ctx, 200, Map.of("status", "ok")));
            get(c, "/ready", this::ready);
            get(c, "/info", this::info);
            get(c, "/metrics", ctx -> ctx.status(200).contentType(Metrics.CONTENT_TYPE).result(metrics.scrape()));
            get(c, "/v1/models", this::listModels);
            get(c, "/v1/models/<id>", this::getModel);
            post(c, "/v1/completions", ctx -> completions(ctx, false));
            post(c, "/v1/chat/completions", ctx -> chat(ctx, false));
            post(c, "/completions", ctx -> completions(ctx, true));
            post(c, "/chat/completions", ctx -> chat(ctx, true));

            c.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e));
            c.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, translate(e, ctx, allowed(ctx.path()))));
            c.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("unexpected failure serving {} {}", ctx.method(), ctx.path(), e);
                error(ctx, ApiException.of(ErrorKind.INTERNAL, "The server failed to handle this request; see the server log"));
            });
            // Javalin answers some requests itself (unknown path, wrong method); give those the envelope as well.
            c.routes.error(404, ctx -> {
                if (ctx.attribute(ERROR_WRITTEN) == null) error(ctx, notFound(ctx));
            });
            c.routes.error(405, ctx -> {
                if (ctx.attribute(ERROR_WRITTEN) == null) error(ctx, methodNotAllowed(ctx, allowed(ctx.path())));
            });
        });
    }

    /**
     * A GET route, and the same handler for HEAD, so that HEAD answers with GET's status and headers (Javalin's own
     * HEAD answer skips the handler: an empty text/plain 200).
     */
    private void get(JavalinConfig c, String path, Handler handler) {
        c.routes.get(path, handler);
        c.routes.head(path, handler);
        routes.add(new Route(path, "GET, HEAD"));
    }

    private void post(JavalinConfig c, String path, Handler handler) {
        c.routes.post(path, handler);
        routes.add(new Route(path, "POST"));
    }

    /** A route's path pattern and the methods it answers, for the Allow header of a 405. */
    private record Route(String pattern, String methods) {
        boolean matches(String path) {
            int parameter = pattern.indexOf('<');
            // A <parameter> matches one or more characters, slashes included (model ids such as quill/tiny).
            return parameter < 0 ? pattern.equals(path)
                    : path.startsWith(pattern.substring(0, parameter)) && path.length() > parameter;
        }
    }

    /** The methods a path allows (the Allow header of a 405), or null when no route has the path. */
    private String allowed(String path) {
        for (Route route : routes) {
            if (route.matches(path)) return route.methods();
        }
        return null;
    }

    /** Starts serving; returns once the port is bound. */
    public static QuillServer start(ServerConfig config, Deployments deployments) {
        QuillServer server = new QuillServer(config, deployments,
                ApiKeys.of(config.apiKeys(), System.getenv(ApiKeys.ENVIRONMENT_VARIABLE)));
        server.app.start(config.host(), config.port());
        return server;
    }

    /**
     * Sends each deployment a few real requests through this server ({@link ServingWarmup}), so that the JIT has
     * compiled the serving path with the real model before the first client: at most {@code budget} per deployment,
     * skipped for deployments whose engine warm-up is off. The requests need no API key. {@code serve} runs this on a
     * private loopback server before it opens its port, so that no client meets a half-warm server and the request
     * metrics start empty (the engines' token counters do count the warm-up's tokens).
     */
    public void warmUp(Duration budget, Consumer<String> progress) {
        for (Deployment d : deployments.all()) {
            if (Boolean.FALSE.equals(d.config().engine().warmup())) continue;
            ServingWarmup.Outcome o = ServingWarmup.run(loopback(), WARMUP_HEADER, warmupToken, d.name(),
                    d.config().maxConcurrentRequests(), budget, d.contextLength(),
                    text -> d.tokenizer().encode(text, false, false).length);
            progress.accept(o.summary(d.name(), budget));
            if (o.failed() > 0) LOG.warn("{} warm-up requests to {} failed; the first got {}", o.failed(), d.name(), o.firstFailure());
        }
    }

    private boolean isWarmup(Context ctx) {
        return warmupToken.equals(ctx.header(WARMUP_HEADER));
    }

    /** This server's address as seen from this machine: loopback when it listens on every interface. */
    private URI loopback() {
        String host = config.host();
        if (host.isEmpty() || host.equals("0.0.0.0")) host = "127.0.0.1";
        if (host.equals("::") || host.equals("[::]")) host = "::1";
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port());
    }

    /** The bound port (useful when the config asked for port 0). */
    public int port() {
        return app.port();
    }

    public String address() {
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + host + ":" + port();
    }

    public Deployments deployments() {
        return deployments;
    }

    /** Shuts down gracefully, with {@link #SHUTDOWN_GRACE}; see {@link #close(Duration)}. */
    @Override
    public void close() {
        close(SHUTDOWN_GRACE);
    }

    /**
     * Shuts down gracefully: new generation requests get 503 (and {@code /ready} says so), requests in flight may
     * finish within {@code grace}; those still running then are cancelled, so each client gets either its complete
     * response or an error (a 503, or an error event and {@code [DONE]} on a stream). Then the port is closed. The
     * deployments stay open: their owner closes them.
     */
    public void close(Duration grace) {
        try {
            if (!inFlight.drain(grace)) LOG.warn("requests still running after shutdown; their connections are closed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        app.stop();
        metrics.close();
    }

    // ---- routes ----

    private void authenticate(Context ctx) {
        if (ctx.path().equals("/health") || isWarmup(ctx)) return;
        // A CORS preflight carries no credentials by design; it only asks whether the real request may be sent.
        if (!config.corsOrigins().isEmpty() && ctx.method() == io.javalin.http.HandlerType.OPTIONS) return;
        apiKeys.check(ctx.header("Authorization"), ctx.header("api-key"));
    }

    private void ready(Context ctx) {
        if (inFlight.draining()) throw ApiException.of(ErrorKind.UNAVAILABLE, "The server is shutting down");
        json(ctx, 200, Map.of("status", "ready", "models", deployments.all().stream().map(Deployment::name).toList()));
    }

    private void info(Context ctx) {
        Deployment d = deployments.select(ctx.header(Deployments.AZURE_DEPLOYMENT_HEADER),
                ctx.header(Deployments.DEPLOYMENT_HEADER), null, ctx.header(Deployments.TAGS_HEADER));
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("model_name", d.name());
        info.put("model_type", "chat-completion");
        info.put("model_provider_name", d.config().vendor());
        info.put("architecture", d.info().architecture());
        info.put("context_length", d.contextLength());
        json(ctx, 200, info);
    }

    private void listModels(Context ctx) {
        List<ModelCard> cards = new ArrayList<>();
        for (Deployment d : deployments.all()) cards.add(card(d));
        json(ctx, 200, new ModelCard.ListResponse("list", cards));
    }

    private void getModel(Context ctx) {
        String id = ctx.pathParam("id");
        Deployment d = deployments.byModel(id).orElseThrow(() -> ApiException.notFound("model_not_found",
                "The model '" + id + "' does not exist. Available: "
                        + String.join(", ", deployments.all().stream().map(Deployment::name).toList())));
        json(ctx, 200, card(d));
    }

    private ModelCard card(Deployment d) {
        return new ModelCard(d.name(), "model", created, d.config().vendor(), d.contextLength(), d.config().aliases(),
                d.config().tags());
    }

    private void completions(Context ctx, boolean azure) {
        long arrival = System.nanoTime();
        if (azure) checkApiVersion(ctx);
        JsonNode body = readJson(ctx);
        CompletionRequest request = RequestParser.completion(body, ExtraParameters.fromHeader(ctx.header(ExtraParameters.HEADER)));
        Deployment d = select(ctx, request.options().model());
        generate(ctx, d, arrival, responder -> CompletionService.serve(d, request, responder));
    }

    private void chat(Context ctx, boolean azure) {
        long arrival = System.nanoTime();
        if (azure) checkApiVersion(ctx);
        JsonNode body = readJson(ctx);
        ChatCompletionRequest request = RequestParser.chat(body, ExtraParameters.fromHeader(ctx.header(ExtraParameters.HEADER)));
        Deployment d = select(ctx, request.options().model());
        generate(ctx, d, arrival, responder -> ChatService.serve(d, request, responder));
    }

    /**
     * Runs a service with the request followed as an {@link Exchange} (held stream, timing, shutdown) and its
     * connection watched for the client leaving.
     */
    private void generate(Context ctx, Deployment d, long arrivalNanos, Function<Responder, Object> service) {
        try (Exchange x = inFlight.begin(metrics.startRequest(d.name(), arrivalNanos))) {
            int outcome;
            try {
                Object response;
                try (Deployment.Slot slot = d.admit();
                     DisconnectWatch watch = DisconnectWatch.start(ctx.req(), x::clientGone)) {
                    response = ScopedValue.where(Generation.WATCHER, x).call(() -> service.apply(x.responder(ctx)));
                }
                // Written after the slot is freed, so a client that sends its next request as soon as it has this
                // answer never finds its own previous request still holding the slot.
                x.finishResponse(ctx);
                if (response != null) json(ctx, 200, response);
                x.responseSent();
                outcome = x.outcomeStatus();
            } catch (ClientGone gone) {
                LOG.debug("client disconnected from {}; generation cancelled", ctx.path());
                outcome = ClientGone.STATUS;
            }
            if (outcome != 0) ctx.attribute(OUTCOME_STATUS, outcome);
        }
    }

    private Deployment select(Context ctx, String model) {
        return deployments.select(ctx.header(Deployments.AZURE_DEPLOYMENT_HEADER), ctx.header(Deployments.DEPLOYMENT_HEADER),
                model, ctx.header(Deployments.TAGS_HEADER));
    }

    /**
     * The status a request counts with in the metrics: its response's status, unless the response was committed
     * (a stream's 200) before it ended with an error, or the client left before its end.
     */
    private static int countedStatus(Context ctx) {
        Integer outcome = ctx.attribute(OUTCOME_STATUS);
        return outcome != null ? outcome : ctx.statusCode();
    }

    /** The route that answered, as its pattern (a bounded set of label values), or "unmatched" (404, 405). */
    private static String endpoint(Context ctx) {
        try {
            var last = ctx.endpoint(); // the before-handler when no route matched
            return last.method.isHttpMethod() ? last.path : "unmatched";
        } catch (RuntimeException noHandlerRan) {
            return "unmatched";
        }
    }

    // ---- request reading ----

    private static void checkApiVersion(Context ctx) {
        String version = ctx.queryParam("api-version");
        if (version == null || version.isBlank()) {
            // A value that is not valid percent-encoding decodes to nothing, but it was sent: it is invalid, not missing.
            String raw = rawQueryValue(ctx.queryString(), "api-version");
            if (version == null && raw != null && !raw.isBlank()) {
                throw ApiException.badRequest("invalid_api_version", "api-version is not valid percent-encoding: '" + raw
                        + "' (the format is YYYY-MM-DD or YYYY-MM-DD-preview)", List.of("query", "api-version"), raw);
            }
            throw ApiException.badRequest("missing_api_version", "The query parameter 'api-version' is required on "
                    + ctx.path() + " (format YYYY-MM-DD or YYYY-MM-DD-preview), e.g. ?api-version=2024-05-01-preview; "
                    + "or use /v1" + ctx.path() + " without it", List.of("query", "api-version"), null);
        }
        if (!API_VERSION.matcher(version).matches()) {
            throw ApiException.badRequest("invalid_api_version", "api-version must have the format YYYY-MM-DD or "
                    + "YYYY-MM-DD-preview, got '" + version + "'", List.of("query", "api-version"), version);
        }
        try {
            LocalDate.parse(version.substring(0, 10), DateTimeFormatter.ISO_LOCAL_DATE); // strict: no month 13, no Feb 30
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest("invalid_api_version", "api-version must be a calendar date as YYYY-MM-DD or "
                    + "YYYY-MM-DD-preview; '" + version.substring(0, 10) + "' is not a date", List.of("query", "api-version"), version);
        }
    }

    /** The undecoded value of a query parameter, or null when the query does not have it. */
    private static String rawQueryValue(String query, String name) {
        if (query == null) return null;
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if ((eq < 0 ? pair : pair.substring(0, eq)).equals(name)) return eq < 0 ? "" : pair.substring(eq + 1);
        }
        return null;
    }

    private JsonNode readJson(Context ctx) {
        String type = ctx.header("Content-Type");
        if (type != null && !type.isBlank()) {
            String mime = type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
            if (!mime.equals("application/json") && !mime.endsWith("+json")) {
                throw ApiException.badRequest("unsupported_content_type",
                        "The request body must be JSON sent as 'Content-Type: application/json', got '" + type + "'",
                        List.of("header", "content-type"), type);
            }
        }
        checkTransferCoding(ctx.header("Transfer-Encoding"));
        boolean gzip = gzipEncoded(ctx.header("Content-Encoding"));
        byte[] body = readBody(ctx);
        return Json.parse(gzip ? gunzip(body, config.maxBodyBytes()) : body);
    }

    /**
     * Only chunked transfer is understood (the HTTP server undoes it); a body sent with another transfer coding
     * (Transfer-Encoding: gzip, chunked) would otherwise read as empty or as garbage. Compression goes in
     * Content-Encoding.
     */
    private static void checkTransferCoding(String transferEncoding) {
        if (transferEncoding == null) return;
        for (String coding : transferEncoding.split(",")) {
            String c = coding.strip().toLowerCase(Locale.ROOT);
            if (!c.isEmpty() && !c.equals("chunked") && !c.equals("identity")) {
                throw ApiException.badRequest("invalid_body", "Transfer-Encoding '" + coding.strip() + "' is not supported: "
                        + "send the body chunked or with a Content-Length, and compress it with 'Content-Encoding: gzip'",
                        List.of("header", "transfer-encoding"), transferEncoding);
            }
        }
    }

    /** Whether the body is gzip-compressed; a coding other than gzip or identity is refused with 415. */
    private static boolean gzipEncoded(String encoding) {
        if (encoding == null) return false;
        String coding = encoding.strip().toLowerCase(Locale.ROOT);
        if (coding.isEmpty() || coding.equals("identity")) return false;
        if (coding.equals("gzip") || coding.equals("x-gzip")) return true;
        throw new ApiException(ErrorKind.UNSUPPORTED_MEDIA_TYPE, "unsupported_content_encoding",
                "The request body's Content-Encoding '" + encoding + "' is not supported; send it uncompressed "
                        + "(identity) or as 'Content-Encoding: gzip'",
                List.of("header", "content-encoding"), encoding, Map.of("Accept-Encoding", "gzip, identity"));
    }

    /** Decompresses a gzip body; what it expands to counts against the body limit, so a small bomb is a 413. */
    private static byte[] gunzip(byte[] body, long limit) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
            byte[] plain = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
            if (plain.length > limit) {
                throw ApiException.of(ErrorKind.CONTENT_TOO_LARGE, "The request body decompresses to more than the limit of "
                        + limit + " bytes");
            }
            return plain;
        } catch (IOException e) {
            throw ApiException.badRequest("invalid_body", "The request body is labelled 'Content-Encoding: gzip' but is "
                    + "not valid gzip data");
        }
    }

    /** Oversized bodies up to this size are drained before the 413 is sent (see readBody). */
    private static final long DRAIN_LIMIT = 64L << 20;

    private byte[] readBody(Context ctx) {
        long limit = config.maxBodyBytes();
        long declared = ctx.req().getContentLengthLong();
        // Collected here rather than with readNBytes so that a body that breaks off can say how much of it arrived.
        ByteArrayOutputStream body = new ByteArrayOutputStream(declared >= 0 && declared <= limit ? (int) declared + 1 : 8192);
        try (InputStream in = ctx.req().getInputStream()) {
            if (declared > limit) {
                // Read and discard a moderately oversized body so the client, still sending, gets to read the 413
                // instead of a broken pipe; a huge one is refused without reading and the connection closes.
                if (declared <= DRAIN_LIMIT) in.transferTo(OutputStream.nullOutputStream());
                throw tooLarge(limit);
            }
            byte[] buffer = new byte[16384];
            long cap = Math.min(Integer.MAX_VALUE - 8, limit + 1);
            int n;
            while (body.size() < cap && (n = in.read(buffer, 0, (int) Math.min(buffer.length, cap - body.size()))) >= 0) {
                body.write(buffer, 0, n);
            }
            if (body.size() > limit) throw tooLarge(limit);
            return body.toByteArray();
        } catch (IOException e) {
            String encoding = ctx.header("Transfer-Encoding");
            throw unreadableBody(encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked"), declared, body.size());
        }
    }

    /** The body broke off: Jetty only says "Early EOF", so say which framing it broke and how much had arrived. */
    private static ApiException unreadableBody(boolean chunked, long declared, long received) {
        String message = chunked
                ? "The request body is malformed: its chunked encoding is invalid, or it ended before the final zero-size "
                        + "chunk (after " + received + " bytes)"
                : declared >= 0
                        ? "The request body was cut short: Content-Length is " + declared + " bytes but only " + received
                                + " arrived before the connection ended"
                        : "The request body was cut short: the connection ended after " + received + " bytes";
        return ApiException.badRequest("invalid_body", message);
    }

    private static ApiException tooLarge(long limit) {
        return ApiException.of(ErrorKind.CONTENT_TOO_LARGE, "The request body is larger than the limit of " + limit + " bytes");
    }

    // ---- responses ----

    private static void json(Context ctx, int status, Object body) {
        ctx.status(status).contentType("application/json").result(Json.write(body));
    }

    private static void error(Context ctx, ApiException e) {
        if (ctx.res().isCommitted()) {
            ctx.attribute(OUTCOME_STATUS, e.status()); // too late to tell the client; the metrics still know
            return;
        }
        ctx.attribute(ERROR_WRITTEN, Boolean.TRUE);
        ctx.header("x-ms-error-code", e.code());
        e.headers().forEach(ctx::header);
        ctx.status(e.status()).contentType("application/json").result(errorBody(e));
    }

    /** The error's JSON envelope; should writing it fail, a minimal one that cannot, so a client always gets one. */
    static String errorBody(ApiException e) {
        try {
            return Json.write(e.toResponse());
        } catch (RuntimeException failure) {
            LOG.warn("could not write the error envelope for a {} ({}); sent a minimal one", e.status(), e.code(), failure);
            return ErrorResponse.minimal(e.getMessage(), e.kind().type, e.code(), e.status());
        }
    }

    private static ApiException translate(HttpResponseException e, Context ctx, String allowed) {
        return switch (e.getStatus()) {
            case 404 -> notFound(ctx);
            case 405 -> methodNotAllowed(ctx, allowed);
            case 413 -> ApiException.of(ErrorKind.CONTENT_TOO_LARGE, "The request body is too large");
            default -> e.getStatus() >= 500
                    ? ApiException.of(ErrorKind.INTERNAL, "The server failed to handle this request; see the server log")
                    : ApiException.badRequest("bad_request", e.getMessage());
        };
    }

    private static ApiException notFound(Context ctx) {
        return ApiException.notFound("not_found", noRoute(ctx.method().name(), ctx.path()));
    }

    static String noRoute(String method, String path) {
        return "No route " + method + " " + path
                + ". Routes: POST /v1/completions, POST /v1/chat/completions, POST /completions, POST /chat/completions, "
                + "GET /v1/models, GET /v1/models/{id}, GET /info, GET /health, GET /ready, GET /metrics";
    }

    private static ApiException methodNotAllowed(Context ctx, String allowed) {
        // RFC 9110 (15.5.6): a 405 lists the methods the resource does support.
        return new ApiException(ErrorKind.METHOD_NOT_ALLOWED, null,
                "Method " + ctx.method() + " is not allowed on " + ctx.path() + (allowed == null ? "" : "; allowed: " + allowed),
                null, null, allowed == null ? null : Map.of("Allow", allowed));
    }
}
