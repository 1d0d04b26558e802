import Foundation

/// A parsed KServe v2 / Open Inference Protocol infer request (JSON, or JSON header + binary tensors with the
/// binary-data extension: `Inference-Header-Content-Length` bytes of JSON, then each input's
/// `parameters.binary_data_size` bytes in order; a BYTES tensor in binary form is 4-byte little-endian length + bytes).
struct InferenceRequest {
    struct RequestedOutput {
        var name: String
        var binary: Bool
    }

    var id: String?
    /// The encoded image files of a BYTES `image` input, in order.
    var images: [Data]
    /// An FP32 `image` input: pixels already preprocessed, row-major (the server checks the shape against the model).
    var pixels: (shape: [Int], values: [Float])?
    /// nil: every output the model has.
    var outputs: [RequestedOutput]?
    /// Request-level `binary_data_output`.
    var binaryOutputs: Bool
    /// Request-level `timeout` in microseconds, as tritonclient's `infer(timeout=)` sends it (0: none).
    var timeoutMicroseconds: Int?

    static func parse(body: Data, headerLength: Int?) throws -> InferenceRequest {
        let jsonData: Data, binary: Data
        if let headerLength {
            guard headerLength >= 0, headerLength <= body.count else {
                throw ServerError.badRequest("Inference-Header-Content-Length is \(headerLength) but the body has \(body.count) bytes")
            }
            jsonData = body.prefix(headerLength)
            binary = body.dropFirst(headerLength)
        } else {
            jsonData = body
            binary = Data()
        }
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: jsonData) } catch {
            throw ServerError.badRequest("malformed JSON request body: \(error.localizedDescription)")
        }
        guard let root = parsed as? [String: Any] else { throw ServerError.badRequest("the request body must be a JSON object") }
        var request = InferenceRequest(id: nil, images: [], pixels: nil, outputs: nil, binaryOutputs: false, timeoutMicroseconds: nil)
        if let id = root["id"] {
            guard let s = id as? String else { throw ServerError.badRequest("'id' must be a string") }
            request.id = s
        }
        if let parameters = root["parameters"] {
            guard let parameters = parameters as? [String: Any] else { throw ServerError.badRequest("'parameters' must be an object") }
            if let b = parameters["binary_data_output"] {
                guard let b = b as? Bool else { throw ServerError.badRequest("'parameters.binary_data_output' must be a boolean") }
                request.binaryOutputs = b
            }
            if let t = parameters["timeout"] {
                guard let n = t as? NSNumber, n.doubleValue >= 0, n.doubleValue <= 86_400e6,
                      n.doubleValue == n.doubleValue.rounded() else {
                    throw ServerError.badRequest("'parameters.timeout' must be a whole number of microseconds in 0...86400000000")
                }
                request.timeoutMicroseconds = n.intValue
            }
        }
        guard let inputs = root["inputs"] else { throw ServerError.badRequest("missing field 'inputs'") }
        guard let inputList = inputs as? [[String: Any]] else { throw ServerError.badRequest("'inputs' must be an array of objects") }
        var binaryOffset = binary.startIndex
        var found = false
        for (i, input) in inputList.enumerated() {
            guard let name = input["name"] as? String else { throw ServerError.badRequest("missing field 'inputs[\(i)].name'") }
            var binarySlice: Data?
            if let parameters = input["parameters"] as? [String: Any], let size = parameters["binary_data_size"] {
                guard let n = (size as? NSNumber)?.intValue, n >= 0, n <= binary.endIndex - binaryOffset else {
                    throw ServerError.badRequest("input '\(name)': binary_data_size \(size) does not fit the \(binary.endIndex - binaryOffset) binary bytes left")
                }
                binarySlice = binary[binaryOffset..<binaryOffset + n]
                binaryOffset += n
            }
            guard name == "image" else { throw ServerError.badRequest("unknown input '\(name)' (this model takes one input, 'image')") }
            guard !found else { throw ServerError.badRequest("input 'image' is given twice") }
            found = true
            guard let datatype = input["datatype"] as? String else { throw ServerError.badRequest("missing field 'inputs[\(i)].datatype'") }
            guard let shapeAny = input["shape"] else { throw ServerError.badRequest("missing field 'inputs[\(i)].shape'") }
            guard let numbers = shapeAny as? [NSNumber], !numbers.isEmpty,
                  numbers.allSatisfy({ $0.doubleValue >= 0 && $0.doubleValue <= 1e9 && $0.doubleValue == $0.doubleValue.rounded() }) else {
                throw ServerError.badRequest("input 'image': 'shape' must be a non-empty array of integers in 0...1000000000")
            }
            let shape = numbers.map(\.intValue)
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= 1 << 40 else { throw ServerError.badRequest("input 'image': shape \(shape) has too many elements") }
                count = product
            }
            switch datatype {
            case "BYTES":
                guard shape.count == 1 || shape.dropFirst().allSatisfy({ $0 == 1 }) else {
                    throw ServerError.badRequest("input 'image' has shape \(shape), expected [N] (one encoded image per element)")
                }
                if let binarySlice {
                    request.images = try splitBytes(binarySlice)
                } else {
                    guard let data = input["data"] else { throw ServerError.badRequest("missing field 'inputs[\(i)].data'") }
                    let strings = try flatten(data)
                    request.images = try strings.enumerated().map { j, s in
                        guard let decoded = Data(base64Encoded: s, options: .ignoreUnknownCharacters), !decoded.isEmpty || s.isEmpty else {
                            throw ServerError.badRequest("input 'image' element \(j): not valid base64")
                        }
                        return decoded
                    }
                }
                guard request.images.count == count else {
                    throw ServerError.badRequest("input 'image' has shape \(shape) (\(count) elements) but \(request.images.count) data elements")
                }
                guard !request.images.isEmpty else { throw ServerError.badRequest("input 'image' holds no images") }
            case "FP32":
                let values: [Float]
                if let binarySlice {
                    guard binarySlice.count == count * 4 else {
                        throw ServerError.badRequest("input 'image' (FP32 \(shape)) needs \(count * 4) binary bytes, got \(binarySlice.count)")
                    }
                    values = binarySlice.withUnsafeBytes { raw in (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
                } else {
                    guard let data = input["data"] else { throw ServerError.badRequest("missing field 'inputs[\(i)].data'") }
                    values = try flattenNumbers(data)
                    guard values.count == count else {
                        throw ServerError.badRequest("input 'image' has shape \(shape) (\(count) elements) but \(values.count) data elements")
                    }
                }
                if let bad = values.firstIndex(where: { !$0.isFinite }) {
                    throw ServerError.badRequest("input 'image' (FP32): element \(bad) is \(values[bad]); pixels must be finite")
                }
                request.pixels = (shape, values)
            default:
                throw ServerError.badRequest("input 'image' has datatype \(datatype), expected BYTES (encoded PNG/JPEG files) or FP32 (preprocessed [B, 3, S, S])")
            }
        }
        guard found else { throw ServerError.badRequest("missing input 'image'") }
        if let outputs = root["outputs"] {
            guard let list = outputs as? [[String: Any]] else { throw ServerError.badRequest("'outputs' must be an array of objects") }
            request.outputs = try list.enumerated().map { i, o in
                guard let name = o["name"] as? String else { throw ServerError.badRequest("missing field 'outputs[\(i)].name'") }
                let b = ((o["parameters"] as? [String: Any])?["binary_data"] as? Bool) ?? request.binaryOutputs
                return RequestedOutput(name: name, binary: b)
            }
        }
        return request
    }

    /// Flattens a (possibly nested, row-major) JSON data array of strings.
    static func flatten(_ value: Any) throws -> [String] {
        if let s = value as? String { return [s] }
        if let a = value as? [Any] { return try a.flatMap(flatten) }
        throw ServerError.badRequest("input 'image': data elements must be base64 strings of encoded image files")
    }

    /// Flattens a (possibly nested, row-major) JSON data array of numbers.
    static func flattenNumbers(_ value: Any) throws -> [Float] {
        var out: [Float] = []
        func walk(_ v: Any) throws {
            if let a = v as? [Any] { for x in a { try walk(x) }; return }
            guard let n = v as? NSNumber, !(v is String) else {
                throw ServerError.badRequest("input 'image' (FP32): data elements must be numbers")
            }
            out.append(n.floatValue)
        }
        try walk(value)
        return out
    }

    /// A binary BYTES tensor: repeated 4-byte little-endian length, then that many bytes.
    static func splitBytes(_ data: Data) throws -> [Data] {
        var out: [Data] = []
        var i = data.startIndex
        while i < data.endIndex {
            guard data.endIndex - i >= 4 else { throw ServerError.badRequest("input 'image': truncated binary BYTES element length") }
            let n = Int(data[i]) | Int(data[i + 1]) << 8 | Int(data[i + 2]) << 16 | Int(data[i + 3]) << 24
            i += 4
            guard n <= data.endIndex - i else { throw ServerError.badRequest("input 'image': binary BYTES element of \(n) bytes overruns the tensor") }
            out.append(data[i..<i + n])
            i += n
        }
        return out
    }
}
