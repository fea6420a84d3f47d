package dev.quill.server.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class ChatTemplateTest {

    private static Map<String, Object> message(String role, Object content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    private static String render(String source, Map<String, ?> context) {
        return ChatTemplate.compile(source).render(context);
    }

    @Test
    void chatmlIsTheStandardFormat() {
        List<Object> messages = List.of(message("system", "Be brief."), message("user", "Hi"));
        assertThat(ChatTemplate.CHATML.render(Map.of("messages", messages, "add_generation_prompt", true)))
                .isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                        + "<|im_start|>assistant\n");
        assertThat(ChatTemplate.CHATML.render(Map.of("messages", messages, "add_generation_prompt", false)))
                .endsWith("Hi<|im_end|>\n");
        List<Object> parts = List.of(Map.of("type", "text", "text", "A"), Map.of("type", "image"),
                Map.of("type", "text", "text", "B"));
        assertThat(ChatTemplate.CHATML.render(Map.of("messages", List.of(message("user", parts)))))
                .isEqualTo("<|im_start|>user\nAB<|im_end|>\n");
    }

    @Test
    void acceptsTheValueTypesJacksonProduces() {
        Map<String, Object> context = new HashMap<>();
        context.put("ints", List.of(1, 2L, (short) 3, (byte) 4, BigInteger.TEN.pow(20)));
        context.put("floats", List.of(0.5, 1.5f, new BigDecimal("2.25")));
        context.put("array", new Object[] {"x", null, true});
        context.put("nothing", null);
        assertThat(render("{{ ints|sum }} {{ floats }} {{ array }} {{ nothing is none }} {{ absent is defined }}", context))
                .isEqualTo("100000000000000000010 [0.5, 1.5, 2.25] ['x', None, True] True False");
    }

    @Test
    void rejectsUnsupportedContextValuesNamingWhere() {
        Map<String, Object> context = Map.of("messages", List.of(Map.of("role", new Object())));
        assertThatThrownBy(() -> ChatTemplate.CHATML.render(context))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("unsupported value of type java.lang.Object at 'messages[0].role'");
    }

    @Test
    void nullToolsAreDefinedButNoneWhileAbsentToolsAreUndefined() {
        String source = "{{ tools is defined }}/{{ tools is none }}";
        Map<String, Object> withNull = new HashMap<>();
        withNull.put("tools", null);
        assertThat(render(source, withNull)).isEqualTo("True/True");
        assertThat(render(source, Map.of())).isEqualTo("False/False");
    }

    @Test
    void theCallersValuesAreNeverModified() {
        List<Object> items = new ArrayList<>(List.of(3, 1, 2));
        Map<String, Object> context = new HashMap<>(Map.of("items", items));
        render("{{ items|sort }}{% set items = [] %}{{ items.append }}", context);
        assertThat(items).containsExactly(3, 1, 2);
        assertThat(context).containsOnlyKeys("items");
    }

    @Test
    void raiseExceptionIsTheRequestsFaultWithTheTemplatesMessage() {
        TemplateException e = catchThrowableOfType(TemplateException.class,
                () -> render("ok\n{% if messages|length == 0 %}{{ raise_exception('No messages!') }}{% endif %}",
                        Map.of("messages", List.of())));
        assertThat(e.raisedByTemplate()).isTrue();
        assertThat(e.reason()).isEqualTo("No messages!");
        assertThat(e.line()).isEqualTo(2);
    }

    @Test
    void renderErrorsPointAtTheFailingExpression() {
        TemplateException e = catchThrowableOfType(TemplateException.class,
                () -> render("{% for m in messages %}\n  {{ 'x' + m.content }}\n{% endfor %}",
                        Map.of("messages", List.of(message("user", null)))));
        assertThat(e.raisedByTemplate()).isFalse();
        assertThat(e.reason()).isEqualTo("can only concatenate str (not \"NoneType\") to str");
        assertThat(e.line()).isEqualTo(2);
        assertThat(e.column()).isEqualTo(10);
    }

    @Test
    void strftimeNowReadsTheGivenClock() {
        Clock clock = Clock.fixed(Instant.parse("2024-07-26T08:00:00Z"), ZoneOffset.UTC);
        assertThat(ChatTemplate.compile("{{ strftime_now('%d %b %Y') }}").render(Map.of(), clock))
                .isEqualTo("26 Jul 2024");
        assertThat(render("{{ strftime_now('%Y') }}", Map.of())).matches("\\d{4}");
    }

    @Test
    void runawayLoopsHitTheIterationLimit() {
        ChatTemplate t = ChatTemplate.compile("{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(10) %}"
                + "{% endfor %}{% endfor %}{% endfor %}").withLimits(new Limits(1_000_000, 10_000, 64, Duration.ofSeconds(5)));
        assertThatThrownBy(() -> t.render(Map.of())).isInstanceOf(TemplateException.class)
                .hasMessageContaining("template exceeded 10000 loop iterations");
    }

    @Test
    void outputAndStringGrowthHitTheLengthLimit() {
        Limits small = new Limits(1_000, 1_000_000, 64, Duration.ofSeconds(5));
        assertThatThrownBy(() -> ChatTemplate.compile("{% for i in range(100) %}0123456789ab{% endfor %}")
                .withLimits(small).render(Map.of())).hasMessageContaining("exceeds the limit of 1000 characters");
        assertThatThrownBy(() -> render("{{ 'a' * 10 ** 12 }}", Map.of())).hasMessageContaining("exceeds the limit");
        assertThatThrownBy(() -> render("{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
                + "{% set ns.s = ns.s + ns.s %}{% endfor %}", Map.of())).hasMessageContaining("exceeds the limit");
        assertThatThrownBy(() -> render("{{ range(10 ** 6)|length }}", Map.of())).hasMessageContaining("Range too big");
    }

    @Test
    void listGrowthAndRenderTimeAreBounded() {
        assertThatThrownBy(() -> render("{{ ([0] * 10 ** 7)|length }}", Map.of()))
                .hasMessageContaining("list longer than 1000000 items");
        ChatTemplate slow = ChatTemplate.compile("{% for i in range(10) %}{{ i }}{% endfor %}")
                .withLimits(new Limits(1_000_000, 1_000_000, 64, Duration.ZERO));
        assertThatThrownBy(() -> slow.render(Map.of())).hasMessageContaining("template rendering exceeded 0 ms");
    }

    @Test
    void unboundedRecursionHitsTheCallDepthLimit() {
        assertThatThrownBy(() -> render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", Map.of()))
                .isInstanceOf(TemplateException.class).hasMessageContaining("nested macro calls");
    }

    @Test
    void compileRejectsNullAndReportsSyntaxErrors() {
        assertThatThrownBy(() -> ChatTemplate.compile(null)).isInstanceOf(TemplateException.class);
        assertThatThrownBy(() -> ChatTemplate.compile("{% for x in %}{% endfor %}")).isInstanceOf(TemplateException.class)
                .satisfies(e -> assertThat(((TemplateException) e).line()).isEqualTo(1));
    }

    @Test
    void oneCompiledTemplateRendersConcurrently() throws Exception {
        ChatTemplate t = ChatTemplate.compile("{% set ns = namespace(n=0) %}{% for m in messages %}"
                + "{% set ns.n = ns.n + 1 %}{{ m.content }}{% endfor %}{{ ns.n }}");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                int n = i;
                results.add(pool.submit(() -> t.render(Map.of("messages",
                        List.of(message("user", "a" + n), message("user", "b" + n))))));
            }
            for (int i = 0; i < results.size(); i++) assertThat(results.get(i).get()).isEqualTo("a" + i + "b" + i + "2");
        } finally {
            pool.shutdownNow();
        }
    }
}
