package dev.quill.server.template;

import dev.quill.server.template.Ast.*;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Executes a parsed template against one render context. One instance per render: it holds the output buffer,
 * the iteration and call-depth counters that enforce {@link Limits}, and the clock behind {@code strftime_now}.
 *
 * <p>Scoping follows Jinja2: {@code set} writes to the innermost scope; every for-loop iteration, macro call and
 * {@code with} block gets a fresh child scope (so assignments inside a loop do not survive it, which is why
 * templates use {@code namespace()}); {@code if} blocks do not open a scope.
 */
final class Renderer {

    private enum Signal { NORMAL, BREAK, CONTINUE }

    /** A chain of variable maps; lookups fall back to the render context and then the globals. */
    private static final class Scope {
        final Scope parent;
        final Map<String, Object> vars = new HashMap<>();

        Scope(Scope parent) {
            this.parent = parent;
        }
    }

    private final Map<String, Object> context;
    private final Limits limits;
    private final Clock clock;
    private StringBuilder out = new StringBuilder();
    private long iterations;
    private int callDepth;
    private final long deadline;

    Renderer(Map<String, Object> context, Limits limits, Clock clock) {
        this.context = context;
        this.limits = limits;
        this.clock = clock;
        this.deadline = System.nanoTime() + limits.maxRenderTime().toNanos();
    }

    Limits limits() {
        return limits;
    }

    Clock clock() {
        return clock;
    }

    String render(List<Stmt> body) {
        exec(body, new Scope(null));
        return out.toString();
    }

    // ---- statements ----

    private Signal exec(List<Stmt> body, Scope scope) {
        for (Stmt stmt : body) {
            Signal signal = exec(stmt, scope);
            if (signal != Signal.NORMAL) return signal;
        }
        return Signal.NORMAL;
    }

    private Signal exec(Stmt stmt, Scope scope) {
        switch (stmt) {
            case Text t -> write(t.text());
            case Output o -> write(Py.str(eval(o.expr(), scope)));
            case If i -> {
                for (Branch branch : i.branches()) {
                    if (Py.truthy(eval(branch.test(), scope))) return exec(branch.body(), scope);
                }
                return exec(i.orElse(), scope);
            }
            case For f -> {
                return located(f.pos(), () -> loop(f, Py.iterate(eval(f.iterable(), scope)), scope, 0));
            }
            case Assign a -> assign(a.target(), eval(a.value(), scope), scope);
            case NamespaceAssign n -> {
                Object value = eval(n.value(), scope);
                Object target = lookup(n.namespace(), scope);
                if (!(target instanceof Namespace ns)) {
                    throw new TemplateException("cannot assign attribute on non-namespace object", n.pos().line(),
                            n.pos().column());
                }
                ns.set(n.attribute(), value);
            }
            case AssignBlock a -> {
                Object value = capture(a.body(), new Scope(scope));
                for (FilterCall f : a.filters()) value = applyFilter(f, value, scope);
                assign(a.target(), value, scope);
            }
            case Macro m -> scope.vars.put(m.name(), new MacroValue(m.name(), m.signature(), m.body(), scope));
            case CallBlock c -> {
                MacroValue caller = new MacroValue("caller", c.signature(), c.body(), scope);
                Object callee = eval(c.call().callee(), scope);
                Args args = arguments(c.call().args(), scope);
                Map<String, Object> keywords = new LinkedHashMap<>(args.keywords());
                keywords.put("caller", caller);
                Object result = located(c.pos(), () -> invoke(callee, new Args(args.positional(), keywords)));
                write(Py.str(result));
            }
            case FilterBlock f -> {
                Object value = capture(f.body(), new Scope(scope));
                for (FilterCall filter : f.filters()) value = applyFilter(filter, value, scope);
                write(Py.str(value));
            }
            case With w -> {
                Scope inner = new Scope(scope);
                List<Object> values = new ArrayList<>();
                for (Expr e : w.values()) values.add(eval(e, scope));
                for (int i = 0; i < values.size(); i++) assign(w.targets().get(i), values.get(i), inner);
                return exec(w.body(), inner);
            }
            case Scoped s -> {
                return exec(s.body(), new Scope(scope));
            }
            case Break b -> {
                return Signal.BREAK;
            }
            case Continue c -> {
                return Signal.CONTINUE;
            }
        }
        return Signal.NORMAL;
    }

    private <T> T located(Pos pos, Supplier<T> action) {
        try {
            return action.get();
        } catch (TemplateException e) {
            throw e.at(pos.line(), pos.column());
        }
    }

    private void write(String s) {
        limits.checkLength(out.length() + (long) s.length());
        out.append(s);
    }

    private String capture(List<Stmt> body, Scope scope) {
        StringBuilder saved = out;
        out = new StringBuilder();
        try {
            exec(body, scope);
            return out.toString();
        } finally {
            out = saved;
        }
    }

    private Signal loop(For f, List<Object> source, Scope scope, int depth0) {
        List<Object> items = source;
        if (f.filter() != null) {
            items = new ArrayList<>();
            for (Object item : source) {
                countIteration();
                Scope probe = new Scope(scope);
                assign(f.target(), item, probe);
                if (Py.truthy(eval(f.filter(), probe))) items.add(item);
            }
        }
        LoopContext loop = new LoopContext(items, depth0, !f.recursive() ? null
                : children -> recurse(f, children, scope, depth0 + 1));
        for (int i = 0; i < items.size(); i++) {
            countIteration();
            Scope iteration = new Scope(scope);
            loop.advance(i);
            iteration.vars.put("loop", loop);
            assign(f.target(), items.get(i), iteration);
            if (exec(f.body(), iteration) == Signal.BREAK) break;
        }
        if (items.isEmpty()) return exec(f.orElse(), scope);
        return Signal.NORMAL;
    }

    private String recurse(For f, Object children, Scope scope, int depth0) {
        enterCall();
        StringBuilder saved = out;
        out = new StringBuilder();
        try {
            loop(f, Py.iterate(children), scope, depth0);
            return out.toString();
        } finally {
            out = saved;
            callDepth--;
        }
    }

    private void countIteration() {
        if (++iterations > limits.maxIterations()) {
            throw new TemplateException("template exceeded " + limits.maxIterations() + " loop iterations");
        }
        checkDeadline();
    }

    private void enterCall() {
        if (++callDepth > limits.maxCallDepth()) {
            callDepth--;
            throw new TemplateException("template exceeded " + limits.maxCallDepth() + " nested macro calls");
        }
        checkDeadline();
    }

    private void checkDeadline() {
        if (System.nanoTime() - deadline > 0) {
            throw new TemplateException("template rendering exceeded " + limits.maxRenderTime().toMillis() + " ms");
        }
    }

    private void assign(Target target, Object value, Scope scope) {
        switch (target) {
            case NameTarget n -> scope.vars.put(n.name(), value);
            case TupleTarget t -> {
                List<Object> values = Py.iterate(value);
                int expected = t.items().size();
                if (values.size() > expected) {
                    throw new TemplateException("too many values to unpack (expected " + expected + ")");
                }
                if (values.size() < expected) {
                    throw new TemplateException("not enough values to unpack (expected " + expected + ", got "
                            + values.size() + ")");
                }
                for (int i = 0; i < expected; i++) assign(t.items().get(i), values.get(i), scope);
            }
        }
    }

    private Object lookup(String name, Scope scope) {
        for (Scope s = scope; s != null; s = s.parent) {
            if (s.vars.containsKey(name)) return s.vars.get(name);
        }
        if (context.containsKey(name)) return context.get(name);
        Object global = Globals.get(name);
        return global != null ? global : Undefined.name(name);
    }

    // ---- expressions ----

    private Object eval(Expr expr, Scope scope) {
        try {
            return evaluate(expr, scope);
        } catch (TemplateException e) {
            throw e.at(expr.pos().line(), expr.pos().column());
        }
    }

    private Object evaluate(Expr expr, Scope scope) {
        return switch (expr) {
            case Literal l -> l.value();
            case Name n -> lookup(n.name(), scope);
            case GetAttr g -> Py.getAttr(eval(g.object(), scope), g.name());
            case GetItem g -> {
                Object obj = eval(g.object(), scope);
                yield Py.getItem(obj, eval(g.key(), scope));
            }
            case Slice s -> new Py.SliceValue(optional(s.start(), scope), optional(s.stop(), scope),
                    optional(s.step(), scope));
            case Call c -> {
                Object callee = eval(c.callee(), scope);
                yield invoke(callee, arguments(c.args(), scope));
            }
            case Filter f -> applyFilter(f.filter(), eval(f.value(), scope), scope);
            case Test t -> {
                Object value = eval(t.value(), scope);
                boolean result = Tests.apply(this, t.name(), value, arguments(t.args(), scope));
                yield result != t.negated();
            }
            case Not n -> !Py.truthy(eval(n.operand(), scope));
            case Unary u -> u.op().equals("-") ? Py.negate(eval(u.operand(), scope)) : Py.plus(eval(u.operand(), scope));
            case Binary b -> {
                Object left = eval(b.left(), scope);
                yield Py.binary(b.op(), left, eval(b.right(), scope), limits);
            }
            case And a -> {
                Object left = eval(a.left(), scope);
                yield Py.truthy(left) ? eval(a.right(), scope) : left;
            }
            case Or o -> {
                Object left = eval(o.left(), scope);
                yield Py.truthy(left) ? left : eval(o.right(), scope);
            }
            case Compare c -> compare(c, scope);
            case Concat c -> {
                StringBuilder sb = new StringBuilder();
                for (Expr part : c.parts()) {
                    sb.append(Py.str(eval(part, scope)));
                    limits.checkLength(sb.length());
                }
                yield sb.toString();
            }
            case Conditional c -> Py.truthy(eval(c.test(), scope)) ? eval(c.then(), scope)
                    : c.orElse() != null ? eval(c.orElse(), scope)
                    : new Undefined("the inline if-expression evaluated to false and no else section was defined.");
            case ListLiteral l -> {
                List<Object> items = new ArrayList<>(l.items().size());
                for (Expr e : l.items()) items.add(eval(e, scope));
                yield items;
            }
            case TupleLiteral t -> {
                List<Object> items = new ArrayList<>(t.items().size());
                for (Expr e : t.items()) items.add(eval(e, scope));
                yield new PyTuple(items);
            }
            case DictLiteral d -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < d.keys().size(); i++) {
                    Object key = eval(d.keys().get(i), scope);
                    if (key instanceof List || key instanceof Map) {
                        throw new TemplateException("unhashable type: '" + Py.typeName(key) + "'");
                    }
                    Py.dictPut(map, key, eval(d.values().get(i), scope));
                }
                yield map;
            }
        };
    }

    private Object optional(Expr e, Scope scope) {
        return e == null ? null : eval(e, scope);
    }

    private boolean compare(Compare c, Scope scope) {
        Object left = eval(c.first(), scope);
        for (int i = 0; i < c.ops().size(); i++) {
            Object right = eval(c.operands().get(i), scope);
            String op = c.ops().get(i);
            boolean holds = switch (op) {
                case "==" -> Py.eq(left, right);
                case "!=" -> !Py.eq(left, right);
                case "<" -> Py.compare(left, right, op) < 0;
                case "<=" -> Py.compare(left, right, op) <= 0;
                case ">" -> Py.compare(left, right, op) > 0;
                case ">=" -> Py.compare(left, right, op) >= 0;
                case "in" -> Py.contains(right, left);
                case "notin" -> !Py.contains(right, left);
                default -> throw new IllegalStateException("unknown comparison " + op);
            };
            if (!holds) return false;
            left = right;
        }
        return true;
    }

    private Args arguments(Arguments args, Scope scope) {
        if (args.positional().isEmpty() && args.keywords().isEmpty()) return Args.NONE;
        List<Object> positional = new ArrayList<>(args.positional().size());
        for (Expr e : args.positional()) positional.add(eval(e, scope));
        Map<String, Object> keywords = new LinkedHashMap<>();
        for (Keyword k : args.keywords()) {
            if (keywords.containsKey(k.name())) throw new TemplateException("keyword argument repeated: " + k.name());
            keywords.put(k.name(), eval(k.value(), scope));
        }
        return new Args(positional, keywords);
    }

    private Object applyFilter(FilterCall f, Object value, Scope scope) {
        Args args = arguments(f.args(), scope);
        return located(f.pos(), () -> Filters.apply(this, f.name(), value, args));
    }

    /** Calls a template value: a callable, or a recursive loop. */
    Object invoke(Object callee, Args args) {
        return switch (callee) {
            case null -> throw new TemplateException("'NoneType' object is not callable");
            case Callable c -> c.call(this, args);
            case LoopContext l when l.recurse() != null -> {
                if (args.positional().size() != 1 || !args.keywords().isEmpty()) {
                    throw new TemplateException("loop() takes exactly one argument");
                }
                yield l.recurse().apply(args.positional().get(0));
            }
            case Undefined u -> throw u.error();
            default -> throw new TemplateException("'" + Py.typeName(callee) + "' object is not callable");
        };
    }

    // ---- macros ----

    /** A macro (or a call block's body as {@code caller}): a template function closing over its defining scope. */
    private final class MacroValue implements Callable {
        private final String name;
        private final Signature signature;
        private final List<Stmt> body;
        private final Scope closure;

        MacroValue(String name, Signature signature, List<Stmt> body, Scope closure) {
            this.name = name;
            this.signature = signature;
            this.body = body;
            this.closure = closure;
        }

        @Override
        public Object call(Renderer renderer, Args args) {
            return renderer.callMacro(name, signature, body, closure, args);
        }

        @Override
        public String describe() {
            return "<Macro '" + name + "'>";
        }
    }

    private Object callMacro(String name, Signature sig, List<Stmt> body, Scope closure, Args args) {
        List<String> params = sig.params();
        Scope scope = new Scope(closure);
        Object[] bound = new Object[params.size()];
        Arrays.fill(bound, Args.MISSING);
        List<Object> extra = new ArrayList<>();
        for (int i = 0; i < args.positional().size(); i++) {
            if (i < params.size()) bound[i] = args.positional().get(i);
            else extra.add(args.positional().get(i));
        }
        if (!extra.isEmpty() && !sig.usesVarargs()) {
            throw new TemplateException("macro '" + name + "' takes not more than " + params.size() + " argument(s)");
        }
        Map<String, Object> extraKeywords = new LinkedHashMap<>();
        Object caller = null;
        for (Map.Entry<String, Object> kw : args.keywords().entrySet()) {
            int i = params.indexOf(kw.getKey());
            if (i >= 0) {
                if (bound[i] != Args.MISSING) {
                    throw new TemplateException("macro '" + name + "' got multiple values for argument '" + kw.getKey() + "'");
                }
                bound[i] = kw.getValue();
            } else if (kw.getKey().equals("caller") && sig.usesCaller()) {
                caller = kw.getValue();
            } else if (sig.usesKwargs()) {
                extraKeywords.put(kw.getKey(), kw.getValue());
            } else {
                throw new TemplateException("macro '" + name + "' takes no keyword argument '" + kw.getKey() + "'");
            }
        }
        enterCall();
        try {
            int firstDefault = params.size() - sig.defaults().size();
            for (int i = 0; i < params.size(); i++) {
                Object value = bound[i];
                if (value == Args.MISSING) {
                    value = i >= firstDefault ? eval(sig.defaults().get(i - firstDefault), scope)
                            : new Undefined("parameter '" + params.get(i) + "' was not provided");
                }
                scope.vars.put(params.get(i), value);
            }
            if (sig.usesVarargs()) scope.vars.put("varargs", new PyTuple(extra));
            if (sig.usesKwargs()) scope.vars.put("kwargs", extraKeywords);
            if (sig.usesCaller()) scope.vars.put("caller", caller != null ? caller : new Undefined("No caller defined"));
            return capture(body, scope);
        } finally {
            callDepth--;
        }
    }
}
