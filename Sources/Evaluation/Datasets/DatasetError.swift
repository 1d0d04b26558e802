/// Why a dataset could not be listed; every message names the path involved.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case missingRoot(String)
    /// `known`: the names that would be accepted; `note`: what else the user should know (a sentence or empty).
    case missingClass(name: String, root: String, known: [String] = [], note: String = "")
    case noClasses(root: String, layout: String)
    case emptySplit(split: String, path: String)
    case unknownLayout(String)
    case missingFile(path: String, what: String)
    case badList(path: String, line: Int, reason: String)
    case unreadableDirectory(String)
    case badMask(path: String, reason: String)
    case noImages(path: String)
    case unreadableInput(path: String, reason: String)
    case tooManyFolders(root: String, limit: Int)

    public var description: String {
        switch self {
        case let .missingRoot(path):
            return "\(path): dataset root does not exist or is not a directory"
        case let .missingClass(name, root, known, note):
            return "\(root): no class '\(name)' in this dataset"
                + (known.isEmpty ? "" : " (classes: \(known.joined(separator: ", ")))") + (note.isEmpty ? "" : "; \(note)")
        case let .noClasses(root, layout):
            return "\(root): no classes found for layout '\(layout)'"
        case let .emptySplit(split, path):
            return "\(path): the \(split) split has no images"
        case let .unknownLayout(name):
            return "unknown dataset layout '\(name)' (known: "
                + DatasetLayout.allCases.map(\.rawValue).joined(separator: ", ") + ")"
        case let .missingFile(path, what):
            return "\(path): \(what) does not exist"
        case let .badList(path, line, reason):
            return "\(path):\(line): \(reason)"
        case let .unreadableDirectory(path):
            return "\(path): cannot list directory"
        case let .badMask(path, reason):
            return "\(path): \(reason)"
        case let .noImages(path):
            return "\(path): no images in this folder (png, jpg, jpeg, bmp, tif, tiff; ground-truth masks are not images to score)"
        case let .unreadableInput(path, reason):
            return "\(path): \(reason)"
        case let .tooManyFolders(root, limit):
            return "\(root): more than \(limit) folders below it; pass the folder that holds the images"
        }
    }
}
