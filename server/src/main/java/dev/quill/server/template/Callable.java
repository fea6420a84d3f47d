package dev.quill.server.template;

/** Something a template can call: globals, macros, bound methods such as {@code 'x'.strip}, {@code loop.cycle}. */
interface Callable {

    Object call(Renderer renderer, Args args);

    /** How Python's str() shows it. */
    String describe();
}
