@_exported import SecureWorld
@_exported import TEEClient
import TEETransport

extension TEEContext {
    /// A context whose secure world runs in this process: every request still goes through
    /// TEEWire encoding and decoding, as it will across processes. A TA panic ends the process
    /// (with a message naming the TA and the code); the daemon isolates TAs.
    public static func embedded(_ world: SecureWorld) -> TEEContext {
        TEEContext(transport: InProcessTransport(endpoint: world))
    }
}
