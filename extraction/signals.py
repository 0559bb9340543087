"""What extraction announces to the layers above it, which it must not import.

The rules engine (``rules.receivers``) listens, so that a document's flags follow its new values
without extraction knowing that rules exist.
"""

from django.dispatch import Signal

# Sent outside any transaction once a reading's fields are saved, before the document's final
# status is set. Keyword argument: ``document``.
document_read = Signal()

# Sent inside the transaction that gives a reading its final status (read, needs manual entry,
# failed, split), with the row still locked; a receiver that talks to the outside world must
# wait for the commit (``transaction.on_commit``). Keyword argument: ``document``.
document_finished = Signal()
