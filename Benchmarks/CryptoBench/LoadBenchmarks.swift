import CMbedTLSBaseline
import FirmwareImage
import Logging
import RemoteProcTAInterface
import TEECrypto
import TEEEmbedded

/// Authenticated LOAD of a 32 MiB image through the client API (embedded): shared memory →
/// TEEWire → remoteproc TA → platform pseudo-TA → platform memory, against one memcpy plus one
/// SHA-256 pass in C over the same bytes. Target ratio ≥ 0.85. Also reports peak memory.
func runLoadBenchmarks() throws {
    print("load: authenticated LOAD_FW of a 32 MiB image (client → TEEWire → TA → pseudo-TA → memory) vs memcpy + SHA-256 in C")
    let rssBefore = baseline_peak_rss_kib()
    let payload = 32 << 20
    let elf = try syntheticELF(payloadSize: payload)
    let key = try PrivateKey(generating: .ecdsaP256)
    let image = try ImageSigner(images: [elf], key: key).sign()
    let board = """
    {"name": "bench", "coprocessors": [{"id": 0, "name": "bench", "core": "cortex-m4", "elfMachines": [40], "regions": [
      {"name": "CODE", "deviceAddress": "0x0", "physicalAddress": "0x40000000", "size": "0x10000", "loadable": true,
       "firewall": {"default": {"normal": "rw", "coprocessor": ""}, "load": {"normal": "", "coprocessor": ""}, "running": {"normal": "", "coprocessor": "rwx"}}},
      {"name": "DATA", "deviceAddress": "0x10000000", "physicalAddress": "0x50000000", "size": "0x2100000", "loadable": true,
       "firewall": {"default": {"normal": "rw", "coprocessor": ""}, "load": {"normal": "", "coprocessor": ""}, "running": {"normal": "", "coprocessor": "rwx"}}}]}]}
    """
    let platform = Platform(board: try PlatformDescription(json: Array(board.utf8)), extraTrust: TrustedKeys(keys: [key.publicKey]))
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let world = SecureWorld.remoteproc(platform: platform, logger: logger)
    let context = TEEContext.embedded(world, peer: .kernel)   // this process plays Linux's kernel
    defer { context.finalize() }
    let session = try context.openSession(RemoteProcTA.uuid, login: .reeKernel, operation: TEEOperation(.valueInput(0)))
    let shm = try context.registerSharedMemory(image, flags: .input)
    // What the LOAD path itself costs in memory: the peak before and after the first LOAD, with
    // the image, its shared copy and the (untouched) coprocessor memory already allocated.
    let resetWorked = baseline_reset_peak_rss() == 0
    let rssBeforeLoad = baseline_rss_kib(0)
    try session.invoke(RemoteProcTA.Command.loadFirmware.rawValue, TEEOperation(.valueInput(0), .whole(shm)))
    let peakDuringLoad = baseline_rss_kib(1)
    try session.invoke(RemoteProcTA.Command.releaseFirmware.rawValue, TEEOperation(.valueInput(0)))
    var destination = [UInt8](repeating: 0, count: image.count)
    var digest = [UInt8](repeating: 0, count: 32)
    // LOAD alone is timed; the RELEASE that makes the next LOAD possible (it wipes every
    // coprocessor byte) runs outside the clock and is reported on its own.
    var load = Double.infinity, baseline = Double.infinity, release = Double.infinity
    for _ in 0..<5 {
        baseline = min(baseline, bestTime(rounds: 1) {
            let ret = image.withUnsafeBufferPointer { src in
                destination.withUnsafeMutableBufferPointer { dst in baseline_copy_and_openssl_sha256(src.baseAddress, src.count, dst.baseAddress, &digest) }
            }
            precondition(ret == 0)
        })
        load = min(load, try bestTime(rounds: 1) {
            try session.invoke(RemoteProcTA.Command.loadFirmware.rawValue, TEEOperation(.valueInput(0), .whole(shm)))
        })
        release = min(release, try bestTime(rounds: 1) {
            try session.invoke(RemoteProcTA.Command.releaseFirmware.rawValue, TEEOperation(.valueInput(0)))
        })
    }
    // The figures count only if the TA really loaded and really wiped.
    precondition(platform.isWiped(0) && platform.loadedSegments(of: 0).isEmpty, "RELEASE_FW left coprocessor bytes behind")
    let mib = Double(image.count) / Double(1 << 20)
    let platformMiB = Double(platform.board.coprocessors[0].regions.reduce(0) { $0 + Int($1.size) }) / Double(1 << 20)
    header("LOAD_FW of \(format(mib)) MiB vs one memcpy + SHA-256 (OpenSSL, SHA-NI) in C", baseline: "memcpy+OpenSSL C")
    row("throughput", "MiB/s", ours: mib / load, baseline: mib / baseline, target: 0.85)
    print("  (LOAD_FW: \(format(load * 1000)) ms; memcpy + SHA-256 in C: \(format(baseline * 1000)) ms; RELEASE_FW, wiping the \(format(mib)) MiB written: \(format(release * 1000, digits: 2)) ms)")
    let rssAfter = baseline_peak_rss_kib()
    print("  peak RSS: \(format(Double(rssAfter) / 1024)) MiB (\(format(Double(rssBefore) / 1024)) MiB before this benchmark); it holds the image (\(format(mib)) MiB), its registered shared copy (\(format(mib)) MiB), the platform memory (\(format(platformMiB)) MiB) and the C baseline's destination (\(format(mib)) MiB)")
    if resetWorked && rssBeforeLoad >= 0 && peakDuringLoad >= 0 {
        let growth = Double(peakDuringLoad - rssBeforeLoad) / 1024
        print("  the first LOAD_FW alone: peak RSS \(format(Double(peakDuringLoad) / 1024)) MiB against \(format(Double(rssBeforeLoad) / 1024)) MiB just before it (+\(format(growth)) MiB = \(format(growth / mib, digits: 2)) × the image, with the image and its shared copy resident): that is the coprocessor RAM the load fills (a region is allocated when first written); the load path keeps no copy of the image, only its metadata")
    } else {
        print("  (peak RSS of the LOAD path alone: unavailable, /proc/self/clear_refs cannot be written here)")
    }
    print("  whole benchmark: peak growth / image size \(format((Double(rssAfter - rssBefore) / 1024) / mib, digits: 2))")
}
