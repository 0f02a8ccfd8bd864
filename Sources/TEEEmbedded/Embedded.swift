import Foundation
import Logging
@_exported import RemoteProc
import RemoteProcTA
@_exported import SecureWorld
@_exported import TEEClient
@_exported import struct TEETransport.PeerCredentials
import TEETransport

extension TEEContext {
    /// A context whose secure world runs in this process: every request still goes through
    /// TEEWire encoding and decoding, as it will across processes. A TA panic ends the process
    /// (with a message naming the TA and the code); the daemon isolates TAs.
    ///
    /// - Parameter peer: who the client is. The process assembling the world decides: pass
    ///   `.kernel` for the context that plays Linux's kernel (the remoteproc driver logs in as
    ///   REE_KERNEL, and the remoteproc TA serves only that identity); the default is this
    ///   process as an ordinary user-space client.
    public static func embedded(_ world: SecureWorld, peer: PeerCredentials = .currentProcess) -> TEEContext {
        TEEContext(transport: InProcessTransport(endpoint: world, peer: peer))
    }
}

extension SecureWorld {
    /// A secure world with the remoteproc TA, the platform pseudo-TA for `platform`, and the
    /// normal world's bus to it (for drivers in another process).
    public static func remoteproc(platform: Platform, stateDirectory: URL? = nil, logger: Logger = Logger(label: "rproc-tee.secure-world")) -> SecureWorld {
        let world = SecureWorld(stateDirectory: stateDirectory, logger: logger)
        world.register(pseudoTA: RemoteProcPlatformPTA(platform: platform, logger: logger))
        world.register(pseudoTA: PlatformBusPTA(platform: platform, logger: logger))
        world.register(RemoteProcessorTA.self)
        return world
    }
}

/// The normal world's view of platform memory (what Linux's memremap gives the driver).
public struct NormalWorldMemory: PhysicalMemoryAccess {
    public let platform: Platform
    public init(platform: Platform) { self.platform = platform }
    public func read(pa: UInt64, count: Int) throws -> [UInt8] { try platform.read(.normal, pa: pa, count: count) }
    public func write(pa: UInt64, bytes: [UInt8]) throws { try platform.write(.normal, pa: pa, bytes: bytes) }
}

extension DeviceMemoryMap {
    /// The device-tree view of coprocessor `id`'s memory on `board`.
    public init(board: PlatformDescription, coprocessor id: UInt32) {
        let regions = board.coprocessors.first { $0.id == id }?.regions ?? []
        self.init(regions.map { Range(da: UInt64($0.deviceAddress), pa: UInt64($0.physicalAddress), size: UInt64($0.size)) })
    }
}
