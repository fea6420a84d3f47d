package dev.quill.server.protocol;

import java.util.List;

/**
 * One message of a conversation.
 *
 * @param role       system, user, assistant or tool ({@code developer} is read as system)
 * @param content    the content parts; a plain string arrives as one text part. Null when the message has none
 *                   (an assistant message that only calls tools)
 * @param name       optional participant name
 * @param toolCalls  the calls an assistant message made, or an empty list
 * @param toolCallId the call a tool message answers, or null
 */
public record ChatMessage(String role, List<ContentPart> content, boolean contentIsString, String name,
                          List<ToolCall> toolCalls, String toolCallId) {

    /**
     * One content part. {@code type} is text, image_url, image, input_audio or audio; only text parts have
     * {@code text}. {@code loc} is where the part was in the request, for error messages.
     */
    public record ContentPart(String type, String text, List<Object> loc) {
        public boolean isText() {
            return "text".equals(type);
        }
    }

    /** A call an assistant made earlier in the conversation; arguments is the JSON text the model produced. */
    public record ToolCall(String id, String name, String arguments) {}

    /** The text of all text parts, joined with newlines (null when there is no content). */
    public String text() {
        if (content == null) return null;
        StringBuilder sb = new StringBuilder();
        for (ContentPart part : content) {
            if (!part.isText()) continue;
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(part.text());
        }
        return sb.toString();
    }
}
