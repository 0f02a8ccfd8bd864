import ArgumentParser
import FirmwareImage
import Foundation
import TEECrypto
import TEECore

/// `rproc-tee sign-ta`: a TA's ELF into OP-TEE's signed TA file (`<uuid>.ta`), as OP-TEE's
/// `sign_encrypt.py sign-enc` writes it.
struct SignTA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-ta",
        abstract: "Sign a TA's ELF into OP-TEE's signed TA format (<uuid>.ta).",
        discussion: """
            The options follow OP-TEE's scripts/sign_encrypt.py (sign-enc): with the same RSA key, \
            UUID, version and ELF, a TEE_ALG_RSASSA_PKCS1_V1_5_SHA256 file is byte-identical to the \
            script's (a bootstrap TA: signed header, UUID and version, then the ELF). With --enc-key \
            the ELF is encrypted as the script's --enc-key does (OP-TEE's CFG_ENCRYPT_TA: AES-256-GCM, \
            a random 12-byte nonce, sign-then-encrypt). --subkey puts a subkey chain before the TA. \
            The result is verified (decrypted first) before it is written.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The TA's UUID.", valueName: "uuid")) var uuid: String
    @Option(name: .customLong("ta-version"), help: "The TA's version (u32).") var taVersion: UInt32 = 0
    @Option(name: .customLong("in"), help: ArgumentHelp("The TA's ELF.", valueName: "file")) var input: String
    @Option(name: .long, help: ArgumentHelp("The signed TA to write (default <uuid>.ta).", valueName: "file")) var out: String?
    @Option(name: .long, help: ArgumentHelp("Private RSA signing key (PEM or DER).", valueName: "file")) var key: String
    @Option(name: .long, help: "TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256 (default, as sign_encrypt.py's) or TEE_ALG_RSASSA_PKCS1_V1_5_SHA256.")
    var algo = SignedTA.Algorithm.rsaPSSSHA256.name
    @Option(name: .long, help: ArgumentHelp("A subkey chain (sign_encrypt.py sign-subkey's output) to put before the TA; --key is then the last subkey's private key.", valueName: "file"))
    var subkey: String?
    @Option(name: .long, help: ArgumentHelp("With --subkey: the name that puts the TA's UUID in the subkey's namespace (UUIDv5 over SHA-512).", valueName: "name"))
    var name: String?
    @Option(name: .customLong("enc-key"), help: ArgumentHelp("Encrypt the ELF with this AES-256 key: 64 hex digits, as sign_encrypt.py takes it (the daemon's --ta-enc-key must be the same key).", valueName: "hex"))
    var encKey: String?
    @Option(name: .customLong("enc-key-type"), help: "SHDR_ENC_KEY_DEV_SPECIFIC (default, as sign_encrypt.py's) or SHDR_ENC_KEY_CLASS_WIDE: which key of the device decrypts it.")
    var encKeyType = SignedTA.Encryption.KeyType.deviceSpecific.name
    @Flag(name: .long, help: "Replace an existing --out file.") var force = false

    func run() throws {
        try perform(json: false) {
            guard let parsed = UUID(uuidString: uuid) else { throw CLIError(.usage, "--uuid \(escaped(uuid)) is not a UUID") }
            guard let algorithm = SignedTA.Algorithm.allCases.first(where: { $0.name == algo }) else {
                throw CLIError(.usage, "--algo \(escaped(algo)) is not \(SignedTA.Algorithm.allCases.map(\.name).joined(separator: " or "))")
            }
            let octets = withUnsafeBytes(of: parsed.uuid) { Array($0) }
            let path = out ?? parsed.uuidString.lowercased() + ".ta"
            if path == input || Files.sameFile(input, path) { throw CLIError(.usage, "--out \(escaped(path)) is the --in file") }
            let privateKey = try Files.privateKey(key, password: nil)
            let elf = try Files.read(input, limit: SignedTA.maxFileSize - 4096, what: "TA ELF")
            var encryption: (key: SecureBytes, type: SignedTA.Encryption.KeyType, nonce: [UInt8]?)?
            if let encKey {
                guard let type = SignedTA.Encryption.KeyType.allCases.first(where: { $0.name == encKeyType }) else {
                    throw CLIError(.usage, "--enc-key-type \(escaped(encKeyType)) is not \(SignedTA.Encryption.KeyType.allCases.map(\.name).joined(separator: " or "))")
                }
                guard var bytes = hexBytes(encKey), bytes.count == SignedTA.Encryption.keySize else {
                    throw CLIError(.usage, "--enc-key is \(SignedTA.Encryption.keySize * 2) hex digits (an AES-256 key)")
                }
                encryption = (SecureBytes(consuming: &bytes), type, nil)
            }
            let signed: [UInt8]
            do {
                signed = try SignedTA.sign(elf: elf, uuid: octets, version: taVersion, key: privateKey, algorithm: algorithm, encryption: encryption)
                var check = try SignedTA(bytes: signed)
                if let encryption { check = try check.decrypted(with: encryption.key) }
                _ = try check.verify(uuid: octets, keys: [privateKey.publicKey])
            } catch {
                throw CLIError(.refused, "\(escaped(input)): \(error)")
            }
            var prefix: [UInt8] = []
            if let subkey {
                let chain = try Files.read(subkey, limit: 1 << 20, what: "subkey chain")
                let walked: (subkeys: [SignedTAChain.Subkey], end: Int)
                do { walked = try SignedTAChain.walk(chain) } catch { throw CLIError(.badInput, "\(escaped(subkey)): \(error)") }
                guard let last = walked.subkeys.last, walked.end == chain.count else {
                    throw CLIError(.badInput, "\(escaped(subkey)) is not a subkey chain (sign_encrypt.py sign-subkey writes one)")
                }
                // The name, padded with NULs to the size the last subkey gives it (sign_encrypt.py's layout).
                let nameBytes = Array((name ?? "").utf8)
                guard nameBytes.count <= Int(last.nameSize) else {
                    throw CLIError(.usage, "--name is \(nameBytes.count) bytes; the subkey has room for \(last.nameSize)")
                }
                let expected = last.nameSize == 0 ? last.uuid : SignedTAChain.uuidV5SHA512(namespace: last.uuid, name: nameBytes)
                guard expected == octets else {
                    throw CLIError(.usage, "--uuid \(parsed.uuidString.lowercased()) is not in the subkey's namespace (with this --name it is \(TEEUUID(octets: expected)?.description ?? "?"))")
                }
                prefix = chain + nameBytes + [UInt8](repeating: 0, count: Int(last.nameSize) - nameBytes.count)
            } else if name != nil {
                throw CLIError(.usage, "--name goes with --subkey")
            }
            try Files.create(path, prefix + signed, mode: 0o644, replace: force)
            print("\(escaped(path)): \(algorithm.name), TA \(parsed.uuidString.lowercased()) version \(taVersion), \(elf.count)-byte ELF\(encryption.map { ", encrypted (\($0.type.name))" } ?? "")")
        }
    }
}

/// `text` as bytes if it is hex (TEECrypto's `bytesFromHex`), allowing surrounding whitespace and
/// a leading 0x, as key files and command lines write it.
func hexBytes(_ text: String) -> [UInt8]? {
    var digits = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
    if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
    return bytesFromHex(digits)
}
