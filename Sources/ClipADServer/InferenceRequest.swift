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
    /// The encoded image files of the `image` input, in order.
    var images: [Data]
    /// nil: every output the model has.
    var outputs: [RequestedOutput]?
    /// Request-level `binary_data_output`.
    var binaryOutputs: Bool

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
        var request = InferenceRequest(id: nil, images: [], outputs: nil, binaryOutputs: false)
        if let id = root["id"] {
            guard let s = id as? String else { throw ServerError.badRequest("'id' must be a string") }
            request.id = s
        }
        if let parameters = root["parameters"] as? [String: Any], let b = parameters["binary_data_output"] as? Bool {
            request.binaryOutputs = b
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
            found = true
            guard let datatype = input["datatype"] as? String else { throw ServerError.badRequest("missing field 'inputs[\(i)].datatype'") }
            guard datatype == "BYTES" else {
                throw ServerError.badRequest("input 'image' has datatype \(datatype), expected BYTES (encoded PNG/JPEG files)")
            }
            guard let shapeAny = input["shape"] else { throw ServerError.badRequest("missing field 'inputs[\(i)].shape'") }
            guard let shape = shapeAny as? [NSNumber], !shape.isEmpty, shape.allSatisfy({ $0.intValue >= 0 }) else {
                throw ServerError.badRequest("input 'image': 'shape' must be a non-empty array of non-negative integers")
            }
            let count = shape.reduce(1) { $0 * $1.intValue }
            guard shape.count == 1 || shape.dropFirst().allSatisfy({ $0.intValue == 1 }) else {
                throw ServerError.badRequest("input 'image' has shape \(shape.map(\.intValue)), expected [N] (one encoded image per element)")
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
                throw ServerError.badRequest("input 'image' has shape \(shape.map(\.intValue)) (\(count) elements) but \(request.images.count) data elements")
            }
        }
        guard found else { throw ServerError.badRequest("missing input 'image'") }
        guard !request.images.isEmpty else { throw ServerError.badRequest("input 'image' holds no images") }
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
