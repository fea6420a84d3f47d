package dev.quill.server.template;

import java.util.List;
import java.util.Map;

/** The arguments of a call: positional values and keyword values in source order. */
record Args(List<Object> positional, Map<String, Object> keywords) {

    /** Marks a parameter the caller did not pass, as distinct from an explicit {@code none}. */
    static final Object MISSING = new Object() {
        @Override
        public String toString() {
            return "<missing>";
        }
    };

    static final Args NONE = new Args(List.of(), Map.of());

    /**
     * Binds the arguments to named parameters like a Python call would: positional first, then keywords.
     * Parameters that were not passed are {@link #MISSING}.
     */
    Object[] bind(String function, String... params) {
        if (positional.size() > params.length) {
            throw new TemplateException(function + "() takes at most " + params.length + " argument"
                    + (params.length == 1 ? "" : "s") + " (" + positional.size() + " given)");
        }
        Object[] bound = new Object[params.length];
        for (int i = 0; i < params.length; i++) bound[i] = i < positional.size() ? positional.get(i) : MISSING;
        for (Map.Entry<String, Object> kw : keywords.entrySet()) {
            int i = List.of(params).indexOf(kw.getKey());
            if (i < 0) {
                throw new TemplateException(function + "() got an unexpected keyword argument '" + kw.getKey() + "'");
            }
            if (bound[i] != MISSING) {
                throw new TemplateException(function + "() got multiple values for argument '" + kw.getKey() + "'");
            }
            bound[i] = kw.getValue();
        }
        return bound;
    }

    /** The value of a bound parameter, or {@code fallback} when it was not passed. */
    static Object or(Object bound, Object fallback) {
        return bound == MISSING ? fallback : bound;
    }

    /** These arguments without the first {@code n} positional ones. */
    Args dropPositional(int n) {
        return new Args(positional.subList(Math.min(n, positional.size()), positional.size()), keywords);
    }
}
