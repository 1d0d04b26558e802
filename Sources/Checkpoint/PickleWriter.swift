/// Emits a pickle protocol 2 stream, opcode by opcode, the subset `torch.save` uses for state dicts:
/// ints, str, tuples, dicts, globals (memoised, as Python's pickler does), REDUCE and persistent ids.
struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 2]  // PROTO 2
    /// "module\nname" -> memo index, so each global is spelled once.
    private var globals: [String: Int] = [:]
    private var memoCount = 0

    // MARK: - Scalars

    /// The shortest of BININT1 / BININT2 / BININT / LONG1 that holds `value`.
    mutating func int(_ value: Int64) {
        switch value {
        case 0...0xFF:
            bytes += [0x4B, UInt8(value)]                                    // BININT1 'K'
        case 0...0xFFFF:
            bytes += [0x4D, UInt8(value & 0xFF), UInt8(value >> 8)]          // BININT2 'M'
        case Int64(Int32.min)...Int64(Int32.max):
            bytes.append(0x4A)                                               // BININT 'J'
            littleEndian(UInt32(bitPattern: Int32(value)))
        default:
            // LONG1: minimal two's-complement little-endian bytes
            var out: [UInt8] = []
            var v = value
            repeat {
                out.append(UInt8(truncatingIfNeeded: v))
                v >>= 8
            } while !(v == 0 && out[out.count - 1] & 0x80 == 0) && !(v == -1 && out[out.count - 1] & 0x80 != 0)
            bytes += [0x8A, UInt8(out.count)] + out
        }
    }

    mutating func int(_ value: Int) { int(Int64(value)) }

    /// BINUNICODE 'X': u32 length + UTF-8.
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        bytes.append(0x58)
        littleEndian(UInt32(utf8.count))
        bytes += utf8
    }

    mutating func bool(_ value: Bool) { bytes.append(value ? 0x88 : 0x89) }  // NEWTRUE / NEWFALSE

    // MARK: - Structure

    mutating func mark() { bytes.append(0x28) }               // MARK '('
    mutating func tuple() { bytes.append(0x74) }              // TUPLE 't' (items since the mark)
    mutating func emptyTuple() { bytes.append(0x29) }         // EMPTY_TUPLE ')'
    mutating func emptyDict() { bytes.append(0x7D) }          // EMPTY_DICT '}'
    mutating func setItems() { bytes.append(0x75) }           // SETITEMS 'u' (pairs since the mark)
    mutating func reduce() { bytes.append(0x52) }             // REDUCE 'R'
    mutating func persistentID() { bytes.append(0x51) }       // BINPERSID 'Q'
    mutating func stop() { bytes.append(0x2E) }               // STOP '.'

    /// A tuple of ints (sizes, strides).
    mutating func intTuple(_ values: [Int]) {
        if values.isEmpty { emptyTuple(); return }
        mark()
        for v in values { int(v) }
        tuple()
    }

    /// GLOBAL 'c' the first time (then BINPUT), BINGET afterwards.
    mutating func global(_ module: String, _ name: String) {
        let key = module + "\n" + name
        if let index = globals[key] {
            memoGet(index)
            return
        }
        bytes.append(0x63)
        bytes += Array(key.utf8) + [0x0A]
        globals[key] = memoCount
        memoPut(memoCount)
        memoCount += 1
    }

    // MARK: - Memo

    private mutating func memoPut(_ index: Int) {
        if index < 256 { bytes += [0x71, UInt8(index)] } else { bytes.append(0x72); littleEndian(UInt32(index)) }
    }

    private mutating func memoGet(_ index: Int) {
        if index < 256 { bytes += [0x68, UInt8(index)] } else { bytes.append(0x6A); littleEndian(UInt32(index)) }
    }

    private mutating func littleEndian(_ v: UInt32) {
        bytes += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }
}
