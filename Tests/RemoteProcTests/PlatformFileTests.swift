import Foundation
import SecureWorld
import Testing
import TestSupport

@Suite struct PlatformFileTests {
    @Test func builtInBoards() throws {
        let mp15 = try PlatformDescription.builtIn("stm32mp15")
        let m4 = try #require(mp15.coprocessors.first)
        #expect(m4.core == "cortex-m4")
        #expect(m4.regions.map(\.name) == ["RETRAM", "MCUSRAM", "MCUSRAM-IPC"])
        #expect(m4.regions[0].deviceAddress == 0 && m4.regions[0].physicalAddress == 0x3800_0000 && m4.regions[0].size == 0x10000)
        #expect(m4.regions[1].deviceAddress == 0x1000_0000 && m4.regions[1].physicalAddress == 0x3000_0000)
        #expect(m4.regions[1].size + m4.regions[2].size == 384 * 1024, "MCUSRAM is 384 KiB in all")
        #expect(m4.regions[2].shared && !m4.regions[2].loadable)
        let mp25 = try PlatformDescription.builtIn("mp25")
        #expect(mp25.coprocessors.first?.core == "cortex-m33")
        #expect(throws: PlatformError(.unknownBoard, "", path: "")) { try PlatformDescription.builtIn("stm32mp13") }
    }

    static func board() throws -> [String: Any] {
        let data = Data(try #require(PlatformDescription.builtInSource("stm32mp15")).utf8)
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func regions(_ board: [String: Any]) -> [[String: Any]] {
        ((board["coprocessors"] as! [[String: Any]])[0]["regions"] as! [[String: Any]])
    }

    static func withRegion(_ index: Int, _ edit: (inout [String: Any]) -> Void) throws -> [String: Any] {
        var b = try board()
        var coprocessors = b["coprocessors"] as! [[String: Any]]
        var regions = coprocessors[0]["regions"] as! [[String: Any]]
        edit(&regions[index])
        coprocessors[0]["regions"] = regions
        b["coprocessors"] = coprocessors
        return b
    }

    /// Each broken board: its error code and the JSON path it names.
    @Test func brokenBoardsAreRefusedWithTheirPath() throws {
        var unknownRoot = try Self.board()
        unknownRoot["colour"] = "blue"
        var noName = try Self.board()
        noName.removeValue(forKey: "name")
        let cases: [(String, Any, PlatformError.Code, String)] = [
            ("unknown key at the root", unknownRoot, .unknownKey, "colour"),
            ("missing name", noName, .missingKey, "name"),
            ("unknown key in a region", try Self.withRegion(0) { $0["cacheable"] = true }, .unknownKey, "coprocessors[0].regions[0].cacheable"),
            ("size not a number", try Self.withRegion(1) { $0["size"] = "big" }, .badValue, "coprocessors[0].regions[1].size"),
            ("size zero", try Self.withRegion(1) { $0["size"] = 0 }, .badValue, "coprocessors[0].regions[1].size"),
            ("device ranges overlap", try Self.withRegion(2) { $0["deviceAddress"] = "0x1003F000" }, .overlappingRegions, "coprocessors[0].regions[2].deviceAddress"),
            ("physical ranges overlap", try Self.withRegion(0) { $0["physicalAddress"] = "0x30010000" }, .overlappingRegions, "coprocessors[0].regions[1].physicalAddress"),
            ("translation wraps", try Self.withRegion(0) { $0["physicalAddress"] = "0xFFFF8000" }, .badTranslation, "coprocessors[0].regions[0].physicalAddress"),
            ("loadable and shared", try Self.withRegion(0) { $0["shared"] = true }, .badValue, "coprocessors[0].regions[0].shared"),
            ("firmware memory open to the normal world", try Self.withRegion(0) { r in
                var f = r["firewall"] as! [String: Any]
                f["running"] = ["normal": "r", "coprocessor": "rwx"]
                r["firewall"] = f
            }, .badValue, "coprocessors[0].regions[0].firewall.running.normal"),
            ("rights letters", try Self.withRegion(2) { r in
                var f = r["firewall"] as! [String: Any]
                f["load"] = ["normal": "rq", "coprocessor": ""]
                r["firewall"] = f
            }, .badValue, "coprocessors[0].regions[2].firewall.load.normal"),
            ("missing firewall state", try Self.withRegion(2) { r in
                var f = r["firewall"] as! [String: Any]
                f.removeValue(forKey: "load")
                r["firewall"] = f
            }, .missingKey, "coprocessors[0].regions[2].firewall.load"),
        ]
        for (name, json, code, path) in cases {
            let bytes = Array(try JSONSerialization.data(withJSONObject: json))
            do {
                _ = try PlatformDescription(json: bytes)
                Issue.record("\(name): accepted")
            } catch {
                #expect(error.code == code, "\(name): \(error)")
                #expect(error.path == path, "\(name): \(error)")
            }
        }
        #expect(throws: PlatformError(.malformedJSON, "", path: "")) { try PlatformDescription(json: Array("{".utf8)) }
        let badKey = "{\"name\":\"x\",\"coprocessors\":[],\"trustedKeys\":{\"publicKeys\":[\"not a key\"]}}"
        #expect(throws: PlatformError.self) { try PlatformDescription(json: Array(badKey.utf8)) }
    }

    /// Replays the platform fuzzer's seeds and crashers (Tests/Fuzz/*/platform) through the call
    /// its harness makes; the seeds are the built-in boards and must decode.
    @Test func fuzzCasesReplay() throws {
        var replayed = 0
        for kind in ["Seeds", "FailCases"] {
            let dir = Repository.root.appendingPathComponent("Tests/Fuzz/\(kind)/platform")
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where !name.hasPrefix(".") {
                let bytes = Array(try Data(contentsOf: dir.appendingPathComponent(name)))
                let board = try? PlatformDescription(json: bytes)
                if kind == "Seeds" { #expect(board != nil, "seed \(name) decodes") }
                if let board, board.coprocessors.reduce(0, { $0 + $1.regions.reduce(0) { $0 + Int($1.size) } }) <= 64 << 20 {
                    let platform = Platform(board: board)
                    for c in board.coprocessors { #expect(platform.isWiped(c.id)) }
                }
                replayed += 1
            }
        }
        #expect(replayed >= 2)
    }
}
