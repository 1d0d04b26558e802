import Foundation

/// Expands command-line inputs (image files and folders) into a sorted list of image paths.
public enum ImageInputs {
    /// Files are kept as given (any extension: the decoder sniffs the format); folders are searched recursively
    /// for image extensions, in sorted order. A missing path is an error naming it.
    public static func expand(_ inputs: [String]) throws -> [String] {
        var out: [String] = []
        for input in inputs {
            if FileTree.isDirectory(input) {
                out += try recursiveImages(in: input)
            } else if FileTree.isFile(input) {
                out.append(input)
            } else {
                throw DatasetError.missingFile(path: input, what: "image or folder")
            }
        }
        return out
    }

    static func recursiveImages(in folder: String) throws -> [String] {
        var found = try FileTree.images(in: folder)
        for sub in try FileTree.subdirectories(folder) { found += try recursiveImages(in: FileTree.join(folder, sub)) }
        return found.sorted()
    }
}
