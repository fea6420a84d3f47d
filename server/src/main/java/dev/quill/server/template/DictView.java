package dev.quill.server.template;

import java.util.List;

/**
 * What {@code dict.items()}, {@code keys()} and {@code values()} return: iterable and sized, printed as
 * {@code dict_items([...])}, but not indexable and not JSON-serializable, as in Python.
 *
 * @param kind "dict_items", "dict_keys" or "dict_values"
 */
record DictView(String kind, List<Object> items) {}
