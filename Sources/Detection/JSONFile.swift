import FileAccess
import Foundation

/// Reading and writing the small JSON files ClipAD keeps (specs, thresholds), with errors that name the file.
enum JSONFile {
    static func decode<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        let data: Data
        do { data = try ReadableFile.read(path, limit: ReadableFile.textLimit) } catch let error as FileAccessError {
            throw DetectionError.unreadableFile(path: absolute(path), reason: error.reason)
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw DetectionError.unreadableFile(path: absolute(path), reason: "missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw DetectionError.unreadableFile(path: absolute(path), reason: "field '\(field)': \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw DetectionError.unreadableFile(path: absolute(path), reason: field.isEmpty ? "not valid JSON" : "field '\(field)': \(context.debugDescription)")
        }
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}
