package dev.quill.server.protocol;

import java.util.ArrayList;
import java.util.List;

/** Locations of request parts, as in {@code ["body","messages",2,"content"]}. */
public final class Loc {

    private Loc() {}

    public static List<Object> of(Object... parts) {
        return List.of(parts);
    }

    public static List<Object> append(List<Object> loc, Object part) {
        List<Object> out = new ArrayList<>(loc.size() + 1);
        out.addAll(loc);
        out.add(part);
        return out;
    }

    /** The OpenAI-style {@code param} for a location: {@code messages[2].content} (without "body"/"header"). */
    public static String param(List<Object> loc) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < loc.size(); i++) {
            Object part = loc.get(i);
            if (i == 0 && ("body".equals(part) || "header".equals(part) || "query".equals(part))) continue;
            if (part instanceof Integer index) {
                sb.append('[').append(index).append(']');
            } else {
                if (!sb.isEmpty()) sb.append('.');
                sb.append(part);
            }
        }
        return sb.isEmpty() ? String.valueOf(loc.isEmpty() ? "" : loc.getFirst()) : sb.toString();
    }
}
