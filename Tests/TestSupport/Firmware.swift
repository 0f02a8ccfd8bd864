import Foundation

/// Paths into the repository, found from this file's location.
public enum Repository {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func bytes(_ relativePath: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(relativePath)))
    }
}

/// The example firmware of Examples/firmware, compiled by the toolchain's clang through that
/// folder's Makefile (one build per test process, into a temporary folder removed at exit).
public enum ExampleFirmware {
    fileprivate static let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-firmware-\(getpid())")

    public enum BuildError: Error, CustomStringConvertible {
        case failed(String)
        public var description: String { if case .failed(let s) = self { s } else { "" } }
    }

    private static let output: Result<URL, BuildError> = {
        let out = folder
        atexit { try? FileManager.default.removeItem(at: ExampleFirmware.folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["make", "-s", "-C", Repository.root.appendingPathComponent("Examples/firmware").path, "OUT=\(out.path)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return .failure(.failed("cannot run make: \(error)"))
        }
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return .failure(.failed("building the example firmware failed:\n\(log)")) }
        return .success(out)
    }()

    public static func path(_ name: String) throws -> URL {
        try output.get().appendingPathComponent(name)
    }

    public static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: try path(name)))
    }

    public static var m4: [UInt8] { get throws { try bytes("stm32mp15-m4.elf") } }
    /// The M4 example that answers the IPC mailbox.
    public static var m4IPC: [UInt8] { get throws { try bytes("stm32mp15-m4-ipc.elf") } }
    /// The M4 example that writes to SYSRAM (0x2FFC0000) after its third tick.
    public static var m4Crash: [UInt8] { get throws { try bytes("stm32mp15-m4-crash.elf") } }
    /// The M4 example that executes an undefined instruction after its third tick.
    public static var m4UDF: [UInt8] { get throws { try bytes("stm32mp15-m4-udf.elf") } }
    /// The non-secure M33 image that executes an undefined instruction after its first tick.
    public static var zephyrUDF: [UInt8] { get throws { try bytes("stm32mp25-zephyr-ns-udf.elf") } }
    /// The M4 example that feeds a watchdog at 0x5A002000 on every tick.
    public static var m4Watchdog: [UInt8] { get throws { try bytes("stm32mp15-m4-watchdog.elf") } }
    /// The M4 example that answers IPCC kicks from its RX interrupt (idle in WFI otherwise).
    public static var m4Mailbox: [UInt8] { get throws { try bytes("stm32mp15-m4-mailbox.elf") } }
    /// The non-secure M33 image that reads secure SRAM (0x0E080000) after its first tick.
    public static var zephyrPeek: [UInt8] { get throws { try bytes("stm32mp25-zephyr-ns-peek.elf") } }
    public static var tfmSecure: [UInt8] { get throws { try bytes("stm32mp25-tfm-secure.elf") } }
    public static var zephyrNonSecure: [UInt8] { get throws { try bytes("stm32mp25-zephyr-ns.elf") } }
}
