// CLIP target.
