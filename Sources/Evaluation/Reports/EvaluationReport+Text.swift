import Checkpoint
import Foundation

// MARK: - metrics.json, metrics.csv, the terminal table

extension EvaluationReport {
    /// `metrics.json`: method, settings, `"classes": {name: {metric: value}}` and `"mean"`; metrics are
    /// fractions in [0, 1], null where undefined.
    public func jsonText() -> String {
        func object(_ pairs: [(String, String)], indent: String) -> String {
            "{" + pairs.map { "\n\(indent)  \(jsonString($0.0)): \($0.1)" }.joined(separator: ",") + "\n\(indent)}"
        }
        func metrics(_ m: ClassMetrics) -> [(String, String)] { m.fields.map { ($0.key, jsonNumber($0.value)) } }
        let classObjects = classes.map { c -> (String, String) in
            var pairs = metrics(c.metrics) + [("images", "\(c.images)"), ("anomalous", "\(c.anomalous)"),
                                              ("skipped", "\(c.skipped)")]
            if let t = c.pixelThreshold { pairs.append(("pixel_f1_max_threshold", jsonNumber(Double(t)))) }
            return (c.name, object(pairs, indent: "    "))
        }
        return object([("method", jsonString(method)),
                       ("settings", object(settings.map { ($0.key, jsonString($0.value)) }, indent: "  ")),
                       ("classes", object(classObjects, indent: "  ")),
                       ("mean", object(metrics(mean), indent: "  "))], indent: "") + "\n"
    }

    /// `metrics.csv`: a header, one row per class, then a `mean` row; empty cells where undefined.
    public func csvText() -> String {
        var lines = ["class,images,anomalous," + ClassMetrics.keys.joined(separator: ",")]
        for c in classes {
            lines.append(([csvField(c.name), "\(c.images)", "\(c.anomalous)"] + c.metrics.fields.map { csvNumber($0.value) })
                .joined(separator: ","))
        }
        let total = classes.reduce(0) { $0 + $1.images }, anomalous = classes.reduce(0) { $0 + $1.anomalous }
        lines.append((["mean", "\(total)", "\(anomalous)"] + mean.fields.map { csvNumber($0.value) }).joined(separator: ","))
        return lines.joined(separator: "\n") + "\n"
    }

    /// A fixed-width table in percent for the terminal.
    public func tableText() -> String {
        var rows = classes.map { c in [c.name, "\(c.images)"] + c.metrics.fields.map { percent($0.value) } }
        rows.append(["mean", "\(classes.reduce(0) { $0 + $1.images })"] + mean.fields.map { percent($0.value) })
        return MetricsTable.text(rows: rows)
    }
}

/// A JSON number, `null` for nil or non-finite values.
func jsonNumber(_ v: Double?) -> String {
    guard let v, v.isFinite else { return "null" }
    return "\(v)"
}

func csvNumber(_ v: Double?) -> String {
    guard let v, v.isFinite else { return "" }
    return String(format: "%.6f", v)
}

/// Quotes a CSV field when it holds a comma, quote or line break.
func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

func percent(_ v: Double?) -> String {
    guard let v, v.isFinite else { return "-" }
    return String(format: "%.1f", 100 * v)
}
