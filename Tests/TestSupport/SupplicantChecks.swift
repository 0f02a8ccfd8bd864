import OPTEETestTAInterface
import TEEClient
import TEECore

/// xtest 1033's checks ("Test the supplicant plugin framework"), as xtest makes them, against
/// the supp_plugin TA port on `client`'s TEE with optee_test's test plugin (or one answering as
/// it does) served: embedded by SecureWorldTests, across processes by DaemonTests. Throws the
/// first check that fails.
public enum SupplicantChecks {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func xtest1033(_ client: TEEContext) throws {
        func check(_ ok: Bool, _ what: @autoclosure () -> String) throws { if !ok { throw Failure(description: what()) } }
        func expect(_ result: TEEResult, _ command: SupplicantPluginTA.Command, _ session: TEESession) throws {
            do {
                try session.invoke(command.rawValue)
                throw Failure(description: "\(command): succeeded, expected \(result)")
            } catch let error as TEEClientError {
                try check(error.result == result, "\(command): \(error), expected \(result)")
            }
        }
        let session = try client.openSession(SupplicantPluginTA.uuid)
        defer { session.close() }
        for (op, expected) in [(UInt8(ascii: "+"), UInt32(30)), (UInt8(ascii: "-"), 10)] {
            let values = TEEOperation(.valueInout(20, 10), .valueInput(UInt32(op), 0))
            try session.invoke(SupplicantPluginTA.Command.passValues.rawValue, values)
            try check(values.value(0)?.a == expected, "PASS_VALUES 20 \(Character(Unicode.Scalar(op))) 10 = \(String(describing: values.value(0)))")
        }
        let write = TEEOperation(.tempInout([0, 1, 2, 3, 4, 5]), .valueOutput)
        try session.invoke(SupplicantPluginTA.Command.writeArray.rawValue, write)
        try check(write.value(1)?.a == 15, "WRITE_ARR: \(String(describing: write.value(1)))")
        let get = TEEOperation(.tempOutput(capacity: 64), .valueOutput)
        try session.invoke(SupplicantPluginTA.Command.getArray.rawValue, get)
        let text = Array("Array from plugin".utf8) + [0]
        try check(get.value(1)?.a == UInt32(text.count), "GET_ARR length: \(String(describing: get.value(1)))")
        try check(get.output(0).map { Array($0.prefix(text.count)) } == text, "GET_ARR bytes: \(String(describing: get.output(0)))")
        for bad in [SupplicantPluginTA.Command.badUUID, .badInputData, .badInputLength] { try expect(.badParameters, bad, session) }
        try expect(.itemNotFound, .unknownUUID, session)
    }
}
