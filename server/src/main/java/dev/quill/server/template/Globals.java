package dev.quill.server.template;

import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Global functions: Jinja2's {@code range}, {@code dict}, {@code namespace}, {@code joiner}, and the two that
 * transformers adds for chat templates, {@code raise_exception(message)} and {@code strftime_now(format)}.
 */
final class Globals {

    private Globals() {}

    private static final Map<String, Callable> FUNCTIONS = Map.of(
            "range", function("range", Globals::range),
            "dict", function("dict", (r, args) -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                if (!args.positional().isEmpty()) map.putAll(mapping(args.positional().get(0), "dict"));
                map.putAll(args.keywords());
                return map;
            }),
            "namespace", function("namespace", (r, args) -> {
                Map<String, Object> initial = new LinkedHashMap<>();
                for (Object arg : args.positional()) {
                    for (Map.Entry<Object, Object> e : mapping(arg, "namespace").entrySet()) {
                        initial.put(Py.str(e.getKey()), e.getValue());
                    }
                }
                initial.putAll(args.keywords());
                return new Namespace(initial);
            }),
            "joiner", function("joiner", (r, args) -> {
                String separator = Py.str(Args.or(args.bind("joiner", "sep")[0], ", "));
                boolean[] used = {false};
                return function("joiner", (r2, a2) -> {
                    a2.bind("joiner");
                    if (used[0]) return separator;
                    used[0] = true;
                    return "";
                });
            }),
            "raise_exception", function("raise_exception", (r, args) -> {
                Object message = Args.or(args.bind("raise_exception", "message")[0], "");
                throw TemplateException.raised(Py.str(message));
            }),
            "strftime_now", function("strftime_now", (r, args) -> {
                Object format = args.bind("strftime_now", "format")[0];
                if (!(format instanceof String f)) throw new TemplateException("strftime_now() argument must be str");
                return Strftime.format(LocalDateTime.now(r.clock()), f);
            }));

    /** The global named {@code name}, or null. */
    static Object get(String name) {
        return FUNCTIONS.get(name);
    }

    private static Callable function(String name, BiFunction<Renderer, Args, Object> body) {
        return new Callable() {
            @Override
            public Object call(Renderer renderer, Args args) {
                return body.apply(renderer, args);
            }

            @Override
            public String describe() {
                return "<function " + name + ">";
            }
        };
    }

    private static Map<Object, Object> mapping(Object value, String function) {
        if (value instanceof Map<?, ?> m) return new LinkedHashMap<>(m);
        Map<Object, Object> map = new LinkedHashMap<>();
        for (Object pair : Py.iterate(value)) {
            List<Object> kv = Py.iterate(pair);
            if (kv.size() != 2) throw new TemplateException(function + "() sequence elements must have length 2");
            map.put(kv.get(0), kv.get(1));
        }
        return map;
    }

    private static Object range(Renderer r, Args args) {
        if (!args.keywords().isEmpty()) throw new TemplateException("range() takes no keyword arguments");
        List<Object> a = args.positional();
        if (a.isEmpty() || a.size() > 3) throw new TemplateException("range expected 1 to 3 arguments, got " + a.size());
        for (Object v : a) {
            if (!Py.isIntLike(v)) {
                throw new TemplateException("'" + Py.typeName(v) + "' object cannot be interpreted as an integer");
            }
        }
        long start = a.size() == 1 ? 0 : Py.toLong(a.get(0));
        long stop = Py.toLong(a.get(a.size() == 1 ? 0 : 1));
        long step = a.size() == 3 ? Py.toLong(a.get(2)) : 1;
        if (step == 0) throw new TemplateException("range() arg 3 must not be zero");
        long count = step > 0 ? Math.max(0, (stop - start + step - 1) / step) : Math.max(0, (start - stop - step - 1) / -step);
        if (count > Limits.MAX_RANGE) {
            throw new TemplateException("Range too big. The sandbox blocks ranges larger than MAX_RANGE ("
                    + Limits.MAX_RANGE + ").");
        }
        List<Object> values = new ArrayList<>((int) count);
        for (long i = 0, v = start; i < count; i++, v += step) values.add(v);
        return values;
    }
}
