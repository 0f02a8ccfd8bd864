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
        guard let bytes = bytesFromHex(text) else { throw VectorError("\(key) is not hex at line \(line)") }
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
