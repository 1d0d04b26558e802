import Tensor

/// What `TorchSaveWriter` can save: tensors of four dtypes and (ordered) dicts of them, nested.
public indirect enum TorchValue {
    /// A Float32 tensor (`torch.FloatStorage`).
    case tensor(Tensor)
    /// Float32 values rounded to Float16 (round to nearest even) and stored as `torch.HalfStorage`.
    case float16Tensor(Tensor)
    /// `torch.LongStorage`; `values.count` must equal the product of `shape`.
    case int64Tensor([Int64], shape: [Int])
    /// `torch.IntStorage`.
    case int32Tensor([Int32], shape: [Int])
    /// A plain `dict` (insertion order kept).
    case dict([(String, TorchValue)])
    /// A `collections.OrderedDict`, what `state_dict()` returns.
    case orderedDict([(String, TorchValue)])
}
