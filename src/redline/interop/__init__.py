"""Interop with the formats of other tools: Inspect (inspect_ai) tasks and eval logs."""
