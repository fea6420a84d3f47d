package dev.quill.engine.grammar;

import java.util.List;
import java.util.Objects;

/**
 * A grammar expression over Unicode text, the right-hand side of a {@link Grammar} rule. Structural equality: equal
 * expressions are compiled once and shared.
 */
public sealed interface Expr permits Expr.Literal, Chars, Expr.Ref, Expr.Seq, Expr.Alt, Expr.Repeat {

    /** No bound on a {@link Repeat}. */
    int UNBOUNDED = -1;

    /** Matches the empty text. */
    Expr EMPTY = new Seq(List.of());

    /** Exactly {@code text}. */
    record Literal(String text) implements Expr {
        public Literal {
            Objects.requireNonNull(text, "text");
        }

        @Override
        public String toString() {
            return GbnfParser.quote(text);
        }
    }

    /** The rule called {@code name}. */
    record Ref(String name) implements Expr {
        public Ref {
            Objects.requireNonNull(name, "name");
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The items one after another. */
    record Seq(List<Expr> items) implements Expr {
        public Seq {
            items = List.copyOf(items);
        }

        @Override
        public String toString() {
            if (items.isEmpty()) return "\"\"";
            StringBuilder b = new StringBuilder();
            for (Expr item : items) {
                if (!b.isEmpty()) b.append(' ');
                b.append(item instanceof Alt ? "(" + item + ")" : item.toString());
            }
            return b.toString();
        }
    }

    /** Any one of the options. No options: matches nothing. */
    record Alt(List<Expr> options) implements Expr {
        public Alt {
            options = List.copyOf(options);
        }

        @Override
        public String toString() {
            if (options.isEmpty()) return "[]"; // the empty class: matches nothing
            StringBuilder b = new StringBuilder();
            for (Expr option : options) {
                if (!b.isEmpty()) b.append(" | ");
                b.append(option);
            }
            return b.toString();
        }
    }

    /** {@code item} repeated {@code min} to {@code max} times ({@code max} may be {@link #UNBOUNDED}). */
    record Repeat(Expr item, int min, int max) implements Expr {
        public Repeat {
            Objects.requireNonNull(item, "item");
            if (min < 0 || (max != UNBOUNDED && max < min)) {
                throw new IllegalArgumentException("bad repetition bounds {" + min + "," + (max == UNBOUNDED ? "" : max) + "}");
            }
        }

        @Override
        public String toString() {
            String inner = item instanceof Seq || item instanceof Alt ? "(" + item + ")" : item.toString();
            if (min == 0 && max == UNBOUNDED) return inner + "*";
            if (min == 1 && max == UNBOUNDED) return inner + "+";
            if (min == 0 && max == 1) return inner + "?";
            if (min == max) return inner + "{" + min + "}";
            return inner + "{" + min + "," + (max == UNBOUNDED ? "" : max) + "}";
        }
    }

    static Expr literal(String text) {
        return new Literal(text);
    }

    static Expr ref(String name) {
        return new Ref(name);
    }

    /** The items in order; a single item is returned as is. */
    static Expr seq(Expr... items) {
        return items.length == 1 ? items[0] : new Seq(List.of(items));
    }

    static Expr seq(List<Expr> items) {
        return items.size() == 1 ? items.getFirst() : new Seq(items);
    }

    /** One of the options; a single option is returned as is. */
    static Expr alt(Expr... options) {
        return options.length == 1 ? options[0] : new Alt(List.of(options));
    }

    static Expr alt(List<Expr> options) {
        return options.size() == 1 ? options.getFirst() : new Alt(options);
    }

    static Expr optional(Expr item) {
        return new Repeat(item, 0, 1);
    }

    static Expr star(Expr item) {
        return new Repeat(item, 0, UNBOUNDED);
    }

    static Expr plus(Expr item) {
        return new Repeat(item, 1, UNBOUNDED);
    }

    static Expr repeat(Expr item, int min, int max) {
        return new Repeat(item, min, max);
    }
}
