import TEEInternalAPI

/// A counter TA: each session adds to a total the instance keeps, and the total survives the
/// daemon's restart in trusted storage.
public final class CounterTA: TrustedApplication {
    public static let properties = TAProperties(uuid: "c0ffee00-1234-4abc-8def-0123456789ab", singleInstance: true,
                                                multiSession: true, instanceKeepAlive: true, description: "counter example")

    public enum Command: UInt32 {
        /// [in] value a: added to the total; [out] value a (param 1): the new total.
        case add = 1
        /// [out] value a: the total.
        case get = 2
    }

    let tee: TEE
    var total: UInt32 = 0
    static let objectID = Array("total".utf8)

    public init(tee: TEE) throws(TEEResult) {
        self.tee = tee
        if let storage = try? tee.storage, let object = try? storage.open(Self.objectID, flags: [.accessRead]) {
            defer { object.close() }
            let bytes = (try? object.read(4)) ?? []
            if bytes.count == 4 { total = bytes.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) } }
        }
    }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let command = Command(rawValue: command) else { throw .notSupported }
        switch command {
        case .add:
            try params.require(ParamTypes(.valueInput, .valueOutput))
            total &+= params.value(0).a
            params.setValue(1, a: total)
            if let storage = try? tee.storage {
                let bytes = (0..<4).map { UInt8(truncatingIfNeeded: total >> (8 * UInt32($0))) }
                try storage.create(Self.objectID, flags: [.accessWrite, .overwrite], initialData: bytes).close()
            }
        case .get:
            try params.require(ParamTypes(.valueOutput))
            params.setValue(0, a: total)
        }
    }
}
