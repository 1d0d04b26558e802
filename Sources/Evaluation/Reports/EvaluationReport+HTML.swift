import Foundation

// MARK: - report.html (self-contained: inline CSS, overlays as base64 data URIs, no network)

extension EvaluationReport {
    /// The HTML report. `imageData` returns a PNG's bytes for an overlay file (nil = left out).
    public func htmlText(imageData: (String) -> Data?) -> String {
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>ClipAD evaluation: \(html(method))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;color:#222}
        table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
        th:first-child,td:first-child{text-align:left}tr.mean{font-weight:bold;background:#f3f3f3}
        figure{display:inline-block;margin:6px;vertical-align:top}figcaption{font-size:12px;max-width:820px;word-break:break-all}
        img{image-rendering:pixelated;height:200px;width:auto}table.settings td{text-align:left}code{background:#f3f3f3}
        </style></head><body>
        <h1>ClipAD evaluation: \(html(method))</h1>
        <h2>Settings</h2><table class=\"settings\">\n
        """
        for s in settings { h += "<tr><td>\(html(s.key))</td><td><code>\(html(s.value))</code></td></tr>\n" }
        h += "</table>\n<h2>Metrics (%)</h2>\n<table>\n<tr><th>class</th><th>images</th><th>anomalous</th>"
        for k in ClassMetrics.keys { h += "<th>\(html(k))</th>" }
        h += "</tr>\n"
        func row(_ name: String, _ images: Int, _ anomalous: Int, _ m: ClassMetrics, cls: String) -> String {
            "<tr class=\"\(cls)\"><td>\(html(name))</td><td>\(images)</td><td>\(anomalous)</td>"
                + m.fields.map { "<td>\(percent($0.value))</td>" }.joined() + "</tr>\n"
        }
        for c in classes { h += row(c.name, c.images, c.anomalous, c.metrics, cls: "class") }
        h += row("mean", classes.reduce(0) { $0 + $1.images }, classes.reduce(0) { $0 + $1.anomalous }, mean, cls: "mean")
        h += "</table>\n"
        let notes = classes.flatMap { c in c.notes.map { "\(c.name): \($0)" } }
        if !notes.isEmpty {
            h += "<ul>\n" + notes.map { "<li>\(html($0))</li>\n" }.joined() + "</ul>\n"
        }
        h += "<h2>Overlays</h2>\n<p>Each picture: image | ground truth | anomaly map | map thresholded at the class's "
            + "pixel F1-max threshold (white = above) | colour bar of the class's map range (turbo, its minimum and "
            + "maximum written beside it). Worst = normal images scored highest and anomalous images scored lowest.</p>\n"
        for c in classes where !c.overlays.isEmpty {
            h += "<h3>\(html(c.name))</h3>\n"
            for o in c.overlays {
                let caption = "\(o.kind.rawValue): \(o.label ? "anomalous" : "normal"), score "
                    + String(format: "%.4f", Double(o.score)) + " — \(o.imagePath)"
                let source = imageData(o.file).map { "data:image/png;base64," + $0.base64EncodedString() }
                h += "<figure>" + (source.map { "<img src=\"\($0)\" alt=\"\(html(caption))\">" } ?? "(overlay missing)")
                    + "<figcaption>\(html(caption))</figcaption></figure>\n"
            }
        }
        h += "</body></html>\n"
        return h
    }
}

/// Escapes text for HTML content and attribute values.
func html(_ s: String) -> String {
    var out = ""
    for ch in s {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(ch)
        }
    }
    return out
}
