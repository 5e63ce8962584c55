/// The running sums of every aggregate, dense: `[aggregate][year slot][scope id]`, so that
/// adding a contribution is three array indexings, no hashing.
///
/// Years get slots as they appear (slot 0 = records without a year). While tracking, the
/// first touch of a sum in an apply records its value before, for ``IndicatorEngine``'s
/// change keys.
struct SumTable {
    private var sums: [[[Accumulator]]]
    private var slotOfYear = [Int16](repeating: -1, count: 4096)
    private(set) var slotYears: [Int32] = [0]
    private var generation: UInt32 = 1
    private(set) var tracking = false
    /// Sums touched since tracking began, with their value before.
    private(set) var touched: [Touch] = []

    /// A sum touched during an apply.
    struct Touch {
        var aggregate: Int32
        var slot: Int32
        var scope: Int32
        var before: Accumulator
    }

    init(aggregates: Int) {
        sums = [[[Accumulator]]](repeating: [], count: aggregates)
        slotOfYear[0] = 0
    }

    /// The slot of `year` (0–4095), creating it when new.
    mutating func slot(_ year: Int32) -> Int {
        let existing = slotOfYear[Int(year)]
        if existing >= 0 { return Int(existing) }
        slotYears.append(year)
        slotOfYear[Int(year)] = Int16(slotYears.count - 1)
        return slotYears.count - 1
    }

    /// The slot of `year`, if any record had that year.
    func existingSlot(_ year: Int) -> Int? {
        guard year >= 0, year < 4096, slotOfYear[year] >= 0 else { return nil }
        return Int(slotOfYear[year])
    }

    /// Adds to the sum of (`aggregate`, `year`, `scope`).
    @inline(__always) mutating func add(_ aggregate: Int, year: Int32, scope: Int32, value: Int64, present: Int32) {
        let slot = self.slot(year)
        let index = Int(scope)
        if sums[aggregate].count <= slot {
            sums[aggregate].append(contentsOf: repeatElement([], count: slot + 1 - sums[aggregate].count))
        }
        if sums[aggregate][slot].count <= index {
            sums[aggregate][slot].append(
                contentsOf: repeatElement(Accumulator(), count: index + 1 - sums[aggregate][slot].count))
        }
        if tracking, sums[aggregate][slot][index].stamp != generation {
            touched.append(
                Touch(aggregate: Int32(aggregate), slot: Int32(slot), scope: scope, before: sums[aggregate][slot][index]))
            sums[aggregate][slot][index].stamp = generation
        }
        sums[aggregate][slot][index].value &+= value
        sums[aggregate][slot][index].present &+= present
    }

    /// Adds `sign ×` each entry to the sums of every scope in `scopes` whose kind its aggregate keeps.
    mutating func add(_ entries: [Entry], scopes: [Int32], sign: Int64, masks: [UInt8], kinds: [UInt8]) {
        for entry in entries {
            let aggregate = Int(entry.aggregate)
            let mask = masks[aggregate]
            for scope in scopes where mask & kinds[Int(scope)] != 0 {
                add(aggregate, year: entry.year, scope: scope, value: sign &* entry.value, present: Int32(sign) &* entry.present)
            }
        }
    }

    /// The sum of (`aggregate`, slot, `scope`); zero when nothing was added.
    @inline(__always) func get(_ aggregate: Int, slot: Int, scope: Int32) -> Accumulator {
        let index = Int(scope)
        guard slot < sums[aggregate].count, index < sums[aggregate][slot].count else { return Accumulator() }
        return sums[aggregate][slot][index]
    }

    /// The sum of (`aggregate`, `year`, `scope`) for exactly that year (0 = records without a year).
    func get(_ aggregate: Int, year: Int, scope: Int32) -> Accumulator {
        guard let slot = existingSlot(year) else { return Accumulator() }
        return get(aggregate, slot: slot, scope: scope)
    }

    mutating func beginTracking() {
        tracking = true
        generation &+= 1
        if generation == 0 { generation = 1 }
        touched.removeAll(keepingCapacity: true)
    }

    mutating func endTracking() {
        tracking = false
        touched.removeAll(keepingCapacity: true)
    }
}
