"""The evaluation core: compiled plans, generated evaluators, conditions, rollouts.

No I/O, no pydantic, no locks, no logging, no threads (../shared/DESIGN.md).
"""
