package dev.quill.server.serving;

import dev.quill.engine.ModelInfo;
import java.util.List;
import java.util.Map;

/**
 * Renders a conversation into the prompt text a model was trained on. The context holds {@code messages},
 * {@code tools}, {@code add_generation_prompt}, {@code bos_token} and {@code eos_token}, as Hugging Face chat
 * templates expect.
 */
@FunctionalInterface
public interface ChatFormatter {

    String render(Map<String, Object> context);

    /**
     * The formatter for a model. Until the Jinja interpreter lands this is always ChatML; then it becomes the
     * model's own {@code tokenizer.chat_template}, with ChatML for models without one.
     */
    static ChatFormatter forModel(ModelInfo info) {
        return ChatFormatter::chatMl;
    }

    /** ChatML: {@code <|im_start|>role\ncontent<|im_end|>\n} per message, then the assistant header. */
    @SuppressWarnings("unchecked")
    static String chatMl(Map<String, Object> context) {
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> message : (List<Map<String, Object>>) context.get("messages")) {
            Object content = message.get("content");
            sb.append("<|im_start|>").append(message.get("role")).append('\n')
                    .append(content == null ? "" : content).append("<|im_end|>\n");
        }
        if (Boolean.TRUE.equals(context.get("add_generation_prompt"))) sb.append("<|im_start|>assistant\n");
        return sb.toString();
    }
}
