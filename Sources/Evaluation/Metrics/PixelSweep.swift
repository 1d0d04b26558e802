import Dispatch
import Tensor

/// Exact pixel-level AUROC / AP / F1-max (and MVTec AUPRO) over many maps without sorting all pixels as one
/// array: an MSD radix pass on the order-preserving score key.
///
/// 1. Histogram (parallel over maps): per bucket = top 16 key bits, count anomalous and normal pixels (and, for
///    AUPRO, the sum of 1/region-size of the anomalous ones).
/// 2. Scatter (parallel over maps, each chunk into its own precomputed slots, so the result is deterministic):
///    the low 16 key bits of every pixel into one UInt16 array for normal and one for anomalous pixels
///    (+ a UInt32 region id per anomalous pixel for AUPRO). Memory: 2 bytes per pixel (6 per defect pixel).
/// 3. Sweep (parallel over buckets): the pixels above a bucket are known from the histograms, so every bucket
///    is swept on its own (counting sort of its low bits, or a sort when small) and the partial sums are
///    added in bucket order. Ties are exact: equal scores have equal keys.
enum PixelSweep {
    struct Result {
        var positives: Int
        var negatives: Int
        var regions: Int
        var auroc: Double
        var averagePrecision: Double
        var f1Max: Double
        var aupro: Double?
    }

    static let bucketCount = 1 << 16
    /// Buckets with more pixels than this use a 65,536-entry counting pass instead of a sort.
    static let smallBucket = 8192

    // MARK: - Entry

    static func run(_ samples: [PixelSample], withAUPRO: Bool, fprLimit: Double,
                    smallBucket: Int = smallBucket) throws -> Result {
        guard !samples.isEmpty else { throw MetricError.empty(what: "pixel metrics") }
        guard fprLimit > 0, fprLimit <= 1 else {
            throw MetricError.invalidOption("AUPRO FPR limit \(fprLimit) must be in (0, 1]")
        }
        let chunks = min(samples.count, max(1, Parallel.workers))
        let B = bucketCount

        // MARK: Pass 1: histograms
        var histograms = [ChunkHistogram](repeating: ChunkHistogram(), count: chunks)
        histograms.withUnsafeMutableBufferPointer { h in
            let out = UncheckedPointer(h.baseAddress!)
            Parallel.forEach(chunks) { c in
                out.base[c] = histogram(samples, range: chunkRange(c, chunks, samples.count), regions: withAUPRO)
            }
        }
        if let error = histograms.lazy.compactMap(\.error).first { throw error }

        var posCount = [Int](repeating: 0, count: B), negCount = [Int](repeating: 0, count: B)
        var weight = [Double](repeating: 0, count: withAUPRO ? B : 0)
        for h in histograms {
            for b in 0..<B { posCount[b] += h.pos[b]; negCount[b] += h.neg[b] }
            if withAUPRO { for b in 0..<B { weight[b] += h.weight[b] } }
        }
        let P = posCount.reduce(0, +), N = negCount.reduce(0, +)
        guard P > 0, N > 0 else { throw MetricError.missingClass(metric: "pixel AUROC", positives: P, negatives: N) }

        // Region ids: per sample in order, components in raster order.
        var regionBase = [Int](), inverseSize = [Double]()
        if withAUPRO {
            for h in histograms {
                for sizes in h.regionSizes {
                    regionBase.append(inverseSize.count)
                    inverseSize.append(contentsOf: sizes.map { 1 / Double($0) })
                }
            }
        }
        let R = inverseSize.count

        // MARK: Pass 2: scatter into per-(bucket, chunk) slots
        var negSlots = [Int](repeating: 0, count: B * chunks), posSlots = negSlots
        var negStart = [Int](repeating: 0, count: B + 1), posStart = negStart
        var runN = 0, runP = 0
        for b in 0..<B {
            negStart[b] = runN; posStart[b] = runP
            for c in 0..<chunks {
                negSlots[c * B + b] = runN; runN += histograms[c].neg[b]
                posSlots[c * B + b] = runP; runP += histograms[c].pos[b]
            }
        }
        negStart[B] = runN; posStart[B] = runP

        let negLow = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: N)
        let posLow = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: P)
        let posRegion = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: withAUPRO ? P : 0)
        defer { negLow.deallocate(); posLow.deallocate(); posRegion.deallocate() }
        let buffers = ScatterBuffers(negLow: negLow, posLow: posLow, posRegion: posRegion)
        Parallel.forEach(chunks) { c in
            scatter(samples, range: chunkRange(c, chunks, samples.count), into: buffers,
                    negCursor: Array(negSlots[(c * B)..<((c + 1) * B)]),
                    posCursor: Array(posSlots[(c * B)..<((c + 1) * B)]),
                    regionBase: withAUPRO ? regionBase : nil)
        }

        // MARK: Pass 3: sweep buckets, highest first
        var work = [BucketWork]()
        var tpAbove = 0, fpAbove = 0, wAbove = 0.0
        for b in stride(from: B - 1, through: 0, by: -1) where posCount[b] + negCount[b] > 0 {
            work.append(BucketWork(neg: negStart[b]..<negStart[b + 1], pos: posStart[b]..<posStart[b + 1],
                                   tpAbove: tpAbove, fpAbove: fpAbove, overlapAbove: wAbove))
            tpAbove += posCount[b]; fpAbove += negCount[b]
            if withAUPRO { wAbove += weight[b] }
        }
        var partials = [BucketPartial](repeating: BucketPartial(), count: work.count)
        inverseSize.withUnsafeBufferPointer { inv in
            partials.withUnsafeMutableBufferPointer { out in
                let outPtr = UncheckedPointer(out.baseAddress!)
                let invPtr = UncheckedConstPointer(inv.baseAddress)
                DispatchQueue.concurrentPerform(iterations: work.count) { j in
                    outPtr.base[j] = sweep(work[j], buffers: buffers, positives: P, negatives: N,
                                           regions: withAUPRO ? R : 0, inverseSize: invPtr.base, limit: fprLimit,
                                           smallBucket: smallBucket)
                }
            }
        }

        var pairsTwice = 0, precisionSum = 0.0, f1 = 0.0, area = 0.0
        for p in partials {
            pairsTwice += p.pairsTwice; precisionSum += p.precisionSum; area += p.area
            f1 = max(f1, p.f1Max)
        }
        return Result(positives: P, negatives: N, regions: R,
                      auroc: Double(pairsTwice) / (2 * Double(P) * Double(N)),
                      averagePrecision: precisionSum / Double(P), f1Max: f1,
                      aupro: withAUPRO ? area / fprLimit : nil)
    }

    // MARK: - Pieces

    struct ChunkHistogram {
        var pos = [Int](), neg = [Int](), weight = [Double]()
        var regionSizes = [[Int]]()
        var error: MetricError?
    }

    struct BucketWork {
        var neg: Range<Int>
        var pos: Range<Int>
        var tpAbove: Int
        var fpAbove: Int
        var overlapAbove: Double
    }

    struct BucketPartial {
        var pairsTwice = 0
        var precisionSum = 0.0
        var f1Max = 0.0
        var area = 0.0
    }

    struct ScatterBuffers: @unchecked Sendable {
        let negLow: UnsafeMutableBufferPointer<UInt16>
        let posLow: UnsafeMutableBufferPointer<UInt16>
        let posRegion: UnsafeMutableBufferPointer<UInt32>
    }

    static func chunkRange(_ c: Int, _ chunks: Int, _ count: Int) -> Range<Int> {
        (count * c / chunks)..<(count * (c + 1) / chunks)
    }

    /// Pass 1 over samples[range]: bucket counts, AUPRO weights and region sizes; first bad score as an error.
    static func histogram(_ samples: [PixelSample], range: Range<Int>, regions: Bool) -> ChunkHistogram {
        var h = ChunkHistogram()
        var pos = [Int](repeating: 0, count: bucketCount), neg = pos
        var weight = [Double](repeating: 0, count: regions ? bucketCount : 0)
        var labels = [Int32](), stack = [Int32]()
        for s in range {
            let sample = samples[s]
            var inverse = [Double]()
            if regions, let mask = sample.mask {
                let sizes = componentLabels(sample, mask, &labels, &stack)
                h.regionSizes.append(sizes)
                inverse = sizes.map { 1 / Double($0) }
            } else if regions {
                h.regionSizes.append([])
            }
            let bad: Int?
            if let mask = sample.mask {
                bad = countMasked(sample.scores, mask, labels, inverse, regions, &pos, &neg, &weight)
            } else {
                bad = countNormal(sample.scores, &neg)
            }
            if let bad {
                h.error = .nonFiniteScore(what: "map \(s)", index: bad, value: sample.scores[bad])
                return h
            }
        }
        h.pos = pos
        h.neg = neg
        h.weight = weight
        return h
    }

    /// Counts an anomaly-free map into `neg`; returns the index of the first non-finite score.
    static func countNormal(_ scores: [Float], _ neg: inout [Int]) -> Int? {
        scores.withUnsafeBufferPointer { sp in
            neg.withUnsafeMutableBufferPointer { n in
                for i in 0..<sp.count {
                    guard sp[i].isFinite else { return i }
                    n[Int(scoreKey(sp[i]) >> 16)] += 1
                }
                return nil
            }
        }
    }

    /// Counts a map with a mask; for AUPRO also adds 1/region-size per defect pixel into `weight`.
    static func countMasked(_ scores: [Float], _ mask: [UInt8], _ labels: [Int32], _ inverse: [Double],
                            _ regions: Bool, _ pos: inout [Int], _ neg: inout [Int],
                            _ weight: inout [Double]) -> Int? {
        for i in 0..<scores.count {
            let x = scores[i]
            guard x.isFinite else { return i }
            let b = Int(scoreKey(x) >> 16)
            if mask[i] != 0 {
                pos[b] += 1
                if regions { weight[b] += inverse[Int(labels[i]) - 1] }
            } else {
                neg[b] += 1
            }
        }
        return nil
    }

    /// Pass 2 over samples[range]: low key bits (and region ids) into this chunk's slots.
    static func scatter(_ samples: [PixelSample], range: Range<Int>, into out: ScatterBuffers,
                        negCursor: [Int], posCursor: [Int], regionBase: [Int]?) {
        var negCursor = negCursor, posCursor = posCursor
        var labels = [Int32](), stack = [Int32]()
        for s in range {
            let sample = samples[s]
            var base = 0
            if let regionBase, let mask = sample.mask {
                _ = componentLabels(sample, mask, &labels, &stack)
                base = regionBase[s] - 1
            }
            sample.scores.withUnsafeBufferPointer { sp in
                guard let mask = sample.mask else {
                    for i in 0..<sp.count {
                        let k = scoreKey(sp[i])
                        let b = Int(k >> 16)
                        out.negLow[negCursor[b]] = UInt16(truncatingIfNeeded: k)
                        negCursor[b] += 1
                    }
                    return
                }
                mask.withUnsafeBufferPointer { mp in
                    for i in 0..<sp.count {
                        let k = scoreKey(sp[i])
                        let b = Int(k >> 16)
                        if mp[i] != 0 {
                            let slot = posCursor[b]
                            out.posLow[slot] = UInt16(truncatingIfNeeded: k)
                            if regionBase != nil { out.posRegion[slot] = UInt32(base + Int(labels[i])) }
                            posCursor[b] += 1
                        } else {
                            out.negLow[negCursor[b]] = UInt16(truncatingIfNeeded: k)
                            negCursor[b] += 1
                        }
                    }
                }
            }
        }
    }

    static func componentLabels(_ sample: PixelSample, _ mask: [UInt8], _ labels: inout [Int32],
                                _ stack: inout [Int32]) -> [Int] {
        if labels.count < mask.count { labels = [Int32](repeating: 0, count: mask.count) }
        return mask.withUnsafeBufferPointer { mp in
            labels.withUnsafeMutableBufferPointer { lp in
                ConnectedComponents.label(mask: mp, width: sample.width, height: sample.height,
                                          into: UnsafeMutableBufferPointer(rebasing: lp[0..<mask.count]),
                                          stack: &stack)
            }
        }
    }

    /// Pass 3 for one bucket: its distinct scores from high to low, starting from the state above it.
    static func sweep(_ w: BucketWork, buffers: ScatterBuffers, positives: Int, negatives: Int, regions: Int,
                      inverseSize: UnsafePointer<Double>?, limit: Double, smallBucket: Int) -> BucketPartial {
        var s = ThresholdSweep(positives: positives, negatives: negatives,
                               truePositivesAbove: w.tpAbove, falsePositivesAbove: w.fpAbove)
        var pro = PROCurveIntegral(regionCount: max(regions, 1), normalCount: negatives, limit: limit,
                                   falsePositivesAbove: w.fpAbove, overlapAbove: w.overlapAbove)
        let withRegions = regions > 0 && inverseSize != nil
        if w.neg.count + w.pos.count > smallBucket {
            var negC = [Int32](repeating: 0, count: 1 << 16), posC = negC
            var weight = [Double](repeating: 0, count: withRegions ? 1 << 16 : 0)
            for i in w.neg { negC[Int(buffers.negLow[i])] += 1 }
            for i in w.pos {
                let v = Int(buffers.posLow[i])
                posC[v] += 1
                if withRegions, let inv = inverseSize { weight[v] += inv[Int(buffers.posRegion[i])] }
            }
            for v in stride(from: (1 << 16) - 1, through: 0, by: -1) where negC[v] | posC[v] != 0 {
                s.add(positives: Int(posC[v]), negatives: Int(negC[v]))
                if withRegions { pro.add(normals: Int(negC[v]), overlap: weight[v]) }
            }
        } else {
            var neg = UnsafeMutableBufferPointer(rebasing: buffers.negLow[w.neg])
            neg.sort(by: >)
            // Positives as (low key << 32 | region id) so one sort keeps the region attached.
            var pos = w.pos.map { i -> UInt64 in
                UInt64(buffers.posLow[i]) << 32 | (withRegions ? UInt64(buffers.posRegion[i]) : 0)
            }
            pos.sort(by: >)
            var i = 0, j = 0
            while i < neg.count || j < pos.count {
                let nv = i < neg.count ? Int(neg[i]) : -1
                let pv = j < pos.count ? Int(pos[j] >> 32) : -1
                let v = max(nv, pv)
                var n = 0, p = 0, overlap = 0.0
                while i < neg.count && Int(neg[i]) == v { n += 1; i += 1 }
                while j < pos.count && Int(pos[j] >> 32) == v {
                    if withRegions, let inv = inverseSize { overlap += inv[Int(pos[j] & 0xFFFF_FFFF)] }
                    p += 1; j += 1
                }
                s.add(positives: p, negatives: n)
                if withRegions { pro.add(normals: n, overlap: overlap) }
            }
        }
        return BucketPartial(pairsTwice: s.pairsTwice, precisionSum: s.precisionSum, f1Max: s.f1Max,
                             area: withRegions ? pro.area : 0)
    }
}

/// A pointer handed to concurrent workers that each write their own index.
struct UncheckedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
    init(_ base: UnsafeMutablePointer<T>) { self.base = base }
}

/// A read-only pointer shared by concurrent workers.
struct UncheckedConstPointer<T>: @unchecked Sendable {
    let base: UnsafePointer<T>?
    init(_ base: UnsafePointer<T>?) { self.base = base }
}
