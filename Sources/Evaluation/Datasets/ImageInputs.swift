import FileAccess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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
                // Not there, or not reachable: say why (a symlink loop is not "missing").
                do { try ReadableFile.check(input) } catch let error as FileAccessError {
                    throw DatasetError.unreadableInput(path: input, reason: error.reason)
                }
                throw DatasetError.missingFile(path: input, what: "image or folder")
            }
        }
        return out
    }

    /// Folders that hold masks in MVTec AD / LOCO (`ground_truth`), MVTec 3D-AD (`gt`) and VisA (`Masks`).
    public static let maskFolders: Set<String> = ["ground_truth", "gt", "Masks"]

    /// Most folders one input may expand to: a dataset has hundreds; more means a wrong root (`/`, `/proc/self`).
    public static let maxFolders = 10_000

    static func recursiveImages(in root: String) throws -> [String] {
        var walk = FolderWalk(root: root)
        return try walk.images(in: root).sorted()
    }

    /// A recursive search that follows symlinked folders once each (no cycles through links) and stops at
    /// `maxFolders`.
    struct FolderWalk {
        let root: String
        var visited: Set<FolderIdentity> = []

        struct FolderIdentity: Hashable { let device: UInt64, inode: UInt64 }

        mutating func images(in folder: String) throws -> [String] {
            var info = stat()
            guard stat(folder, &info) == 0 else { throw DatasetError.unreadableDirectory(folder) }
            guard visited.insert(FolderIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted else {
                return []  // reached again through a symbolic link
            }
            guard visited.count <= ImageInputs.maxFolders else {
                throw DatasetError.tooManyFolders(root: root, limit: ImageInputs.maxFolders)
            }
            let files = try FileTree.images(in: folder)
            let jpegStems = Set(files.filter { ["jpg", "jpeg"].contains(FileTree.fileExtension($0)) }.map(FileTree.stem))
            var found = files.filter { path in
                let stem = FileTree.stem(path)
                if stem.hasSuffix("_mask") { return false }
                return !(FileTree.fileExtension(path) == "png" && jpegStems.contains(stem))
            }
            for sub in try FileTree.subdirectories(folder) where !maskFolders.contains(sub) {
                found += try images(in: FileTree.join(folder, sub))
            }
            return found
        }
    }
}
