import FirmwareImage
import RemoteProcTAInterface
import TEEClient

/// What Linux does with `memremap`: normal-world access to physical memory, subject to the
/// platform's firewall (firmware-private memory is denied).
public protocol PhysicalMemoryAccess: Sendable {
    func read(pa: UInt64, count: Int) throws -> [UInt8]
    func write(pa: UInt64, bytes: [UInt8]) throws
}

/// The normal world's map of a coprocessor's device addresses (from its device tree): for the
/// trace buffer and vrings that the resource table names by device address.
public struct DeviceMemoryMap: Sendable {
    public struct Range: Sendable {
        public let da: UInt64, pa: UInt64, size: UInt64
        public init(da: UInt64, pa: UInt64, size: UInt64) {
            self.da = da
            self.pa = pa
            self.size = size
        }
    }

    public let ranges: [Range]
    public init(_ ranges: [Range]) { self.ranges = ranges }

    public func pa(forDA da: UInt64, size: UInt64 = 1) -> UInt64? {
        ranges.first { da >= $0.da && size <= $0.size && da - $0.da <= $0.size - size }.map { $0.pa + (da - $0.da) }
    }
}

/// A failed driver step: which step, and the TEE result or memory error behind it.
public struct RemoteProcError: Error, CustomStringConvertible, Sendable {
    public let step: String
    public let result: TEEResult?
    public let reason: String
    public var description: String { "\(step): \(reason)" }
}

/// Linux's remoteproc core with the tee backend (`remoteproc_tee`), as a library: it drives the
/// remoteproc TA exactly as the kernel does and handles the resource table on the normal side.
public final class RemoteProcessor: @unchecked Sendable {
    // @unchecked: a driver instance is used from one thread at a time, as the kernel's is.
    public enum State: String, Sendable { case offline, running, crashed }

    public let id: UInt32
    public let name: String
    let context: TEEContext
    let memory: any PhysicalMemoryAccess
    let map: DeviceMemoryMap
    let log: (String) -> Void
    var session: TEESession?
    public private(set) var state = State.offline {
        didSet { if state != .crashed { crashReason = nil } }
    }
    /// Why the coprocessor crashed, as the platform reported it (set by `reportCrash`, cleared
    /// when the state leaves `crashed`).
    public private(set) var crashReason: String?
    /// The resource table as the driver cached it after the first LOAD, with the addresses it
    /// assigned written in.
    public private(set) var cachedTable: [UInt8]?
    public private(set) var resourceTable: ResourceTable?
    public private(set) var tableAddress: (pa: UInt64, size: Int)?
    public private(set) var trace: (pa: UInt64, size: Int)?

    public init(context: TEEContext, id: UInt32, name: String, memory: any PhysicalMemoryAccess, map: DeviceMemoryMap, log: @escaping (String) -> Void = { _ in }) {
        self.context = context
        self.id = id
        self.name = name
        self.memory = memory
        self.map = map
        self.log = log
    }

    // MARK: TA calls

    func ta() throws(RemoteProcError) -> TEESession {
        if let session { return session }
        do {
            let s = try context.openSession(RemoteProcTA.uuid, login: .reeKernel, operation: TEEOperation(.valueInput(id)))
            session = s
            return s
        } catch {
            throw RemoteProcError(step: "open session", result: error.result, reason: "\(error)")
        }
    }

    func call(_ step: String, _ command: RemoteProcTA.Command, _ op: TEEOperation) throws(RemoteProcError) {
        let s = try ta()
        do {
            try s.invoke(command.rawValue, op)
        } catch {
            throw RemoteProcError(step: step, result: error.result, reason: "\(error)")
        }
    }

    func load(_ firmware: SharedMemory) throws(RemoteProcError) {
        try call("LOAD_FW", .loadFirmware, TEEOperation(.valueInput(id), .whole(firmware)))
    }

    /// Shares `firmware` once for the whole sequence `body` runs (Linux maps its firmware buffer
    /// once, too).
    func shared<R>(_ firmware: [UInt8], _ body: (SharedMemory) throws(RemoteProcError) -> R) throws(RemoteProcError) -> R {
        let shm: SharedMemory
        do { shm = try context.registerSharedMemory(firmware, flags: .input) } catch {
            throw RemoteProcError(step: "share firmware", result: error.result, reason: "\(error)")
        }
        defer { context.releaseSharedMemory(shm) }
        return try body(shm)
    }

    func getResourceTable() throws(RemoteProcError) -> (pa: UInt64, size: Int)? {
        let op = TEEOperation(.valueInput(id), .valueOutput, .valueOutput)
        try call("GET_RSC_TABLE", .getResourceTable, op)
        let pa = UInt64(op.value(1)!.a) | UInt64(op.value(1)!.b) << 32
        let size = Int(op.value(2)!.a)
        return size == 0 ? nil : (pa, size)
    }

    func simple(_ step: String, _ command: RemoteProcTA.Command) throws(RemoteProcError) {
        try call(step, command, TEEOperation(.valueInput(id)))
    }

    /// One bare TA command with only the rproc id (START/STOP/RELEASE), for tools and tests
    /// that drive the TA step by step.
    public func simpleCall(_ step: String, _ command: RemoteProcTA.Command) throws(RemoteProcError) {
        try simple(step, command)
    }

    func memoryError(_ step: String, _ error: any Error) -> RemoteProcError {
        RemoteProcError(step: step, result: nil, reason: "\(error)")
    }

    // MARK: Sequences (Linux remoteproc_tee)

    /// Boot: LOAD → GET_RSC_TABLE → cache and handle the resources → LOAD (no-op) →
    /// GET_RSC_TABLE → copy the cached table over the loaded one → START. Any error → RELEASE.
    public func boot(firmware: [UInt8]) throws(RemoteProcError) {
        try shared(firmware) { (shm) throws(RemoteProcError) in try boot(firmware: shm) }
    }

    /// Boot from firmware already in shared memory (allocated shared memory is never copied).
    public func boot(firmware: SharedMemory) throws(RemoteProcError) {
        log("\(name): powering up")
        do {
            try load(firmware)
            log("\(name): firmware authenticated and loaded by the TEE (\(firmware.size) bytes)")
            try cacheResourceTable(try getResourceTable())
            try load(firmware)
            try installCachedTable(try getResourceTable())
            try simple("START_FW", .startFirmware)
        } catch {
            log("\(name): boot failed at \(error.step): \(error.reason); releasing")
            try? simple("RELEASE_FW", .releaseFirmware)
            state = .offline
            throw error
        }
        state = .running
        log("\(name): remote processor is now up")
    }

    /// Shutdown: STOP → RELEASE.
    public func shutdown() throws(RemoteProcError) {
        try simple("STOP_FW", .stopFirmware)
        try simple("RELEASE_FW", .releaseFirmware)
        state = .offline
        cachedTable = nil
        resourceTable = nil
        tableAddress = nil
        trace = nil
        log("\(name): stopped, memory released")
    }

    /// The coprocessor crashed (its watchdog or crash interrupt fired): `reason` is what the
    /// platform reported.
    public func reportCrash(_ reason: String = "watchdog") {
        state = .crashed
        crashReason = reason
        log("\(name): crash detected (\(reason))")
    }

    /// Crash recovery: STOP → LOAD (full re-authentication) → GET_RSC_TABLE → copy the cached
    /// table → START. Error → RELEASE.
    public func recover(firmware: [UInt8]) throws(RemoteProcError) {
        try shared(firmware) { (shm) throws(RemoteProcError) in try recover(firmware: shm) }
    }

    /// Recovery from firmware already in shared memory.
    public func recover(firmware: SharedMemory) throws(RemoteProcError) {
        log("\(name): recovering")
        do {
            try simple("STOP_FW", .stopFirmware)
            try load(firmware)
            try installCachedTable(try getResourceTable())
            try simple("START_FW", .startFirmware)
        } catch {
            log("\(name): recovery failed at \(error.step): \(error.reason); releasing")
            try? simple("RELEASE_FW", .releaseFirmware)
            state = .offline
            throw error
        }
        state = .running
        log("\(name): recovered, remote processor is up again")
    }

    /// GET_COREDUMP: asks with a small buffer, then with the size the TA asked for.
    public func coreDump() throws(RemoteProcError) -> [UInt8] {
        let probe = TEEOperation(.valueInput(id), .tempOutput(capacity: 64))
        do {
            try call("GET_COREDUMP", .getCoreDump, probe)
            return probe.output(1) ?? []
        } catch where error.result == .shortBuffer {
            let op = TEEOperation(.valueInput(id), .tempOutput(capacity: probe.size(1) ?? 0))
            try call("GET_COREDUMP", .getCoreDump, op)
            return op.output(1) ?? []
        }
    }

    /// The trace buffer's text, up to the first NUL.
    public func readTrace() throws(RemoteProcError) -> String {
        guard let trace else { return "" }
        do {
            let bytes = try memory.read(pa: trace.pa, count: trace.size)
            return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        } catch {
            throw memoryError("read trace", error)
        }
    }

    // MARK: Resource table handling

    static let addressAny: UInt32 = 0xFFFF_FFFF

    func cacheResourceTable(_ location: (pa: UInt64, size: Int)?) throws(RemoteProcError) {
        guard let location else {
            log("\(name): firmware has no resource table")
            return
        }
        var bytes: [UInt8]
        do { bytes = try memory.read(pa: location.pa, count: location.size) } catch { throw memoryError("read resource table", error) }
        let table: ResourceTable
        do { table = try ResourceTable(bytes: bytes) } catch { throw RemoteProcError(step: "parse resource table", result: nil, reason: "\(error)") }
        // Handle each resource as the kernel does: assign physical addresses, find the trace.
        for (offset, entry) in table.entries {
            switch entry {
            case .carveout(let c):
                guard let pa = map.pa(forDA: UInt64(c.da), size: UInt64(c.length)) else {
                    throw RemoteProcError(step: "carveout \(c.name)", result: nil, reason: "device address \(hexString(c.da)) is not in the device memory map")
                }
                if c.pa == Self.addressAny { put32(&bytes, offset + 8, UInt32(pa)) }
                log("\(name): carveout \"\(c.name)\" da \(hexString(c.da)) → pa \(hexString(pa)), \(c.length) bytes")
            case .trace(let t):
                guard let pa = map.pa(forDA: UInt64(t.da), size: UInt64(t.length)) else {
                    throw RemoteProcError(step: "trace \(t.name)", result: nil, reason: "device address \(hexString(t.da)) is not mapped")
                }
                trace = (pa, Int(t.length))
                log("\(name): trace buffer \"\(t.name)\" at pa \(hexString(pa)), \(t.length) bytes")
            case .vdev(let v):
                for (i, vring) in v.vrings.enumerated() {
                    guard let pa = map.pa(forDA: UInt64(vring.da)) else {
                        throw RemoteProcError(step: "vring \(i)", result: nil, reason: "device address \(hexString(vring.da)) is not mapped")
                    }
                    put32(&bytes, offset + 28 + 20 * i + 16, UInt32(pa))
                    log("\(name): vdev \(v.id) vring\(i) da \(hexString(vring.da)) → pa \(hexString(pa)), \(vring.count) buffers")
                }
                // Features the driver accepts (rpmsg name service) and "driver OK".
                put32(&bytes, offset + 16, v.deviceFeatures & 1)
                bytes[offset + 24] = 0x7
            case .devmem, .vendor:
                break
            }
        }
        cachedTable = bytes
        resourceTable = try? ResourceTable(bytes: bytes)
        log("\(name): resource table cached: \(table.entries.count) entries, \(location.size) bytes at pa \(hexString(location.pa))")
    }

    /// Copies the cached table over the one the TEE loaded (the kernel's memcpy to table_ptr).
    func installCachedTable(_ location: (pa: UInt64, size: Int)?) throws(RemoteProcError) {
        tableAddress = location
        guard let location, let cachedTable else { return }
        guard cachedTable.count == location.size else {
            throw RemoteProcError(step: "install resource table", result: nil, reason: "the loaded table is \(location.size) bytes, the cached one \(cachedTable.count)")
        }
        do { try memory.write(pa: location.pa, bytes: cachedTable) } catch { throw memoryError("install resource table", error) }
    }
}

func put32(_ bytes: inout [UInt8], _ at: Int, _ value: UInt32) {
    for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
}

func hexString(_ v: some BinaryInteger) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
}
