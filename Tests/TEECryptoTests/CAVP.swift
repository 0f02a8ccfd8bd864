import Foundation
import TEECrypto

/// Reads a NIST CAVP `.rsp` file (or the collection's `.txt` variants): `[section]` lines,
/// `key = value` records separated by blank lines, `#` comments, bare words such as `FAIL`.
struct CAVPRecord {
    var section: String
    var fields: [String: String]
    /// The 1-based line of the record's first field, for failure messages.
    var line: Int

    subscript(_ key: String) -> String? { fields[key] }

    func hex(_ key: String) throws -> [UInt8] {
        guard let text = fields[key] else { throw VectorError("\(key) missing at line \(line)") }
        // P-521 coordinates are printed without their leading zero nibble: an odd digit count.
        guard let bytes = bytesFromHex(text.count % 2 == 1 ? "0" + text : text) else { throw VectorError("\(key) is not hex at line \(line)") }
        return bytes
    }

    func int(_ key: String) throws -> Int {
        guard let text = fields[key], let value = Int(text) else { throw VectorError("\(key) missing at line \(line)") }
        return value
    }

    func has(_ key: String) -> Bool { fields[key] != nil }
}

struct VectorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum CAVP {
    static let directory: String = {
        // Tests/TEECryptoTests/CAVP.swift → Tests/Vectors
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Vectors").path
    }()

    static func records(_ file: String) throws -> [CAVPRecord] {
        let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
        var out: [CAVPRecord] = []
        var section = ""
        var current: [String: String] = [:]
        var start = 0
        func flush() {
            if !current.isEmpty { out.append(CAVPRecord(section: section, fields: current, line: start)) }
            current = [:]
        }
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { flush(); continue }
            if line.hasPrefix("#") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                flush()
                section = line
                continue
            }
            if current.isEmpty { start = index + 1 }
            if let eq = line.firstIndex(of: "=") {
                let key = line[..<eq].trimmingCharacters(in: .whitespaces)
                let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                current[key] = value
            } else {
                current[line] = ""
            }
        }
        flush()
        return out
    }

    /// Records merged so that each starts at a record holding `key` and takes in the fields of
    /// the records after it until the next such record.
    static func records(_ file: String, mergingFrom key: String) throws -> [CAVPRecord] {
        var out: [CAVPRecord] = []
        for record in try records(file) {
            if record.has(key) || out.isEmpty {
                out.append(record)
            } else {
                out[out.count - 1].fields.merge(record.fields) { first, _ in first }
            }
        }
        return out
    }
}

/// One encryption example from a PKCS#1 vector file (RSA Laboratories' layout, also pyca's OAEP
/// files): the key it was made with, the message and its ciphertext.
struct PKCS1EncryptionVector {
    var modulus: [UInt8], publicExponent: [UInt8], privateExponent: [UInt8], prime1: [UInt8], prime2: [UInt8]
    var message: [UInt8], ciphertext: [UInt8]
    var line: Int
}

extension CAVP {
    /// Reads `# Label:` lines, each followed by its value as hex on the lines that do not start
    /// with `#` (spaces allowed). A key block is Modulus, Exponent (public key) then Modulus,
    /// Public exponent, Exponent (private), primes; each Message / Encryption pair after it is a
    /// vector.
    static func pkcs1EncryptionVectors(_ file: String) throws -> [PKCS1EncryptionVector] {
        let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
        var fields: [(label: String, hex: String, line: Int)] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") {
                let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
                if body.hasSuffix(":") { fields.append((String(body.dropLast()), "", index + 1)) }
            } else if !line.isEmpty, !fields.isEmpty, line.allSatisfy({ $0.isHexDigit || $0 == " " }) {
                fields[fields.count - 1].hex += line.filter { $0 != " " }
            }
        }
        var out: [PKCS1EncryptionVector] = []
        var n: [UInt8] = [], e: [UInt8] = [], d: [UInt8] = [], p: [UInt8] = [], q: [UInt8] = [], message: [UInt8]?
        var privateBlock = false
        for field in fields where !field.hex.isEmpty {
            // pyca writes integers without a leading zero nibble ("10001").
            guard let bytes = bytesFromHex(field.hex.count % 2 == 1 ? "0" + field.hex : field.hex) else { throw VectorError("\(field.label) is not hex at line \(field.line)") }
            switch field.label {
            case "Modulus": n = bytes; privateBlock = false
            case "Public exponent": e = bytes; privateBlock = true
            case "Exponent": if privateBlock { d = bytes } else { e = bytes }
            case "Prime 1": p = bytes
            case "Prime 2": q = bytes
            case "Message": message = bytes
            case "Encryption":
                guard let m = message else { throw VectorError("an Encryption without a Message at line \(field.line)") }
                out.append(PKCS1EncryptionVector(modulus: n, publicExponent: e, privateExponent: d, prime1: p, prime2: q,
                                                 message: m, ciphertext: bytes, line: field.line))
                message = nil
            default: continue
            }
        }
        return out
    }
}
