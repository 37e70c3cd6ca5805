# Go: filled in next.
