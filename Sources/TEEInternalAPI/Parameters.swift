/// A memory reference as a TA sees it: a window into memory shared with the caller.
///
/// The caller can change shared memory at any time, so `read()` returns a private copy: parse
/// and check the copy, never the shared bytes twice. `size` starts as the caller's size; a TA
/// that needs a larger output buffer sets it to the size it needs and returns SHORT_BUFFER.
public struct MemoryReference: Sendable {
    let buffer: (any SharedByteBuffer)?
    let offset: Int
    /// The size the caller gave; reads and writes stay within it.
    public let capacity: Int
    public let direction: ParamType
    /// The size reported back to the caller.
    public var size: Int

    public init(buffer: (any SharedByteBuffer)?, offset: Int, size: Int, direction: ParamType) {
        precondition(buffer == nil || (offset >= 0 && size >= 0 && offset <= buffer!.count - size), "memory reference outside its buffer")
        self.buffer = buffer
        self.offset = offset
        self.capacity = size
        self.direction = direction
        self.size = size
    }

    /// The memory behind the reference and where the reference starts in it: for runtimes that
    /// carry a reference to another process (the TA host link), never for TA code.
    public var backing: (buffer: (any SharedByteBuffer)?, offset: Int) { (buffer, offset) }

    /// A NULL buffer (GP allows it, e.g. to ask for the output size).
    public var isNull: Bool { buffer == nil }

    /// Whether the memory is a TA's own (a `PrivateBuffer`), not memory shared with the normal
    /// world passed on: what a pseudo-TA asks before it writes a secret there.
    package var isTAPrivate: Bool { buffer is PrivateBuffer }

    /// A private copy of the caller's bytes. Requires an input direction.
    public func read() throws(TEEResult) -> [UInt8] {
        guard direction.isInput else { throw .accessDenied }
        guard let buffer else { return [] }
        return buffer.copyBytes(offset: offset, count: capacity)
    }

    /// A private copy of what the memory holds now, whatever the direction. A C TA can read its
    /// output buffers too (OP-TEE maps them read-write), and some read what their caller put
    /// there (optee_test's crypto_perf takes a signature in an output reference). What an output
    /// reference holds is what the client library put in the shared memory: for a temporary
    /// output memref, not necessarily the client's own bytes. Empty for a NULL buffer.
    public func readContents() -> [UInt8] {
        guard let buffer else { return [] }
        return buffer.copyBytes(offset: offset, count: capacity)
    }

    /// A private copy of `count` bytes at `offset` inside the reference (for reading headers of a
    /// large buffer without copying all of it). BAD_PARAMETERS if the range is outside.
    public func read(offset: Int, count: Int) throws(TEEResult) -> [UInt8] {
        guard direction.isInput else { throw .accessDenied }
        // Caller-controlled offset/count, checked without overflow against the capacity.
        guard offset >= 0, count >= 0, offset <= capacity, count <= capacity - offset else { throw .badParameters }
        guard let buffer else { throw .badParameters }
        return buffer.copyBytes(offset: self.offset + offset, count: count)
    }

    /// A reference to `size` bytes at `offset` inside this one, same buffer and direction: what a
    /// TA passes on to another TA or a pseudo-TA without copying.
    public func window(offset: Int, size: Int) throws(TEEResult) -> MemoryReference {
        guard offset >= 0, size >= 0, offset <= capacity, size <= capacity - offset, buffer != nil else { throw .badParameters }
        return MemoryReference(buffer: buffer, offset: self.offset + offset, size: size, direction: direction)
    }

    /// Reads the caller's bytes in place, without a copy, for one pass over bulk data (a sum, a
    /// digest, a copy elsewhere) — what a GP TA does with `memref.buffer`. The caller can change
    /// them while `body` runs (GP's TEE_MEMORY_ACCESS_ANY_OWNER memory): `body` must never check
    /// bytes and then rely on them; parse a `read()` copy instead. The pointer is valid only
    /// inside `body`. Requires an input direction.
    public func withUnsafeSharedBytes<R>(_ body: (UnsafeRawBufferPointer) throws(TEEResult) -> R) throws(TEEResult) -> R {
        guard direction.isInput else { throw .accessDenied }
        guard let buffer else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try buffer.withBytes(offset: offset, count: capacity, body)
    }

    /// Adds `delta` (wrapping) to the little-endian u32 at `offset` in the caller's memory as one
    /// atomic step, against the caller and every other TA doing the same at once (a C TA's
    /// `atomic_inc32` on `memref.buffer`), and returns the new value. Requires an in/out
    /// reference; `offset` must be a multiple of 4 inside it (BAD_PARAMETERS).
    public func atomicWrappingAdd(at offset: Int, _ delta: UInt32) throws(TEEResult) -> UInt32 {
        guard direction == .memrefInout else { throw .accessDenied }
        // Caller-controlled offset, checked without overflow; the alignment is of the memory.
        guard let buffer, offset >= 0, capacity >= 4, offset <= capacity - 4 else { throw .badParameters }
        guard let value = buffer.atomicWrappingAdd(offset: self.offset + offset, delta) else { throw .badParameters }
        return value
    }

    /// Copies the whole reference into raw memory the caller owns (`capacity` bytes there), in
    /// one pass: the firmware loader's path into coprocessor memory.
    public func copy(to destination: UnsafeMutableRawPointer) throws(TEEResult) {
        guard direction.isInput else { throw .accessDenied }
        guard let buffer else { throw .badParameters }
        buffer.copyBytes(offset: offset, count: capacity, to: destination)
    }

    /// Copies the whole reference into `destination` at `at` in one pass (one read of the
    /// shared bytes). The caller has checked the destination range.
    public func copy(into destination: inout [UInt8], at: Int) throws(TEEResult) {
        guard direction.isInput else { throw .accessDenied }
        guard let buffer else { throw .badParameters }
        buffer.copyBytes(offset: offset, count: capacity, into: &destination, at: at)
    }

    /// Writes `bytes` at the start of the buffer and reports `bytes.count` as the size. Throws
    /// SHORT_BUFFER (with `size` set to what is needed) if they do not fit — into a NULL buffer
    /// only nothing fits (xtest 4017 updates a cipher one byte at a time with a NULL output: a
    /// byte that completes no block produces nothing, and that is SUCCESS, not SHORT_BUFFER).
    public mutating func write(_ bytes: [UInt8]) throws(TEEResult) {
        guard direction.isOutput else { throw .accessDenied }
        guard let buffer else {
            size = bytes.count
            if !bytes.isEmpty { throw .shortBuffer }
            return
        }
        guard bytes.count <= capacity else {
            size = bytes.count
            throw .shortBuffer
        }
        buffer.store(bytes, at: offset)
        size = bytes.count
    }

    /// GP's `TEE_CheckMemoryAccessRights` for this reference: READ 0x1, WRITE 0x2, ANY_OWNER
    /// 0x4. Memory shared with a client may change under the TA, so a check that does not
    /// state ANY_OWNER fails for it (as in OP-TEE). A failed check is ACCESS_DENIED, GP's code (and
    /// OP-TEE's libutee's); this answered ACCESS_CONFLICT before.
    public func checkAccessRights(_ flags: UInt32) throws(TEEResult) {
        guard flags & ~UInt32(0x7) == 0 else { throw .badParameters }
        if flags & 0x1 != 0 && !direction.isInput { throw .accessDenied }
        if flags & 0x2 != 0 && !direction.isOutput { throw .accessDenied }
        if flags & 0x4 == 0 && buffer != nil { throw .accessDenied }
    }
}

public enum Parameter: Sendable {
    case none
    case value(a: UInt32, b: UInt32)
    case memref(MemoryReference)
}

/// The four parameters of an entry point and their packed types.
public struct Parameters: Sendable {
    public let types: ParamTypes
    public var params: [Parameter]

    public init(types: ParamTypes, params: [Parameter]) {
        precondition(params.count == 4, "four parameters")
        self.types = types
        self.params = params
    }

    public static var empty: Parameters { Parameters(types: .none, params: [.none, .none, .none, .none]) }

    /// The GP idiom: compare the packed types with what the command expects.
    public func require(_ expected: ParamTypes) throws(TEEResult) {
        guard types == expected else { throw .badParameters }
    }

    public subscript(index: Int) -> Parameter {
        get { params[index] }
        set { params[index] = newValue }
    }

    /// Value parameter `i` (a, b). Panics if parameter `i` is not a value: the TA checked types.
    public func value(_ i: Int) -> (a: UInt32, b: UInt32) {
        guard case .value(let a, let b) = params[i] else { TEE.current.panic(0xBAD0_0001, "parameter \(i) is not a value") }
        return (a, b)
    }

    public mutating func setValue(_ i: Int, a: UInt32, b: UInt32 = 0) {
        guard types[i].isOutput, case .value = params[i] else { TEE.current.panic(0xBAD0_0002, "parameter \(i) is not an output value") }
        params[i] = .value(a: a, b: b)
    }

    /// Memory reference `i`. Panics if parameter `i` is not a memref: the TA checked types.
    public func memref(_ i: Int) -> MemoryReference {
        guard case .memref(let m) = params[i] else { TEE.current.panic(0xBAD0_0003, "parameter \(i) is not a memory reference") }
        return m
    }

    /// Runs a GP output function with memref `index`'s capacity as its output length and writes
    /// what it produced there; when it fails (SHORT_BUFFER above all) the memref's size becomes
    /// the length the function reported — what a C TA gets by passing `&params[i].memref.size`.
    /// A NULL memref offers no room whatever size the caller gave (a size query), so a function
    /// that must produce bytes refuses with SHORT_BUFFER before it changes its state.
    public mutating func produceOutput(at index: Int, _ produce: (inout Int) throws(TEEResult) -> [UInt8]) throws(TEEResult) {
        var length = memref(index).isNull ? 0 : memref(index).capacity
        do {
            let out = try produce(&length)
            try withMemref(index) { (m) throws(TEEResult) in try m.write(out) }
        } catch {
            try withMemref(index) { (m) throws(TEEResult) in m.size = length }
            throw error
        }
    }

    /// Runs `body` on memref `i` and stores the result (its size) back.
    public mutating func withMemref<R>(_ i: Int, _ body: (inout MemoryReference) throws(TEEResult) -> R) throws(TEEResult) -> R {
        var m = memref(i)
        defer { params[i] = .memref(m) }
        return try body(&m)
    }
}

/// Memory private to a TA, for parameters it passes to another TA or a pseudo-TA.
public final class PrivateBuffer: SharedByteBuffer {
    private let storage: Locked<[UInt8]>
    public let count: Int

    public init(bytes: [UInt8]) {
        count = bytes.count
        storage = Locked(bytes)
    }

    public func atomicWrappingAdd(offset: Int, _ delta: UInt32) -> UInt32? {
        precondition(offset >= 0 && offset <= count - 4, "private buffer atomic out of range")
        guard offset % 4 == 0 else { return nil }
        return storage.withLock { wrappingAddLittleEndian(&$0, at: offset, delta) }
    }

    public func copyBytes(offset: Int, count: Int) -> [UInt8] {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "private buffer read out of range")
        return storage.withLock { Array($0[offset..<(offset + count)]) }
    }

    public func store(_ bytes: [UInt8], at offset: Int) {
        precondition(offset >= 0 && offset <= count - bytes.count, "private buffer write out of range")
        storage.withLock { $0.replaceSubrange(offset..<(offset + bytes.count), with: bytes) }
    }
}

extension MemoryReference {
    /// An input reference to a private copy of `bytes`.
    public static func privateInput(_ bytes: [UInt8]) -> MemoryReference {
        MemoryReference(buffer: PrivateBuffer(bytes: bytes), offset: 0, size: bytes.count, direction: .memrefInput)
    }

    /// An in/out reference to a private copy of `bytes` (the callee reads them and may change them).
    public static func privateInout(_ bytes: [UInt8]) -> MemoryReference {
        MemoryReference(buffer: PrivateBuffer(bytes: bytes), offset: 0, size: bytes.count, direction: .memrefInout)
    }

    /// An output reference to `capacity` bytes of private memory.
    public static func privateOutput(capacity: Int) -> MemoryReference {
        MemoryReference(buffer: PrivateBuffer(bytes: [UInt8](repeating: 0, count: capacity)), offset: 0, size: capacity, direction: .memrefOutput)
    }

    /// What a callee wrote into this output reference: the first `size` bytes (at most the capacity).
    public func written() throws(TEEResult) -> [UInt8] {
        guard let buffer, size >= 0 else { throw .badParameters }
        return buffer.copyBytes(offset: offset, count: min(size, capacity))
    }
}
