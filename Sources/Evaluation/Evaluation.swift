// Evaluation: datasets, metrics, reports.
