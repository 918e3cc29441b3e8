"""The service's shared words: one ``StrEnum`` module per vocabulary.

Every word a call, a transfer or a report can carry is defined once here,
with what it means, so the database, the call flow, the API, the scheduler
and the reports cannot drift apart (and a supervisor can read what each
value in a report says). Members are ``str``: ``Outcome.PROMISE == "promise"``,
so they are stored, compared and serialized as the plain strings they were.

* :mod:`ivr.vocab.outcomes` -- how a call ended for the debtor (``Outcome``).
* :mod:`ivr.vocab.attempts` -- where an outbound call stands (``AttemptStatus``).
* :mod:`ivr.vocab.transfers` -- a hand-off to a person (``TransferStatus``,
  ``TransferOutcome``).
* :mod:`ivr.vocab.locales` -- the languages spoken (``Locale``, ``LOCALES``).
* :mod:`ivr.vocab.intents` -- what the debtor meant (``Intent``).
* :mod:`ivr.vocab.debts` -- a debt, a promise to pay, a callback (``DebtStatus``,
  ``PromiseStatus``, ``CallbackStatus``).
* :mod:`ivr.vocab.staff` -- the people using the service (``Role``, ``Presence``).
* :mod:`ivr.vocab.debtors` -- where a person stands (``DebtorStatus``, ``ReviewKind``).
* :mod:`ivr.vocab.verification` -- how sure a call must be of who answered
  (``VerificationPolicy``).
* :mod:`ivr.vocab.recordings` -- where a call's recording stands (``RecordingStatus``).
* :mod:`ivr.vocab.audit` -- what the audit log records (``AuditEntity``, ``AuditAction``).
* :mod:`ivr.vocab.dialer` -- whether a campaign's dialer runs, and why not
  (``DialerState``, ``DialerReason``).

These modules import nothing but :mod:`enum`, so pure code (caps, schemas,
the CLI's argument parser) can name a word without loading the ORM.
"""
