package dev.quill.server.template;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python semantics over plain Java values, as Jinja2 inherits them from Python: truthiness, {@code str()} and
 * {@code repr()}, equality and ordering, arithmetic, containers, indexing and slicing.
 *
 * <p>Value model: {@code null} (None), Boolean, Long (int; BigInteger only beyond 64 bits), Double (float),
 * String, List (PyTuple for tuples), Map (dict, insertion-ordered), plus the runtime types {@link Undefined},
 * {@link Namespace}, {@link LoopContext} and {@link Callable}. {@link ChatTemplate} normalizes the render context
 * into this model. Strings are indexed and measured in code points, as Python does.
 */
final class Py {

    private Py() {}

    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    // ---- types ----

    static boolean isInt(Object v) {
        return v instanceof Long || v instanceof BigInteger;
    }

    /** int or bool: Python's bool is an int subclass. */
    static boolean isIntLike(Object v) {
        return isInt(v) || v instanceof Boolean;
    }

    static boolean isNumber(Object v) {
        return isIntLike(v) || v instanceof Double;
    }

    static String typeName(Object v) {
        return switch (v) {
            case null -> "NoneType";
            case String s -> "str";
            case Boolean b -> "bool";
            case Long l -> "int";
            case BigInteger b -> "int";
            case Double d -> "float";
            case PyTuple t -> "tuple";
            case List<?> l -> "list";
            case Map<?, ?> m -> "dict";
            case DictView d -> d.kind();
            case Undefined u -> "Undefined";
            case Namespace n -> "Namespace";
            case LoopContext l -> "LoopContext";
            case Callable c -> "function";
            default -> v.getClass().getSimpleName();
        };
    }

    /** Jinja's description of an object in "has no attribute" messages. */
    static String objectDescription(Object v) {
        return v == null ? "None" : typeName(v) + " object";
    }

    static TemplateException typeError(String message) {
        return new TemplateException(message);
    }

    // ---- numbers ----

    static BigInteger bigInt(Object v) {
        return switch (v) {
            case null -> throw new IllegalArgumentException("not an int: None");
            case Long l -> BigInteger.valueOf(l);
            case BigInteger b -> b;
            case Boolean b -> b ? BigInteger.ONE : BigInteger.ZERO;
            default -> throw new IllegalArgumentException("not an int: " + typeName(v));
        };
    }

    /** An int result as Long when it fits, else BigInteger. */
    static Object intValue(BigInteger b) {
        return b.compareTo(LONG_MIN) >= 0 && b.compareTo(LONG_MAX) <= 0 ? (Object) b.longValue() : b;
    }

    /** An integer for {@code %d}-style formatting: ints as they are, floats truncated. */
    static BigInteger bigIntOf(Object v) {
        if (isIntLike(v)) return bigInt(v);
        if (v instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) throw new TemplateException("cannot convert float " + floatRepr(d) + " to integer");
            return new BigDecimal(d).toBigInteger();
        }
        throw typeError("%d format: a real number is required, not " + typeName(v));
    }

    static long toLong(Object v) {
        return switch (v) {
            case null -> throw typeError("'NoneType' object cannot be interpreted as an integer");
            case Long l -> l;
            case Boolean b -> b ? 1 : 0;
            case BigInteger b -> {
                if (b.bitLength() > 63) throw new TemplateException("integer too large: " + b);
                yield b.longValue();
            }
            default -> throw typeError("'" + typeName(v) + "' object cannot be interpreted as an integer");
        };
    }

    static double toDouble(Object v) {
        return switch (v) {
            case null -> throw typeError("must be real number, not NoneType");
            case Double d -> d;
            case Long l -> l;
            case Boolean b -> b ? 1 : 0;
            case BigInteger b -> b.doubleValue();
            default -> throw typeError("must be real number, not " + typeName(v));
        };
    }

    // ---- truthiness, str(), repr() ----

    static boolean truthy(Object v) {
        return switch (v) {
            case null -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case BigInteger b -> b.signum() != 0;
            case Double d -> d != 0.0;
            case String s -> !s.isEmpty();
            case List<?> l -> !l.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            case DictView d -> !d.items().isEmpty();
            case Undefined u -> false;
            default -> true;
        };
    }

    /** Python's {@code str(v)}, which is how {@code {{ v }}} renders a value. */
    static String str(Object v) {
        return switch (v) {
            case null -> "None";
            case String s -> s;
            case Undefined u -> "";
            default -> repr(v);
        };
    }

    static String repr(Object v) {
        return switch (v) {
            case null -> "None";
            case String s -> stringRepr(s);
            case Boolean b -> b ? "True" : "False";
            case Long l -> l.toString();
            case BigInteger b -> b.toString();
            case Double d -> floatRepr(d);
            case PyTuple t -> {
                StringBuilder sb = new StringBuilder("(");
                for (int i = 0; i < t.size(); i++) sb.append(i > 0 ? ", " : "").append(repr(t.get(i)));
                yield sb.append(t.size() == 1 ? ",)" : ")").toString();
            }
            case List<?> l -> {
                StringBuilder sb = new StringBuilder("[");
                for (int i = 0; i < l.size(); i++) sb.append(i > 0 ? ", " : "").append(repr(l.get(i)));
                yield sb.append(']').toString();
            }
            case Map<?, ?> m -> {
                StringBuilder sb = new StringBuilder("{");
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    sb.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                    first = false;
                }
                yield sb.append('}').toString();
            }
            case DictView d -> d.kind() + "(" + repr(d.items()) + ")";
            case Undefined u -> "Undefined";
            case Namespace n -> "<Namespace " + repr(n.attributes()) + ">";
            case LoopContext l -> "<LoopContext " + (l.index0() + 1) + "/" + l.length() + ">";
            case Callable c -> c.describe();
            default -> v.toString();
        };
    }

    /** Python's repr of a float: the shortest round-tripping digits, exponent form below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = exact.unscaledValue().toString();
        int decimalPoint = digits.length() - exact.scale(); // value = 0.<digits> * 10^decimalPoint
        StringBuilder sb = new StringBuilder(d < 0 ? "-" : "");
        if (decimalPoint <= -4 || decimalPoint > 16) {
            sb.append(digits.charAt(0));
            if (digits.length() > 1) sb.append('.').append(digits, 1, digits.length());
            int exponent = decimalPoint - 1;
            sb.append('e').append(exponent < 0 ? '-' : '+');
            if (Math.abs(exponent) < 10) sb.append('0');
            sb.append(Math.abs(exponent));
        } else if (decimalPoint <= 0) {
            sb.append("0.").append("0".repeat(-decimalPoint)).append(digits);
        } else if (decimalPoint >= digits.length()) {
            sb.append(digits).append("0".repeat(decimalPoint - digits.length())).append(".0");
        } else {
            sb.append(digits, 0, decimalPoint).append('.').append(digits, decimalPoint, digits.length());
        }
        return sb.toString();
    }

    static String stringRepr(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder(s.length() + 2).append(quote);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            switch (cp) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (cp == quote) {
                        sb.append('\\').append((char) cp);
                    } else if (isPrintable(cp)) {
                        sb.appendCodePoint(cp);
                    } else if (cp < 0x100) {
                        sb.append(String.format("\\x%02x", cp));
                    } else if (cp < 0x10000) {
                        sb.append(String.format("\\u%04x", cp));
                    } else {
                        sb.append(String.format("\\U%08x", cp));
                    }
                }
            }
        }
        return sb.append(quote).toString();
    }

    /** Python's str.isprintable() for one character. */
    private static boolean isPrintable(int cp) {
        if (cp == ' ') return true;
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED,
                 Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }

    // ---- equality and ordering ----

    static boolean eq(Object a, Object b) {
        if (a == b) return true;
        if (a == null || b == null) return false;
        if (isNumber(a) && isNumber(b)) {
            if (isIntLike(a) && isIntLike(b)) return bigInt(a).equals(bigInt(b));
            return toDouble(a) == toDouble(b);
        }
        if (a instanceof String s) return s.equals(b);
        if (a instanceof List<?> l && b instanceof List<?> m) {
            if ((a instanceof PyTuple) != (b instanceof PyTuple) || l.size() != m.size()) return false;
            for (int i = 0; i < l.size(); i++) if (!eq(l.get(i), m.get(i))) return false;
            return true;
        }
        if (a instanceof Map<?, ?> l && b instanceof Map<?, ?> m) {
            if (l.size() != m.size()) return false;
            for (Map.Entry<?, ?> e : l.entrySet()) {
                Object other = dictGet(m, e.getKey());
                if (other == Args.MISSING || !eq(e.getValue(), other)) return false;
            }
            return true;
        }
        if (a instanceof Undefined && b instanceof Undefined) return true;
        return false;
    }

    /** Python's ordering; {@code op} names the operator for the error message of incomparable types. */
    static int compare(Object a, Object b, String op) {
        if (a instanceof Undefined u) throw u.error();
        if (b instanceof Undefined u) throw u.error();
        if (isNumber(a) && isNumber(b)) {
            if (isIntLike(a) && isIntLike(b)) return bigInt(a).compareTo(bigInt(b));
            return Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof String x && b instanceof String y) return compareCodePoints(x, y);
        if (a instanceof List<?> x && b instanceof List<?> y && (a instanceof PyTuple) == (b instanceof PyTuple)) {
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!eq(x.get(i), y.get(i))) return compare(x.get(i), y.get(i), op);
            }
            return Integer.compare(x.size(), y.size());
        }
        throw typeError("'" + op + "' not supported between instances of '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    private static int compareCodePoints(String x, String y) {
        int i = 0;
        int j = 0;
        while (i < x.length() && j < y.length()) {
            int a = x.codePointAt(i);
            int b = y.codePointAt(j);
            if (a != b) return Integer.compare(a, b);
            i += Character.charCount(a);
            j += Character.charCount(b);
        }
        return Boolean.compare(i < x.length(), j < y.length());
    }

    // ---- containers ----

    /** The value for a dict key with Python's key equality (1 == 1.0 == True), or {@link Args#MISSING}. */
    static Object dictGet(Map<?, ?> map, Object key) {
        if (key instanceof String || key == null) {
            return map.containsKey(key) ? map.get(key) : Args.MISSING;
        }
        if (map.containsKey(key)) return map.get(key);
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String) && eq(e.getKey(), key)) return e.getValue();
        }
        return Args.MISSING;
    }

    /** Python's {@code d[key] = value}: an existing equal key (1 == 1.0 == True) keeps its place and spelling. */
    static void dictPut(Map<Object, Object> map, Object key, Object value) {
        if (!(key instanceof String) && key != null && !map.containsKey(key)) {
            for (Map.Entry<Object, Object> e : map.entrySet()) {
                if (!(e.getKey() instanceof String) && eq(e.getKey(), key)) {
                    e.setValue(value);
                    return;
                }
            }
        }
        map.put(key, value);
    }

    static int length(Object v) {
        return switch (v) {
            case null -> throw typeError("object of type 'NoneType' has no len()");
            case String s -> s.codePointCount(0, s.length());
            case List<?> l -> l.size();
            case Map<?, ?> m -> m.size();
            case DictView d -> d.items().size();
            case Undefined u -> 0;
            default -> throw typeError("object of type '" + typeName(v) + "' has no len()");
        };
    }

    /** The items a for-loop (or {@code list()}) visits: list elements, dict keys, string characters. */
    static List<Object> iterate(Object v) {
        return switch (v) {
            case null -> throw typeError("'NoneType' object is not iterable");
            case List<?> l -> (List<Object>) l;
            case Map<?, ?> m -> new ArrayList<>(m.keySet());
            case DictView d -> d.items();
            case String s -> characters(s);
            case Undefined u -> List.of();
            default -> throw typeError("'" + typeName(v) + "' object is not iterable");
        };
    }

    static List<Object> characters(String s) {
        List<Object> chars = new ArrayList<>(s.length());
        s.codePoints().forEach(cp -> chars.add(Character.toString(cp)));
        return chars;
    }

    /** Python's {@code item in container}. */
    static boolean contains(Object container, Object item) {
        return switch (container) {
            case null -> throw typeError("argument of type 'NoneType' is not iterable");
            case String s -> {
                if (item instanceof String sub) yield s.contains(sub);
                if (item instanceof Undefined u) throw u.error();
                throw typeError("'in <string>' requires string as left operand, not " + typeName(item));
            }
            case List<?> l -> {
                for (Object o : l) if (eq(o, item)) yield true;
                yield false;
            }
            case Map<?, ?> m -> dictGet(m, item) != Args.MISSING;
            case DictView d -> contains(d.items(), item);
            case Undefined u -> false;
            default -> throw typeError("argument of type '" + typeName(container) + "' is not iterable");
        };
    }

    /** Jinja's {@code obj.name}: a Python attribute (e.g. a method) first, then the item {@code obj['name']}. */
    static Object getAttr(Object obj, String name) {
        if (obj instanceof Undefined u) throw u.error();
        Object attribute = attribute(obj, name);
        if (attribute != Args.MISSING) return attribute;
        Object item = item(obj, name);
        return item != Args.MISSING ? item : Undefined.attribute(obj, name);
    }

    /** Jinja's {@code obj[key]}: the item first, then (for string keys) a Python attribute. */
    static Object getItem(Object obj, Object key) {
        if (obj instanceof Undefined u) throw u.error();
        Object item = item(obj, key);
        if (item != Args.MISSING) return item;
        if (key instanceof String name) {
            Object attribute = attribute(obj, name);
            if (attribute != Args.MISSING) return attribute;
            return Undefined.attribute(obj, name);
        }
        return Undefined.element(obj, key);
    }

    private static Object attribute(Object obj, String name) {
        return switch (obj) {
            case null -> Args.MISSING;
            case Namespace ns -> ns.attributes().containsKey(name) ? ns.get(name) : Args.MISSING;
            case LoopContext loop -> loop.attribute(name);
            default -> BuiltinMethods.lookup(obj, name);
        };
    }

    private static Object item(Object obj, Object key) {
        if (obj instanceof Map<?, ?> m) return dictGet(m, key);
        if (obj instanceof List<?> || obj instanceof String) {
            if (key instanceof SliceValue s) return slice(obj, s);
            if (!isIntLike(key)) return Args.MISSING;
            int size = length(obj);
            long i = toLong(key);
            if (i < 0) i += size;
            if (i < 0 || i >= size) return Args.MISSING;
            if (obj instanceof List<?> l) return l.get((int) i);
            String s = (String) obj;
            return Character.toString(s.codePointAt(s.offsetByCodePoints(0, (int) i)));
        }
        return Args.MISSING;
    }

    /** A slice {@code [start:stop:step]} as an index value; null parts are omitted. */
    record SliceValue(Object start, Object stop, Object step) {}

    static Object slice(Object obj, SliceValue s) {
        int size = length(obj);
        long step = s.step() == null ? 1 : sliceIndex(s.step());
        if (step == 0) throw new TemplateException("slice step cannot be zero");
        long start = s.start() == null ? (step < 0 ? size - 1 : 0) : clampSliceBound(sliceIndex(s.start()), size, step);
        long stop = s.stop() == null ? (step < 0 ? -1 : size) : clampSliceBound(sliceIndex(s.stop()), size, step);
        List<Object> items = obj instanceof String str ? characters(str) : (List<Object>) obj;
        List<Object> out = new ArrayList<>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) out.add(items.get((int) i));
        if (obj instanceof String) {
            StringBuilder sb = new StringBuilder();
            for (Object c : out) sb.append((String) c);
            return sb.toString();
        }
        return obj instanceof PyTuple ? new PyTuple(out) : out;
    }

    private static long sliceIndex(Object v) {
        if (!isIntLike(v)) throw typeError("slice indices must be integers or None");
        return toLong(v);
    }

    private static long clampSliceBound(long i, int size, long step) {
        if (i < 0) {
            i += size;
            if (i < 0) i = step < 0 ? -1 : 0;
        } else if (i >= size) {
            i = step < 0 ? size - 1 : size;
        }
        return i;
    }

    // ---- arithmetic ----

    static Object binary(String op, Object a, Object b, Limits limits) {
        if (a instanceof Undefined u) throw u.error();
        if (b instanceof Undefined u) throw u.error();
        return switch (op) {
            case "+" -> add(a, b, limits);
            case "-" -> arithmetic(op, a, b);
            case "*" -> multiply(a, b, limits);
            case "/" -> {
                requireNumbers(op, a, b);
                double divisor = toDouble(b);
                if (divisor == 0) throw new TemplateException("division by zero");
                yield toDouble(a) / divisor;
            }
            case "//", "%" -> {
                if (op.equals("%") && a instanceof String format) yield Format.percent(format, b);
                yield arithmetic(op, a, b);
            }
            case "**" -> power(a, b);
            default -> throw new IllegalStateException("unknown operator " + op);
        };
    }

    private static void requireNumbers(String op, Object a, Object b) {
        if (!isNumber(a) || !isNumber(b)) {
            throw typeError("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '" + typeName(b) + "'");
        }
    }

    private static Object add(Object a, Object b, Limits limits) {
        if (a instanceof String x) {
            if (!(b instanceof String y)) {
                throw typeError("can only concatenate str (not \"" + typeName(b) + "\") to str");
            }
            limits.checkLength(x.length() + (long) y.length());
            return x + y;
        }
        if (a instanceof List<?> x) {
            if (!(b instanceof List<?> y) || (a instanceof PyTuple) != (b instanceof PyTuple)) {
                throw typeError("can only concatenate " + typeName(a) + " (not \"" + typeName(b) + "\") to " + typeName(a));
            }
            limits.checkItems(x.size() + (long) y.size());
            List<Object> joined = new ArrayList<>(x);
            joined.addAll(y);
            return a instanceof PyTuple ? new PyTuple(joined) : joined;
        }
        return arithmetic("+", a, b);
    }

    private static Object multiply(Object a, Object b, Limits limits) {
        if ((a instanceof String || a instanceof List) && isIntLike(b)) return repeat(a, toLong(b), limits);
        if ((b instanceof String || b instanceof List) && isIntLike(a)) return repeat(b, toLong(a), limits);
        return arithmetic("*", a, b);
    }

    private static Object repeat(Object seq, long times, Limits limits) {
        long n = Math.max(0, times);
        if (seq instanceof String s) {
            limits.checkLength(s.length() * n);
            return s.repeat((int) n);
        }
        List<?> l = (List<?>) seq;
        limits.checkItems(l.size() * n);
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < n; i++) out.addAll(l);
        return seq instanceof PyTuple ? new PyTuple(out) : out;
    }

    private static Object arithmetic(String op, Object a, Object b) {
        requireNumbers(op, a, b);
        if (isIntLike(a) && isIntLike(b)) {
            BigInteger x = bigInt(a);
            BigInteger y = bigInt(b);
            return intValue(switch (op) {
                case "+" -> x.add(y);
                case "-" -> x.subtract(y);
                case "*" -> x.multiply(y);
                case "//", "%" -> {
                    if (y.signum() == 0) throw new TemplateException("integer division or modulo by zero");
                    BigInteger[] qr = x.divideAndRemainder(y);
                    boolean adjust = qr[1].signum() != 0 && qr[1].signum() != y.signum();
                    yield op.equals("//") ? (adjust ? qr[0].subtract(BigInteger.ONE) : qr[0])
                                          : (adjust ? qr[1].add(y) : qr[1]);
                }
                default -> throw new IllegalStateException(op);
            });
        }
        double x = toDouble(a);
        double y = toDouble(b);
        return switch (op) {
            case "+" -> x + y;
            case "-" -> x - y;
            case "*" -> x * y;
            case "//" -> {
                if (y == 0) throw new TemplateException("float floor division by zero");
                yield Math.floor(x / y);
            }
            case "%" -> {
                if (y == 0) throw new TemplateException("float modulo by zero");
                double r = x % y;
                yield (r != 0 && (r < 0) != (y < 0)) ? r + y : r;
            }
            default -> throw new IllegalStateException(op);
        };
    }

    private static Object power(Object a, Object b) {
        requireNumbers("**", a, b);
        if (isIntLike(a) && isIntLike(b) && toLong(b) >= 0) {
            long exponent = toLong(b);
            BigInteger base = bigInt(a);
            if (exponent > 10_000 && base.abs().compareTo(BigInteger.ONE) > 0) {
                throw new TemplateException("integer power too large");
            }
            return intValue(base.pow((int) exponent));
        }
        return Math.pow(toDouble(a), toDouble(b));
    }

    static Object negate(Object v) {
        if (v instanceof Undefined u) throw u.error();
        if (isIntLike(v)) return intValue(bigInt(v).negate());
        if (v instanceof Double d) return -d;
        throw typeError("bad operand type for unary -: '" + typeName(v) + "'");
    }

    static Object plus(Object v) {
        if (v instanceof Undefined u) throw u.error();
        if (isIntLike(v)) return intValue(bigInt(v));
        if (v instanceof Double) return v;
        throw typeError("bad operand type for unary +: '" + typeName(v) + "'");
    }

    // ---- whitespace, as str.isspace() / str.strip() ----

    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        if (left) {
            while (start < end && stripped(s.codePointAt(start), chars)) start += Character.charCount(s.codePointAt(start));
        }
        if (right) {
            while (end > start && stripped(s.codePointBefore(end), chars)) end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }

    private static boolean stripped(int cp, String chars) {
        return chars == null ? isSpace(cp) : chars.indexOf(cp) >= 0;
    }

    static String rstrip(String s) {
        return strip(s, null, false, true);
    }
}
