package dev.quill.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `quill` command. Subcommands are registered here. */
@Command(name = "quill", mixinStandardHelpOptions = true, version = "quill 0.1.0",
        subcommands = {ServeCommand.class, GenerateCommand.class, BenchCommand.class, LoadTestCommand.class,
                MakeModelCommand.class},
        description = "An OpenAI-compatible LLM server with its own pure-Java inference engine.")
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
