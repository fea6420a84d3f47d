package dev.quill.server.template;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;

/** An immutable Python tuple: a list that prints as {@code (a, b)} and never equals a list. */
final class PyTuple extends AbstractList<Object> {

    private final Object[] items;

    PyTuple(List<?> items) {
        this.items = items.toArray();
    }

    static PyTuple of(Object... items) {
        return new PyTuple(Arrays.asList(items));
    }

    @Override
    public Object get(int index) {
        return items[index];
    }

    @Override
    public int size() {
        return items.length;
    }
}
