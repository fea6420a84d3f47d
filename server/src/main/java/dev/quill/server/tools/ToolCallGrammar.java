package dev.quill.server.tools;

import dev.quill.engine.grammar.Expr;
import dev.quill.engine.grammar.Grammar;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The grammar of a message that consists of tool calls in a family's format, for {@code tool_choice: required} and
 * a named function: each call names one of the given functions and its arguments follow that function's grammar
 * (usually compiled from its parameter schema). The text is what the family's templates write for earlier calls, so
 * the model stays close to what it was trained on:
 *
 * <ul>
 *   <li>Hermes: {@code <tool_call>\n{"name": "f", "arguments": ARGS}\n</tool_call>}, calls separated by a newline;</li>
 *   <li>Llama 3 JSON: {@code {"name": "f", "parameters": ARGS}}, calls separated by {@code "; "};</li>
 *   <li>Mistral: {@code [TOOL_CALLS][{"name": "f", "arguments": ARGS}, ...]}.</li>
 * </ul>
 *
 * {@link ToolCallParser} reads every text of these grammars back as exactly these calls.
 */
public final class ToolCallGrammar {

    private ToolCallGrammar() {}

    /**
     * @param arguments the grammar of each callable function's arguments, by name, in the order to offer them
     * @param maxCalls  at least 1; {@link Integer#MAX_VALUE} for no limit
     */
    public static Grammar of(ToolCallFormat format, Map<String, Grammar> arguments, int maxCalls) {
        if (arguments.isEmpty()) throw new IllegalArgumentException("a tool-call grammar needs at least one function");
        if (maxCalls < 1) throw new IllegalArgumentException("maxCalls must be at least 1");
        Grammar.Builder b = Grammar.builder();
        List<Expr> calls = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, Grammar> function : arguments.entrySet()) {
            Expr args = b.include("args" + i++, function.getValue());
            String head = "{\"name\": \"" + function.getKey() + "\", \"" + format.argumentsKey() + "\": ";
            calls.add(new Expr.Seq(List.of(new Expr.Literal(head), args, new Expr.Literal("}"))));
        }
        b.rule("call", calls.size() == 1 ? calls.getFirst() : new Expr.Alt(calls));
        Expr call = new Expr.Ref("call");
        Expr root = switch (format) {
            case HERMES -> {
                b.rule("block", new Expr.Seq(List.of(new Expr.Literal(ToolCallFormat.HERMES_OPEN + "\n"), call,
                        new Expr.Literal("\n" + ToolCallFormat.HERMES_CLOSE))));
                yield repeated(new Expr.Ref("block"), "\n", maxCalls);
            }
            case LLAMA3_JSON -> repeated(call, "; ", maxCalls);
            case MISTRAL -> new Expr.Seq(List.of(new Expr.Literal(ToolCallFormat.MISTRAL_OPEN + "["),
                    repeated(call, ", ", maxCalls), new Expr.Literal("]")));
        };
        b.rule("root", root);
        return b.build("root");
    }

    /** {@code item (separator item){0, max-1}}. */
    private static Expr repeated(Expr item, String separator, int max) {
        if (max == 1) return item;
        int more = max == Integer.MAX_VALUE ? Expr.UNBOUNDED : max - 1;
        return new Expr.Seq(List.of(item, new Expr.Repeat(new Expr.Seq(List.of(new Expr.Literal(separator), item)), 0, more)));
    }
}
