/// Order-preserving map from a finite Float to a UInt32: `a < b` exactly when `key(a) < key(b)`, and
/// `key(a) == key(b)` exactly when `a == b` (-0 and +0 share a key), so ties are exact.
@inline(__always)
func scoreKey(_ x: Float) -> UInt32 {
    let bits = (x == 0 ? Float(0) : x).bitPattern
    return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
}
