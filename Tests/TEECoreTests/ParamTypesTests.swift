import Testing
@testable import TEECore

@Suite struct ParamTypesTests {
    /// The packed types of the remoteproc TA's commands (shared/spec/remoteproc-ta.md).
    @Test func remoteprocLayouts() {
        #expect(ParamTypes(.valueInput, .memrefInput).rawValue == 0x0051)
        #expect(ParamTypes(.valueInput).rawValue == 0x0001)
        #expect(ParamTypes(.valueInput, .valueOutput, .valueOutput).rawValue == 0x0221)
        #expect(ParamTypes(.valueInput, .memrefOutput).rawValue == 0x0061)
    }

    @Test func getMatchesMacro() throws {
        let packed = ParamTypes(.memrefPartialInout, .valueInout, .memrefWhole, .memrefOutput)
        #expect(packed.rawValue == 0x6C3F)
        for i in 0..<4 {
            #expect(packed[i].rawValue == UInt8((packed.rawValue >> (4 * UInt32(i))) & 0xF))
        }
        #expect(packed.types == [.memrefPartialInout, .valueInout, .memrefWhole, .memrefOutput])
        #expect(!packed.isTAView)
        #expect(ParamTypes(.valueInput, .memrefInout).isTAView)
        #expect(ParamTypes([.valueOutput]) == ParamTypes(.valueOutput))
    }

    @Test func validatesPackedWords() {
        #expect(ParamTypes(rawValue: 0x0051) != nil)
        #expect(ParamTypes(rawValue: 0x0004) == nil, "0x4 is not a parameter type")
        #expect(ParamTypes(rawValue: 0x0800) == nil, "0x8 is not a parameter type")
        #expect(ParamTypes(rawValue: 0xB000) == nil)
        #expect(ParamTypes(rawValue: 0x1_0000) == nil, "upper 16 bits must be zero")
        for nibble in UInt8(0)...15 {
            let defined = ParamType(rawValue: nibble) != nil
            #expect(defined == ![0x4, 0x8, 0x9, 0xA, 0xB].contains(nibble))
        }
    }

    @Test func directions() {
        #expect(ParamType.valueInput.isInput && !ParamType.valueInput.isOutput && ParamType.valueInput.isValue)
        #expect(ParamType.valueInout.isInput && ParamType.valueInout.isOutput)
        #expect(ParamType.memrefOutput.isOutput && !ParamType.memrefOutput.isInput && ParamType.memrefOutput.isMemref)
        #expect(ParamType.memrefPartialInput.isRegisteredMemref && ParamType.memrefPartialInput.isInput)
        #expect(!ParamType.none.isValue && !ParamType.none.isMemref)
        #expect(ParamTypes(.valueInput, .memrefInput).description == "0x0051 (VALUE_INPUT, MEMREF_INPUT, NONE, NONE)")
    }
}
