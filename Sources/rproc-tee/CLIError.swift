import ArgumentParser
import Foundation
import TEECrypto

/// A one-line failure for the user: what went wrong and where. Exits with status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes secret bytes to a new file readable only by its owner.
func writeSecret(_ secret: SecureBytes, to path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw CLIError("\(path): cannot create: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    // open() keeps an existing file's mode; narrow it in case the file was already there.
    fchmod(fd, 0o600)
    let ok = secret.withUnsafeBytes { buffer -> Bool in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }
    guard ok else { throw CLIError("\(path): write failed: \(String(cString: strerror(errno)))") }
}
