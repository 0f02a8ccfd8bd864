import Foundation
import SecureWorld
import Synchronization
import TEECrypto
import TEEInternalAPI
import Testing

/// LOAD's copy runs a chunk ahead of its hash on a second thread (`Platform.copyAhead`): loads
/// of several chunks with a tail land byte for byte, a changed byte in the last chunk is refused
/// with SECURITY and the destination zeroed, and bytes flipped during the load either leave the
/// signed bytes loaded or are refused and wiped — never loaded bytes that differ from what the
/// hash accepted.
@Suite struct LoadChunkTests {
    static let da: UInt64 = 0x1000

    static func platform() throws -> Platform {
        let platform = Platform(board: try PlatformDescription(json: PlatformFileTests.board(regions: [PlatformFileTests.region(0, size: 8 << 20)])))
        platform.applyFirewall(0, .load)
        return platform
    }

    static func loaded(_ platform: Platform, _ count: Int) -> [UInt8] {
        Array(platform.regionBytes(0, region: 0)[Int(da)..<(Int(da) + count)])
    }

    @Test(arguments: [1, Platform.loadChunk, Platform.loadChunk + 1, 4 * Platform.loadChunk, 4 * Platform.loadChunk + 4097])
    func chunkedLoadsLandWhole(count: Int) throws {
        let platform = try Self.platform()
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<(count + 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let segment = Array(bytes[3...])
        let source = PrivateBuffer(bytes: bytes)
        try platform.loadSegment(0, da: Self.da, source: source, sourceOffset: 3, count: count, expected: Digest.hash(.sha256, segment).bytes, executable: false)
        #expect(Self.loaded(platform, count) == segment)
        platform.release(0)
        #expect(platform.isWiped(0))
    }

    @Test func aChangedLastChunkIsRefusedAndZeroed() throws {
        let platform = try Self.platform()
        let count = 4 * Platform.loadChunk + 4097
        var bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let expected = Digest.hash(.sha256, bytes).bytes
        bytes[count - 2] ^= 0x40
        #expect(throws: TEEResult.security) {
            try platform.loadSegment(0, da: Self.da, source: PrivateBuffer(bytes: bytes), sourceOffset: 0, count: count, expected: expected, executable: false)
        }
        #expect(Self.loaded(platform, count).allSatisfy { $0 == 0 }, "a refused segment left bytes behind")
    }

    @Test func flippingDuringAChunkedLoad() throws {
        let count = 4 * Platform.loadChunk + 100
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let expected = Digest.hash(.sha256, bytes).bytes
        let source = PrivateBuffer(bytes: bytes)
        let stop = Atomic<Bool>(false), flips = Atomic<Int>(0)
        let flipper = Thread {
            var rng = SystemRandomNumberGenerator()
            while !stop.load(ordering: .relaxed) {
                let at = Int.random(in: 0..<count, using: &rng)
                source.store([bytes[at] ^ 0xFF], at: at)
                source.store([bytes[at]], at: at)
                flips.wrappingAdd(1, ordering: .relaxed)
            }
        }
        flipper.start()
        defer { stop.store(true, ordering: .relaxed) }
        var loaded = 0, refused = 0
        for _ in 0..<20 {
            let platform = try Self.platform()
            do {
                try platform.loadSegment(0, da: Self.da, source: source, sourceOffset: 0, count: count, expected: expected, executable: false)
                loaded += 1
                #expect(Self.loaded(platform, count) == bytes, "loaded bytes differ from the signed ones")
            } catch {
                refused += 1
                #expect(error == .security)
                #expect(Self.loaded(platform, count).allSatisfy { $0 == 0 }, "a refused segment left bytes behind")
            }
        }
        stop.store(true, ordering: .relaxed)
        #expect(loaded + refused == 20)
        #expect(flips.load(ordering: .relaxed) > 100, "the flipper ran during the loads")
    }
}
