import ArgumentParser
import FirmwareImage
import Foundation
import TEECrypto

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign one or more ELF firmware images into OP-TEE's remoteproc format.",
        discussion: """
            Option names and meanings follow OP-TEE's scripts/sign_rproc_fw.py; with the same RSA \
            key and inputs the output is byte-identical to the script's. The manifest options \
            (--name, --version, --security-counter, --depends, --boot-address) add rproc-tee's \
            signed manifest TLVs, which OP-TEE's TA ignores.
            """
    )

    @Option(name: .customLong("in"), help: ArgumentHelp("ELF firmware file; repeat for a multi-image bundle, in load order.", valueName: "file"))
    var inputs: [String] = []

    @Option(name: .long, help: ArgumentHelp("Signed image to write.", valueName: "file"))
    var out: String

    @Option(name: .long, help: ArgumentHelp("Private signing key (PEM or DER: PKCS#1, SEC1, PKCS#8).", valueName: "file"))
    var key: String

    @Option(name: .customLong("key_type"), help: "RSA or ECC (OP-TEE's option): the kind of --key; checked against the key.")
    var keyType: String = "RSA"

    @Option(name: .customLong("key_pwd"), help: "Password of an encrypted --key.")
    var keyPassword: String?

    @Option(name: .customLong("key_info"), help: ArgumentHelp("File copied as is into the PKEYINFO TLV.", valueName: "file"))
    var keyInfo: String?

    @Option(name: .customLong("plat-tlv"), parsing: .upToNextOption,
            help: ArgumentHelp("Platform TLV: ID in [0x10000, 0x20000) and VALUE (0x… → u32, else UTF-8). Repeatable.", valueName: "ID VALUE"))
    var platformTLV: [String] = []

    @Option(name: .long, help: "Signature scheme where the key allows a choice: rsa-pkcs1 (default for RSA), rsa-pss, ecdsa.")
    var signature: String?

    @Option(name: .customLong("name"), help: "Manifest: a name per image, in --in order (e.g. tfm, zephyr).")
    var names: [String] = []

    @Option(name: .customLong("version"), help: "Manifest: a version MAJOR.MINOR.PATCH per image, in --in order.")
    var versions: [String] = []

    @Option(name: .long, help: "Manifest: anti-rollback counter of the bundle (u32).")
    var securityCounter: UInt32?

    @Option(name: .customLong("depends"), help: "Manifest: IMAGE:NEEDS:MIN_VERSION, images by name or index (e.g. zephyr:tfm:2.0.0). Repeatable.")
    var dependencies: [String] = []

    @Option(name: .customLong("boot-address"), help: "Manifest: SECURE:NONSECURE vector tables per image, in --in order; hex or 'none'.")
    var bootAddresses: [String] = []

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one --in ELF file") }
        if inputs.count > 255 { throw ValidationError("at most 255 --in images") }
        if !["RSA", "ECC"].contains(keyType) { throw ValidationError("--key_type must be RSA or ECC, not \(keyType)") }
        if platformTLV.count % 2 != 0 { throw ValidationError("--plat-tlv takes an ID and a VALUE") }
        if let signature, !["rsa-pkcs1", "rsa-pss", "ecdsa"].contains(signature) {
            throw ValidationError("--signature must be rsa-pkcs1, rsa-pss or ecdsa, not \(signature)")
        }
        for (option, values) in [("--name", names), ("--version", versions), ("--boot-address", bootAddresses)] where !values.isEmpty && values.count != inputs.count {
            throw ValidationError("\(option) is given \(values.count) times for \(inputs.count) images")
        }
    }

    func run() throws {
        let password = keyPassword.map { SecureBytes(Array($0.utf8)) }
        let privateKey: PrivateKey
        do {
            privateKey = try PrivateKey(pemOrDER: try readFile(key), password: password)
        } catch let error as CryptoError {
            throw CLIError("\(key): \(error.reason)")
        }
        switch (keyType, privateKey) {
        case ("RSA", .rsa), ("ECC", .ec): break
        default: throw CLIError("\(key): is a \(privateKey.publicKey.algorithmDescription) key, not --key_type \(keyType)")
        }
        var signer = ImageSigner(images: try inputs.map(readFile), key: privateKey)
        switch signature {
        case "rsa-pss": signer.signatureType = .rsaPSS
        case "rsa-pkcs1": signer.signatureType = .rsaPKCS1v15
        case "ecdsa":
            guard case .ec(let ec) = privateKey else { throw CLIError("--signature ecdsa needs an EC key") }
            signer.signatureType = ec.curve == .p256 ? .ecdsaP256 : .ecdsaP384
        default: break
        }
        signer.keyInfo = try keyInfo.map(readFile)
        signer.platformTLVs = try stride(from: 0, to: platformTLV.count, by: 2).map {
            try ImageSigner.parsePlatformTLV(id: platformTLV[$0], value: platformTLV[$0 + 1])
        }
        signer.manifest = try manifest()
        let signed: [UInt8]
        do {
            signed = try signer.sign()
        } catch let error as ImageError {
            let file = error.image.map { inputs[$0] + ": " } ?? ""
            throw CLIError("\(file)\(error)")
        }
        do {
            try Data(signed).write(to: URL(fileURLWithPath: out), options: .atomic)
        } catch {
            throw CLIError("\(out): cannot write: \(error.localizedDescription)")
        }
        print("\(out): \(signed.count) bytes, \(inputs.count) image(s), signed with \(privateKey.publicKey.algorithmDescription) (key SHA-256 \(hexString(privateKey.publicKey.fingerprint.bytes)))")
    }

    private func manifest() throws -> Manifest {
        var manifest = Manifest()
        if !names.isEmpty { manifest.names = names }
        if !versions.isEmpty {
            manifest.versions = try versions.map { text in
                guard let v = Manifest.Version(text) else { throw CLIError("--version \(text): expected MAJOR.MINOR.PATCH") }
                return v
            }
        }
        manifest.securityCounter = securityCounter
        func imageIndex(_ token: Substring) throws -> Int {
            if let i = Int(token), inputs.indices.contains(i) { return i }
            if let i = names.firstIndex(of: String(token)) { return i }
            throw CLIError("--depends: \(token) is neither an image index nor a --name")
        }
        manifest.dependencies = try dependencies.map { text in
            let parts = text.split(separator: ":")
            guard parts.count == 3, let minimum = Manifest.Version(String(parts[2])) else {
                throw CLIError("--depends \(text): expected IMAGE:NEEDS:MAJOR.MINOR.PATCH")
            }
            return Manifest.Dependency(image: try imageIndex(parts[0]), dependsOn: try imageIndex(parts[1]), minimum: minimum)
        }
        if !bootAddresses.isEmpty {
            manifest.bootAddresses = try bootAddresses.map { text in
                let parts = text.split(separator: ":", omittingEmptySubsequences: false)
                func address(_ s: Substring) throws -> UInt32? {
                    if s == "none" { return nil }
                    let digits = s.hasPrefix("0x") || s.hasPrefix("0X") ? s.dropFirst(2) : s
                    guard let value = UInt32(digits, radix: 16), value != .max else { throw CLIError("--boot-address \(text): \(s) is not a hex address or 'none'") }
                    return value
                }
                guard parts.count == 2 else { throw CLIError("--boot-address \(text): expected SECURE:NONSECURE") }
                return Manifest.BootAddresses(secure: try address(parts[0]), nonSecure: try address(parts[1]))
            }
        }
        return manifest
    }
}

/// Reads a whole file, or fails with a one-line error naming it.
func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIError("\(path): cannot read")
    }
    return Array(data)
}
