package dev.quill.server.template;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * The Python methods templates call on values: {@code str} methods ({@code strip}, {@code split},
 * {@code startswith}, ...), {@code dict.items/keys/values/get} and the read-only {@code list} methods.
 *
 * <p>Like transformers' {@code ImmutableSandboxedEnvironment}, methods that mutate a list or dict
 * ({@code append}, {@code pop}, {@code update}, ...) resolve to an undefined value that fails when called.
 */
final class BuiltinMethods {

    private BuiltinMethods() {}

    private static final Set<String> STRING_METHODS = Set.of(
            "capitalize", "casefold", "center", "count", "endswith", "find", "format", "index", "isalnum", "isalpha",
            "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle", "isupper", "join", "ljust", "lower",
            "lstrip", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition",
            "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill");
    private static final Set<String> DICT_METHODS = Set.of("get", "items", "keys", "values", "copy");
    private static final Set<String> DICT_MUTATORS = Set.of("clear", "pop", "popitem", "setdefault", "update");
    private static final Set<String> LIST_METHODS = Set.of("count", "index", "copy");
    private static final Set<String> LIST_MUTATORS =
            Set.of("append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort");

    /** A bound method such as {@code 'x'.strip}: calling it runs the method on the receiver. */
    record BoundMethod(Object receiver, String name) implements Callable {
        @Override
        public Object call(Renderer renderer, Args args) {
            return switch (receiver) {
                case String s -> stringMethod(s, name, args, renderer.limits());
                case Map<?, ?> m -> dictMethod(m, name, args);
                default -> listMethod((List<?>) receiver, name, args);
            };
        }

        @Override
        public String describe() {
            return "<built-in method " + name + " of " + Py.typeName(receiver) + " object>";
        }
    }

    /** The attribute {@code name} of {@code obj}: a bound method, an unsafe-access undefined, or MISSING. */
    static Object lookup(Object obj, String name) {
        boolean known = switch (obj) {
            case null -> false;
            case String s -> STRING_METHODS.contains(name);
            case Map<?, ?> m -> DICT_METHODS.contains(name);
            case PyTuple t -> name.equals("count") || name.equals("index");
            case List<?> l -> LIST_METHODS.contains(name);
            default -> false;
        };
        if (known) return new BoundMethod(obj, name);
        boolean mutator = (obj instanceof Map && DICT_MUTATORS.contains(name))
                || (obj instanceof List && !(obj instanceof PyTuple) && LIST_MUTATORS.contains(name));
        if (mutator) {
            return new Undefined("access to attribute '" + name + "' of '" + Py.typeName(obj) + "' object is unsafe.");
        }
        return Args.MISSING;
    }

    // ---- dict and list ----

    private static Object dictMethod(Map<?, ?> m, String name, Args args) {
        switch (name) {
            case "get" -> {
                Object[] a = args.bind("get", "key", "default");
                if (a[0] == Args.MISSING) throw new TemplateException("get expected at least 1 argument, got 0");
                Object value = Py.dictGet(m, a[0]);
                return value != Args.MISSING ? value : Args.or(a[1], null);
            }
            case "items" -> {
                args.bind("items");
                List<Object> items = new ArrayList<>(m.size());
                for (Map.Entry<?, ?> e : m.entrySet()) items.add(PyTuple.of(e.getKey(), e.getValue()));
                return new DictView("dict_items", items);
            }
            case "keys" -> {
                args.bind("keys");
                return new DictView("dict_keys", new ArrayList<>(m.keySet()));
            }
            case "values" -> {
                args.bind("values");
                return new DictView("dict_values", new ArrayList<>(m.values()));
            }
            default -> {
                args.bind("copy");
                return new LinkedHashMap<Object, Object>(m);
            }
        }
    }

    private static Object listMethod(List<?> l, String name, Args args) {
        switch (name) {
            case "count" -> {
                Object x = required(args.bind("count", "value")[0], "count");
                return (long) l.stream().filter(item -> Py.eq(item, x)).count();
            }
            case "index" -> {
                Object x = required(args.bind("index", "value")[0], "index");
                for (int i = 0; i < l.size(); i++) if (Py.eq(l.get(i), x)) return (long) i;
                throw new TemplateException(Py.repr(x) + " is not in list");
            }
            default -> {
                args.bind("copy");
                return new ArrayList<Object>(l);
            }
        }
    }

    private static Object required(Object bound, String method) {
        if (bound == Args.MISSING) throw new TemplateException(method + "() takes exactly one argument (0 given)");
        return bound;
    }

    // ---- str ----

    private static Object stringMethod(String s, String name, Args args, Limits limits) {
        return switch (name) {
            case "strip", "lstrip", "rstrip" -> {
                Object chars = Args.or(args.bind(name, "chars")[0], null);
                yield Py.strip(s, chars == null ? null : string(chars, name), !name.equals("rstrip"), !name.equals("lstrip"));
            }
            case "split", "rsplit" -> {
                Object[] a = args.bind(name, "sep", "maxsplit");
                Object sep = Args.or(a[0], null);
                long max = Py.toLong(Args.or(a[1], -1L));
                yield sep == null ? splitWhitespace(s, max, name.equals("rsplit"))
                        : splitOn(s, string(sep, name), max, name.equals("rsplit"));
            }
            case "splitlines" -> splitLines(s, Py.truthy(Args.or(args.bind(name, "keepends")[0], false)));
            case "startswith", "endswith" -> {
                Object[] a = args.bind(name, "prefix", "start", "end");
                String target = substring(s, a[1], a[2]);
                Object affixes = required(a[0], name);
                List<?> options = affixes instanceof PyTuple t ? t : List.of(affixes);
                boolean match = false;
                for (Object o : options) {
                    String affix = string(o, name);
                    match |= name.equals("startswith") ? target.startsWith(affix) : target.endsWith(affix);
                }
                yield match;
            }
            case "upper" -> noArgs(args, name, s.toUpperCase(Locale.ROOT));
            case "lower" -> noArgs(args, name, s.toLowerCase(Locale.ROOT));
            case "casefold" -> noArgs(args, name, s.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT));
            case "title" -> noArgs(args, name, title(s));
            case "capitalize" -> noArgs(args, name, capitalize(s));
            case "swapcase" -> noArgs(args, name, swapcase(s));
            case "replace" -> {
                Object[] a = args.bind(name, "old", "new", "count");
                yield replace(s, string(required(a[0], name), name), string(required(a[1], name), name),
                        Py.toLong(Args.or(a[2], -1L)), limits);
            }
            case "find", "rfind", "index", "rindex", "count" -> search(s, name, args);
            case "join" -> {
                List<Object> items = Py.iterate(required(args.bind(name, "iterable")[0], name));
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < items.size(); i++) {
                    if (!(items.get(i) instanceof String item)) {
                        throw new TemplateException("sequence item " + i + ": expected str instance, "
                                + Py.typeName(items.get(i)) + " found");
                    }
                    if (i > 0) sb.append(s);
                    sb.append(item);
                    limits.checkLength(sb.length());
                }
                yield sb.toString();
            }
            case "center", "ljust", "rjust" -> {
                Object[] a = args.bind(name, "width", "fillchar");
                long width = Py.toLong(required(a[0], name));
                String fill = string(Args.or(a[1], " "), name);
                limits.checkLength(width);
                yield justify(s, name, (int) width, fill);
            }
            case "zfill" -> {
                long width = Py.toLong(required(args.bind(name, "width")[0], name));
                limits.checkLength(width);
                int missing = (int) width - Py.length(s);
                if (missing <= 0) yield s;
                boolean signed = s.startsWith("+") || s.startsWith("-");
                yield signed ? s.charAt(0) + "0".repeat(missing) + s.substring(1) : "0".repeat(missing) + s;
            }
            case "partition", "rpartition" -> {
                String sep = string(required(args.bind(name, "sep")[0], name), name);
                if (sep.isEmpty()) throw new TemplateException("empty separator");
                int i = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
                if (i < 0) yield name.equals("partition") ? PyTuple.of(s, "", "") : PyTuple.of("", "", s);
                yield PyTuple.of(s.substring(0, i), sep, s.substring(i + sep.length()));
            }
            case "removeprefix" -> {
                String prefix = string(required(args.bind(name, "prefix")[0], name), name);
                yield s.startsWith(prefix) ? s.substring(prefix.length()) : s;
            }
            case "removesuffix" -> {
                String suffix = string(required(args.bind(name, "suffix")[0], name), name);
                yield s.endsWith(suffix) && !suffix.isEmpty() ? s.substring(0, s.length() - suffix.length()) : s;
            }
            case "format" -> Format.braces(s, args);
            case "isalnum" -> noArgs(args, name, all(s, cp -> Character.isLetterOrDigit(cp)));
            case "isalpha" -> noArgs(args, name, all(s, Character::isLetter));
            case "isdecimal", "isdigit", "isnumeric" -> noArgs(args, name, all(s, Character::isDigit));
            case "isspace" -> noArgs(args, name, all(s, Py::isSpace));
            case "islower" -> noArgs(args, name, hasCased(s) && all(s, cp -> !Character.isUpperCase(cp) && !Character.isTitleCase(cp)));
            case "isupper" -> noArgs(args, name, hasCased(s) && all(s, cp -> !Character.isLowerCase(cp) && !Character.isTitleCase(cp)));
            case "istitle" -> noArgs(args, name, !s.isEmpty() && title(s).equals(s) && hasCased(s));
            default -> throw new IllegalStateException("unhandled str method " + name);
        };
    }

    private static Object noArgs(Args args, String name, Object result) {
        args.bind(name);
        return result;
    }

    private static String string(Object v, String method) {
        if (v instanceof String s) return s;
        if (v instanceof Undefined u) throw u.error();
        throw new TemplateException(method + "() argument must be str, not " + Py.typeName(v));
    }

    private static boolean all(String s, IntPredicate p) {
        return !s.isEmpty() && s.codePoints().allMatch(p);
    }

    private static boolean hasCased(String s) {
        return s.codePoints().anyMatch(BuiltinMethods::isCased);
    }

    private static boolean isCased(int cp) {
        return Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
    }

    /** Python's str.title(): a letter after a cased letter is lowered, any other letter is title-cased. */
    static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            String c = Character.toString(cp);
            sb.append(previousCased ? c.toLowerCase(Locale.ROOT) : titleCase(cp));
            previousCased = isCased(cp);
        }
        return sb.toString();
    }

    private static String titleCase(int cp) {
        int title = Character.toTitleCase(cp);
        return title != cp ? Character.toString(title) : Character.toString(cp).toUpperCase(Locale.ROOT);
    }

    /** Python's str.capitalize(): first character title-cased, the rest lowered. */
    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        return titleCase(first) + s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT);
    }

    private static String swapcase(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            String c = Character.toString(cp);
            sb.append(Character.isUpperCase(cp) ? c.toLowerCase(Locale.ROOT)
                    : Character.isLowerCase(cp) ? c.toUpperCase(Locale.ROOT) : c);
        });
        return sb.toString();
    }

    /** Python's str.replace(old, new, count): an empty {@code old} inserts between characters. */
    static String replace(String s, String old, String replacement, long count, Limits limits) {
        long max = count < 0 ? Long.MAX_VALUE : count;
        StringBuilder sb = new StringBuilder();
        long done = 0;
        if (old.isEmpty()) {
            List<Object> chars = Py.characters(s);
            for (Object c : chars) {
                if (done < max) {
                    sb.append(replacement);
                    done++;
                }
                sb.append((String) c);
                limits.checkLength(sb.length());
            }
            if (done < max) sb.append(replacement);
            return sb.toString();
        }
        int from = 0;
        for (int i = s.indexOf(old); i >= 0 && done < max; i = s.indexOf(old, from)) {
            sb.append(s, from, i).append(replacement);
            limits.checkLength(sb.length());
            from = i + old.length();
            done++;
        }
        return sb.append(s.substring(from)).toString();
    }

    private static Object search(String s, String name, Args args) {
        Object[] a = args.bind(name, "sub", "start", "end");
        String sub = string(required(a[0], name), name);
        String target = substring(s, a[1], a[2]);
        int offset = Py.length(s) - Py.length(substringFrom(s, a[1]));
        return switch (name) {
            case "count" -> {
                if (sub.isEmpty()) yield (long) Py.length(target) + 1;
                long n = 0;
                for (int i = target.indexOf(sub); i >= 0; i = target.indexOf(sub, i + sub.length())) n++;
                yield n;
            }
            default -> {
                int i = name.startsWith("r") ? target.lastIndexOf(sub) : target.indexOf(sub);
                if (i < 0 && name.endsWith("index")) throw new TemplateException("substring not found");
                yield i < 0 ? -1L : (long) (target.codePointCount(0, i) + offset);
            }
        };
    }

    private static String substringFrom(String s, Object start) {
        return substring(s, start, Args.MISSING);
    }

    /** {@code s[start:end]} for the optional start/end arguments of str methods. */
    private static String substring(String s, Object start, Object end) {
        if ((start == Args.MISSING || start == null) && (end == Args.MISSING || end == null)) return s;
        return (String) Py.slice(s, new Py.SliceValue(start == Args.MISSING ? null : start,
                end == Args.MISSING ? null : end, null));
    }

    private static List<Object> splitWhitespace(String s, long max, boolean fromRight) {
        List<Object> parts = new ArrayList<>();
        if (!fromRight) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && Py.isSpace(s.charAt(i))) i++;
                if (i >= n) break;
                if (max >= 0 && parts.size() >= max) {
                    parts.add(s.substring(i));
                    break;
                }
                int start = i;
                while (i < n && !Py.isSpace(s.charAt(i))) i++;
                parts.add(s.substring(start, i));
            }
            return parts;
        }
        int i = s.length();
        while (true) {
            while (i > 0 && Py.isSpace(s.charAt(i - 1))) i--;
            if (i <= 0) break;
            if (max >= 0 && parts.size() >= max) {
                parts.add(0, s.substring(0, i));
                break;
            }
            int end = i;
            while (i > 0 && !Py.isSpace(s.charAt(i - 1))) i--;
            parts.add(0, s.substring(i, end));
        }
        return parts;
    }

    private static List<Object> splitOn(String s, String sep, long max, boolean fromRight) {
        if (sep.isEmpty()) throw new TemplateException("empty separator");
        List<Object> parts = new ArrayList<>();
        if (!fromRight) {
            int from = 0;
            for (int i = s.indexOf(sep); i >= 0 && (max < 0 || parts.size() < max); i = s.indexOf(sep, from)) {
                parts.add(s.substring(from, i));
                from = i + sep.length();
            }
            parts.add(s.substring(from));
            return parts;
        }
        int end = s.length();
        for (int i = s.lastIndexOf(sep, end - sep.length()); i >= 0 && (max < 0 || parts.size() < max);
             i = end - sep.length() < 0 ? -1 : s.lastIndexOf(sep, end - sep.length())) {
            parts.add(0, s.substring(i + sep.length(), end));
            end = i;
        }
        parts.add(0, s.substring(0, end));
        return parts;
    }

    /** Python's str.splitlines(): splits on \n, \r\n, \r, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029. */
    static List<Object> splitLines(String s, boolean keepEnds) {
        List<Object> lines = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            int breakLength = c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n' ? 2
                    : "\n\r\u000b\f\u001c\u001d\u001e\u0085\u2028\u2029".indexOf(c) >= 0 ? 1 : 0;
            if (breakLength == 0) {
                i++;
                continue;
            }
            lines.add(s.substring(start, keepEnds ? i + breakLength : i));
            i += breakLength;
            start = i;
        }
        if (start < s.length()) lines.add(s.substring(start));
        return lines;
    }

    private static String justify(String s, String how, int width, String fill) {
        if (fill.codePointCount(0, fill.length()) != 1) {
            throw new TemplateException("The fill character must be exactly one character long");
        }
        int missing = width - Py.length(s);
        if (missing <= 0) return s;
        return switch (how) {
            case "ljust" -> s + fill.repeat(missing);
            case "rjust" -> fill.repeat(missing) + s;
            default -> {
                int left = missing / 2 + (missing & width & 1);
                yield fill.repeat(left) + s + fill.repeat(missing - left);
            }
        };
    }
}
