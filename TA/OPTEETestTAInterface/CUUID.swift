import TEECore

extension TEEUUID {
    /// The 16 bytes of a C `TEE_UUID` / `TEEC_UUID` in memory on this (little-endian) machine:
    /// `timeLow`, `timeMid`, `timeHiAndVersion` in the machine's byte order, then
    /// `clockSeqAndNode` — what optee_test's TAs and hosts pass UUIDs as in memrefs (not the
    /// RFC 4122 octets of `octets`).
    public var cLayout: [UInt8] {
        withUnsafeBytes(of: timeLow.littleEndian) { Array($0) } + withUnsafeBytes(of: timeMid.littleEndian) { Array($0) }
            + withUnsafeBytes(of: timeHiAndVersion.littleEndian) { Array($0) } + clockSeqAndNode
    }

    /// A UUID from a C `TEE_UUID`'s 16 bytes (see `cLayout`); nil for any other size.
    public init?(cLayout b: [UInt8]) {
        guard b.count == 16 else { return nil }
        self.init(timeLow: UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24,
                  timeMid: UInt16(b[4]) | UInt16(b[5]) << 8,
                  timeHiAndVersion: UInt16(b[6]) | UInt16(b[7]) << 8,
                  clockSeqAndNode: (b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
}
