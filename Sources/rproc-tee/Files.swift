import FirmwareImage
import Foundation
import TEECrypto
import TEEEmbedded

/// Every file the tool reads or writes goes through here: reads are bounded and name the
/// reason they fail; writes never follow a symlink and never replace what they did not make.
enum Files {
    /// A key file is kilobytes; anything larger is refused before it is read.
    static let maxKeyFile = 1 << 20
    /// A board file (StrictJSON's own limit).
    static let maxBoardFile = 1 << 20
    /// A signed image: the format's lengths are u32, so at most 20 + 3 × 4 GiB.
    static let maxImageFile = 12 << 30

    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: "no such file"
        case EISDIR: "is a directory"
        case EACCES, EPERM: "permission denied"
        case ELOOP: "is a symbolic link (refused)"
        default: String(cString: strerror(code))
        }
    }

    /// Reads at most `limit` bytes of a regular file, or fails with "cannot read FILE: reason".
    static func read(_ path: String, limit: Int, what: String = "file") throws -> [UInt8] {
        let fd = try openForReading(path)
        defer { close(fd) }
        let size = try regularSize(fd, path)
        // Attacker: whoever hands us the file. Its size is bounded before a byte is read.
        guard size <= limit else {
            throw CLIError(.cannotRead, "cannot read \(escaped(path)): \(size) bytes is too large for a \(what) (at most \(limit) bytes)")
        }
        return try readExactly(fd, count: size, path)
    }

    /// Reads a signed image: the 20-byte header first, and the rest only if the file has
    /// exactly the size the header announces (a 4 GiB sparse file with a small header costs
    /// nothing). A size mismatch is the image's fault: an `ImageError`. One buffer of the final
    /// size: the image is held once, never concatenated.
    static func readImage(_ path: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try streamImage(path, allocate: { bytes = [UInt8](repeating: 0, count: $0) }, store: { chunk, offset in
            bytes.replaceSubrange(offset..<(offset + chunk.count), with: chunk)
        })
        return bytes
    }

    /// Streams a signed image (header first, as `readImage` describes) into storage the caller
    /// allocates for the announced size, 1 MiB at a time: the image is held once, in that
    /// storage (for `run`, the shared memory the TA reads).
    static func streamImage(_ path: String, allocate: (Int) throws -> Void, store: ([UInt8], Int) throws -> Void) throws {
        let fd = try openForReading(path)
        defer { close(fd) }
        let size = try regularSize(fd, path)
        guard size <= maxImageFile else { throw CLIError(.cannotRead, "cannot read \(escaped(path)): \(size) bytes is larger than any signed image can be") }
        let head = try readExactly(fd, count: min(size, ContainerHeader.size), path)
        let header = try ContainerHeader(bytes: head)
        guard header.fileSize == size else {
            _ = try ImageMetadata(bytes: head, fileSize: size)   // throws the reader's own size error
            throw CLIError(.refused, "\(escaped(path)): the header announces \(header.fileSize) bytes; the file has \(size)")
        }
        try allocate(size)
        try store(head, 0)
        var offset = head.count
        while offset < size {
            let chunk = try readExactly(fd, count: min(1 << 20, size - offset), path)
            try store(chunk, offset)
            offset += chunk.count
        }
    }

    /// A signed image read from its file straight into shared memory of `context`.
    static func imageInSharedMemory(_ path: String, _ context: TEEContext) throws -> SharedMemory {
        var firmware: SharedMemory?
        do {
            try streamImage(path, allocate: { size in
                do { firmware = try context.allocateSharedMemory(size: size, flags: .input) } catch {
                    throw CLIError(.internalError, "cannot allocate \(size) bytes of shared memory: \(error)")
                }
            }, store: { chunk, offset in try firmware!.write(chunk, at: offset) })
        } catch let error as ImageError {
            throw CLIError(.refused, "\(escaped(path)): refused: \(escaped("\(error)"))")
        }
        return firmware!
    }

    private static func openForReading(_ path: String) throws -> Int32 {
        guard !path.isEmpty else { throw CLIError(.usage, "an empty file name") }
        // O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer (red-team L5); it
        // is refused as not a regular file right after. For a regular file the flag changes
        // nothing.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw CLIError(.cannotRead, "cannot read \(escaped(path)): \(reason(errno))") }
        return fd
    }

    private static func regularSize(_ fd: Int32, _ path: String) throws -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CLIError(.cannotRead, "cannot read \(escaped(path)): \(reason(errno))") }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return Int(st.st_size)
        case S_IFDIR: throw CLIError(.cannotRead, "cannot read \(escaped(path)): is a directory")
        default: throw CLIError(.cannotRead, "cannot read \(escaped(path)): not a regular file")
        }
    }

    private static func readExactly(_ fd: Int32, count: Int, _ path: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try readExactly(fd, into: &bytes, from: 0, path)
        return bytes
    }

    private static func readExactly(_ fd: Int32, into bytes: inout [UInt8], from start: Int, _ path: String) throws {
        var done = start
        let count = bytes.count
        while done < count {
            // SAFETY: reads at most count − done bytes into the buffer from offset done.
            let n = bytes.withUnsafeMutableBytes { buffer in Glibc.read(fd, buffer.baseAddress! + done, count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CLIError(.cannotRead, "cannot read \(escaped(path)): \(n == 0 ? "the file shrank while it was read" : reason(errno))") }
            done += n
        }
    }

    /// Creates `path` with `mode` and writes `bytes`: O_CREAT | O_EXCL | O_NOFOLLOW, so neither a
    /// pre-planted symlink nor an existing file is written through. With `replace`, an existing
    /// regular file (never a symlink's target) is removed first.
    static func create(_ path: String, _ bytes: [UInt8], mode: mode_t, replace: Bool = false) throws {
        try bytes.withUnsafeBytes { try create(path, $0, mode: mode, replace: replace) }
    }

    /// The same for a secret: written straight from its zeroizing storage, no copy left behind.
    static func create(_ path: String, secret: SecureBytes, mode: mode_t, replace: Bool = false) throws {
        try secret.withUnsafeBytes { try create(path, $0, mode: mode, replace: replace) }
    }

    private static func create(_ path: String, _ buffer: UnsafeRawBufferPointer, mode: mode_t, replace: Bool) throws {
        guard !path.isEmpty else { throw CLIError(.usage, "an empty output file name") }
        if replace {
            var st = stat()
            if lstat(path, &st) == 0 {
                guard st.st_mode & S_IFMT == S_IFREG else { throw CLIError(.cannotWrite, "cannot write \(escaped(path)): exists and is not a regular file (refused)") }
                guard unlink(path) == 0 else { throw CLIError(.cannotWrite, "cannot write \(escaped(path)): \(reason(errno))") }
            }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let e = errno
            throw CLIError(.cannotWrite, "cannot write \(escaped(path)): " + (e == EEXIST ? "exists (use --force to replace it)" : reason(e)))
        }
        var ok = true
        var offset = 0
        // SAFETY: `buffer` is valid for the call; writes stay within [offset, count).
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { ok = false; break }
            offset += n
        }
        let e = errno
        guard close(fd) == 0, ok else {
            unlink(path)
            throw CLIError(.cannotWrite, "cannot write \(escaped(path)): \(reason(e))")
        }
    }

    /// Whether two paths name the same file (same device and inode); false if either is missing.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    // MARK: Keys

    /// What a PEM file says it is, from its first BEGIN line.
    static func pemLabel(_ bytes: [UInt8]) -> String? {
        guard let text = String(validating: bytes.prefix(4096), as: UTF8.self) ?? String(validating: bytes.prefix(4095), as: UTF8.self),
              let range = text.range(of: "-----BEGIN ") else { return nil }
        let rest = text[range.upperBound...]
        guard let end = rest.range(of: "-----") else { return nil }
        return String(rest[..<end.lowerBound])
    }

    /// A trusted public key from `path` (`option` names where it came from), with the reason in
    /// words when the file is something else.
    static func publicKey(_ path: String, option: String) throws -> PublicKey {
        let bytes = try read(path, limit: maxKeyFile, what: "key file")
        switch pemLabel(bytes) {
        case .some(let label) where label.contains("PRIVATE KEY"):
            throw CLIError(.badInput, "\(escaped(path)): this is a private key; \(option) takes the public key (rproc-tee keygen wrote it as .pub.pem; or: openssl pkey -in \(escaped(path)) -pubout)")
        case "CERTIFICATE":
            throw CLIError(.badInput, "\(escaped(path)): this is an X.509 certificate; \(option) takes its public key (openssl x509 -in \(escaped(path)) -pubkey -noout)")
        default: break
        }
        do {
            return try PublicKey(pemOrDER: bytes)
        } catch let error as CryptoError {
            throw CLIError(.badInput, "\(escaped(path)): not a usable public key (\(error.reason))")
        }
    }

    /// A private signing key from `path`.
    static func privateKey(_ path: String, password: SecureBytes?) throws -> PrivateKey {
        let bytes = try read(path, limit: maxKeyFile, what: "key file")
        switch pemLabel(bytes) {
        case "PUBLIC KEY", "RSA PUBLIC KEY":
            throw CLIError(.badInput, "\(escaped(path)): this is a public key; --key takes the private key (its .pub.pem is for --pubkey / --trusted-key)")
        case "CERTIFICATE":
            throw CLIError(.badInput, "\(escaped(path)): this is an X.509 certificate; --key takes the private key it was issued for")
        default: break
        }
        do {
            return try PrivateKey(pemOrDER: bytes, password: password)
        } catch let error as CryptoError {
            throw CLIError(.badInput, "\(escaped(path)): \(error.reason)")
        }
    }
}

/// The state folder of `run` (trusted storage, the device secret): the user's, or a fresh one
/// made with mkdtemp (mode 0700, unpredictable) that is removed at the end — and only then,
/// because only then did the tool create it.
final class StateDirectory {
    let url: URL
    private let temporary: Bool

    init(_ path: String?) throws {
        if let path {
            guard !path.isEmpty else { throw CLIError(.usage, "--state needs a folder name") }
            var st = stat()
            if lstat(path, &st) == 0 {
                guard st.st_mode & S_IFMT == S_IFDIR else { throw CLIError(.cannotWrite, "--state \(escaped(path)): exists and is not a folder (a symbolic link is refused)") }
                guard st.st_uid == getuid() else { throw CLIError(.cannotWrite, "--state \(escaped(path)): belongs to another user") }
            } else {
                guard mkdir(path, 0o700) == 0 else { throw CLIError(.cannotWrite, "--state \(escaped(path)): cannot create: \(Files.reason(errno))") }
            }
            url = URL(fileURLWithPath: path)
            temporary = false
            // Owned, a folder, writable by nobody else; storage/ likewise (the secure world
            // checks it again before it reads the device secret).
            do { try SecureWorld.checkStateDirectory(url) } catch {
                throw CLIError(.cannotWrite, "--state: \(escaped(error.description))")
            }
        } else {
            var template = Array((NSTemporaryDirectory() + "/rproc-tee-state-XXXXXX").utf8CString)
            guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
                throw CLIError(.cannotWrite, "cannot create a temporary state folder: \(Files.reason(errno))")
            }
            url = URL(fileURLWithPath: String(cString: made))
            temporary = true
        }
    }

    /// Removes the folder if the tool made it (its content is the tool's own).
    func cleanUp() {
        if temporary { try? FileManager.default.removeItem(at: url) }
    }
}
