"""Private implementation modules; nothing here is public API."""
