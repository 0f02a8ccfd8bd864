import TEEInternalAPI

extension FuzzHarnesses {
    /// A persistent object's record as trusted storage reads it back (`StoredObject.decode`;
    /// attacker: the TA's host process writes its own records as it likes, and a file that
    /// authenticates is read too). Decoding never traps; what decodes re-encodes to bytes that
    /// decode to the same record, and to the input itself (the format has one spelling).
    public static func storedObject(_ bytes: [UInt8]) {
        guard let record = try? StoredObject.decode(bytes) else { return }
        let again = record.encoded()
        precondition(again == bytes, "a record has one encoding")
        precondition((try? StoredObject.decode(again)) == record, "decode ∘ encode is the identity")
    }
}
