/// The anomaly state phrases PromptAD writes its manual ("handle") anomaly prompts with, as data.
///
/// Facts from the official `PromptAD/ad_prompts.py` (github.com/FuNz-0/PromptAD): 8 generic states for every class,
/// plus per-class defect phrases for the MVTec AD and VisA classes, keyed by the RAW dataset folder name; the class
/// name written into the prompts is mapped for a few VisA/MVTec folders (`class_mapping`). `{}` is the class name.
public enum AnomalyPhrases {
    /// The generic anomaly states (`state_anomaly`).
    public static let generic = [
        "damaged {}", "flawed {}", "abnormal {}", "imperfect {}", "blemished {}",
        "{} with flaw", "{} with defect", "{} with damage",
    ]

    /// Per-class defect phrases (`class_state_abnormal`), by raw folder name.
    public static let classSpecific: [String: [String]] = [
        // MVTec AD
        "bottle": with(["large breakage", "small breakage", "contamination"]),
        "toothbrush": with(["defect", "anomaly"]),
        "carpet": with(["hole", "color stain", "metal contamination", "thread residue", "thread", "cut"]),
        "hazelnut": with(["crack", "cut", "hole", "print"]),
        "leather": with(["color stain", "cut", "fold", "glue", "poke"]),
        "cable": with(["bent wire", "missing part", "missing wire", "cut", "poke"]),
        "capsule": with(["crack", "faulty imprint", "poke", "scratch"]) + ["{} squeezed with compression"],
        "grid": with(["breakage", "thread residue", "thread", "metal contamination", "glue", "a bent shape"]),
        "pill": with(["color stain", "contamination", "crack", "faulty imprint", "scratch", "abnormal type"]),
        "transistor": with(["bent lead", "cut lead", "damage", "misplaced transistor"]),
        // The official first phrase ends in a space; it tokenises the same as without it.
        "metal_nut": ["{} with a bent shape "] + with(["color stain", "a flipped orientation", "scratch"]),
        "screw": with(["manipulated front", "scratch neck", "scratch head"]),
        "zipper": with(["broken teeth", "fabric border", "defect fabric", "broken fabric", "split teeth", "squeezed teeth"]),
        "tile": with(["crack", "glue strip", "gray stroke", "oil", "rough surface"]),
        "wood": with(["color stain", "hole", "scratch", "liquid"]),
        // VisA ("partical" is the official spelling; the duplicate fryum phrase is kept, it weights the mean)
        "candle": with(["melded wax", "foreign particals", "extra wax", "chunk of wax missing", "weird candle wick",
                        "damaged corner of packaging", "different colour spot"]),
        "capsules": with(["scratch", "discolor", "misshape", "leak", "bubble"]),
        "cashew": with(["breakage", "small scratches", "burnt", "stuck together", "spot"]),
        "chewinggum": with(["corner missing", "scratches", "chunk of gum missing", "colour spot", "cracks"]),
        "fryum": with(["breakage", "scratches", "burnt", "colour spot", "fryum stuck together", "colour spot"]),
        "macaroni1": with(["color spot", "small chip around edge", "small scratches", "breakage", "cracks"]),
        "macaroni2": with(["color spot", "small chip around edge", "small scratches", "breakage", "cracks"]),
        "pcb1": with(["bent", "scratch", "missing", "melt"]),
        "pcb2": with(["bent", "scratch", "missing", "melt"]),
        "pcb3": with(["bent", "scratch", "missing", "melt"]),
        "pcb4": with(["scratch", "extra", "missing", "wrong place", "damage", "burnt", "dirt"]),
        "pipe_fryum": with(["breakage", "small scratches", "burnt", "stuck together", "colour spot", "cracks"]),
    ]

    /// Folder name -> the words written into the prompts (`class_mapping`); other names are used as they are.
    public static let promptNames: [String: String] = [
        "macaroni1": "macaroni", "macaroni2": "macaroni",
        "pcb1": "printed circuit board", "pcb2": "printed circuit board",
        "pcb3": "printed circuit board", "pcb4": "printed circuit board",
        "pipe_fryum": "pipe fryum", "chewinggum": "chewing gum", "metal_nut": "metal nut",
    ]

    /// All states for a class: generic, then the class's own list (none for an unknown class, where the official
    /// code would stop with a KeyError), then the user's phrases. Each must contain `{}` once.
    public static func states(forClass name: String, extra: [String] = []) -> [String] {
        generic + (classSpecific[name] ?? []) + extra
    }

    /// The class name as written into prompts.
    public static func promptName(forClass name: String) -> String { promptNames[name] ?? name }

    private static func with(_ defects: [String]) -> [String] { defects.map { "{} with \($0)" } }
}
