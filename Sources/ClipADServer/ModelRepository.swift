import FileAccess
import Detection
import Foundation
import Logging

/// A model repository folder: one sub-folder per model name (`DIR/bottle/` serves `/v2/models/bottle`) holding a
/// `spec.json` (a `DetectorSpec`; relative paths resolve against that sub-folder) or, without one, a single
/// PromptAD model file (`*.safetensors`). An entry that fails to load is kept, not ready, with its reason.
public struct ModelRepository: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let folder: String
        /// The loaded detector, nil when the entry is broken.
        public let detector: (any Detector)?
        /// Why the entry is not ready.
        public let failure: String?
        /// What the entry was loaded from (its spec, and size + modification time of every file it uses): a reload
        /// keeps the loaded detector while this is unchanged.
        public let fingerprint: String
        public var isReady: Bool { detector != nil }
    }

    public let folder: String
    public let entries: [String: Entry]

    /// Names a model may have: they become URL path segments and folder names, so nothing that can escape the folder.
    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("..") else { return false }
        return name.unicodeScalars.allSatisfy { s in
            (s >= "A" && s <= "Z") || (s >= "a" && s <= "z") || (s >= "0" && s <= "9") || s == "_" || s == "." || s == "-"
        }
    }

    /// Loads every entry of `folder` (a missing or unreadable folder is an error; a broken entry is not). With
    /// `previous` (a reload), an entry whose fingerprint is unchanged keeps its loaded detector.
    public static func load(folder: String, reusing previous: ModelRepository? = nil,
                            logger: Logger = Logger(label: "clipad.serve")) throws -> ModelRepository {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ServerError.repository("model repository \(folder) is not a folder")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        var entries: [String: Entry] = [:]
        for name in names where !name.hasPrefix(".") {
            let sub = URL(fileURLWithPath: folder).appendingPathComponent(name).path
            var dir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: sub, isDirectory: &dir), dir.boolValue else { continue }
            guard isValidName(name) else {
                logger.warning("model repository: skipping '\(name)': a model name uses only A-Z a-z 0-9 _ . -")
                continue
            }
            let spec: DetectorSpec
            do { spec = try self.spec(forEntry: sub) } catch {
                let reason = "\(error)"
                entries[name] = Entry(name: name, folder: sub, detector: nil, failure: reason, fingerprint: fingerprint(folder: sub, spec: nil))
                logger.error("model \(name) not ready: \(reason)")
                continue
            }
            let stamp = fingerprint(folder: sub, spec: spec)
            if let old = previous?.entries[name], old.fingerprint == stamp {
                entries[name] = old
                continue
            }
            do {
                let (detector, warnings) = try DetectorFactory.make(spec, options: .init(notice: { logger.info("\(name): \($0)") }))
                for w in warnings { logger.warning("\(name): \(w)") }
                entries[name] = Entry(name: name, folder: sub, detector: detector, failure: nil, fingerprint: stamp)
                logger.info("model \(name) ready: \(detector.spec.method.rawValue), input \(detector.preprocessor.size), map \(detector.mapSide)")
            } catch {
                let reason = "\(error)"
                entries[name] = Entry(name: name, folder: sub, detector: nil, failure: reason, fingerprint: stamp)
                logger.error("model \(name) not ready: \(reason)")
            }
        }
        return ModelRepository(folder: folder, entries: entries)
    }

    /// The entry's spec (as JSON) and the size and modification time of each file in its folder and each file the
    /// spec names elsewhere; a missing file counts too (so a broken entry is retried once the file appears).
    static func fingerprint(folder: String, spec: DetectorSpec?) -> String {
        let fm = FileManager.default
        var paths = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).map { URL(fileURLWithPath: folder).appendingPathComponent($0).path }
        if let spec { paths += [spec.clip, spec.prompts, spec.model].compactMap { $0 } + (spec.shots ?? []) }
        var parts: [String] = []
        if let spec, let json = try? JSONEncoder.sorted.encode(spec) { parts.append(String(decoding: json, as: UTF8.self)) }
        for path in Set(paths).sorted() {
            let attributes = try? fm.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
            parts.append("\(path)|\(size)|\(modified)")
        }
        return parts.joined(separator: "\n")
    }

    /// A hand-written spec.json need not name a clipad_version (a run.json's spec, which records one, works as well).
    static func readSpec(_ path: String) throws -> DetectorSpec {
        let data: Data
        do { data = try ReadableFile.read(path, limit: ReadableFile.textLimit) } catch let error as FileAccessError {
            throw ServerError.repository("\(path): cannot read: \(error.reason)")
        }
        if var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], object["spec"] == nil, object["clipad_version"] == nil {
            object["clipad_version"] = ClipADVersion.current
            do {
                return try JSONDecoder().decode(DetectorSpec.self, from: JSONSerialization.data(withJSONObject: object))
            } catch {
                throw ServerError.repository("\(path): not a DetectorSpec (\(error))")
            }
        }
        return try DetectorSpec.read(jsonFile: path)
    }

    /// The spec an entry folder describes: its `spec.json`, else its single PromptAD model file.
    static func spec(forEntry folder: String) throws -> DetectorSpec {
        let specPath = URL(fileURLWithPath: folder).appendingPathComponent("spec.json").path
        if FileManager.default.fileExists(atPath: specPath) {
            return try readSpec(specPath).resolvingRelativePaths(against: folder)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".safetensors") }.sorted()
        guard files.count == 1 else {
            throw ServerError.repository("\(folder) has no spec.json and \(files.count) .safetensors files (expected one PromptAD model; "
                + "AnomalyCLIP prompts and WinCLIP need a spec.json naming the CLIP checkpoint)")
        }
        var spec = DetectorSpec(method: .promptad)
        spec.model = URL(fileURLWithPath: folder).appendingPathComponent(files[0]).path
        return spec
    }
}

private extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }
}
