/// ClipAD's version, printed by `clipad --version` and recorded in every JSON the tool writes.
public enum ClipADVersion {
    public static let current = "0.5.0"
}
