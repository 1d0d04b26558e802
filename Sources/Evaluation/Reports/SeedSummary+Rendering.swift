import Checkpoint
import Foundation

// MARK: - The protocol's top-level metrics.json, metrics.csv, report.html and terminal table

extension SeedSummary {
    /// Writes `metrics.json`, `metrics.csv` and `report.html` (linking each seed's own report) into `directory`.
    public func write(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFileWriter.write(Data(jsonText().utf8), to: FileTree.join(directory, "metrics.json"))
        try AtomicFileWriter.write(Data(csvText().utf8), to: FileTree.join(directory, "metrics.csv"))
        try AtomicFileWriter.write(Data(htmlText().utf8), to: FileTree.join(directory, "report.html"))
    }

    /// `metrics.json`: `"classes": {name: {metric: {"mean", "std", "n"}}}`, `"mean"` (overall), the seeds with
    /// their folders and drawn shots; fractions in [0, 1], null where undefined.
    public func jsonText() -> String {
        func object(_ pairs: [(String, String)], indent: String) -> String {
            pairs.isEmpty ? "{}" : "{" + pairs.map { "\n\(indent)  \(jsonString($0.0)): \($0.1)" }.joined(separator: ",") + "\n\(indent)}"
        }
        func stats(_ s: [(key: String, value: Statistic)], indent: String) -> [(String, String)] {
            s.map { ($0.key, "{\"mean\": \(jsonNumber($0.value.mean)), \"std\": \(jsonNumber($0.value.std)), \"n\": \($0.value.count)}") }
        }
        let classObjects = classNames.map { name -> (String, String) in
            let counts = images(forClass: name)
            return (name, object(stats(statistics(forClass: name), indent: "    ")
                                 + [("images", "\(counts.images)"), ("anomalous", "\(counts.anomalous)")], indent: "    "))
        }
        let runObjects = runs.map { run in
            object([("seed", "\(run.seed)"), ("report", jsonString(FileTree.join(run.folder, "metrics.json"))),
                    ("shots", object(run.shots.keys.sorted().map { name in
                        (name, "[" + (run.shots[name] ?? []).map(jsonString).joined(separator: ", ") + "]")
                    }, indent: "        "))], indent: "    ")
        }
        return object([("method", jsonString(method)),
                       ("protocol", jsonString("few-shot, \(runs.count) seed(s): mean and \(Self.deviation)")),
                       ("seeds", "[" + seeds.map(String.init).joined(separator: ", ") + "]"),
                       ("settings", object(settings.map { ($0.key, jsonString($0.value)) }, indent: "  ")),
                       ("classes", object(classObjects, indent: "  ")),
                       ("mean", object(stats(overall, indent: "  "), indent: "  ")),
                       ("runs", "[" + runObjects.map { "\n    " + $0 }.joined(separator: ",") + "\n  ]")], indent: "") + "\n"
    }

    /// `metrics.csv`: one row per class then `mean`; per metric a `_mean` and a `_std` column; empty where undefined.
    public func csvText() -> String {
        var lines = ["class,images,anomalous,seeds," + ClassMetrics.keys.map { "\($0)_mean,\($0)_std" }.joined(separator: ",")]
        func cells(_ s: [(key: String, value: Statistic)]) -> [String] { s.flatMap { [csvNumber($0.value.mean), csvNumber($0.value.std)] } }
        var total = 0, anomalous = 0
        for name in classNames {
            let counts = images(forClass: name)
            total += counts.images; anomalous += counts.anomalous
            lines.append(([csvField(name), "\(counts.images)", "\(counts.anomalous)", "\(runs.count)"] + cells(statistics(forClass: name)))
                .joined(separator: ","))
        }
        lines.append((["mean", "\(total)", "\(anomalous)", "\(runs.count)"] + cells(overall)).joined(separator: ","))
        return lines.joined(separator: "\n") + "\n"
    }

    /// "mean ± std" in percent ("-" where undefined; the mean alone for one seed).
    static func cell(_ s: Statistic) -> String {
        guard let m = s.mean else { return "-" }
        guard let d = s.std else { return percent(m) }
        return "\(percent(m)) ± \(percent(d))"
    }

    /// A fixed-width table in percent for the terminal, one "mean ± std" cell per metric.
    public func tableText() -> String {
        var rows = classNames.map { name in [name, "\(images(forClass: name).images)"] + statistics(forClass: name).map { Self.cell($0.value) } }
        rows.append(["mean", "\(classNames.reduce(0) { $0 + images(forClass: $1).images })"] + overall.map { Self.cell($0.value) })
        return MetricsTable.text(rows: rows, title: "\(method), seeds \(seeds.map(String.init).joined(separator: ",")): mean ± \(Self.deviation), in %")
    }

    /// The summary page: settings, the mean ± std table, each seed's metrics with a link to its own report, the shots.
    public func htmlText() -> String {
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>ClipAD few-shot protocol: \(html(method))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;color:#222}
        table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
        th:first-child,td:first-child{text-align:left}tr.mean{font-weight:bold;background:#f3f3f3}
        table.settings td{text-align:left}code{background:#f3f3f3}li{font-size:13px}
        </style></head><body>
        <h1>ClipAD few-shot protocol: \(html(method))</h1>
        <p>\(runs.count) seed(s) (\(html(seeds.map(String.init).joined(separator: ", ")))); each seed draws its own shots per class.
        Cells: mean ± \(html(Self.deviation)), in %.</p>
        <h2>Settings</h2><table class="settings">\n
        """
        for s in settings { h += "<tr><td>\(html(s.key))</td><td><code>\(html(s.value))</code></td></tr>\n" }
        h += "</table>\n<h2>Metrics (%)</h2>\n<table>\n<tr><th>class</th><th>images</th>"
        for k in ClassMetrics.keys { h += "<th>\(html(k))</th>" }
        h += "</tr>\n"
        for name in classNames {
            h += "<tr><td>\(html(name))</td><td>\(images(forClass: name).images)</td>"
                + statistics(forClass: name).map { "<td>\(html(Self.cell($0.value)))</td>" }.joined() + "</tr>\n"
        }
        h += "<tr class=\"mean\"><td>mean</td><td></td>" + overall.map { "<td>\(html(Self.cell($0.value)))</td>" }.joined() + "</tr>\n</table>\n"
        h += "<h2>Seeds</h2>\n<table>\n<tr><th>seed</th><th>report</th>" + ClassMetrics.keys.map { "<th>\(html($0)) (mean over classes)</th>" }.joined() + "</tr>\n"
        for run in runs {
            let link = FileTree.join(run.folder, "report.html")
            h += "<tr><td>\(run.seed)</td><td><a href=\"\(html(link))\">\(html(link))</a></td>"
                + run.report.mean.fields.map { "<td>\(percent($0.value))</td>" }.joined() + "</tr>\n"
        }
        h += "</table>\n<h2>Shots drawn</h2>\n"
        for run in runs {
            h += "<h3>seed \(run.seed)</h3>\n<ul>\n"
            for name in run.shots.keys.sorted() {
                h += "<li>\(html(name)): " + (run.shots[name] ?? []).map { "<code>\(html($0))</code>" }.joined(separator: ", ") + "</li>\n"
            }
            h += "</ul>\n"
        }
        return h + "</body></html>\n"
    }
}
