package dev.quill.server.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.quill.engine.EngineOptions;
import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.JsonFields;
import dev.quill.server.protocol.Loc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What the server serves and how: the YAML file given to {@code quill serve --config}, or one model file.
 *
 * <pre>
 * host: 127.0.0.1
 * port: 8080
 * threads: 4                 # engine threads per model (0 = all cores)
 * max_body_bytes: 10485760
 * api_keys: [secret-1]       # also QUILL_API_KEYS (comma-separated); none = no authentication
 * cors_origins: [https://app.example.com]   # browser origins allowed to call the API ("*" = any); none = no CORS
 * content_filter:            # applies to every deployment, in addition to its own
 *   blocked_terms: [forbidden]
 * deployments:
 *   - name: quill-tiny
 *     model: models/quill-tiny.gguf   # relative to this file
 *     aliases: [tiny]
 *     tags: [small]
 *     vendor: quill
 *     context_length: 0              # 0 = the model's own
 *     kv_cache: 512MB                # KV cache memory for all sequences of this model
 *     max_concurrent_requests: 64    # more at once get 429
 *     block_size: 16                 # the engine's settings (EngineSettings); absent = the engine's default
 *     max_batch_tokens: 512
 *     max_sequences: 64
 *     max_queue: 256                 # requests waiting for the engine; more get 429
 *     kv_f32: false
 *     prefix_caching: true
 *     warmup: true                   # compile the kernels and warm the serving path up at start, so that the first requests are fast
 *     speculative_tokens: 3          # draft tokens per step of a lone sequence (1 with two); 0 = off
 *     content_filter:
 *       blocked_terms: [secret]      # case-insensitive substrings refused in prompts and cut from output
 * </pre>
 */
public record ServerConfig(String host, int port, int threads, long maxBodyBytes, List<String> apiKeys,
                           List<DeploymentConfig> deployments, List<String> corsOrigins) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    /** A CORS origin: {@code *}, or a scheme and host with an optional port, as browsers send it. */
    private static final java.util.regex.Pattern ORIGIN = java.util.regex.Pattern.compile("\\*|https?://[^/\\s:]+(:\\d{1,5})?");

    /** A configuration without CORS. */
    public ServerConfig(String host, int port, int threads, long maxBodyBytes, List<String> apiKeys,
                        List<DeploymentConfig> deployments) {
        this(host, port, threads, maxBodyBytes, apiKeys, deployments, List.of());
    }
    public static final int DEFAULT_PORT = 8080;
    public static final long DEFAULT_MAX_BODY_BYTES = 10L * 1024 * 1024;

    /**
     * One named deployment of a model file.
     *
     * @param vendor                the vendor part of {@code vendor/model_name} model names
     * @param contextLength         tokens of context to serve; 0 = the model's
     * @param maxConcurrentRequests requests served at once; more are refused with 429
     * @param engine                how the engine runs the model
     * @param contentFilter         terms refused in prompts and cut from output (the server-wide ones included)
     */
    public record DeploymentConfig(String name, Path model, List<String> aliases, List<String> tags, String vendor,
                                   int contextLength, int maxConcurrentRequests, EngineSettings engine,
                                   ContentFilter contentFilter) {

        public static final String DEFAULT_VENDOR = "quill";
        public static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 64;

        public DeploymentConfig {
            aliases = List.copyOf(aliases);
            tags = List.copyOf(tags);
        }

        /** A deployment without a content filter. */
        public DeploymentConfig(String name, Path model, List<String> aliases, List<String> tags, String vendor,
                                int contextLength, int maxConcurrentRequests, EngineSettings engine) {
            this(name, model, aliases, tags, vendor, contextLength, maxConcurrentRequests, engine, ContentFilter.NONE);
        }

        /** A deployment with the engine's defaults except, when positive, its KV cache memory. */
        public DeploymentConfig(String name, Path model, List<String> aliases, List<String> tags, String vendor,
                                int contextLength, long kvCacheBytes, int maxConcurrentRequests) {
            this(name, model, aliases, tags, vendor, contextLength, maxConcurrentRequests,
                    EngineSettings.DEFAULTS.withKvCacheBytes(kvCacheBytes));
        }

        public static DeploymentConfig of(String name, Path model) {
            return new DeploymentConfig(name, model, List.of(), List.of(), DEFAULT_VENDOR, 0, 0, DEFAULT_MAX_CONCURRENT_REQUESTS);
        }

        public DeploymentConfig withEngine(EngineSettings settings) {
            return new DeploymentConfig(name, model, aliases, tags, vendor, contextLength, maxConcurrentRequests, settings,
                    contentFilter);
        }

        public DeploymentConfig withContentFilter(ContentFilter filter) {
            return new DeploymentConfig(name, model, aliases, tags, vendor, contextLength, maxConcurrentRequests, engine,
                    filter);
        }
    }

    /**
     * The engine settings of a deployment ({@code quill serve} options or YAML keys). Each one left at 0 (or null)
     * keeps the engine's default: see {@link EngineOptions} for the meanings and defaults.
     */
    public record EngineSettings(long kvCacheBytes, int blockSize, int maxBatchTokens, int maxSequences, int maxQueue,
                                 Boolean kvF32, Boolean prefixCaching, Boolean warmup, Integer speculativeTokens) {

        public static final EngineSettings DEFAULTS = new EngineSettings(0, 0, 0, 0, 0, null, null, null, null);

        public EngineSettings {
            if (kvCacheBytes < 0 || blockSize < 0 || maxBatchTokens < 0 || maxSequences < 0 || maxQueue < 0) {
                throw new IllegalArgumentException("engine settings must not be negative: " + this);
            }
        }

        /** Settings that leave the warm-up at the engine's default. */
        public EngineSettings(long kvCacheBytes, int blockSize, int maxBatchTokens, int maxSequences, int maxQueue,
                              Boolean kvF32, Boolean prefixCaching) {
            this(kvCacheBytes, blockSize, maxBatchTokens, maxSequences, maxQueue, kvF32, prefixCaching, null, null);
        }

        /** Settings that leave speculative decoding at the engine's default. */
        public EngineSettings(long kvCacheBytes, int blockSize, int maxBatchTokens, int maxSequences, int maxQueue,
                              Boolean kvF32, Boolean prefixCaching, Boolean warmup) {
            this(kvCacheBytes, blockSize, maxBatchTokens, maxSequences, maxQueue, kvF32, prefixCaching, warmup, null);
        }

        public EngineSettings withKvCacheBytes(long bytes) {
            return new EngineSettings(Math.max(0, bytes), blockSize, maxBatchTokens, maxSequences, maxQueue, kvF32,
                    prefixCaching, warmup, speculativeTokens);
        }

        /** These settings where given, {@code base} elsewhere. */
        public EngineSettings over(EngineSettings base) {
            return new EngineSettings(kvCacheBytes > 0 ? kvCacheBytes : base.kvCacheBytes,
                    blockSize > 0 ? blockSize : base.blockSize, maxBatchTokens > 0 ? maxBatchTokens : base.maxBatchTokens,
                    maxSequences > 0 ? maxSequences : base.maxSequences, maxQueue > 0 ? maxQueue : base.maxQueue,
                    kvF32 != null ? kvF32 : base.kvF32, prefixCaching != null ? prefixCaching : base.prefixCaching,
                    warmup != null ? warmup : base.warmup,
                    speculativeTokens != null ? speculativeTokens : base.speculativeTokens);
        }

        /** The options with these settings applied. */
        public EngineOptions applyTo(EngineOptions options) {
            EngineOptions o = options;
            if (kvCacheBytes > 0) o = o.withKvCacheBytes(kvCacheBytes);
            if (blockSize > 0) o = o.withBlockSize(blockSize);
            if (maxBatchTokens > 0) o = o.withMaxBatchTokens(maxBatchTokens);
            if (maxSequences > 0) o = o.withMaxSequences(maxSequences);
            if (maxQueue > 0) o = o.withMaxQueue(maxQueue);
            if (kvF32 != null) o = o.withKvF16(!kvF32);
            if (prefixCaching != null) o = o.withPrefixCaching(prefixCaching);
            if (warmup != null) o = o.withWarmup(warmup);
            if (speculativeTokens != null) o = o.withSpeculativeTokens(speculativeTokens);
            return o;
        }
    }

    public ServerConfig {
        apiKeys = List.copyOf(apiKeys);
        deployments = List.copyOf(deployments);
        if (deployments.isEmpty()) throw new IllegalArgumentException("at least one deployment is needed");
        Set<String> names = new HashSet<>();
        for (DeploymentConfig d : deployments) {
            for (String name : concat(d.name(), d.aliases())) {
                if (!names.add(name)) throw new IllegalArgumentException("deployment name or alias '" + name + "' is used twice");
            }
        }
        corsOrigins = List.copyOf(corsOrigins);
        for (String origin : corsOrigins) {
            if (!ORIGIN.matcher(origin).matches()) {
                throw new IllegalArgumentException("a CORS origin is '*' or scheme://host[:port] (no path), got '" + origin + "'");
            }
        }
    }

    public static ServerConfig single(DeploymentConfig deployment) {
        return new ServerConfig(DEFAULT_HOST, DEFAULT_PORT, 0, DEFAULT_MAX_BODY_BYTES, List.of(), List.of(deployment));
    }

    public ServerConfig withListen(String host, int port) {
        return new ServerConfig(host, port, threads, maxBodyBytes, apiKeys, deployments, corsOrigins);
    }

    public ServerConfig withThreads(int threads) {
        return new ServerConfig(host, port, threads, maxBodyBytes, apiKeys, deployments, corsOrigins);
    }

    public ServerConfig withApiKeys(List<String> keys) {
        return new ServerConfig(host, port, threads, maxBodyBytes, keys, deployments, corsOrigins);
    }

    public ServerConfig withMaxBodyBytes(long bytes) {
        return new ServerConfig(host, port, threads, bytes, apiKeys, deployments, corsOrigins);
    }

    /** The browser origins allowed to call the API (CORS); empty = none. */
    public ServerConfig withCorsOrigins(List<String> origins) {
        return new ServerConfig(host, port, threads, maxBodyBytes, apiKeys, deployments, origins);
    }

    /** Every deployment with {@code overrides} over its own engine settings (command-line options win). */
    public ServerConfig withEngineOverrides(EngineSettings overrides) {
        return new ServerConfig(host, port, threads, maxBodyBytes, apiKeys,
                deployments.stream().map(d -> d.withEngine(overrides.over(d.engine()))).toList(), corsOrigins);
    }

    /** Reads a YAML config; model paths are resolved against the file's folder. */
    public static ServerConfig load(Path file) throws IOException {
        JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
        try {
            return parse(root, file.toAbsolutePath().getParent());
        } catch (ApiException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    static ServerConfig parse(JsonNode root, Path baseDir) {
        JsonFields f = JsonFields.object(root, Loc.of("config"));
        String host = f.string("host");
        Integer port = f.int32("port", 0, 65_535);
        Integer threads = f.int32("threads", 0, 4096);
        Long maxBody = f.integer("max_body_bytes", 1, Long.MAX_VALUE);
        List<String> keys = strings(f.raw("api_keys"), f.loc("api_keys"));
        List<String> origins = strings(f.raw("cors_origins"), f.loc("cors_origins"));
        for (int i = 0; i < origins.size(); i++) {
            if (!ORIGIN.matcher(origins.get(i)).matches()) {
                List<Object> at = Loc.append(f.loc("cors_origins"), i);
                throw ApiException.invalid(at, origins.get(i), Loc.param(at) + " must be '*' or scheme://host[:port] (no path), got '"
                        + origins.get(i) + "'");
            }
        }
        ContentFilter everywhere = contentFilter(f);
        JsonNode list = f.required("deployments");
        if (!list.isArray() || list.isEmpty()) {
            throw ApiException.invalid(f.loc("deployments"), null, "deployments must be a non-empty list");
        }
        List<DeploymentConfig> deployments = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonFields d = JsonFields.object(list.get(i), Loc.append(f.loc("deployments"), i));
            String name = d.requiredString("name");
            Path model = baseDir.resolve(d.requiredString("model")).normalize();
            List<String> aliases = strings(d.raw("aliases"), d.loc("aliases"));
            List<String> tags = strings(d.raw("tags"), d.loc("tags"));
            String vendor = d.string("vendor");
            Integer context = d.int32("context_length", 0, Integer.MAX_VALUE);
            long kvCache = kvCache(d);
            Integer concurrent = d.int32("max_concurrent_requests", 1, 1_000_000);
            EngineSettings engine = new EngineSettings(kvCache, orZero(d.int32("block_size", 1, 1024)),
                    orZero(d.int32("max_batch_tokens", 1, Integer.MAX_VALUE)), orZero(d.int32("max_sequences", 1, 1_000_000)),
                    orZero(d.int32("max_queue", 1, 1_000_000)), d.bool("kv_f32"), d.bool("prefix_caching"), d.bool("warmup"),
                    d.int32("speculative_tokens", 0, EngineOptions.MAX_SPECULATIVE_TOKENS));
            ContentFilter filter = everywhere.and(contentFilter(d));
            rejectUnknown(d);
            deployments.add(new DeploymentConfig(name, model, aliases, tags, vendor == null ? DeploymentConfig.DEFAULT_VENDOR : vendor,
                    context == null ? 0 : context,
                    concurrent == null ? DeploymentConfig.DEFAULT_MAX_CONCURRENT_REQUESTS : concurrent, engine, filter));
        }
        rejectUnknown(f);
        return new ServerConfig(host == null ? DEFAULT_HOST : host, port == null ? DEFAULT_PORT : port,
                threads == null ? 0 : threads, maxBody == null ? DEFAULT_MAX_BODY_BYTES : maxBody, keys, deployments, origins);
    }

    private static int orZero(Integer value) {
        return value == null ? 0 : value;
    }

    /** {@code kv_cache}: bytes, or a size such as 512MB or 2GB. */
    private static long kvCache(JsonFields d) {
        JsonNode value = d.raw("kv_cache");
        if (value == null) return 0;
        if (value.isNumber()) return JsonFields.integer(value, d.loc("kv_cache"), 1, Long.MAX_VALUE);
        try {
            return EngineOptions.parseBytes(JsonFields.string(value, d.loc("kv_cache")));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(d.loc("kv_cache"), value, Loc.param(d.loc("kv_cache")) + ": " + e.getMessage());
        }
    }

    /** {@code content_filter: {blocked_terms: [...]}}, absent = no filter; a term must not be empty. */
    private static ContentFilter contentFilter(JsonFields f) {
        JsonNode node = f.raw("content_filter");
        if (node == null) return ContentFilter.NONE;
        JsonFields filter = JsonFields.object(node, f.loc("content_filter"));
        List<Object> loc = filter.loc("blocked_terms");
        List<String> terms = strings(filter.raw("blocked_terms"), loc);
        for (int i = 0; i < terms.size(); i++) {
            if (terms.get(i).isEmpty()) throw ApiException.invalid(Loc.append(loc, i), "", Loc.param(Loc.append(loc, i)) + " must not be empty");
        }
        rejectUnknown(filter);
        return new ContentFilter(terms);
    }

    private static void rejectUnknown(JsonFields f) {
        List<String> unknown = f.unread();
        if (!unknown.isEmpty()) {
            throw ApiException.invalid(f.loc(unknown.getFirst()), null, "unknown setting " + Loc.param(f.loc(unknown.getFirst())));
        }
    }

    private static List<String> strings(JsonNode node, List<Object> loc) {
        if (node == null) return List.of();
        if (!node.isArray()) throw ApiException.invalid(loc, null, Loc.param(loc) + " must be a list of strings");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) out.add(JsonFields.string(node.get(i), Loc.append(loc, i)));
        return out;
    }

    private static List<String> concat(String first, List<String> rest) {
        List<String> out = new ArrayList<>();
        out.add(first);
        out.addAll(rest);
        return out;
    }
}
