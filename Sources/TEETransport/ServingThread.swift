/// A thread that serves calls for its whole life (a channel's, a TA host's).
public enum ServingThread {
    @TaskLocal static var serving = false

    /// Runs `body` with a task-local bound for its whole duration. Outside a Swift task the
    /// runtime keeps task-local bindings in a per-thread storage that it allocates on a thread's
    /// first push and frees when its last binding is popped: every TA entry point pushes the
    /// current TEE (TEE.enter), so a serving thread with no binding of its own paid that storage's
    /// malloc and free on every call. Bound here, the storage lives as long as the thread.
    public static func run(_ body: () -> Void) {
        $serving.withValue(true) { body() }
    }
}
