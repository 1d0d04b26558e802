import Foundation

/// A `multipart/form-data` request body (RFC 7578 over RFC 2046 §5.1's multipart syntax), as `curl -F image=@x.png`
/// and an HTML form send it: parts between `--BOUNDARY` delimiter lines, each a header block ended by an empty line,
/// then its bytes; `--BOUNDARY--` closes the body. Written for hostile input: the boundary, the number of parts and
/// each header block are capped, searching is linear (Knuth-Morris-Pratt), and every malformed shape is a `MultipartBodyError`
/// naming it (the server answers 400), never a crash or a scan without end.
struct MultipartBody {
    struct Part {
        /// Content-Disposition's `name` (the form field).
        var name: String?
        /// Content-Disposition's `filename` (or `filename*`): set when the part is a file.
        var filename: String?
        var contentType: String?
        var body: Data
    }

    /// RFC 2046 §5.1.1: a boundary is 1 to 70 characters.
    static let maxBoundaryLength = 70
    /// A part's header block is a few hundred bytes; larger ones are refused rather than scanned.
    static let maxHeaderBytes = 8 << 10
    /// Inspect needs one part and a form sends a handful; more are refused.
    static let maxParts = 16

    let parts: [Part]

    /// The boundary parameter of a `multipart/form-data; boundary=...` Content-Type (quoted or not).
    static func boundary(contentType: String) throws(MultipartBodyError) -> String {
        guard let boundary = HeaderParameters(contentType).parameters["boundary"], !boundary.isEmpty else { throw .missingBoundary }
        guard boundary.count <= maxBoundaryLength else { throw .boundaryTooLong(boundary.count, limit: maxBoundaryLength) }
        // bchars: DIGIT / ALPHA / ' ( ) + _ , - . / : = ? and space, which may not end it.
        let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ")
        if let bad = boundary.first(where: { !allowed.contains($0) }) { throw .invalidBoundary("contains '\(bad)'") }
        if boundary.hasSuffix(" ") { throw .invalidBoundary("ends with a space") }
        return boundary
    }

    /// Splits `body` at the delimiter lines of `boundary` (preamble and epilogue ignored) and reads each part's headers.
    init(_ body: Data, boundary: String) throws(MultipartBodyError) {
        let result: Result<[Part], MultipartBodyError> = body.withUnsafeBytes { bytes in
            Result { () throws(MultipartBodyError) in try Self.split(bytes, boundary: boundary) }
        }
        parts = try result.get()
    }

    /// The image to inspect: the part named `image`, else the first part that is a file.
    func imagePart() throws(MultipartBodyError) -> Part {
        if let part = parts.first(where: { $0.name == "image" }) ?? parts.first(where: { $0.filename != nil }) { return part }
        throw .noImagePart(names: parts.map { $0.name ?? "(unnamed)" })
    }

    // MARK: - Splitting

    private static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), dash = UInt8(ascii: "-")

    private static func split(_ bytes: UnsafeRawBufferPointer, boundary: String) throws(MultipartBodyError) -> [Part] {
        let delimiter = Array("--\(boundary)".utf8)
        let lineDelimiter = [cr, lf] + delimiter
        var position: Int  // just after a delimiter
        // The first delimiter opens the body or follows a CRLF ending the preamble.
        if bytes.count >= delimiter.count, bytes.prefix(delimiter.count).elementsEqual(delimiter) {
            position = delimiter.count
        } else if let i = find(lineDelimiter, in: bytes, from: 0) {
            position = i + lineDelimiter.count
        } else {
            throw .noOpeningDelimiter(boundary: boundary)
        }
        var parts: [Part] = []
        while true {
            // "--" after a delimiter closes the body (the epilogue after it is ignored).
            if position + 2 <= bytes.count, bytes[position] == dash, bytes[position + 1] == dash {
                if parts.isEmpty { throw .noParts }
                return parts
            }
            // Else transport padding (spaces, tabs), then the CRLF that ends the delimiter line and opens a part.
            while position < bytes.count, bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "\t") { position += 1 }
            guard position + 2 <= bytes.count else { throw .noClosingDelimiter(boundary: boundary, part: parts.count + 1) }
            guard bytes[position] == cr, bytes[position + 1] == lf else { throw .delimiterLineNotEnded(part: parts.count + 1) }
            position += 2
            guard parts.count < maxParts else { throw .tooManyParts(limit: maxParts) }
            guard let end = find(lineDelimiter, in: bytes, from: position) else {
                throw .noClosingDelimiter(boundary: boundary, part: parts.count + 1)
            }
            parts.append(try part(UnsafeRawBufferPointer(rebasing: bytes[position..<end]), number: parts.count + 1))
            position = end + lineDelimiter.count
        }
    }

    /// One part's bytes between delimiter lines: headers, an empty line, the content.
    private static func part(_ bytes: UnsafeRawBufferPointer, number: Int) throws(MultipartBodyError) -> Part {
        let headerEnd: Int, contentStart: Int
        if bytes.count >= 2, bytes[0] == cr, bytes[1] == lf {
            (headerEnd, contentStart) = (0, 2)  // no headers: the empty line comes at once
        } else {
            // Only the first maxHeaderBytes (+ the CRLFCRLF) are searched: a part without an end to its headers costs no more.
            let window = UnsafeRawBufferPointer(rebasing: bytes.prefix(maxHeaderBytes + 4))
            guard let i = find([cr, lf, cr, lf], in: window, from: 0) else {
                if bytes.count > maxHeaderBytes { throw .headersTooLong(part: number, limit: maxHeaderBytes) }
                throw .headerBlockNotEnded(part: number)
            }
            guard i <= maxHeaderBytes else { throw .headersTooLong(part: number, limit: maxHeaderBytes) }
            (headerEnd, contentStart) = (i, i + 4)
        }
        var part = Part(body: Data(bytes[contentStart...]))
        for (name, value) in try headers(String(decoding: bytes[..<headerEnd], as: UTF8.self), part: number) {
            switch name {
            case "content-disposition":
                let disposition = HeaderParameters(value)
                part.name = disposition.parameters["name"]
                part.filename = disposition.parameters["filename"] ?? disposition.parameters["filename*"]
            case "content-type":
                part.contentType = value
            default:
                continue
            }
        }
        return part
    }

    /// `Name: value` lines (names lowercased); a line starting with a space or tab continues the one before (RFC 5322 folding).
    private static func headers(_ text: String, part: Int) throws(MultipartBodyError) -> [(String, String)] {
        var fields: [(String, String)] = []
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            if let first = line.first, first == " " || first == "\t", !fields.isEmpty {
                fields[fields.count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { throw .malformedHeader(part: part, line: String(line.prefix(60))) }
            fields.append((line[..<colon].trimmingCharacters(in: .whitespaces).lowercased(),
                           line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return fields
    }

    /// Offset of the first `needle` in `bytes` at or after `from`. Knuth-Morris-Pratt: linear whatever the input, where
    /// a naive scan re-reads every near-match (a body of `\r\n--BOUNDARY`-but-one-byte repeated would cost n x 72).
    private static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard !needle.isEmpty, from < bytes.count else { return nil }
        // fallback[i]: length of the longest proper prefix of needle[...i] that is also its suffix.
        var fallback = [Int](repeating: 0, count: needle.count)
        var k = 0
        for i in 1..<needle.count {
            while k > 0, needle[i] != needle[k] { k = fallback[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            fallback[i] = k
        }
        var matched = 0
        for i in from..<bytes.count {
            while matched > 0, bytes[i] != needle[matched] { matched = fallback[matched - 1] }
            if bytes[i] == needle[matched] { matched += 1 }
            if matched == needle.count { return i - needle.count + 1 }
        }
        return nil
    }
}

/// A header value with `; key=value` parameters (`form-data; name="image"; filename="a.png"`,
/// `multipart/form-data; boundary=xyz`): keys lowercased, values unquoted (backslash escapes resolved).
struct HeaderParameters {
    var value: String
    var parameters: [String: String] = [:]

    init(_ header: String) {
        var fields: [String] = [], current = "", quoted = false, escaped = false
        for c in header {
            if escaped { current.append(c); escaped = false; continue }
            if quoted, c == "\\" { current.append(c); escaped = true; continue }
            if c == "\"" { quoted.toggle() }
            if c == ";", !quoted { fields.append(current); current = ""; continue }
            current.append(c)
        }
        fields.append(current)
        value = fields[0].trimmingCharacters(in: .whitespaces)
        for field in fields.dropFirst() {
            guard let eq = field.firstIndex(of: "=") else { continue }
            let key = field[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var raw = field[field.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if raw.count >= 2, raw.hasPrefix("\""), raw.hasSuffix("\"") {
                raw = String(raw.dropFirst().dropLast())
                var unescaped = "", escape = false
                for c in raw {
                    if escape || c != "\\" { unescaped.append(c); escape = false } else { escape = true }
                }
                raw = unescaped
            }
            if parameters[key] == nil { parameters[key] = raw }
        }
    }
}

/// Why a multipart body was refused (answered 400 with this message).
enum MultipartBodyError: Error, CustomStringConvertible, Equatable {
    case missingBoundary
    case boundaryTooLong(Int, limit: Int)
    case invalidBoundary(String)
    case noOpeningDelimiter(boundary: String)
    case noClosingDelimiter(boundary: String, part: Int)
    case delimiterLineNotEnded(part: Int)
    case headerBlockNotEnded(part: Int)
    case headersTooLong(part: Int, limit: Int)
    case malformedHeader(part: Int, line: String)
    case noParts
    case tooManyParts(limit: Int)
    case noImagePart(names: [String])

    var description: String {
        let what: String
        switch self {
        case .missingBoundary: what = "Content-Type multipart/form-data has no boundary parameter"
        case .boundaryTooLong(let n, let limit): what = "the boundary is \(n) characters long; RFC 2046 allows at most \(limit)"
        case .invalidBoundary(let why): what = "the boundary \(why), which RFC 2046 does not allow"
        case .noOpeningDelimiter(let b): what = "no delimiter line '--\(b)' in the body"
        case .noClosingDelimiter(let b, let part): what = "no closing delimiter '--\(b)--': the body ends inside part \(part)"
        case .delimiterLineNotEnded(let part): what = "the delimiter line before part \(part) does not end with CRLF"
        case .headerBlockNotEnded(let part): what = "part \(part)'s header block does not end with an empty line (CRLF CRLF)"
        case .headersTooLong(let part, let limit): what = "part \(part)'s headers are longer than \(limit) bytes"
        case .malformedHeader(let part, let line): what = "part \(part) has a header line without ':' ('\(line)')"
        case .noParts: what = "the body has zero parts"
        case .tooManyParts(let limit): what = "the body has more than \(limit) parts"
        case .noImagePart(let names):
            what = "no part named 'image' and no file part (parts: \(names.map { "'\($0)'" }.joined(separator: ", "))); send it as -F image=@FILE"
        }
        return "multipart body: " + what
    }
}
