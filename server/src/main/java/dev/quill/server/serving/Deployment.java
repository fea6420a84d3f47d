package dev.quill.server.serving;

import dev.quill.engine.Engine;
import dev.quill.engine.ModelInfo;
import dev.quill.engine.tokenizer.Tokenizer;
import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.ErrorKind;
import dev.quill.server.template.TemplateException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;

/** One served model: its configuration, its engine, and what the server derives from the model once. */
public final class Deployment implements AutoCloseable {

    private final ServerConfig.DeploymentConfig config;
    private final Engine engine;
    private final ModelInfo info;
    private final ChatFormatter chatFormatter;
    private final Optional<FimTokens> fimTokens;
    private final Semaphore admission;

    public Deployment(ServerConfig.DeploymentConfig config, Engine engine) {
        this.config = config;
        this.engine = engine;
        this.info = engine.info();
        this.chatFormatter = ChatFormatter.forModel(info);
        this.fimTokens = FimTokens.find(engine.tokenizer());
        this.admission = new Semaphore(config.maxConcurrentRequests());
    }

    public String name() {
        return config.name();
    }

    public ServerConfig.DeploymentConfig config() {
        return config;
    }

    public Engine engine() {
        return engine;
    }

    public ModelInfo info() {
        return info;
    }

    public Tokenizer tokenizer() {
        return engine.tokenizer();
    }

    public int contextLength() {
        return info.contextLength();
    }

    public Optional<FimTokens> fimTokens() {
        return fimTokens;
    }

    /** The model's chat template and tool-call format. */
    public ChatFormatter chatFormatter() {
        return chatFormatter;
    }

    /** Renders messages with the model's chat template; a template that rejects the conversation is a 422. */
    public String renderChat(Map<String, Object> context) {
        try {
            return chatFormatter.render(context);
        } catch (TemplateException e) {
            throw ApiException.invalid(java.util.List.of("body", "messages"), null,
                    "The model's chat template cannot render these messages: " + e.getMessage());
        }
    }

    /** A taken request slot; closing it frees the slot. */
    public interface Slot extends AutoCloseable {
        @Override
        void close();
    }

    /** Takes one of the deployment's request slots, or throws 429 when all are busy. */
    public Slot admit() {
        if (!admission.tryAcquire()) {
            throw new ApiException(ErrorKind.TOO_MANY_REQUESTS, "too_many_requests",
                    "Deployment '" + name() + "' is serving " + config.maxConcurrentRequests()
                            + " requests already; retry shortly", null, null, Map.of("Retry-After", "1"));
        }
        return admission::release;
    }

    @Override
    public void close() {
        engine.close();
    }
}
