#if canImport(Glibc)
import Glibc
#endif
import CTEEClientAPI
import TEEClient
import TEECore

/// tee-supplicant's plugins (`tee_plugin_method.h`): shared objects from one folder, each
/// exporting a `struct plugin_method`, loaded as OP-TEE's tee-supplicant loads them (every entry
/// of the folder; one that does not load, lacks the symbol or whose init fails is reported and
/// skipped) and called for TAs' plugin calls through `TEESupplicant`. Plugins are normal-world
/// code and run in the supplicant's process with its rights, never in the secure world.
public final class SupplicantPlugins: @unchecked Sendable {
    // @unchecked: the table is fixed after init; calls come from the one serving thread.
    public struct Plugin: Sendable {
        public let name: String
        public let uuid: TEEUUID
        public let file: String
    }

    public private(set) var loaded: [Plugin] = []
    /// Files that are not plugins, with the reason (dlerror's text, a missing symbol, init's result).
    public private(set) var skipped: [(file: String, reason: String)] = []
    private var handles: [TEEUUID: UnsafeMutableRawPointer] = [:]

    /// Loads every file of `directory` (none if it does not exist, as tee-supplicant).
    public init(directory: String) {
        guard let dir = opendir(directory) else { return }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        for name in names.sorted() {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var plugin: UnsafeMutableRawPointer?
            var initResult: TEEC_Result = 0
            var error = [CChar](repeating: 0, count: 512)
            let status = rproc_tee_plugin_load(path, &plugin, &initResult, &error, error.count)
            let reason = String(decoding: error.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            switch status {
            case 0:
                guard let plugin else { continue }
                var octets = [UInt8](repeating: 0, count: 16)
                rproc_tee_plugin_uuid(plugin, &octets)
                let uuid = TEEUUID(octets: octets)!
                guard handles[uuid] == nil else {
                    skipped.append((name, "another plugin already has UUID \(uuid)"))
                    rproc_tee_plugin_close(plugin)
                    continue
                }
                handles[uuid] = plugin
                loaded.append(Plugin(name: String(cString: rproc_tee_plugin_name(plugin)), uuid: uuid, file: name))
            case -3: skipped.append((name, "its init failed with \(TEEResult(rawValue: initResult))"))
            default: skipped.append((name, reason.isEmpty ? "not a plugin" : reason))
            }
        }
    }

    deinit {
        for plugin in handles.values { rproc_tee_plugin_close(plugin) }
    }

    /// Runs one call: ITEM_NOT_FOUND if no plugin has its UUID (tee-supplicant's answer), else
    /// the plugin's own result and output length. The plugin works on the data in place, in the
    /// supplicant's shared memory.
    public func handle(_ call: TEESupplicant.Call, _ memory: SharedMemory) -> (result: TEEResult, outputLength: Int) {
        guard let plugin = handles[call.plugin] else { return (.itemNotFound, 0) }
        var outputLength = 0
        // Attacker: none here — `call.length` was checked against the memory by TEESupplicant.
        if call.length == 0 {
            let r = rproc_tee_plugin_invoke(plugin, call.command, call.subCommand, nil, 0, &outputLength)
            return (TEEResult(rawValue: r), outputLength)
        }
        if let base = memory.mappedAddress {
            // SAFETY: the memory is mapped for its whole size, and length ≤ size.
            let r = rproc_tee_plugin_invoke(plugin, call.command, call.subCommand, base, call.length, &outputLength)
            return (TEEResult(rawValue: r), outputLength)
        }
        // The embedded transport's memory is not a mapping: the plugin gets a copy.
        guard var bytes = try? memory.read(offset: 0, count: call.length) else { return (.badParameters, 0) }
        let r = bytes.withUnsafeMutableBytes { rproc_tee_plugin_invoke(plugin, call.command, call.subCommand, $0.baseAddress, call.length, &outputLength) }
        try? memory.write(bytes)
        return (TEEResult(rawValue: r), outputLength)
    }
}
