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

    struct RprocState {
        var phase = Phase.off
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

    public init(tee: TEE) throws(TEEResult) {
        self.tee = tee
    }

    public func destroy() { platform?.close() }

    // MARK: Entry points

    /// OpenSession: (VALUE_INPUT rproc id). An id the platform does not have: NOT_SUPPORTED.
    public func openSession(_ params: inout Parameters) throws(TEEResult) -> UInt32 {
        try params.require(ParamTypes(.valueInput))
        let id = params.value(0).a
        try checkCoprocessor(id)
        return id
    }

    public func closeSession(_ session: UInt32) {}

    public func invoke(_ session: UInt32, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
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
        guard id == session else { throw .badParameters }
        var state = states[id] ?? RprocState()
        defer { states[id] = state }
        switch cmd {
        case .loadFirmware: try load(id, &state, params.memref(1))
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

        // Anti-rollback and manifest dependencies.
        if let counter = metadata.manifest.securityCounter {
            if let stored = try storedCounter(id), counter < stored {
                tee.log("rproc \(id): security counter \(counter) is below the stored \(stored)")
                throw .security
            }
            state.pendingCounter = counter
        }
        do { try metadata.manifest.checkDependencies() } catch { throw map(error) }

        // 4. Snapshot and validate every image's ELF headers; match the signed hash table by
        //    (image, index), field for field.
        var images: [(base: Int, elf: ELFImage)] = []
        var entry = 0
        for i in 0..<metadata.imageCount {
            let range = metadata.imageRange(i)
            let elf: ELFImage
            do {
                elf = try ELFImage(source: MemrefSource(memref: image, base: range.lowerBound, count: range.count))
            } catch {
                throw map(error)
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
                guard header.isLoad else { continue }
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
                .value(a: id, b: 0), .value(a: da, b: UInt32(section.size)), .value(a: 3, b: 0), .none,
            ])
            try pta(.shareWindow, &share)
            if let trace = table.traces.first {
                state.trace = (trace.da, trace.length)
                var shareTrace = Parameters(types: ParamTypes(.valueInput, .valueInput, .valueInput), params: [
                    .value(a: id, b: 0), .value(a: trace.da, b: trace.length), .value(a: 1, b: 0), .none,
                ])
                try pta(.shareWindow, &shareTrace)
            }
        }

        // Where the coprocessor starts: the first image's entry point, and the manifest's vector
        // tables when it names them (TF-M + Zephyr on one Cortex-M33).
        state.entry = UInt32(truncatingIfNeeded: images[0].elf.entry)
        if let boot = metadata.manifest.bootAddresses {
            state.vectors = (boot.compactMap(\.secure).first ?? .max, boot.compactMap(\.nonSecure).first ?? .max)
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

    private func checkCoprocessor(_ id: UInt32) throws(TEEResult) {
        var probe = Parameters(types: ParamTypes(.valueInput, .valueOutput), params: [.value(a: id, b: 0), .value(a: 0, b: 0), .none, .none])
        do { try pta(.hwCapabilities, &probe) } catch { throw .notSupported }
    }

    // MARK: Anti-rollback counter (trusted storage, one object per coprocessor)

    private func counterID(_ id: UInt32) -> [UInt8] { Array("rollback-counter-\(id)".utf8) }

    private func storedCounter(_ id: UInt32) throws(TEEResult) -> UInt32? {
        let storage = try tee.storage
        let object: PersistentObject
        do { object = try storage.open(counterID(id), flags: [.accessRead]) } catch {
            if error == .itemNotFound { return nil }
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
func privateBuffer(count: Int) -> MemoryReference { .privateOutput(capacity: count) }
