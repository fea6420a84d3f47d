package dev.quill.server.tools;

import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import java.util.List;

/** An independent JSON Schema validator (networknt, draft 2020-12, formats asserted) for checking outputs in tests. */
public final class SchemaCheck {

    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
            b -> b.schemaRegistryConfig(SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));

    private SchemaCheck() {}

    /** The validation errors of {@code instance} (JSON text) against {@code schema} (JSON text); empty when valid. */
    public static List<String> errors(String schema, String instance) {
        return REGISTRY.getSchema(schema, InputFormat.JSON).validate(instance, InputFormat.JSON).stream().map(Object::toString).toList();
    }
}
