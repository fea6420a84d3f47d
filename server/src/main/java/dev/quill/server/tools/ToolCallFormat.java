package dev.quill.server.tools;

import java.util.random.RandomGenerator;

/**
 * How a model family writes tool calls in its output. Chosen from the model's chat template (the template shows the
 * model the format it was trained on), never from server flags.
 *
 * <ul>
 *   <li>{@link #HERMES}: Hermes, Qwen 2.5/3 and other ChatML-style tool templates:
 *       {@code <tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>}, one block per call, anywhere in the
 *       message.</li>
 *   <li>{@link #LLAMA3_JSON}: Llama 3.1–3.3 JSON tool calling: the message is {@code {"name": "f", "parameters":
 *       {...}}}, possibly after {@code <|python_tag|>}; several calls are separated by {@code ;}.</li>
 *   <li>{@link #MISTRAL}: Mistral v0.3 / Nemo: {@code [TOOL_CALLS][{"name": "f", "arguments": {...}}, ...]}.</li>
 * </ul>
 */
public enum ToolCallFormat {
    HERMES("arguments"),
    LLAMA3_JSON("parameters"),
    MISTRAL("arguments");

    /** Hermes' opening and closing tags. */
    static final String HERMES_OPEN = "<tool_call>";
    static final String HERMES_CLOSE = "</tool_call>";
    /** Llama 3's marker before a call (a special token in Llama 3 vocabularies). */
    static final String PYTHON_TAG = "<|python_tag|>";
    /** Mistral's marker before the list of calls (a control token in Mistral vocabularies). */
    static final String MISTRAL_OPEN = "[TOOL_CALLS]";

    private static final String ALPHANUMERIC = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    private final String argumentsKey;

    ToolCallFormat(String argumentsKey) {
        this.argumentsKey = argumentsKey;
    }

    /** The key this family writes the arguments under (the parser accepts both {@code arguments} and {@code parameters}). */
    public String argumentsKey() {
        return argumentsKey;
    }

    /**
     * The format a chat template teaches: Mistral's {@code [TOOL_CALLS]}, Hermes' {@code <tool_call>}, Llama 3's
     * {@code <|python_tag|>} or header tokens with {@code "parameters"}. Anything else (ChatML, no template, a template
     * without tool support) gets Hermes, the ChatML family's convention.
     */
    public static ToolCallFormat detect(String template) {
        if (template == null) return HERMES;
        if (template.contains(MISTRAL_OPEN)) return MISTRAL;
        if (template.contains(HERMES_OPEN)) return HERMES;
        if (template.contains(PYTHON_TAG) || (template.contains("<|start_header_id|>") && template.contains("\"parameters\""))) {
            return LLAMA3_JSON;
        }
        return HERMES;
    }

    /**
     * A new call id: {@code call_} and 24 letters or digits, except for Mistral, whose templates insist on exactly 9
     * letters or digits when the call comes back in the history.
     */
    public String newCallId(RandomGenerator random) {
        return this == MISTRAL ? randomAlphanumeric(random, 9) : "call_" + randomAlphanumeric(random, 24);
    }

    private static String randomAlphanumeric(RandomGenerator random, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) sb.append(ALPHANUMERIC.charAt(random.nextInt(ALPHANUMERIC.length())));
        return sb.toString();
    }
}
