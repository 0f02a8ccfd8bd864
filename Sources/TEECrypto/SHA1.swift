internal import CMbedTLS

/// SHA-1, for name-based identifiers only (UUIDv5, RFC 9562 §5.5, as Linux's TEE driver derives
/// client identities) — never for signatures or image hashes, where it is refused.
public enum SHA1 {
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        let info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1)
        let ret = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { o in mbedtls_md(info, input.baseAddress, input.count, o.baseAddress) }
        }
        precondition(ret == 0, "mbedtls_md(SHA-1) failed: \(ret)")
        return out
    }
}
