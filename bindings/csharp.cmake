# C#: filled in next.
