import RemoteProc

/// CoreDumpReader on arbitrary bytes: a core file from any producer is untrusted.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCoreDump(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let dump = try? CoreDumpReader(bytes: bytes) {
        if let registers = dump.registers { _ = CoreDumpReader.describe(registers) }
        for segment in dump.segments { precondition(segment.offset + segment.size <= bytes.count) }
    }
    return 0
}
