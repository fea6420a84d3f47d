package dev.quill.cli;

import dev.quill.engine.EngineOptions;
import dev.quill.server.serving.Deployment;
import dev.quill.server.serving.Deployments;
import dev.quill.server.serving.QuillServer;
import dev.quill.server.serving.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code quill serve}: the OpenAI-compatible HTTP server. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve models over the OpenAI-compatible Completions and Chat Completions API.")
public final class ServeCommand implements Callable<Integer> {

    /** The built-in model, relative to the Quill folder (the launcher passes it as -Dquill.home). */
    static final String BUILT_IN_MODEL = "models/quill-tiny.gguf";
    static final String BUILT_IN_NAME = "quill-tiny";
    /** At most this long per deployment for the requests {@link QuillServer#warmUp} sends before serving. */
    static final java.time.Duration SERVING_WARMUP_BUDGET = java.time.Duration.ofSeconds(8);

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "a GGUF model to serve (default: the built-in model)")
    Path model;

    @Option(names = "--name", paramLabel = "NAME", description = "the model's name in the API when serving -m FILE (default: the file name)")
    String name;

    @Option(names = "--config", paramLabel = "FILE", description = "a YAML file naming the deployments to serve (see docs/api.md)")
    Path config;

    @Option(names = "--host", paramLabel = "HOST", description = "address to listen on (default: 127.0.0.1)")
    String host;

    @Option(names = "--port", paramLabel = "PORT", description = "port to listen on (default: 8080)")
    Integer port;

    @Option(names = "--threads", paramLabel = "N", description = "engine threads per model (default: all cores)")
    Integer threads;

    @Option(names = "--cors-origin", paramLabel = "ORIGIN",
            description = "a browser origin allowed to call the API, e.g. https://app.example.com, or * for any (repeatable; default: none)")
    java.util.List<String> corsOrigins;

    // Engine settings: given on the command line they apply to every deployment, over its config file settings.
    @Option(names = "--kv-cache", paramLabel = "SIZE", description = "KV cache memory per model, e.g. 512MB or 2GB (default: 512MB)")
    String kvCache;

    @Option(names = "--block-size", paramLabel = "TOKENS", description = "token positions per KV cache block (default: 16)")
    Integer blockSize;

    @Option(names = "--max-batch-tokens", paramLabel = "N", description = "tokens per forward pass: running sequences' next tokens plus prompt chunks (default: 512)")
    Integer maxBatchTokens;

    @Option(names = "--max-sequences", paramLabel = "N", description = "sequences computed at once (default: 64)")
    Integer maxSequences;

    @Option(names = "--max-queue", paramLabel = "N", description = "requests waiting for the engine; more get 429 (default: 256)")
    Integer maxQueue;

    @Option(names = "--speculative-tokens", paramLabel = "N",
            description = "draft tokens per step of a sequence decoding alone (one each for two), guessed from its own past and verified in the same pass; the output does not change (default: 3, 0 = off)")
    Integer speculativeTokens;

    @Option(names = "--kv-f32", description = "keep the KV cache in F32 rather than F16 (twice the memory)")
    Boolean kvF32;

    @Option(names = "--no-prefix-caching", description = "do not reuse the KV cache of shared prompt prefixes")
    Boolean noPrefixCaching;

    @Option(names = "--no-warmup", description = "skip compiling the kernels at load and the few requests the server sends itself before serving (the first requests then run slowly)")
    Boolean noWarmup;

    @Override
    public Integer call() throws Exception {
        ServerConfig serverConfig;
        try {
            serverConfig = serverConfig();
        } catch (IllegalArgumentException | java.io.IOException e) {
            System.err.println("serve: " + e.getMessage());
            return 2;
        }
        String busy = portInUse(serverConfig.host(), serverConfig.port());
        if (busy != null) {
            // Said now rather than after loading and warming up the models, which can take a while.
            System.err.println("serve: cannot listen on " + serverConfig.host() + ":" + serverConfig.port() + ": " + busy);
            return 1;
        }
        Deployments deployments;
        try {
            deployments = Deployments.load(serverConfig, message -> System.out.println(message));
        } catch (RuntimeException e) {
            System.err.println("serve: cannot load the model: " + e.getMessage());
            return 1;
        }
        warmUpServing(serverConfig, deployments);
        QuillServer server;
        try {
            server = QuillServer.start(serverConfig, deployments);
        } catch (RuntimeException e) {
            deployments.close();
            System.err.println("serve: cannot listen on " + serverConfig.host() + ":" + serverConfig.port() + ": " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            deployments.close();
            stopped.countDown();
        }, "quill-shutdown"));
        System.out.println("Quill is serving on " + server.address() + "/v1");
        for (Deployment d : deployments.all()) {
            System.out.println("  " + d.name() + "  (" + d.info().architecture() + ", context " + d.contextLength()
                    + (d.config().aliases().isEmpty() ? "" : ", aliases " + String.join(", ", d.config().aliases())) + ")");
        }
        System.out.flush();
        stopped.await();
        return 0;
    }

    /**
     * A few real requests through the whole server before its port opens, so that the first clients' requests run
     * compiled code too: on a private loopback instance, closed afterwards (no client can meet a half-warm server, and
     * the real server's request metrics start empty). Skipped with --no-warmup; a failure only costs the warm-up.
     */
    private static void warmUpServing(ServerConfig serverConfig, Deployments deployments) {
        if (deployments.all().stream().allMatch(d -> Boolean.FALSE.equals(d.config().engine().warmup()))) return;
        try (QuillServer warm = QuillServer.start(serverConfig.withListen("127.0.0.1", 0), deployments)) {
            warm.warmUp(SERVING_WARMUP_BUDGET, message -> System.out.println(message));
        } catch (RuntimeException e) {
            System.err.println("serve: the serving warm-up failed (" + e.getMessage() + "); serving without it");
        }
    }

    /** Why the address cannot be listened on (in use, not local), or null when it can or the port is 0 (any). */
    static String portInUse(String host, int port) {
        if (port == 0) return null;
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new java.net.InetSocketAddress(host, port));
            return null;
        } catch (java.io.IOException e) {
            return e.getMessage();
        }
    }

    ServerConfig serverConfig() throws java.io.IOException {
        if (model != null && config != null) throw new IllegalArgumentException("give either -m FILE or --config FILE, not both");
        ServerConfig c;
        if (config != null) {
            if (name != null) throw new IllegalArgumentException("--name goes with -m FILE; a config file names its deployments");
            c = ServerConfig.load(config);
        } else {
            Path file = model != null ? model : Path.of(System.getProperty("quill.home", ".")).resolve(BUILT_IN_MODEL);
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException(model != null ? "no model file " + file
                        : "the built-in model " + file + " is missing; pass -m FILE (a GGUF model) or --config FILE");
            }
            String deploymentName = name != null ? name
                    : model == null ? BUILT_IN_NAME : file.getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
            c = ServerConfig.single(ServerConfig.DeploymentConfig.of(deploymentName, file));
        }
        if (host != null || port != null) c = c.withListen(host != null ? host : c.host(), port != null ? port : c.port());
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1");
            c = c.withThreads(threads);
        }
        if (corsOrigins != null && !corsOrigins.isEmpty()) c = c.withCorsOrigins(corsOrigins);
        return c.withEngineOverrides(engineSettings());
    }

    private ServerConfig.EngineSettings engineSettings() {
        return new ServerConfig.EngineSettings(
                kvCache == null ? 0 : kvCacheBytes(kvCache),
                positive("--block-size", blockSize), positive("--max-batch-tokens", maxBatchTokens),
                positive("--max-sequences", maxSequences), positive("--max-queue", maxQueue),
                kvF32, noPrefixCaching == null ? null : !noPrefixCaching, noWarmup == null ? null : !noWarmup,
                speculativeTokens(speculativeTokens));
    }

    private static Integer speculativeTokens(Integer n) {
        if (n != null && (n < 0 || n > EngineOptions.MAX_SPECULATIVE_TOKENS)) {
            throw new IllegalArgumentException("--speculative-tokens must be between 0 (off) and "
                    + EngineOptions.MAX_SPECULATIVE_TOKENS + ", got " + n);
        }
        return n;
    }

    private static long kvCacheBytes(String size) {
        try {
            return EngineOptions.parseBytes(size);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--kv-cache: " + e.getMessage());
        }
    }

    private static int positive(String option, Integer value) {
        if (value == null) return 0;
        if (value < 1) throw new IllegalArgumentException(option + " must be at least 1, got " + value);
        return value;
    }
}
