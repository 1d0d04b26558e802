import Foundation

extension Dictionary where Key == String, Value == [DatasetSample] {
    /// The samples without the given images (a detector's shots: scoring them would flatter it), compared as
    /// standardised paths; and how many samples were left out.
    public func excluding(_ images: [String]) -> (samples: [String: [DatasetSample]], removed: Int) {
        guard !images.isEmpty else { return (self, 0) }
        let drop = Set(images.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        var removed = 0
        let kept = mapValues { samples in
            samples.filter { sample in
                let out = drop.contains(URL(fileURLWithPath: sample.imagePath).standardizedFileURL.path)
                if out { removed += 1 }
                return !out
            }
        }
        return (kept, removed)
    }
}
