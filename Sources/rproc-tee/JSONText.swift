import Foundation

/// Untrusted text (ELF section and resource names, TLV strings, manifest names, trace text,
/// board and region names) as it may be shown: every control character (C0, DEL, C1), every
/// invisible format character (bidirectional overrides, zero-width joiners…) and every
/// unassigned or private-use scalar becomes a visible `\u{…}` escape, so an image cannot forge
/// a line of a report or drive the terminal. Backslashes are doubled so an escape cannot be
/// faked either.
func escaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        if scalar == "\\" {
            out += "\\\\"
        } else if needsEscape(scalar) {
            out += "\\u{" + String(scalar.value, radix: 16) + "}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Bytes that should be text but may not be valid UTF-8: each invalid byte shows as `\x..`.
func escaped(bytes: some Collection<UInt8>) -> String {
    var out = ""
    var rest = Array(bytes)[...]
    while !rest.isEmpty {
        var validPrefix = rest.count
        while validPrefix > 0, String(validating: rest.prefix(validPrefix), as: UTF8.self) == nil { validPrefix -= 1 }
        if validPrefix > 0 {
            out += escaped(String(decoding: rest.prefix(validPrefix), as: UTF8.self))
            rest = rest.dropFirst(validPrefix)
        } else {
            out += "\\x" + (rest.first! < 16 ? "0" : "") + String(rest.first!, radix: 16)
            rest = rest.dropFirst()
        }
    }
    return out
}

func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .unassigned, .privateUse, .surrogate, .lineSeparator, .paragraphSeparator: true
    default: false
    }
}

/// A JSON encoder for the CLI's reports: keys sorted (a stable schema diffs cleanly), every
/// string escaped so that no control or invisible character reaches a terminal raw (`\u`
/// escapes decode back to the original text, so scripts lose nothing).
enum JSONText {
    static func encode(_ value: Any?) -> String {
        var out = ""
        write(value, into: &out, indent: 0)
        return out
    }

    private static func write(_ value: Any?, into out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1), closePad = String(repeating: "  ", count: indent)
        switch value {
        case nil: out += "null"
        case let b as Bool: out += b ? "true" : "false"
        case let s as String: string(s, into: &out)
        case let n as Int: out += String(n)
        case let n as Int32: out += String(n)
        case let n as UInt8: out += String(n)
        case let n as UInt16: out += String(n)
        case let n as UInt32: out += String(n)
        case let n as UInt64: out += String(n)
        case let n as Double: out += n.isFinite ? String(n) : "null"
        case let d as [String: Any?]:
            if d.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, key) in d.keys.sorted().enumerated() {
                out += pad
                string(key, into: &out)
                out += ": "
                write(d[key]!, into: &out, indent: indent + 1)
                out += i == d.count - 1 ? "\n" : ",\n"
            }
            out += closePad + "}"
        case let d as [String: Any]:
            write(d.mapValues { Optional($0) }, into: &out, indent: indent)
        case let a as [Any?]:
            if a.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, element) in a.enumerated() {
                out += pad
                write(element, into: &out, indent: indent + 1)
                out += i == a.count - 1 ? "\n" : ",\n"
            }
            out += closePad + "]"
        case let a as [Any]:
            write(a.map { Optional($0) }, into: &out, indent: indent)
        case .some(let v):
            // An optional wrapped in Any (`x as Any` with x nil or not).
            let mirror = Mirror(reflecting: v)
            if mirror.displayStyle == .optional {
                if let child = mirror.children.first { write(child.value, into: &out, indent: indent) } else { out += "null" }
            } else {
                string("\(v)", into: &out)
            }
        }
    }

    private static func string(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if needsEscape(scalar) {
                    for unit in String(scalar).utf16 { out += "\\u" + String(repeating: "0", count: 4 - String(unit, radix: 16).count) + String(unit, radix: 16) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
