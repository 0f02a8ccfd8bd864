import SecureWorld

/// A TA host's output is the TA's to write: the daemon's `SanitizerSymbolizer` reads every line
/// of it looking for sanitizer frames. Any bytes must come back unchanged when no module has an
/// ELF (no lookup may run, none may trap), and a line with a known module must keep every byte
/// of the input, in order, with only annotations added.
nonisolated(unsafe) let unknown = SanitizerSymbolizer(elf: { _ in nil }, tool: "/nonexistent/addr2line")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSanitizerLine(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let line = String(decoding: UnsafeBufferPointer(start: data, count: min(size, 4096)), as: UTF8.self)
    precondition(unknown.annotate(line) == line, "a line changed without a module to place")
    return 0
}
