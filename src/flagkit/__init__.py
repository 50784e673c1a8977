"""flagkit (local stand-in until main lands its __init__; not committed)."""
