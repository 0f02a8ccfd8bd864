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
        let keys = try publicKeys.map { try Files.publicKey($0, option: "--pubkey") }
        func digests(_ texts: [String], _ option: String) throws -> [Digest] {
            try texts.map { text in
                guard let bytes = bytesFromHex(text), let digest = try? Digest(algorithm: .sha256, bytes: bytes) else {
                    throw CLIError(.usage, "\(option) \(escaped(text)): expected 64 hex digits (a SHA-256)")
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
        discussion: "Segment hashes are always checked; the signature only when --pubkey or --key-hash is given. Exit status 1 when any check fails (the image would be refused), 0 otherwise; see the README for the other codes."
    )

    @Argument(help: "Signed image file.") var file: String
    @OptionGroup var trust: TrustOptions
    @Flag(name: .long, help: "JSON output for scripts.") var json = false

    func run() throws {
        try perform(json: json) {
            let keys = trust.isEmpty ? nil : try trust.trustedKeys()
            let report: VerificationReport
            do {
                report = try ImageVerifier.report(try Files.readImage(file), trustedKeys: keys)
            } catch let error as ImageError {
                throw CLIError(.refused, "\(file): \(escaped("\(error)"))")
            }
            if json {
                var root = ReportFormatter.json(report, file: file)
                root["ok"] = report.failures.isEmpty
                print(JSONText.encode(root))
            } else {
                print(ReportFormatter.text(report, file: file))
            }
            if !report.failures.isEmpty { throw ExitCode(ExitStatus.refused.rawValue) }
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a signed image completely; exit 0 only if it is valid.",
        discussion: """
            Checks the signature with the trusted keys, every hash-table entry against its program header and segment bytes, the ELF rules, placement, resource table and manifest. Every failure is printed; the exit status is 1 if there is any. \
            With --board, the image is also loaded (offline) by the remoteproc TA into that board's simulated coprocessor memory and released again: every check the TA makes there (ELF machine, placement in loadable regions, windows, rollback counter of a fresh device).
            """
    )

    @Argument(help: "Signed image file.") var file: String
    @OptionGroup var trust: TrustOptions
    @Option(name: .long, help: ArgumentHelp("Also check the image against this board (built-in name or platform JSON file), as the TA would load it.", valueName: "name|file"))
    var board: String?
    @Option(name: .customLong("rproc-id"), help: "With --board: the coprocessor id.") var rprocID: UInt32 = 0
    @Flag(name: .long, help: "JSON output for scripts.") var json = false

    func run() throws {
        try perform(json: json) {
            guard !trust.isEmpty else { throw CLIError(.usage, "give at least one --pubkey (or --key-hash)") }
            let keys = try trust.trustedKeys()
            let platform = try board.map { try BoardOptions.platform(named: $0, trust: keys) }
            var failures: [ImageError] = []
            var verified: VerifiedImage?
            do {
                verified = try ImageVerifier.verify(try Files.readImage(file), trustedKeys: keys)
            } catch let error as ImageVerificationError {
                failures = error.failures
            } catch let error as ImageError {
                failures = [error]
            }
            var boardResult: (refusal: String?, notes: [String])?
            if let platform, verified != nil {
                boardResult = try DryRun.load(try Files.readImage(file), platform: platform, rprocID: rprocID)
            }
            let valid = failures.isEmpty && boardResult?.refusal == nil
            if json {
                var root: [String: Any?] = ["ok": valid, "file": file, "valid": valid, "failures": failures.map(ReportFormatter.errorJSON),
                                            "key": verified.map { hexString($0.signingKey.fingerprint.bytes) }, "algorithm": verified?.metadata.signatureType.name]
                if let board, let boardResult {
                    root["board"] = ["name": board, "rproc_id": rprocID, "accepted": boardResult.refusal == nil, "refusal": boardResult.refusal, "notes": boardResult.notes] as [String: Any?]
                }
                print(JSONText.encode(root))
            } else {
                if let verified {
                    print("\(escaped(file)): valid — \(verified.metadata.signatureType.name) signature by \(verified.signingKey.algorithmDescription) key \(hexString(verified.signingKey.fingerprint.bytes)); \(verified.metadata.hashTable.count) hash-table entries match; \(verified.images.count) image(s)")
                }
                for failure in failures { printError("\(file): \(escaped("\(failure)"))") }
                if let board, let boardResult {
                    for note in boardResult.notes { print("\(escaped(file)): on \(escaped(board)): note: \(escaped(note))") }
                    if let refusal = boardResult.refusal {
                        printError("\(file): refused on \(escaped(board)) coprocessor \(rprocID): \(escaped(refusal))")
                    } else {
                        print("\(escaped(file)): the remoteproc TA loads it on \(escaped(board)) coprocessor \(rprocID)")
                    }
                }
                if !failures.isEmpty { printError("\(file): INVALID (\(failures.count) problem\(failures.count == 1 ? "" : "s"))") }
            }
            if !valid { throw ExitCode(ExitStatus.refused.rawValue) }
        }
    }
}
