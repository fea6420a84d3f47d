package dev.quill.server.serving;

import dev.quill.engine.EngineOptions;
import dev.quill.engine.Engines;
import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.ErrorKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The served deployments and how a request picks one: the {@code azureml-model-deployment} or
 * {@code x-deployment-name} header, else the {@code model} field (a name or alias, {@code vendor/model_name}, or
 * {@code vendor/model_name/deployment}; ignored when there is only one deployment), else the first deployment that
 * has every {@code x-tags} tag, else the first deployment. A deployment picked by name must have the tags too.
 */
public final class Deployments implements AutoCloseable {

    public static final String AZURE_DEPLOYMENT_HEADER = "azureml-model-deployment";
    public static final String DEPLOYMENT_HEADER = "x-deployment-name";
    public static final String TAGS_HEADER = "x-tags";

    private final List<Deployment> all;

    /** Loads every deployment's model with the engine; engines already started are closed if a later one fails. */
    public static Deployments load(ServerConfig config, java.util.function.Consumer<String> progress) {
        List<Deployment> loaded = new ArrayList<>();
        try {
            for (ServerConfig.DeploymentConfig d : config.deployments()) {
                progress.accept("loading " + d.name() + " from " + d.model());
                EngineOptions options = d.engine().applyTo(EngineOptions.defaults().withContextLength(d.contextLength()));
                if (config.threads() > 0) options = options.withThreads(config.threads());
                loaded.add(new Deployment(d, Engines.load(d.model(), options, progress)));
            }
            return new Deployments(loaded);
        } catch (RuntimeException e) {
            for (Deployment d : loaded) d.close();
            throw e;
        }
    }

    public Deployments(List<Deployment> all) {
        if (all.isEmpty()) throw new IllegalArgumentException("no deployments");
        this.all = List.copyOf(all);
    }

    public List<Deployment> all() {
        return all;
    }

    /** The deployment a request asks for, or 404 listing the names there are. */
    public Deployment select(String azureHeader, String deploymentHeader, String model, String tags) {
        Set<String> wanted = new LinkedHashSet<>();
        if (tags != null) for (String tag : tags.split(",")) if (!tag.isBlank()) wanted.add(tag.strip());
        Deployment chosen;
        if (present(azureHeader)) {
            chosen = byName(azureHeader.strip()).orElseThrow(() -> unknown("deployment", azureHeader, List.of("header", AZURE_DEPLOYMENT_HEADER)));
        } else if (present(deploymentHeader)) {
            chosen = byName(deploymentHeader.strip()).orElseThrow(() -> unknown("deployment", deploymentHeader, List.of("header", DEPLOYMENT_HEADER)));
        } else if (present(model) && all.size() > 1) {
            chosen = byModel(model.strip()).orElseThrow(() -> unknown("model", model, List.of("body", "model")));
        } else if (!wanted.isEmpty()) {
            // Nothing named a deployment: the tags pick the first that has them all.
            return all.stream().filter(d -> d.config().tags().containsAll(wanted)).findFirst()
                    .orElseThrow(() -> new ApiException(ErrorKind.NOT_FOUND, "deployment_not_found", "No deployment has all the tags "
                            + wanted + " (" + tagsOfAll() + ")", List.of("header", TAGS_HEADER), tags, null));
        } else {
            // A server of one deployment ignores the model field, as Azure AI model inference documents ("ignored if
            // the endpoint serves only one model"): SDKs send some model name whether or not it means anything here.
            chosen = all.getFirst();
        }
        if (!chosen.config().tags().containsAll(wanted)) {
            throw new ApiException(ErrorKind.NOT_FOUND, "deployment_not_found", "Deployment '" + chosen.name()
                    + "' does not have the tags " + wanted + " (its tags: " + chosen.config().tags() + ")",
                    List.of("header", TAGS_HEADER), tags, null);
        }
        return chosen;
    }

    private String tagsOfAll() {
        List<String> each = new ArrayList<>();
        for (Deployment d : all) each.add(d.name() + ": " + d.config().tags());
        return String.join("; ", each);
    }

    /** A deployment by name or alias, or by the vendor-qualified forms. */
    public Optional<Deployment> byModel(String model) {
        Optional<Deployment> direct = byName(model);
        if (direct.isPresent()) return direct;
        List<String> parts = Arrays.asList(model.split("/", -1));
        if (parts.size() == 2) {
            return all.stream().filter(d -> d.config().vendor().equals(parts.get(0)) && answersTo(d, parts.get(1))).findFirst();
        }
        if (parts.size() == 3) {
            return all.stream().filter(d -> d.config().vendor().equals(parts.get(0)) && d.name().equals(parts.get(2))
                    && answersTo(d, parts.get(1))).findFirst();
        }
        return Optional.empty();
    }

    public Optional<Deployment> byName(String name) {
        return all.stream().filter(d -> answersTo(d, name)).findFirst();
    }

    private static boolean answersTo(Deployment d, String name) {
        return d.name().equals(name) || d.config().aliases().contains(name);
    }

    private ApiException unknown(String what, String value, List<Object> loc) {
        List<String> names = new ArrayList<>();
        for (Deployment d : all) {
            names.add(d.name());
            names.addAll(d.config().aliases());
        }
        String code = what.equals("model") ? "model_not_found" : "deployment_not_found";
        return new ApiException(ErrorKind.NOT_FOUND, code, "The " + what + " '" + value + "' does not exist. Available: "
                + String.join(", ", names), loc, value, null);
    }

    private static boolean present(String value) {
        return value != null && !value.isBlank();
    }

    @Override
    public void close() {
        for (Deployment d : all) d.close();
    }
}
