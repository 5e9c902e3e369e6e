"""The app's screens, one per job (switched with the keys 1-5)."""
