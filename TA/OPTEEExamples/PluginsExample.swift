import OPTEEExamplesTAInterface
import TEEInternalAPI

/// optee_examples' `plugins` TA in Swift: PING hands a line to the example's syslog plugin in
/// the normal world (`TEE.invokeSupplicantPlugin`, libutee's `tee_invoke_supp_plugin`) — the
/// line's bytes without a NUL, LOG_INFO as the sub-command, no output length — and returns the
/// plugin's result. A new instance per session (TA_FLAGS 0), each counting its own pings, as the
/// original's static counter does.
public final class PluginsExample: TrustedApplication {
    public static let properties = TAProperties(uuid: PluginsExampleTA.uuid, description: "plugins (optee_examples)")
    let tee: TEE
    private var pings: UInt32 = 0

    public init(tee: TEE) throws(TEEResult) { self.tee = tee }

    public func openSession(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes())
    }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes())
        guard PluginsExampleTA.Command(rawValue: command) == .ping else { throw .notSupported }
        var line = Array("Hello, plugin! value = 0x\(String(pings, radix: 16))".utf8)
        pings &+= 1
        _ = try tee.invokeSupplicantPlugin(PluginsExampleTA.syslogPlugin, command: PluginsExampleTA.toSyslog,
                                           subCommand: PluginsExampleTA.logInfo, data: &line)
    }
}
