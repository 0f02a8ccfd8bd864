// rproc-tee-bench: prints figures and ratios of our layers against C baselines measured in the
// same run. Build in release: `make bench-crypto` (swift run -c release rproc-tee-bench crypto).
import CMbedTLSBaseline
import Glibc
import TEECrypto

let suites: [String: () throws -> Void] = [
    "core": runCoreBenchmarks,
    "crypto": runCryptoBenchmarks,
    "daemon": runDaemonBenchmarks,
    "files": runFileBenchmarks,
    "image": runImageBenchmarks,
    "invoke": runInvokeBenchmarks,
    "load": runLoadBenchmarks,
    "native": runNativeTABenchmarks,
    "storage": runStorageBenchmarks,
]

if CommandLine.arguments.count == 4, CommandLine.arguments[1] == "--client" {
    try runBenchClient(socket: CommandLine.arguments[2], count: Int(CommandLine.arguments[3]) ?? 1000)
    exit(0)
}
let requested = Array(CommandLine.arguments.dropFirst())
if requested.isEmpty || requested.contains(where: { suites[$0] == nil }) {
    print("usage: rproc-tee-bench \(suites.keys.sorted().joined(separator: "|")) …")
    exit(requested.isEmpty ? 0 : 2)
}
for name in requested {
    try suites[name]!()
}
