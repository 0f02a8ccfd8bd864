import TEEInternalAPI

/// The per-instance handle tables of the optee_test ports (the originals hand out pointers): a
/// handle is a 1-based slot, 0 is TEE_HANDLE_NULL, a freed slot is reused.
struct HandleTable<Item: AnyObject> {
    private var slots: [Item?] = []
    /// Slots the table may grow to. Attacker: a client allocating in a loop; past this an
    /// insertion fails and the TA answers as its original does when its allocator does.
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// A handle for `item`; nil when the table is full.
    mutating func insert(_ item: Item) -> UInt32? {
        if let free = slots.firstIndex(where: { $0 == nil }) {
            slots[free] = item
            return UInt32(free + 1)
        }
        guard slots.count < limit else { return nil }
        slots.append(item)
        return UInt32(slots.count)
    }

    /// What `handle` names; nil for TEE_HANDLE_NULL. Attacker: the client names any value —
    /// checked against the table; a handle that names nothing panics the TA (BAD_PARAMETERS),
    /// as the original's dereference of a bad pointer would end it.
    func lookup(_ handle: UInt32, _ tee: TEE, _ owner: String) -> Item? {
        guard handle != 0 else { return nil }
        guard handle <= slots.count, let item = slots[Int(handle - 1)] else {
            tee.panic(TEEResult.badParameters.rawValue, "\(owner): invalid handle 0x\(String(handle, radix: 16))")
        }
        return item
    }

    /// Frees `handle`'s slot and returns what it held (nil for TEE_HANDLE_NULL; an unknown
    /// handle panics as in `lookup`).
    @discardableResult
    mutating func remove(_ handle: UInt32, _ tee: TEE, _ owner: String) -> Item? {
        let item = lookup(handle, tee, owner)
        if handle != 0 { slots[Int(handle - 1)] = nil }
        return item
    }
}
