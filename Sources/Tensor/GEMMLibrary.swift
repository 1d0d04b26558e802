#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which library computes ClipAD's matrix products (`BLAS.gemm` is the one place that issues them).
///
/// Chosen once per process: `CLIPAD_GEMM=openblas|onednn` when the user sets it, else the libraries measured faster
/// on this kind of CPU (`preferred`; the measurements are in docs/PERFORMANCE.md), where they are installed. OpenBLAS
/// is always linked; oneDNN is loaded at run time (`OneDNN`), so a machine without it runs on OpenBLAS.
public enum GEMMLibrary: String, Sendable, CaseIterable, CustomStringConvertible {
    case openBLAS = "openblas"
    case oneDNN = "onednn"

    public var description: String {
        switch self {
        case .openBLAS: "OpenBLAS"
        case .oneDNN: "oneDNN"
        }
    }

    /// The variable that overrides the choice: `openblas`, `onednn` or `auto` (the default).
    public static let variable = "CLIPAD_GEMM"

    /// Products with B transposed of at least this many rows are "large" (ViT-B/16 batch 8, ViT-L/14 at 518 px and
    /// its 1370-row heads; the others: batch 1 at 224-336 px and its heads): the libraries rank differently on them.
    public static var largeRows: Int { BLAS.splitRows }

    /// Products of fewer rows than this are the text towers' (34-77 rows: prompts cut at their end token; their
    /// attention heads fewer), where on AVX2 oneDNN led and from ViT-B/16's 197 rows OpenBLAS did.
    public static let textRows = 128

    /// One library below a row count and another from it (the same one twice: every product).
    public struct ByRows: Sendable, Equatable {
        public var below: GEMMLibrary
        public var from: GEMMLibrary
        public var rows: Int

        public init(_ below: GEMMLibrary, below rows: Int, _ from: GEMMLibrary) {
            self.below = below
            self.from = from
            self.rows = rows
        }

        public static func all(_ library: GEMMLibrary) -> ByRows { ByRows(library, below: 0, library) }

        public func library(forRows m: Int) -> GEMMLibrary { m < rows ? below : from }

        func describe(_ name: (GEMMLibrary) -> String) -> String {
            below == from ? name(below) : "\(name(below)) below \(rows) rows, \(name(from)) from \(rows)"
        }

        public static func == (a: ByRows, b: ByRows) -> Bool {
            a.below == b.below && a.from == b.from && (a.below == a.from || a.rows == b.rows)
        }
    }

    /// The libraries for products whose B is not transposed (the linear layers, whose weights `LinearWeight` holds
    /// input-major, and attention's P·V) and for those whose B is (attention scores, input gradients): the libraries
    /// rank differently on the two layouts.
    public struct Choice: Sendable, Equatable, CustomStringConvertible {
        public var untransposed: ByRows
        public var transposed: ByRows

        public init(untransposed: ByRows, transposed: ByRows) {
            self.untransposed = untransposed
            self.transposed = transposed
        }

        public static func all(_ library: GEMMLibrary) -> Choice { Choice(untransposed: .all(library), transposed: .all(library)) }

        var usesOneDNN: Bool { [untransposed.below, untransposed.from, transposed.below, transposed.from].contains(.oneDNN) }

        public var description: String { describe { "\($0)" } }

        /// "A" when one rule serves both layouts, else the linear layers' rule first, e.g. "oneDNN below 128 rows,
        /// OpenBLAS from 128 with B untransposed (linear layers); oneDNN below 1280 rows, OpenBLAS from 1280 with B
        /// transposed".
        func describe(_ name: (GEMMLibrary) -> String) -> String {
            if untransposed == transposed { return untransposed.describe(name) }
            return "\(untransposed.describe(name)) with B untransposed (linear layers); "
                + "\(transposed.describe(name)) with B transposed"
        }
    }

    /// A `CLIPAD_GEMM` value that cannot be honoured.
    public struct SelectionError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    // MARK: - The decision

    /// The faster library per layout and product size for a CPU, from ClipAD's products timed side by side
    /// (docs/PERFORMANCE.md, `benchmarks/gemm/sgemm_libraries.c`):
    /// - AVX-512 (AMD Zen 4; the Intel Xeon of issue 14): oneDNN for every untransposed product, which is every
    ///   linear layer: 160-232 GFLOP/s from 8 rows up on Zen 4, 1.1-1.8x OpenBLAS's rate in either layout. With B
    ///   transposed oneDNN on the large products (4-18% faster on Zen 4, 15-20% on the Xeon), OpenBLAS on the small
    ///   ones, where oneDNN's transposed-B sgemm ran c_proj shapes at 44-80% of OpenBLAS's rate.
    /// - AVX2+FMA (AMD Zen 3): oneDNN below `textRows` (untransposed, median 1.14-1.19x OpenBLAS's rate at 34 and 77
    ///   rows), OpenBLAS from there, in both layouts: from 154 rows oneDNN's untransposed sgemm ran level or slower
    ///   (c_fc shapes 0.6-0.85x; every untransposed product on it took ViT-B/16 batch 1 to 1.18-1.62x the time). The
    ///   products with B transposed left between 128 and 1280 rows (attention scores, patch embedding) ran ViT-B/16
    ///   batch 1 level on either library (5 interleaved pairs), so one split serves both layouts.
    /// - Elsewhere (arm64, older x86): OpenBLAS, the library that always ran there; oneDNN not measured.
    public static func preferred(isX86: Bool, features: CPUFeatures) -> Choice {
        guard isX86 else { return .all(.openBLAS) }
        switch OpenBLASCore.Level(features) {
        case .avx512:
            return Choice(untransposed: .all(.oneDNN), transposed: ByRows(.openBLAS, below: largeRows, .oneDNN))
        case .avx2:
            let textTowersOnOneDNN = ByRows(.oneDNN, below: textRows, .openBLAS)
            return Choice(untransposed: textTowersOnOneDNN, transposed: textTowersOnOneDNN)
        case .sse, .avx: return .all(.openBLAS)
        }
    }

    /// The libraries to use: the user's `requested` one for every product (an error if it is not available or not
    /// a name), else the preferred ones, with OpenBLAS standing in for oneDNN when it cannot be loaded.
    /// `oneDNNFailure` is why oneDNN cannot be loaded, nil when it can.
    public static func choose(requested: String?, oneDNNFailure: String?, isX86: Bool,
                              features: CPUFeatures) -> Result<Choice, SelectionError> {
        switch requested?.lowercased() ?? "auto" {
        case "auto", "":
            let best = preferred(isX86: isX86, features: features)
            return .success(oneDNNFailure == nil ? best : .all(.openBLAS))
        case GEMMLibrary.openBLAS.rawValue:
            return .success(.all(.openBLAS))
        case GEMMLibrary.oneDNN.rawValue:
            guard let failure = oneDNNFailure else { return .success(.all(.oneDNN)) }
            return .failure(SelectionError(description:
                "\(variable)=onednn, but \(failure); install libdnnl2 or unset \(variable)"))
        default:
            return .failure(SelectionError(description:
                "\(variable)=\(requested ?? ""): not a GEMM library (openblas, onednn or auto)"))
        }
    }

    /// Whether the choice can include oneDNN, i.e. whether loading it is worth trying.
    static func mayChooseOneDNN(requested: String?, isX86: Bool, features: CPUFeatures) -> Bool {
        switch requested?.lowercased() ?? "auto" {
        case GEMMLibrary.oneDNN.rawValue: true
        case "auto", "": preferred(isX86: isX86, features: features).usesOneDNN
        default: false
        }
    }

    // MARK: - This process

    /// The libraries in use. A bad `CLIPAD_GEMM` leaves OpenBLAS in use and is reported by `selectionError`
    /// (the CLI refuses to start on it).
    public static var active: Choice { resolved.choice }

    /// Why `CLIPAD_GEMM` could not be honoured, if it could not.
    public static var selectionError: SelectionError? { resolved.error }

    /// One line for `--version` and bench output, e.g. "GEMM oneDNN 2.6.3 (avx2) below 128 rows, OpenBLAS from 128
    /// with B untransposed (linear layers); ... (preferred on this CPU)".
    public static var summary: String {
        let how: String
        if let error = selectionError {
            how = "\(error.description); using OpenBLAS"
        } else if let set = environment(variable), !set.isEmpty, set.lowercased() != "auto" {
            how = "\(variable)=\(set)"
        } else if let failure = resolved.loadFailure {
            how = "oneDNN is preferred on this CPU, but \(failure); install libdnnl2"
        } else {
            how = "preferred on this CPU"
        }
        func name(_ library: GEMMLibrary) -> String {
            library == .oneDNN ? resolved.oneDNN?.description ?? "oneDNN" : "OpenBLAS"
        }
        return "GEMM \(active.describe(name)) (\(how))"
    }

    /// The library that computes products of `rows` rows (B transposed or not) in this process.
    public static func library(forRows rows: Int, transposedB: Bool) -> GEMMLibrary {
        oneDNN(forRows: rows, transposedB: transposedB) == nil ? .openBLAS : .oneDNN
    }

    /// The loaded oneDNN when it computes such products, else nil (OpenBLAS): what `BLAS.gemm` asks.
    @inline(__always)
    static func oneDNN(forRows rows: Int, transposedB: Bool) -> OneDNN? {
        let rule = transposedB ? resolved.choice.transposed : resolved.choice.untransposed
        return rule.library(forRows: rows) == .oneDNN ? resolved.oneDNN : nil
    }

    /// oneDNN loaded whether or not the choice uses it (`GEMMComparison` times both libraries), or why it cannot be.
    static let oneDNNForComparison: Result<OneDNN, OneDNN.LoadFailure> = resolved.oneDNN.map { .success($0) } ?? OneDNN.load()

    /// What `BLAS.product` takes for a product pinned to `library`: the loaded oneDNN, or nil for OpenBLAS (also
    /// when oneDNN cannot be loaded).
    static func loaded(_ library: GEMMLibrary) -> OneDNN? {
        library == .oneDNN ? try? oneDNNForComparison.get() : nil
    }

    private struct Resolution {
        var choice: Choice
        var error: SelectionError?
        /// Loaded only when the choice uses it.
        var oneDNN: OneDNN?
        /// Why oneDNN could not be loaded when it was tried.
        var loadFailure: String?
    }

    /// Decided once; oneDNN is loaded only when it may be chosen.
    private static let resolved: Resolution = {
        let requested = environment(variable)
        var loaded: OneDNN?
        var loadFailure: String?
        if mayChooseOneDNN(requested: requested, isX86: isX86, features: .current) {
            switch OneDNN.load() {
            case .success(let library): loaded = library
            case .failure(let failure): loadFailure = failure.reason
            }
        }
        let failure = loaded == nil ? (loadFailure ?? "not loaded") : nil
        switch choose(requested: requested, oneDNNFailure: failure, isX86: isX86, features: .current) {
        case .success(let choice):
            return Resolution(choice: choice, oneDNN: choice.usesOneDNN ? loaded : nil, loadFailure: loadFailure)
        case .failure(let error):
            return Resolution(choice: .all(.openBLAS), error: error, loadFailure: loadFailure)
        }
    }()

    private static var isX86: Bool {
        #if arch(x86_64)
        true
        #else
        false
        #endif
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
