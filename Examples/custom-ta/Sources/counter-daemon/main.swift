// counter-daemon [SOCKET] [STATE_DIR]: the secure world with the counter TA, serving clients in
// other processes (Swift's TEEContext.connect, or C programs through rproc-tee's libteec) until
// SIGTERM or SIGINT.
import CounterTA
import Foundation
import Logging
import SecureWorld
import TEEDaemon

// The daemon runs each TA instance in a process of its own, started from this executable:
// such a process serves its TA here and never returns.
SecureWorldDaemon.hostTAsIfRequested([CounterTA.self])

let arguments = CommandLine.arguments
var logger = Logger(label: "counter-daemon") { StreamLogHandler.standardError(label: $0) }
logger.logLevel = .info
let state = URL(fileURLWithPath: arguments.count > 2 ? arguments[2] : FileManager.default.currentDirectoryPath + "/counter-state")
let world = SecureWorld(stateDirectory: state, logger: logger)
world.register(CounterTA.self)
var configuration = SecureWorldDaemon.Configuration()
if arguments.count > 1 { configuration.socketPath = arguments[1] }
do {
    try SecureWorldDaemon(world: world, configuration: configuration, logger: logger).run { print("counter-daemon: listening on \($0)") }
} catch {
    FileHandle.standardError.write(Data("counter-daemon: \(error)\n".utf8))
    exit(1)
}
