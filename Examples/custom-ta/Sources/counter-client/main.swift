// counter-client [SOCKET] N: adds N (0 to 4294967295) to the counter TA's total through the
// daemon and prints it. Without SOCKET, rproc-tee's default socket.
import CounterTA
import Foundation
import TEEClient

let arguments = CommandLine.arguments
guard (2...3).contains(arguments.count), let amount = UInt32(arguments[arguments.count - 1]) else {
    FileHandle.standardError.write(Data("usage: counter-client [SOCKET] N   (N: a whole number from 0 to 4294967295)\n".utf8))
    exit(64)
}
let socket = arguments.count == 3 ? arguments[1] : nil
do {
    let context = try socket.map { try TEEContext.connect(socket: $0) } ?? TEEContext()
    defer { context.finalize() }
    let session = try context.openSession(CounterTA.properties.uuid)
    let op = TEEOperation(.valueInput(amount), .valueOutput)
    try session.invoke(CounterTA.Command.add.rawValue, op)
    print("total: \(op.value(1)!.a)")
} catch {
    FileHandle.standardError.write(Data("counter-client: \(error)\n".utf8))
    exit(1)
}
