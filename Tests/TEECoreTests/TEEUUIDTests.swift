import Testing
import Foundation
@testable import TEECore

@Suite struct TEEUUIDTests {
    // The remoteproc TA's UUID, from OP-TEE's ta/remoteproc/include/ta_remoteproc.h.
    let text = "80a4c275-0a47-4905-8285-1486a9771a08"

    @Test func parsesIntoGPFields() throws {
        let uuid = try #require(TEEUUID(text))
        #expect(uuid.timeLow == 0x80a4_c275)
        #expect(uuid.timeMid == 0x0a47)
        #expect(uuid.timeHiAndVersion == 0x4905)
        #expect(uuid.clockSeqAndNode == [0x82, 0x85, 0x14, 0x86, 0xa9, 0x77, 0x1a, 0x08])
        #expect(uuid.description == text)
    }

    @Test func fieldInitializerMatchesParsing() {
        let built = TEEUUID(timeLow: 0x80a4_c275, timeMid: 0x0a47, timeHiAndVersion: 0x4905,
                            clockSeqAndNode: (0x82, 0x85, 0x14, 0x86, 0xa9, 0x77, 0x1a, 0x08))
        #expect(built == TEEUUID(text))
    }

    @Test func upperCaseParsesAndPrintsLower() {
        #expect(TEEUUID(text.uppercased())?.description == text)
    }

    @Test func octetsRoundTrip() throws {
        let uuid = try #require(TEEUUID(text))
        #expect(uuid.octets.count == 16)
        #expect(uuid.octets.prefix(4) == [0x80, 0xa4, 0xc2, 0x75])
        #expect(TEEUUID(octets: uuid.octets) == uuid)
        #expect(TEEUUID(octets: [UInt8](repeating: 0, count: 15)) == nil)
    }

    @Test(arguments: [
        "", "80a4c275-0a47-4905-8285-1486a9771a0", "80a4c275-0a47-4905-8285-1486a9771a088",
        "80a4c2750a47-4905-8285-1486a9771a08-", "{80a4c275-0a47-4905-8285-1486a9771a08}",
        "80a4c275-0a47-4905-8285_1486a9771a08", "g0a4c275-0a47-4905-8285-1486a9771a08",
        "80a4c275-0a47-4905-8285-1486a9771a0 ",
    ])
    func rejectsNonCanonicalText(_ bad: String) {
        #expect(TEEUUID(bad) == nil)
    }

    @Test func literalAndCodable() throws {
        let literal: TEEUUID = "54af4a68-19be-40d7-bbe6-8950350a8744"
        let json = try JSONEncoder().encode([literal])
        #expect(String(decoding: json, as: UTF8.self) == "[\"54af4a68-19be-40d7-bbe6-8950350a8744\"]")
        #expect(try JSONDecoder().decode([TEEUUID].self, from: json) == [literal])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([TEEUUID].self, from: Data("[\"nope\"]".utf8)) }
    }

    /// The nil UUID (RFC 9562 §5.9): all 128 bits zero, what a PUBLIC login carries.
    @Test func zeroIsNil() {
        #expect(TEEUUID.zero.description == "00000000-0000-0000-0000-000000000000")
        #expect(TEEUUID.zero.octets == [UInt8](repeating: 0, count: 16))
        #expect(TEEUUID(octets: [UInt8](repeating: 0, count: 16)) == .zero)
        #expect(TEEUUID("00000000-0000-0000-0000-000000000000") == .zero)
        #expect(TEEUUID("00000000-0000-0000-0000-000000000001") != .zero)
    }
}
