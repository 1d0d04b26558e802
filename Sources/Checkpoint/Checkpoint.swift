// Checkpoint target.
