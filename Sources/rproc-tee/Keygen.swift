import ArgumentParser
import Foundation
import TEECrypto

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a signing key pair.",
        discussion: """
            Writes the private key to FILE (PEM, mode 0600) and the public key to the same name \
            with .pub.pem in place of .pem (or appended). RSA keys use public exponent 65537. \
            Files are created new (never through a symbolic link); --force replaces regular files.
            """
    )

    @Option(name: .long, help: "Key type: \(KeyType.allCases.map(\.rawValue).joined(separator: ", ")).")
    var type: KeyType

    @Option(name: .long, help: "Private key output file (PEM). The public key goes next to it as .pub.pem.")
    var out: String

    @Flag(name: .long, help: "Replace existing files.")
    var force = false

    @Flag(name: .long, help: "JSON output for scripts.") var json = false

    /// `key.pem` → `key.pub.pem`; `key` → `key.pub.pem`.
    static func publicPath(for path: String) -> String {
        path.hasSuffix(".pem") ? String(path.dropLast(4)) + ".pub.pem" : path + ".pub.pem"
    }

    func run() throws {
        try perform(json: json) {
            guard !out.isEmpty else { throw CLIError(.usage, "--out needs a file name") }
            // A private key under a public name is how secrets get published.
            guard !out.hasSuffix(".pub.pem") else { throw CLIError(.usage, "--out \(escaped(out)): a .pub.pem name is for the public key; name the private key KEY.pem") }
            let publicPath = Self.publicPath(for: out)
            let key: PrivateKey
            do {
                key = try PrivateKey(generating: type)
            } catch let error as CryptoError {
                throw CLIError(.internalError, "key generation failed: \(error.reason)")
            }
            if !force {
                for path in [out, publicPath] where access(path, F_OK) == 0 || isSymlink(path) {
                    throw CLIError(.cannotWrite, "cannot write \(escaped(path)): exists (use --force to replace it)")
                }
            }
            try Files.create(out, secret: key.pemRepresentation, mode: 0o600, replace: force)
            do {
                try Files.create(publicPath, Array(key.publicKey.pemRepresentation.utf8), mode: 0o644, replace: force)
            } catch {
                unlink(out)
                throw error
            }
            let fingerprint = hexString(key.publicKey.fingerprint.bytes)
            if json {
                print(JSONText.encode(["ok": true, "type": type.rawValue, "private_key": out, "public_key": publicPath, "sha256": fingerprint]))
            } else {
                print("\(type.rawValue) key pair written: \(escaped(out)) (private), \(escaped(publicPath)) (public)")
                print("public key SHA-256 (DER SubjectPublicKeyInfo): \(fingerprint)")
            }
        }
    }

    private func isSymlink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK
    }
}

extension KeyType: ExpressibleByArgument {}
