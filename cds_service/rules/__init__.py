"""Clinical rules: pure functions ``(history, knowledge, now) -> findings``."""
