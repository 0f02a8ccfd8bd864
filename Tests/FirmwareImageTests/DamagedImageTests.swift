import FirmwareImage
import Testing
import TestSupport

extension Manipulation: CustomTestStringConvertible {
    public var testDescription: String { name }
}

@Suite struct DamagedImageTests {
    @Test func undamagedImagesVerify() throws {
        _ = try ImageVerifier.verify(try ImageBuilder.m4().signed(), trustedKeys: ImageBuilder.rsaTrust)
        // The builder's re-signing path itself produces valid images.
        var builder = try ImageBuilder.m4()
        builder.rehash()
        _ = try ImageVerifier.verify(try builder.signed(), trustedKeys: ImageBuilder.rsaTrust)
    }

    @Test(arguments: manipulations)
    func damagedImageIsRefused(_ manipulation: Manipulation) throws {
        let (bytes, trust) = try manipulation.damage()
        do {
            _ = try ImageVerifier.verify(bytes, trustedKeys: trust)
            Issue.record("\(manipulation.name): accepted")
        } catch {
            #expect(error.failures.first?.code == manipulation.expected, "\(manipulation.name): got \(error.failures)")
            #expect(error.failures.allSatisfy { !$0.reason.isEmpty })
        }
    }
}
