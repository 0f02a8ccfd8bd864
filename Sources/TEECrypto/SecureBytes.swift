internal import CMbedTLS

/// Bytes that hold a secret: a private key's encoding, a derived key, a shared secret.
///
/// The storage is zeroized (with `mbedtls_platform_zeroize`, which the compiler cannot elide)
/// when the last copy is released, and comparing two values takes the same time whatever
/// their contents. Copies share storage until one is mutated (copy on write).
public struct SecureBytes: Sendable {
    final class Storage: @unchecked Sendable {
        // SAFETY: `buffer` is allocated here with `count` bytes, written only through
        // `SecureBytes`'s copy-on-write paths, and zeroized then freed in deinit.
        let buffer: UnsafeMutableRawBufferPointer

        init(count: Int) {
            buffer = .allocate(byteCount: Swift.max(count, 1), alignment: 16)
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            self.count = count
        }

        let count: Int

        deinit {
            mbedtls_platform_zeroize(buffer.baseAddress, buffer.count)
            buffer.deallocate()
        }
    }

    private var storage: Storage

    /// `count` zero bytes.
    public init(count: Int) {
        precondition(count >= 0, "negative SecureBytes count")
        storage = Storage(count: count)
    }

    public init(_ bytes: some Collection<UInt8>) {
        storage = Storage(count: bytes.count)
        withContiguousBytes(bytes) { source in
            if let base = source.baseAddress { storage.buffer.baseAddress!.copyMemory(from: base, byteCount: source.count) }
        }
    }

    /// Takes over a byte array and wipes the array's own storage afterwards, so the secret
    /// lives only in zeroizing memory.
    public init(consuming bytes: inout [UInt8]) {
        self.init(bytes)
        bytes.withUnsafeMutableBytes { mbedtls_platform_zeroize($0.baseAddress, $0.count) }
        bytes = []
    }

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.count == 0 }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage.buffer)[0..<storage.count]))
    }

    public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = Storage(count: storage.count)
            copy.buffer.copyMemory(from: UnsafeRawBufferPointer(storage.buffer))
            storage = copy
        }
        return try body(UnsafeMutableRawBufferPointer(rebasing: storage.buffer[0..<storage.count]))
    }

    /// A plain copy of the bytes. The caller takes over the duty of keeping them secret.
    public var unsafeBytes: [UInt8] { withUnsafeBytes { Array($0) } }
}

extension SecureBytes: Equatable {
    /// Constant-time for equal lengths; lengths themselves are not secret.
    public static func == (lhs: SecureBytes, rhs: SecureBytes) -> Bool {
        lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in constantTimeEquals(a, b) } }
    }
}

extension SecureBytes: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never prints the contents.
    public var description: String { "SecureBytes(\(count) bytes)" }
    public var debugDescription: String { description }
}

/// Compares two byte buffers in time that depends only on their lengths. Different lengths
/// compare unequal at once: lengths are public everywhere this is used.
public func constantTimeEquals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0 else { return true }
    return mbedtls_ct_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
}

/// `constantTimeEquals` for any two byte collections.
public func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    withContiguousBytes(a) { pa in withContiguousBytes(b) { pb in constantTimeEquals(pa, pb) } }
}

/// Wipes `bytes[range]` with `mbedtls_platform_zeroize`, which the compiler cannot elide (a
/// plain store of zeros to memory that is never read again may be removed). Used where secret
/// or firmware memory is released. `range` must lie inside `bytes`.
public func zeroize(_ bytes: inout [UInt8], range: Range<Int>) {
    precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "zeroize range out of bounds")
    bytes.withUnsafeMutableBytes { raw in
        guard let base = raw.baseAddress, !range.isEmpty else { return }
        mbedtls_platform_zeroize(base + range.lowerBound, range.count)
    }
}
