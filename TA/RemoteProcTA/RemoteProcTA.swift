import FirmwareImage
import RemoteProcTAInterface
import TEEInternalAPI

/// The remoteproc trusted application (shared/spec/remoteproc-ta.md): authenticates a signed
/// image, loads it into the coprocessor's isolated memory through the platform pseudo-TA, and
/// starts, stops, releases and dumps the coprocessor. Strict where OP-TEE is lax: one private
/// snapshot of the metadata, (image, index) matching of the hash table, segments hashed at their
/// destination, the resource table read from verified memory, a wipe on any failure.
public final class RemoteProcessorTA: TrustedApplication {
    public static let properties = TAProperties(
        uuid: RemoteProcTA.uuid, singleInstance: true, multiSession: true, instanceKeepAlive: true,
        dataSize: 64 * 1024, stackSize: 8 * 1024, version: "1.0", description: "remoteproc")

    enum Phase: String { case off, loaded, started }

    /// One client session: the coprocessor it opened and a token no other session shares.
    public final class Session {
        let id: UInt32
        let token: UInt64
        init(id: UInt32, token: UInt64) {
            self.id = id
            self.token = token
        }
    }

    struct RprocState {
        var phase = Phase.off
        /// The session that loaded the firmware; it alone may command the coprocessor until
        /// RELEASE (or until it closes, which releases).
        var owner: UInt64?
        /// Memory holds firmware that RELEASE has not wiped yet (LOADED, STARTED or stopped).
        var hasContent = false
        var resourceTable: (pa: UInt64, size: UInt32)?
        var trace: (da: UInt32, size: UInt32)?
        var entry: UInt32 = 0
        var vectors: (secure: UInt32, nonSecure: UInt32) = (.max, .max)
        var pendingCounter: UInt32?
    }

    let tee: TEE
    var states: [UInt32: RprocState] = [:]
    var platform: TASession?
    var nextToken: UInt64 = 1

    public init(tee: TEE) throws(TEEResult) {
        self.tee = tee
    }

    public func destroy() { platform?.close() }

    // MARK: Entry points

    /// OpenSession: (VALUE_INPUT rproc id). Only the normal-world kernel (login REE_KERNEL, as
    /// Linux's remoteproc_tee driver) is served: anyone else gets ACCESS_DENIED. An id the
    /// platform does not have: NOT_SUPPORTED.
    public func openSession(_ params: inout Parameters) throws(TEEResult) -> Session {
        // Attacker: any normal-world process. The login is set by the TEE from the OS's
        // credentials (REE_KERNEL is granted to kernel clients only), not by the client's word.
        guard tee.client.login == .reeKernel else {
            tee.log("open session refused: login \(tee.client.login) (only REE_KERNEL is served)")
            throw .accessDenied
        }
        try params.require(ParamTypes(.valueInput))
        let id = params.value(0).a
        try checkCoprocessor(id)
        defer { nextToken += 1 }
        return Session(id: id, token: nextToken)
    }

    /// A session that goes away while it owns its coprocessor releases it, as Linux does when its
    /// driver is removed: stopped, every byte wiped, default firewall.
    public func closeSession(_ session: Session) {
        guard var state = states[session.id], state.owner == session.token else { return }
        if state.phase == .started { try? stop(session.id, &state) }
        try? release(session.id, &state)
        states[session.id] = state
        tee.log("rproc \(session.id): its session closed; coprocessor stopped and released")
    }

    public func invoke(_ session: Session, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        // Unknown command: NOT_SUPPORTED (OP-TEE answers BAD_PARAMETERS).
        guard let cmd = RemoteProcTA.Command(rawValue: command) else { throw .notSupported }
        let expected: ParamTypes = switch cmd {
        case .loadFirmware: RemoteProcTA.loadTypes
        case .getResourceTable: RemoteProcTA.resourceTableTypes
        case .getCoreDump: RemoteProcTA.coreDumpTypes
        case .startFirmware, .stopFirmware, .releaseFirmware: RemoteProcTA.simpleTypes
        }
        try params.require(expected)
        let id = params.value(0).a
        guard id == session.id else { throw .badParameters }
        var state = states[id] ?? RprocState()
        // Attacker: another kernel session (another driver instance, another client). A
        // coprocessor belongs to the session that loaded it until RELEASE.
        if let owner = state.owner, owner != session.token {
            tee.log("rproc \(id): \(cmd) refused: the coprocessor belongs to another session")
            throw .accessDenied
        }
        defer { states[id] = state }
        switch cmd {
        case .loadFirmware:
            try load(id, &state, params.memref(1))
            state.owner = session.token
        case .startFirmware: try start(id, &state)
        case .stopFirmware: try stop(id, &state)
        case .getResourceTable: try resourceTable(state, &params)
        case .getCoreDump: try coreDump(id, state, &params)
        case .releaseFirmware: try release(id, &state)
        }
    }

    // MARK: Commands

    func load(_ id: UInt32, _ state: inout RprocState, _ image: MemoryReference) throws(TEEResult) {
        switch state.phase {
        case .loaded: return                       // Linux loads twice; the second is a no-op.
        case .started: throw .badState
        case .off: break
        }
        guard image.capacity > 0 else { throw .badParameters }
        // Whatever a stopped firmware left is wiped before anything new is written.
        try ptaRelease(id)
        state = RprocState()
        do {
            try authenticateAndLoad(id, &state, image)
        } catch {
            // Any failure: wipe every byte written, default firewall, stay OFF.
            try? ptaRelease(id)
            state = RprocState()
            tee.log("rproc \(id): load refused: \(error)")
            throw error
        }
        state.phase = .loaded
        state.hasContent = true
        tee.log("rproc \(id): firmware authenticated and loaded")
    }

    private func authenticateAndLoad(_ id: UInt32, _ state: inout RprocState, _ image: MemoryReference) throws(TEEResult) {
        // 1. One private snapshot of header + TLVs + signature; every length from that copy.
        let header: ContainerHeader
        do {
            header = try ContainerHeader(bytes: try image.read(offset: 0, count: min(ContainerHeader.size, image.capacity)))
        } catch {
            throw map(error)
        }
        guard header.fileSize == image.capacity else { throw .badFormat }
        let metadata: ImageMetadata
        do {
            metadata = try ImageMetadata(bytes: try image.read(offset: 0, count: header.metadataSize), fileSize: image.capacity)
        } catch {
            throw map(error)
        }

        // 2.–3. Signature over SHA-2(header ‖ TLVs) through the platform's trusted keys.
        let digestAlgorithm: Algorithm = metadata.signatureType == .ecdsaP384 ? .sha384 : .sha256
        let digest = try CryptoOperation(algorithm: digestAlgorithm, mode: .digest).digestDoFinal(metadata.signedBytes)
        var verify = Parameters(types: ParamTypes(.valueInput, .memrefInput, .memrefInput, .memrefInput), params: [
            .value(a: id, b: UInt32(metadata.signatureType.rawValue)),
            .memref(privateBuffer(metadata.keyInfo ?? [])), .memref(privateBuffer(digest)), .memref(privateBuffer(metadata.signature)),
        ])
        try pta(.verifyDigest, &verify)

        // Anti-rollback: an image without SECURITY_COUNTER (every image OP-TEE's script makes)
        // counts as 0, so it loads until a counter above 0 has been stored.
        let counter = metadata.manifest.securityCounter ?? 0
        let stored: UInt32?
        do {
            stored = try storedCounter(id)
        } catch {
            // Without trusted storage there is no counter to compare with: an image that asks
            // for anti-rollback is refused (its counter could not be kept), any other loads.
            guard error == .storageNotAvailable, metadata.manifest.securityCounter == nil else { throw error }
            stored = nil
        }
        if let stored, counter < stored {
            tee.log("rproc \(id): security counter \(counter)\(metadata.manifest.securityCounter == nil ? " (none in the image)" : "") is below the stored \(stored)")
            throw .security
        }
        if metadata.manifest.securityCounter != nil { state.pendingCounter = counter }
        do { try metadata.manifest.checkDependencies() } catch { throw map(error) }

        // 4. Snapshot and validate every image's ELF headers; match the signed hash table by
        //    (image, index), field for field.
        var images: [(base: Int, elf: ELFImage)] = []
        var entry = 0
        for i in 0..<metadata.imageCount {
            let range = metadata.imageRange(i)
            let elf: ELFImage
            let source = MemrefSource(memref: image, base: range.lowerBound, count: range.count)
            do {
                elf = try ELFImage(source: source)
                try elf.checkPadding(source)
            } catch {
                throw map(error)
            }
            // The board names the machines its core runs (a RISC-V ELF never boots on an M4).
            var machine = Parameters(types: ParamTypes(.valueInput, .valueInput), params: [.value(a: id, b: 0), .value(a: UInt32(elf.machine), b: 0), .none, .none])
            do { try pta(.acceptsMachine, &machine) } catch {
                tee.log("rproc \(id): image \(i) is for \(ELFMachine.name(elf.machine)), which this coprocessor does not run")
                throw .badFormat
            }
            // A signed table that does not describe these program headers, entry for entry and
            // in number, is a mismatch between signed data and image: SECURITY.
            for header in elf.programHeaders {
                guard entry < metadata.hashTable.count else { throw .security }
                guard metadata.hashTable[entry].matches(header) else { throw .security }
                entry += 1
            }
            images.append((range.lowerBound, elf))
        }
        guard entry == metadata.hashTable.count else { throw .security }
        do {
            try ELFImage.checkNoOverlap(images.enumerated().flatMap { i, image in image.elf.loadSegments.map { (i, $0) } })
        } catch {
            throw map(error)
        }
        // At most one resource table in a bundle; manifest vector tables inside their image's
        // loaded segments. Both checked before a byte is written.
        let tables = images.compactMap { image in image.elf.resourceTableSection.map { (image.elf, $0) } }
        guard tables.count <= 1 else { throw .badFormat }
        if let boot = metadata.manifest.bootAddresses {
            for (i, image) in images.enumerated() {
                for vector in [boot[i].secure, boot[i].nonSecure].compactMap({ $0 }) {
                    guard image.elf.loadSegments.contains(where: { UInt64(vector) >= $0.paddr && UInt64(vector) - $0.paddr < $0.filesz }) else { throw .badFormat }
                }
            }
        }

        // 5.–6. Each loadable segment once: placement checked, copied from shared memory, hashed
        //       at the destination, tail zero-filled.
        var apply = Parameters(types: ParamTypes(.valueInput, .valueInput), params: [.value(a: id, b: 0), .value(a: 1, b: 0), .none, .none])
        try pta(.applyFirewall, &apply)
        entry = 0
        for (base, elf) in images {
            for header in elf.programHeaders {
                defer { entry += 1 }
                guard header.isLoad else {
                    // Not loaded, but signed: its bytes must still match the hash table, as the
                    // verifier requires (what `verify` refuses, the TA refuses).
                    try checkUnloadedSegment(image, base: base, header, expected: metadata.hashTable[entry].hash)
                    continue
                }
                guard header.paddr <= UInt64(UInt32.max), header.memsz <= UInt64(UInt32.max) - header.paddr else { throw .accessDenied }
                let da = UInt32(header.paddr), flags = header.flags
                if header.filesz > 0 {
                    var load = Parameters(types: ParamTypes(.valueInput, .memrefInput, .valueInput, .memrefInput), params: [
                        .value(a: id, b: 0), .memref(try image.window(offset: base + Int(header.offset), size: Int(header.filesz))),
                        .value(a: da, b: flags), .memref(privateBuffer(metadata.hashTable[entry].hash)),
                    ])
                    try pta(.loadSegmentSHA256, &load)
                }
                if header.memsz > header.filesz {
                    var fill = Parameters(types: ParamTypes(.valueInput, .valueInput, .valueInput), params: [
                        .value(a: id, b: 0), .value(a: da + UInt32(header.filesz), b: UInt32(header.memsz - header.filesz)), .value(a: 0, b: flags), .none,
                    ])
                    try pta(.setMemory, &fill)
                }
            }
        }

        // 7. The resource table: located through the (unauthenticated) section headers, accepted
        //    only inside a loaded segment, read back from the verified destination.
        if let (elf, section) = tables.first {
            guard let segment = elf.segment(containing: section), section.size > 0, section.size <= 64 * 1024 else { throw .badFormat }
            // Linux writes into the table (vdev status, vring addresses): it must never share a
            // segment with code, or the normal world could patch the firmware's instructions.
            guard !segment.isExecutable else {
                tee.log("rproc \(id): the resource table lies in executable segment \(segment.index)")
                throw .badFormat
            }
            let da = UInt32(segment.paddr + (section.offset - segment.offset))
            var read = Parameters(types: ParamTypes(.valueInput, .valueInput, .memrefOutput), params: [
                .value(a: id, b: 0), .value(a: da, b: UInt32(section.size)), .memref(privateBuffer(count: Int(section.size))), .none,
            ])
            try pta(.readLoaded, &read)
            let table: ResourceTable
            do { table = try ResourceTable(bytes: try read.memref(2).written()) } catch { throw map(error) }
            var toPA = Parameters(types: ParamTypes(.valueInput, .valueInput, .valueOutput), params: [
                .value(a: id, b: 0), .value(a: da, b: UInt32(section.size)), .value(a: 0, b: 0), .none,
            ])
            try pta(.daToPA, &toPA)
            state.resourceTable = (UInt64(toPA.value(2).a) | UInt64(toPA.value(2).b) << 32, UInt32(section.size))
            var share = Parameters(types: ParamTypes(.valueInput, .valueInput, .valueInput), params: [
                .value(a: id, b: 0), .value(a: da, b: UInt32(section.size)), .value(a: 3, b: RemoteProcPTA.Window.resourceTable.rawValue), .none,
            ])
            do { try pta(.shareWindow, &share) } catch {
                tee.log("rproc \(id): the platform refused a window on the resource table (\(error))")
                throw .badFormat
            }
            if let trace = table.traces.first {
                state.trace = (trace.da, trace.length)
                // Read-only, and only over a loaded non-executable segment or a shared region
                // (the platform checks). A trace entry elsewhere is no reason to refuse firmware
                // OP-TEE would run: the image loads and the normal world's trace reads are denied.
                var shareTrace = Parameters(types: ParamTypes(.valueInput, .valueInput, .valueInput), params: [
                    .value(a: id, b: 0), .value(a: trace.da, b: trace.length), .value(a: 1, b: RemoteProcPTA.Window.trace.rawValue), .none,
                ])
                do { try pta(.shareWindow, &shareTrace) } catch {
                    tee.log("rproc \(id): no trace window for \"\(trace.name)\" at DA \(hex32(trace.da)) (+\(trace.length)): the platform refused it (\(error)); the normal world cannot read the trace")
                }
            }
        }

        // Where the coprocessor starts: the first image's entry point, and the manifest's vector
        // tables when it names them (TF-M + Zephyr on one Cortex-M33).
        state.entry = UInt32(truncatingIfNeeded: images[0].elf.entry)
        if let boot = metadata.manifest.bootAddresses {
            state.vectors = (boot.compactMap(\.secure).first ?? .max, boot.compactMap(\.nonSecure).first ?? .max)
        }
    }

    /// Hashes a non-loadable segment's file bytes, read once from shared memory in bounded
    /// chunks into private memory, against its signed hash.
    private func checkUnloadedSegment(_ image: MemoryReference, base: Int, _ header: ProgramHeader, expected: [UInt8]) throws(TEEResult) {
        let digest = try CryptoOperation(algorithm: .sha256, mode: .digest)
        var at = 0
        let size = Int(header.filesz)   // inside the image: checked by the ELF reader
        while at < size {
            let n = min(64 * 1024, size - at)
            digest.digestUpdate(try image.read(offset: base + Int(header.offset) + at, count: n))
            at += n
        }
        let actual = digest.digestDoFinal()
        var difference: UInt8 = actual.count == expected.count ? 0 : 1
        for (a, b) in zip(actual, expected) { difference |= a ^ b }
        guard difference == 0 else {
            tee.log("segment \(header.index) (\(header.typeName), not loaded) does not match its signed hash")
            throw .security
        }
    }

    func start(_ id: UInt32, _ state: inout RprocState) throws(TEEResult) {
        switch state.phase {
        case .started: return
        case .off: throw .badState
        case .loaded: break
        }
        var start = Parameters(types: ParamTypes(.valueInput, .valueInput, .valueInput, .valueInput), params: [
            .value(a: id, b: 0), .value(a: state.entry, b: state.trace?.da ?? 0),
            .value(a: state.vectors.secure, b: state.vectors.nonSecure), .value(a: state.trace?.size ?? 0, b: 0),
        ])
        try pta(.firmwareStart, &start)
        state.phase = .started
        // The anti-rollback counter only moves once the new firmware runs.
        if let counter = state.pendingCounter {
            try storeCounter(id, counter)
            state.pendingCounter = nil
        }
        tee.log("rproc \(id): started")
    }

    func stop(_ id: UInt32, _ state: inout RprocState) throws(TEEResult) {
        switch state.phase {
        case .off: return
        case .loaded: throw .badState
        case .started: break
        }
        var stop = Parameters(types: ParamTypes(.valueInput), params: [.value(a: id, b: 0), .none, .none, .none])
        try pta(.firmwareStop, &stop)
        state.phase = .off
        state.resourceTable = nil
        tee.log("rproc \(id): stopped")
    }

    func resourceTable(_ state: RprocState, _ params: inout Parameters) throws(TEEResult) {
        guard state.phase != .off else { throw .badState }
        let (pa, size) = state.resourceTable ?? (0, 0)
        params.setValue(1, a: UInt32(truncatingIfNeeded: pa), b: UInt32(truncatingIfNeeded: pa >> 32))
        params.setValue(2, a: size, b: 0)
    }

    func coreDump(_ id: UInt32, _ state: RprocState, _ params: inout Parameters) throws(TEEResult) {
        guard state.hasContent else { throw .badState }
        let out = params.memref(1)
        var dump = Parameters(types: ParamTypes(.valueInput, .memrefOutput), params: [.value(a: id, b: 0), .memref(privateBuffer(count: out.capacity)), .none, .none])
        do {
            try pta(.coreDump, &dump)
        } catch {
            if error == .shortBuffer { try params.withMemref(1) { (m) throws(TEEResult) in m.size = dump.memref(1).size } }
            throw error
        }
        let bytes = try dump.memref(1).written()
        try params.withMemref(1) { (m) throws(TEEResult) in try m.write(bytes) }
    }

    func release(_ id: UInt32, _ state: inout RprocState) throws(TEEResult) {
        guard state.phase != .started else { throw .badState }
        try ptaRelease(id)
        state = RprocState()
        tee.log("rproc \(id): released")
    }

    // MARK: Platform pseudo-TA

    private func pta(_ command: RemoteProcPTA.Command, _ params: inout Parameters) throws(TEEResult) {
        do {
            if platform == nil {
                var none = Parameters(types: .none, params: [.none, .none, .none, .none])
                platform = try tee.openSession(RemoteProcPTA.uuid, &none)
            }
            try platform!.invoke(command.rawValue, &params)
        } catch {
            throw error.result
        }
    }

    private func ptaRelease(_ id: UInt32) throws(TEEResult) {
        var release = Parameters(types: ParamTypes(.valueInput), params: [.value(a: id, b: 0), .none, .none, .none])
        try pta(.release, &release)
    }

    /// The coprocessor must exist, and the platform must load ELF images with SHA-256 segment
    /// hashes (the only protection this TA implements).
    private func checkCoprocessor(_ id: UInt32) throws(TEEResult) {
        var probe = Parameters(types: ParamTypes(.valueInput, .valueOutput), params: [.value(a: id, b: 0), .value(a: 0, b: 0), .none, .none])
        do { try pta(.hwCapabilities, &probe) } catch { throw .notSupported }
        let capabilities = RemoteProcPTA.Capabilities(rawValue: probe.value(1).a)
        guard capabilities.isSuperset(of: [.elf, .hashTable]) else {
            tee.log("rproc \(id): the platform cannot load ELF images with a hash table (capabilities \(hex32(capabilities.rawValue)))")
            throw .notSupported
        }
    }

    // MARK: Anti-rollback counter (trusted storage, one object per coprocessor)

    private func counterID(_ id: UInt32) -> [UInt8] { Array("rollback-counter-\(id)".utf8) }
    /// Which coprocessors have a stored counter: a counter whose object has gone while this
    /// record lists it was deleted from outside (a rollback), and fails the load closed. (Both
    /// deleted together is not noticed here: that takes storage with a directory of its own.)
    private static let counterRecordID = Array("rollback-counters".utf8)

    private func recordedCounters() throws(TEEResult) -> Set<UInt32> {
        let object: PersistentObject
        do { object = try tee.storage.open(Self.counterRecordID, flags: [.accessRead]) } catch {
            if error == .itemNotFound { return [] }
            throw error
        }
        defer { object.close() }
        // Attacker: none that can forge it (authenticated storage); its size is bounded anyway.
        let bytes = try object.read(4 * 256)
        guard bytes.count % 4 == 0 else { throw .corruptObject }
        return Set(stride(from: 0, to: bytes.count, by: 4).map { i in (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[i + $1]) << (8 * UInt32($1)) } })
    }

    private func storedCounter(_ id: UInt32) throws(TEEResult) -> UInt32? {
        let storage = try tee.storage
        let object: PersistentObject
        do { object = try storage.open(counterID(id), flags: [.accessRead]) } catch {
            if error == .itemNotFound {
                guard try !recordedCounters().contains(id) else {
                    tee.log("rproc \(id): the stored security counter is gone although one was stored: refused (a rollback of trusted storage?)")
                    throw .corruptObject
                }
                return nil
            }
            throw error
        }
        defer { object.close() }
        let bytes = try object.read(4)
        guard bytes.count == 4 else { throw .corruptObject }
        return bytes.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }

    private func storeCounter(_ id: UInt32, _ value: UInt32) throws(TEEResult) {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
        try tee.storage.create(counterID(id), flags: [.accessWrite, .overwrite], initialData: bytes).close()
        // The record after the counter: a crash between the two leaves a counter not yet
        // recorded (recorded at the next store), never a record of a counter that is not there.
        var recorded = try recordedCounters()
        guard !recorded.contains(id) else { return }
        recorded.insert(id)
        let record = recorded.sorted().flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
        try tee.storage.create(Self.counterRecordID, flags: [.accessWrite, .overwrite], initialData: record).close()
    }

    // MARK: Errors

    /// The one place image errors become TEE results (spec: step 8 of the load).
    func map(_ error: any Error) -> TEEResult {
        if let result = error as? TEEResult { return result }
        guard let e = error as? ImageError else { return .badFormat }
        switch e.code {
        case .signatureInvalid, .untrustedKey: return .signatureInvalid
        case .hashMismatch, .hashTableMismatch, .rollback: return .security
        case .overlappingSegments, .addressWraps: return .accessDenied
        default: return .badFormat
        }
    }
}

/// An image's bytes read straight from the client's shared memory, one private copy per read.
struct MemrefSource: ImageByteSource {
    let memref: MemoryReference
    let base: Int
    let count: Int
    func bytes(at offset: Int, count: Int) throws -> [UInt8] {
        try memref.read(offset: base + offset, count: count)
    }
}

func privateBuffer(_ bytes: [UInt8]) -> MemoryReference { .privateInput(bytes) }
func hex32(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }
func privateBuffer(count: Int) -> MemoryReference { .privateOutput(capacity: count) }
