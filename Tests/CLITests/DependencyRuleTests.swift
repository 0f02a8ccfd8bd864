import Foundation
import Testing

/// DESIGN.md's dependency rules that the compiler cannot see on its own: only TEECrypto imports
/// mbedTLS. (The build also runs with --explicit-target-dependency-import-check error.)
@Suite struct DependencyRuleTests {
    @Test func onlyTEECryptoImportsMbedTLS() throws {
        let root = CLI.repositoryRoot
        var offenders: [String] = []
        var teeCryptoImports = 0
        for folder in ["Sources", "TA", "Examples", "Tests"] {
            let base = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where url.pathExtension == "swift" {
                let text = try String(contentsOf: url, encoding: .utf8)
                let importsMbedTLS = text.split(separator: "\n").contains { line in
                    let words = line.split(separator: " ")
                    guard let index = words.firstIndex(of: "import") else { return false }
                    return index + 1 < words.count && words[index + 1].hasPrefix("CMbedTLS")
                }
                guard importsMbedTLS else { continue }
                if url.path.contains("/Sources/TEECrypto/") {
                    teeCryptoImports += 1
                } else {
                    offenders.append(url.path.replacingOccurrences(of: root.path + "/", with: ""))
                }
            }
        }
        #expect(offenders.isEmpty, "files outside TEECrypto import mbedTLS: \(offenders)")
        #expect(teeCryptoImports > 0, "the scan found TEECrypto's own imports")
    }
}
