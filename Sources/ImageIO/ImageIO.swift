// ImageIO target.
