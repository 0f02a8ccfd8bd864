/// Bounds-checked little-endian reads from a byte array. Every read either returns a value
/// from inside the array or throws `.truncated` naming the field; no read can trap.
struct ByteReader {
    let bytes: [UInt8]
    /// Where `bytes[0]` sits in the file, so errors report file offsets.
    let base: Int
    private(set) var position: Int

    init(_ bytes: [UInt8], base: Int = 0) {
        self.bytes = bytes
        self.base = base
        self.position = 0
    }

    var remaining: Int { bytes.count - position }
    var isAtEnd: Bool { position == bytes.count }
    var fileOffset: Int { base + position }

    mutating func u8(_ field: String) throws -> UInt8 {
        try require(1, field)
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16(_ field: String) throws -> UInt16 {
        try require(2, field)
        defer { position += 2 }
        return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
    }

    mutating func u32(_ field: String) throws -> UInt32 {
        try require(4, field)
        defer { position += 4 }
        return readLE32(bytes, position)
    }

    mutating func u64(_ field: String) throws -> UInt64 {
        try require(8, field)
        defer { position += 8 }
        return UInt64(readLE32(bytes, position)) | UInt64(readLE32(bytes, position + 4)) << 32
    }

    mutating func take(_ count: Int, _ field: String) throws -> [UInt8] {
        try require(count, field)
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    mutating func skip(_ count: Int, _ field: String) throws {
        try require(count, field)
        position += count
    }

    private func require(_ count: Int, _ field: String) throws {
        // Attacker-controlled: `count` may come from a length field; compared against what is
        // left, so the check cannot overflow (position ≤ bytes.count always holds).
        guard count >= 0, count <= bytes.count - position else {
            throw ImageError(.truncated, "\(field): needs \(count) bytes, \(bytes.count - position) left", offset: base + position)
        }
    }
}

@inline(__always)
func readLE32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
}

extension Array where Element == UInt8 {
    mutating func appendLE32(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 24))
    }

    mutating func appendLE16(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

}

/// Bytes of zero padding after `length` bytes to reach a multiple of 8.
@inline(__always)
func paddingTo8(_ length: Int) -> Int { (8 - length % 8) % 8 }

func hex(_ value: some BinaryInteger) -> String { "0x" + String(value, radix: 16) }
