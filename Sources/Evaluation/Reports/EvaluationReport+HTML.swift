import Foundation

// MARK: - report.html (one file: inline CSS, SVG and script, no network; overlays and thumbnails are files
// beside it, linked relatively, thumbnails loaded as they scroll into view so a 1,000-image gallery opens quickly)

extension EvaluationReport {
    /// The HTML report.
    public func htmlText() -> String {
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>ClipAD evaluation: \(html(method))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;color:#222}
        table{border-collapse:collapse;margin:0 0 1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
        th:first-child,td:first-child{text-align:left}tr.mean{font-weight:bold;background:#f3f3f3}
        table.settings td{text-align:left}code{background:#f3f3f3}
        .charts,.tables{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
        svg.chart{background:#fff;border:1px solid #ddd}
        .gallery{display:flex;flex-wrap:wrap;gap:8px}
        .gallery figure{margin:0;padding:4px;border:2px solid #ddd;border-radius:4px;width:164px;text-align:center}
        .gallery figure.mis{border-color:#d62728}.gallery figure[hidden]{display:none}
        .gallery img{display:block;margin:0 auto;background:#a0a0a0}
        .gallery figcaption{font-size:11px;word-break:break-all}
        .controls{margin:8px 0;display:flex;gap:12px;flex-wrap:wrap;align-items:center}
        #errors{color:#d62728;white-space:pre}
        </style></head><body>
        <h1>ClipAD evaluation: \(html(method))</h1>
        <div id="errors"></div>
        <h2>Settings</h2><table class="settings">\n
        """
        for s in settings { h += "<tr><td>\(html(s.key))</td><td><code>\(html(s.value))</code></td></tr>\n" }
        h += "</table>\n<h2>Metrics (%)</h2>\n<table class=\"metrics\">\n" + metricsHeader(first: "class")
        for c in classes { h += metricsRow(c.name, c.images, c.anomalous, c.metrics, cls: "class") }
        h += metricsRow("mean", classes.reduce(0) { $0 + $1.images }, classes.reduce(0) { $0 + $1.anomalous }, mean, cls: "mean")
        h += "</table>\n"
        let notes = classes.flatMap { c in c.notes.map { "\(c.name): \($0)" } }
        if !notes.isEmpty {
            h += "<ul>\n" + notes.map { "<li>\(html($0))</li>\n" }.joined() + "</ul>\n"
        }
        for (k, c) in classes.enumerated() { h += classSection(c, index: k) }
        h += "<script>\n\(Self.galleryScript)</script>\n</body></html>\n"
        return h
    }

    // MARK: - Tables

    func metricsHeader(first: String, extra: [String] = []) -> String {
        "<tr><th>\(html(first))</th><th>images</th><th>anomalous</th>" + extra.map { "<th>\(html($0))</th>" }.joined()
            + ClassMetrics.keys.map { "<th>\(html($0))</th>" }.joined() + "</tr>\n"
    }

    func metricsRow(_ name: String, _ images: Int, _ anomalous: Int, _ m: ClassMetrics, cls: String, extra: [String] = []) -> String {
        "<tr class=\"\(cls)\"><td>\(html(name))</td><td>\(images)</td><td>\(anomalous)</td>"
            + extra.map { "<td>\(html($0))</td>" }.joined()
            + m.fields.map { "<td>\(percent($0.value))</td>" }.joined() + "</tr>\n"
    }

    // MARK: - One class

    func classSection(_ c: ClassResult, index: Int) -> String {
        var h = "<section class=\"class\" id=\"class-\(index)\">\n<h2>\(html(c.name))</h2>\n"
        h += "<div class=\"charts\">\n" + charts(c) + "</div>\n"
        h += "<div class=\"tables\">\n<div><h3>This class (%)</h3><table class=\"per-class\">\n" + metricsHeader(first: "class")
            + metricsRow(c.name, c.images, c.anomalous, c.metrics, cls: "class") + "</table></div>\n"
        if !c.defectTypes.isEmpty {
            h += "<div><h3>Per defect type (%): normal images + that type's</h3><table class=\"defect-types\">\n"
                + metricsHeader(first: "defect type", extra: ["detected"])
            for d in c.defectTypes {
                h += metricsRow(d.name, d.images, d.anomalous, d.metrics, cls: "defect",
                                extra: [d.detected.map { "\($0) of \(d.anomalous)" } ?? "-"])
            }
            h += "</table></div>\n"
        }
        h += "</div>\n"
        h += gallery(c, index: index)
        return h + "</section>\n"
    }

    func charts(_ c: ClassResult) -> String {
        var h = ""
        let thresholdText = c.imageThreshold.map { "threshold \(ColorBarLabel.format($0.value)) (\($0.source.rawValue))" } ?? ""
        if let curve = c.imageCurve {
            let op = c.imageOperatingPoint
            h += ReportSVG.curveChart(kind: "roc image", title: "Image ROC", xLabel: "false-positive rate", yLabel: "true-positive rate",
                                      series: [.init(points: curve.roc, label: "AUROC \(percent(c.metrics.imageAUROC))%", color: "#1f77b4")],
                                      marker: op.map { ((x: $0.falsePositiveRate, y: $0.recall), thresholdText) }, diagonal: true)
            h += ReportSVG.curveChart(kind: "pr image", title: "Image precision-recall", xLabel: "recall", yLabel: "precision",
                                      series: [.init(points: curve.precisionRecall, label: "AP \(percent(c.metrics.imageAP))%", color: "#1f77b4")],
                                      marker: op.map { ((x: $0.recall, y: $0.precision), thresholdText) }, diagonal: false, legendAtLeft: true)
        } else {
            h += "<p class=\"no-curve\">No image curves: the class needs normal and anomalous images.</p>\n"
        }
        if let curve = c.pixelCurve {
            let op = c.pixelOperatingPoint
            let text = c.pixelThreshold.map { "threshold \(ColorBarLabel.format($0)) (\(c.pixelThresholdSource))" } ?? ""
            h += ReportSVG.curveChart(kind: "roc pixel", title: "Pixel ROC", xLabel: "false-positive rate", yLabel: "true-positive rate",
                                      series: [.init(points: curve.roc, label: "AUROC \(percent(c.metrics.pixelAUROC))%", color: "#2ca02c")],
                                      marker: op.map { ((x: $0.falsePositiveRate, y: $0.recall), text) }, diagonal: true)
            h += ReportSVG.curveChart(kind: "pr pixel", title: "Pixel precision-recall", xLabel: "recall", yLabel: "precision",
                                      series: [.init(points: curve.precisionRecall, label: "AP \(percent(c.metrics.pixelAP))%", color: "#2ca02c")],
                                      marker: op.map { ((x: $0.recall, y: $0.precision), text) }, diagonal: false, legendAtLeft: true)
        } else if c.imageCurve != nil {
            h += "<p class=\"no-curve\">No pixel curves: no maps, or no defect pixel in the masks.</p>\n"
        }
        if !c.gallery.isEmpty {
            h += ReportSVG.histogram(scores: c.gallery.map(\.score), labels: c.gallery.map(\.label), threshold: c.imageThreshold)
        }
        return h
    }

    func gallery(_ c: ClassResult, index: Int) -> String {
        guard !c.gallery.isEmpty else { return "" }
        var h = "<h3>Gallery: all \(c.gallery.count) test images</h3>\n"
        if let scale = c.colorScale {
            h += "<p>Each thumbnail is the anomaly map over the image (turbo); click it for the full overlay: image | ground truth | "
                + "anomaly map | above the pixel threshold (white), with score, label and thresholds written on it. Colour scale: "
                + "<b>\(scale.rawValue)</b>" + (c.colorRange.map { " (\(ColorBarLabel.format($0.lowerBound)) to \(ColorBarLabel.format($0.upperBound)))" } ?? " (each image its own range)")
                + ". Red frame: misclassified at the image threshold.</p>\n"
        }
        let defects = Set(c.gallery.map(\.defectType)).sorted()
        h += "<div class=\"controls\" data-gallery=\"gallery-\(index)\">"
            + "<label>sort <select class=\"sort\"><option value=\"score-desc\">score, highest first</option>"
            + "<option value=\"score-asc\">score, lowest first</option><option value=\"dataset\">dataset order</option></select></label>"
            + "<label>label <select class=\"label\"><option value=\"all\">all</option><option value=\"normal\">normal</option>"
            + "<option value=\"anomalous\">anomalous</option></select></label>"
            + "<label>defect type <select class=\"defect\"><option value=\"all\">all</option>"
            + defects.map { "<option value=\"\(html($0))\">\(html($0))</option>" }.joined() + "</select></label>"
            + "<label><input type=\"checkbox\" class=\"mis\"> misclassified only</label><span class=\"count\"></span></div>\n"
        h += "<div class=\"gallery\" id=\"gallery-\(index)\">\n"
        for (k, g) in c.gallery.enumerated() {
            let status = g.predicted == nil ? "" : (g.misclassified ? (g.label ? " · missed" : " · false alarm") : "")
            let caption = String(format: "%.4f", Double(g.score)) + " · " + g.defectType + status
            h += "<figure class=\"item\(g.misclassified ? " mis" : "")\" data-order=\"\(k)\" data-score=\"\(g.score)\" "
                + "data-label=\"\(g.label ? "anomalous" : "normal")\" data-defect=\"\(html(g.defectType))\" data-mis=\"\(g.misclassified ? 1 : 0)\">"
            let image = g.thumbnail.map {
                "<img loading=\"lazy\" data-src=\"\(html($0))\" width=\"\(g.thumbnailWidth)\" height=\"\(g.thumbnailHeight)\" alt=\"\(html(FileTree.lastComponent(g.imagePath)))\">"
            } ?? "<span>(no overlay)</span>"
            h += (g.overlay.map { "<a href=\"\(html($0))\" target=\"_blank\">\(image)</a>" } ?? image)
                + "<figcaption title=\"\(html(g.imagePath))\">\(html(caption))</figcaption></figure>\n"
        }
        return h + "</div>\n"
    }

    /// Sorting and filtering of the galleries; page errors are written into #errors (the browser test reads it).
    static let galleryScript = """
    window.addEventListener('error', function (e) {
      document.getElementById('errors').textContent += 'error: ' + e.message + '\\n';
    });
    document.querySelectorAll('.controls').forEach(function (c) {
      var g = document.getElementById(c.dataset.gallery);
      var items = Array.prototype.slice.call(g.children);
      function update() {
        var sort = c.querySelector('.sort').value, label = c.querySelector('.label').value;
        var defect = c.querySelector('.defect').value, mis = c.querySelector('.mis').checked;
        var sorted = items.slice(), shown = 0;
        sorted.sort(function (a, b) {
          if (sort === 'dataset') return a.dataset.order - b.dataset.order;
          var d = parseFloat(a.dataset.score) - parseFloat(b.dataset.score);
          return sort === 'score-asc' ? d : -d;
        });
        var fragment = document.createDocumentFragment();
        sorted.forEach(function (it) {
          var ok = (label === 'all' || it.dataset.label === label) && (defect === 'all' || it.dataset.defect === defect)
            && (!mis || it.dataset.mis === '1');
          it.hidden = !ok;
          if (ok) shown++;
          fragment.appendChild(it);
        });
        g.appendChild(fragment);
        c.querySelector('.count').textContent = shown + ' of ' + items.length + ' images shown';
      }
      c.addEventListener('change', update);
      update();
    });
    // Thumbnails get their src when they come near the viewport, so a 1,000-image gallery does not hold up the
    // load event (loading="lazy" alone still fetched every thumbnail before load in headless Chromium).
    var nearby = 'IntersectionObserver' in window ? new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { e.target.src = e.target.dataset.src; nearby.unobserve(e.target); }
      });
    }, {rootMargin: '800px'}) : null;
    document.querySelectorAll('img[data-src]').forEach(function (im) {
      if (nearby) nearby.observe(im); else im.src = im.dataset.src;
    });
    document.documentElement.dataset.ready = '1';
    window.addEventListener('load', function () {
      var t = performance.timing;
      document.documentElement.dataset.loadMs = String(t.loadEventStart - t.navigationStart);
    });

    """
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
