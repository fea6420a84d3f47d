package dev.quill.server.template;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** Jinja2's built-in tests ({@code x is defined}, {@code x is string}, {@code x is equalto y}, ...). */
final class Tests {

    private Tests() {}

    static boolean apply(Renderer r, String name, Object value, Args args) {
        return switch (name) {
            case "defined" -> noArgs(args, name, !(value instanceof Undefined));
            case "undefined" -> noArgs(args, name, value instanceof Undefined);
            case "none" -> noArgs(args, name, value == null);
            case "boolean" -> noArgs(args, name, value instanceof Boolean);
            case "true" -> noArgs(args, name, Boolean.TRUE.equals(value));
            case "false" -> noArgs(args, name, Boolean.FALSE.equals(value));
            case "string" -> noArgs(args, name, value instanceof String);
            case "number" -> noArgs(args, name, Py.isNumber(value));
            case "integer" -> noArgs(args, name, Py.isInt(value));
            case "float" -> noArgs(args, name, value instanceof Double);
            case "mapping" -> noArgs(args, name, value instanceof Map);
            case "sequence" -> noArgs(args, name, value instanceof String || value instanceof List
                    || value instanceof Map || value instanceof Undefined);
            case "iterable" -> noArgs(args, name, value instanceof String || value instanceof List
                    || value instanceof Map || value instanceof DictView || value instanceof Undefined);
            case "callable" -> noArgs(args, name, value instanceof Callable
                    || (value instanceof LoopContext l && l.recurse() != null));
            case "lower" -> noArgs(args, name, isCase(Py.str(value), false));
            case "upper" -> noArgs(args, name, isCase(Py.str(value), true));
            case "escaped" -> noArgs(args, name, false);
            case "even", "odd" -> {
                args.bind(name);
                if (!Py.isNumber(value)) {
                    throw new TemplateException("unsupported operand type(s) for %: '" + Py.typeName(value) + "' and 'int'");
                }
                Object remainder = Py.binary("%", value, 2L, r.limits());
                yield Py.eq(remainder, name.equals("even") ? 0L : 1L);
            }
            case "divisibleby" -> Py.eq(Py.binary("%", value, operand(args, name), r.limits()), 0L);
            case "eq", "equalto", "==" -> Py.eq(value, operand(args, name));
            case "ne", "!=" -> !Py.eq(value, operand(args, name));
            case "lt", "lessthan", "<" -> Py.compare(value, operand(args, name), "<") < 0;
            case "le", "<=" -> Py.compare(value, operand(args, name), "<=") <= 0;
            case "gt", "greaterthan", ">" -> Py.compare(value, operand(args, name), ">") > 0;
            case "ge", ">=" -> Py.compare(value, operand(args, name), ">=") >= 0;
            case "in" -> Py.contains(operand(args, name), value);
            case "sameas" -> sameAs(value, operand(args, name));
            case "filter" -> noArgs(args, name, value instanceof String s && Filters.NAMES.contains(s));
            case "test" -> noArgs(args, name, value instanceof String s && NAMES.contains(s));
            default -> throw new TemplateException("No test named '" + name + "'.");
        };
    }

    static final Set<String> NAMES = Set.of(
            "defined", "undefined", "none", "boolean", "true", "false", "string", "number", "integer", "float",
            "mapping", "sequence", "iterable", "callable", "lower", "upper", "escaped", "even", "odd", "divisibleby",
            "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge",
            ">=", "in", "sameas", "filter", "test");

    private static boolean noArgs(Args args, String name, boolean result) {
        args.bind(name);
        return result;
    }

    private static Object operand(Args args, String name) {
        Object other = args.bind(name, "other")[0];
        if (other == Args.MISSING) throw new TemplateException("test '" + name + "' requires an argument");
        return other;
    }

    private static boolean isCase(String s, boolean upper) {
        boolean cased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (upper ? Character.isLowerCase(cp) || Character.isTitleCase(cp)
                      : Character.isUpperCase(cp) || Character.isTitleCase(cp)) {
                return false;
            }
            cased |= Character.isUpperCase(cp) || Character.isLowerCase(cp);
        }
        return cased;
    }

    /** Python's {@code is}: identity; None, booleans and small ints are singletons in CPython. */
    private static boolean sameAs(Object a, Object b) {
        if (a == null || b == null || a instanceof Boolean || b instanceof Boolean) return a == b || (a != null && a.equals(b));
        if (a instanceof Long x && b instanceof Long y) return x.equals(y) && x >= -5 && x <= 256;
        return a == b;
    }
}
