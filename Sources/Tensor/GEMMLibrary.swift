#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which library computes ClipAD's matrix products (`BLAS.gemm` is the one place that issues them).
///
/// Chosen once per process: `CLIPAD_GEMM=openblas|onednn` when the user sets it, else the library measured faster
/// on this kind of CPU (`preferred`; the measurements are in docs/PERFORMANCE.md), where it is installed. OpenBLAS is
/// always linked; oneDNN is loaded at run time (`OneDNN`), so a machine without it runs on OpenBLAS.
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

    /// A `CLIPAD_GEMM` value that cannot be honoured.
    public struct SelectionError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    // MARK: - The decision

    /// The faster library for a CPU, from side-by-side measurements of ClipAD's products (docs/PERFORMANCE.md):
    /// oneDNN on x86-64 with AVX2+FMA or AVX-512 (AMD Zen 3, Zen 4; Intel Xeon with AVX-512); OpenBLAS elsewhere
    /// (arm64 and older x86: not measured, so the library that has always run there stays).
    public static func preferred(isX86: Bool, features: CPUFeatures) -> GEMMLibrary {
        isX86 && features.isSuperset(of: .avx2FMA) ? .oneDNN : .openBLAS
    }

    /// The library to use: the user's `requested` one (an error if it is not available or not a name), else the
    /// preferred one when it is available, else OpenBLAS. `oneDNNFailure` is why oneDNN cannot be loaded, nil when
    /// it can.
    public static func choose(requested: String?, oneDNNFailure: String?, isX86: Bool,
                              features: CPUFeatures) -> Result<GEMMLibrary, SelectionError> {
        switch requested?.lowercased() ?? "auto" {
        case "auto", "":
            let best = preferred(isX86: isX86, features: features)
            return .success(best == .oneDNN && oneDNNFailure != nil ? .openBLAS : best)
        case GEMMLibrary.openBLAS.rawValue:
            return .success(.openBLAS)
        case GEMMLibrary.oneDNN.rawValue:
            guard let failure = oneDNNFailure else { return .success(.oneDNN) }
            return .failure(SelectionError(description:
                "\(variable)=onednn, but \(failure); install libdnnl2 or unset \(variable)"))
        default:
            return .failure(SelectionError(description:
                "\(variable)=\(requested ?? ""): not a GEMM library (openblas, onednn or auto)"))
        }
    }

    /// Whether the choice can be oneDNN, i.e. whether loading it is worth trying.
    static func mayChooseOneDNN(requested: String?, isX86: Bool, features: CPUFeatures) -> Bool {
        switch requested?.lowercased() ?? "auto" {
        case GEMMLibrary.oneDNN.rawValue: true
        case "auto", "": preferred(isX86: isX86, features: features) == .oneDNN
        default: false
        }
    }

    // MARK: - This process

    /// The library in use. A bad `CLIPAD_GEMM` leaves OpenBLAS in use and is reported by `selectionError`
    /// (the CLI refuses to start on it).
    public static var active: GEMMLibrary { resolved.library }

    /// Why `CLIPAD_GEMM` could not be honoured, if it could not.
    public static var selectionError: SelectionError? { resolved.error }

    /// One line for `--version` and bench output, e.g. "GEMM oneDNN 2.6.3 (avx2) (preferred on this CPU)".
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
        return "GEMM \(resolved.oneDNN?.description ?? "OpenBLAS") (\(how))"
    }

    /// The loaded oneDNN when it is the active library: what `BLAS.gemm` checks.
    static var loadedOneDNN: OneDNN? { resolved.oneDNN }

    private struct Resolution {
        var library: GEMMLibrary
        var error: SelectionError?
        var oneDNN: OneDNN?
        /// Why oneDNN could not be loaded when it was tried.
        var loadFailure: String?
    }

    /// Decided once; oneDNN is loaded only when it may be the choice.
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
        case .success(let library):
            return Resolution(library: library, oneDNN: library == .oneDNN ? loaded : nil, loadFailure: loadFailure)
        case .failure(let error):
            return Resolution(library: .openBLAS, error: error, loadFailure: loadFailure)
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
