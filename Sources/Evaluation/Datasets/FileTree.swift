import Foundation

/// Small, sorted file-system queries shared by the dataset readers.
enum FileTree {
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "bmp", "tif", "tiff"]

    static func join(_ parts: String...) -> String {
        parts.reduce("") { acc, p in
            if acc.isEmpty { return p }
            if p.hasPrefix("/") { return p }
            return acc.hasSuffix("/") ? acc + p : acc + "/" + p
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
    }

    static func isFile(_ path: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && !dir.boolValue
    }

    /// Non-hidden entry names of a directory, sorted.
    static func entries(_ path: String) throws -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            throw DatasetError.unreadableDirectory(path)
        }
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Sorted names of the subdirectories of `path`.
    static func subdirectories(_ path: String) throws -> [String] {
        try entries(path).filter { isDirectory(join(path, $0)) }
    }

    /// Sorted full paths of the image files directly in `path` (by extension, case-insensitive).
    static func images(in path: String) throws -> [String] {
        try entries(path).filter { name in
            imageExtensions.contains(fileExtension(name)) && isFile(join(path, name))
        }.map { join(path, $0) }
    }

    static func fileExtension(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return name[name.index(after: dot)...].lowercased()
    }

    /// File name without its last extension.
    static func stem(_ path: String) -> String {
        let name = lastComponent(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    static func lastComponent(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        return p.split(separator: "/").last.map(String.init) ?? String(p)
    }

    static func parent(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "." }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    static func requireRoot(_ root: String) throws {
        guard isDirectory(root) else { throw DatasetError.missingRoot(root) }
    }

    /// Picks `requested` classes (error naming any missing one) or all `available`, sorted.
    static func select(_ available: [String], requested: [String]?, root: String, layout: String) throws -> [String] {
        guard let requested else {
            guard !available.isEmpty else { throw DatasetError.noClasses(root: root, layout: layout) }
            return available.sorted()
        }
        let known = Set(available)
        for name in requested where !known.contains(name) {
            throw DatasetError.missingClass(name: name, root: root, known: available.sorted())
        }
        return Array(Set(requested)).sorted()
    }
}
