#if canImport(Glibc)
import Glibc
#endif
import CTAHostABI
import TEEInternalAPI

/// GP's arithmetical API for a native TA: its big integers are in its own memory (libutee's
/// layout, `RPROC_TEE_BIGINT_MAGIC`); each operation reads the operands into `TEEBigInt`s — the
/// same implementation Swift TAs use, with its rules (a result that does not fit its destination,
/// a zero divisor, a modulus below 2: a panic) — and writes the destinations back.
///
/// Attacker: the TA. An address is the TA's own memory (a wild one ends its own process); a
/// variable that TEE_BigIntInit did not lay out (no magic, a capacity past 4096 bits, more limbs
/// in use than it holds) is a panic, not a read past its end.
extension NativeAPI {
    static let maxLimbs = TEEBigInt.maxBits / 32

    private func pointer(_ address: UInt64, _ function: String) -> UnsafeMutableRawPointer {
        guard let p = UnsafeMutableRawPointer(bitPattern: UInt(address)) else {
            tee!.panic(TEEBigInt.panicCode, "\(function): a NULL big integer")
        }
        return p
    }

    /// The capacity (limbs) of the variable at `p`, checked.
    private func capacity(_ p: UnsafeMutableRawPointer, _ function: String) -> Int {
        let header = p.loadUnaligned(as: UInt32.self)
        let limbs = Int(header & 0xFFFF)
        guard header & 0xFF00_0000 == RPROC_TEE_BIGINT_MAGIC, limbs <= Self.maxLimbs else {
            tee!.panic(TEEBigInt.panicCode, "\(function): not a big integer TEE_BigIntInit laid out")
        }
        return limbs
    }

    func readBigInt(_ address: UInt64, _ function: String) -> TEEBigInt {
        let p = pointer(address, function)
        let limbs = capacity(p, function)
        let word = p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let used = Int(word & 0xFFFF)
        guard used <= limbs else { tee!.panic(TEEBigInt.panicCode, "\(function): a big integer with \(used) limbs in use of \(limbs)") }
        var magnitude: [UInt8] = []
        magnitude.reserveCapacity(4 * used)
        for i in stride(from: used - 1, through: 0, by: -1) {
            let limb = p.loadUnaligned(fromByteOffset: 8 + 4 * i, as: UInt32.self)
            magnitude += [UInt8(limb >> 24), UInt8(truncatingIfNeeded: limb >> 16), UInt8(truncatingIfNeeded: limb >> 8), UInt8(truncatingIfNeeded: limb)]
        }
        let b = TEEBigInt(bits: limbs * 32)
        // Cannot overflow: at most `limbs` limbs of magnitude.
        try? b.setFromOctetString(magnitude, sign: word & 0x8000_0000 != 0 ? -1 : 1)
        return b
    }

    /// A destination: its capacity, for a fresh variable of that size to compute into.
    func destination(_ address: UInt64, _ function: String) -> TEEBigInt {
        TEEBigInt(bits: capacity(pointer(address, function), function) * 32)
    }

    func writeBigInt(_ b: TEEBigInt, to address: UInt64, _ function: String) {
        let p = pointer(address, function)
        let limbs = capacity(p, function)
        let bytes = b.octetString
        let used = (bytes.count + 3) / 4
        guard used <= limbs else { tee!.panic(TEEBigInt.panicCode, "\(function): a result larger than its destination") }
        for i in 0..<limbs {
            var limb: UInt32 = 0
            for j in 0..<4 {
                let at = bytes.count - 1 - (4 * i + j)
                if at >= 0 { limb |= UInt32(bytes[at]) << (8 * j) }
            }
            p.storeBytes(of: limb, toByteOffset: 8 + 4 * i, as: UInt32.self)
        }
        p.storeBytes(of: (b.isNegative && used > 0 ? 0x8000_0000 : 0) | UInt32(used), toByteOffset: 4, as: UInt32.self)
    }

    func bigint(_ c: inout rproc_tee_call) throws(TEEResult) {
        let function = "TEE_BigInt (operation \(c.value(0)))"
        func operand(_ i: Int) -> TEEBigInt { readBigInt(c.handle(i), function) }
        func modulus() -> TEEBigInt { readBigInt(c.value(1), function) }
        /// dest = compute(fresh destination), written back.
        func into(_ compute: (TEEBigInt) throws(TEEResult) -> Void) throws(TEEResult) {
            let dest = destination(c.handle(0), function)
            try compute(dest)
            writeBigInt(dest, to: c.handle(0), function)
        }
        let scalar = c.value(4)
        switch UInt32(truncatingIfNeeded: c.value(0)) {
        case UInt32(RPROC_TEE_BIGINT_FROM_OCTETS.rawValue):
            let bytes = try c.boundedInput(0)
            try into { (d) throws(TEEResult) in try d.setFromOctetString(bytes, sign: Int32(truncatingIfNeeded: Int64(bitPattern: scalar))) }
        case UInt32(RPROC_TEE_BIGINT_TO_OCTETS.rawValue):
            let bytes = operand(1).octetString
            try c.produce(0) { (length) throws(TEEResult) in
                guard length >= bytes.count else { length = bytes.count; throw .shortBuffer }
                return bytes
            }
        case UInt32(RPROC_TEE_BIGINT_FROM_S32.rawValue):
            try into { d in d.setFromS32(Int32(truncatingIfNeeded: Int64(bitPattern: scalar))) }
        case UInt32(RPROC_TEE_BIGINT_TO_S32.rawValue): c.setValue(5, UInt64(bitPattern: Int64(try operand(1).s32())))
        case UInt32(RPROC_TEE_BIGINT_CMP.rawValue): c.setValue(5, UInt64(bitPattern: Int64(operand(1).compare(operand(2)))))
        case UInt32(RPROC_TEE_BIGINT_CMP_S32.rawValue):
            c.setValue(5, UInt64(bitPattern: Int64(operand(1).compare(Int32(truncatingIfNeeded: Int64(bitPattern: scalar))))))
        case UInt32(RPROC_TEE_BIGINT_SHIFT_RIGHT.rawValue):
            let a = operand(1)
            try into { d in d.shiftRight(a, Int(min(scalar, UInt64(Int32.max)))) }
        case UInt32(RPROC_TEE_BIGINT_GET_BIT.rawValue): c.setValue(5, operand(1).bit(Int(min(scalar, UInt64(Int32.max)))) ? 1 : 0)
        case UInt32(RPROC_TEE_BIGINT_BIT_COUNT.rawValue): c.setValue(5, UInt64(operand(1).bitCount))
        case UInt32(RPROC_TEE_BIGINT_SET_BIT.rawValue):
            let d = operand(0)
            try d.setBit(Int(min(scalar, UInt64(Int32.max))), c.value(3) != 0)
            writeBigInt(d, to: c.handle(0), function)
        case UInt32(RPROC_TEE_BIGINT_ASSIGN.rawValue):
            let a = operand(1)
            try into { (d) throws(TEEResult) in try d.assign(a) }
        case UInt32(RPROC_TEE_BIGINT_ABS.rawValue):
            let a = operand(1)
            try into { (d) throws(TEEResult) in try d.setAbsolute(a) }
        case UInt32(RPROC_TEE_BIGINT_ADD.rawValue):
            let (a, b) = (operand(1), operand(2))
            try into { d in d.add(a, b) }
        case UInt32(RPROC_TEE_BIGINT_SUB.rawValue):
            let (a, b) = (operand(1), operand(2))
            try into { d in d.subtract(a, b) }
        case UInt32(RPROC_TEE_BIGINT_NEG.rawValue):
            let a = operand(1)
            try into { d in d.negate(a) }
        case UInt32(RPROC_TEE_BIGINT_MUL.rawValue):
            let (a, b) = (operand(1), operand(2))
            try into { d in d.multiply(a, b) }
        case UInt32(RPROC_TEE_BIGINT_SQUARE.rawValue):
            let a = operand(1)
            try into { d in d.square(a) }
        case UInt32(RPROC_TEE_BIGINT_DIV.rawValue):
            let (a, b) = (operand(1), operand(2))
            let q = c.handle(0) == 0 ? nil : destination(c.handle(0), function)
            let r = c.value(2) == 0 ? nil : destination(c.value(2), function)
            TEEBigInt.divide(quotient: q, remainder: r, a, b)
            if let q { writeBigInt(q, to: c.handle(0), function) }
            if let r { writeBigInt(r, to: c.value(2), function) }
        case UInt32(RPROC_TEE_BIGINT_MOD.rawValue), UInt32(RPROC_TEE_BIGINT_TO_FMM.rawValue), UInt32(RPROC_TEE_BIGINT_FROM_FMM.rawValue):
            // The FMM representation is the plain residue: to and from it is a reduction.
            let (a, n) = (operand(1), modulus())
            try into { d in d.mod(a, n) }
        case UInt32(RPROC_TEE_BIGINT_ADD_MOD.rawValue):
            let (a, b, n) = (operand(1), operand(2), modulus())
            try into { d in d.addMod(a, b, n) }
        case UInt32(RPROC_TEE_BIGINT_SUB_MOD.rawValue):
            let (a, b, n) = (operand(1), operand(2), modulus())
            try into { d in d.subtractMod(a, b, n) }
        case UInt32(RPROC_TEE_BIGINT_MUL_MOD.rawValue), UInt32(RPROC_TEE_BIGINT_COMPUTE_FMM.rawValue):
            let (a, b, n) = (operand(1), operand(2), modulus())
            try into { d in d.multiplyMod(a, b, n) }
        case UInt32(RPROC_TEE_BIGINT_SQUARE_MOD.rawValue):
            let (a, n) = (operand(1), modulus())
            try into { d in d.squareMod(a, n) }
        case UInt32(RPROC_TEE_BIGINT_INV_MOD.rawValue):
            let (a, n) = (operand(1), modulus())
            try into { d in d.inverseMod(a, n) }
        case UInt32(RPROC_TEE_BIGINT_EXP_MOD.rawValue):
            let (a, e, n) = (operand(1), operand(2), modulus())
            try into { (d) throws(TEEResult) in try d.expMod(a, e, n) }
        case UInt32(RPROC_TEE_BIGINT_RELATIVE_PRIME.rawValue): c.setValue(5, TEEBigInt.relativelyPrime(operand(1), operand(2)) ? 1 : 0)
        case UInt32(RPROC_TEE_BIGINT_EXTENDED_GCD.rawValue):
            let (a, b) = (operand(1), operand(2))
            let gcd = destination(c.handle(0), function)
            let u = c.value(2) == 0 ? nil : destination(c.value(2), function)
            let v = c.value(3) == 0 ? nil : destination(c.value(3), function)
            TEEBigInt.extendedGCD(gcd: gcd, u: u, v: v, a, b)
            writeBigInt(gcd, to: c.handle(0), function)
            if let u { writeBigInt(u, to: c.value(2), function) }
            if let v { writeBigInt(v, to: c.value(3), function) }
        case UInt32(RPROC_TEE_BIGINT_IS_PRIME.rawValue):
            c.setValue(5, UInt64(bitPattern: Int64(operand(1).isProbablePrime(confidenceLevel: UInt32(truncatingIfNeeded: scalar)))))
        default:
            tee!.panic(TEEResult.notImplemented.rawValue, "\(function): not an operation of this host")
        }
    }
}
