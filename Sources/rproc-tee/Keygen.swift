import ArgumentParser
import Foundation
import TEECrypto

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a signing key pair.",
        discussion: """
            Writes the private key to FILE (PEM, mode 0600) and the public key to the same name \
            with .pub.pem in place of .pem (or appended). RSA keys use public exponent 65537.
            """
    )

    @Option(name: .long, help: "Key type: \(KeyType.allCases.map(\.rawValue).joined(separator: ", ")).")
    var type: KeyType

    @Option(name: .long, help: "Private key output file (PEM). The public key goes next to it as .pub.pem.")
    var out: String

    @Flag(name: .long, help: "Replace existing files.")
    var force = false

    /// `key.pem` → `key.pub.pem`; `key` → `key.pub.pem`.
    static func publicPath(for path: String) -> String {
        path.hasSuffix(".pem") ? String(path.dropLast(4)) + ".pub.pem" : path + ".pub.pem"
    }

    func validate() throws {
        if out.isEmpty { throw ValidationError("--out needs a file name") }
        if Self.publicPath(for: out) == out { throw ValidationError("--out must not end in .pub.pem") }
    }

    func run() throws {
        let publicPath = Self.publicPath(for: out)
        let fm = FileManager.default
        if !force {
            for path in [out, publicPath] where fm.fileExists(atPath: path) {
                throw CLIError("\(path): exists (use --force to replace it)")
            }
        }
        let key: PrivateKey
        do {
            key = try PrivateKey(generating: type)
        } catch let error as CryptoError {
            throw CLIError("key generation failed: \(error.reason)")
        }
        try writeSecret(key.pemRepresentation, to: out)
        do {
            try Data(key.publicKey.pemRepresentation.utf8).write(to: URL(fileURLWithPath: publicPath), options: .atomic)
        } catch {
            throw CLIError("\(publicPath): cannot write: \(error.localizedDescription)")
        }
        print("\(type.rawValue) key pair written: \(out) (private), \(publicPath) (public)")
        print("public key SHA-256 (DER SubjectPublicKeyInfo): \(hexString(key.publicKey.fingerprint.bytes))")
    }
}

extension KeyType: ExpressibleByArgument {}
