// counter-client [SOCKET] N: adds N to the counter TA's total through the daemon and prints it.
import CounterTA
import TEEClient

let arguments = CommandLine.arguments
let socket = arguments.count > 2 ? arguments[1] : nil
let amount = UInt32(arguments.last ?? "1") ?? 1
do {
    let context = try socket.map { try TEEContext.connect(socket: $0) } ?? TEEContext()
    defer { context.finalize() }
    let session = try context.openSession(CounterTA.properties.uuid)
    let op = TEEOperation(.valueInput(amount), .valueOutput)
    try session.invoke(CounterTA.Command.add.rawValue, op)
    print("total: \(op.value(1)!.a)")
} catch {
    print("counter-client: \(error)")
}
