package dev.quill.server.template;

import java.util.List;
import java.util.function.Function;

/** The {@code loop} variable inside a for-loop: position, neighbours, {@code cycle()}, {@code changed()}. */
final class LoopContext {

    private final List<Object> items;
    private final int depth0;
    /** Renders the loop body over other items ({@code loop(children)} in a recursive loop), or null. */
    private final Function<Object, String> recurse;
    private int index0;
    private PyTuple lastChanged;

    LoopContext(List<Object> items, int depth0, Function<Object, String> recurse) {
        this.items = items;
        this.depth0 = depth0;
        this.recurse = recurse;
    }

    void advance(int index0) {
        this.index0 = index0;
    }

    int index0() {
        return index0;
    }

    int length() {
        return items.size();
    }

    Function<Object, String> recurse() {
        return recurse;
    }

    /** The named attribute, or {@link Args#MISSING}. */
    Object attribute(String name) {
        int length = items.size();
        return switch (name) {
            case "index" -> (long) index0 + 1;
            case "index0" -> (long) index0;
            case "revindex" -> (long) (length - index0);
            case "revindex0" -> (long) (length - index0 - 1);
            case "first" -> index0 == 0;
            case "last" -> index0 == length - 1;
            case "length" -> (long) length;
            case "depth" -> (long) depth0 + 1;
            case "depth0" -> (long) depth0;
            case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("there is no previous item");
            case "nextitem" -> index0 + 1 < length ? items.get(index0 + 1) : new Undefined("there is no next item");
            case "cycle" -> method("cycle", args -> {
                if (args.positional().isEmpty()) throw new TemplateException("no items for cycling given");
                return args.positional().get(index0 % args.positional().size());
            });
            case "changed" -> method("changed", args -> {
                PyTuple values = new PyTuple(args.positional());
                if (lastChanged != null && Py.eq(values, lastChanged)) return false;
                lastChanged = values;
                return true;
            });
            default -> Args.MISSING;
        };
    }

    private static Callable method(String name, Function<Args, Object> body) {
        return new Callable() {
            @Override
            public Object call(Renderer renderer, Args args) {
                return body.apply(args);
            }

            @Override
            public String describe() {
                return "<bound method LoopContext." + name + ">";
            }
        };
    }
}
