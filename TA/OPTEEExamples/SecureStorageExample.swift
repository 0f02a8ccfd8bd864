import OPTEEExamplesTAInterface
import TEEInternalAPI

/// optee_examples' `secure_storage` TA in Swift: raw persistent objects in the TA's private
/// trusted storage, read, written (created or replaced) and deleted by id. Single instance.
public final class SecureStorageExample: TrustedApplication {
    public static let properties = TAProperties(uuid: SecureStorageExampleTA.uuid, singleInstance: true,
                                                description: "secure_storage (optee_examples)")
    let tee: TEE

    public init(tee: TEE) throws(TEEResult) { self.tee = tee }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        // Like the original, an unknown command is BAD_PARAMETERS.
        guard let command = SecureStorageExampleTA.Command(rawValue: command) else { throw .badParameters }
        switch command {
        case .readRaw:
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            let id = try params.memref(0).read()
            let object = try tee.storage.open(id, flags: [.accessRead, .shareRead])
            defer { object.close() }
            let size = try object.dataSize
            try params.withMemref(1) { (out) throws(TEEResult) in
                guard size <= out.capacity else {
                    out.size = size   // the size needed, with SHORT_BUFFER
                    throw .shortBuffer
                }
                try out.write(try object.read(size))
            }
        case .writeRaw:
            try params.require(ParamTypes(.memrefInput, .memrefInput))
            let id = try params.memref(0).read(), data = try params.memref(1).read()
            try tee.storage.create(id, flags: [.accessRead, .accessWrite, .accessWriteMeta, .overwrite], initialData: data).close()
        case .delete:
            try params.require(ParamTypes(.memrefInput))
            let id = try params.memref(0).read()
            try tee.storage.open(id, flags: [.accessRead, .accessWriteMeta]).closeAndDelete()
        }
    }
}
