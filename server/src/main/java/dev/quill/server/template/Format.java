package dev.quill.server.template;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;

/** Python string formatting: {@code "%s" % value} (and the {@code format} filter) and {@code str.format()}. */
final class Format {

    private Format() {}

    /** {@code format % args}: a tuple supplies positional values, a dict {@code %(name)s} values. */
    static String percent(String format, Object args) {
        List<?> positional = args instanceof PyTuple t ? t : List.of();
        boolean single = !(args instanceof PyTuple);
        Map<?, ?> mapping = args instanceof Map<?, ?> m ? m : null;
        StringBuilder out = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (++i >= format.length()) throw new TemplateException("incomplete format");
            Object value = null;
            boolean haveValue = false;
            if (format.charAt(i) == '(') {
                int close = format.indexOf(')', i);
                if (close < 0 || mapping == null) throw new TemplateException("format requires a mapping");
                Object v = Py.dictGet(mapping, format.substring(i + 1, close));
                if (v == Args.MISSING) throw new TemplateException("KeyError: " + Py.repr(format.substring(i + 1, close)));
                value = v;
                haveValue = true;
                i = close + 1;
            }
            int specStart = i;
            while (i < format.length() && "-+ #0123456789.".indexOf(format.charAt(i)) >= 0) i++;
            if (i >= format.length()) throw new TemplateException("incomplete format");
            String flags = format.substring(specStart, i);
            char type = format.charAt(i);
            if (type == '%') {
                out.append('%');
                continue;
            }
            if (!haveValue) {
                if (single) {
                    if (next++ > 0) throw new TemplateException("not enough arguments for format string");
                    value = args;
                } else {
                    if (next >= positional.size()) throw new TemplateException("not enough arguments for format string");
                    value = positional.get(next++);
                }
            }
            out.append(conversion(flags, type, value));
        }
        if (!single && mapping == null && next < positional.size()) {
            throw new TemplateException("not all arguments converted during string formatting");
        }
        return out.toString();
    }

    private static String conversion(String flags, char type, Object value) {
        boolean left = flags.contains("-");
        boolean zero = flags.contains("0") && !left;
        String sign = flags.contains("+") ? "+" : flags.contains(" ") ? " " : "";
        String numbers = flags.replaceAll("^[-+ #0]*", "");
        int dot = numbers.indexOf('.');
        int width = parseOr(dot < 0 ? numbers : numbers.substring(0, dot), 0);
        int precision = dot < 0 ? -1 : parseOr(numbers.substring(dot + 1), 0);
        String body = switch (type) {
            case 's' -> precisionCut(Py.str(value), precision);
            case 'r', 'a' -> precisionCut(Py.repr(value), precision);
            case 'd', 'i', 'u' -> signed(Py.bigIntOf(value).toString(), sign);
            case 'f', 'F' -> signed(fixed(Py.toDouble(requireNumber(value)), precision < 0 ? 6 : precision), sign);
            case 'x' -> signed(Py.bigIntOf(value).toString(16), sign);
            case 'X' -> signed(Py.bigIntOf(value).toString(16).toUpperCase(), sign);
            case 'o' -> signed(Py.bigIntOf(value).toString(8), sign);
            case 'c' -> value instanceof String s ? s : Character.toString((int) Py.toLong(value));
            default -> throw new TemplateException("unsupported format character '" + type + "'");
        };
        return pad(body, width, left ? '<' : '>', zero && "dfFiuxXo".indexOf(type) >= 0 ? '0' : ' ');
    }

    private static Object requireNumber(Object v) {
        if (!Py.isNumber(v)) throw new TemplateException("must be real number, not " + Py.typeName(v));
        return v;
    }

    private static String signed(String digits, String sign) {
        return digits.startsWith("-") ? digits : sign + digits;
    }

    private static String precisionCut(String s, int precision) {
        return precision >= 0 && precision < s.length() ? s.substring(0, precision) : s;
    }

    static String fixed(double v, int precision) {
        if (Double.isNaN(v) || Double.isInfinite(v)) return Py.floatRepr(v);
        return new BigDecimal(v).setScale(precision, RoundingMode.HALF_EVEN).toPlainString();
    }

    private static int parseOr(String s, int fallback) {
        return s.isEmpty() ? fallback : Integer.parseInt(s);
    }

    private static String pad(String s, int width, char align, char fill) {
        int missing = width - s.codePointCount(0, s.length());
        if (missing <= 0) return s;
        if (fill == '0' && (s.startsWith("-") || s.startsWith("+") || s.startsWith(" "))) {
            return s.charAt(0) + "0".repeat(missing) + s.substring(1);
        }
        String padding = String.valueOf(fill).repeat(missing);
        return switch (align) {
            case '<' -> s + padding;
            case '^' -> String.valueOf(fill).repeat(missing / 2) + s + String.valueOf(fill).repeat(missing - missing / 2);
            default -> padding + s;
        };
    }

    /** {@code str.format(*args, **kwargs)} with {@code {}}, {@code {0}}, {@code {name}} and simple format specs. */
    static String braces(String format, Args args) {
        StringBuilder out = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c == '}' ) {
                if (i + 1 < format.length() && format.charAt(i + 1) == '}') i++;
                else throw new TemplateException("Single '}' encountered in format string");
                out.append('}');
                continue;
            }
            if (c != '{') {
                out.append(c);
                continue;
            }
            if (i + 1 < format.length() && format.charAt(i + 1) == '{') {
                out.append('{');
                i++;
                continue;
            }
            int close = format.indexOf('}', i);
            if (close < 0) throw new TemplateException("Single '{' encountered in format string");
            String field = format.substring(i + 1, close);
            int colon = field.indexOf(':');
            String name = colon < 0 ? field : field.substring(0, colon);
            String spec = colon < 0 ? "" : field.substring(colon + 1);
            Object value;
            if (name.isEmpty()) {
                value = positional(args, auto++);
            } else if (name.chars().allMatch(Character::isDigit)) {
                value = positional(args, Integer.parseInt(name));
            } else {
                if (!args.keywords().containsKey(name)) throw new TemplateException("KeyError: " + Py.repr(name));
                value = args.keywords().get(name);
            }
            out.append(spec(value, spec));
            i = close;
        }
        return out.toString();
    }

    private static Object positional(Args args, int index) {
        if (index >= args.positional().size()) {
            throw new TemplateException("Replacement index " + index + " out of range for positional args tuple");
        }
        return args.positional().get(index);
    }

    /** A subset of Python's format-spec mini-language: [[fill]align][sign][0][width][.precision][type]. */
    private static String spec(Object value, String spec) {
        if (spec.isEmpty()) return Py.str(value);
        int i = 0;
        char fill = ' ';
        char align = 0;
        if (spec.length() > 1 && "<>^".indexOf(spec.charAt(1)) >= 0) {
            fill = spec.charAt(0);
            align = spec.charAt(1);
            i = 2;
        } else if ("<>^".indexOf(spec.charAt(0)) >= 0) {
            align = spec.charAt(0);
            i = 1;
        }
        String sign = "";
        if (i < spec.length() && "+- ".indexOf(spec.charAt(i)) >= 0) {
            sign = spec.charAt(i) == '-' ? "" : String.valueOf(spec.charAt(i));
            i++;
        }
        if (i < spec.length() && spec.charAt(i) == '0') {
            fill = '0';
            if (align == 0) align = '=';
            i++;
        }
        int start = i;
        while (i < spec.length() && Character.isDigit(spec.charAt(i))) i++;
        int width = parseOr(spec.substring(start, i), 0);
        int precision = -1;
        if (i < spec.length() && spec.charAt(i) == '.') {
            start = ++i;
            while (i < spec.length() && Character.isDigit(spec.charAt(i))) i++;
            precision = parseOr(spec.substring(start, i), 0);
        }
        char type = i < spec.length() ? spec.charAt(i++) : 0;
        if (i != spec.length()) throw new TemplateException("Invalid format specifier '" + spec + "'");
        String body = switch (type) {
            case 0 -> value instanceof Double d && precision >= 0 ? signed(fixed(d, precision), sign)
                    : Py.isNumber(value) ? signed(Py.str(value), sign) : precisionCut(Py.str(value), precision);
            case 's' -> precisionCut(Py.str(value), precision);
            case 'd' -> signed(Py.bigIntOf(value).toString(), sign);
            case 'f', 'F' -> signed(fixed(Py.toDouble(requireNumber(value)), precision < 0 ? 6 : precision), sign);
            case '%' -> signed(fixed(Py.toDouble(requireNumber(value)) * 100, precision < 0 ? 6 : precision), sign) + "%";
            default -> throw new TemplateException("Unknown format code '" + type + "'");
        };
        if (align == 0) align = Py.isNumber(value) ? '>' : '<';
        if (align == '=') return pad(body, width, '>', '0');
        return pad(body, width, align, fill);
    }
}
