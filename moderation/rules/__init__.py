"""House-rules building blocks (pure Python, no Django).

Each module holds the detection logic of one rule; :mod:`moderation.pipeline`
wraps them into ordered rules with user-facing reasons.
"""
