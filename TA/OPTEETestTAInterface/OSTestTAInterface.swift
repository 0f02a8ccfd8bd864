import TEECore

/// optee_test's `os_test` TA: UUID and command IDs (`ta_os_test.h`) as xtest's 1000 series uses
/// them.
public enum OSTestTA {
    public static let uuid: TEEUUID = "5b9e0e40-2636-11e1-ad9e-0002a5d5c51b"

    public enum Command: UInt32, Sendable, CaseIterable {
        case initialize = 0, clientWithTimeout = 1, basic = 5, panic = 6, client = 7, paramsAccess = 8
        case wait = 9, badMemoryAccess = 10, ta2taMemref = 11, ta2taMemrefMix = 12, params = 13
        case callLib = 14, callLibPanic = 15, callLibDL = 16, callLibDLPanic = 17, getGlobalVar = 18
        case nullMemrefParams = 19, clientIdentity = 20, tlsTestMain = 21, tlsTestShlib = 22
        case dlPhdr = 23, dlPhdrDL = 24, cxxCtorMain = 25, cxxCtorShlib = 26, cxxCtorShlibDL = 27
        case cxxExcMain = 28, cxxExcMixed = 29, pauthNop = 30, pauthCorruptPAC = 31, attestation = 32
        case memtagUseAfterFree = 33, memtagInvalidTag = 34, memtagDoubleFree = 35, memtagBufferOverrun = 36
        case ta2taMemrefSize0 = 37, asanStack = 38, asanGlobal = 39, asanMalloc = 40, asanUAF = 41, asanMemfunc = 42
    }
}

/// optee_test's `create_fail_test` TA: its create entry point fails (xtest 1008.3).
public enum CreateFailTestTA {
    public static let uuid: TEEUUID = "c3f6e2c0-3548-11e1-b86c-0800200c9a66"
}

/// optee_test's `rpc_test` TA: TA-to-TA calls into the crypt TA with the client's memory
/// passed on, or copied into the TA's own first (`privmem`) — xtest 1011.
public enum RPCTestTA {
    public static let uuid: TEEUUID = "d17f73a0-36ef-11e1-984a-0002a5d5c51b"

    public enum Command: UInt32, Sendable {
        case sha224 = 1, sha256 = 2, aes256ECBEncrypt = 3, aes256ECBDecrypt = 4
        /// A session to the SIMS TA and its GET_COUNTER.
        case open = 5
        case privmemSHA224 = 6, privmemSHA256 = 7, privmemAES256ECBEncrypt = 8, privmemAES256ECBDecrypt = 9
    }
}
