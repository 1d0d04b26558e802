import Detection
import Foundation

/// The models served now: a repository snapshot and one worker per ready entry, replaced whole by a reload. A
/// request takes the snapshot once, so it finishes on the detector and worker it started with, whatever a reload
/// swaps in meanwhile.
final class ServedModels: @unchecked Sendable {  // `current` guarded by `lock`
    struct Snapshot {
        let repository: ModelRepository
        let workers: [String: ModelWorker]
    }

    private let lock = NSLock()
    private var current: Snapshot

    init(_ snapshot: Snapshot) { current = snapshot }

    var snapshot: Snapshot { lock.withLock { current } }

    func replace(with snapshot: Snapshot) { lock.withLock { current = snapshot } }
}

/// What a reload changed, by model name.
public struct ReloadSummary: Sendable, Equatable, CustomStringConvertible {
    public var added: [String] = []
    public var changed: [String] = []
    public var removed: [String] = []
    public var unchanged: [String] = []

    public init(added: [String] = [], changed: [String] = [], removed: [String] = [], unchanged: [String] = []) {
        self.added = added
        self.changed = changed
        self.removed = removed
        self.unchanged = unchanged
    }

    public var description: String {
        "added [\(added.joined(separator: ", "))], changed [\(changed.joined(separator: ", "))], "
            + "removed [\(removed.joined(separator: ", "))], unchanged [\(unchanged.joined(separator: ", "))]"
    }
}
