import Foundation

/// Why an allocation sized by the input was refused before it was attempted.
public struct MemoryBudgetError: Error, CustomStringConvertible, Equatable {
    /// What the memory was for ("attention scores for 34970 tokens", "decoded 1x29999 image").
    public let purpose: String
    /// Bytes asked for; nil when the size does not even fit in an Int.
    public let requestedBytes: Int?
    public let limitBytes: Int

    public var description: String {
        let asked = requestedBytes.map(MemoryBudget.format) ?? "more than \(MemoryBudget.format(Int.max))"
        return "\(purpose) would need \(asked), over the memory budget of \(MemoryBudget.format(limitBytes)) (set CLIPAD_MEMORY_LIMIT_MB to change it)"
    }
}

/// A check made before allocations whose size comes from input (image sides, header fields, batch sizes), so an
/// absurd size is a thrown error naming what it was for instead of the allocator aborting or the system swapping.
public enum MemoryBudget {
    /// The budget: `CLIPAD_MEMORY_LIMIT_MB` if set, else three quarters of physical memory.
    public static let limitBytes: Int = {
        if let text = ProcessInfo.processInfo.environment["CLIPAD_MEMORY_LIMIT_MB"], let mb = Int(text), mb > 0 {
            return mb.multipliedReportingOverflow(by: 1 << 20).overflow ? Int.max : mb << 20
        }
        let physical = ProcessInfo.processInfo.physicalMemory
        return physical > UInt64(Int.max) ? Int.max / 4 * 3 : Int(physical) / 4 * 3
    }()

    /// Throws unless `bytes` (nil: overflowed) fits in the budget.
    public static func check(bytes: Int?, for purpose: @autoclosure () -> String) throws(MemoryBudgetError) {
        guard let bytes, bytes >= 0, bytes <= limitBytes else {
            throw MemoryBudgetError(purpose: purpose(), requestedBytes: bytes, limitBytes: limitBytes)
        }
    }

    /// Throws unless `count` elements of `elementBytes` each fit.
    public static func check(elements count: Int?, of elementBytes: Int = MemoryLayout<Float>.size,
                             for purpose: @autoclosure () -> String) throws(MemoryBudgetError) {
        try check(bytes: count.flatMap { product([$0, elementBytes]) }, for: purpose())
    }

    /// The product of non-negative sizes, or nil on overflow or a negative size.
    public static func product(_ sizes: [Int]) -> Int? {
        var result = 1
        for size in sizes {
            guard size >= 0 else { return nil }
            let (p, overflow) = result.multipliedReportingOverflow(by: size)
            if overflow { return nil }
            result = p
        }
        return result
    }

    /// The sum of optional sizes, or nil on overflow or when any is nil.
    public static func sum(_ sizes: [Int?]) -> Int? {
        var result = 0
        for size in sizes {
            guard let size else { return nil }
            let (s, overflow) = result.addingReportingOverflow(size)
            if overflow { return nil }
            result = s
        }
        return result
    }

    static func format(_ bytes: Int) -> String {
        let mib = Double(bytes) / Double(1 << 20)
        return mib >= 1024 ? String(format: "%.1f GiB", mib / 1024) : String(format: "%.1f MiB", mib)
    }
}
