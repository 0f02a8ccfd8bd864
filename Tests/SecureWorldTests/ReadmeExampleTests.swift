import Foundation
import Testing
import TestSupport
// README example, verbatim from "import TEEInternalAPI" to the end of readmeClient() (a test
// below compares this text with the README's block).
import TEEInternalAPI
import TEEEmbedded

final class Counter: TrustedApplication {
    static let properties = TAProperties(uuid: "1f9d3a3e-8b1e-4c1a-9f00-0000000000c1",
                                         singleInstance: true, multiSession: true, description: "counter")
    var total: UInt32 = 0
    init(tee: TEE) throws(TEEResult) {}

    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard command == 1 else { throw .notSupported }
        try params.require(ParamTypes(.valueInput, .memrefOutput))     // check types first
        total &+= params.value(0).a
        try params.withMemref(1) { (out) throws(TEEResult) in          // SHORT_BUFFER if too small
            try out.write(Array("total=\(total)".utf8))
        }
    }
}

func readmeClient() throws -> String {
    let world = SecureWorld()
    world.register(Counter.self)
    let context = TEEContext.embedded(world)                            // or the daemon's transport
    defer { context.finalize() }
    let session = try context.openSession(Counter.properties.uuid)
    let op = TEEOperation(.valueInput(40), .tempOutput(capacity: 32))
    try session.invoke(1, op)
    try session.invoke(1, TEEOperation(.valueInput(2), .tempOutput(capacity: 32)))
    let again = TEEOperation(.valueInput(0), .tempOutput(capacity: 32))
    try session.invoke(1, again)
    return String(decoding: again.output(1)!, as: UTF8.self)           // "total=42"
}

@Suite struct ReadmeExampleTests {
    @Test func theReadmeExampleRuns() throws {
        #expect(try readmeClient() == "total=42")
    }

    /// The README's block is this file's code, line for line, so the example cannot rot.
    @Test func theReadmeShowsThisCode() throws {
        let readme = try String(contentsOf: Repository.root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let section = try #require(readme.range(of: "## Writing a TA and calling it"))
        let fence = try #require(readme.range(of: "```swift\n", range: section.upperBound..<readme.endIndex))
        let end = try #require(readme.range(of: "```", range: fence.upperBound..<readme.endIndex))
        let block = String(readme[fence.upperBound..<end.lowerBound])
        let start = try #require(source.range(of: "import TEEInternalAPI\n"))
        let stop = try #require(source.range(of: "\n}\n", range: source.range(of: "func readmeClient")!.upperBound..<source.endIndex))
        let code = String(source[start.lowerBound..<stop.upperBound])
        #expect(block == code)
        #expect(block.split(separator: "\n").count < 40, "the README promises a TA and a client in under 40 lines")
    }
}
