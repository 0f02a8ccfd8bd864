import FirmwareImage

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzELF(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let elf = try? ELFImage(bytes: bytes, policy: .firmwareAnd64), let section = elf.resourceTableSection {
        _ = elf.segment(containing: section)
    }
    return 0
}
