package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.engine.grammar.Grammar;
import dev.quill.server.protocol.ExtraParameters;
import dev.quill.server.protocol.GenerationOptions;
import dev.quill.server.protocol.Json;
import dev.quill.server.protocol.RequestParser;
import dev.quill.server.tools.ToolCallFormat;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Requests whose output constraint cannot be enforced fail before generating, with a 422 pointing into the request. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StructuredOutputTest {

    private static final String CHAT = "{'messages':[{'role':'user','content':'Hi'}],'max_tokens':4";
    private static final String PASS_THROUGH = "extra-parameters";
    /** A template that shows the model its tools, so that tool_choice auto is allowed. */
    private static final String TOOLS_TEMPLATE = "{% if tools %}{{ tools | tojson }}{% endif %}{% for m in messages %}"
            + "{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}";

    private TestServer server;

    @BeforeAll
    void start() {
        ServerConfig.DeploymentConfig deployment = ServerConfig.DeploymentConfig.of("m", Path.of("m.gguf"));
        server = new TestServer(ServerConfig.single(deployment),
                new Deployments(List.of(new Deployment(deployment, new ScriptedEngine(TOOLS_TEMPLATE, r -> "{}")))));
    }

    @AfterAll
    void stop() {
        server.close();
    }

    private JsonNode error(String path, String body, int status, String... headers) {
        HttpResponse<String> response = server.post(path, body, headers);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        return Json.parse(response.body().getBytes()).get("error");
    }

    private static List<Object> loc(JsonNode error) {
        return Json.MAPPER.convertValue(error.get("detail").get("loc"), List.class);
    }

    @Test
    void anUnsupportedSchemaKeywordIsNamedAndLocated() {
        JsonNode e = error("/v1/chat/completions", CHAT + ",'response_format':{'type':'json_schema','json_schema':{'name':'r',"
                + "'schema':{'type':'object','properties':{'tags':{'type':'object','patternProperties':{'^x':{}}}}}}}}", 422);
        assertThat(e.get("message").asText()).contains("patternProperties", "cannot enforce");
        assertThat(loc(e)).containsExactly("body", "response_format", "json_schema", "schema", "properties", "tags");
        assertThat(e.get("param").asText()).isEqualTo("response_format.json_schema.schema.properties.tags");
        assertThat(e.get("detail").get("value").toString()).isEqualTo("{\"type\":\"object\",\"patternProperties\":{\"^x\":{}}}");

        JsonNode fireworks = error("/v1/completions", "{'prompt':'x','response_format':{'type':'json_object',"
                + "'schema':{'anyOf':[{'type':'string'},{'not':{'type':'null'}}]}}}", 422);
        assertThat(loc(fireworks)).containsExactly("body", "response_format", "schema", "anyOf", 1);
        assertThat(fireworks.get("message").asText()).contains("'not'");
    }

    @Test
    void aSchemaThatRecursesForeverIsRefusedNotAServerError() {
        JsonNode e = error("/v1/chat/completions", CHAT + ",'response_format':{'type':'json_schema','json_schema':{'name':'r',"
                + "'schema':{'$ref':'#'}}}}", 422);
        assertThat(loc(e)).containsExactly("body", "response_format", "json_schema", "schema");
        assertThat(e.get("message").asText()).contains("no finite JSON value");

        String tools = ",'tools':[{'type':'function','function':{'name':'f','parameters':{'type':'object',"
                + "'properties':{'a':{'$ref':'#'}},'required':['a']}}}]";
        JsonNode tool = error("/v1/chat/completions", CHAT + tools + ",'tool_choice':'required'}", 422);
        assertThat(loc(tool)).containsExactly("body", "tools", 0, "function", "parameters");
    }

    @Test
    void toolParameterSchemasMatterOnlyWhenACallIsForced() {
        String tools = ",'tools':[{'type':'function','function':{'name':'ok','parameters':{'type':'object'}}},"
                + "{'type':'function','function':{'name':'odd','parameters':{'type':'object','if':{'type':'object'}}}}]";
        JsonNode e = error("/v1/chat/completions", CHAT + tools + ",'tool_choice':'required'}", 422);
        assertThat(loc(e)).containsExactly("body", "tools", 1, "function", "parameters");
        assertThat(e.get("message").asText()).contains("'if'");
        // Forcing the other function does not need odd's schema; auto constrains nothing.
        assertThat(server.post("/v1/chat/completions", CHAT + tools
                + ",'tool_choice':{'type':'function','function':{'name':'ok'}}}").statusCode()).isEqualTo(200);
        assertThat(server.post("/v1/chat/completions", CHAT + tools + "}").statusCode()).isEqualTo(200);
    }

    @Test
    void grammarsAndRegexesThatDoNotParseAreRefusedWithWhere() {
        JsonNode grammar = error("/v1/completions", "{'prompt':'x','grammar':'root ::= item+'}", 422, PASS_THROUGH, "pass-through");
        assertThat(loc(grammar)).containsExactly("body", "grammar");
        assertThat(grammar.get("message").asText()).contains("line 1", "item");
        JsonNode regex = error("/v1/chat/completions", CHAT + ",'regex':'(ab'}", 422, PASS_THROUGH, "pass-through");
        assertThat(loc(regex)).containsExactly("body", "regex");
    }

    private static boolean matches(Grammar g, String text) {
        var m = g.matcher();
        return m.acceptString(text) && m.isComplete();
    }

    private static GenerationOptions options(String body) {
        return RequestParser.chat(Json.parse(body.replace('\'', '"').getBytes()),
                ExtraParameters.ERROR).options();
    }

    @Test
    void whichGrammarARequestGets() {
        String tools = ",'tools':[{'type':'function','function':{'name':'f','parameters':{'type':'object',"
                + "'properties':{'a':{'type':'integer'}},'required':['a'],'additionalProperties':false}}}]";
        var hermes = ToolCallFormat.HERMES;
        String call = "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\":1}}\n</tool_call>";
        // auto without a response format: free text.
        assertThat(StructuredOutput.forChat(options(CHAT + tools + "}"), hermes)).isNull();
        // auto with one: a formatted answer or calls.
        var either = StructuredOutput.forChat(options(CHAT + tools + ",'response_format':{'type':'json_object'}}"), hermes);
        assertThat(matches(either, "{\"x\":[true]}")).isTrue();
        assertThat(matches(either, call)).isTrue();
        assertThat(matches(either, "hello")).isFalse();
        // tool_choice none: only the response format.
        var none = StructuredOutput.forChat(options(CHAT + tools + ",'tool_choice':'none','response_format':{'type':'json_object'}}"), hermes);
        assertThat(matches(none, call)).isFalse();
        // required: calls only, as many as allowed.
        var required = StructuredOutput.forChat(options(CHAT + tools + ",'tool_choice':'required'}"), hermes);
        assertThat(matches(required, call + "\n" + call)).isTrue();
        var single = StructuredOutput.forChat(options(CHAT + tools + ",'tool_choice':'required','parallel_tool_calls':false}"), hermes);
        assertThat(matches(single, call)).isTrue();
        assertThat(matches(single, call + "\n" + call)).isFalse();
        // A function without parameters takes an empty object.
        var noParameters = StructuredOutput.forChat(options(CHAT + ",'tools':[{'type':'function','function':{'name':'g'}}],"
                + "'tool_choice':{'type':'function','function':{'name':'g'}}}"), ToolCallFormat.LLAMA3_JSON);
        assertThat(matches(noParameters, "{\"name\": \"g\", \"parameters\": {}}")).isTrue();
    }

    @Test
    void jsonPointersBecomeRequestLocations() {
        assertThat(StructuredOutput.pointer("#")).isEmpty();
        assertThat(StructuredOutput.pointer("#/properties/a~1b/items/anyOf/2/properties/0"))
                .containsExactly("properties", "a/b", "items", "anyOf", 2, "properties", "0");
        assertThat(StructuredOutput.pointer("#/$defs/x~0y")).containsExactly("$defs", "x~y");
    }
}
