"""The Letter of Authorization step: preview, then sign it yourself, send it, or upload it."""
