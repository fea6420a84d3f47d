package dev.quill.server.protocol;

/**
 * Which tool the model should call: {@code none}, {@code auto}, {@code required}, or one named function.
 *
 * @param function the forced function's name when mode is {@code function}, otherwise null
 */
public record ToolChoice(String mode, String function) {

    public static final ToolChoice NONE = new ToolChoice("none", null);
    public static final ToolChoice AUTO = new ToolChoice("auto", null);
}
