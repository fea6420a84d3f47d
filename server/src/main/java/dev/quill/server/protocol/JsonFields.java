package dev.quill.server.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the fields of one JSON object, checking each one's type and range and remembering which fields were read,
 * so that what is left over is exactly the set of unknown fields. Every failure is a 422 {@link ApiException} whose
 * {@code loc} points at the field and whose {@code value} is what was sent. A JSON {@code null} counts as absent.
 */
public final class JsonFields {

    private final ObjectNode node;
    private final List<Object> loc;
    private final Set<String> read = new LinkedHashSet<>();

    public JsonFields(ObjectNode node, List<Object> loc) {
        this.node = node;
        this.loc = List.copyOf(loc);
    }

    /** Reads {@code value} as an object, or fails naming {@code loc}. */
    public static JsonFields object(JsonNode value, List<Object> loc) {
        if (!(value instanceof ObjectNode object)) throw ApiException.invalid(loc, value, Loc.param(loc) + " must be an object");
        return new JsonFields(object, loc);
    }

    public List<Object> loc() {
        return loc;
    }

    public List<Object> loc(String field) {
        return Loc.append(loc, field);
    }

    /** The raw value, or null when absent or JSON null. Marks the field as read. */
    public JsonNode raw(String field) {
        read.add(field);
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value;
    }

    public boolean has(String field) {
        JsonNode value = node.get(field);
        return value != null && !value.isNull();
    }

    public JsonNode required(String field) {
        JsonNode value = raw(field);
        if (value == null) throw ApiException.missing(loc(field));
        return value;
    }

    /** Fields present in the object that nobody read, in document order. */
    public List<String> unread() {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!read.contains(name)) out.add(name);
        }
        return out;
    }

    public ObjectNode node() {
        return node;
    }

    public String string(String field) {
        JsonNode value = raw(field);
        return value == null ? null : string(value, loc(field));
    }

    public String requiredString(String field) {
        return string(required(field), loc(field));
    }

    public String oneOf(String field, Set<String> allowed) {
        String value = string(field);
        if (value != null && !allowed.contains(value)) {
            throw ApiException.invalid(loc(field), node.get(field),
                    Loc.param(loc(field)) + " must be one of " + String.join(", ", allowed) + ", got '" + value + "'");
        }
        return value;
    }

    public Boolean bool(String field) {
        JsonNode value = raw(field);
        if (value == null) return null;
        if (!value.isBoolean()) throw ApiException.invalid(loc(field), value, Loc.param(loc(field)) + " must be a boolean");
        return value.booleanValue();
    }

    public boolean bool(String field, boolean fallback) {
        Boolean value = bool(field);
        return value == null ? fallback : value;
    }

    /** A number in [min, max]. */
    public Double number(String field, double min, double max) {
        JsonNode value = raw(field);
        return value == null ? null : number(value, loc(field), min, max);
    }

    /** An integer in [min, max] (an integral float such as 2.0 is accepted). */
    public Long integer(String field, long min, long max) {
        JsonNode value = raw(field);
        return value == null ? null : integer(value, loc(field), min, max);
    }

    public Integer int32(String field, int min, int max) {
        Long value = integer(field, min, max);
        return value == null ? null : value.intValue();
    }

    public static String string(JsonNode value, List<Object> loc) {
        if (!value.isTextual()) throw ApiException.invalid(loc, value, Loc.param(loc) + " must be a string");
        return value.textValue();
    }

    public static double number(JsonNode value, List<Object> loc, double min, double max) {
        if (!value.isNumber()) throw ApiException.invalid(loc, value, Loc.param(loc) + " must be a number");
        double d = value.doubleValue();
        if (!(d >= min && d <= max)) {
            throw ApiException.invalid(loc, value, Loc.param(loc) + " must be between " + fmt(min) + " and " + fmt(max)
                    + ", got " + value.asText());
        }
        return d;
    }

    public static long integer(JsonNode value, List<Object> loc, long min, long max) {
        BigInteger integer = integral(value);
        if (integer == null) throw ApiException.invalid(loc, value, Loc.param(loc) + " must be an integer");
        if (integer.compareTo(BigInteger.valueOf(min)) < 0 || integer.compareTo(BigInteger.valueOf(max)) > 0) {
            // A one-sided bound where the other side is only the 64-bit limit reads better, but it must be the side
            // the value broke (a seed of 2^63 is too large, not too small).
            boolean tooSmall = integer.compareTo(BigInteger.valueOf(min)) < 0;
            String range = tooSmall && max == Long.MAX_VALUE ? "at least " + min
                    : !tooSmall && min == Long.MIN_VALUE ? "at most " + max
                    : "between " + min + " and " + max;
            throw ApiException.invalid(loc, value, Loc.param(loc) + " must be " + range + ", got " + plain(value));
        }
        return integer.longValue();
    }

    /** A number as written in decimal (1e19 as 10000000000000000000, not Java's 1.0E19). */
    private static String plain(JsonNode value) {
        return value.isFloatingPointNumber() ? value.decimalValue().stripTrailingZeros().toPlainString() : value.asText();
    }

    private static BigInteger integral(JsonNode value) {
        if (value.isIntegralNumber()) return value.bigIntegerValue();
        if (value.isNumber() && Double.isFinite(value.doubleValue())) {
            BigDecimal d = value.decimalValue();
            try {
                return d.toBigIntegerExact();
            } catch (ArithmeticException notIntegral) {
                return null;
            }
        }
        return null;
    }

    private static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf((long) d) : String.valueOf(d);
    }
}
