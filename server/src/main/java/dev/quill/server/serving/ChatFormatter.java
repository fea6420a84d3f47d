package dev.quill.server.serving;

import dev.quill.engine.ModelInfo;
import dev.quill.server.template.ChatTemplate;
import dev.quill.server.template.TemplateException;
import dev.quill.server.tools.ToolCallFormat;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renders a conversation into the prompt text a model was trained on, and knows how that model writes tool calls. The
 * context holds {@code messages}, {@code tools}, {@code add_generation_prompt}, {@code bos_token} and
 * {@code eos_token}, as Hugging Face chat templates expect.
 */
public final class ChatFormatter {

    private static final java.util.regex.Pattern TOOLS_VARIABLE = java.util.regex.Pattern.compile("\\btools\\b");

    private final ChatTemplate template;
    private final ToolCallFormat toolCallFormat;
    private final boolean showsTools;

    ChatFormatter(ChatTemplate template, ToolCallFormat toolCallFormat, boolean showsTools) {
        this.template = template;
        this.toolCallFormat = toolCallFormat;
        this.showsTools = showsTools;
    }

    /**
     * The model's own {@code tokenizer.chat_template}, or ChatML when it has none. A template that does not compile
     * is reported in the log and replaced by ChatML, so the model stays usable. The tool-call format is the one the
     * template teaches ({@link ToolCallFormat#detect}).
     */
    public static ChatFormatter forModel(ModelInfo info) {
        ToolCallFormat format = ToolCallFormat.detect(info.chatTemplate());
        if (info.chatTemplate() == null) return new ChatFormatter(ChatTemplate.CHATML, format, false);
        try {
            return new ChatFormatter(ChatTemplate.compile(info.chatTemplate()), format,
                    TOOLS_VARIABLE.matcher(info.chatTemplate()).find());
        } catch (TemplateException e) {
            Logger log = LoggerFactory.getLogger(ChatFormatter.class);
            log.warn("the chat template of {} does not compile ({}); using ChatML instead", info.name(), e.getMessage());
            return new ChatFormatter(ChatTemplate.CHATML, ToolCallFormat.detect(null), false);
        }
    }

    /** How the model writes tool calls. */
    public ToolCallFormat toolCallFormat() {
        return toolCallFormat;
    }

    /**
     * Whether the template shows the model its tools (it reads the {@code tools} variable): only then can the model
     * decide by itself to call one ({@code tool_choice: auto}).
     */
    public boolean showsTools() {
        return showsTools;
    }

    /**
     * Renders the context. Messages without content (an assistant message that only calls tools) get
     * {@code content: None} as in transformers; a template that cannot take that (it concatenates or searches the
     * content) gets them again with empty content, as vLLM passes them.
     *
     * @throws TemplateException when the template rejects the conversation
     */
    @SuppressWarnings("unchecked")
    public String render(Map<String, Object> context) {
        try {
            return template.render(context);
        } catch (TemplateException e) {
            if (e.raisedByTemplate() || !(context.get("messages") instanceof List<?> messages)) throw e;
            List<Object> filled = new ArrayList<>();
            boolean changed = false;
            for (Object m : messages) {
                if (m instanceof Map<?, ?> message && message.containsKey("content") && message.get("content") == null) {
                    Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) message);
                    copy.put("content", "");
                    filled.add(copy);
                    changed = true;
                } else {
                    filled.add(m);
                }
            }
            if (!changed) throw e;
            Map<String, Object> retry = new HashMap<>(context);
            retry.put("messages", filled);
            return template.render(retry);
        }
    }
}
