// AnomalyCLIP (ICLR 2024): zero-shot anomaly detection with object-agnostic prompts.
