import TEEWire

/// The frames a TA host writes into its link, as the core decodes them (attacker: a malicious
/// or broken TA in its own process).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHostFrame(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // A frame that decodes must encode back to the same bytes (the format has one encoding).
    if let message = try? HostMessage(decoding: bytes) {
        precondition(message.encoded() == bytes, "decode/encode is not the identity")
    }
    return 0
}
