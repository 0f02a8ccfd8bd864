import TEEInternalAPI
import TEEWire

extension HostParameters {
    /// The answer to parameters `request` after the callee has run on `p`: values, the sizes it
    /// reported, and the bytes written into private (inline) outputs — what goes back over the
    /// TA-host link both ways (a host answering an entry point, the core answering a host's call
    /// to another TA).
    public init(answering p: Parameters, like request: HostParameters) {
        var out: [HostParameter] = []
        out.reserveCapacity(4)
        for i in 0..<4 {
            switch (p[i], request.params[i]) {
            case (.value(let a, let b), _): out.append(.value(a: a, b: b))
            case (.memref(let m), .memref(let r)):
                var back = HostMemref(kind: r.kind, slot: r.slot, offset: r.offset, size: UInt64(max(0, m.size)))
                if r.kind == .inline && m.direction.isOutput { back.bytes = (try? m.written()) ?? [] }
                out.append(.memref(back))
            default: out.append(.none)
            }
        }
        self = (try? HostParameters(types: request.types, params: out)) ?? request
    }
}
