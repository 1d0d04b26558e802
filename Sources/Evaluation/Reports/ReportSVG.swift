import Foundation

/// Inline SVG charts for report.html, drawn from the metric code's own numbers (no plotting library, no network).
public enum ReportSVG {
    static let width = 300.0, height = 250.0
    static let left = 44.0, right = 12.0, top = 14.0, bottom = 38.0
    static var plotWidth: Double { width - left - right }
    static var plotHeight: Double { height - top - bottom }
    /// At most this many points per curve: a point is kept when it moves 1/`resolution` of the axis from the last kept.
    public static let resolution = 600.0

    /// One line of a chart.
    public struct Series {
        public var points: [(x: Double, y: Double)]
        public var label: String
        public var color: String
        public init(points: [(x: Double, y: Double)], label: String, color: String) {
            self.points = points
            self.label = label
            self.color = color
        }
    }

    /// Pixel position of a point of the unit square.
    static func position(_ p: (x: Double, y: Double)) -> (x: Double, y: Double) {
        (left + p.x * plotWidth, top + (1 - p.y) * plotHeight)
    }

    /// Inverse of `position` (tests read drawn points back with it).
    public static func unitPoint(svgX: Double, svgY: Double) -> (x: Double, y: Double) {
        ((svgX - left) / plotWidth, 1 - (svgY - top) / plotHeight)
    }

    /// The curve points drawn: the first, the last, and each that moves at least 1/`resolution` in x or y from the
    /// previous kept one (a subset of the curve's own points, never interpolated).
    public static func drawnPoints(_ points: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
        guard var last = points.first else { return [] }
        var kept = [last]
        let step = 1 / resolution
        for (i, p) in points.enumerated().dropFirst() {
            if i == points.count - 1 || abs(p.x - last.x) >= step || abs(p.y - last.y) >= step {
                kept.append(p)
                last = p
            }
        }
        return kept
    }

    /// A unit-square line chart (ROC or PR) with axis labels, a legend and an optional marked operating point.
    public static func curveChart(kind: String, title: String, xLabel: String, yLabel: String, series: [Series],
                                  marker: (point: (x: Double, y: Double), label: String)?, diagonal: Bool,
                                  legendAtLeft: Bool = false) -> String {
        var s = open(kind: kind, title: title)
        let rows = series.count + (marker == nil ? 0 : 1)
        s += axes(xLabel: xLabel, yLabel: yLabel, xTicks: [(0, "0"), (0.5, "0.5"), (1, "1")])
        if diagonal {
            let a = position((0, 0)), b = position((1, 1))
            s += "<line x1=\"\(f(a.x))\" y1=\"\(f(a.y))\" x2=\"\(f(b.x))\" y2=\"\(f(b.y))\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>\n"
        }
        for (k, line) in series.enumerated() {
            let pts = drawnPoints(line.points).map { p -> String in let q = position(p); return "\(f(q.x)),\(f(q.y))" }
            s += "<polyline class=\"curve\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\" points=\"\(pts.joined(separator: " "))\"/>\n"
            s += legend(k, text: line.label, color: line.color, fromBottom: rows, atLeft: legendAtLeft)
        }
        if let marker {
            let q = position(marker.point)
            s += "<circle class=\"operating-point\" cx=\"\(f(q.x))\" cy=\"\(f(q.y))\" r=\"5\" fill=\"none\" stroke=\"#000\" stroke-width=\"2\"><title>\(html(marker.label))</title></circle>\n"
            s += legend(series.count, text: "○ " + marker.label, color: "#000", fromBottom: rows, atLeft: legendAtLeft)
        }
        return s + "</svg>\n"
    }

    /// Image scores of normal and anomalous images in `bins` equal bins over their range, the threshold as a line.
    public static func histogram(scores: [Float], labels: [Bool], threshold: ImageThreshold?, bins: Int = 30) -> String {
        var s = open(kind: "histogram", title: "Image scores")
        let values = scores.map(Double.init) + (threshold.map { [Double($0.value)] } ?? [])
        guard var lo = values.min(), var hi = values.max() else { return s + "</svg>\n" }
        if hi <= lo { lo -= 0.5; hi += 0.5 }
        var normal = [Int](repeating: 0, count: bins), anomalous = normal
        for (v, l) in zip(scores, labels) {
            let b = min(bins - 1, max(0, Int((Double(v) - lo) / (hi - lo) * Double(bins))))
            if l { anomalous[b] += 1 } else { normal[b] += 1 }
        }
        let peak = Double(max(1, (normal + anomalous).max() ?? 1))
        s += axes(xLabel: "image score", yLabel: "images",
                  xTicks: [(0, ColorBarLabel.format(Float(lo))), (1, ColorBarLabel.format(Float(hi)))], yTop: "\(Int(peak))")
        let w = plotWidth / Double(bins)
        for (counts, color, cls) in [(normal, "#1f77b4", "normal"), (anomalous, "#d62728", "anomalous")] {
            for (b, c) in counts.enumerated() where c > 0 {
                let h = Double(c) / peak * plotHeight
                s += "<rect class=\"bar \(cls)\" x=\"\(f(left + Double(b) * w))\" y=\"\(f(top + plotHeight - h))\" width=\"\(f(w))\" height=\"\(f(h))\" fill=\"\(color)\" fill-opacity=\"0.5\"><title>\(c) \(cls)</title></rect>\n"
            }
        }
        s += legend(0, text: "normal (\(labels.filter { !$0 }.count))", color: "#1f77b4")
        s += legend(1, text: "anomalous (\(labels.filter { $0 }.count))", color: "#d62728")
        if let threshold {
            let x = left + (Double(threshold.value) - lo) / (hi - lo) * plotWidth
            s += "<line class=\"threshold\" x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotHeight))\" stroke=\"#000\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>\n"
            s += legend(2, text: "threshold \(ColorBarLabel.format(threshold.value)) (\(threshold.source.rawValue))", color: "#000")
        }
        return s + "</svg>\n"
    }

    // MARK: - Pieces

    static func open(kind: String, title: String) -> String {
        "<svg class=\"chart \(kind)\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(html(title))\">\n"
            + "<text x=\"\(f(left))\" y=\"10\" font-size=\"11\" font-weight=\"bold\">\(html(title))</text>\n"
    }

    static func axes(xLabel: String, yLabel: String, xTicks: [(Double, String)], yTop: String = "1") -> String {
        let x0 = left, y0 = top + plotHeight
        var s = "<rect x=\"\(f(x0))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#888\"/>\n"
        for (t, text) in xTicks {
            let x = x0 + t * plotWidth
            s += "<text x=\"\(f(x))\" y=\"\(f(y0 + 14))\" font-size=\"11\" text-anchor=\"middle\">\(html(text))</text>\n"
        }
        s += "<text x=\"\(f(x0 - 4))\" y=\"\(f(y0))\" font-size=\"11\" text-anchor=\"end\">0</text>\n"
        s += "<text x=\"\(f(x0 - 4))\" y=\"\(f(top + 8))\" font-size=\"11\" text-anchor=\"end\">\(html(yTop))</text>\n"
        s += "<text x=\"\(f(x0 + plotWidth / 2))\" y=\"\(f(height - 6))\" font-size=\"12\" text-anchor=\"middle\">\(html(xLabel))</text>\n"
        s += "<text transform=\"translate(12 \(f(top + plotHeight / 2))) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">\(html(yLabel))</text>\n"
        return s
    }

    /// Legend line `row`: from the top right, or (`fromBottom` = number of rows) stacked above the bottom edge.
    static func legend(_ row: Int, text: String, color: String, fromBottom rows: Int? = nil, atLeft: Bool = false) -> String {
        let y = rows.map { top + plotHeight - 8 - Double($0 - 1 - row) * 15 } ?? top + 16 + Double(row) * 15
        let x = atLeft ? left + 6 : width - right - 6
        return "<text class=\"legend\" x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"11\" text-anchor=\"\(atLeft ? "start" : "end")\" fill=\"\(color)\">\(html(text))</text>\n"
    }

    static func f(_ v: Double) -> String { String(format: "%.2f", v) }
}
