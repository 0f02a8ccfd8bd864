#if canImport(Glibc)
import Glibc
#endif

/// Times `body` (which performs `operations` operations) `rounds` times and keeps the fastest
/// round: the minimum is the figure least disturbed by the other core's noise.
func bestTime(rounds: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        best = min(best, seconds)
    }
    return best
}

/// Runs ours and the baseline alternately, so drift in machine speed affects both alike.
func compare(rounds: Int, ours: () throws -> Void, baseline: () throws -> Void) rethrows -> (ours: Double, baseline: Double) {
    var o = Double.infinity, b = Double.infinity
    for _ in 0..<rounds {
        b = min(b, try bestTime(rounds: 1, baseline))
        o = min(o, try bestTime(rounds: 1, ours))
    }
    return (o, b)
}

func row(_ name: String, _ unit: String, ours: Double, baseline: Double, target: Double = 0.95) {
    let ratio = ours / baseline
    let verdict = ratio >= target ? "ok (≥ \(target))" : "BELOW TARGET \(target)"
    print(pad(name, 34) + pad(format(ours) + " " + unit, 22) + pad(format(baseline) + " " + unit, 22) + pad(format(ratio, digits: 3), 8) + verdict)
}

func header(_ title: String, baseline: String = "mbedTLS from C") {
    print("\n" + title)
    print(pad("", 34) + pad("rproc-tee (Swift)", 22) + pad(baseline, 22) + pad("ratio", 8))
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}

func format(_ value: Double, digits: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return String(rounded)
}
