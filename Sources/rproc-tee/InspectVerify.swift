import ArgumentParser
import FirmwareImage
import Foundation
import TEECrypto

/// Trusted-key options shared by `verify`, `inspect` and `run` (`--pubkey` is the image tools'
/// name, `--trusted-key` the board's; both work everywhere).
struct TrustOptions: ParsableArguments {
    @Option(name: [.customLong("pubkey"), .customLong("trusted-key")], help: ArgumentHelp("Trusted public key (PEM or DER). Repeatable.", valueName: "file"))
    var publicKeys: [String] = []

    @Option(name: .customLong("key-hash"), help: ArgumentHelp("SHA-256 (hex) of a key an image may carry in PKEYINFO. Repeatable.", valueName: "hex"))
    var keyHashes: [String] = []

    @Option(name: .customLong("revoke"), help: ArgumentHelp("SHA-256 (hex) of a revoked key. Repeatable.", valueName: "hex"))
    var revoked: [String] = []

    var isEmpty: Bool { publicKeys.isEmpty && keyHashes.isEmpty }

    func trustedKeys() throws -> TrustedKeys {
        let keys = try publicKeys.map { path -> PublicKey in
            do { return try PublicKey(pemOrDER: try readFile(path)) } catch let error as CryptoError { throw CLIError("\(path): \(error.reason)") }
        }
        func digests(_ texts: [String], _ option: String) throws -> [Digest] {
            try texts.map { text in
                guard let bytes = bytesFromHex(text), let digest = try? Digest(algorithm: .sha256, bytes: bytes) else {
                    throw CLIError("\(option) \(text): expected 64 hex digits (a SHA-256)")
                }
                return digest
            }
        }
        return TrustedKeys(keys: keys, keyHashes: try digests(keyHashes, "--key-hash"), revoked: try digests(revoked, "--revoke"))
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show everything in a signed image: header, TLVs, images, segments, resource table, manifest.",
        discussion: "Segment hashes are always checked; the signature only when --pubkey or --key-hash is given."
    )

    @Argument(help: "Signed image file.") var file: String
    @OptionGroup var trust: TrustOptions
    @Flag(name: .long, help: "JSON output for scripts.") var json = false

    func run() throws {
        let bytes = try readFile(file)
        let report: VerificationReport
        do {
            report = try ImageVerifier.report(bytes, trustedKeys: trust.isEmpty ? nil : try trust.trustedKeys())
        } catch let error as ImageError {
            throw CLIError("\(file): \(error)")
        }
        print(json ? ReportFormatter.json(report, file: file) : ReportFormatter.text(report, file: file))
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a signed image completely; exit 0 only if it is valid.",
        discussion: "Checks the signature with the trusted keys, every hash-table entry against its program header and segment bytes, the ELF rules, placement, resource table and manifest. Every failure is printed; the exit status is 1 if there is any."
    )

    @Argument(help: "Signed image file.") var file: String
    @OptionGroup var trust: TrustOptions
    @Flag(name: .long, help: "JSON output for scripts.") var json = false

    func validate() throws {
        if trust.isEmpty { throw ValidationError("give at least one --pubkey (or --key-hash)") }
    }

    func run() throws {
        let bytes = try readFile(file)
        let keys = try trust.trustedKeys()
        do throws(ImageVerificationError) {
            let verified = try ImageVerifier.verify(bytes, trustedKeys: keys)
            if json {
                print(ReportFormatter.jsonString(["file": file, "valid": true, "key": hexString(verified.signingKey.fingerprint.bytes),
                                                  "algorithm": verified.metadata.signatureType.name, "failures": [Any]()]))
            } else {
                print("\(file): valid — \(verified.metadata.signatureType.name) signature by \(verified.signingKey.algorithmDescription) key \(hexString(verified.signingKey.fingerprint.bytes)); \(verified.metadata.hashTable.count) hash-table entries match; \(verified.images.count) image(s)")
            }
        } catch {
            if json {
                print(ReportFormatter.jsonString(["file": file, "valid": false, "failures": error.failures.map(ReportFormatter.errorJSON)]))
            } else {
                for failure in error.failures { printError("\(file): \(failure)") }
                printError("\(file): INVALID (\(error.failures.count) problem\(error.failures.count == 1 ? "" : "s"))")
            }
            throw ExitCode(1)
        }
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
