"""What every stage shares; imports no stage.

Takes nothing from the pipeline and gives the ground it stands on: user-facing errors with
their exit codes (``errors``), where a project's folders are and which edition is made
(``project``), YAML and pydantic validation with Dutch messages (``validation``), how typed
names are compared (``matching``), and atomic, contained file writes (``files``).
"""
