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
            (--name, --image-version, --security-counter, --depends, --boot-address) add rproc-tee's \
            signed manifest TLVs, which OP-TEE's TA ignores. The result is verified with the key's \
            public half before it is written: what sign writes, verify accepts. A warning says when \
            OP-TEE's TA cannot load the output or ignores part of it.
            """
    )

    @Option(name: .customLong("in"), help: ArgumentHelp("ELF firmware file; repeat for a multi-image bundle, in load order.", valueName: "file"))
    var inputs: [String] = []

    @Option(name: .long, help: ArgumentHelp("Signed image to write.", valueName: "file"))
    var out: String

    @Option(name: .long, help: ArgumentHelp("Private signing key (PEM or DER: PKCS#1, SEC1, PKCS#8).", valueName: "file"))
    var key: String

    @Option(name: .customLong("key_type"), help: "RSA or ECC (OP-TEE's option): the kind of --key; checked against the key. Inferred from the key when absent.")
    var keyType: String?

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

    @Option(name: .customLong("image-version"), help: "Manifest: a version MAJOR.MINOR.PATCH per image, in --in order.")
    var versions: [String] = []

    @Option(name: .long, help: "Manifest: anti-rollback counter of the bundle (u32).")
    var securityCounter: UInt32?

    @Option(name: .customLong("depends"), help: "Manifest: IMAGE:NEEDS:MIN_VERSION, images by name or index (e.g. zephyr:tfm:2.0.0). Repeatable.")
    var dependencies: [String] = []

    @Option(name: .customLong("boot-address"), help: "Manifest: SECURE:NONSECURE vector tables per image, in --in order; hex or 'none'.")
    var bootAddresses: [String] = []

    @Flag(name: .long, help: "Replace an existing --out file.") var force = false
    @Flag(name: .long, help: "JSON output for scripts.") var json = false

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one --in ELF file") }
        if inputs.count > 255 { throw ValidationError("at most 255 --in images") }
        if let keyType, !["RSA", "ECC"].contains(keyType) { throw ValidationError("--key_type must be RSA or ECC, not \(keyType)") }
        if platformTLV.count % 2 != 0 { throw ValidationError("--plat-tlv takes an ID and a VALUE") }
        if let signature, !["rsa-pkcs1", "rsa-pss", "ecdsa"].contains(signature) {
            throw ValidationError("--signature must be rsa-pkcs1, rsa-pss or ecdsa, not \(signature)")
        }
        for (option, values) in [("--name", names), ("--image-version", versions), ("--boot-address", bootAddresses)] where !values.isEmpty && values.count != inputs.count {
            throw ValidationError("\(option) is given \(values.count) times for \(inputs.count) images")
        }
    }

    func run() throws {
        try perform(json: json) {
            // Writing the output over an input would destroy the firmware it signs.
            for input in inputs where input == out || Files.sameFile(input, out) {
                throw CLIError(.usage, "--out \(escaped(out)) is also an --in file; write the signed image elsewhere")
            }
            if let keyInfo, keyInfo == out || Files.sameFile(keyInfo, out) { throw CLIError(.usage, "--out \(escaped(out)) is also the --key_info file") }
            let password = keyPassword.map { SecureBytes(Array($0.utf8)) }
            let privateKey = try Files.privateKey(key, password: password)
            switch (keyType, privateKey) {
            case (nil, _), ("RSA", .rsa), ("ECC", .ec): break
            default: throw CLIError(.badInput, "\(escaped(key)): is a \(privateKey.publicKey.algorithmDescription) key, not --key_type \(keyType!)")
            }
            var signer = ImageSigner(images: try inputs.map { try Files.read($0, limit: Int(UInt32.max), what: "firmware file") }, key: privateKey)
            switch signature {
            case "rsa-pss": signer.signatureType = .rsaPSS
            case "rsa-pkcs1": signer.signatureType = .rsaPKCS1v15
            case "ecdsa":
                guard case .ec(let ec) = privateKey else { throw CLIError(.usage, "--signature ecdsa needs an EC key") }
                signer.signatureType = ec.curve == .p256 ? .ecdsaP256 : .ecdsaP384
            default: break
            }
            signer.keyInfo = try keyInfo.map { try Files.read($0, limit: Files.maxKeyFile, what: "--key_info file") }
            do {
                signer.platformTLVs = try stride(from: 0, to: platformTLV.count, by: 2).map {
                    try ImageSigner.parsePlatformTLV(id: platformTLV[$0], value: platformTLV[$0 + 1])
                }
            } catch let error as ImageError {
                throw CLIError(.usage, "--plat-tlv: \(escaped(error.reason))")
            }
            signer.manifest = try manifest()
            let signed: [UInt8]
            do {
                signed = try signer.sign()
            } catch let error as ImageError {
                let file = error.image.map { inputs[$0] + ": " } ?? ""
                throw CLIError(.refused, "\(file)\(escaped("\(error)"))")
            }
            // Sign only what would load: the verifier, with the key's public half, must accept
            // the output (key sizes it refuses, boot addresses outside every segment, …).
            do throws(ImageVerificationError) {
                _ = try ImageVerifier.verify(signed, trustedKeys: TrustedKeys(keys: [privateKey.publicKey]))
            } catch {
                let problems = error.failures.map { failure -> String in (failure.image.map { inputs[$0] + ": " } ?? "") + escaped("\(failure)") }
                throw CLIError(.refused, "not written: verify would refuse the result:\n  " + problems.joined(separator: "\n  "))
            }
            let metadata = try ImageMetadata(bytes: signed, fileSize: signed.count)
            var warnings: [String] = []
            if metadata.signatureType == .rsaPSS || metadata.signatureType == .ecdsaP384 {
                warnings.append("SIGNTYPE \(metadata.signatureType.rawValue) (\(metadata.signatureType.name)) is an rproc-tee extension: OP-TEE's remoteproc TA cannot load this image (it knows SIGNTYPE 1, RSA PKCS#1 v1.5, and 2, ECDSA P-256)")
            }
            let manifestTLVs = metadata.records.filter { (0x1F000..<0x20000).contains($0.type) }.map { TLVType.name($0.type) }
            if !manifestTLVs.isEmpty {
                warnings.append("manifest TLVs \(manifestTLVs.joined(separator: ", ")) are rproc-tee extensions: OP-TEE's TA loads the image but ignores them (no anti-rollback, dependencies or boot addresses there)")
            }
            try Files.create(out, signed, mode: 0o644, replace: force)
            if json {
                print(JSONText.encode(["ok": true, "out": out, "size": signed.count, "images": inputs.count, "signature_type": metadata.signatureType.name,
                                       "key": hexString(privateKey.publicKey.fingerprint.bytes), "warnings": warnings]))
            } else {
                for warning in warnings { printError("warning: \(warning)") }
                print("\(escaped(out)): \(signed.count) bytes, \(inputs.count) image(s), signed with \(privateKey.publicKey.algorithmDescription) (key SHA-256 \(hexString(privateKey.publicKey.fingerprint.bytes)))")
            }
        }
    }

    private func manifest() throws -> Manifest {
        var manifest = Manifest()
        if !names.isEmpty { manifest.names = names }
        if !versions.isEmpty {
            manifest.versions = try versions.map { text in
                guard let v = Manifest.Version(text) else { throw CLIError(.usage, "--image-version \(escaped(text)): expected MAJOR.MINOR.PATCH") }
                return v
            }
        }
        manifest.securityCounter = securityCounter
        func imageIndex(_ token: Substring) throws -> Int {
            if let i = Int(token), inputs.indices.contains(i) { return i }
            if let i = names.firstIndex(of: String(token)) { return i }
            throw CLIError(.usage, "--depends: \(escaped(String(token))) is neither an image index nor a --name")
        }
        manifest.dependencies = try dependencies.map { text in
            let parts = text.split(separator: ":")
            guard parts.count == 3, let minimum = Manifest.Version(String(parts[2])) else {
                throw CLIError(.usage, "--depends \(escaped(text)): expected IMAGE:NEEDS:MAJOR.MINOR.PATCH")
            }
            return Manifest.Dependency(image: try imageIndex(parts[0]), dependsOn: try imageIndex(parts[1]), minimum: minimum)
        }
        if !bootAddresses.isEmpty {
            manifest.bootAddresses = try bootAddresses.map { text in
                let parts = text.split(separator: ":", omittingEmptySubsequences: false)
                func address(_ s: Substring) throws -> UInt32? {
                    if s == "none" { return nil }
                    let digits = s.hasPrefix("0x") || s.hasPrefix("0X") ? s.dropFirst(2) : s
                    guard let value = UInt32(digits, radix: 16), value != .max else { throw CLIError(.usage, "--boot-address \(escaped(text)): \(escaped(String(s))) is not a hex address or 'none'") }
                    return value
                }
                guard parts.count == 2 else { throw CLIError(.usage, "--boot-address \(escaped(text)): expected SECURE:NONSECURE") }
                return Manifest.BootAddresses(secure: try address(parts[0]), nonSecure: try address(parts[1]))
            }
        }
        return manifest
    }
}

