package dev.quill.server.template;

import dev.quill.server.template.Ast.*;
import dev.quill.server.template.Token.Kind;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Recursive-descent parser from tokens to {@link Ast}, following Jinja2's grammar and operator precedence
 * (lowest first): conditional {@code x if c else y}, {@code or}, {@code and}, {@code not}, comparisons
 * (incl. {@code in}/{@code not in}), {@code + -}, {@code ~}, {@code * / // %}, {@code **}, unary {@code - +},
 * then postfix access/calls and finally filters {@code |} and tests {@code is}, which bind tightest:
 * {@code messages|length - 1} is {@code (messages|length) - 1}.
 */
final class Parser {

    /** Nesting limit for expressions and blocks, so hostile templates fail cleanly instead of overflowing the stack. */
    static final int MAX_NESTING = 100;

    private static final Set<String> UNSUPPORTED_TAGS =
            Set.of("block", "extends", "include", "import", "from", "autoescape", "do", "print");
    private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", "<=", ">", ">=");

    private final List<Token> tokens;
    private int index;
    private int nesting;
    private int loopDepth;
    /** Tags that would close the blocks currently open, innermost last: for "unexpected end" messages. */
    private final Deque<List<String>> endTagStack = new ArrayDeque<>();
    /** Names read inside each macro body being parsed, to know whether it uses varargs/kwargs/caller. */
    private final Deque<Set<String>> macroNames = new ArrayDeque<>();

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Stmt> parse(String source) {
        Parser parser = new Parser(Lexer.tokenize(source));
        List<Stmt> body = parser.subparse(null);
        Token end = parser.current();
        if (!end.is(Kind.EOF)) throw parser.error("unexpected " + end.describe(), end);
        return body;
    }

    // ---- token stream ----

    private Token current() {
        return tokens.get(index);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(index + ahead, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(index);
        if (index < tokens.size() - 1) index++;
        return t;
    }

    private static Pos pos(Token t) {
        return new Pos(t.line(), t.column());
    }

    private TemplateException error(String message, Token at) {
        return new TemplateException(message, at.line(), at.column());
    }

    private Token expect(Kind kind, String description) {
        Token t = current();
        if (!t.is(kind)) throw error("expected token '" + description + "', got '" + t.describe() + "'", t);
        return next();
    }

    private void expectOperator(String op) {
        Token t = current();
        if (!t.isOperator(op)) throw error("expected token '" + op + "', got '" + t.describe() + "'", t);
        next();
    }

    private void expectName(String name) {
        Token t = current();
        if (!t.isName(name)) throw error("expected token '" + name + "', got '" + t.describe() + "'", t);
        next();
    }

    private boolean skipOperator(String op) {
        if (!current().isOperator(op)) return false;
        next();
        return true;
    }

    private boolean skipName(String name) {
        if (!current().isName(name)) return false;
        next();
        return true;
    }

    private void enter(Token at) {
        if (++nesting > MAX_NESTING) throw error("template nesting is deeper than " + MAX_NESTING + " levels", at);
    }

    private void leave() {
        nesting--;
    }

    // ---- statements ----

    /** Parses template content until a block tag named in {@code endTags}; leaves the stream on that tag's name. */
    private List<Stmt> subparse(Set<String> endTags) {
        List<Stmt> body = new ArrayList<>();
        while (true) {
            Token t = current();
            switch (t.kind()) {
                case TEXT -> {
                    next();
                    body.add(new Text(t.text()));
                }
                case VAR_BEGIN -> {
                    next();
                    Expr expr = parseTuple(false, true, Set.of(), false);
                    expect(Kind.VAR_END, "end of print statement");
                    body.add(new Output(pos(t), expr));
                }
                case BLOCK_BEGIN -> {
                    next();
                    Token name = current();
                    if (endTags != null && name.is(Kind.NAME) && endTags.contains(name.text())) return body;
                    enter(name);
                    body.add(parseStatement());
                    leave();
                    expect(Kind.BLOCK_END, "end of statement block");
                }
                case EOF -> {
                    return body;
                }
                default -> throw error("unexpected '" + t.describe() + "'", t);
            }
        }
    }

    /** After a statement header: its body up to one of {@code endTags}; the stream is left on the end tag's name. */
    private List<Stmt> parseBody(String... endTags) {
        skipOperator(":");
        expect(Kind.BLOCK_END, "end of statement block");
        endTagStack.push(List.of(endTags));
        List<Stmt> body = subparse(Set.of(endTags));
        if (current().is(Kind.EOF)) throw unexpectedEnd();
        endTagStack.pop();
        return body;
    }

    private TemplateException unexpectedEnd() {
        return error("Unexpected end of template. " + lookingFor(), current());
    }

    private String lookingFor() {
        if (endTagStack.isEmpty()) return "";
        String expected = endTagStack.stream().flatMap(List::stream).distinct()
                .map(t -> "'" + t + "'").collect(Collectors.joining(" or "));
        String innermost = endTagStack.peek().stream().filter(t -> t.startsWith("end")).findFirst().orElseThrow()
                .substring(3);
        return "Jinja was looking for the following tags: " + expected
                + ". The innermost block that needs to be closed is '" + innermost + "'.";
    }

    private Stmt parseStatement() {
        Token tag = current();
        if (!tag.is(Kind.NAME)) throw error("tag name expected", tag);
        return switch (tag.text()) {
            case "for" -> parseFor();
            case "if" -> parseIf();
            case "set" -> parseSet();
            case "macro" -> parseMacro();
            case "call" -> parseCallBlock();
            case "filter" -> parseFilterBlock();
            case "with" -> parseWith();
            case "generation" -> {
                next();
                List<Stmt> body = parseBody("endgeneration");
                next();
                yield new Scoped(body);
            }
            case "break", "continue" -> {
                if (loopDepth == 0) throw error("'" + tag.text() + "' outside of a loop", tag);
                next();
                yield tag.text().equals("break") ? new Break(pos(tag)) : new Continue(pos(tag));
            }
            default -> {
                if (UNSUPPORTED_TAGS.contains(tag.text())) {
                    throw error("tag '" + tag.text() + "' is not supported in chat templates", tag);
                }
                String context = lookingFor();
                throw error("Encountered unknown tag '" + tag.text() + "'." + (context.isEmpty() ? "" : " " + context), tag);
            }
        };
    }

    private Stmt parseFor() {
        Pos at = pos(next());
        Target target = parseAssignTarget(Set.of("in"));
        expectName("in");
        Expr iterable = parseTuple(false, false, Set.of("recursive"), false);
        Expr filter = skipName("if") ? parseExpression(true) : null;
        boolean recursive = skipName("recursive");
        loopDepth++;
        List<Stmt> body = parseBody("endfor", "else");
        loopDepth--;
        List<Stmt> orElse = List.of();
        if (next().text().equals("else")) {
            orElse = parseBody("endfor");
            next();
        }
        return new For(at, target, iterable, filter, recursive, body, orElse);
    }

    private Stmt parseIf() {
        Pos at = pos(next());
        List<Branch> branches = new ArrayList<>();
        List<Stmt> orElse = List.of();
        while (true) {
            Expr test = parseTuple(false, false, Set.of(), false);
            List<Stmt> body = parseBody("elif", "else", "endif");
            branches.add(new Branch(test, body));
            String tag = next().text();
            if (tag.equals("elif")) continue;
            if (tag.equals("else")) {
                orElse = parseBody("endif");
                next();
            }
            return new If(at, branches, orElse);
        }
    }

    private Stmt parseSet() {
        Pos at = pos(next());
        if (current().is(Kind.NAME) && peek(1).isOperator(".")) {
            String namespace = next().text();
            next();
            String attribute = expect(Kind.NAME, "name").text();
            expectOperator("=");
            return new NamespaceAssign(at, namespace, attribute, parseTuple(false, true, Set.of(), false));
        }
        Target target = parseAssignTarget(Set.of());
        if (skipOperator("=")) return new Assign(at, target, parseTuple(false, true, Set.of(), false));
        List<FilterCall> filters = current().isOperator("|") ? parseFilterCalls(false) : List.of();
        List<Stmt> body = parseBody("endset");
        next();
        return new AssignBlock(at, target, filters, body);
    }

    private Stmt parseMacro() {
        Pos at = pos(next());
        String name = expect(Kind.NAME, "name").text();
        macroNames.push(new HashSet<>());
        int outerLoops = loopDepth;
        loopDepth = 0;
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        parseParameters(params, defaults);
        List<Stmt> body = parseBody("endmacro");
        next();
        loopDepth = outerLoops;
        return new Macro(at, name, signature(params, defaults), body);
    }

    private Signature signature(List<String> params, List<Expr> defaults) {
        Set<String> used = macroNames.pop();
        if (!macroNames.isEmpty()) macroNames.peek().addAll(used);
        return new Signature(List.copyOf(params), List.copyOf(defaults),
                used.contains("varargs"), used.contains("kwargs"), used.contains("caller"));
    }

    private void parseParameters(List<String> params, List<Expr> defaults) {
        expectOperator("(");
        while (!current().isOperator(")")) {
            if (!params.isEmpty()) expectOperator(",");
            Token name = expect(Kind.NAME, "name");
            if (skipOperator("=")) {
                defaults.add(parseExpression(true));
            } else if (!defaults.isEmpty()) {
                throw error("non-default argument follows default argument", name);
            }
            params.add(name.text());
        }
        expectOperator(")");
    }

    private Stmt parseCallBlock() {
        Token tag = next();
        macroNames.push(new HashSet<>());
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        if (current().isOperator("(")) parseParameters(params, defaults);
        Expr call = parseExpression(true);
        if (!(call instanceof Call c)) throw error("expected call", tag);
        int outerLoops = loopDepth;
        loopDepth = 0;
        List<Stmt> body = parseBody("endcall");
        next();
        loopDepth = outerLoops;
        return new CallBlock(pos(tag), c, signature(params, defaults), body);
    }

    private Stmt parseFilterBlock() {
        Pos at = pos(next());
        List<FilterCall> filters = parseFilterCalls(true);
        List<Stmt> body = parseBody("endfilter");
        next();
        return new FilterBlock(at, filters, body);
    }

    private Stmt parseWith() {
        Pos at = pos(next());
        List<Target> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().is(Kind.BLOCK_END)) {
            if (!targets.isEmpty()) expectOperator(",");
            targets.add(parseAssignTarget(Set.of()));
            expectOperator("=");
            values.add(parseExpression(true));
        }
        List<Stmt> body = parseBody("endwith");
        next();
        return new With(at, targets, values, body);
    }

    /** A name, or a tuple of names, that a value can be assigned to. */
    private Target parseAssignTarget(Set<String> extraEnd) {
        Token start = current();
        return toTarget(parseTuple(true, true, extraEnd, false), start);
    }

    private Target toTarget(Expr expr, Token at) {
        if (expr instanceof Name n) return new NameTarget(n.pos(), n.name());
        if (expr instanceof TupleLiteral t) {
            List<Target> items = new ArrayList<>();
            for (Expr item : t.items()) items.add(toTarget(item, at));
            return new TupleTarget(t.pos(), items);
        }
        throw error("can't assign to '" + describe(expr) + "'", at);
    }

    private static String describe(Expr expr) {
        return switch (expr) {
            case Literal l -> "const";
            case ListLiteral l -> "list";
            case DictLiteral d -> "dict";
            default -> expr.getClass().getSimpleName().toLowerCase();
        };
    }

    // ---- expressions ----

    /** Comma-separated expressions; a tuple when there is a comma, else the single expression. */
    private Expr parseTuple(boolean simplified, boolean withConditional, Set<String> extraEnd, boolean explicitParens) {
        Token start = current();
        List<Expr> items = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!items.isEmpty()) expectOperator(",");
            if (isTupleEnd(extraEnd)) break;
            items.add(simplified ? parsePrimary() : parseExpression(withConditional));
            if (current().isOperator(",")) {
                isTuple = true;
            } else {
                break;
            }
        }
        if (!isTuple) {
            if (!items.isEmpty()) return items.get(0);
            if (!explicitParens) throw error("Expected an expression, got '" + current().describe() + "'", current());
        }
        return new TupleLiteral(pos(start), List.copyOf(items));
    }

    private boolean isTupleEnd(Set<String> extraEnd) {
        Token t = current();
        return t.is(Kind.VAR_END) || t.is(Kind.BLOCK_END) || t.is(Kind.EOF) || t.isOperator(")")
                || (t.is(Kind.NAME) && extraEnd.contains(t.text()));
    }

    private Expr parseExpression(boolean withConditional) {
        return withConditional ? parseConditional() : parseOr();
    }

    private Expr parseConditional() {
        Token start = current();
        Expr expr = parseOr();
        while (skipName("if")) {
            Expr test = parseOr();
            Expr orElse = skipName("else") ? parseConditional() : null;
            expr = new Conditional(pos(start), test, expr, orElse);
        }
        return expr;
    }

    private Expr parseOr() {
        Expr left = parseAnd();
        while (current().isName("or")) {
            Token op = next();
            left = new Or(pos(op), left, parseAnd());
        }
        return left;
    }

    private Expr parseAnd() {
        Expr left = parseNot();
        while (current().isName("and")) {
            Token op = next();
            left = new And(pos(op), left, parseNot());
        }
        return left;
    }

    private Expr parseNot() {
        if (current().isName("not")) {
            Token op = next();
            enter(op);
            Expr operand = parseNot();
            leave();
            return new Not(pos(op), operand);
        }
        return parseCompare();
    }

    private Expr parseCompare() {
        Token start = current();
        Expr first = parseMath1();
        List<String> ops = new ArrayList<>();
        List<Expr> operands = new ArrayList<>();
        while (true) {
            Token t = current();
            if (t.is(Kind.OPERATOR) && COMPARE_OPS.contains(t.text())) {
                next();
                ops.add(t.text());
            } else if (t.isName("in")) {
                next();
                ops.add("in");
            } else if (t.isName("not") && peek(1).isName("in")) {
                next();
                next();
                ops.add("notin");
            } else {
                break;
            }
            operands.add(parseMath1());
        }
        return ops.isEmpty() ? first : new Compare(pos(start), first, List.copyOf(ops), List.copyOf(operands));
    }

    private Expr parseMath1() {
        Expr left = parseConcat();
        while (current().isOperator("+") || current().isOperator("-")) {
            Token op = next();
            left = new Binary(pos(op), op.text(), left, parseConcat());
        }
        return left;
    }

    private Expr parseConcat() {
        Token start = current();
        List<Expr> parts = new ArrayList<>();
        parts.add(parseMath2());
        while (skipOperator("~")) parts.add(parseMath2());
        return parts.size() == 1 ? parts.get(0) : new Concat(pos(start), List.copyOf(parts));
    }

    private Expr parseMath2() {
        Expr left = parsePow();
        while (current().is(Kind.OPERATOR) && Set.of("*", "/", "//", "%").contains(current().text())) {
            Token op = next();
            left = new Binary(pos(op), op.text(), left, parsePow());
        }
        return left;
    }

    private Expr parsePow() {
        Expr left = parseUnary(true);
        while (current().isOperator("**")) {
            Token op = next();
            left = new Binary(pos(op), "**", left, parseUnary(true));
        }
        return left;
    }

    private Expr parseUnary(boolean withFilters) {
        Token t = current();
        enter(t);
        Expr node;
        if (t.isOperator("-") || t.isOperator("+")) {
            next();
            node = new Unary(pos(t), t.text(), parseUnary(false));
        } else {
            node = parsePrimary();
        }
        node = parsePostfix(node);
        if (withFilters) node = parseFiltersAndTests(node);
        leave();
        return node;
    }

    private Expr parsePrimary() {
        Token t = current();
        Pos at = pos(t);
        switch (t.kind()) {
            case NAME -> {
                next();
                return switch (t.text()) {
                    case "true", "True" -> new Literal(at, Boolean.TRUE);
                    case "false", "False" -> new Literal(at, Boolean.FALSE);
                    case "none", "None" -> new Literal(at, null);
                    default -> {
                        if (!macroNames.isEmpty()) macroNames.peek().add(t.text());
                        yield new Name(at, t.text());
                    }
                };
            }
            case STRING -> {
                StringBuilder s = new StringBuilder((String) next().value());
                while (current().is(Kind.STRING)) s.append((String) next().value());
                return new Literal(at, s.toString());
            }
            case INTEGER, FLOAT -> {
                next();
                return new Literal(at, t.value());
            }
            case OPERATOR -> {
                switch (t.text()) {
                    case "(" -> {
                        next();
                        enter(t);
                        Expr inner = parseTuple(false, true, Set.of(), true);
                        leave();
                        expectOperator(")");
                        return inner;
                    }
                    case "[" -> {
                        return parseList();
                    }
                    case "{" -> {
                        return parseDict();
                    }
                    default -> { }
                }
            }
            default -> { }
        }
        throw error("unexpected '" + t.describe() + "'", t);
    }

    private Expr parseList() {
        Token open = next();
        enter(open);
        List<Expr> items = new ArrayList<>();
        while (!current().isOperator("]")) {
            if (!items.isEmpty()) expectOperator(",");
            if (current().isOperator("]")) break;
            items.add(parseExpression(true));
        }
        expectOperator("]");
        leave();
        return new ListLiteral(pos(open), List.copyOf(items));
    }

    private Expr parseDict() {
        Token open = next();
        enter(open);
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().isOperator("}")) {
            if (!keys.isEmpty()) expectOperator(",");
            if (current().isOperator("}")) break;
            keys.add(parseExpression(true));
            expectOperator(":");
            values.add(parseExpression(true));
        }
        expectOperator("}");
        leave();
        return new DictLiteral(pos(open), List.copyOf(keys), List.copyOf(values));
    }

    private Expr parsePostfix(Expr node) {
        while (true) {
            Token t = current();
            if (t.isOperator(".")) {
                next();
                Token attr = next();
                if (attr.is(Kind.NAME)) {
                    node = new GetAttr(pos(t), node, attr.text());
                } else if (attr.is(Kind.INTEGER)) {
                    node = new GetItem(pos(t), node, new Literal(pos(attr), attr.value()));
                } else {
                    throw error("expected name or number", attr);
                }
            } else if (t.isOperator("[")) {
                next();
                List<Expr> keys = new ArrayList<>();
                while (!current().isOperator("]")) {
                    if (!keys.isEmpty()) expectOperator(",");
                    keys.add(parseSubscript());
                }
                expectOperator("]");
                Expr key = keys.size() == 1 ? keys.get(0) : new TupleLiteral(pos(t), List.copyOf(keys));
                node = new GetItem(pos(t), node, key);
            } else if (t.isOperator("(")) {
                node = new Call(pos(t), node, parseArguments());
            } else {
                return node;
            }
        }
    }

    /** An index expression or a slice {@code start:stop:step} with any part omitted. */
    private Expr parseSubscript() {
        Token start = current();
        Expr lower = null;
        if (!skipOperator(":")) {
            Expr e = parseExpression(true);
            if (!skipOperator(":")) return e;
            lower = e;
        }
        Expr upper = null;
        Expr step = null;
        if (!isSliceEnd() && !current().isOperator(":")) upper = parseExpression(true);
        if (skipOperator(":") && !isSliceEnd()) step = parseExpression(true);
        return new Slice(pos(start), lower, upper, step);
    }

    private boolean isSliceEnd() {
        return current().isOperator("]") || current().isOperator(",");
    }

    private Expr parseFiltersAndTests(Expr node) {
        while (true) {
            Token t = current();
            if (t.isOperator("|")) {
                for (FilterCall f : parseFilterCalls(false)) node = new Filter(f.pos(), node, f);
            } else if (t.isName("is")) {
                node = parseTest(node);
            } else if (t.isOperator("(")) {
                node = new Call(pos(t), node, parseArguments());
            } else {
                return node;
            }
        }
    }

    /** {@code | name(args) | name ...}; with {@code startInline} the first filter has no leading pipe. */
    private List<FilterCall> parseFilterCalls(boolean startInline) {
        List<FilterCall> filters = new ArrayList<>();
        while (current().isOperator("|") || startInline) {
            if (!startInline) next();
            startInline = false;
            Token name = expect(Kind.NAME, "name");
            String full = dottedName(name.text());
            Arguments args = current().isOperator("(") ? parseArguments() : Arguments.NONE;
            filters.add(new FilterCall(pos(name), full, args));
        }
        return filters;
    }

    private String dottedName(String first) {
        StringBuilder name = new StringBuilder(first);
        while (skipOperator(".")) name.append('.').append(expect(Kind.NAME, "name").text());
        return name.toString();
    }

    private Expr parseTest(Expr node) {
        Token is = next();
        boolean negated = skipName("not");
        String name = dottedName(expect(Kind.NAME, "name").text());
        Arguments args = Arguments.NONE;
        Token t = current();
        if (t.isOperator("(")) {
            args = parseArguments();
        } else if ((t.is(Kind.NAME) || t.is(Kind.STRING) || t.is(Kind.INTEGER) || t.is(Kind.FLOAT)
                || t.isOperator("[") || t.isOperator("{"))
                && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
            if (t.isName("is")) throw error("You cannot chain multiple tests with is", t);
            args = new Arguments(List.of(parsePostfix(parsePrimary())), List.of());
        }
        return new Test(pos(is), node, name, args, negated);
    }

    private Arguments parseArguments() {
        Token open = current();
        expectOperator("(");
        List<Expr> positional = new ArrayList<>();
        List<Keyword> keywords = new ArrayList<>();
        boolean needComma = false;
        while (!current().isOperator(")")) {
            if (needComma) {
                expectOperator(",");
                if (current().isOperator(")")) break;
            }
            Token t = current();
            if (t.isOperator("*") || t.isOperator("**")) {
                throw error("'*args' and '**kwargs' in calls are not supported in chat templates", t);
            }
            if (t.is(Kind.NAME) && peek(1).isOperator("=")) {
                next();
                next();
                keywords.add(new Keyword(t.text(), parseExpression(true)));
            } else {
                if (!keywords.isEmpty()) throw error("invalid syntax for function call expression", open);
                positional.add(parseExpression(true));
            }
            needComma = true;
        }
        expectOperator(")");
        return new Arguments(List.copyOf(positional), List.copyOf(keywords));
    }
}
