import SecureWorld

/// Platform files come from users (`rproc-tee run --board FILE`): the strict decoder must turn
/// any bytes into a board or a PlatformError, never a trap. A decoded board must also build a
/// Platform (memory for every region) without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPlatform(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let board = try? PlatformDescription(json: Array(UnsafeBufferPointer(start: data, count: size))) else { return 0 }
    // Bound what one input may allocate: regions are up to 256 MiB each by the decoder's rule.
    let total = board.coprocessors.reduce(UInt64(0)) { $0 + $1.regions.reduce(UInt64(0)) { $0 + UInt64($1.size) } }
    guard total <= 64 << 20 else { return 0 }
    let platform = Platform(board: board)
    for c in board.coprocessors {
        _ = platform.isWiped(c.id)
        for r in c.regions { _ = try? platform.read(.normal, pa: UInt64(r.physicalAddress), count: 1) }
    }
    return 0
}
