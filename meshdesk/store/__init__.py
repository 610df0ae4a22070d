"""What the user made and must find again: paths, layouts, settings. Atomic and versioned. No Qt."""
