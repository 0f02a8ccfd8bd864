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
        #expect(m4.mailbox == .init(deviceAddress: 0x4C00_1000, channels: 6, rxIRQ: 103, txIRQ: 104), "STM32MP15's IPCC, the M4's IPCC_RX1/TX1 lines")
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
        // A board that is valid but for its key: the key check itself must be what refuses it.
        var badKey = try Self.board()
        badKey["trustedKeys"] = ["publicKeys": ["not a key"]]
        let badKeyJSON = Array(try JSONSerialization.data(withJSONObject: badKey))
        do {
            _ = try PlatformDescription(json: badKeyJSON)
            Issue.record("a board with an unusable key was accepted")
        } catch {
            #expect(error.code == .badValue && error.path == "trustedKeys.publicKeys[0]", "\(error)")
        }
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

    /// Decoding is exactly as strict as the README says: no bool for a number, no number for a
    /// bool, no fraction for an integer, no duplicate key; every error with line and column.
    @Test func typesAreNotCoerced() throws {
        let text = try #require(PlatformDescription.builtInSource("stm32mp15"))
        let cases: [(String, String, PlatformError.Code, String)] = [
            ("\"id\": 0,", "\"id\": true,", .wrongType, "coprocessors[0].id"),
            ("\"id\": 0,", "\"id\": 65536.0,", .wrongType, "coprocessors[0].id"),
            ("\"id\": 0,", "\"id\": 1e3,", .wrongType, "coprocessors[0].id"),
            ("\"id\": 0,", "\"id\": -1,", .badValue, "coprocessors[0].id"),
            ("\"loadable\": true,", "\"loadable\": 1,", .wrongType, "coprocessors[0].regions[0].loadable"),
            ("\"name\": \"m4\",", "\"name\": \"m4\", \"name\": \"m5\",", .duplicateKey, "coprocessors[0].name"),
            ("\"size\": \"0x10000\",", "\"size\": \"0x10000\", ,", .malformedJSON, ""),
        ]
        for (find, replace, code, path) in cases {
            let broken = text.replacingOccurrences(of: find, with: replace, options: [], range: text.range(of: find))
            do {
                _ = try PlatformDescription(json: Array(broken.utf8))
                Issue.record("\(replace): accepted")
            } catch {
                #expect(error.code == code && error.path == path, "\(replace): \(error)")
                #expect(error.position != nil, "\(replace): no line and column")
            }
        }
        // The position points at the offending value.
        let broken = text.replacingOccurrences(of: "\"id\": 0,", with: "\"id\": true,")
        #expect(throws: PlatformError.self) { try PlatformDescription(json: Array(broken.utf8)) }
        do { _ = try PlatformDescription(json: Array(broken.utf8)) } catch { #expect(error.position == JSONPosition(line: 6, column: 13), "\(error)") }
    }

    static func region(_ i: Int, size: UInt32) -> String {
        """
        {"name": "R\(i)", "deviceAddress": \(UInt64(i) * UInt64(size)), "physicalAddress": \(UInt64(i) * UInt64(size)), "size": \(size), "loadable": true,
         "firewall": {"default": {"normal": "rw", "coprocessor": ""}, "load": {"normal": "", "coprocessor": ""}, "running": {"normal": "", "coprocessor": "rwx"}}}
        """
    }

    static func board(regions: [String]) -> [UInt8] {
        Array("{\"name\": \"big\", \"coprocessors\": [{\"id\": 0, \"name\": \"c\", \"core\": \"x\", \"elfMachines\": [40], \"regions\": [\(regions.joined(separator: ","))]}]}".utf8)
    }

    /// Caps on memory and counts, each with an error naming the limit; what is allowed is
    /// allocated only when written.
    @Test func boardsAreBounded() throws {
        // 16 regions of 256 MiB (4 GiB) used to be allocated at once: now refused by the cap.
        let huge = Self.board(regions: (0..<15).map { Self.region($0, size: 256 << 20) })
        do { _ = try PlatformDescription(json: huge); Issue.record("4 GiB of regions accepted") } catch {
            #expect(error.code == .tooLarge && error.reason.contains("1024 MiB"), "\(error)")
        }
        // 170,000 regions used to take 70 s (quadratic overlap check): refused by the count cap
        // (the file is over the size cap first) — and a board at the cap decodes quickly.
        let many = Self.board(regions: (0..<300).map { Self.region($0, size: 0x100) })
        do { _ = try PlatformDescription(json: many); Issue.record("300 regions accepted") } catch {
            #expect(error.code == .tooLarge && error.reason.contains("256"), "\(error)")
        }
        let atCap = try PlatformDescription(json: Self.board(regions: (0..<256).map { Self.region(255 - $0, size: 0x100) }))
        #expect(atCap.coprocessors[0].regions.count == 256)
        // A board of 4 × 256 MiB (the memory cap) costs nothing until written.
        let rssBefore = residentKiB()
        let platform = Platform(board: try PlatformDescription(json: Self.board(regions: (0..<4).map { Self.region($0, size: 256 << 20) })))
        #expect(residentKiB() - rssBefore < 64 << 10, "1 GiB of board memory was allocated up front")
        #expect(platform.isWiped(0))
        // The O(n log n) overlap check still finds an overlap among many regions.
        var regions = (0..<256).map { Self.region($0, size: 0x100) }
        regions[200] = regions[200].replacingOccurrences(of: "\"deviceAddress\": 51200", with: "\"deviceAddress\": 100")
        do { _ = try PlatformDescription(json: Self.board(regions: regions)); Issue.record("overlap missed") } catch {
            #expect(error.code == .overlappingRegions && error.path == "coprocessors[0].regions[200].deviceAddress", "\(error)")
        }
    }
}

func residentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
    return Int(line.split(separator: " ")[1]) ?? 0
}
