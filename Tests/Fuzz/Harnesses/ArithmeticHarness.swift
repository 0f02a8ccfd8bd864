import TEECrypto

extension FuzzHarnesses {
    /// The largest magnitude a program may load (TEEBigInt's 4096 bits): bounds each step.
    static let arithMaxBytes = 512

    /// GP arithmetic as TEECrypto's `BigInteger` computes it for the crypt TA, on values the
    /// input chooses (attacker: a normal-world client sends the octet strings and picks the
    /// operations). The input is a program over four registers: `0x00 len sign bytes…` loads a
    /// value (at most `arithMaxBytes`), any other byte `op` applies operation `op % 9` to the
    /// registers named by the next byte. Each result is checked against the identity that
    /// defines it — division (a = q·b + r, |r| < |b|, r of a's sign), modulo (0 ≤ r < n), the
    /// extended gcd (a·u + b·v = gcd = gcd(a, b)), inverses (a·a⁻¹ ≡ 1), shifts (|a| >> k is
    /// ⌊|a| / 2^k⌋), octet strings and Int32 round trips. A failed check is a crash.
    public static func arithmetic(_ bytes: [UInt8]) {
        var registers = [BigInteger](repeating: .zero, count: 4)
        var i = 0
        func next() -> UInt8? {
            guard i < bytes.count else { return nil }
            defer { i += 1 }
            return bytes[i]
        }
        var steps = 0
        while let op = next(), steps < 64 {
            steps += 1
            if op == 0 {
                guard let lenHigh = next(), let lenLow = next(), let sign = next() else { return }
                let count = min(Int(lenHigh) << 8 | Int(lenLow), arithMaxBytes, bytes.count - i)
                let magnitude = Array(bytes[i..<(i + count)])
                i += count
                guard let v = try? BigInteger(magnitude: magnitude, negative: sign & 1 == 1) else { fatalError("a \(count)-byte octet string was refused") }
                let stripped = Array(magnitude.drop { $0 == 0 })
                precondition(v.magnitude == stripped, "octet string round trip")
                precondition(v.isZero || v.isNegative == (sign & 1 == 1), "sign kept")
                precondition(!v.isZero || !v.isNegative, "zero is positive")
                registers[Int(sign >> 1) & 3] = v
                continue
            }
            guard let operands = next() else { return }
            let a = registers[Int(operands) & 3], b = registers[Int(operands >> 2) & 3]
            let target = Int(operands >> 4) & 3
            do {
                switch op % 9 {
                case 0:
                    let sum = try a + b, difference = try sum - b
                    precondition(difference.compare(a) == 0, "(a + b) − b = a")
                    registers[target] = sum
                case 1:
                    let product = try a * b
                    precondition(product.bitCount <= a.bitCount + b.bitCount, "product size")
                    if !b.isZero {
                        let (q, r) = try BigInteger.divide(product, by: b)
                        precondition(q.compare(a) == 0 && r.isZero, "(a · b) / b = a")
                    }
                    // Keep values bounded: a product of two bounded values is truncated back.
                    registers[target] = product.bitCount > 8 * arithMaxBytes ? try product.shiftedRight(product.bitCount - 8 * arithMaxBytes) : product
                case 2:
                    guard !b.isZero else {
                        precondition((try? BigInteger.divide(a, by: b)) == nil, "division by zero refused")
                        continue
                    }
                    let (q, r) = try BigInteger.divide(a, by: b)
                    let back = try q * b + r, absR = try r.absolute(), absB = try b.absolute()
                    precondition(back.compare(a) == 0, "a = q·b + r")
                    precondition(absR.compare(absB) < 0, "|r| < |b|")
                    precondition(r.isZero || r.isNegative == a.isNegative, "r has a's sign")
                    registers[target] = q
                case 3:
                    guard b.compare(0) > 0 else {
                        precondition((try? a.modulo(b)) == nil, "a modulus ≤ 0 refused")
                        continue
                    }
                    let r = try a.modulo(b)
                    precondition(r.compare(0) >= 0 && r.compare(b) < 0, "0 ≤ a mod n < n")
                    let rest = try (a - r).modulo(b)
                    precondition(rest.isZero, "n divides a − (a mod n)")
                    registers[target] = r
                case 4:
                    let (g, u, v) = try BigInteger.extendedGCD(a, b)
                    let combination = try a * u + b * v, plain = try BigInteger.gcd(a, b)
                    precondition(combination.compare(g) == 0, "a·u + b·v = gcd")
                    precondition(plain.compare(g) == 0, "the same gcd")
                    precondition(!g.isNegative, "gcd ≥ 0")
                    registers[target] = g
                case 5:
                    guard b.compare(1) > 0, !a.isZero, try BigInteger.gcd(a, b).compare(1) == 0 else { continue }
                    let inverse = try a.inverse(modulo: b)
                    let one = try (a * inverse).modulo(b)
                    precondition(one.compare(1) == 0, "a · a⁻¹ ≡ 1")
                    registers[target] = inverse
                case 6:
                    let k = Int(operands >> 6) * 37 + Int(b.magnitude.last ?? 0) % 64
                    let shifted = try a.shiftedRight(k)
                    let (q, _) = try BigInteger.divide(try a.absolute(), by: try BigInteger.zero.settingBit(k, to: true))
                    let absShifted = try shifted.absolute()
                    precondition(absShifted.compare(q) == 0, "|a| >> k = ⌊|a| / 2^k⌋")
                    precondition(shifted.isZero || shifted.isNegative == a.isNegative, "the sign is kept")
                    registers[target] = shifted
                case 7:
                    if let v = a.int32Value {
                        let back = try BigInteger(v)
                        precondition(back.compare(a) == 0, "Int32 round trip")
                    } else {
                        precondition(a.bitCount >= 32, "only values of 32 bits or more overflow Int32")
                    }
                    precondition(a.compare(a) == 0 && (b.compare(a) == -a.compare(b)), "comparison is antisymmetric")
                default:
                    // Exponentiation modulo an odd n > 1, both bounded for time (n ≤ 1024 bits, e ≤ 256).
                    guard b.isOdd, b.compare(1) > 0, b.bitCount <= 1024, !a.isNegative, a.bitCount <= 256 else { continue }
                    let base = registers[target]
                    let p = try base.power(a, modulo: b)
                    precondition(p.compare(0) >= 0 && p.compare(b) < 0, "0 ≤ x^e mod n < n")
                    let p1 = try base.power(try a + BigInteger(1), modulo: b)
                    let step = try (p * base).modulo(b)
                    precondition(step.compare(p1) == 0, "x^(e+1) = x^e · x")
                    registers[target] = p
                }
            } catch {
                fatalError("an operation on bounded values failed: \(error)")
            }
        }
    }
}
