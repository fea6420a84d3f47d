package dev.quill.engine.grammar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import dev.quill.engine.tokenizer.Tokenizer;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.json.JsonMapper;

class JsonSchemaCompilerTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final SchemaRegistry VALIDATORS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
            b -> b.schemaRegistryConfig(SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));

    /** A schema as the server hands it over: JSON parsed to Map / List / String / Number / Boolean / null. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> json(String text) {
        return JSON.readValue(text, LinkedHashMap.class);
    }

    static boolean matches(Grammar g, String text) {
        GrammarMatcher m = g.matcher();
        return m.acceptString(text) && m.isComplete();
    }

    static List<String> errors(String schema, String instance) {
        Schema validator = VALIDATORS.getSchema(schema, InputFormat.JSON);
        return validator.validate(instance, InputFormat.JSON).stream().map(Object::toString).toList();
    }

    /** Schemas exercising every supported keyword; each output of a random walk must validate against its schema. */
    static final List<String> SCHEMAS = List.of(
            """
            {"type":"object","properties":{"name":{"type":"string","maxLength":20},"age":{"type":"integer","minimum":0,"maximum":150},
             "email":{"type":"string","format":"email"},"tags":{"type":"array","items":{"enum":["a","b","c"]},"maxItems":3}},
             "required":["name","age"]}""",
            """
            {"type":"object","properties":{"address":{"type":"object","properties":{"street":{"type":"string"},
             "zip":{"type":"string","pattern":"^[0-9]{5}(-[0-9]{4})?$"}},"required":["street","zip"]}},"required":["address"]}""",
            """
            {"type":"array","items":{"type":"number","minimum":-1.5,"exclusiveMaximum":2.25},"minItems":2,"maxItems":4}""",
            """
            {"enum":["red",1,null,true,{"a":[1,2.5]},"say \\"hi\\"\\n"]}""",
            """
            {"const":"fixed"}""",
            """
            {"anyOf":[{"type":"string","format":"date"},{"type":"integer","exclusiveMinimum":10}]}""",
            """
            {"oneOf":[{"type":"boolean"},{"type":"null"},{"type":"string","format":"uuid"}]}""",
            """
            {"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},
             "children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["value","children"]}},
             "$ref":"#/$defs/node"}""",
            """
            {"definitions":{"id":{"type":"string","format":"uuid"}},"type":"object","properties":{"id":{"$ref":"#/definitions/id"},
             "when":{"type":"string","format":"date-time"},"at":{"type":"string","format":"time"}},"required":["id","when"]}""",
            """
            {"type":"object","properties":{"a":{"type":["string","null"],"maxLength":5},"b":{"type":"integer","nullable":true}},
             "required":["a","b"]}""",
            """
            {"type":"object","properties":{"x":{"type":"integer"}},"additionalProperties":{"type":"boolean"}}""",
            """
            {"type":"object","properties":{"p":{"type":"string"},"q":{"type":"number"},"r":{"type":"boolean"}},"additionalProperties":false}""",
            """
            {"type":"object"}""",
            """
            {}""",
            """
            {"type":"string","minLength":3,"maxLength":6}""",
            """
            {"type":"string","pattern":"ab+c"}""",
            """
            {"type":"string","pattern":"^[^a-z]\\\\d{2}\\\\.\\"$"}""",
            """
            {"type":"integer","minimum":-5}""",
            """
            {"type":"number","exclusiveMinimum":0,"maximum":0.001}""",
            """
            {"type":["boolean","null"]}""",
            """
            {"type":"array","items":false}""",
            """
            {"type":"object","properties":{"steps":{"type":"array","items":{"type":"object","properties":{
             "explanation":{"type":"string"},"output":{"type":"string"}},"required":["explanation","output"],
             "additionalProperties":false}},"final_answer":{"type":"string"}},"required":["steps","final_answer"],
             "additionalProperties":false}""",
            """
            {"type":"object","properties":{"name":{"type":"string","enum":["get_weather","get_time"]},
             "arguments":{"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["c","f"]}},"required":["city"]}},
             "required":["name","arguments"]}""");

    static Stream<Arguments> walks() {
        return Stream.iterate(0, i -> i + 1).limit(SCHEMAS.size()).flatMap(i -> Stream.of(
                Arguments.of(i, "llama2", 1L), Arguments.of(i, "llama2", 2L), Arguments.of(i, i % 3 == 0 ? "llama3" : "llama2", 3L)));
    }

    @ParameterizedTest(name = "schema {0} on {1}, seed {2}")
    @MethodSource("walks")
    void everyRandomWalkEndsInJsonThatValidates(int schemaIndex, String vocabulary, long seed) {
        String schema = SCHEMAS.get(schemaIndex);
        Tokenizer tokenizer = Vocabularies.load(vocabulary);
        Grammar grammar = Grammars.jsonSchema(json(schema));
        RandomWalks.Walk walk = RandomWalks.walk(grammar, tokenizer, seed * 1_000 + schemaIndex, 300);
        assertThat(walk.stopped()).as("finished within 300 tokens: %s", walk.text()).isTrue();
        assertThat(errors(schema, walk.text())).as("validation of %s", walk.text()).isEmpty();
    }

    @Nested
    class Objects {
        final Grammar g = Grammars.jsonSchema(json("""
                {"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"boolean"},"c":{"type":"null"}},"required":["b"]}"""));

        @Test
        void propertiesComeInDeclaredOrderRequiredOnesAlways() {
            assertThat(matches(g, "{\"b\":true}")).isTrue();
            assertThat(matches(g, "{\"a\":1,\"b\":false,\"c\":null}")).isTrue();
            assertThat(matches(g, "{\"a\":1,\"b\":false}")).isTrue();
            assertThat(matches(g, "{\"b\":false,\"c\":null}")).isTrue();
            assertThat(matches(g, "{\"a\":1}")).as("b is required").isFalse();
            assertThat(matches(g, "{\"b\":true,\"a\":1}")).as("declared order").isFalse();
            assertThat(matches(g, "{\"b\":true,\"d\":1}")).as("no undeclared properties").isFalse();
            assertThat(matches(g, "{ \"b\":true}")).as("compact").isFalse();
        }

        @Test
        void onlyOptionalPropertiesMayAllBeAbsent() {
            Grammar optional = Grammars.jsonSchema(json("""
                    {"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"additionalProperties":false}"""));
            assertThat(matches(optional, "{}")).isTrue();
            assertThat(matches(optional, "{\"b\":2}")).isTrue();
            assertThat(matches(optional, "{,\"b\":2}")).isFalse();
            assertThat(matches(optional, "{\"a\":1,}")).isFalse();
        }

        @Test
        void additionalPropertiesSchemaAllowsOtherKeysNeverADeclaredOne() {
            Grammar extra = Grammars.jsonSchema(json("""
                    {"type":"object","properties":{"id":{"type":"integer"}},"additionalProperties":{"type":"string"}}"""));
            assertThat(matches(extra, "{\"id\":1,\"x\":\"y\",\"idx\":\"z\",\"i\":\"\"}")).isTrue();
            assertThat(matches(extra, "{\"k\":\"v\"}")).isTrue();
            assertThat(matches(extra, "{\"id\":1,\"id\":\"v\"}")).isFalse();
            assertThat(matches(extra, "{\"id\":1,\"k\":2}")).isFalse();
        }

        @Test
        void anObjectWithoutPropertiesIsFreeForm() {
            Grammar free = Grammars.jsonSchema(json("{\"type\":\"object\"}"));
            assertThat(matches(free, "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}")).isTrue();
            assertThat(matches(free, "[]")).isFalse();
            assertThat(matches(Grammars.jsonSchema(json("{\"type\":\"object\",\"additionalProperties\":false}")), "{}")).isTrue();
            assertThat(matches(Grammars.jsonSchema(json("{\"type\":\"object\",\"additionalProperties\":false}")), "{\"a\":1}")).isFalse();
        }
    }

    @Nested
    class Arrays {
        @Test
        void itemCountsAreEnforced() {
            Grammar g = Grammars.jsonSchema(json("{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":1,\"maxItems\":3}"));
            assertThat(matches(g, "[]")).isFalse();
            assertThat(matches(g, "[1]")).isTrue();
            assertThat(matches(g, "[1,2,3]")).isTrue();
            assertThat(matches(g, "[1,2,3,4]")).isFalse();
            assertThat(matches(g, "[1,]")).isFalse();
        }
    }

    @Nested
    class Strings {
        @Test
        void lengthsCountCodePointsAndEscapesAsOneCharacter() {
            Grammar g = Grammars.jsonSchema(json("{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}"));
            assertThat(matches(g, "\"a\"")).isFalse();
            assertThat(matches(g, "\"ab\"")).isTrue();
            assertThat(matches(g, "\"a😀\\n\"")).isTrue();
            assertThat(matches(g, "\"\\u00e9\\\"\"")).isTrue();
            assertThat(matches(g, "\"abcd\"")).isFalse();
        }

        @Test
        void onlyValidJsonStringsAreGenerated() {
            Grammar g = Grammars.jsonSchema(json("{\"type\":\"string\"}"));
            assertThat(matches(g, "\"tab\\there\"")).isTrue();
            assertThat(matches(g, "\"tab\there\"")).as("raw control character").isFalse();
            assertThat(matches(g, "\"\\x41\"")).as("not a JSON escape").isFalse();
            assertThat(matches(g, "\"\\ud83d\"")).as("lone surrogate escape").isFalse();
        }

        @Test
        void patternsMatchTheDecodedValueAndAreUnanchoredUnlessAnchored() {
            Grammar anchored = Grammars.jsonSchema(json("{\"type\":\"string\",\"pattern\":\"^a[0-9]+$\"}"));
            assertThat(matches(anchored, "\"a12\"")).isTrue();
            assertThat(matches(anchored, "\"xa12\"")).isFalse();
            Grammar free = Grammars.jsonSchema(json("{\"type\":\"string\",\"pattern\":\"a[0-9]+\"}"));
            assertThat(matches(free, "\"xx a12 yy\"")).isTrue();
            assertThat(matches(free, "\"a\"")).isFalse();
            Grammar quotes = Grammars.jsonSchema(Map.of("type", "string", "pattern", "^\"[\\\\\\n]$"));
            assertThat(matches(quotes, "\"\\\"\\\\\"")).isTrue();
            assertThat(matches(quotes, "\"\\\"\\n\"")).isTrue();
        }

        @ParameterizedTest
        @ValueSource(strings = {"2024-02-29", "2000-02-29", "2023-12-31", "1999-04-30", "0000-01-01"})
        void validDates(String date) {
            assertThat(matches(Grammars.jsonSchema(json("{\"type\":\"string\",\"format\":\"date\"}")), "\"" + date + "\"")).isTrue();
        }

        @ParameterizedTest
        @ValueSource(strings = {"2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01", "2024-00-10", "24-01-01", "2024-1-01"})
        void invalidDates(String date) {
            assertThat(matches(Grammars.jsonSchema(json("{\"type\":\"string\",\"format\":\"date\"}")), "\"" + date + "\"")).isFalse();
        }

        @Test
        void dateTimesUuidsAndEmails() {
            Grammar dt = Grammars.jsonSchema(json("{\"type\":\"string\",\"format\":\"date-time\"}"));
            assertThat(matches(dt, "\"2024-05-06T07:08:09Z\"")).isTrue();
            assertThat(matches(dt, "\"2024-05-06T23:59:59.123+05:30\"")).isTrue();
            assertThat(matches(dt, "\"2024-05-06T24:00:00Z\"")).isFalse();
            assertThat(matches(dt, "\"2024-05-06 07:08:09Z\"")).isFalse();
            Grammar uuid = Grammars.jsonSchema(json("{\"type\":\"string\",\"format\":\"uuid\"}"));
            assertThat(matches(uuid, "\"123e4567-e89b-12d3-a456-426614174000\"")).isTrue();
            assertThat(matches(uuid, "\"123e4567e89b12d3a456426614174000\"")).isFalse();
            Grammar email = Grammars.jsonSchema(json("{\"type\":\"string\",\"format\":\"email\"}"));
            assertThat(matches(email, "\"jane.doe+x@mail.example.org\"")).isTrue();
            assertThat(matches(email, "\"jane@localhost\"")).isFalse();
            assertThat(matches(email, "\".jane@example.org\"")).isFalse();
        }
    }

    @Nested
    class Numbers {
        @Test
        void integerBoundsAreExact() {
            Grammar g = Grammars.jsonSchema(json("{\"type\":\"integer\",\"minimum\":-17,\"exclusiveMaximum\":203}"));
            for (int i = -1000; i <= 1000; i++) {
                assertThat(matches(g, Integer.toString(i))).as("%d", i).isEqualTo(i >= -17 && i < 203);
            }
            assertThat(matches(g, "007")).as("leading zeros").isFalse();
            assertThat(matches(g, "-0")).isFalse();
            assertThat(matches(g, "1.0")).isFalse();
        }

        @Test
        void fractionalBoundsOnIntegersRoundInwards() {
            Grammar g = Grammars.jsonSchema(json("{\"type\":\"integer\",\"minimum\":2.5,\"maximum\":4.5}"));
            assertThat(matches(g, "2")).isFalse();
            assertThat(matches(g, "3")).isTrue();
            assertThat(matches(g, "4")).isTrue();
            assertThat(matches(g, "5")).isFalse();
        }

        @Test
        void unboundedIntegersHaveAtMostFifteenDigits() {
            Grammar g = Grammars.jsonSchema(json("{\"type\":\"integer\"}"));
            assertThat(matches(g, "-999999999999999")).isTrue();
            assertThat(matches(g, "1000000000000000")).isFalse();
        }

        @ParameterizedTest
        @ValueSource(strings = {
                "{\"type\":\"number\",\"minimum\":-1.5,\"exclusiveMaximum\":2.25}",
                "{\"type\":\"number\",\"exclusiveMinimum\":0,\"maximum\":0.001}",
                "{\"type\":\"number\",\"minimum\":0.25,\"maximum\":0.75}",
                "{\"type\":\"number\",\"exclusiveMinimum\":-3,\"exclusiveMaximum\":-2.9}",
                "{\"type\":\"number\",\"minimum\":10}",
                "{\"type\":\"number\",\"maximum\":-0.5}",
                "{\"type\":\"number\",\"minimum\":-2,\"maximum\":-2}"})
        void decimalBoundsAreExact(String schemaText) {
            Map<String, Object> schema = json(schemaText);
            Grammar g = Grammars.jsonSchema(schema);
            for (int whole = -4; whole <= 11; whole++) {
                for (String fraction : List.of("", ".0", ".001", ".0010", ".009", ".1", ".25", ".2500", ".2501", ".5", ".75", ".7501", ".9", ".999")) {
                    for (String sign : whole == 0 ? List.of("", "-") : List.of("")) {
                        String text = sign + whole + fraction;
                        BigDecimal x = new BigDecimal(text);
                        boolean negativeZero = text.startsWith("-") && x.signum() == 0;
                        boolean expected = inBounds(schema, x) && !negativeZero;
                        assertThat(matches(g, text)).as("%s in %s", text, schemaText).isEqualTo(expected);
                    }
                }
            }
        }

        private static boolean inBounds(Map<String, Object> s, BigDecimal x) {
            return (!s.containsKey("minimum") || x.compareTo(dec(s.get("minimum"))) >= 0)
                    && (!s.containsKey("exclusiveMinimum") || x.compareTo(dec(s.get("exclusiveMinimum"))) > 0)
                    && (!s.containsKey("maximum") || x.compareTo(dec(s.get("maximum"))) <= 0)
                    && (!s.containsKey("exclusiveMaximum") || x.compareTo(dec(s.get("exclusiveMaximum"))) < 0);
        }

        private static BigDecimal dec(Object n) {
            return new BigDecimal(n.toString());
        }

        @Test
        void numbersArePlainDecimals() {
            Grammar g = Grammars.jsonSchema(json("{\"type\":\"number\"}"));
            assertThat(matches(g, "-12.5")).isTrue();
            assertThat(matches(g, "0.000")).isTrue();
            assertThat(matches(g, "1e5")).isFalse();
            assertThat(matches(g, "1.")).isFalse();
            assertThat(matches(g, ".5")).isFalse();
            assertThat(matches(g, "-0")).isFalse();
            assertThat(matches(g, "-0.5")).isTrue();
        }
    }

    @Nested
    class Combinations {
        @Test
        void enumAndConstAreWrittenAsCompactJson() {
            Grammar g = Grammars.jsonSchema(json("{\"enum\":[\"a b\",{\"k\":[1, true]},null,2.5]}"));
            assertThat(matches(g, "\"a b\"")).isTrue();
            assertThat(matches(g, "{\"k\":[1,true]}")).isTrue();
            assertThat(matches(g, "null")).isTrue();
            assertThat(matches(g, "2.5")).isTrue();
            assertThat(matches(g, "\"a\"")).isFalse();
        }

        @Test
        void enumValuesOfTheWrongTypeCannotBeGenerated() {
            Grammar g = Grammars.jsonSchema(json("{\"type\":\"string\",\"enum\":[\"x\",1]}"));
            assertThat(matches(g, "\"x\"")).isTrue();
            assertThat(matches(g, "1")).isFalse();
        }

        @Test
        void nullableTypes() {
            Grammar list = Grammars.jsonSchema(json("{\"type\":[\"integer\",\"null\"]}"));
            assertThat(matches(list, "null")).isTrue();
            assertThat(matches(list, "3")).isTrue();
            Grammar openApi = Grammars.jsonSchema(json("{\"type\":\"string\",\"nullable\":true}"));
            assertThat(matches(openApi, "null")).isTrue();
            assertThat(matches(openApi, "\"s\"")).isTrue();
        }

        @Test
        void recursiveReferences() {
            Grammar g = Grammars.jsonSchema(json("""
                    {"$defs":{"list":{"type":"array","items":{"anyOf":[{"type":"integer"},{"$ref":"#/$defs/list"}]}}},"$ref":"#/$defs/list"}"""));
            assertThat(matches(g, "[1,[2,[3,[]]],4]")).isTrue();
            assertThat(matches(g, "[1,[2,]]")).isFalse();
            Grammar self = Grammars.jsonSchema(json("""
                    {"type":"object","properties":{"next":{"$ref":"#"}}}"""));
            assertThat(matches(self, "{\"next\":{\"next\":{}}}")).isTrue();
        }

        @Test
        void anyJsonObjectIsAnyObject() {
            Grammar g = Grammars.anyJsonObject();
            assertThat(matches(g, "{}")).isTrue();
            assertThat(matches(g, "{\"a\":{\"b\":[1,-2.5,\"x\",null,false]}}")).isTrue();
            assertThat(matches(g, "[1]")).isFalse();
            assertThat(matches(g, "\"s\"")).isFalse();
        }
    }

    @Nested
    class Rejections {
        @ParameterizedTest(name = "{0}")
        @MethodSource("dev.quill.engine.grammar.JsonSchemaCompilerTest#unsupported")
        void unsupportedFeaturesAreNamedWithTheirLocation(String schema, String keyword, String pointer) {
            assertThatThrownBy(() -> Grammars.jsonSchema(json(schema)))
                    .isInstanceOfSatisfying(UnsupportedSchemaException.class, e -> {
                        assertThat(e.keyword()).isEqualTo(keyword);
                        assertThat(e.pointer()).isEqualTo(pointer);
                    })
                    .hasMessageContaining("'" + keyword + "'").hasMessageContaining(pointer);
        }

        @Test
        void deepNestingIsRefusedNotOverflowed() {
            Map<String, Object> schema = Map.of("type", "string");
            for (int i = 0; i < 3000; i++) schema = Map.of("type", "array", "items", schema);
            Map<String, Object> deep = schema;
            assertThatThrownBy(() -> Grammars.jsonSchema(deep)).isInstanceOf(UnsupportedSchemaException.class)
                    .hasMessageContaining("nested deeper");
        }

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {
                "{\"$ref\":\"#\"}",
                "{\"allOf\":[{\"$ref\":\"#\"}]}",
                "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#\"}},\"required\":[\"a\"]}",
                "{\"$ref\":\"#/$defs/a\",\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":\"#/$defs/a\"}}}"})
        void aSchemaNoFiniteValueCanSatisfyIsInvalid(String schema) {
            assertThatThrownBy(() -> Grammars.jsonSchema(json(schema)))
                    .isInstanceOfSatisfying(InvalidSchemaException.class, e -> {
                        assertThat(e.keyword()).isEqualTo("$ref");
                        assertThat(e.pointer()).isEqualTo("#");
                    })
                    .hasMessageContaining("no finite JSON value");
        }

        @ParameterizedTest(name = "{0}")
        @MethodSource("dev.quill.engine.grammar.JsonSchemaCompilerTest#invalid")
        void malformedSchemasAreNamedWithTheirLocation(String schema, String keyword, String pointer) {
            assertThatThrownBy(() -> Grammars.jsonSchema(json(schema)))
                    .isInstanceOfSatisfying(InvalidSchemaException.class, e -> {
                        assertThat(e.keyword()).isEqualTo(keyword);
                        assertThat(e.pointer()).isEqualTo(pointer);
                    });
        }
    }

    static Stream<Arguments> unsupported() {
        return Stream.of(
                Arguments.of("{\"type\":\"object\",\"patternProperties\":{\"^x\":{}}}", "patternProperties", "#"),
                Arguments.of("{\"type\":\"object\",\"properties\":{\"a/b\":{\"type\":\"string\",\"contentEncoding\":\"base64\"}}}",
                        "contentEncoding", "#/properties/a~1b"),
                Arguments.of("{\"type\":\"array\",\"items\":{\"type\":\"number\",\"multipleOf\":3}}", "multipleOf", "#/items"),
                Arguments.of("{\"type\":\"array\",\"uniqueItems\":true}", "uniqueItems", "#"),
                Arguments.of("{\"type\":\"array\",\"items\":[{\"type\":\"string\"}]}", "items", "#"),
                Arguments.of("{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"}]}", "prefixItems", "#"),
                Arguments.of("{\"allOf\":[{\"type\":\"string\"},{\"minLength\":2}]}", "allOf", "#"),
                Arguments.of("{\"not\":{\"type\":\"string\"}}", "not", "#"),
                Arguments.of("{\"if\":{},\"then\":{}}", "if", "#"),
                Arguments.of("{\"type\":\"string\",\"format\":\"hostname\"}", "format", "#"),
                Arguments.of("{\"type\":\"string\",\"pattern\":\"(?=a)b\"}", "pattern", "#"),
                Arguments.of("{\"type\":\"string\",\"pattern\":\"\\\\bword\"}", "pattern", "#"),
                Arguments.of("{\"type\":\"string\",\"pattern\":\"^a$\",\"maxLength\":3}", "pattern", "#"),
                Arguments.of("{\"type\":\"string\",\"enum\":[\"a\"],\"maxLength\":3}", "maxLength", "#"),
                Arguments.of("{\"$ref\":\"https://example.com/schema.json\"}", "$ref", "#"),
                Arguments.of("{\"$ref\":\"#/$defs/a\",\"$defs\":{\"a\":{\"type\":\"string\"}},\"maxLength\":2}", "maxLength", "#"),
                Arguments.of("{\"type\":\"object\",\"properties\":{\"x\":{\"anyOf\":[{\"type\":\"string\"}],\"minLength\":1}}}", "minLength", "#/properties/x"),
                Arguments.of("{\"type\":\"object\",\"required\":[\"ghost\"]}", "required", "#"),
                Arguments.of("{\"type\":\"object\",\"minProperties\":1}", "minProperties", "#"),
                Arguments.of("{\"type\":\"json_object\"}", "type", "#"),
                Arguments.of("{\"$defs\":{\"a\":{\"type\":\"array\",\"contains\":{}}},\"$ref\":\"#/$defs/a\"}", "contains", "#/$defs/a"));
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("{\"$ref\":\"#/$defs/missing\"}", "$ref", "#"),
                Arguments.of("{\"type\":\"integer\",\"minimum\":5,\"maximum\":4}", "minimum", "#"),
                Arguments.of("{\"type\":\"string\",\"minLength\":-1}", "minLength", "#"),
                Arguments.of("{\"type\":\"array\",\"minItems\":3,\"maxItems\":2}", "maxItems", "#"),
                Arguments.of("{\"type\":\"object\",\"properties\":{\"a\":false}}", "false", "#/properties/a"),
                Arguments.of("{\"type\":\"integer\",\"enum\":[\"a\"]}", "enum", "#"),
                Arguments.of("{\"type\":7}", "type", "#"));
    }
}
