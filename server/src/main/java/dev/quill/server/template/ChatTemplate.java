package dev.quill.server.template;

import dev.quill.server.template.Ast.Stmt;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A compiled Hugging Face chat template ({@code tokenizer.chat_template}), rendered the way transformers'
 * {@code apply_chat_template} does: Jinja2 in an immutable sandbox with {@code trim_blocks} and
 * {@code lstrip_blocks}, loop controls, {@code tojson} as Python's {@code json.dumps}, and the globals
 * {@code raise_exception} and {@code strftime_now}.
 *
 * <p>Compile once per model; {@link #render} is thread-safe.
 *
 * <pre>{@code
 * ChatTemplate t = ChatTemplate.compile(source);
 * String prompt = t.render(Map.of("messages", messages, "tools", tools, "add_generation_prompt", true,
 *                                 "bos_token", "<s>", "eos_token", "</s>"));
 * }</pre>
 */
public final class ChatTemplate {

    private static final String CHATML_SOURCE = """
            {%- for message in messages %}
                {{- '<|im_start|>' + message['role'] + '\\n' }}
                {%- if message['content'] is string %}
                    {{- message['content'] }}
                {%- elif message['content'] is iterable %}
                    {%- for part in message['content'] if part['type'] == 'text' %}
                        {{- part['text'] }}
                    {%- endfor %}
                {%- endif %}
                {{- '<|im_end|>\\n' }}
            {%- endfor %}
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\\n' }}
            {%- endif %}
            """;

    /**
     * Standard ChatML ({@code <|im_start|>role\ncontent<|im_end|>\n}, then {@code <|im_start|>assistant\n} when
     * {@code add_generation_prompt}), for models whose GGUF has no template. Content may be a string or a list of
     * {@code {"type": "text", "text": ...}} parts.
     */
    public static final ChatTemplate CHATML = compile(CHATML_SOURCE);

    private final String source;
    private final List<Stmt> body;
    private final Limits limits;

    private ChatTemplate(String source, List<Stmt> body, Limits limits) {
        this.source = source;
        this.body = body;
        this.limits = limits;
    }

    /**
     * Parses a template.
     *
     * @throws TemplateException on a syntax error, with the line and column
     */
    public static ChatTemplate compile(String source) {
        if (source == null) throw new TemplateException("chat template source is null");
        try {
            return new ChatTemplate(source, Parser.parse(source), Limits.DEFAULT);
        } catch (StackOverflowError e) {
            throw new TemplateException("chat template is nested too deeply");
        }
    }

    /** The same template with other guard limits (tests use small ones). */
    ChatTemplate withLimits(Limits limits) {
        return new ChatTemplate(source, body, limits);
    }

    public String source() {
        return source;
    }

    /**
     * Renders the prompt. {@code strftime_now} reads the system clock in the default time zone, like
     * transformers' {@code datetime.now()}.
     *
     * @param context the template variables: {@code messages} (list of maps), {@code tools} (list of maps or null),
     *                {@code add_generation_prompt}, {@code bos_token}, {@code eos_token} and any extra keyword
     *                arguments; values are plain Java (Map, List, String, Number, Boolean, null) as Jackson parses JSON
     * @throws TemplateException when the template raises ({@link TemplateException#raisedByTemplate()}), on a type
     *                           error, or when a guard limit is hit
     */
    public String render(Map<String, ?> context) {
        return render(context, Clock.systemDefaultZone());
    }

    /** {@link #render(Map)} with the clock behind {@code strftime_now}, for reproducible output. */
    public String render(Map<String, ?> context, Clock clock) {
        try {
            Map<String, Object> values = new LinkedHashMap<>();
            for (Map.Entry<String, ?> e : context.entrySet()) values.put(e.getKey(), normalize(e.getValue(), e.getKey()));
            return new Renderer(values, limits, clock).render(body);
        } catch (StackOverflowError e) {
            throw new TemplateException("chat template recursion is too deep");
        }
    }

    /** Converts caller values into the interpreter's value model (see {@link Py}), copying containers. */
    private static Object normalize(Object v, String path) {
        return switch (v) {
            case null -> null;
            case String s -> s;
            case Boolean b -> b;
            case Long l -> l;
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case BigInteger b -> Py.intValue(b);
            case Double d -> d;
            case Float f -> Double.parseDouble(f.toString());
            case BigDecimal d -> d.doubleValue();
            case CharSequence s -> s.toString();
            case Map<?, ?> m -> {
                Map<Object, Object> copy = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    Object key = normalize(e.getKey(), path);
                    copy.put(key, normalize(e.getValue(), path + "." + e.getKey()));
                }
                yield copy;
            }
            case Collection<?> c -> {
                List<Object> copy = new ArrayList<>(c.size());
                int i = 0;
                for (Object item : c) copy.add(normalize(item, path + "[" + i++ + "]"));
                yield copy;
            }
            case Object[] array -> normalize(Arrays.asList(array), path);
            default -> throw new TemplateException("unsupported value of type " + v.getClass().getName()
                    + " at '" + path + "' in the chat template context");
        };
    }
}
