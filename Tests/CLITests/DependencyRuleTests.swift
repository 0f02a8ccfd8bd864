import Foundation
import Testing

/// DESIGN.md's dependency rules that the compiler cannot see on its own: only TEECrypto imports
/// the crypto libraries (mbedTLS, and OpenSSL's libcrypto, its second backend). (The build also
/// runs with --explicit-target-dependency-import-check error.)
@Suite struct DependencyRuleTests {
    @Test func onlyTEECryptoImportsMbedTLS() throws {
        let root = CLI.repositoryRoot
        var offenders: [String] = []
        var teeCryptoImports = 0
        for folder in ["Sources", "TA", "Examples", "Tests"] {
            let base = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where url.pathExtension == "swift" && !url.path.contains("/.build") {
                let text = try String(contentsOf: url, encoding: .utf8)
                let importsMbedTLS = text.split(separator: "\n").contains { line in
                    let words = line.split(separator: " ")
                    guard let index = words.firstIndex(of: "import") else { return false }
                    return index + 1 < words.count && (words[index + 1].hasPrefix("CMbedTLS") || words[index + 1].hasPrefix("COpenSSL"))
                }
                guard importsMbedTLS else { continue }
                if url.path.contains("/Sources/TEECrypto/") {
                    teeCryptoImports += 1
                } else {
                    offenders.append(url.path.replacingOccurrences(of: root.path + "/", with: ""))
                }
            }
        }
        #expect(offenders.isEmpty, "files outside TEECrypto import mbedTLS or OpenSSL: \(offenders)")
        #expect(teeCryptoImports > 0, "the scan found TEECrypto's own imports")
    }

    /// Unicorn (the emulated core) is the platform's: only files under
    /// Sources/Platform import it (DESIGN.md §1, §3).
    @Test func onlyThePlatformImportsUnicorn() throws {
        var importers: [String] = []
        for folder in ["Sources", "TA", "Examples", "Tests", "Benchmarks"] {
            for (file, modules) in try Self.imports(under: folder) where modules.contains("CUnicorn") || modules.contains("CUnicornShims") {
                importers.append(file)
            }
        }
        #expect(!importers.isEmpty, "the scan found the platform's imports")
        #expect(importers.allSatisfy { $0.hasPrefix("Sources/Platform/") }, "\(importers)")
    }

    /// The platform is the simulated SoC: it knows nothing of TAs, the secure-world OS, the
    /// transport or the clients (DESIGN.md §1); SecureWorld's pseudo-TAs drive it.
    @Test func thePlatformKnowsNothingOfTAs() throws {
        let files = try Self.imports(under: "Sources/Platform")
        #expect(files.count >= 5, "the scan found the platform's sources")
        let forbidden: Set<String> = ["TEEInternalAPI", "SecureWorld", "TAHost", "TEETransport", "TEEClient", "TEEDaemon", "TEEWire"]
        for (file, modules) in files {
            #expect(modules.isDisjoint(with: forbidden), "\(file) imports \(modules.intersection(forbidden).sorted())")
        }
    }

    /// The modules each Swift file under `folder` imports, by file (relative path).
    static func imports(under folder: String) throws -> [String: Set<String>] {
        let root = CLI.repositoryRoot
        var result: [String: Set<String>] = [:]
        let base = root.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [:] }
        for case let url as URL in walker where url.pathExtension == "swift" && !url.path.contains("/.build") {
            var modules: Set<String> = []
            for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                guard let index = words.firstIndex(of: "import"), index + 1 < words.count,
                      words[..<index].allSatisfy({ $0.hasPrefix("@") || ["internal", "public", "package", "private", "fileprivate"].contains($0) }) else { continue }
                // `import struct Module.Name` names the module after the kind keyword.
                let kinds: Set<String> = ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias", "actor"]
                let at = kinds.contains(words[index + 1]) && index + 2 < words.count ? index + 2 : index + 1
                modules.insert(String(words[at].split(separator: ".")[0]))
            }
            result[url.path.replacingOccurrences(of: root.path + "/", with: "")] = modules
        }
        return result
    }

    /// A TA is portable code: the Internal API, its interface, FirmwareImage's readers — never
    /// the secure-world runtime, the client side, the transport or the crypto library itself.
    @Test func trustedApplicationsImportOnlyTheInternalAPI() throws {
        let files = try Self.imports(under: "TA")
        #expect(files.count >= 4, "the scan found the TA sources")
        let allowed: Set<String> = ["TEEInternalAPI", "TEECore", "FirmwareImage", "Foundation", "Synchronization"]
        for (file, modules) in files {
            let extra = modules.filter { !allowed.contains($0) && !$0.hasSuffix("TAInterface") }
            #expect(extra.isEmpty, "\(file) imports \(extra.sorted())")
        }
        #expect(files.values.contains { $0.contains("TEEInternalAPI") })
    }

    /// The normal world reaches secure-world code only through the transport; the Internal API
    /// knows no runtime; the wire codec and the value types stand alone.
    @Test func layersImportOnlyWhatDesignAllows() throws {
        let forbidden: [(folder: String, modules: Set<String>)] = [
            ("Sources/TEEClient", ["TEEInternalAPI", "SecureWorld", "TEECrypto", "FirmwareImage"]),
            ("Sources/RemoteProc", ["TEEInternalAPI", "SecureWorld", "TEECrypto", "TEEEmbedded"]),
            ("Sources/TEEInternalAPI", ["SecureWorld", "TEEClient", "TEETransport", "TEEWire"]),
            // The TA host is the Internal API's runtime in another process: it knows the link,
            // never the core (whose services it asks for) or the crypto library.
            ("Sources/TAHost", ["SecureWorld", "TEEDaemon", "TEEClient", "TEECrypto", "CMbedTLS", "COpenSSL", "Platform"]),
        ]
        // Only TEETransport imports the C platform shims (DESIGN.md §1).
        for folder in ["Sources/TEEClient", "Sources/TEEDaemon", "Sources/SecureWorld", "Sources/RemoteProc", "Sources/rproc-tee", "Sources/TEEInternalAPI", "Sources/TAHost", "TA"] {
            for (file, imported) in try Self.imports(under: folder) {
                #expect(!imported.contains("CTEEPlatform"), "\(file) imports CTEEPlatform")
            }
        }
        #expect(try Self.imports(under: "Sources/TEETransport").values.contains { $0.contains("CTEEPlatform") }, "the scan sees TEETransport's import")
        for (folder, modules) in forbidden {
            let files = try Self.imports(under: folder)
            #expect(!files.isEmpty, "\(folder) scanned")
            for (file, imported) in files {
                #expect(imported.isDisjoint(with: modules), "\(file) imports \(imported.intersection(modules).sorted())")
            }
        }
        for (folder, allowed) in [("Sources/TEEWire", Set(["TEECore"])), ("Sources/TEECore", Set(["Synchronization"]))] {
            let files = try Self.imports(under: folder)
            #expect(!files.isEmpty, "\(folder) scanned (an empty scan proves nothing)")
            for (file, imported) in files {
                #expect(imported.isSubset(of: allowed), "\(file) imports \(imported.sorted())")
            }
        }
    }
}
