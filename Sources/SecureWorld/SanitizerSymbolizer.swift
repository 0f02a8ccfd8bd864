import Foundation
import TEETransport

/// Source lines for a sanitizer's report from a native TA.
///
/// A TA host cannot symbolize its own stack traces: AddressSanitizer starts a symbolizer
/// process (its sandbox starts none) and would read DWARF from the module's file (a TA is loaded
/// from its stripped, signed image). So its report names frames as module + offset —
/// `(/rproc-tee-ta/<uuid>+0x8ac8)` — and the daemon, reading the report on its way to the secure
/// log, adds `in <function> <file>:<line>` from the unstripped `<uuid>.elf` the kit wrote beside
/// the `.ta`, through binutils' `addr2line`.
///
/// Attacker: a TA writes whatever it likes to its output, report-shaped or not. So a frame is
/// annotated only if its module name is a UUID the TA folders have an `.elf` for (the operator's
/// own files), the offset is at most 16 hex digits, a line has at most 8 frames looked up, the
/// whole daemon at most `maxLookups` (cached by module and offset), each lookup bounded in time
/// and output; and the daemon only does this when it preloads a sanitizer into TA hosts.
public final class SanitizerSymbolizer: @unchecked Sendable {
    // @unchecked: the cache and the count are guarded by `lock`; the rest is immutable.
    /// binutils' addr2line (nil: none on the PATH, frames stay as they are).
    public let tool: String?
    /// A module's name (a TA's or a TA library's UUID) → its unstripped ELF, if there is one.
    private let elf: @Sendable (String) -> String?
    private let lock = NSLock()
    private var cache: [String: String?] = [:]
    private var lookups = 0
    static let maxLookups = 4096
    static let modulePrefix = "(" + HostSandbox.brokerFolder + "/"

    /// - Parameters:
    ///   - elf: a module's name (a UUID) → the unstripped ELF to look its offsets up in.
    ///   - tool: addr2line (default: the first on the PATH).
    public init(elf: @escaping @Sendable (String) -> String?, tool: String? = SanitizerSymbolizer.findTool()) {
        self.elf = elf
        self.tool = tool
    }

    /// addr2line on the PATH.
    public static func findTool() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/addr2line" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `line` with every frame of a TA module it can place followed by ` in <function> <file>:<line>`.
    public func annotate(_ line: String) -> String {
        guard tool != nil, line.contains(Self.modulePrefix) else { return line }
        var out = ""
        var rest = Substring(line)
        var frames = 0
        while let start = rest.range(of: Self.modulePrefix), frames < 8 {
            frames += 1
            let after = rest[start.upperBound...]
            guard let close = after.firstIndex(of: ")") else { break }
            let frame = after[..<close]   // <uuid>+0x<hex>
            out += rest[..<close]
            out += ")"
            rest = after[after.index(after: close)...]
            let parts = frame.split(separator: "+", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 36, UUID(uuidString: String(parts[0])) != nil,
                  parts[1].hasPrefix("0x"), (3...18).contains(parts[1].count),
                  let offset = UInt64(parts[1].dropFirst(2), radix: 16),
                  let place = place(module: String(parts[0]), offset: offset) else { continue }
            out += " in " + place
        }
        return out + rest
    }

    /// `function file:line` for `offset` in `module`, or nil.
    private func place(module: String, offset: UInt64) -> String? {
        let key = "\(module)+\(offset)"
        let cached: String?? = lock.withLock {
            if let hit = cache[key] { return .some(hit) }
            guard lookups < Self.maxLookups else { return .some(nil) }
            lookups += 1
            return .none
        }
        if let cached { return cached }
        let answer = elf(module).flatMap { run(elf: $0, offset: offset) }
        lock.withLock { cache[key] = answer }
        return answer
    }

    /// addr2line's first (innermost) function and line, within 5 s and 64 KiB of output.
    private func run(elf: String, offset: UInt64) -> String? {
        guard let tool else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-f", "-i", "-C", "-e", elf, "0x" + String(offset, radix: 16)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let timer = DispatchWorkItem { process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 5, execute: timer)
        let data = (try? output.fileHandleForReading.read(upToCount: 65536)) ?? nil
        process.waitUntilExit()
        timer.cancel()
        guard process.terminationStatus == 0, let data else { return nil }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").prefix(2).map(String.init)
        guard lines.count == 2, !lines[1].hasPrefix("??") else { return nil }
        let function = lines[0] == "??" ? "" : lines[0] + " "
        return SecureWorld.oneLine(function + lines[1])
    }
}
