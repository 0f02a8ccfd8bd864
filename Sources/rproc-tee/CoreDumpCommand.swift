import ArgumentParser
import Foundation
import RemoteProc

/// `rproc-tee coredump FILE`: what a coprocessor core dump says (GET_COREDUMP's ELF core, as
/// `run --core-dump` writes it): the crash, the registers, the memory segments.
struct CoreDumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coredump",
        abstract: "Show a coprocessor core dump: the crash reason, the signal, r0–r15 and xPSR, the memory segments.",
        discussion: "The dump is an ELF32 core file (NT_PRSTATUS in Linux's 32-bit Arm layout): gdb-multiarch reads it too (set architecture arm; core-file FILE; info registers). Exit status 1 if the file is not a coprocessor core dump."
    )

    /// Dumps hold every region of a board: at most 1 GiB of memory plus headers.
    static let maxBytes = (1 << 30) + (1 << 20)

    @Argument(help: "Core dump file.") var file: String
    @Flag(name: .long, help: "JSON output for scripts.") var json = false

    func run() throws {
        try perform(json: json) {
            let bytes = try Files.read(file, limit: Self.maxBytes, what: "core dump")
            let dump: CoreDumpReader
            do throws(CoreDumpReader.Malformed) { dump = try CoreDumpReader(bytes: bytes) } catch {
                throw CLIError(.refused, "\(escaped(file)): \(error.description)")
            }
            if json {
                print(JSONText.encode([
                    "ok": true, "file": file, "signal": dump.signal, "fields": dump.fields,
                    "registers": dump.registers as Any?,
                    "segments": dump.segments.map { ["device_address": $0.deviceAddress, "physical_address": $0.physicalAddress, "size": $0.size] as [String: Any] },
                ] as [String: Any?]))
                return
            }
            let f = dump.fields
            print("\(escaped(file)): core dump of coprocessor \(escaped(f["coprocessor"] ?? "?")) (\(escaped(f["core"] ?? "?"))), state \(escaped(f["state"] ?? "?")), entry \(escaped(f["entry"] ?? "?"))")
            print("  crash: \(escaped(f["crash"] ?? "none"))" + (dump.signal != 0 ? " (signal \(dump.signal))" : ""))
            if let registers = dump.registers {
                print("  registers:")
                for line in CoreDumpReader.describe(registers) { print("    \(line)") }
            } else {
                print("  registers: none (the firmware never ran)")
            }
            print("  segments:")
            for s in dump.segments {
                print("    DA \(ReportFormatter.h32(s.deviceAddress)) ← PA \(ReportFormatter.h32(s.physicalAddress)), \(s.size) bytes")
            }
        }
    }
}
