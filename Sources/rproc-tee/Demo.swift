import ArgumentParser
import FirmwareImage
import Foundation
import TEECrypto
import TEEEmbedded

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The whole story in one process: sign → authenticate → isolate → load → start → crash → recover → core dump → stop → release.",
        discussion: "Uses the example firmware (build it with `make -C Examples/firmware`, or `make demo`) and a development key from Keys/."
    )

    @Option(name: .long, help: "mp15 (Cortex-M4) or mp25 (Cortex-M33, TF-M + Zephyr).") var board = "mp15"
    @Option(name: .customLong("firmware-dir"), help: ArgumentHelp("Where the example firmware was built (default: Examples/firmware/build of this checkout, else share/rproc-tee/firmware of the installed prefix).", valueName: "dir"))
    var firmwareDirectory: String?
    @Option(name: .customLong("keys-dir"), help: ArgumentHelp("The development keys (default: Keys of this checkout, else share/rproc-tee/keys of the installed prefix).", valueName: "dir"))
    var keysDirectory: String?

    /// The first of `candidates` that is a folder: the current folder's checkout, the checkout
    /// this binary was built in (.build/<config>/rproc-tee), the prefix it is installed in.
    static func locate(_ given: String?, checkout: String, installed: String) -> String {
        if let given { return given }
        var candidates = [checkout]
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 {
            let bin = URL(fileURLWithPath: String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)).deletingLastPathComponent()
            candidates.append(bin.appendingPathComponent("../../..").appendingPathComponent(checkout).standardized.path)
            candidates.append(bin.appendingPathComponent("..").appendingPathComponent(installed).standardized.path)
        }
        var isFolder: ObjCBool = false
        return candidates.first { FileManager.default.fileExists(atPath: $0, isDirectory: &isFolder) && isFolder.boolValue } ?? checkout
    }
    @Flag(name: .long, help: "Show the secure world's debug log too.") var verbose = false

    func validate() throws {
        if !["mp15", "mp25", "stm32mp15", "stm32mp25"].contains(board) { throw ValidationError("--board is mp15 or mp25") }
    }

    func run() throws {
        try perform(json: false) { try demo() }
    }

    private func demo() throws {
        let firmwareDirectory = Self.locate(self.firmwareDirectory, checkout: "Examples/firmware/build", installed: "share/rproc-tee/firmware")
        let keysDirectory = Self.locate(self.keysDirectory, checkout: "Keys", installed: "share/rproc-tee/keys")
        let mp25 = board.hasSuffix("mp25")
        // The variants that crash on purpose: the M4 writes to SYSRAM after its third tick; the
        // non-secure M33 image reads the secure image's SRAM after its first.
        let files = mp25 ? ["stm32mp25-tfm-secure.elf", "stm32mp25-zephyr-ns-peek.elf"] : ["stm32mp15-m4-crash.elf"]
        let elfs = try files.map { name -> [UInt8] in
            let path = "\(firmwareDirectory)/\(name)"
            guard FileManager.default.fileExists(atPath: path) else {
                throw CLIError(.cannotRead, "\(escaped(path)): missing; build the example firmware first: make -C Examples/firmware (or run make demo), or name its folder with --firmware-dir")
            }
            return try Files.read(path, limit: Int(UInt32.max), what: "firmware file")
        }
        let keyFile = "\(keysDirectory)/\(mp25 ? "dev-ecdsa-p256" : "dev-rsa2048").pem"
        let key = try Files.privateKey(keyFile, password: nil)

        print("""
        rproc-tee demo (\(mp25 ? "STM32MP25-like board, Cortex-M33 with TF-M + Zephyr" : "STM32MP15-like board, Cortex-M4")): Linux, in the normal world, hands
        signed coprocessor firmware to the remoteproc trusted application in the secure world. The TA
        checks the signature and every segment hash, loads the firmware into memory the normal world
        cannot touch, and starts, stops, recovers, dumps and wipes the coprocessor on Linux's request.
        Lines marked "linux|" are the normal-world driver (Linux's remoteproc core + remoteproc_tee);
        "secure|" is the secure world's log (what OP-TEE prints on its secure console).
        """)
        step(1, "Sign the firmware (OP-TEE's format) with the development key \(keyFile)")
        var signer = ImageSigner(images: elfs, key: key)
        func manifest(counter: UInt32) -> Manifest {
            var manifest = Manifest()
            manifest.securityCounter = counter
            guard mp25 else { return manifest }
            manifest.names = ["tfm", "zephyr"]
            manifest.versions = [Manifest.Version("2.1.0")!, Manifest.Version("3.7.0")!]
            manifest.dependencies = [Manifest.Dependency(image: 1, dependsOn: 0, minimum: Manifest.Version("2.0.0")!)]
            manifest.bootAddresses = [.init(secure: 0x0E08_0000, nonSecure: nil), .init(secure: nil, nonSecure: 0x8000_0000)]
            return manifest
        }
        signer.manifest = manifest(counter: 2)
        let image = try signer.sign()
        let metadata = try ImageMetadata(bytes: image, fileSize: image.count)
        say("\(image.count) bytes: header, \(metadata.records.count) TLVs, \(metadata.signatureType.name) signature, \(metadata.imageCount) ELF image(s)")
        say("hash table: \(metadata.hashTable.count) entries, one per program header (type, offsets, addresses, sizes, flags, SHA-256)")
        if let names = metadata.manifest.names { say("manifest: \(names.joined(separator: " + ")) \(metadata.manifest.versions!.map(\.description).joined(separator: " / ")), \(metadata.manifest.dependencies.count) dependency, boot vector tables named") }
        say("security counter 2 (anti-rollback: the TA refuses anything lower once this has started)")
        say("signing key SHA-256: \(hexString(key.publicKey.fingerprint.bytes))")

        step(2, "The secure world: board \(mp25 ? "stm32mp25" : "stm32mp15"), its memory and firewall")
        let description = try PlatformDescription.builtIn(mp25 ? "stm32mp25" : "stm32mp15")
        let platform = Platform(board: description, extraTrust: TrustedKeys(keys: [key.publicKey]))
        let c = description.coprocessors[0]
        say("coprocessor 0: \(c.name) (\(c.core))")
        for r in c.regions {
            let role = r.loadable ? "firmware, private while loaded" : r.shared ? "shared with the normal world" : "other"
            say("  \(r.name.padding(toLength: 12, withPad: " ", startingAt: 0)) DA \(h(r.deviceAddress)) → PA \(h(r.physicalAddress)), \(r.size / 1024) KiB, \(role)")
        }
        say("trusted key provisioned: \(key.publicKey.algorithmDescription) \(hexString(key.publicKey.fingerprint.bytes.prefix(8)))…")
        let state = try StateDirectory(nil)
        defer { state.cleanUp() }
        let world = SecureWorld.remoteproc(platform: platform, stateDirectory: state.url, logger: secureLogger(verbose: verbose))
        let context = TEEContext.embedded(world, peer: .kernel)   // this process plays Linux's kernel
        defer { context.finalize() }
        let driver = RemoteProcessor(context: context, id: 0, name: c.name, memory: NormalWorldMemory(platform: platform),
                                     map: DeviceMemoryMap(board: description, coprocessor: 0)) { print("    linux| \($0)") }

        step(3, "Boot, as Linux's remoteproc_tee does it: LOAD, GET_RSC_TABLE, LOAD, GET_RSC_TABLE, copy table, START")
        try driver.boot(firmware: image)
        say("what the TA verified and where each segment went:")
        Demo.printSegments(platform, 0)
        if let table = driver.resourceTable, let at = driver.tableAddress {
            say("resource table at PA \(h(at.pa)) (\(at.size) bytes), read by the TA from verified memory:")
            for (_, entry) in table.entries { say("  " + describe(entry)) }
        }

        step(4, "Isolation while the firmware runs (firewall: \(platform.firewallState(of: 0).rawValue))")
        let firmwarePA = UInt64(c.regions[0].physicalAddress)
        do {
            _ = try platform.read(.normal, pa: firmwarePA, count: 16)
            say("normal-world read of \(c.regions[0].name): ALLOWED (this must not happen)")
        } catch {
            say("normal-world read of \(c.regions[0].name) at \(h(firmwarePA)): denied — \(error)")
        }
        if let shared = c.regions.first(where: \.shared) {
            let ok = (try? platform.read(.normal, pa: UInt64(shared.physicalAddress), count: 16)) != nil
            say("normal-world read of \(shared.name) (vrings, buffers): \(ok ? "allowed" : "DENIED")")
        }

        let coprocessor = platform.coprocessors[0]!
        step(5, "The coprocessor runs its firmware (an emulated \(c.core)); the normal world reads its trace buffer")
        _ = Demo.waitForTrace(driver, coprocessor) { $0.contains(mp25 ? "zephyr: tick 1" : "cm4: tick 2") }
        for line in try driver.readTrace().split(separator: "\n") { say("trace: \(escaped(String(line)))") }

        step(6, "The firmware crashes on purpose (\(mp25 ? "the non-secure image reads secure SRAM" : "a write to SYSRAM, the secure world's memory")); Linux recovers")
        let deadline = Date().addingTimeInterval(10)
        while coprocessor.state == .running, Date() < deadline { coprocessor.tick(1) }
        let status = coprocessor.status
        guard status.state == .crashed, let reason = status.reason else {
            throw CLIError(.refused, "the example firmware did not crash within 10 s (state \(status.state.rawValue))")
        }
        say("the coprocessor crashed: \(reason)")
        driver.reportCrash(reason)
        for line in try driver.readTrace().split(separator: "\n").suffix(2) { say("trace: \(escaped(String(line)))") }
        let dump = try driver.coreDump()
        say("core dump (GET_COREDUMP, which OP-TEE does not implement): \(dump.count) bytes, ELF32 ET_CORE, NT_PRSTATUS + one PT_LOAD per memory region")
        if let read = try? CoreDumpReader(bytes: dump), let registers = read.registers {
            say("registers at the crash (signal \(read.signal)):")
            for line in CoreDumpReader.describe(registers) { say("  " + line) }
        }
        try driver.recover(firmware: image)
        _ = Demo.waitForTrace(driver, coprocessor) { $0.contains(mp25 ? "zephyr: booting" : "cm4: firmware up") }
        if let first = try driver.readTrace().split(separator: "\n").first { say("after recovery, trace: \(escaped(String(first)))") }

        step(7, "Shutdown: STOP, RELEASE")
        try driver.shutdown()
        say("every byte of the coprocessor's memory is zero: \(platform.isWiped(0) ? "yes" : "NO")")
        say("firewall back to \(platform.firewallState(of: 0).rawValue); normal-world read of \(c.regions[0].name): \((try? platform.read(.normal, pa: firmwarePA, count: 4)) != nil ? "allowed again (wiped)" : "denied")")

        step(8, "An attacker flips one bit of a segment in the shared image")
        var tampered = image
        let range = metadata.imageRange(mp25 ? 1 : 0)
        let elf = try ELFImage(bytes: Array(image[range]))
        let target = elf.loadSegments.first { $0.filesz > 0 && $0.isExecutable }!
        tampered[range.lowerBound + Int(target.offset) + 4] ^= 0x01
        do {
            try driver.boot(firmware: tampered)
            say("the tampered image booted (this must not happen)")
        } catch {
            say("refused: \(error.reason)")
            say("memory wiped again: \(platform.isWiped(0) ? "yes" : "NO"), coprocessor \(platform.coprocessors[0]!.state.rawValue)")
        }

        step(9, "A rollback: the same firmware re-signed with the valid key but security counter 1")
        signer.manifest = manifest(counter: 1)
        let older = try signer.sign()
        do {
            try driver.boot(firmware: older)
            say("the older firmware booted (this must not happen)")
        } catch {
            say("refused: \(error.reason) — counter 2 was stored in the TA's encrypted trusted storage at START")
        }
        print("\nDone: every step above ran through the TEE Client API, TEEWire messages, the remoteproc TA and the platform pseudo-TA.")
    }

    func step(_ n: Int, _ title: String) { print("\n\(n). \(title)") }

    /// Lets the firmware run until its trace satisfies `condition` (at most 10 s, or until it
    /// stops running); returns whether it did.
    static func waitForTrace(_ driver: RemoteProcessor, _ coprocessor: Coprocessor, _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let text = try? driver.readTrace(), condition(text) { return true }
            guard coprocessor.state == .running else { return false }
            coprocessor.tick(1)
        }
        return false
    }
    func say(_ line: String) { print("   \(line)") }
    func h(_ v: some BinaryInteger) -> String { ReportFormatter.h32(v) }

    static func printSegments(_ platform: Platform, _ id: UInt32) {
        let map = DeviceMemoryMap(board: platform.board, coprocessor: id)
        for s in platform.loadedSegments(of: id) {
            let pa = map.pa(forDA: s.deviceAddress) ?? 0
            print("     \(escaped(s.region).padding(toLength: 12, withPad: " ", startingAt: 0)) DA \(ReportFormatter.h32(s.deviceAddress)) → PA \(ReportFormatter.h32(pa)), \(s.size) bytes\(s.executable ? ", executable" : "")")
        }
    }

    func describe(_ entry: ResourceTable.Entry) -> String { ReportFormatter.describe(entry) }
}
