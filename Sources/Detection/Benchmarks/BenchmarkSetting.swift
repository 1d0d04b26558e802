/// Range checks for benchmark settings, as thrown errors naming the option (a benchmark sizes buffers from them).
enum BenchmarkSetting {
    static func check(_ value: Int, in range: ClosedRange<Int>, _ option: String) throws {
        guard range.contains(value) else {
            throw DetectionError.badSetting(setting: option, reason: "must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }
}
