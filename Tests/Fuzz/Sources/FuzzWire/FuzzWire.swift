import TEEWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // A frame that decodes must encode back to the same bytes (the format has one encoding).
    if let message = try? WireCodec.decode(bytes) {
        precondition(WireCodec.encode(message) == bytes, "decode/encode is not the identity")
    }
    return 0
}
