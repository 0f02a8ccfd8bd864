import Foundation
import SecureWorld
import Testing

/// The daemon's symbolizer of TA hosts' sanitizer reports reads lines a TA writes (hostile): it
/// annotates only frames of modules it has an ELF for, bounded, and leaves everything else
/// byte for byte. The lookups run a stand-in for addr2line (a shell script that logs its
/// arguments) so that what is asked of the tool is checked too.
@Suite struct SanitizerSymbolizerTests {
    static let uuid = "5f8b97c4-6a2e-4a3c-9c1e-0b7d4e2a1f01"

    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-symbolizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A stand-in addr2line answering `fn_<offset>` and `ta.c:<decimal offset>`, logging each call.
    static func tool(in folder: URL) throws -> (tool: String, calls: URL) {
        let calls = folder.appendingPathComponent("calls")
        let script = folder.appendingPathComponent("addr2line")
        try """
        #!/bin/sh
        echo "$@" >> \(calls.path)
        for last; do :; done
        echo "fn_$last"
        echo "ta.c:$(( $last ))"
        """.write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o755)
        return (script.path, calls)
    }

    @Test func framesOfKnownModulesGetTheirLines() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (tool, calls) = try Self.tool(in: folder)
        let symbolizer = SanitizerSymbolizer(elf: { $0 == Self.uuid ? "/ta/\(Self.uuid).elf" : nil }, tool: tool)
        let frame = "    #0 0x7f74a4ed9ac8  (/rproc-tee-ta/\(Self.uuid)+0x8ac8)"
        #expect(symbolizer.annotate(frame) == frame + " in fn_0x8ac8 ta.c:35528")
        // Cached: the same frame again runs no second lookup.
        _ = symbolizer.annotate(frame)
        let logged = try String(contentsOf: calls, encoding: .utf8).split(separator: "\n")
        #expect(logged == ["-f -i -C -e /ta/\(Self.uuid).elf 0x8ac8"])
        // SUMMARY lines and several frames on a line.
        let summary = "SUMMARY: AddressSanitizer: heap-buffer-overflow (/rproc-tee-ta/\(Self.uuid)+0x10) x (/rproc-tee-ta/\(Self.uuid)+0x20) "
        #expect(symbolizer.annotate(summary) == "SUMMARY: AddressSanitizer: heap-buffer-overflow (/rproc-tee-ta/\(Self.uuid)+0x10) in fn_0x10 ta.c:16 x (/rproc-tee-ta/\(Self.uuid)+0x20) in fn_0x20 ta.c:32 ")
    }

    @Test func hostileLinesAreLeftAsTheyAre() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (tool, calls) = try Self.tool(in: folder)
        let symbolizer = SanitizerSymbolizer(elf: { $0 == Self.uuid ? "/ta/\(Self.uuid).elf" : nil }, tool: tool)
        let hostile = [
            "(/rproc-tee-ta/\(Self.uuid)+0x)",                       // no digits
            "(/rproc-tee-ta/\(Self.uuid)+0x12345678901234567)",      // 17 digits
            "(/rproc-tee-ta/\(Self.uuid)+0xzz)",                     // not hex
            "(/rproc-tee-ta/\(Self.uuid)+8ac8)",                     // no 0x
            "(/rproc-tee-ta/../../etc/passwd+0x10)",                 // not a UUID
            "(/rproc-tee-ta/7b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8+0x10)", // no ELF for it
            "(/rproc-tee-ta/\(Self.uuid)+0x10",                      // unclosed
            "(/rproc-tee-ta/\(Self.uuid) -e /etc/shadow+0x10)",      // arguments smuggled in
            "no frame at all",
        ]
        for line in hostile { #expect(symbolizer.annotate(line) == line, "\(line)") }
        #expect(!FileManager.default.fileExists(atPath: calls.path), "no lookup ran for a hostile line")
        // At most 8 frames of one line are looked up.
        let many = (0..<20).map { "(/rproc-tee-ta/\(Self.uuid)+0x\(String($0 + 1, radix: 16)))" }.joined(separator: " ")
        let annotated = symbolizer.annotate(many)
        #expect(annotated.components(separatedBy: " in fn_").count - 1 == 8)
        #expect(annotated.hasSuffix("(/rproc-tee-ta/\(Self.uuid)+0x14)"))
    }

    /// The fuzz harness's seeds (Tests/Fuzz/Seeds/sanitizer-line) and its property: with no
    /// module to place, every line comes back byte for byte.
    @Test func fuzzSeedsComeBackUnchanged() throws {
        let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/Seeds/sanitizer-line")
        let files = try FileManager.default.contentsOfDirectory(atPath: seeds.path)
        #expect(files.count >= 3)
        let symbolizer = SanitizerSymbolizer(elf: { _ in nil }, tool: "/nonexistent/addr2line")
        for file in files {
            let line = String(decoding: try Data(contentsOf: seeds.appendingPathComponent(file)), as: UTF8.self)
            #expect(symbolizer.annotate(line) == line, "\(file)")
        }
    }

    /// Without addr2line, nothing changes and nothing runs.
    @Test func withoutAToolLinesAreUnchanged() {
        let symbolizer = SanitizerSymbolizer(elf: { _ in "/ta/x.elf" }, tool: nil)
        let frame = "#0 0x1 (/rproc-tee-ta/\(Self.uuid)+0x10)"
        #expect(symbolizer.annotate(frame) == frame)
    }
}
