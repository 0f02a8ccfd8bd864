import ArgumentParser
import Foundation
import TEECrypto

/// The exit statuses of every command (README, "Exit codes"), after sysexits.h where one fits.
enum ExitStatus: Int32, CaseIterable {
    case ok = 0
    /// The image, or the operation on it, was refused (invalid image, TA refusal).
    case refused = 1
    /// Bad command line (ArgumentParser uses the same value).
    case usage = 64
    /// A key or board file that cannot be used (not a key, wrong kind, broken JSON).
    case badInput = 65
    /// An input file cannot be read (missing, a directory, permission, too large).
    case cannotRead = 66
    /// Something went wrong inside rproc-tee.
    case internalError = 70
    /// An output file or folder cannot be created.
    case cannotWrite = 73

    var name: String {
        switch self {
        case .ok: "ok"
        case .refused: "refused"
        case .usage: "usage"
        case .badInput: "bad-input"
        case .cannotRead: "cannot-read"
        case .internalError: "internal"
        case .cannotWrite: "cannot-write"
        }
    }
}

/// A one-line failure for the user: what went wrong and where, and the exit status it earns.
struct CLIError: Error, CustomStringConvertible {
    let status: ExitStatus
    let description: String
    init(_ status: ExitStatus, _ description: String) {
        self.status = status
        self.description = description
    }
}

/// Writes stderr after flushing stdout, so the two stay in order when both go to one pipe.
/// The last line of defence for what reaches a terminal (red-team L5): a control character
/// that a message carries — a file name from argv, a value quoted from a file — is shown
/// escaped (an error line cannot set a terminal's title or colours), and a message is cut at
/// `maxErrorLine` characters (a 900,000-digit number quoted from a board file).
func printError(_ line: String) {
    fflush(nil)
    FileHandle.standardError.write(Data((bounded(line) + "\n").utf8))
}

let maxErrorLine = 2000

/// `text` with control characters escaped but line breaks and tabs (an error may say its reason
/// on lines of its own; names and values from outside are escaped where they are quoted, so a
/// line break in them cannot reach here), backslashes as they are (parts of it may be escaped
/// already), and at most `maxErrorLine` characters.
func bounded(_ text: String) -> String {
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
        if count == maxErrorLine {
            return out + "… (\(text.unicodeScalars.count - count) more characters)"
        }
        if needsEscape(scalar) && scalar != "\n" && scalar != "\t" { out += "\\u{" + String(scalar.value, radix: 16) + "}" } else { out.unicodeScalars.append(scalar) }
        count += 1
    }
    return out
}

/// Runs a command's body and turns its failure into one clear line (text, on stderr) or a JSON
/// object (`{"ok": false, "error": {...}}` on stdout), and the documented exit status.
func perform(json: Bool, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as CLIError {
        if json {
            print(JSONText.encode(["ok": false, "error": ["status": Int(error.status.rawValue), "kind": error.status.name, "message": error.description]]))
        } else {
            printError("rproc-tee: \(error.description)")
        }
        throw ExitCode(error.status.rawValue)
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw CLIError(.usage, error.message).exit(json: json)
    } catch {
        throw CLIError(.internalError, "\(error)").exit(json: json)
    }
}

extension CLIError {
    /// Reports and converts to the exit code (for errors caught outside `perform`'s body).
    func exit(json: Bool) -> ExitCode {
        if json {
            print(JSONText.encode(["ok": false, "error": ["status": Int(status.rawValue), "kind": status.name, "message": description]]))
        } else {
            printError("rproc-tee: \(description)")
        }
        return ExitCode(status.rawValue)
    }
}
