package dev.quill.server.template;

import java.util.List;

/** The syntax tree of a compiled template: statements that produce output, and expressions that produce values. */
final class Ast {

    private Ast() {}

    /** A 1-based template position, for error messages. */
    record Pos(int line, int column) {}

    // ---- statements ----

    sealed interface Stmt {}

    /** Literal template text (whitespace control already applied). */
    record Text(String text) implements Stmt {}

    /** {@code {{ expr }}}. */
    record Output(Pos pos, Expr expr) implements Stmt {}

    /** {@code {% if %}...{% elif %}...{% else %}...{% endif %}}. */
    record If(Pos pos, List<Branch> branches, List<Stmt> orElse) implements Stmt {}

    record Branch(Expr test, List<Stmt> body) {}

    /** {@code {% for target in iterable if filter recursive %}...{% else %}...{% endfor %}}. */
    record For(Pos pos, Target target, Expr iterable, Expr filter, boolean recursive, List<Stmt> body,
               List<Stmt> orElse) implements Stmt {}

    /** {@code {% set target = value %}}. */
    record Assign(Pos pos, Target target, Expr value) implements Stmt {}

    /** {@code {% set ns.attribute = value %}}: the one way to carry state out of a loop. */
    record NamespaceAssign(Pos pos, String namespace, String attribute, Expr value) implements Stmt {}

    /** {@code {% set target | filters %}...{% endset %}}. */
    record AssignBlock(Pos pos, Target target, List<FilterCall> filters, List<Stmt> body) implements Stmt {}

    /** {@code {% macro name(params) %}...{% endmacro %}}. */
    record Macro(Pos pos, String name, Signature signature, List<Stmt> body) implements Stmt {}

    /** {@code {% call(params) macro(args) %}...{% endcall %}}: the body becomes {@code caller()}. */
    record CallBlock(Pos pos, Call call, Signature signature, List<Stmt> body) implements Stmt {}

    /** {@code {% filter name(args) %}...{% endfilter %}}. */
    record FilterBlock(Pos pos, List<FilterCall> filters, List<Stmt> body) implements Stmt {}

    /** {@code {% with a = x, b = y %}...{% endwith %}}. */
    record With(Pos pos, List<Target> targets, List<Expr> values, List<Stmt> body) implements Stmt {}

    /** A body rendered in its own scope, e.g. transformers' {@code {% generation %}} block. */
    record Scoped(List<Stmt> body) implements Stmt {}

    record Break(Pos pos) implements Stmt {}

    record Continue(Pos pos) implements Stmt {}

    /** Macro parameters; {@code defaults} align with the last parameters. The flags say which implicit names the body reads. */
    record Signature(List<String> params, List<Expr> defaults, boolean usesVarargs, boolean usesKwargs,
                     boolean usesCaller) {}

    // ---- assignment targets ----

    sealed interface Target {}

    record NameTarget(Pos pos, String name) implements Target {}

    record TupleTarget(Pos pos, List<Target> items) implements Target {}

    // ---- expressions ----

    sealed interface Expr {
        Pos pos();
    }

    record Literal(Pos pos, Object value) implements Expr {}

    record Name(Pos pos, String name) implements Expr {}

    /** {@code obj.name}: attribute first, then item. */
    record GetAttr(Pos pos, Expr object, String name) implements Expr {}

    /** {@code obj[key]}: item first, then attribute. */
    record GetItem(Pos pos, Expr object, Expr key) implements Expr {}

    /** {@code start:stop:step} inside brackets; absent parts are null. */
    record Slice(Pos pos, Expr start, Expr stop, Expr step) implements Expr {}

    record Call(Pos pos, Expr callee, Arguments args) implements Expr {}

    /** {@code value | name(args)}. */
    record Filter(Pos pos, Expr value, FilterCall filter) implements Expr {}

    /** {@code value is [not] name(args)}. */
    record Test(Pos pos, Expr value, String name, Arguments args, boolean negated) implements Expr {}

    record Not(Pos pos, Expr operand) implements Expr {}

    /** Unary {@code -} or {@code +}. */
    record Unary(Pos pos, String op, Expr operand) implements Expr {}

    /** Arithmetic: {@code + - * / // % **}. */
    record Binary(Pos pos, String op, Expr left, Expr right) implements Expr {}

    record And(Pos pos, Expr left, Expr right) implements Expr {}

    record Or(Pos pos, Expr left, Expr right) implements Expr {}

    /** A comparison chain {@code a < b <= c}; ops are {@code == != < <= > >= in notin}. */
    record Compare(Pos pos, Expr first, List<String> ops, List<Expr> operands) implements Expr {}

    /** {@code a ~ b ~ c}: string concatenation of str() of each part. */
    record Concat(Pos pos, List<Expr> parts) implements Expr {}

    /** {@code then if test else orElse}; without else the result is undefined when the test fails. */
    record Conditional(Pos pos, Expr test, Expr then, Expr orElse) implements Expr {}

    record ListLiteral(Pos pos, List<Expr> items) implements Expr {}

    record TupleLiteral(Pos pos, List<Expr> items) implements Expr {}

    record DictLiteral(Pos pos, List<Expr> keys, List<Expr> values) implements Expr {}

    // ---- call arguments ----

    record Arguments(List<Expr> positional, List<Keyword> keywords) {
        static final Arguments NONE = new Arguments(List.of(), List.of());
    }

    record Keyword(String name, Expr value) {}

    record FilterCall(Pos pos, String name, Arguments args) {}
}
