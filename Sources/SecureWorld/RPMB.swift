import Foundation
import TEECrypto
import TEEInternalAPI

/// A JEDEC RPMB data frame (eMMC 5.1, "Replay Protected Memory Block"; OP-TEE's
/// `struct rpmb_data_frame`): 512 bytes, big-endian fields, the MAC an HMAC-SHA256 under the
/// device's authentication key of bytes 228…511 of every frame of a message.
///
/// ```
/// 0    stuff bytes (196)        228  data (256)              500  write counter (u32)
/// 196  key / MAC (32)           484  nonce (16)              504  address (u16)
/// 506  block count (u16)        508  result (u16)            510  request / response (u16)
/// ```
public enum RPMBFrame {
    public static let size = 512
    public static let dataSize = 256
    static let keyMAC = 196..<228, data = 228..<484, nonce = 484..<500
    static let counterAt = 500, addressAt = 504, blockCountAt = 506, resultAt = 508, typeAt = 510
    /// The bytes the MAC covers.
    static let macCovered = 228..<512

    public enum Request: UInt16 {
        case programKey = 1, readCounter = 2, write = 3, read = 4, resultRead = 5
        var response: UInt16 { rawValue << 8 }
    }

    public enum Result: UInt16 {
        case ok = 0, generalFailure = 1, authenticationFailure = 2, counterFailure = 3, addressFailure = 4
        case writeFailure = 5, readFailure = 6, keyNotProgrammed = 7
    }
    /// Set in a result once the write counter has reached its end.
    public static let counterExpired: UInt16 = 0x80

    static func u16(_ f: [UInt8], _ at: Int) -> UInt16 { UInt16(f[at]) << 8 | UInt16(f[at + 1]) }
    static func u32(_ f: [UInt8], _ at: Int) -> UInt32 { f[at..<at + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
    static func set16(_ f: inout [UInt8], _ at: Int, _ v: UInt16) { f[at] = UInt8(v >> 8); f[at + 1] = UInt8(truncatingIfNeeded: v) }
    static func set32(_ f: inout [UInt8], _ at: Int, _ v: UInt32) { for i in 0..<4 { f[at + i] = UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32(i))) } }

    static func mac(_ frames: [[UInt8]], key: SecureBytes) -> [UInt8] {
        var h = try! HMAC(.sha256, key: key)
        for f in frames { h.update(f[macCovered]) }
        return h.finalize()
    }
}

/// An eMMC's RPMB partition, emulated in a file (`secure-world --rpmb FILE`): an authentication
/// key that can be programmed once, a write counter, 256-byte blocks, and JEDEC's protocol — a
/// write is accepted only with the key's MAC and the current counter (then the counter counts
/// up), a read answers with the caller's nonce under the key's MAC. This is the device side: what
/// tee-supplicant passes OP-TEE's RPMB frames to (`operate`). What it can promise is what the
/// file can: nobody without the key writes it undetected, and restoring the state folder does not
/// restore it; but it is a file — whoever restores it together with the folder, or deletes it,
/// rolls the device back, as no real RPMB can be (README "Trusted storage").
///
/// ```
/// 0     "RPMBEMU1"           12  u32 write counter (LE)      48  key (32)
/// 8     u8 key programmed    16  CID (16, random at creation) 4096 + 256·i  block i
/// 32    u32 block count (LE)
/// ```
public final class EmulatedRPMB: @unchecked Sendable {
    // @unchecked: every access runs under `lock` and an flock of the file.
    public let url: URL
    public let blockCount: Int
    private let lock = NSLock()
    static let magic = Array("RPMBEMU1".utf8)
    static let blocksAt = 4096
    public static let defaultBlocks = 256
    static let maxBlocks = 1 << 16

    /// Opens the device in `file`, creating it (unprogrammed, `blocks` blocks, a random CID) if
    /// it does not exist. A file that is not a device is refused, never overwritten.
    public init(file: URL, blocks: Int = EmulatedRPMB.defaultBlocks) throws(TEEResult) {
        url = file
        let fd = open(file.path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .storageNotAvailable }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 { guard errno == EINTR else { throw .storageNotAvailable } }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .storageNotAvailable }
        if st.st_size == 0 {
            guard (1...Self.maxBlocks).contains(blocks), let cid = try? RandomGenerator.shared.bytes(count: 16) else { throw .storageNotAvailable }
            var header = [UInt8](repeating: 0, count: Self.blocksAt)
            header.replaceSubrange(0..<8, with: Self.magic)
            header.replaceSubrange(16..<32, with: cid)
            for i in 0..<4 { header[32 + i] = UInt8(truncatingIfNeeded: blocks >> (8 * i)) }
            guard header.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, 0) }) == Self.blocksAt,
                  ftruncate(fd, off_t(Self.blocksAt + blocks * RPMBFrame.dataSize)) == 0 else { throw .storageNotAvailable }
            blockCount = blocks
        } else {
            // Attacker: whoever wrote the file — it must be a device of the size it says.
            var header = [UInt8](repeating: 0, count: 64)
            guard header.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, 64, 0) }) == 64, Array(header[0..<8]) == Self.magic, header[8] <= 1 else {
                throw .storageNotAvailable
            }
            let n = Int(header[32..<36].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard (1...Self.maxBlocks).contains(n), st.st_size == off_t(Self.blocksAt + n * RPMBFrame.dataSize) else { throw .storageNotAvailable }
            blockCount = n
        }
    }

    /// The card's CID (what OP-TEE derives the key from with its hardware unique key).
    public func cid() throws(TEEResult) -> [UInt8] {
        try withDevice { fd throws(TEEResult) in Array(try Self.readAt(fd, 16, at: 16)) }
    }

    /// One RPMB message, as tee-supplicant hands it to the card: request frames in, response
    /// frames out (a write or a key programming answers its result read). Attacker: whoever
    /// sends frames — every field is checked, a request that is not well-formed answers a
    /// failure frame, never a change.
    public func operate(_ request: [[UInt8]]) -> [[UInt8]] {
        guard let first = request.first, request.allSatisfy({ $0.count == RPMBFrame.size }), request.count <= 256 else {
            return [response(.generalFailure, type: 0)]
        }
        let type = RPMBFrame.u16(first, RPMBFrame.typeAt)
        do {
            return try withDevice { fd throws(TEEResult) in try handle(fd, type, request) }
        } catch {
            return [response(.generalFailure, type: type << 8)]
        }
    }

    private func handle(_ fd: Int32, _ type: UInt16, _ request: [[UInt8]]) throws(TEEResult) -> [[UInt8]] {
        let header = try Self.readAt(fd, 80, at: 0)
        let programmed = header[8] == 1
        let counter = header[12..<16].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let key = SecureBytes(header[48..<80])
        switch RPMBFrame.Request(rawValue: type) {
        case .programKey:
            guard request.count == 1 else { return [response(.generalFailure, type: type << 8)] }
            guard !programmed else { return [response(.generalFailure, type: type << 8)] }
            var h = header
            h[8] = 1
            h.replaceSubrange(48..<80, with: request[0][RPMBFrame.keyMAC])
            try Self.writeAt(fd, Array(h[48..<80]), at: 48)
            try Self.writeAt(fd, [1], at: 8)
            return [response(.ok, type: type << 8)]
        case .readCounter:
            guard programmed else { return [response(.keyNotProgrammed, type: type << 8)] }
            var f = response(.ok, type: type << 8, counter: counter)
            if counter == .max { RPMBFrame.set16(&f, RPMBFrame.resultAt, RPMBFrame.counterExpired) }
            f.replaceSubrange(RPMBFrame.nonce, with: request[0][RPMBFrame.nonce])
            return [sign(f, key: key)]
        case .write:
            guard programmed else { return [response(.keyNotProgrammed, type: type << 8)] }
            let last = request[request.count - 1]
            let address = Int(RPMBFrame.u16(first(request), RPMBFrame.addressAt)), count = Int(RPMBFrame.u16(first(request), RPMBFrame.blockCountAt))
            guard constantTimeEquals(RPMBFrame.mac(request, key: key), last[RPMBFrame.keyMAC]) else {
                return [signed(.authenticationFailure, type, counter, address, key)]
            }
            guard counter != .max else { return [signed(.writeFailure, type, counter, address, key, expired: true)] }
            guard RPMBFrame.u32(first(request), RPMBFrame.counterAt) == counter else { return [signed(.counterFailure, type, counter, address, key)] }
            guard count == request.count, address + count <= blockCount else { return [signed(.addressFailure, type, counter, address, key)] }
            // The blocks, then the counter: a device killed in between holds the new data under
            // the old counter — the next write is refused until its writer reads the counter again.
            CrashPoint.step()
            try Self.writeAt(fd, request.flatMap { $0[RPMBFrame.data] }, at: Self.blocksAt + address * RPMBFrame.dataSize)
            let next = counter + 1
            try Self.writeAt(fd, (0..<4).map { UInt8(truncatingIfNeeded: next >> (8 * UInt32($0))) }, at: 12)
            return [signed(.ok, type, next, address, key, expired: next == .max)]
        case .read:
            guard programmed else { return [response(.keyNotProgrammed, type: type << 8)] }
            let address = Int(RPMBFrame.u16(request[0], RPMBFrame.addressAt))
            let count = max(1, Int(RPMBFrame.u16(request[0], RPMBFrame.blockCountAt)))
            guard count <= 256, address + count <= blockCount else { return [response(.addressFailure, type: type << 8)] }
            let bytes = try Self.readAt(fd, count * RPMBFrame.dataSize, at: Self.blocksAt + address * RPMBFrame.dataSize)
            var frames: [[UInt8]] = []
            for i in 0..<count {
                var f = response(.ok, type: type << 8)
                f.replaceSubrange(RPMBFrame.data, with: bytes[(i * RPMBFrame.dataSize)..<((i + 1) * RPMBFrame.dataSize)])
                f.replaceSubrange(RPMBFrame.nonce, with: request[0][RPMBFrame.nonce])
                RPMBFrame.set16(&f, RPMBFrame.addressAt, UInt16(address))
                RPMBFrame.set16(&f, RPMBFrame.blockCountAt, UInt16(count))
                frames.append(f)
            }
            frames[count - 1].replaceSubrange(RPMBFrame.keyMAC, with: RPMBFrame.mac(frames, key: key))
            return frames
        case .resultRead, nil:
            return [response(.generalFailure, type: type << 8)]
        }
    }

    private func first(_ request: [[UInt8]]) -> [UInt8] { request[0] }

    private func response(_ result: RPMBFrame.Result, type: UInt16, counter: UInt32 = 0) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: RPMBFrame.size)
        RPMBFrame.set16(&f, RPMBFrame.resultAt, result.rawValue)
        RPMBFrame.set16(&f, RPMBFrame.typeAt, type)
        RPMBFrame.set32(&f, RPMBFrame.counterAt, counter)
        return f
    }

    /// A write's result, as its result read answers it: signed.
    private func signed(_ result: RPMBFrame.Result, _ type: UInt16, _ counter: UInt32, _ address: Int, _ key: SecureBytes, expired: Bool = false) -> [UInt8] {
        var f = response(result, type: RPMBFrame.Request.write.response, counter: counter)
        if expired { RPMBFrame.set16(&f, RPMBFrame.resultAt, result.rawValue | RPMBFrame.counterExpired) }
        RPMBFrame.set16(&f, RPMBFrame.addressAt, UInt16(truncatingIfNeeded: address))
        return sign(f, key: key)
    }

    private func sign(_ frame: [UInt8], key: SecureBytes) -> [UInt8] {
        var f = frame
        f.replaceSubrange(RPMBFrame.keyMAC, with: RPMBFrame.mac([frame], key: key))
        return f
    }

    private func withDevice<T>(_ body: (Int32) throws(TEEResult) -> T) throws(TEEResult) -> T {
        lock.lock()
        defer { lock.unlock() }
        let fd = open(url.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .storageNotAvailable }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 { guard errno == EINTR else { throw .storageNotAvailable } }
        return try body(fd)
    }

    private static func readAt(_ fd: Int32, _ count: Int, at offset: Int) throws(TEEResult) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard out.withUnsafeMutableBytes({ Glibc.pread(fd, $0.baseAddress, count, off_t(offset)) }) == count else { throw .storageNotAvailable }
        return out
    }

    private static func writeAt(_ fd: Int32, _ bytes: [UInt8], at offset: Int) throws(TEEResult) {
        guard bytes.withUnsafeBytes({ Glibc.pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }) == bytes.count else { throw .storageNotAvailable }
    }
}

/// The secure side of the RPMB device: the authentication key (HKDF of the device secret and the
/// card's CID, as OP-TEE derives it from its hardware unique key and the CID), programmed on
/// first use; authenticated reads (a fresh nonce, the device's MAC) and writes (the current
/// counter, our MAC, the device's signed result).
final class RPMBClient: @unchecked Sendable {
    // @unchecked: every exchange runs under `lock`.
    let device: EmulatedRPMB
    private let key: SecureBytes
    private let lock = NSLock()

    init(device: EmulatedRPMB, deviceSecret: SecureBytes) throws(TEEResult) {
        self.device = device
        do {
            key = try HKDF.deriveKey(inputKeyMaterial: deviceSecret, salt: try device.cid(), info: Array("rproc-tee rpmb key".utf8), outputLength: 32)
        } catch {
            throw .storageNotAvailable
        }
    }

    private func request(_ type: RPMBFrame.Request) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: RPMBFrame.size)
        RPMBFrame.set16(&f, RPMBFrame.typeAt, type.rawValue)
        return f
    }

    /// Attacker: the device (the normal world passes its frames): an answer must carry our
    /// nonce and the key's MAC.
    private func counter() throws(TEEResult) -> UInt32 {
        var f = request(.readCounter)
        let nonce = try Self.nonce()
        f.replaceSubrange(RPMBFrame.nonce, with: nonce)
        var answer = device.operate([f])
        if answer.count == 1, RPMBFrame.u16(answer[0], RPMBFrame.resultAt) == RPMBFrame.Result.keyNotProgrammed.rawValue {
            // First use: the key goes in once (a device keeps it for good).
            var program = request(.programKey)
            key.withUnsafeBytes { program.replaceSubrange(RPMBFrame.keyMAC, with: $0) }
            let done = device.operate([program])
            guard done.count == 1, RPMBFrame.u16(done[0], RPMBFrame.resultAt) == RPMBFrame.Result.ok.rawValue else { throw .storageNotAvailable }
            answer = device.operate([f])
        }
        guard answer.count == 1, RPMBFrame.u16(answer[0], RPMBFrame.typeAt) == RPMBFrame.Request.readCounter.response,
              constantTimeEquals(RPMBFrame.mac(answer, key: key), answer[0][RPMBFrame.keyMAC]), Array(answer[0][RPMBFrame.nonce]) == nonce else {
            // Another key (a device programmed by another TEE, another device secret), or forged.
            throw .storageNotAvailable
        }
        guard RPMBFrame.u16(answer[0], RPMBFrame.resultAt) & 0x7F == 0 else { throw .storageNotAvailable }
        return RPMBFrame.u32(answer[0], RPMBFrame.counterAt)
    }

    /// Block `address`'s 256 bytes, authenticated.
    func read(_ address: Int) throws(TEEResult) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        do {
            _ = try counter()   // programs the key on first use
            var f = request(.read)
            let nonce = try Self.nonce()
            f.replaceSubrange(RPMBFrame.nonce, with: nonce)
            RPMBFrame.set16(&f, RPMBFrame.addressAt, UInt16(address))
            RPMBFrame.set16(&f, RPMBFrame.blockCountAt, 1)
            let answer = device.operate([f])
            guard answer.count == 1, RPMBFrame.u16(answer[0], RPMBFrame.resultAt) == 0,
                  RPMBFrame.u16(answer[0], RPMBFrame.typeAt) == RPMBFrame.Request.read.response,
                  constantTimeEquals(RPMBFrame.mac(answer, key: key), answer[0][RPMBFrame.keyMAC]),
                  Array(answer[0][RPMBFrame.nonce]) == nonce, Int(RPMBFrame.u16(answer[0], RPMBFrame.addressAt)) == address else {
                throw .storageNotAvailable
            }
            return Array(answer[0][RPMBFrame.data])
        }
    }

    /// Writes block `address`: under the current counter, confirmed by the device's signed
    /// result with the counter one up.
    func write(_ address: Int, _ data: [UInt8]) throws(TEEResult) {
        precondition(data.count == RPMBFrame.dataSize)
        lock.lock()
        defer { lock.unlock() }
        do {
            let counter = try counter()
            var f = request(.write)
            f.replaceSubrange(RPMBFrame.data, with: data)
            RPMBFrame.set32(&f, RPMBFrame.counterAt, counter)
            RPMBFrame.set16(&f, RPMBFrame.addressAt, UInt16(address))
            RPMBFrame.set16(&f, RPMBFrame.blockCountAt, 1)
            f.replaceSubrange(RPMBFrame.keyMAC, with: RPMBFrame.mac([f], key: key))
            let answer = device.operate([f])
            guard answer.count == 1, RPMBFrame.u16(answer[0], RPMBFrame.typeAt) == RPMBFrame.Request.write.response,
                  constantTimeEquals(RPMBFrame.mac(answer, key: key), answer[0][RPMBFrame.keyMAC]),
                  RPMBFrame.u16(answer[0], RPMBFrame.resultAt) & 0x7F == 0, RPMBFrame.u32(answer[0], RPMBFrame.counterAt) == counter &+ 1 else {
                throw .storageNoSpace
            }
        }
    }

    private static func nonce() throws(TEEResult) -> [UInt8] {
        do { return try RandomGenerator.shared.bytes(count: 16) } catch { throw .storageNotAvailable }
    }
}

/// One storage folder's root as the RPMB device records it: block `address` holds the root's
/// sequence and SHA-256. `StorageRoot` holds the folder's root to it: the same (current), one
/// behind the root (the root file was written, the device not yet: repaired), never written
/// (the folder's first use with a device — unless the root says it was anchored before: then
/// the device was wiped or replaced), anything else: the folder rolled back whole, or replaced.
///
/// ```
/// block   "RPA1", u64 sequence (LE), SHA-256 of the root record (32), zeros
/// ```
final class RPMBAnchor: @unchecked Sendable {
    let client: RPMBClient
    let address: Int
    static let magic = Array("RPA1".utf8)

    enum State { case matches, oneBehind, empty, mismatch }

    init(client: RPMBClient, address: Int) {
        self.client = client
        self.address = address
    }

    func state(of root: [UInt8], sequence: UInt64) throws(TEEResult) -> State {
        let block = try client.read(address)
        guard Array(block[0..<4]) == Self.magic else {
            // Attacker: none (the device's MAC covers the block): never written, or not ours.
            return block.allSatisfy({ $0 == 0 }) ? .empty : .mismatch
        }
        let anchored = block[4..<12].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if anchored == sequence { return Array(block[12..<44]) == Digest.hash(.sha256, root).bytes ? .matches : .mismatch }
        return sequence == anchored &+ 1 ? .oneBehind : .mismatch
    }

    func record(_ root: [UInt8], sequence: UInt64) throws(TEEResult) {
        var block = Self.magic + (0..<8).map { UInt8(truncatingIfNeeded: sequence >> (8 * UInt64($0))) } + Digest.hash(.sha256, root).bytes
        block += [UInt8](repeating: 0, count: RPMBFrame.dataSize - block.count)
        try client.write(address, block)
    }
}
