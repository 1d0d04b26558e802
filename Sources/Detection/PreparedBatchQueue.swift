import Foundation

/// The hand-over between `BatchPreparation` (one background thread) and the scoring loop: at most `capacity`
/// batches exist at once, counted from the moment the preparer starts decoding one until the scorer releases it, so
/// memory stays bounded however slow the model is. Cancelling wakes the preparer, which then stops.
final class PreparedBatchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var freeSlots: Int
    private var ready: [PreparedBatch] = []
    private var cancelled = false
    private var producerDone = false

    init(capacity: Int) {
        freeSlots = max(1, capacity)
    }

    // MARK: - Preparer side

    /// Waits for a free slot; false when the run was cancelled.
    func reserveSlot() -> Bool {
        condition.lock(); defer { condition.unlock() }
        while freeSlots == 0 && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        freeSlots -= 1
        return true
    }

    func put(_ batch: PreparedBatch) {
        condition.lock(); defer { condition.unlock() }
        ready.append(batch)
        condition.broadcast()
    }

    var isCancelled: Bool {
        condition.lock(); defer { condition.unlock() }
        return cancelled
    }

    /// The preparer has stopped (every input handed over, or cancelled).
    func finish() {
        condition.lock(); defer { condition.unlock() }
        producerDone = true
        condition.broadcast()
    }

    // MARK: - Scorer side

    /// The next batch in input order; nil when the preparer has finished and everything was taken.
    func next() -> PreparedBatch? {
        condition.lock(); defer { condition.unlock() }
        while ready.isEmpty && !producerDone { condition.wait() }
        return ready.isEmpty ? nil : ready.removeFirst()
    }

    /// A batch taken with `next` has been scored: its slot (and its pixels' memory) may be reused.
    func release() {
        condition.lock(); defer { condition.unlock() }
        freeSlots += 1
        condition.broadcast()
    }

    /// Stops the preparer and waits until it has returned (the pipeline's exit path, normal or thrown).
    func cancelAndWaitForProducer() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
        while !producerDone { condition.wait() }
    }
}
