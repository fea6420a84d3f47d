package dev.quill.engine.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * GGUF key/value metadata, in file order, with typed accessors.
 *
 * <p>Values are stored with their exact GGUF type so that a file can be written back unchanged. Java representations:
 * integer scalars of every width are {@link Long}; FLOAT32 is {@link Float}; FLOAT64 {@link Double}; BOOL
 * {@link Boolean}; STRING {@link String}. Arrays are primitive Java arrays: {@code int[]} for 8/16/32-bit integers,
 * {@code long[]} for 64-bit integers, {@code float[]}, {@code double[]}, {@code boolean[]}, {@code String[]}; an
 * array of arrays is {@code Object[]}.
 */
public final class Metadata {

    /** One metadata value: its GGUF type, the element type when it is an ARRAY, and the Java value. */
    public record Value(GgufValueType type, GgufValueType elementType, Object value) {}

    private final Map<String, Value> entries = new LinkedHashMap<>();

    public Metadata put(String key, GgufValueType type, Object value) {
        entries.put(key, new Value(type, null, value));
        return this;
    }

    public Metadata putArray(String key, GgufValueType elementType, Object array) {
        entries.put(key, new Value(GgufValueType.ARRAY, elementType, array));
        return this;
    }

    public Metadata putString(String key, String v) { return put(key, GgufValueType.STRING, v); }
    public Metadata putUInt32(String key, long v) { return put(key, GgufValueType.UINT32, v); }
    public Metadata putInt32(String key, long v) { return put(key, GgufValueType.INT32, v); }
    public Metadata putFloat32(String key, float v) { return put(key, GgufValueType.FLOAT32, v); }
    public Metadata putBool(String key, boolean v) { return put(key, GgufValueType.BOOL, v); }
    public Metadata putStrings(String key, String[] v) { return putArray(key, GgufValueType.STRING, v); }
    public Metadata putFloats(String key, float[] v) { return putArray(key, GgufValueType.FLOAT32, v); }
    public Metadata putInts(String key, int[] v) { return putArray(key, GgufValueType.INT32, v); }

    public boolean has(String key) { return entries.containsKey(key); }
    public Value raw(String key) { return entries.get(key); }
    public Set<String> keys() { return Collections.unmodifiableSet(entries.keySet()); }
    public Map<String, Value> entries() { return Collections.unmodifiableMap(entries); }
    public void remove(String key) { entries.remove(key); }

    private Value require(String key) {
        Value v = entries.get(key);
        if (v == null) throw new GgufException("missing metadata key '" + key + "'");
        return v;
    }

    public String getString(String key) {
        Value v = require(key);
        if (v.value() instanceof String s) return s;
        throw wrongType(key, "a string", v);
    }

    public Optional<String> findString(String key) {
        return has(key) ? Optional.of(getString(key)) : Optional.empty();
    }

    public long getLong(String key) {
        Value v = require(key);
        if (v.value() instanceof Long l) return l;
        if (v.value() instanceof Boolean b) return b ? 1 : 0;
        throw wrongType(key, "an integer", v);
    }

    public int getInt(String key) {
        long l = getLong(key);
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new GgufException("metadata key '" + key + "' = " + l + " does not fit in a 32-bit integer");
        }
        return (int) l;
    }

    public int getInt(String key, int dflt) { return has(key) ? getInt(key) : dflt; }

    public double getDouble(String key) {
        Value v = require(key);
        if (v.value() instanceof Float f) return f;
        if (v.value() instanceof Double d) return d;
        if (v.value() instanceof Long l) return l;
        throw wrongType(key, "a number", v);
    }

    public float getFloat(String key) { return (float) getDouble(key); }
    public float getFloat(String key, float dflt) { return has(key) ? getFloat(key) : dflt; }

    public boolean getBool(String key) {
        Value v = require(key);
        if (v.value() instanceof Boolean b) return b;
        if (v.value() instanceof Long l) return l != 0;
        throw wrongType(key, "a boolean", v);
    }

    public boolean getBool(String key, boolean dflt) { return has(key) ? getBool(key) : dflt; }

    public String[] getStringArray(String key) {
        Value v = require(key);
        if (v.value() instanceof String[] a) return a;
        throw wrongType(key, "an array of strings", v);
    }

    public float[] getFloatArray(String key) {
        Value v = require(key);
        if (v.value() instanceof float[] a) return a;
        if (v.value() instanceof double[] a) {
            float[] r = new float[a.length];
            for (int i = 0; i < a.length; i++) r[i] = (float) a[i];
            return r;
        }
        throw wrongType(key, "an array of floats", v);
    }

    public int[] getIntArray(String key) {
        Value v = require(key);
        if (v.value() instanceof int[] a) return a;
        if (v.value() instanceof long[] a) {
            int[] r = new int[a.length];
            for (int i = 0; i < a.length; i++) {
                if (a[i] < Integer.MIN_VALUE || a[i] > Integer.MAX_VALUE) {
                    throw new GgufException("metadata key '" + key + "'[" + i + "] = " + a[i] + " does not fit in 32 bits");
                }
                r[i] = (int) a[i];
            }
            return r;
        }
        throw wrongType(key, "an array of integers", v);
    }

    private static GgufException wrongType(String key, String expected, Value v) {
        String actual = v.type() == GgufValueType.ARRAY ? "ARRAY of " + v.elementType() : String.valueOf(v.type());
        return new GgufException("metadata key '" + key + "' should be " + expected + " but is " + actual);
    }
}
