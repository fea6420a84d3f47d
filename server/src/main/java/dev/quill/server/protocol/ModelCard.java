package dev.quill.server.protocol;

import java.util.List;

/**
 * One served model as {@code GET /v1/models} lists it.
 *
 * @param id            the deployment name (what to send as {@code model})
 * @param contextLength tokens of context the model serves
 * @param aliases       other names that select this deployment
 */
public record ModelCard(String id, String object, long created, String ownedBy, int contextLength, List<String> aliases,
                        List<String> tags) {

    public record ListResponse(String object, List<ModelCard> data) {}
}
