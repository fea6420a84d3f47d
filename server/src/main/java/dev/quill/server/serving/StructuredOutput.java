package dev.quill.server.serving;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.engine.grammar.Expr;
import dev.quill.engine.grammar.Grammar;
import dev.quill.engine.grammar.GrammarSyntaxException;
import dev.quill.engine.grammar.Grammars;
import dev.quill.engine.grammar.SchemaException;
import dev.quill.engine.grammar.UnsupportedSchemaException;
import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.GenerationOptions;
import dev.quill.server.protocol.Json;
import dev.quill.server.protocol.Loc;
import dev.quill.server.protocol.OutputConstraints;
import dev.quill.server.protocol.ResponseFormat;
import dev.quill.server.protocol.Tool;
import dev.quill.server.tools.ToolCallFormat;
import dev.quill.server.tools.ToolCallGrammar;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The grammar a request's output must follow, from {@code response_format}, the grammar / regex / choice extensions,
 * or a {@code tool_choice} that forces a call; null when the output is free. Schemas and grammars that cannot be
 * enforced are 422 errors pointing into the request (never silently ignored).
 */
final class StructuredOutput {

    private static final Set<String> INDEXED = Set.of("anyOf", "oneOf", "allOf", "prefixItems");
    private static final int CACHED_GRAMMARS = 256;

    /**
     * Compiled grammars by their source (a schema takes milliseconds to compile, and clients send the same schema
     * again and again). Grammars are immutable and thread-safe; failures are not cached.
     */
    private static final Map<String, Grammar> CACHE = Collections.synchronizedMap(new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Grammar> eldest) {
            return size() > CACHED_GRAMMARS;
        }
    });

    private StructuredOutput() {}

    /** For chat: forced tool calls, or the response format (with {@code auto} tools: the format or calls). */
    static Grammar forChat(GenerationOptions o, ToolCallFormat format) {
        if (ChatService.callsTools(o)) {
            String mode = o.toolChoice().mode();
            int maxCalls = Boolean.FALSE.equals(o.parallelToolCalls()) ? 1 : Integer.MAX_VALUE;
            if (mode.equals("required")) return toolCalls(o.tools(), null, format, maxCalls);
            if (mode.equals("function")) return toolCalls(o.tools(), o.toolChoice().function(), format, 1);
            Grammar response = forCompletion(o);
            if (response == null) return null; // auto: the model decides, free text
            // auto with a response format: a formatted answer or calls, whichever the model starts.
            Grammar.Builder b = Grammar.builder();
            Expr answer = b.include("response", response);
            Expr calls = b.include("calls", toolCalls(o.tools(), null, format, maxCalls));
            b.rule("root", new Expr.Alt(List.of(answer, calls)));
            return b.build("root");
        }
        return forCompletion(o);
    }

    /** For completions (and chat without forced calls): the response format or a grammar / regex / choice. */
    static Grammar forCompletion(GenerationOptions o) {
        Grammar format = responseFormat(o.responseFormat());
        return format != null ? format : constraint(o.constraints());
    }

    private static Grammar responseFormat(ResponseFormat format) {
        if (format.type().equals("text")) return null;
        if (format.schema() == null) return Grammars.anyJsonObject();
        List<Object> loc = format.type().equals("json_schema")
                ? List.of("body", "response_format", "json_schema", "schema") : List.of("body", "response_format", "schema");
        return schema(format.schema(), loc);
    }

    private static Grammar constraint(OutputConstraints c) {
        if (c.isEmpty()) return null;
        List<Object> loc = List.of("body", c.field());
        try {
            if (c.grammar() != null) return cached("gbnf:" + c.grammar(), () -> Grammars.gbnf(c.grammar()));
            if (c.regex() != null) return cached("regex:" + c.regex(), () -> Grammars.regex(c.regex()));
            return cached("choice:" + Json.write(c.choice()), () -> Grammars.choice(c.choice()));
        } catch (GrammarSyntaxException e) {
            Object value = c.grammar() != null ? c.grammar() : c.regex();
            throw ApiException.invalid(loc, value, c.field() + " cannot be used: " + e.getMessage());
        }
    }

    /** Calls of every tool, or only of {@code only}; each function's arguments follow its parameter schema. */
    private static Grammar toolCalls(List<Tool> tools, String only, ToolCallFormat format, int maxCalls) {
        Map<String, Grammar> arguments = new LinkedHashMap<>();
        for (int i = 0; i < tools.size(); i++) {
            Tool tool = tools.get(i);
            if (only != null && !only.equals(tool.name())) continue;
            // No parameters: the function takes none, so its arguments are an empty object.
            arguments.put(tool.name(), tool.parameters() == null ? Grammars.choice(List.of("{}"))
                    : schema(tool.parameters(), List.of("body", "tools", i, "function", "parameters")));
        }
        return ToolCallGrammar.of(format, arguments, maxCalls);
    }

    /** A JSON Schema's grammar; a schema that cannot be enforced is a 422 at the offending keyword. */
    private static Grammar schema(JsonNode schema, List<Object> loc) {
        try {
            return cached("schema:" + schema, () -> Grammars.jsonSchema(Json.MAPPER.convertValue(schema,
                    new TypeReference<Map<String, Object>>() {})));
        } catch (SchemaException e) {
            List<Object> at = new ArrayList<>(loc);
            at.addAll(pointer(e.pointer()));
            String problem = e instanceof UnsupportedSchemaException
                    ? " uses a JSON Schema feature Quill cannot enforce: " : " is not a usable JSON Schema: ";
            // detail.value: the (sub)schema at the keyword's location, as the client sent it.
            String path = e.pointer().startsWith("#") ? e.pointer().substring(1) : e.pointer();
            JsonNode sent;
            try {
                sent = schema.at(path);
            } catch (IllegalArgumentException notAPointer) {
                sent = null;
            }
            throw ApiException.invalid(at, sent == null || sent.isMissingNode() ? null : sent, Loc.param(loc) + problem + e.getMessage());
        }
    }

    private static Grammar cached(String source, Supplier<Grammar> compile) {
        Grammar grammar = CACHE.get(source);
        if (grammar == null) {
            grammar = compile.get();
            CACHE.put(source, grammar);
        }
        return grammar;
    }

    /** A JSON Pointer fragment ({@code #/properties/a~1b/anyOf/0}) as location parts. */
    static List<Object> pointer(String pointer) {
        List<Object> parts = new ArrayList<>();
        String path = pointer.startsWith("#") ? pointer.substring(1) : pointer;
        if (path.isEmpty()) return parts;
        String previous = null;
        for (String segment : path.substring(path.startsWith("/") ? 1 : 0).split("/", -1)) {
            String s = segment.replace("~1", "/").replace("~0", "~");
            if (previous != null && (INDEXED.contains(previous) || previous.equals("items")) && s.matches("\\d{1,9}")) {
                parts.add(Integer.parseInt(s));
            } else {
                parts.add(s);
            }
            previous = s;
        }
        return parts;
    }
}
