"""The settings of a sandboxed child (extraction/sandbox.py): nothing secret.

A child parses an applicant's untrusted file; one subverted through a parser bug must find no
key, password or database address in its settings or its environment (``sandbox._child_env``
passes it an allow-list of variables). Everything a job needs comes with the job itself
(limits, the OCR engine, the size a model is sent); these are only the defaults of what the
children's code reads.
"""

# Django wants one; a child never signs or checks anything.
SECRET_KEY = "sandboxed-child-has-no-secret"  # noqa: S105
INSTALLED_APPS: list[str] = []
EXTRACTION_OCR_ENGINE = "auto"
PARSE_MAX_IMAGE_PIXELS = 50_000_000
