import ArgumentParser

@main
struct RprocTee: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rproc-tee",
        abstract: "A simulated TrustZone secure world with OP-TEE's remoteproc trusted application.",
        discussion: "Development keys live in Keys/: they are public and must never sign product firmware.",
        version: "0.1.0",
        subcommands: [Keygen.self, Sign.self, Inspect.self, Verify.self, Run.self, Demo.self]
    )
}
