import Foundation

/// Files under Tests/Fixtures and Keys/, found from this source file's location so the tests
/// run from any working directory.
enum Fixtures {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        Array(try Data(contentsOf: repositoryRoot.appendingPathComponent(relativePath)))
    }

    static func key(_ name: String) throws -> [UInt8] { try bytes("Tests/Fixtures/keys/" + name) }
}
