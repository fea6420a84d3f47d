package dev.quill.server.template;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jinja2's built-in filters that chat templates use, with Jinja2 3.1 semantics, plus transformers' {@code tojson}
 * (Python {@code json.dumps}, non-ASCII kept, optional indent/separators/sort_keys).
 */
final class Filters {

    private Filters() {}

    static final Set<String> NAMES = Set.of(
            "abs", "attr", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first",
            "float", "forceescape", "format", "indent", "int", "items", "join", "last", "length", "list", "lower",
            "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select",
            "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "truncate", "unique", "upper",
            "wordcount");

    private static final Pattern TITLE_WORD_BOUNDARY = Pattern.compile("([-\\s({\\[<]+)");
    private static final Pattern WORD = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS);

    static Object apply(Renderer r, String name, Object value, Args args) {
        return switch (name) {
            case "abs" -> {
                args.bind(name);
                if (value instanceof Double d) yield Math.abs(d);
                if (Py.isIntLike(value)) yield Py.intValue(Py.bigInt(value).abs());
                throw new TemplateException("bad operand type for abs(): '" + Py.typeName(value) + "'");
            }
            case "attr" -> {
                Object attribute = Args.or(args.bind(name, "name")[0], "");
                String attributeName = Py.str(attribute);
                Object found = value instanceof Namespace ns ? ns.attributes().getOrDefault(attributeName, Args.MISSING)
                        : value instanceof LoopContext loop ? loop.attribute(attributeName)
                        : BuiltinMethods.lookup(value, attributeName);
                yield found != Args.MISSING ? found : Undefined.attribute(value, attributeName);
            }
            case "capitalize" -> noArgs(args, name, BuiltinMethods.capitalize(Py.str(value)));
            case "center" -> {
                long width = Py.toLong(Args.or(args.bind(name, "width")[0], 80L));
                r.limits().checkLength(width);
                String s = Py.str(value);
                int missing = (int) width - Py.length(s);
                if (missing <= 0) yield s;
                int left = missing / 2 + (missing & (int) width & 1);
                yield " ".repeat(left) + s + " ".repeat(missing - left);
            }
            case "count", "length" -> noArgs(args, name, (long) Py.length(value));
            case "d", "default" -> {
                Object[] a = args.bind(name, "default_value", "boolean");
                boolean useDefault = value instanceof Undefined || (Py.truthy(Args.or(a[1], false)) && !Py.truthy(value));
                yield useDefault ? Args.or(a[0], "") : value;
            }
            case "dictsort" -> dictsort(value, args);
            case "e", "escape", "forceescape" -> noArgs(args, name, escape(Py.str(value)));
            case "first" -> {
                args.bind(name);
                List<Object> items = Py.iterate(value);
                yield items.isEmpty() ? new Undefined("No first item, sequence was empty.") : items.get(0);
            }
            case "last" -> {
                args.bind(name);
                List<Object> items = Py.iterate(value);
                yield items.isEmpty() ? new Undefined("No last item, sequence was empty.") : items.get(items.size() - 1);
            }
            case "float" -> {
                Object fallback = Args.or(args.bind(name, "default")[0], 0.0);
                if (value instanceof Undefined u) throw u.error();
                yield toFloat(value, fallback);
            }
            case "format" -> {
                if (!args.positional().isEmpty() && !args.keywords().isEmpty()) {
                    throw new TemplateException("can't handle positional and keyword arguments at the same time");
                }
                Object params = args.keywords().isEmpty() ? new PyTuple(args.positional()) : new LinkedHashMap<>(args.keywords());
                yield Format.percent(Py.str(value), params);
            }
            case "indent" -> indent(value, args);
            case "int" -> toInt(value, args);
            case "items" -> {
                args.bind(name);
                if (value instanceof Undefined) yield List.of();
                if (!(value instanceof Map<?, ?> m)) throw new TemplateException("Can only get item pairs from a mapping.");
                List<Object> items = new ArrayList<>(m.size());
                for (Map.Entry<?, ?> e : m.entrySet()) items.add(PyTuple.of(e.getKey(), e.getValue()));
                yield items;
            }
            case "join" -> {
                Object[] a = args.bind(name, "d", "attribute");
                String separator = Py.str(Args.or(a[0], ""));
                List<Object> items = Py.iterate(value);
                Object attribute = Args.or(a[1], null);
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) sb.append(separator);
                    Object item = attribute == null ? items.get(i) : attributeGetter(attribute, null).apply(items.get(i));
                    sb.append(Py.str(item));
                    r.limits().checkLength(sb.length());
                }
                yield sb.toString();
            }
            case "list" -> noArgs(args, name, new ArrayList<>(Py.iterate(value)));
            case "lower" -> noArgs(args, name, Py.str(value).toLowerCase(Locale.ROOT));
            case "upper" -> noArgs(args, name, Py.str(value).toUpperCase(Locale.ROOT));
            case "map" -> map(r, value, args);
            case "max", "min" -> extreme(name, value, args);
            case "select", "reject" -> selectOrReject(r, value, args, name.equals("select"), false);
            case "selectattr", "rejectattr" -> selectOrReject(r, value, args, name.equals("selectattr"), true);
            case "replace" -> {
                Object[] a = args.bind(name, "old", "new", "count");
                if (a[0] == Args.MISSING || a[1] == Args.MISSING) {
                    throw new TemplateException("replace() missing required arguments 'old' and 'new'");
                }
                Object count = Args.or(a[2], null);
                yield BuiltinMethods.replace(Py.str(value), Py.str(a[0]), Py.str(a[1]),
                        count == null ? -1 : Py.toLong(count), r.limits());
            }
            case "reverse" -> {
                args.bind(name);
                if (value instanceof String s) yield new StringBuilder(s).reverse().toString();
                List<Object> items = new ArrayList<>(Py.iterate(value));
                Collections.reverse(items);
                yield items;
            }
            case "round" -> round(value, args);
            case "safe", "string" -> noArgs(args, name, Py.str(value));
            case "sort" -> sort(value, args);
            case "sum" -> {
                Object[] a = args.bind(name, "attribute", "start");
                Object attribute = Args.or(a[0], null);
                Object total = Args.or(a[1], 0L);
                for (Object item : Py.iterate(value)) {
                    Object term = attribute == null ? item : attributeGetter(attribute, null).apply(item);
                    total = Py.binary("+", total, term, r.limits());
                }
                yield total;
            }
            case "title" -> noArgs(args, name, jinjaTitle(Py.str(value)));
            case "tojson" -> tojson(r, value, args);
            case "trim" -> {
                Object chars = Args.or(args.bind(name, "chars")[0], null);
                yield Py.strip(Py.str(value), chars == null ? null : Py.str(chars), true, true);
            }
            case "truncate" -> truncate(value, args);
            case "unique" -> unique(value, args);
            case "wordcount" -> {
                args.bind(name);
                Matcher m = WORD.matcher(Py.str(value));
                long n = 0;
                while (m.find()) n++;
                yield n;
            }
            default -> throw new TemplateException("No filter named '" + name + "'.");
        };
    }

    private static Object noArgs(Args args, String name, Object result) {
        args.bind(name);
        return result;
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&#34;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Jinja's title filter: each word (split at whitespace, '-', and opening brackets) capitalized. */
    private static String jinjaTitle(String s) {
        StringBuilder sb = new StringBuilder();
        Matcher m = TITLE_WORD_BOUNDARY.matcher(s);
        int from = 0;
        while (m.find()) {
            titleChunk(sb, s.substring(from, m.start()));
            titleChunk(sb, m.group());
            from = m.end();
        }
        titleChunk(sb, s.substring(from));
        return sb.toString();
    }

    private static void titleChunk(StringBuilder sb, String chunk) {
        if (chunk.isEmpty()) return;
        int first = chunk.codePointAt(0);
        sb.append(Character.toString(first).toUpperCase(Locale.ROOT))
          .append(chunk.substring(Character.charCount(first)).toLowerCase(Locale.ROOT));
    }

    private static Object toFloat(Object value, Object fallback) {
        return switch (value) {
            case null -> fallback;
            case Double d -> d;
            case Long l -> (double) l;
            case Boolean b -> b ? 1.0 : 0.0;
            case BigInteger b -> b.doubleValue();
            case String s -> {
                Double parsed = parsePythonFloat(s);
                yield parsed != null ? parsed : fallback;
            }
            default -> fallback;
        };
    }

    /** Python's float(str): surrounding whitespace, '_' between digits, inf/nan spellings; null if invalid. */
    private static Double parsePythonFloat(String s) {
        String t = Py.strip(s, null, true, true).toLowerCase(Locale.ROOT);
        String unsigned = t.startsWith("-") || t.startsWith("+") ? t.substring(1) : t;
        if (unsigned.equals("inf") || unsigned.equals("infinity")) {
            return t.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        if (unsigned.equals("nan")) return Double.NaN;
        if (!t.matches("[+-]?(\\d(_?\\d)*)?(\\.(\\d(_?\\d)*)?)?(e[+-]?\\d(_?\\d)*)?") || !t.matches(".*\\d.*")
                || t.matches("[+-]?\\.?e.*")) {
            return null;
        }
        return Double.parseDouble(t.replace("_", ""));
    }

    private static Object toInt(Object value, Args args) {
        Object[] a = args.bind("int", "default", "base");
        Object fallback = Args.or(a[0], 0L);
        int base = (int) Py.toLong(Args.or(a[1], 10L));
        if (value instanceof Undefined u) throw u.error();
        switch (value) {
            case null -> { return fallback; }
            case Long l -> { return l; }
            case BigInteger b -> { return b; }
            case Boolean b -> { return b ? 1L : 0L; }
            case Double d -> {
                if (d.isNaN() || d.isInfinite()) return fallback;
                return Py.intValue(new BigDecimal(d).toBigInteger());
            }
            case String s -> {
                String t = Py.strip(s, null, true, true).replace("_", "");
                if (base == 16 && (t.startsWith("0x") || t.startsWith("0X"))) t = t.substring(2);
                try {
                    return Py.intValue(new BigInteger(t, base));
                } catch (NumberFormatException e) {
                    Double d = parsePythonFloat(s);
                    if (d == null || d.isNaN() || d.isInfinite()) return fallback;
                    return Py.intValue(new BigDecimal(d).toBigInteger());
                }
            }
            default -> { return fallback; }
        }
    }

    private static Object round(Object value, Args args) {
        Object[] a = args.bind("round", "precision", "method");
        int precision = (int) Py.toLong(Args.or(a[0], 0L));
        String method = Py.str(Args.or(a[1], "common"));
        if (!Set.of("common", "ceil", "floor").contains(method)) {
            throw new TemplateException("method must be common, ceil or floor");
        }
        if (!Py.isNumber(value)) throw new TemplateException("type " + Py.typeName(value) + " doesn't define __round__ method");
        if (method.equals("common")) {
            if (Py.isIntLike(value)) {
                if (precision >= 0) return Py.intValue(Py.bigInt(value));
                BigDecimal rounded = new BigDecimal(Py.bigInt(value)).setScale(precision, RoundingMode.HALF_EVEN);
                return Py.intValue(rounded.toBigInteger());
            }
            double d = (Double) value;
            if (Double.isNaN(d) || Double.isInfinite(d)) return d;
            return new BigDecimal(d).setScale(precision, RoundingMode.HALF_EVEN).doubleValue();
        }
        double scale = Math.pow(10, precision);
        double scaled = Py.toDouble(value) * scale;
        return (method.equals("ceil") ? Math.ceil(scaled) : Math.floor(scaled)) / scale;
    }

    private static Object indent(Object value, Args args) {
        Object[] a = args.bind("indent", "width", "first", "blank");
        Object width = Args.or(a[0], 4L);
        String indentation = width instanceof String s ? s : " ".repeat((int) Math.max(0, Py.toLong(width)));
        boolean first = Py.truthy(Args.or(a[1], false));
        boolean blank = Py.truthy(Args.or(a[2], false));
        if (value instanceof Undefined u) throw u.error();
        List<Object> lines = BuiltinMethods.splitLines(Py.str(value) + "\n", false);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            String line = (String) lines.get(i);
            if (i > 0) {
                sb.append('\n');
                if (blank || !line.isEmpty()) sb.append(indentation);
            }
            sb.append(line);
        }
        return first ? indentation + sb : sb.toString();
    }

    private static Object truncate(Object value, Args args) {
        Object[] a = args.bind("truncate", "length", "killwords", "end", "leeway");
        String s = Py.str(value);
        long length = Py.toLong(Args.or(a[0], 255L));
        boolean killWords = Py.truthy(Args.or(a[1], false));
        String end = Py.str(Args.or(a[2], "..."));
        long leeway = Py.toLong(Args.or(a[3], 5L));
        if (Py.length(s) <= length + leeway) return s;
        long keep = Math.max(0, length - Py.length(end));
        String head = (String) Py.slice(s, new Py.SliceValue(null, keep, null));
        if (killWords) return head + end;
        int space = head.lastIndexOf(' ');
        return (space >= 0 ? head.substring(0, space) : head) + end;
    }

    // ---- attribute access, sorting, selection ----

    /** Jinja's make_attrgetter: "a.b.0" walks items/attributes; numeric parts index. */
    static Function<Object, Object> attributeGetter(Object attribute, Object fallback) {
        List<Object> parts = new ArrayList<>();
        if (attribute instanceof String s) {
            for (String part : s.split("\\.", -1)) {
                parts.add(part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? (Object) Long.parseLong(part) : part);
            }
        } else {
            parts.add(attribute);
        }
        return item -> {
            Object current = item;
            for (Object part : parts) {
                current = Py.getItem(current, part);
                if (fallback != null && current instanceof Undefined) current = fallback;
            }
            return current;
        };
    }

    private static Object ignoreCase(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof String s ? s.toLowerCase(Locale.ROOT) : v;
    }

    private static Comparator<Object> order(Function<Object, Object> key) {
        return (x, y) -> Py.compare(key.apply(x), key.apply(y), "<");
    }

    private static Object sort(Object value, Args args) {
        Object[] a = args.bind("sort", "reverse", "case_sensitive", "attribute");
        boolean reverse = Py.truthy(Args.or(a[0], false));
        boolean caseSensitive = Py.truthy(Args.or(a[1], false));
        Object attribute = Args.or(a[2], null);
        Function<Object, Object> get = attribute == null ? Function.identity() : attributeGetter(attribute, null);
        List<Object> items = new ArrayList<>(Py.iterate(value));
        Comparator<Object> comparator = order(item -> ignoreCase(get.apply(item), caseSensitive));
        items.sort(reverse ? comparator.reversed() : comparator);
        return items;
    }

    private static Object dictsort(Object value, Args args) {
        Object[] a = args.bind("dictsort", "case_sensitive", "by", "reverse");
        boolean caseSensitive = Py.truthy(Args.or(a[0], false));
        String by = Py.str(Args.or(a[1], "key"));
        boolean reverse = Py.truthy(Args.or(a[2], false));
        if (!by.equals("key") && !by.equals("value")) throw new TemplateException("You can only sort by either \"key\" or \"value\"");
        if (value instanceof Undefined u) throw u.error();
        if (!(value instanceof Map<?, ?> m)) throw new TemplateException("dictsort filter expects a mapping");
        List<Object> items = new ArrayList<>();
        for (Map.Entry<?, ?> e : m.entrySet()) items.add(PyTuple.of(e.getKey(), e.getValue()));
        int position = by.equals("key") ? 0 : 1;
        Comparator<Object> comparator = order(item -> ignoreCase(((PyTuple) item).get(position), caseSensitive));
        items.sort(reverse ? comparator.reversed() : comparator);
        return items;
    }

    private static Object unique(Object value, Args args) {
        Object[] a = args.bind("unique", "case_sensitive", "attribute");
        boolean caseSensitive = Py.truthy(Args.or(a[0], false));
        Object attribute = Args.or(a[1], null);
        Function<Object, Object> get = attribute == null ? Function.identity() : attributeGetter(attribute, null);
        List<Object> seen = new ArrayList<>();
        List<Object> out = new ArrayList<>();
        for (Object item : Py.iterate(value)) {
            Object key = ignoreCase(get.apply(item), caseSensitive);
            if (seen.stream().noneMatch(k -> Py.eq(k, key))) {
                seen.add(key);
                out.add(item);
            }
        }
        return out;
    }

    private static Object extreme(String name, Object value, Args args) {
        Object[] a = args.bind(name, "case_sensitive", "attribute");
        boolean caseSensitive = Py.truthy(Args.or(a[0], false));
        Object attribute = Args.or(a[1], null);
        Function<Object, Object> get = attribute == null ? Function.identity() : attributeGetter(attribute, null);
        List<Object> items = Py.iterate(value);
        if (items.isEmpty()) return new Undefined("No aggregated item, sequence was empty.");
        Object best = items.get(0);
        for (Object item : items.subList(1, items.size())) {
            int c = Py.compare(ignoreCase(get.apply(item), caseSensitive), ignoreCase(get.apply(best), caseSensitive), "<");
            if (name.equals("max") ? c > 0 : c < 0) best = item;
        }
        return best;
    }

    private static Object map(Renderer r, Object value, Args args) {
        List<Object> items = Py.iterate(value);
        List<Object> out = new ArrayList<>(items.size());
        if (args.positional().isEmpty() && args.keywords().containsKey("attribute")) {
            for (String k : args.keywords().keySet()) {
                if (!k.equals("attribute") && !k.equals("default")) {
                    throw new TemplateException("Unexpected keyword argument '" + k + "'");
                }
            }
            Function<Object, Object> get = attributeGetter(args.keywords().get("attribute"), args.keywords().get("default"));
            for (Object item : items) out.add(get.apply(item));
            return out;
        }
        if (args.positional().isEmpty()) throw new TemplateException("map requires a filter argument");
        String filter = Py.str(args.positional().get(0));
        Args rest = args.dropPositional(1);
        for (Object item : items) out.add(apply(r, filter, item, rest));
        return out;
    }

    private static Object selectOrReject(Renderer r, Object value, Args args, boolean select, boolean byAttribute) {
        Args rest = args;
        Function<Object, Object> get = Function.identity();
        if (byAttribute) {
            if (rest.positional().isEmpty()) throw new TemplateException("Missing parameter for attribute name");
            get = attributeGetter(rest.positional().get(0), null);
            rest = rest.dropPositional(1);
        }
        String test = rest.positional().isEmpty() ? null : Py.str(rest.positional().get(0));
        Args testArgs = rest.dropPositional(1);
        List<Object> out = new ArrayList<>();
        for (Object item : Py.iterate(value)) {
            Object subject = get.apply(item);
            boolean passes = test == null ? Py.truthy(subject) : Tests.apply(r, test, subject, testArgs);
            if (passes == select) out.add(item);
        }
        return out;
    }

    private static Object tojson(Renderer r, Object value, Args args) {
        Object[] a = args.bind("tojson", "ensure_ascii", "indent", "separators", "sort_keys");
        boolean ensureAscii = Py.truthy(Args.or(a[0], false));
        Object indent = Args.or(a[1], null);
        String indentText = switch (indent) {
            case null -> null;
            case String s -> s;
            default -> " ".repeat((int) Math.max(0, Py.toLong(indent)));
        };
        Object separators = Args.or(a[2], null);
        String[] seps = null;
        if (separators != null) {
            List<Object> pair = Py.iterate(separators);
            if (pair.size() != 2) throw new TemplateException("separators must be an (item_separator, key_separator) pair");
            seps = new String[] {Py.str(pair.get(0)), Py.str(pair.get(1))};
        }
        boolean sortKeys = Py.truthy(Args.or(a[3], false));
        return new Json(ensureAscii, indentText, seps, sortKeys, r.limits()).dumps(value);
    }
}
