package dev.quill.server.serving;

import dev.quill.engine.ModelInfo;
import dev.quill.server.template.ChatTemplate;
import dev.quill.server.template.TemplateException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renders a conversation into the prompt text a model was trained on. The context holds {@code messages},
 * {@code tools}, {@code add_generation_prompt}, {@code bos_token} and {@code eos_token}, as Hugging Face chat
 * templates expect.
 */
@FunctionalInterface
public interface ChatFormatter {

    /** @throws TemplateException when the template rejects the conversation */
    String render(Map<String, Object> context);

    /**
     * The model's own {@code tokenizer.chat_template}, or ChatML when it has none. A template that does not compile
     * is reported in the log and replaced by ChatML, so the model stays usable.
     */
    static ChatFormatter forModel(ModelInfo info) {
        if (info.chatTemplate() == null) return ChatTemplate.CHATML::render;
        try {
            return ChatTemplate.compile(info.chatTemplate())::render;
        } catch (TemplateException e) {
            Logger log = LoggerFactory.getLogger(ChatFormatter.class);
            log.warn("the chat template of {} does not compile ({}); using ChatML instead", info.name(), e.getMessage());
            return ChatTemplate.CHATML::render;
        }
    }
}
