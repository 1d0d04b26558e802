import Foundation

/// Expands command-line inputs (image files and folders) into a sorted list of image paths.
public enum ImageInputs {
    /// Files are kept as given (any extension: the decoder sniffs the format); folders are searched recursively
    /// for image extensions, in sorted order, leaving out the ground-truth masks of the known dataset layouts
    /// (`maskFolders`; `<stem>_mask.*`; a PNG beside a JPEG of the same stem, as magnetic-tile stores them).
    /// A missing path, or a folder without images, is an error naming it.
    public static func expand(_ inputs: [String]) throws -> [String] {
        var out: [String] = []
        for input in inputs {
            if FileTree.isDirectory(input) {
                let found = try recursiveImages(in: input)
                if found.isEmpty { throw DatasetError.noImages(path: input) }
                out += found
            } else if FileTree.isFile(input) {
                out.append(input)
            } else {
                throw DatasetError.missingFile(path: input, what: "image or folder")
            }
        }
        return out
    }

    /// Folders that hold masks in MVTec AD / LOCO (`ground_truth`), MVTec 3D-AD (`gt`) and VisA (`Masks`).
    public static let maskFolders: Set<String> = ["ground_truth", "gt", "Masks"]

    static func recursiveImages(in folder: String) throws -> [String] {
        let files = try FileTree.images(in: folder)
        let jpegStems = Set(files.filter { ["jpg", "jpeg"].contains(FileTree.fileExtension($0)) }.map(FileTree.stem))
        var found = files.filter { path in
            let stem = FileTree.stem(path)
            if stem.hasSuffix("_mask") { return false }
            return !(FileTree.fileExtension(path) == "png" && jpegStems.contains(stem))
        }
        for sub in try FileTree.subdirectories(folder) where !maskFolders.contains(sub) {
            found += try recursiveImages(in: FileTree.join(folder, sub))
        }
        return found.sorted()
    }
}
